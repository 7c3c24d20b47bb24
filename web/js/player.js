// The player: the queue, repeat and shuffle, ReplayGain, scrobbles, the Media Session, and
// the queue saved to the server (savePlayQueueByIndex) so another device can carry on.
// Audio itself is the engine's job (engine.js).

import { api, beacon, coverUrl, streamUrl } from './api.js';
import { Engine } from './engine.js';
import { settings } from './settings.js';

const SCROBBLE_AFTER = 240; // seconds: a play counts at half the track or 4 minutes
const SAVE_EVERY = 30000;
/** kbps of the MP3 asked for with "Original files" when the browser cannot play the file. */
const TRANSCODE_KBPS = 320;

export class Player extends EventTarget {
  constructor() {
    super();
    this.engine = new Engine();
    this.queue = [];
    this.index = -1;
    this.repeat = 'off';
    this.shuffled = false;
    this.unshuffled = null; // the queue's order before shuffling
    this.resumeAt = 0; // where a restored queue carries on
    this.listened = 0;
    this.scrobbled = false;
    this.lastTick = 0;
    this.started = false; // whether the current track has been started in the engine
    this.dirty = false;
    this.engine.setVolume(settings.get('volume'), settings.get('muted'));
    this.engine.addEventListener('start', () => this.trackStarted());
    this.engine.addEventListener('advance', () => this.advanced());
    this.engine.addEventListener('ended', () => this.ended());
    this.engine.addEventListener('state', () => this.stateChanged());
    this.engine.addEventListener('seek', () => this.updatePositionState());
    this.engine.addEventListener('error', (e) => this.failed(e.detail));
    settings.onChange((key) => {
      if (key === 'replayGain' || key === 'preamp' || key === 'maxBitRate') this.prepareNext();
    });
    setInterval(() => this.tick(), 500);
    setInterval(() => { if (this.playing) this.save(); }, SAVE_EVERY);
    window.addEventListener('pagehide', () => this.saveNow(true));
    this.setupMediaSession();
  }

  get song() { return this.queue[this.index] || null; }
  get playing() { return !!this.engine.current && !this.engine.paused; }
  get position() { return this.started ? this.engine.position : this.resumeAt; }
  get duration() { return this.started && this.engine.duration ? this.engine.duration : this.song?.duration || 0; }
  get waiting() { return this.engine.waiting; }

  /** The engine's description of a song: URL at the chosen quality, ReplayGain as a gain.
   * A file this browser cannot play is asked for as MP3 up front; any other non-MP3 file
   * carries the MP3 as a fallback for when decoding fails after all (ALAC looks like AAC:
   * both are audio/mp4). */
  item(song) {
    const maxBitRate = settings.get('maxBitRate');
    const transcode = streamUrl(song.id, maxBitRate || TRANSCODE_KBPS, 'mp3');
    const playable = canPlay(song);
    return {
      key: `${song.id}@${maxBitRate}`,
      id: song.id,
      title: song.title,
      url: playable ? streamUrl(song.id, maxBitRate) : transcode,
      fallback: playable && (song.suffix || '').toLowerCase() !== 'mp3' ? transcode : null,
      duration: song.duration || 0,
      gain: replayGain(song),
    };
  }

  // --- the queue ---

  /** Replaces the queue with `songs` and plays from `start` (at `offset` seconds). */
  playList(songs, start = 0, { shuffle = false, offset = 0 } = {}) {
    if (!songs.length) return;
    this.queue = songs.slice();
    this.index = start;
    this.unshuffled = null;
    this.shuffled = false;
    if (shuffle) {
      this.index = Math.floor(Math.random() * songs.length);
      this.setShuffle(true);
    }
    this.startCurrent(offset);
    this.changed();
  }

  playNext(songs) {
    if (!this.queue.length) return this.playList(songs);
    this.queue.splice(this.index + 1, 0, ...songs);
    this.unshuffled?.push(...songs);
    this.changed();
  }

  add(songs) {
    if (!this.queue.length) {
      this.queue = songs.slice();
      this.index = 0;
      this.started = false;
      this.resumeAt = 0;
    } else {
      this.queue.push(...songs);
      this.unshuffled?.push(...songs);
    }
    this.changed();
  }

  removeAt(i) {
    if (i < 0 || i >= this.queue.length) return;
    const [removed] = this.queue.splice(i, 1);
    if (this.unshuffled) this.unshuffled.splice(this.unshuffled.indexOf(removed), 1);
    if (i < this.index) this.index--;
    else if (i === this.index) {
      if (!this.queue.length) return this.clear();
      this.index = Math.min(this.index, this.queue.length - 1);
      if (this.playing) this.startCurrent(0);
      else { this.engine.stop(); this.started = false; this.resumeAt = 0; }
    }
    this.changed();
  }

  move(from, to) {
    if (from === to || from < 0 || to < 0 || from >= this.queue.length || to >= this.queue.length) return;
    const [song] = this.queue.splice(from, 1);
    this.queue.splice(to, 0, song);
    if (this.index === from) this.index = to;
    else if (from < this.index && to >= this.index) this.index--;
    else if (from > this.index && to <= this.index) this.index++;
    this.changed();
  }

