// The now-playing view: large art, the song, and its lyrics, synced ones following the music.

import { api } from '../api.js';
import { fill, h, iconButton } from '../dom.js';
import { cover } from '../components.js';

let shownFor = null;
let lines = []; // synced: [{ start (ms), el }]
let offset = 0;
let frame = 0;
let opener = null;

export function toggleNowPlaying(player) {
  const box = document.getElementById('now-playing');
  box.hidden = !box.hidden;
  if (box.hidden) {
    cancelAnimationFrame(frame);
    opener?.focus?.();
    return;
  }
  opener = document.activeElement;
  if (!box.dataset.bound) {
    box.dataset.bound = 'true';
    player.addEventListener('change', () => { if (!box.hidden) paint(box, player); });
  }
  paint(box, player);
  box.querySelector('.np-close')?.focus();
}

async function paint(box, player) {
  const song = player.song;
  const follow = () => {
    cancelAnimationFrame(frame);
    if (box.hidden) return;
    highlight(player.position * 1000);
    frame = requestAnimationFrame(follow);
  };
  if (shownFor === song && box.childElementCount) return follow();
  shownFor = song;
  lines = [];
  const lyrics = h('div.lyrics', { 'aria-label': 'Lyrics', tabindex: '0' }, h('p.muted', {}, song ? 'Looking for lyrics…' : ''));
  fill(box,
    iconButton('close', 'Close (Esc)', () => toggleNowPlaying(player), { class: 'icon-button np-close' }),
    h('div.np-art', {},
      song ? cover(song.coverArt, 520, song.album || '') : null,
      h('h2', {}, song ? song.title : 'Nothing playing'),
      h('p', {}, song ? [song.artist, song.album].filter(Boolean).join(' · ') : '')),
    lyrics);
  if (!song) return;
  try {
    const r = await api('getLyricsBySongId', { id: song.id });
    if (shownFor !== song) return;
    const all = r.lyricsList?.structuredLyrics || [];
    const chosen = all.find((l) => l.synced) || all[0];
    if (!chosen) return fill(lyrics, h('p.muted', {}, 'No lyrics for this song.'));
    offset = chosen.offset || 0;
    lyrics.classList.toggle('plain', !chosen.synced);
    fill(lyrics, chosen.line.map((line) => {
      const p = h('p', {}, line.value || '\u00a0');
      if (chosen.synced) {
        p.addEventListener('click', () => player.seek((line.start - offset) / 1000));
        lines.push({ start: line.start, el: p });
      }
      return p;
    }));
  } catch {
    if (shownFor === song) fill(lyrics, h('p.muted', {}, 'No lyrics for this song.'));
  }
  follow();
}

let active = null;
function highlight(ms) {
  if (!lines.length) return;
  let current = null;
  for (const line of lines) {
    if (line.start - offset <= ms) current = line;
    else break;
  }
  if (current === active) return;
  active?.el.classList.remove('active');
  active = current;
  if (current) {
    current.el.classList.add('active');
    current.el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }
}
