// Library views: home, artists, artist, albums, album, songs, genres, folders, favourites,
// search. Each fills the main element from /rest calls.

import { api } from '../api.js';
import { debounce, duration, fill, h, iconButton, plural, toast } from '../dom.js';
import {
  albumCard, artistCard, cover, errorBox, loading, ratingControl, songList, songMenu, starButton,
} from '../components.js';
import { navigate } from '../router.js';
import { app } from '../state.js';

function section(title, body, more) {
  return h('section', {}, h('h2', {}, title, more ? h('a.muted', { href: more }, '  · see all') : null), body);
}

function albumRow(albums) {
  return albums.length ? h('div.row-scroll', {}, albums.map(albumCard)) : h('p.empty', {}, 'Nothing here yet.');
}

async function albumList(type, size = 18, extra = {}) {
  const r = await api('getAlbumList2', { type, size, ...extra });
  return r.albumList2.album || [];
}

export async function home(view) {
  fill(view, h('h1', {}, 'Home'), loading());
  const [added, recent, frequent, random, starred] = await Promise.all(
    ['newest', 'recent', 'frequent', 'random', 'starred'].map((t) => albumList(t).catch(() => [])));
  fill(view, h('h1', {}, 'Home'),
    section('Recently added', albumRow(added), '/albums?type=newest'),
    section('Recently played', albumRow(recent), '/albums?type=recent'),
    section('Most played', albumRow(frequent), '/albums?type=frequent'),
    section('Random', albumRow(random), '/albums?type=random'),
    section('Starred', albumRow(starred), '/albums?type=starred'));
  // The newest podcast episodes, when there are any.
  const episodes = await import('./podcasts.js').then((m) => m.newestRow()).catch(() => null);
  if (episodes && view.isConnected) view.querySelector('h1')?.after(section('New episodes', episodes, '/podcasts'));
}

export async function artists(view) {
  fill(view, h('h1', {}, 'Artists'), loading());
  const r = await api('getArtists');
  const index = r.artists.index || [];
  const anchor = (name) => `letter-${encodeURIComponent(name)}`;
  fill(view, h('h1', {}, 'Artists'),
    h('nav.letters', { 'aria-label': 'Jump to letter' }, index.map((i) => h('a', { href: `#${anchor(i.name)}`, onclick: (e) => {
      e.preventDefault();
      document.getElementById(anchor(i.name))?.scrollIntoView();
    } }, i.name))),
    index.length ? index.map((i) => h('section', {},
      h('h2', { id: anchor(i.name) }, i.name),
      h('ul.list-plain', {}, i.artist.map((a) => h('li', {},
        h('a', { href: `/artist/${a.id}` }, a.name),
        h('span.muted', {}, plural(a.albumCount || 0, 'album'))))))) : h('p.empty', {}, 'No artists yet: add music to a library folder and scan.'));
}

export async function artist(view, { id }) {
  fill(view, loading());
  const r = await api('getArtist', { id });
  const a = r.artist;
  const albums = a.album || [];
  const songsOf = async () => {
    const all = await Promise.all(albums.map((al) => api('getAlbum', { id: al.id })));
    return all.flatMap((x) => x.album.song || []);
  };
  const play = async (shuffle) => {
    try { app.player.playList(await songsOf(), 0, { shuffle }); } catch (e) { toast(e.message, 'error'); }
  };
  const top = h('div');
  fill(view,
    h('div.detail-head', {}, cover(a.coverArt, 220, a.name), h('div', {},
      h('div.kind', {}, 'Artist'), h('h1', {}, a.name), h('p.muted', {}, plural(albums.length, 'album')))),
    h('div.actions', {},
      h('button.button.primary', { type: 'button', onclick: () => play(false) }, 'Play'),
      h('button.button', { type: 'button', onclick: () => play(true) }, 'Shuffle'),
      starButton(a, 'artistId')),
    top,
    h('h2', {}, 'Albums'),
    h('div.grid', {}, albums.map(albumCard)));
  try {
    const t = await api('getTopSongs', { artist: a.name, count: 10 });
    const songs = t.topSongs.song || [];
    if (songs.length) fill(top, h('h2', {}, 'Top songs'), songList(songs, { label: 'Top songs' }).root);
  } catch { /* no top songs */ }
}

const ALBUM_SORTS = [
  ['newest', 'Recently added'], ['alphabeticalByName', 'Name'], ['alphabeticalByArtist', 'Artist'],
  ['recent', 'Recently played'], ['frequent', 'Most played'], ['starred', 'Starred'], ['random', 'Random'],
];

