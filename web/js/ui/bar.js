// The player bar: the song, transport, seek bar with times, repeat/shuffle, volume, queue.

import { coverUrl } from '../api.js';
import { duration, fill, h, icon, iconButton } from '../dom.js';
import { starButton } from '../components.js';
import { settings } from '../settings.js';
import { toggleQueue } from './queue.js';
import { toggleNowPlaying } from './nowplaying.js';

export function renderBar(bar, player) {
  const art = h('button.icon-button.art-button', { type: 'button', 'aria-label': 'Now playing (l)', title: 'Now playing (l)', onclick: () => toggleNowPlaying(player) });
  const title = h('div.pb-title');
  const artist = h('div.muted.pb-artist');
  const star = h('span');
  const play = iconButton('play', 'Play (space)', () => player.toggle());
  play.classList.add('play');
  const shuffle = iconButton('shuffle', 'Shuffle', () => player.toggleShuffle(), { 'aria-pressed': 'false' });
  const repeat = iconButton('repeat', 'Repeat: off', () => player.cycleRepeat(), { 'aria-pressed': 'false' });
  const seek = h('input', { type: 'range', min: 0, max: 1, step: 'any', value: 0, 'aria-label': 'Seek', id: 'seek' });
  const elapsed = h('span', { id: 'elapsed' }, '0:00');
  const total = h('span', { id: 'total' }, '0:00');
  const busy = h('span.spinner', { role: 'status', 'aria-label': 'Loading', hidden: true });
  const mute = iconButton('volume', 'Mute (m)', () => player.toggleMute(), { 'aria-pressed': 'false' });
  const volume = h('input', { type: 'range', min: 0, max: 1, step: 0.01, value: settings.get('volume'), 'aria-label': 'Volume', id: 'volume' });
  let dragging = false;

  seek.addEventListener('input', () => { dragging = true; elapsed.textContent = duration(Number(seek.value)); });
  seek.addEventListener('change', () => { dragging = false; player.seek(Number(seek.value)); });
  volume.addEventListener('input', () => player.setVolume(Number(volume.value)));

  fill(bar,
    h('div.pb-track', {}, art, h('div.meta', {}, title, artist), star),
    h('div.pb-center', {},
      h('div.pb-buttons', {}, shuffle, iconButton('prev', 'Previous (p)', () => player.previous()), play,
        iconButton('next', 'Next (n)', () => player.next()), repeat, busy),
      h('div.pb-seek', {}, elapsed, seek, total)),
    h('div.pb-right', {},
      iconButton('lyrics', 'Now playing and lyrics (l)', () => toggleNowPlaying(player)),
      iconButton('queue', 'Queue (q)', () => toggleQueue(), { id: 'queue-button', 'aria-controls': 'queue-panel' }),
      mute, volume));

  let shownSong;
  const paintSong = () => {
    const song = player.song;
    if (song === shownSong) return;
    shownSong = song;
    fill(art, song?.coverArt ? h('img.cover', { src: coverUrl(song.coverArt, 112), alt: '' }) : h('div.cover.placeholder', {}, icon('note')));
    fill(title, song ? (song.albumId ? h('a', { href: `/album/${song.albumId}` }, song.title) : song.title) : 'Nothing playing');
    fill(artist, song ? (song.artistId ? h('a', { href: `/artist/${song.artistId}` }, song.artist || '') : song.artist || '') : '');
    fill(star, song ? starButton(song) : '');
  };
  const paintState = () => {
    const playing = player.playing;
    play.replaceChildren(icon(playing ? 'pause' : 'play'));
    play.setAttribute('aria-label', playing ? 'Pause (space)' : 'Play (space)');
    play.title = play.getAttribute('aria-label');
    busy.hidden = !player.waiting;
    shuffle.setAttribute('aria-pressed', String(player.shuffled));
    repeat.setAttribute('aria-pressed', String(player.repeat !== 'off'));
    repeat.setAttribute('aria-label', `Repeat: ${player.repeat}`);
    repeat.title = `Repeat: ${player.repeat}`;
    repeat.replaceChildren(icon(player.repeat === 'one' ? 'repeatOne' : 'repeat'));
    paintSong();
  };
  const paintVolume = () => {
    const muted = settings.get('muted');
    mute.replaceChildren(icon(muted ? 'mute' : 'volume'));
    mute.setAttribute('aria-pressed', String(muted));
    mute.setAttribute('aria-label', muted ? 'Unmute (m)' : 'Mute (m)');
    volume.value = settings.get('volume');
  };
  const paintTime = () => {
    const d = player.duration;
    const p = player.position;
    total.textContent = duration(d);
    if (dragging) return;
    seek.max = d || 1;
    seek.value = p;
    seek.setAttribute('aria-valuetext', `${duration(p)} of ${duration(d)}`);
    elapsed.textContent = duration(p);
  };
  player.addEventListener('state', paintState);
  player.addEventListener('change', paintState);
  player.addEventListener('volume', paintVolume);
  setInterval(paintTime, 250);
  paintState();
  paintVolume();
}
