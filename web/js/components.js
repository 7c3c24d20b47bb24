// Pieces the views share: covers, album cards, song rows (virtualised for long lists), star
// and rating controls, the song menu and the add-to-playlist dialog.

import { api, coverUrl } from './api.js';
import { duration, fill, h, icon, iconButton, toast } from './dom.js';
import { navigate } from './router.js';
import { app } from './state.js';

/** A lazily loaded cover scaled by the server to fit `size` CSS px at this screen's density. */
export function cover(coverArt, size, alt = '') {
  if (!coverArt) return h('div.cover.placeholder', { role: alt ? 'img' : null, 'aria-label': alt || null }, icon('note'));
  const px = Math.min(1200, Math.ceil((size * (window.devicePixelRatio || 1)) / 50) * 50);
  return h('img.cover', { src: coverUrl(coverArt, px), alt, loading: 'lazy', decoding: 'async', width: size, height: size });
}

export function albumCard(album) {
  return h('div.card', {},
    h('a', { href: `/album/${album.id}`, 'aria-label': `${album.name} by ${album.artist || 'Unknown artist'}` }, cover(album.coverArt, 180)),
    h('a.title', { href: `/album/${album.id}`, title: album.name }, album.name),
    album.artistId
      ? h('a.sub', { href: `/artist/${album.artistId}` }, album.artist || '')
      : h('div.sub', {}, album.artist || ''),
  );
}

export function artistCard(artist) {
  return h('div.card', {},
    h('a', { href: `/artist/${artist.id}`, 'aria-label': artist.name }, cover(artist.coverArt, 180)),
    h('a.title', { href: `/artist/${artist.id}` }, artist.name),
    artist.albumCount !== undefined ? h('div.sub', {}, `${artist.albumCount} album${artist.albumCount === 1 ? '' : 's'}`) : null,
  );
}

/** A star toggle for a song (`id`), album (`albumId`) or artist (`artistId`). */
export function starButton(item, kind = 'id') {
  const button = iconButton(item.starred ? 'star' : 'starOutline', '', async () => {
    const on = !item.starred;
    try {
      await api(on ? 'star' : 'unstar', { [kind]: item.id });
      item.starred = on ? new Date().toISOString() : undefined;
      paint();
    } catch (e) { toast(e.message, 'error'); }
  }, { 'aria-pressed': 'false' });
  button.classList.add('star-button');
  const paint = () => {
    const label = item.starred ? `Remove “${item.name || item.title}” from favourites` : `Add “${item.name || item.title}” to favourites`;
    button.setAttribute('aria-label', label);
    button.title = item.starred ? 'Unstar' : 'Star';
    button.setAttribute('aria-pressed', item.starred ? 'true' : 'false');
    button.classList.toggle('starred', !!item.starred);
    button.replaceChildren(icon(item.starred ? 'star' : 'starOutline'));
  };
  paint();
  return button;
}

/** Five stars setting the user's rating; choosing the current rating clears it. */
export function ratingControl(item) {
  const box = h('div.rating', { role: 'group', 'aria-label': 'Rating' });
  const paint = () => fill(box, [1, 2, 3, 4, 5].map((n) => iconButton(n <= (item.userRating || 0) ? 'star' : 'starOutline', `Rate ${n} of 5`, async () => {
    const rating = item.userRating === n ? 0 : n;
    try {
      await api('setRating', { id: item.id, rating });
      item.userRating = rating || undefined;
      paint();
    } catch (e) { toast(e.message, 'error'); }
  }, { 'aria-pressed': n <= (item.userRating || 0) ? 'true' : 'false' })));
  paint();
  return box;
}

// --- song rows ---

const ROW_HEIGHT = 44;

function songRow(song, i, { list, numbering, showArtist = true, extraTools }) {
  const current = app.player.song?.id === song.id;
  const num = numbering === 'track' ? song.track ?? '' : i + 1;
  return h(`div.track${current ? '.current' : ''}`, { role: 'row', dataset: { index: i, songId: song.id } },
    h('span.num', { role: 'cell' }, num),
    h('span.name', { role: 'cell' }, h('button', { type: 'button', title: `Play ${song.title}`, onclick: () => list.play(i) }, song.title)),
    h('span.artist', { role: 'cell' }, showArtist ? (song.artistId ? h('a', { href: `/artist/${song.artistId}` }, song.artist || '') : song.artist || '') : h('a', { href: song.albumId ? `/album/${song.albumId}` : null }, song.album || '')),
    h('span.time', { role: 'cell' }, duration(song.duration)),
    h('span.tools', { role: 'cell' }, starButton(song), extraTools?.(song, i), iconButton('more', `More for ${song.title}`, (e) => songMenu(e.currentTarget, [song]))),
  );
}

/** A list of songs; clicking one plays the whole list from there. Long lists only render the
 * rows in view. `songs` may be a plain array or { count, get(i), load(i) } for paged lists. */
