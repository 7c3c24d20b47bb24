// Start-up and the shell: sign-in (or first-run setup), routes, the player bar, the queue
// panel, the now-playing view with synced lyrics, and keyboard shortcuts.

import { api, createFirstAdmin, currentSession, onAuthLost, setupNeeded, signIn } from './api.js';
import { fill, h, icon, toast } from './dom.js';
import { Player } from './player.js';
import { applyTheme } from './settings.js';
import { route, start as startRouter } from './router.js';
import { app } from './state.js';
import * as library from './views/library.js';
import { errorBox } from './components.js';
import { renderBar } from './ui/bar.js';
import { renderQueue, toggleQueue } from './ui/queue.js';
import { toggleNowPlaying } from './ui/nowplaying.js';

applyTheme();

const lazy = (load, name = 'view') => async (...args) => (await load())[name](...args);
route('/', library.home);
route('/artists', library.artists);
route('/artist/:id', library.artist);
route('/albums', library.albums);
route('/album/:id', library.album);
route('/songs', library.songs);
route('/genres', library.genres);
route('/genre/:name', library.genre);
route('/folders', library.folders);
route('/folder/:id', library.folder);
route('/favourites', library.favourites);
route('/search', library.search);
route('/playlists', lazy(() => import('./views/playlists.js'), 'playlists'));
route('/playlist/:id', lazy(() => import('./views/playlists.js'), 'playlist'));
route('/radio', lazy(() => import('./views/radio.js'), 'stations'));
route('/podcasts', lazy(() => import('./views/podcasts.js'), 'podcasts'));
route('/podcast/:id', lazy(() => import('./views/podcasts.js'), 'channel'));
route('/settings', lazy(() => import('./views/settings.js')));
route('/admin', lazy(() => import('./views/admin.js')));

async function boot() {
  onAuthLost(() => showLogin('Your session has ended: please sign in again.'));
  if (!currentSession()) {
    return (await setupNeeded()) ? showSetup() : showLogin();
  }
  try {
    const r = await api('getUser', { username: currentSession().user });
    app.user = r.user;
  } catch (e) {
    if (!currentSession()) return; // the session ended: the sign-in form is up
    app.user = { username: currentSession().user };
    toast(e.message, 'error');
  }
  showApp();
}