  clear() {
    this.engine.stop();
    this.queue = [];
    this.index = -1;
    this.unshuffled = null;
    this.started = false;
    this.resumeAt = 0;
    this.changed();
  }

  jump(i) {
    if (i < 0 || i >= this.queue.length) return;
    this.index = i;
    this.startCurrent(0);
    this.changed();
  }

  // --- transport ---

  toggle() {
    if (!this.song) return;
    if (!this.started || !this.engine.current) return this.startCurrent(this.resumeAt);
    if (this.engine.paused) this.engine.resume();
    else this.engine.pause();
  }

  next() {
    if (!this.queue.length) return;
    const i = this.index + 1 < this.queue.length ? this.index + 1 : this.repeat === 'all' ? 0 : -1;
    if (i < 0) return;
    this.jump(i);
  }

  /** Back to the start of the track, or to the previous one within its first 3 seconds. */
  previous() {
    if (!this.queue.length) return;
    if (this.position > 3 || this.index === 0) {
      if (this.started) this.seek(0);
      else this.startCurrent(0);
      return;
    }
    this.jump(this.index - 1);
  }

  seek(seconds) {
    if (!this.started) {
      this.resumeAt = Math.max(0, Math.min(seconds, this.duration));
      this.dispatchEvent(new Event('state'));
      return;
    }
    this.engine.seek(seconds);
  }

  setVolume(volume) {
    settings.set('volume', volume);
    if (volume > 0 && settings.get('muted')) settings.set('muted', false);
    this.engine.setVolume(volume, settings.get('muted'));
    this.dispatchEvent(new Event('volume'));
  }

  toggleMute() {
    settings.set('muted', !settings.get('muted'));
    this.engine.setVolume(settings.get('volume'), settings.get('muted'));
    this.dispatchEvent(new Event('volume'));
  }

  cycleRepeat() {
    this.repeat = { off: 'all', all: 'one', one: 'off' }[this.repeat];
    this.changed({ save: false });
  }

  toggleShuffle() {
    this.setShuffle(!this.shuffled);
    this.changed();
  }

  /** Shuffles what comes after the current song; turning it off restores the order. */
  setShuffle(on) {
    const current = this.song;
    if (on) {
      this.unshuffled = this.queue.slice();
      const rest = this.queue.filter((_, i) => i !== this.index);
      for (let i = rest.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [rest[i], rest[j]] = [rest[j], rest[i]];
      }
      this.queue = current ? [current, ...rest] : rest;
      this.index = current ? 0 : -1;
    } else if (this.unshuffled) {
      this.queue = this.unshuffled;
      this.index = current ? this.queue.indexOf(current) : -1;
      this.unshuffled = null;
    }
    this.shuffled = on;
  }

  // --- engine glue ---

  startCurrent(offset) {
    const song = this.song;
    if (!song) return;
    this.started = true;
    this.resumeAt = 0;
    this.listened = 0;
    this.scrobbled = false;
    this.engine.play(this.item(song), offset);
    this.dispatchEvent(new Event('state'));
  }

  nextIndex() {
    if (this.repeat === 'one') return this.index;
    if (this.index + 1 < this.queue.length) return this.index + 1;
    return this.repeat === 'all' && this.queue.length ? 0 : -1;
  }

  prepareNext() {
    if (!this.started) return;
    const i = this.nextIndex();
    this.pendingNext = i;
    this.engine.setNext(i >= 0 ? this.item(this.queue[i]) : null);
  }

  trackStarted() {
    this.prepareNext();
    this.nowPlaying();
    this.stateChanged();
  }

  advanced() {
    this.index = this.pendingNext ?? this.nextIndex();
    this.listened = 0;
    this.scrobbled = false;
    this.prepareNext();
    this.nowPlaying();
    this.changed();
  }

  ended() {
    this.started = false;
    this.resumeAt = 0;
    this.stateChanged();
    this.save();
  }

  /** A track that cannot be played, not even transcoded: one message, and playback stops
   * on it (skipping on would fail the same way for a whole album, a message per track). */
  failed({ message, advancing }) {
    if (advancing) this.index = this.pendingNext ?? this.nextIndex();
    this.engine.stop();
    this.started = false;
    this.resumeAt = 0;
    this.dispatchEvent(new CustomEvent('error', { detail: message }));
    this.changed({ save: false });
    this.stateChanged();
  }

  stateChanged() {
    this.updateMediaSession();
    this.dispatchEvent(new Event('state'));
  }

  changed({ save = true } = {}) {
    this.prepareNext();
    this.updateMediaSession();
    this.dispatchEvent(new Event('change'));
    if (save) this.save();
  }

  /** Counts listened time; scrobbles a play at half the track or 4 minutes. */
  tick() {
    const now = performance.now();
    const delta = (now - this.lastTick) / 1000;
    this.lastTick = now;
    if (!this.playing || !this.song || delta > 2) return;
    this.listened += delta;
    const song = this.song;
    if (!this.scrobbled && song.duration > 0 && this.listened >= Math.min(song.duration / 2, SCROBBLE_AFTER)) {
      this.scrobbled = true;
      api('scrobble', { id: song.id, submission: true, time: Date.now() }).catch(() => {});
    }
  }

