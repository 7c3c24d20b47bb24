// The audio engine: gapless playback with Web Audio.
//
// Each track of ordinary length is fetched whole and decoded (decodeAudioData) into an
// AudioBuffer; the next track is decoded while the current one plays and started with
// AudioBufferSourceNode.start(when) at the exact AudioContext time the current one ends, so
// consecutive tracks join sample to sample. Pause suspends the AudioContext, which freezes its
// clock with every scheduled start intact. Tracks longer than `maxBufferSeconds` (or that the
// browser cannot decode whole) stream through an <audio> element routed into the same graph;
// transitions into or out of such a track are timed from the element's clock (close, not
// sample-exact). Everything plays through one master gain (volume, mute); each track has its
// own gain (ReplayGain). Browsers tie media keys and lock-screen controls to a playing media
// element, so while music plays a silent looping <audio> element plays too.
// An item may carry a `fallback` URL (the server's MP3 transcode): when its own URL fails to
// fetch or decode, both paths (decoded whole, or streamed) try the fallback before giving up.

const LEAD = 0.03; // seconds between asking for a start and the scheduled start

export class Engine extends EventTarget {
  constructor() {
    super();
    this.ctx = null;
    this.master = null;
    this.volume = 1;
    this.muted = false;
    this.current = null; // the voice playing (or paused)
    this.next = null; // the voice prepared for after it
    this.decoded = new Map(); // item key → { promise, abort }
    this.generation = 0;
    this.paused = true;
    this.waiting = false;
    this.transitions = []; // { from, to, previousEnd, nextStart, exact }
    this.maxBufferSeconds = (navigator.deviceMemory || 8) <= 4 ? 360 : 720;
    this.timer = null;
  }

  /** Creates the AudioContext (in a user gesture, for the autoplay policy). */
  context() {
    if (this.ctx) return this.ctx;
    const ctx = new AudioContext({ latencyHint: 'playback' });
    this.ctx = ctx;
    this.master = ctx.createGain();
    this.master.connect(ctx.destination);
    this.applyVolume();
    this.presence = new Audio(URL.createObjectURL(silentWav(6)));
    this.presence.loop = true;
    return ctx;
  }

  /** Keeps the silent element in step with the music (see the top of this file). */
  syncPresence() {
    if (!this.presence) return;
    if (this.current && !this.paused) this.presence.play().catch(() => {});
    else this.presence.pause();
  }

  setVolume(volume, muted = this.muted) {
    this.volume = Math.min(1, Math.max(0, volume));
    this.muted = muted;
    this.applyVolume();
  }

  applyVolume() {
    if (!this.master) return;
    // Perceived loudness is roughly logarithmic: a squared slider feels even.
    const value = this.muted ? 0 : this.volume * this.volume;
    this.master.gain.setTargetAtTime(value, this.ctx.currentTime, 0.015);
  }

  /** Seconds into the current track. */
  get position() {
    const v = this.current;
    if (!v) return 0;
    if (v.el) return v.el.currentTime || 0;
    const t = v.offset + (this.ctx.currentTime - v.startAt);
    return Math.min(Math.max(t, 0), v.buffer.duration);
  }

  get duration() {
    const v = this.current;
    if (!v) return 0;
    if (v.buffer) return v.buffer.duration;
    return Number.isFinite(v.el?.duration) ? v.el.duration : v.item.duration || 0;
  }

  canBuffer(item) {
    return !item.stream && item.duration > 0 && item.duration <= this.maxBufferSeconds;
  }

  /** Plays `item` from `offset` seconds, dropping whatever played before. */
  async play(item, offset = 0) {
    const ctx = this.context();
    const generation = ++this.generation;
    this.stopVoice(this.current);
    this.stopVoice(this.next);
    this.current = null;
    this.next = null;
    this.paused = false;
    this.loadingKey = item.key;
    this.setWaiting(true);
    if (ctx.state === 'suspended') await ctx.resume().catch(() => {});
    let voice = null;
    if (this.canBuffer(item)) {
      try {
        const buffer = await this.decode(item);
        if (generation !== this.generation) return;
        voice = this.bufferVoice(item, buffer, ctx.currentTime + LEAD, Math.min(offset, buffer.duration));
      } catch (e) {
        if (generation !== this.generation) return;
        if (e.name === 'AbortError') return;
        // Not decodable whole: let the media element try.
      }
    }
    if (!voice) {
      try {
        voice = await this.elementVoice(item, offset, true);
      } catch (e) {
        if (generation !== this.generation) return;
        this.setWaiting(false);
        this.emit('error', { item, message: failure(item, e) });
        return;
      }
      if (generation !== this.generation) { this.stopVoice(voice); return; }
    }
    this.current = voice;
    this.loadingKey = null;
    this.keep([item.key, this.next?.item.key]);
    this.schedule(this.next);
    this.setWaiting(false);
    this.emit('start', { item, offset });
    this.ensureTimer();
  }

