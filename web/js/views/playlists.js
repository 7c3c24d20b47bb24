// Playlists: the list (create), one playlist (play, rename, delete, remove and reorder songs).

import { api } from '../api.js';
import { duration, fill, h, iconButton, plural, toast } from '../dom.js';
import { cover, loading, songList } from '../components.js';
import { navigate } from '../router.js';
import { app } from '../state.js';

export async function playlists(view) {
  fill(view, h('h1', {}, 'Playlists'), loading());
  const r = await api('getPlaylists');
  const list = r.playlists.playlist || [];
  const name = h('input', { type: 'text', id: 'new-playlist', placeholder: 'Name', required: true });
  const form = h('form.actions', { onsubmit: async (e) => {
    e.preventDefault();
    try {
      const created = await api('createPlaylist', { name: name.value.trim() });
      navigate(`/playlist/${created.playlist.id}`);
    } catch (err) { toast(err.message, 'error'); }
  } }, h('label', { for: 'new-playlist' }, 'New playlist '), name, h('button.button.primary', { type: 'submit' }, 'Create'));
  fill(view, h('h1', {}, 'Playlists'), form,
    list.length ? h('div.grid', {}, list.map((p) => h('div.card', {},
      h('a', { href: `/playlist/${p.id}`, 'aria-label': p.name }, cover(p.coverArt, 180)),
      h('a.title', { href: `/playlist/${p.id}` }, p.name),
      h('div.sub', {}, `${plural(p.songCount, 'song')}${p.owner !== app.user.username ? ` · by ${p.owner}` : ''}`)))) : h('p.empty', {}, 'No playlists yet.'));
}

export async function playlist(view, { id }) {
  fill(view, loading());
  const r = await api('getPlaylist', { id });
  const p = r.playlist;
  let songs = p.entry || [];
  const mine = p.owner === app.user.username || app.user.adminRole;
  const body = h('div');
  const title = h('h1', {}, p.name);
  const summary = h('p.muted');

  const paint = () => {
    summary.textContent = `${plural(songs.length, 'song')} · ${duration(songs.reduce((t, s) => t + (s.duration || 0), 0))}${p.owner !== app.user.username ? ` · by ${p.owner}` : ''}`;
    const list = songList(songs, {
      numbering: 'index',
      label: p.name,
      extraTools: mine ? (song, i) => [
        iconButton('up', `Move ${song.title} up`, () => reorder(i, i - 1), { disabled: i === 0 }),
        iconButton('down', `Move ${song.title} down`, () => reorder(i, i + 1), { disabled: i === songs.length - 1 }),
        iconButton('close', `Remove ${song.title} from the playlist`, () => remove(i)),
      ] : null,
    });
    fill(body, songs.length ? list.root : h('p.empty', {}, 'This playlist is empty: add songs from their menu (⋮ → Add to playlist…).'));
    if (mine) enableDrag(list.root);
  };

  // Reordering rewrites the song list (createPlaylist with playlistId, as Subsonic defines).
  const reorder = async (from, to) => {
    if (to < 0 || to >= songs.length) return;
    const next = songs.slice();
    const [moved] = next.splice(from, 1);
    next.splice(to, 0, moved);
    try {
      await api('createPlaylist', { playlistId: p.id, songId: next.map((s) => s.id) });
      songs = next;
      paint();
      body.querySelectorAll('.track')[to]?.querySelector('button')?.focus();
    } catch (e) { toast(e.message, 'error'); }
  };
  const remove = async (i) => {
    try {
      await api('updatePlaylist', { playlistId: p.id, songIndexToRemove: i });
      songs = songs.filter((_, k) => k !== i);
      paint();
    } catch (e) { toast(e.message, 'error'); }
  };
  const enableDrag = (root) => {
    root.querySelectorAll('.track').forEach((row) => {
      row.draggable = true;
      row.addEventListener('dragstart', (e) => { e.dataTransfer.setData('text/plain', row.dataset.index); e.dataTransfer.effectAllowed = 'move'; });
      row.addEventListener('dragover', (e) => { e.preventDefault(); row.classList.add('drop-target'); });
      row.addEventListener('dragleave', () => row.classList.remove('drop-target'));
      row.addEventListener('drop', (e) => {
        e.preventDefault();
        row.classList.remove('drop-target');
        reorder(Number(e.dataTransfer.getData('text/plain')), Number(row.dataset.index));
      });
    });
  };
  const rename = async () => {
    const name = prompt('Rename the playlist', p.name)?.trim();
    if (!name || name === p.name) return;
    try {
      await api('updatePlaylist', { playlistId: p.id, name });
      p.name = name;
      title.textContent = name;
    } catch (e) { toast(e.message, 'error'); }
  };
  const remove_ = async () => {
    if (!confirm(`Delete the playlist “${p.name}”?`)) return;
    try {
      await api('deletePlaylist', { id: p.id });
      toast(`Deleted “${p.name}”`);
      navigate('/playlists');
    } catch (e) { toast(e.message, 'error'); }
  };

  fill(view,
    h('div.detail-head', {}, cover(p.coverArt, 220, p.name), h('div', {}, h('div.kind', {}, 'Playlist'), title, summary)),
    h('div.actions', {},
      h('button.button.primary', { type: 'button', onclick: () => app.player.playList(songs, 0) }, 'Play'),
      h('button.button', { type: 'button', onclick: () => app.player.playList(songs, 0, { shuffle: true }) }, 'Shuffle'),
      h('button.button', { type: 'button', onclick: () => { app.player.add(songs); toast('Added to the queue'); } }, 'Add to queue'),
      mine ? h('button.button', { type: 'button', onclick: rename }, 'Rename') : null,
      mine ? h('button.button.danger', { type: 'button', onclick: remove_ }, 'Delete') : null),
    body);
  paint();
}