  nowPlaying() {
    const song = this.song;
    if (song) api('scrobble', { id: song.id, submission: false }).catch(() => {});
  }

  // --- the queue on the server ---

  queueParams() {
    return {
      id: this.queue.map((s) => s.id),
      currentIndex: this.queue.length ? Math.max(this.index, 0) : undefined,
      position: Math.round(this.position * 1000),
    };
  }

  save() {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.saveNow(false), 1500);
  }

  saveNow(leaving) {
    clearTimeout(this.saveTimer);
    if (leaving) beacon('savePlayQueueByIndex', this.queueParams());
    else api('savePlayQueueByIndex', this.queueParams()).catch(() => {});
  }

  /** Loads the queue saved by any device, paused where it was left. */
  async restore() {
    try {
      const r = await api('getPlayQueueByIndex');
      const q = r.playQueueByIndex;
      if (!q?.entry?.length || this.queue.length) return;
      this.queue = q.entry;
      this.index = Math.min(q.currentIndex ?? 0, q.entry.length - 1);
      this.resumeAt = (q.position || 0) / 1000;
      this.started = false;
      this.changed({ save: false });
      this.dispatchEvent(new Event('state'));
    } catch { /* nothing saved, or no such method */ }
  }

  // --- Media Session: media keys, lock screen, notification ---

  setupMediaSession() {
    const ms = navigator.mediaSession;
    if (!ms) return;
    const handlers = {
      play: () => this.toggle(),
      pause: () => this.toggle(),
      previoustrack: () => this.previous(),
      nexttrack: () => this.next(),
      stop: () => { if (this.playing) this.toggle(); },
      seekbackward: (d) => this.seek(this.position - (d.seekOffset || 10)),
      seekforward: (d) => this.seek(this.position + (d.seekOffset || 10)),
      seekto: (d) => this.seek(d.seekTime),
    };
    for (const [action, fn] of Object.entries(handlers)) {
      try { ms.setActionHandler(action, fn); } catch { /* not supported here */ }
    }
  }

  updateMediaSession() {
    const ms = navigator.mediaSession;
    const song = this.song;
    if (!ms) return;
    if (!song) { ms.metadata = null; ms.playbackState = 'none'; return; }
    if (this.sessionSong !== song) {
      this.sessionSong = song;
      ms.metadata = new MediaMetadata({
        title: song.title,
        artist: song.displayArtist || song.artist || '',
        album: song.album || '',
        artwork: song.coverArt ? [256, 512].map((size) => ({ src: coverUrl(song.coverArt, size), sizes: `${size}x${size}` })) : [],
      });
    }
    ms.playbackState = this.playing ? 'playing' : 'paused';
    this.updatePositionState();
  }

  updatePositionState() {
    const ms = navigator.mediaSession;
    const duration = this.duration;
    if (!ms?.setPositionState || !(duration > 0)) return;
    try {
      ms.setPositionState({ duration, position: Math.min(this.position, duration), playbackRate: 1 });
    } catch { /* a position past the duration during a transition */ }
  }
}

// MIME types by suffix, for files without a content type and where the suffix says more.
const TYPES = {
  mp3: 'audio/mpeg', flac: 'audio/flac', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg; codecs="opus"',
  spx: 'audio/ogg; codecs="speex"', m4a: 'audio/mp4', m4b: 'audio/mp4', mp4: 'audio/mp4', aac: 'audio/aac',
  wav: 'audio/wav', aif: 'audio/aiff', aiff: 'audio/aiff', aifc: 'audio/aiff', wv: 'audio/x-wavpack',
  ape: 'audio/x-ape', mpc: 'audio/x-musepack', wma: 'audio/x-ms-wma', dsf: 'audio/x-dsf', dff: 'audio/x-dff',
};
let probe;

/** Whether this browser says it can play the song's file (by its content type and suffix). */
export function canPlay(song) {
  probe ??= document.createElement('audio');
  const types = [song.contentType, TYPES[(song.suffix || '').toLowerCase()]].filter(Boolean);
  return types.length > 0 && types.every((type) => probe.canPlayType(type) !== '');
}

/** The gain ReplayGain asks for, kept below clipping by the peak. */
export function replayGain(song) {
  const mode = settings.get('replayGain');
  const rg = song.replayGain;
  if (mode === 'off' || !rg) return 1;
  const gain = mode === 'album' ? rg.albumGain ?? rg.trackGain : rg.trackGain ?? rg.albumGain;
  const peak = mode === 'album' ? rg.albumPeak ?? rg.trackPeak : rg.trackPeak ?? rg.albumPeak;
  if (gain === undefined) return 1;
  const linear = 10 ** ((gain + settings.get('preamp')) / 20);
  return peak > 0 ? Math.min(linear, 1 / peak) : linear;
}