  pause() {
    if (!this.current || this.paused) return;
    this.paused = true;
    this.current.el?.pause();
    this.ctx.suspend();
    this.emit('state');
  }

  async resume() {
    if (!this.current || !this.paused) return;
    this.paused = false;
    await this.ctx.resume();
    await this.current.el?.play().catch(() => {});
    this.emit('state');
  }

  /** Moves within the current track. */
  seek(seconds) {
    const v = this.current;
    if (!v) return;
    const to = Math.max(0, Math.min(seconds, this.duration - 0.05));
    if (v.el) {
      v.el.currentTime = to;
      this.unschedule(this.next);
    } else {
      const fresh = this.bufferVoice(v.item, v.buffer, this.ctx.currentTime + (this.paused ? 0 : LEAD), to, v.gain);
      this.stopVoice(v, { keepGain: true });
      this.current = fresh;
      this.unschedule(this.next);
      this.schedule(this.next);
    }
    this.emit('seek', { position: to });
  }

  stop() {
    this.generation++;
    this.stopVoice(this.current);
    this.stopVoice(this.next);
    this.current = this.next = null;
    this.keep([]); // and what was being fetched for them
    this.paused = true;
    this.setWaiting(false);
    this.ctx?.suspend();
    this.emit('state');
  }

  /** Sets what follows the current track (null: nothing) and prepares it. */
  setNext(item) {
    if (this.next && item && this.next.item.key === item.key && this.next.item.gain === item.gain) return;
    this.stopVoice(this.next);
    this.next = null;
    this.keep([this.current?.item.key ?? this.loadingKey, item?.key]);
    if (!item) return;
    const voice = { item, pending: true };
    this.next = voice;
    if (this.canBuffer(item)) {
      this.decode(item).then(
        (buffer) => {
          if (this.next !== voice) return;
          voice.buffer = buffer;
          voice.pending = false;
          this.schedule(voice);
        },
        () => {
          if (this.next !== voice) return;
          voice.pending = false;
          voice.useElement = true;
        },
      );
    } else {
      voice.pending = false;
      voice.useElement = true;
    }
  }

  /** Schedules a decoded next voice to start where the current one ends. */
  schedule(voice) {
    const cur = this.current;
    if (!voice || !voice.buffer || !cur || voice.source) return;
    if (cur.el) return; // timed from the element near its end (tick)
    const when = Math.max(cur.endAt, this.ctx.currentTime + LEAD);
    const fresh = this.bufferVoice(voice.item, voice.buffer, when, 0);
    Object.assign(voice, fresh, { exact: when === cur.endAt });
  }

  unschedule(voice) {
    if (!voice || !voice.source) return;
    try { voice.source.stop(); } catch { /* never started */ }
    voice.source.disconnect();
    voice.gain?.disconnect();
    voice.source = null;
  }

  bufferVoice(item, buffer, when, offset, gain) {
    const ctx = this.ctx;
    const g = gain || ctx.createGain();
    g.gain.value = item.gain ?? 1;
    g.connect(this.master);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(g);
    source.start(when, offset);
    return { item, buffer, source, gain: g, startAt: when, offset, endAt: when + buffer.duration - offset };
  }

  /** A voice streaming `item` through a media element: its URL, else its fallback. */
  async elementVoice(item, offset, start) {
    try {
      return await this.openElement(item, item.url, offset, start);
    } catch (e) {
      if (!item.fallback || e.name === 'NotAllowedError') throw e;
      return this.openElement(item, item.fallback, offset, start);
    }
  }

  async openElement(item, url, offset, start) {
    const el = new Audio();
    el.preload = 'auto';
    el.src = url;
    const node = this.ctx.createMediaElementSource(el);
    const g = this.ctx.createGain();
    g.gain.value = item.gain ?? 1;
    node.connect(g).connect(this.master);
    const voice = { item, el, node, gain: g };
    el.addEventListener('ended', () => this.elementEnded(voice));
    try {
      if (offset) {
        await new Promise((resolve, reject) => {
          el.addEventListener('loadedmetadata', resolve, { once: true });
          el.addEventListener('error', () => reject(new Error('the stream failed')), { once: true });
        });
        el.currentTime = offset;
      }
      if (start) await el.play();
    } catch (e) {
      this.stopVoice(voice);
      throw e;
    }
    return voice;
  }

  elementEnded(voice) {
    if (voice !== this.current) return;
    if (this.next && this.next.source) return; // already scheduled; tick promotes it
    this.advanceOrEnd();
  }

  stopVoice(voice, { keepGain = false } = {}) {
    if (!voice) return;
    if (voice.source) {
      try { voice.source.stop(); } catch { /* not started */ }
      voice.source.disconnect();
    }
    if (voice.el) {
      voice.el.pause();
      voice.el.removeAttribute('src');
      voice.el.load();
      voice.node?.disconnect();
    }
    if (!keepGain) voice.gain?.disconnect();
  }