export async function albums(view, params, query) {
  const type = query.get('type') || 'alphabeticalByName';
  const grid = h('div.grid');
  const status = h('p.muted', { role: 'status' });
  const select = h('select', { id: 'album-sort', onchange: () => navigate(`/albums?type=${select.value}`, { replace: true }) },
    ALBUM_SORTS.map(([value, label]) => h('option', { value, selected: value === type }, label)));
  fill(view, h('h1', {}, 'Albums'), h('div.actions', {}, h('label', { for: 'album-sort' }, 'Sort by '), select), grid, status);
  // Pages of 60 as the end of the grid comes into view.
  let offset = 0;
  let done = false;
  let busy = false;
  const more = async () => {
    if (done || busy) return;
    busy = true;
    status.textContent = 'Loading…';
    try {
      const page = await albumList(type, 60, { offset });
      grid.append(...page.map(albumCard));
      offset += page.length;
      done = page.length < 60 || type === 'random';
      status.textContent = done ? (offset ? plural(offset, 'album') : 'No albums yet.') : '';
    } catch (e) { status.textContent = e.message; done = true; }
    busy = false;
    if (!done && status.getBoundingClientRect().top < innerHeight + 400) more();
  };
  const watcher = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) more(); }, { rootMargin: '400px' });
  watcher.observe(status);
  await more();
}

export async function album(view, { id }) {
  fill(view, loading());
  const r = await api('getAlbum', { id });
  const a = r.album;
  const songs = a.song || [];
  const discs = new Map();
  for (const s of songs) {
    const d = s.discNumber || 1;
    if (!discs.has(d)) discs.set(d, []);
    discs.get(d).push(s);
  }
  const titles = new Map((a.discTitles || []).map((d) => [d.disc, d.title]));
  const total = songs.reduce((t, s) => t + (s.duration || 0), 0);
  // One list per disc, but playing any song plays the whole album from there.
  const lists = [...discs.entries()].map(([disc, discSongs]) => {
    const list = songList(discSongs, { numbering: 'track', label: `Disc ${disc}` });
    list.play = (i) => app.player.playList(songs, songs.indexOf(discSongs[i]));
    return [disc, list];
  });
  fill(view,
    h('div.detail-head', {}, cover(a.coverArt, 220, a.name), h('div', {},
      h('div.kind', {}, 'Album'),
      h('h1', {}, a.name),
      h('p', {}, a.artistId ? h('a', { href: `/artist/${a.artistId}` }, a.artist) : a.artist,
        a.year ? ` · ${a.year}` : '', a.genre ? ` · ${a.genre}` : ''),
      h('p.muted', {}, `${plural(songs.length, 'song')} · ${duration(total)}`))),
    h('div.actions', {},
      h('button.button.primary', { type: 'button', onclick: () => app.player.playList(songs, 0) }, 'Play'),
      h('button.button', { type: 'button', onclick: () => app.player.playList(songs, 0, { shuffle: true }) }, 'Shuffle'),
      h('button.button', { type: 'button', onclick: () => { app.player.add(songs); toast(`Added ${a.name} to the queue`); } }, 'Add to queue'),
      iconButton('more', 'More for this album', (e) => songMenu(e.currentTarget, songs)),
      starButton(a, 'albumId'),
      ratingControl(a)),
    lists.map(([disc, list]) => [discs.size > 1 ? h('h2.disc', {}, `Disc ${disc}${titles.get(disc) ? ` — ${titles.get(disc)}` : ''}`) : null, list.root]));
}

export async function songs(view) {
  // Every song, alphabetically, 500 a page as the list scrolls (search3 with an empty query).
  const pages = new Map();
  const loaded = [];
  const status = await api('getScanStatus').catch(() => null);
  const source = {
    count: status?.scanStatus?.count || 0,
    get: (i) => loaded[i],
    all: () => loaded.filter(Boolean),
    load(i) {
      const page = Math.floor(i / 500);
      if (!pages.has(page)) {
        pages.set(page, api('search3', { query: '', songCount: 500, songOffset: page * 500, artistCount: 0, albumCount: 0 }).then((r) => {
          const got = r.searchResult3.song || [];
          got.forEach((s, k) => { loaded[page * 500 + k] = s; });
          if (got.length < 500 && source.count !== page * 500 + got.length) list.setCount(page * 500 + got.length);
        }));
      }
      return pages.get(page);
    },
  };
  const list = songList(source, { label: 'All songs' });
  fill(view, h('h1', {}, 'Songs'), list.root);
  await source.load(0);
  if (!source.count) list.setCount(loaded.length);
}

export async function genres(view) {
  fill(view, h('h1', {}, 'Genres'), loading());
  const r = await api('getGenres');
  const list = (r.genres.genre || []).slice().sort((a, b) => a.value.localeCompare(b.value));
  fill(view, h('h1', {}, 'Genres'), list.length ? h('ul.list-plain', {}, list.map((g) => h('li', {},
    h('a', { href: `/genre/${encodeURIComponent(g.value)}` }, g.value),
    h('span.muted', {}, `${plural(g.albumCount, 'album')} · ${plural(g.songCount, 'song')}`)))) : h('p.empty', {}, 'No genres.'));
}

