// Podcasts: the subscribed channels (getPodcasts) with their art, adding one by feed URL,
// refreshing and unsubscribing (the podcast role); a channel's episodes newest first, to
// download, play, resume where a bookmark says, and delete; the newest episodes for Home.
// While an episode plays its position is kept as a bookmark, so any device can resume it.

import { api } from '../api.js';
import { duration, fill, h, toast } from '../dom.js';
import { cover, loading } from '../components.js';
import { navigate } from '../router.js';
import { app } from '../state.js';

const BOOKMARK_EVERY = 15000;

const canManage = () => !!(app.user?.adminRole || app.user?.podcastRole);

function statusText(e) {
  if (e.status === 'error' || e.status === 'skipped') return `${e.status}: ${e.errorMessage || ''}`;
  return e.status;
}

/** Plays an episode, from `position` seconds. */
function playEpisode(episode, position = 0) {
  app.player.playList([episode], 0, { offset: position });
}

async function bookmarks() {
  try {
    const r = await api('getBookmarks');
    return new Map((r.bookmarks.bookmark || []).map((b) => [b.entry.id, b.position / 1000]));
  } catch { return new Map(); }
}

export async function podcasts(view) {
  fill(view, h('h1', {}, 'Podcasts'), loading());
  const r = await api('getPodcasts', { includeEpisodes: false });
  const channels = r.podcasts.channel || [];
  const url = h('input', { type: 'text', id: 'podcast-url', required: true, inputmode: 'url', placeholder: 'https://…/feed.xml' });
  const manage = canManage();
  fill(view, h('h1', {}, 'Podcasts'),
    manage ? h('div.actions', {},
      h('button.button', { type: 'button', onclick: async () => {
        try { await api('refreshPodcasts'); toast('Refreshing every channel…'); } catch (e) { toast(e.message, 'error'); }
      } }, 'Refresh all')) : null,
    channels.length
      ? h('div.row-scroll.podcast-channels', {}, channels.map((c) => h('div.card', { 'data-channel-id': c.id },
        h('a', { href: `/podcast/${c.id}`, 'aria-label': c.title || c.url }, cover(c.coverArt, 180)),
        h('a.title', { href: `/podcast/${c.id}`, title: c.title || c.url }, c.title || c.url),
        h('div.sub', {}, c.status === 'error' ? `error: ${c.errorMessage || ''}` : c.status))))
      : h('p.empty', {}, 'No podcasts yet.'),
    manage ? h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('createPodcastChannel', { url: url.value.trim() });
        url.value = '';
        toast('Subscribed: fetching the feed…');
        setTimeout(() => { if (location.pathname === '/podcasts') navigate('/podcasts', { replace: true }); }, 1500);
      } catch (err) { toast(err.message, 'error'); }
    } }, h('h2', {}, 'Subscribe'), h('label.field', {}, 'Feed URL', url),
    h('button.button.primary', { type: 'submit' }, 'Add')) : null);
}

export async function channel(view, { id }) {
  fill(view, loading());
  const [r, marks] = await Promise.all([api('getPodcasts', { id }), bookmarks()]);
  const c = r.podcasts.channel[0];
  const manage = canManage();
  const list = h('ul.list-plain.episodes');
  const paint = (episodes) => fill(list, episodes.length ? episodes.map((e) => {
    const done = e.status === 'completed';
    const resumeAt = marks.get(e.id);
    return h('li', { 'data-episode-id': e.id },
      h('span', {},
        h('strong', {}, e.title),
        h('span.muted', {}, ` · ${e.publishDate ? new Date(e.publishDate).toLocaleDateString() : ''}`,
          e.duration ? ` · ${duration(e.duration)}` : '', ` · ${statusText(e)}`),
        e.description ? h('div.muted.episode-notes', {}, e.description) : null),
      h('span.actions', {},
        done ? h('button.button', { type: 'button', onclick: () => playEpisode(e) }, 'Play') : null,
        done && resumeAt ? h('button.button', { type: 'button', onclick: () => playEpisode(e, resumeAt) }, `Resume at ${duration(resumeAt)}`) : null,
        manage && !done && e.status !== 'downloading' ? h('button.button', { type: 'button', onclick: async () => {
          try { await api('downloadPodcastEpisode', { id: e.id }); toast('Downloading…'); setTimeout(reload, 1500); } catch (err) { toast(err.message, 'error'); }
        } }, 'Download') : null,
        manage && done ? h('button.button.danger', { type: 'button', onclick: async () => {
          try { await api('deletePodcastEpisode', { id: e.id }); reload(); } catch (err) { toast(err.message, 'error'); }
        } }, 'Delete') : null));
  }) : h('li.muted', {}, c.status === 'error' ? `This feed could not be read: ${c.errorMessage}` : 'No episodes yet.'));
  const reload = async () => {
    try {
      const again = await api('getPodcasts', { id });
      paint(again.podcasts.channel[0].episode || []);
    } catch (e) { toast(e.message, 'error'); }
  };
  paint(c.episode || []);
  fill(view,
    h('div.detail-head', {}, cover(c.coverArt, 220, c.title || ''),
      h('div', {}, h('div.kind', {}, 'Podcast'), h('h1', {}, c.title || c.url), c.description ? h('p.muted', {}, c.description) : null,
        c.status === 'error' ? h('p.error-text', {}, c.errorMessage || 'error') : null,
        manage ? h('div.actions', {},
          h('button.button', { type: 'button', onclick: async () => {
            try { await api('refreshPodcasts'); setTimeout(reload, 1500); } catch (e) { toast(e.message, 'error'); }
          } }, 'Refresh'),
          h('button.button.danger', { type: 'button', onclick: async () => {
            if (!window.confirm(`Unsubscribe from ${c.title || c.url} and delete its episodes?`)) return;
            try { await api('deletePodcastChannel', { id }); navigate('/podcasts'); } catch (e) { toast(e.message, 'error'); }
          } }, 'Unsubscribe')) : null)),
    list);
}

/** Home's "New episodes" row: the newest episodes, played in one click. */
export async function newestRow() {
  const r = await api('getNewestPodcasts', { count: 10 });
  const episodes = (r.newestPodcasts.episode || []).filter((e) => e.status !== 'deleted');
  if (!episodes.length) return null;
  return h('ul.list-plain.newest-episodes', {}, episodes.map((e) => h('li', { 'data-episode-id': e.id },
    h('span', {}, h('a', { href: `/podcast/${e.channelId}` }, e.album || ''), ' · ', h('strong', {}, e.title)),
    e.status === 'completed'
      ? h('button.button', { type: 'button', onclick: () => playEpisode(e) }, 'Play')
      : h('span.muted', {}, e.status))));
}

/** Keeps a bookmark of the episode playing (every few seconds while it plays), so another
 * device resumes it where it was left. */
export function keepBookmarks(player) {
  let last = '';
  const save = () => {
    const song = player.song;
    if (!song || !String(song.id).startsWith('pe-') || !player.started) return;
    const position = Math.round(player.position * 1000);
    const key = `${song.id}:${Math.round(position / 1000)}`;
    if (key === last) return;
    last = key;
    api('createBookmark', { id: song.id, position }).catch(() => {});
  };
  setInterval(() => { if (player.playing) save(); }, BOOKMARK_EVERY);
  player.addEventListener('state', () => { if (!player.playing) save(); });
}