  /** Fetches and decodes an item once (its fallback when its own URL fails); shared by play
   * and setNext. */
  decode(item) {
    let entry = this.decoded.get(item.key);
    if (!entry) {
      const abort = new AbortController();
      const load = (url) => fetch(url, { signal: abort.signal })
        .then((r) => {
          if (!r.ok || !(r.headers.get('content-type') || '').startsWith('audio/')) throw new Error('the server sent no audio');
          return r.arrayBuffer();
        })
        .then((bytes) => this.context().decodeAudioData(bytes));
      let promise = load(item.url);
      if (item.fallback) {
        promise = promise.catch((e) => {
          if (e.name === 'AbortError') throw e;
          return load(item.fallback);
        });
      }
      entry = { promise, abort };
      this.decoded.set(item.key, entry);
      promise.catch(() => this.decoded.delete(item.key));
    }
    return entry.promise;
  }

  /** Forgets decoded audio other than `keys` (two tracks of PCM are plenty of memory). */
  keep(keys) {
    for (const [key, entry] of this.decoded) {
      if (!keys.includes(key)) {
        entry.abort.abort();
        this.decoded.delete(key);
      }
    }
  }

  ensureTimer() {
    if (!this.timer) this.timer = setInterval(() => this.tick(), 50);
  }

  tick() {
    const cur = this.current;
    if (!cur || this.paused) return;
    const now = this.ctx.currentTime;
    const next = this.next;
    if (next?.source && now >= next.startAt) {
      this.promote(next, { previousEnd: cur.endAt ?? next.startAt, exact: !!next.exact });
      return;
    }
    if (cur.el) {
      // A streamed track: start the next one at its end, as timed by the element.
      const remaining = (cur.el.duration || 0) - cur.el.currentTime;
      if (next && !next.pending && !next.source && Number.isFinite(remaining) && remaining < 0.5 && !cur.el.paused) {
        if (next.buffer) {
          Object.assign(next, this.bufferVoice(next.item, next.buffer, now + remaining, 0), { exact: false });
          cur.endAt = now + remaining;
        }
      }
      return;
    }
    if (now >= cur.endAt) {
      if (next && next.pending) {
        this.setWaiting(true);
        return;
      }
      this.advanceOrEnd();
    }
  }

  /** The current voice ended with nothing scheduled: start the next one now, or stop. */
  async advanceOrEnd() {
    const next = this.next;
    const cur = this.current;
    if (next && next.buffer) {
      Object.assign(next, this.bufferVoice(next.item, next.buffer, this.ctx.currentTime + LEAD, 0), { exact: false });
      this.promote(next, { previousEnd: cur?.endAt ?? this.ctx.currentTime, exact: false });
      return;
    }
    if (next && next.useElement) {
      const generation = this.generation;
      this.stopVoice(cur);
      try {
        const voice = await this.elementVoice(next.item, 0, true);
        if (generation !== this.generation) { this.stopVoice(voice); return; }
        this.next = voice;
        this.promote(voice, { previousEnd: this.ctx.currentTime, exact: false });
      } catch (e) {
        if (generation !== this.generation) return;
        this.current = null;
        this.next = null;
        this.paused = true;
        this.emit('error', { item: next.item, advancing: true, message: failure(next.item, e) });
      }
      return;
    }
    this.stopVoice(cur);
    this.current = null;
    this.paused = true;
    this.emit('ended');
  }

  promote(next, { previousEnd, exact }) {
    const prev = this.current;
    this.transitions.push({ from: prev?.item.key, to: next.item.key, previousEnd, nextStart: next.startAt ?? previousEnd, exact });
    if (this.transitions.length > 50) this.transitions.shift();
    // The previous source has ended (or ends now); release it.
    if (prev && prev !== next) setTimeout(() => this.stopVoice(prev), 500);
    this.current = next;
    this.next = null;
    this.setWaiting(false);
    this.emit('advance', { item: next.item });
  }

  setWaiting(waiting) {
    if (this.waiting === waiting) return;
    this.waiting = waiting;
    this.emit('state');
  }

  emit(type, detail = {}) {
    if (type === 'start' || type === 'state' || type === 'ended' || type === 'advance') this.syncPresence();
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** The one message for an item that cannot be played. */
function failure(item, e) {
  const transcoded = item.fallback || item.url.includes('format=mp3');
  const why = transcoded ? 'neither this browser nor the server can decode it' : e.message || 'unsupported audio';
  return `Cannot play “${item.title}”: ${why}`;
}

/** `seconds` of 8 kHz 8-bit mono silence as a WAV blob (longer than the 5 s under which
 * browsers show no media controls). */
function silentWav(seconds) {
  const n = 8000 * seconds;
  const bytes = new Uint8Array(44 + n).fill(128, 44);
  const view = new DataView(bytes.buffer);
  const text = (at, s) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF'); view.setUint32(4, 36 + n, true); text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, 8000, true); view.setUint32(28, 8000, true); view.setUint16(32, 1, true);
  view.setUint16(34, 8, true); text(36, 'data'); view.setUint32(40, n, true);
  return new Blob([bytes], { type: 'audio/wav' });
}