export async function genre(view, { name }) {
  fill(view, h('h1', {}, name), loading());
  const [albumsR, songsR] = await Promise.all([
    api('getAlbumList2', { type: 'byGenre', genre: name, size: 500 }),
    api('getSongsByGenre', { genre: name, count: 500 }),
  ]);
  const songsList = songsR.songsByGenre.song || [];
  fill(view, h('h1', {}, name),
    h('div.actions', {},
      h('button.button.primary', { type: 'button', onclick: () => app.player.playList(songsList, 0) }, 'Play'),
      h('button.button', { type: 'button', onclick: () => app.player.playList(songsList, 0, { shuffle: true }) }, 'Shuffle')),
    h('h2', {}, 'Albums'), h('div.grid', {}, (albumsR.albumList2.album || []).map(albumCard)),
    h('h2', {}, 'Songs'), songList(songsList, { label: `${name} songs` }).root);
}

export async function folders(view) {
  fill(view, h('h1', {}, 'Folders'), loading());
  const r = await api('getIndexes');
  const idx = r.indexes;
  const entries = (idx.index || []).flatMap((i) => i.artist);
  const files = idx.child || [];
  fill(view, h('h1', {}, 'Folders'),
    h('ul.list-plain', {}, entries.map((a) => h('li', {}, h('a', { href: `/folder/${a.id}` }, a.name)))),
    files.length ? songList(files, { label: 'Files' }).root : null,
    !entries.length && !files.length ? h('p.empty', {}, 'No folders.') : null);
}

export async function folder(view, { id }) {
  fill(view, loading());
  const r = await api('getMusicDirectory', { id });
  const d = r.directory;
  const children = d.child || [];
  const dirs = children.filter((c) => c.isDir);
  const files = children.filter((c) => !c.isDir);
  fill(view,
    d.parent ? h('a.muted', { href: `/folder/${d.parent}` }, '‹ Up') : h('a.muted', { href: '/folders' }, '‹ Folders'),
    h('h1', {}, d.name),
    dirs.length ? h('ul.list-plain', {}, dirs.map((c) => h('li', {}, h('a', { href: `/folder/${c.id}` }, c.title || c.name)))) : null,
    files.length ? [h('div.actions', {},
      h('button.button.primary', { type: 'button', onclick: () => app.player.playList(files, 0) }, 'Play folder')),
    songList(files, { label: 'Files' }).root] : null);
}

export async function favourites(view) {
  fill(view, h('h1', {}, 'Favourites'), loading());
  const r = await api('getStarred2');
  const s = r.starred2;
  const songsList = s.song || [];
  fill(view, h('h1', {}, 'Favourites'),
    h('h2', {}, 'Artists'), (s.artist || []).length ? h('div.grid', {}, s.artist.map(artistCard)) : h('p.empty', {}, 'No starred artists.'),
    h('h2', {}, 'Albums'), (s.album || []).length ? h('div.grid', {}, s.album.map(albumCard)) : h('p.empty', {}, 'No starred albums.'),
    h('h2', {}, 'Songs'), songsList.length ? [h('div.actions', {},
      h('button.button.primary', { type: 'button', onclick: () => app.player.playList(songsList, 0) }, 'Play all')),
    songList(songsList, { label: 'Starred songs' }).root] : h('p.empty', {}, 'No starred songs.'));
}

let searchRun = 0;
export async function search(view, params, query) {
  const q = (query.get('q') || '').trim();
  const input = document.getElementById('search');
  if (input && document.activeElement !== input) input.value = q;
  if (!q) return fill(view, h('h1', {}, 'Search'), h('p.muted', {}, 'Type in the search box to find artists, albums and songs.'));
  const run = ++searchRun;
  const r = await api('search3', { query: q, artistCount: 12, albumCount: 24, songCount: 100 });
  if (run !== searchRun) return;
  const s = r.searchResult3;
  const none = !s.artist?.length && !s.album?.length && !s.song?.length;
  fill(view, h('h1', {}, `Results for “${q}”`),
    none ? h('p.empty', {}, 'Nothing found.') : null,
    s.artist?.length ? [h('h2', {}, 'Artists'), h('div.grid', {}, s.artist.map(artistCard))] : null,
    s.album?.length ? [h('h2', {}, 'Albums'), h('div.grid', {}, s.album.map(albumCard))] : null,
    s.song?.length ? [h('h2', {}, 'Songs'), songList(s.song, { label: 'Songs found' }).root] : null);
}

/** Search as you type: the results view follows the box. */
export function bindSearch(input) {
  const go = debounce(() => {
    const q = input.value.trim();
    const path = q ? `/search?q=${encodeURIComponent(q)}` : '/search';
    navigate(path, { replace: location.pathname === '/search' });
  }, 220);
  input.addEventListener('input', go);
  input.form.addEventListener('submit', (e) => { e.preventDefault(); go(); });
}

export { errorBox };