export function songList(songs, options = {}) {
  const source = Array.isArray(songs) ? { count: songs.length, get: (i) => songs[i], all: () => songs } : songs;
  const root = h('div.tracks', { role: 'table', 'aria-label': options.label || 'Songs', 'aria-rowcount': source.count });
  const list = {
    root,
    play(i) {
      const all = source.all();
      const start = all.indexOf(source.get(i));
      app.player.playList(all.filter(Boolean), Math.max(0, start));
    },
    refresh: () => render(true),
  };
  const opts = { ...options, list };
  const virtual = source.count > 150 || source.load;
  let rendered = '';
  const render = (force = false) => {
    if (!virtual) {
      fill(root, Array.from({ length: source.count }, (_, i) => songRow(source.get(i), i, opts)));
      return;
    }
    const scroller = document.getElementById('view');
    const top = root.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(-top / ROW_HEIGHT) - 10);
    const last = Math.min(source.count, first + Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 20);
    const key = `${first}:${last}:${source.count}`;
    if (!force && key === rendered) return;
    rendered = key;
    root.style.height = `${source.count * ROW_HEIGHT}px`;
    const rows = [];
    for (let i = first; i < last; i++) {
      const song = source.get(i);
      if (!song) { source.load?.(i).then(() => render(true)); continue; }
      const row = songRow(song, i, opts);
      row.style.top = `${i * ROW_HEIGHT}px`;
      row.setAttribute('aria-rowindex', i + 1);
      rows.push(row);
    }
    fill(root, rows);
  };
  if (virtual) {
    root.classList.add('virtual');
    const scroller = document.getElementById('view');
    let frame = 0;
    const onScroll = () => { cancelAnimationFrame(frame); frame = requestAnimationFrame(() => render()); };
    scroller.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    // Views are replaced on navigation: stop listening once this list has left the page.
    const cleanup = new MutationObserver(() => {
      if (!root.isConnected) { scroller.removeEventListener('scroll', onScroll); window.removeEventListener('resize', onScroll); cleanup.disconnect(); }
    });
    cleanup.observe(scroller, { childList: true });
    list.setCount = (n) => { source.count = n; root.setAttribute('aria-rowcount', n); render(true); };
    requestAnimationFrame(() => render(true));
  } else {
    render();
  }
  return list;
}

// --- menus ---

/** A popup menu of `items` ([label, action]) under `anchor`; arrows move, Escape closes. */
export function popupMenu(anchor, items) {
  document.querySelector('.menu')?.remove();
  const menu = h('div.menu', { role: 'menu' }, items.filter(Boolean).map(([label, action]) =>
    h('button', { type: 'button', role: 'menuitem', onclick: () => { close(); action(); } }, label)));
  const close = () => { menu.remove(); document.removeEventListener('pointerdown', outside, true); anchor.focus(); };
  const outside = (e) => { if (!menu.contains(e.target)) { menu.remove(); document.removeEventListener('pointerdown', outside, true); } };
  menu.addEventListener('keydown', (e) => {
    const buttons = [...menu.querySelectorAll('button')];
    const at = buttons.indexOf(document.activeElement);
    if (e.key === 'Escape' || e.key === 'Tab') { e.preventDefault(); close(); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(at + 1) % buttons.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(at - 1 + buttons.length) % buttons.length].focus(); }
  });
  document.body.append(menu);
  const r = anchor.getBoundingClientRect();
  const mr = menu.getBoundingClientRect();
  menu.style.left = `${Math.max(8, Math.min(r.right - mr.width, innerWidth - mr.width - 8))}px`;
  menu.style.top = `${r.bottom + mr.height + 8 > innerHeight ? Math.max(8, r.top - mr.height - 4) : r.bottom + 4}px`;
  document.addEventListener('pointerdown', outside, true);
  menu.querySelector('button')?.focus();
}

/** What can be done with some songs, from anywhere. */
export function songMenu(anchor, songs) {
  const one = songs.length === 1 ? songs[0] : null;
  popupMenu(anchor, [
    ['Play next', () => { app.player.playNext(songs); toast(`Playing next: ${one ? one.title : `${songs.length} songs`}`); }],
    ['Add to queue', () => { app.player.add(songs); toast(`Added to the queue: ${one ? one.title : `${songs.length} songs`}`); }],
    ['Add to playlist…', () => addToPlaylist(songs)],
    one?.albumId && ['Go to album', () => navigate(`/album/${one.albumId}`)],
    one?.artistId && ['Go to artist', () => navigate(`/artist/${one.artistId}`)],
  ]);
}

/** A dialog to add `songs` to one of the user's playlists, or to a new one. */
export async function addToPlaylist(songs) {
  const ids = songs.map((s) => s.id);
  const dialog = h('dialog', { 'aria-labelledby': 'atp-title' });
  const close = () => { dialog.close(); dialog.remove(); };
  const name = h('input', { type: 'text', id: 'atp-name', placeholder: 'New playlist name', required: true });
  const list = h('ul.list-plain', {}, h('li.muted', {}, 'Loading playlists…'));
  dialog.append(
    h('h2', { id: 'atp-title' }, `Add ${songs.length === 1 ? `“${songs[0].title}”` : `${songs.length} songs`} to a playlist`),
    list,
    h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('createPlaylist', { name: name.value.trim(), songId: ids });
        toast(`Created playlist “${name.value.trim()}”`);
        close();
      } catch (err) { toast(err.message, 'error'); }
    } },
    h('label.field', {}, 'New playlist', name),
    h('div.actions', {}, h('button.button.primary', { type: 'submit' }, 'Create'), h('button.button', { type: 'button', onclick: close }, 'Cancel'))),
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  try {
    const r = await api('getPlaylists');
    const mine = (r.playlists.playlist || []).filter((p) => p.owner === app.user.username);
    fill(list, mine.length ? mine.map((p) => h('li', {},
      h('span', {}, p.name, h('span.muted', {}, ` · ${p.songCount} songs`)),
      h('button.button', { type: 'button', onclick: async () => {
        try {
          await api('updatePlaylist', { playlistId: p.id, songIdToAdd: ids });
          toast(`Added to “${p.name}”`);
          close();
        } catch (err) { toast(err.message, 'error'); }
      } }, 'Add'))) : h('li.muted', {}, 'No playlists yet.'));
  } catch (e) { fill(list, h('li.error-text', {}, e.message)); }
}

/** Loading and error states of a view. */
export function loading() { return h('p.muted', { role: 'status' }, 'Loading…'); }
export function errorBox(e) { return h('p.error-text', { role: 'alert' }, e.message || String(e)); }