function showLogin(message = '') {
  document.getElementById('app').hidden = true;
  const box = document.getElementById('login');
  box.hidden = false;
  const user = h('input', { type: 'text', id: 'login-user', autocomplete: 'username', required: true, autocapitalize: 'none' });
  const password = h('input', { type: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
  const error = h('p.error-text', { role: 'alert' }, message);
  const button = h('button.button.primary', { type: 'submit' }, 'Sign in');
  fill(box, h('form', { onsubmit: async (e) => {
    e.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      await signIn(user.value.trim(), password.value);
      location.reload();
    } catch (err) {
      error.textContent = err.code === 40 ? 'Wrong user name or password.' : err.message;
      button.disabled = false;
      password.select();
    }
  } }, h('h1', {}, 'MediaStreamer'),
  h('label.field', {}, 'User name', user), h('label.field', {}, 'Password', password), error, button));
  user.focus();
}

function showSetup() {
  const box = document.getElementById('login');
  box.hidden = false;
  const user = h('input', { type: 'text', id: 'setup-user', autocomplete: 'username', required: true, value: 'admin' });
  const password = h('input', { type: 'password', id: 'setup-password', autocomplete: 'new-password', required: true });
  const again = h('input', { type: 'password', id: 'setup-again', autocomplete: 'new-password', required: true });
  const error = h('p.error-text', { role: 'alert' });
  fill(box, h('form', { onsubmit: async (e) => {
    e.preventDefault();
    if (password.value !== again.value) { error.textContent = 'The two passwords differ.'; return; }
    try {
      await createFirstAdmin(user.value.trim(), password.value);
      await signIn(user.value.trim(), password.value);
      location.reload();
    } catch (err) { error.textContent = err.message; }
  } }, h('h1', {}, 'Welcome'), h('p', {}, 'Create the administrator account of this server.'),
  h('label.field', {}, 'User name', user), h('label.field', {}, 'Password', password),
  h('label.field', {}, 'Password again', again), error,
  h('button.button.primary', { type: 'submit' }, 'Create and sign in')));
  password.focus();
}

function showApp() {
  document.getElementById('login').hidden = true;
  document.getElementById('app').hidden = false;
  document.getElementById('admin-link').hidden = !app.user.adminRole;
  const player = new Player();
  app.player = player;
  // For diagnostics and the end-to-end tests: the player and its engine.
  window.mediastreamer = { player, engine: player.engine };
  player.addEventListener('error', (e) => toast(e.detail, 'error'));
  renderBar(document.getElementById('player-bar'), player);
  renderQueue(document.getElementById('queue-panel'), player);
  library.bindSearch(document.getElementById('search'));
  setupMenu();
  setupKeys(player);
  player.addEventListener('change', markCurrent);
  player.addEventListener('state', markCurrent);
  startRouter(render);
  player.restore();
  import('./views/podcasts.js').then((m) => m.keepBookmarks(player)).catch(() => {});
}

let renderCount = 0;
async function render(view, params, query) {
  const main = document.getElementById('view');
  const run = ++renderCount;
  document.getElementById('sidebar').classList.remove('open');
  document.querySelectorAll('.sidebar a').forEach((a) => {
    const here = a.getAttribute('href') === location.pathname
      || (a.getAttribute('href') !== '/' && location.pathname.startsWith(a.getAttribute('href').replace(/s$/, '')));
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  if (!view) return fill(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '/' }, 'Go home')));
  try {
    if (location.pathname !== '/search') main.scrollTop = 0;
    await view(main, params, query);
    if (run !== renderCount) return;
    const title = main.querySelector('h1')?.textContent;
    document.title = title ? `${title} · MediaStreamer` : 'MediaStreamer';
    if (location.pathname !== '/search' && document.activeElement === document.body) main.focus({ preventScroll: true });
    markCurrent();
  } catch (e) {
    if (run === renderCount) fill(main, h('h1', {}, 'Something went wrong'), errorBox(e));
  }
}

/** Highlights the playing song wherever it is listed. */
function markCurrent() {
  const id = app.player?.song?.id;
  document.querySelectorAll('#view .track').forEach((row) => {
    row.classList.toggle('current', !!id && row.dataset.songId === id);
  });
}

function setupMenu() {
  const toggle = document.getElementById('menu-toggle');
  toggle.append(icon('menu'));
  const sidebar = document.getElementById('sidebar');
  toggle.addEventListener('click', () => {
    const open = sidebar.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
}

/** Space, ←/→ (seek 10 s), ↑/↓ (volume), / (search), n, p, m (mute), q (queue), l (now playing). */
function setupKeys(player) {
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    const typing = t.closest?.('textarea, select, [contenteditable], dialog')
      || (t.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button', 'submit'].includes(t.type));
    if (typing) {
      if (e.key === 'Escape' && t.id === 'search') t.blur();
      return;
    }
    const onControl = t.closest?.('button, a, [role="slider"], input[type="range"]');
    const actions = {
      ' ': () => { if (!onControl) player.toggle(); else return false; },
      ArrowLeft: () => (t.type === 'range' ? false : player.seek(player.position - 10)),
      ArrowRight: () => (t.type === 'range' ? false : player.seek(player.position + 10)),
      ArrowUp: () => (t.type === 'range' ? false : player.setVolume(Math.min(1, (player.engine.volume || 0) + 0.05))),
      ArrowDown: () => (t.type === 'range' ? false : player.setVolume(Math.max(0, (player.engine.volume || 0) - 0.05))),
      '/': () => document.getElementById('search').focus(),
      n: () => player.next(),
      p: () => player.previous(),
      m: () => player.toggleMute(),
      q: () => toggleQueue(),
      l: () => toggleNowPlaying(player),
      Escape: () => {
        if (!document.getElementById('now-playing').hidden) toggleNowPlaying(player);
        else if (!document.getElementById('queue-panel').hidden) toggleQueue();
        else return false;
      },
    };
    const action = actions[e.key];
    if (action && action() !== false) e.preventDefault();
  });
}

boot();
