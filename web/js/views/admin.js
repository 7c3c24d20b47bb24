// Administration: scan now (live progress), files the scans could not read, users (create,
// roles, delete, API keys) and the music folders. Loaded only when an admin opens it.

import { api } from '../api.js';
import { fill, h, plural, toast } from '../dom.js';
import { loading } from '../components.js';
import { app } from '../state.js';

const ROLES = [
  ['adminRole', 'Administrator'], ['settingsRole', 'Settings'], ['streamRole', 'Stream'], ['downloadRole', 'Download'],
  ['playlistRole', 'Playlists'], ['coverArtRole', 'Cover art'], ['commentRole', 'Comments'], ['shareRole', 'Sharing'],
];

let scanTimer = null;

export async function view(el) {
  if (!app.user.adminRole) return fill(el, h('h1', {}, 'Administration'), h('p.error-text', {}, 'Only administrators may open this page.'));
  const scan = h('section');
  const errors = h('section');
  const users = h('section');
  const folders = h('section');
  const loudness = h('section');
  fill(el, h('h1', {}, 'Administration'), scan, loudness, errors, users, folders);
  await Promise.all([scanSection(scan, errors), loudnessSection(loudness), errorsSection(errors), usersSection(users), foldersSection(folders)]);
}

async function scanSection(box, errorsBox) {
  const bar = h('div.progress', { role: 'progressbar', 'aria-label': 'Scan progress' }, h('div'));
  const text = h('p', { role: 'status', id: 'scan-status' });
  const poll = async () => {
    clearTimeout(scanTimer);
    if (!box.isConnected) return;
    try {
      const r = await api('getScanInfo');
      const s = r.scanInfo;
      bar.classList.toggle('indeterminate', s.scanning);
      bar.hidden = !s.scanning;
      text.textContent = s.scanning
        ? `Scanning… ${plural(s.count, 'file')} looked at`
        : `Idle: ${plural(s.count, 'track')} in the library${s.lastScan ? `, last scan ${new Date(s.lastScan).toLocaleString()}` : ''}.`;
      if (s.scanning) scanTimer = setTimeout(poll, 700);
      else if (box.dataset.wasScanning === 'true') errorsSection(errorsBox);
      box.dataset.wasScanning = String(s.scanning);
    } catch (e) { text.textContent = e.message; }
  };
  const start = async (fullScan) => {
    try {
      await api('startScan', { fullScan });
      box.dataset.wasScanning = 'true';
      poll();
    } catch (e) { toast(e.message, 'error'); }
  };
  fill(box, h('h2', {}, 'Library scan'), text, bar,
    h('div.actions', {},
      h('button.button.primary', { type: 'button', onclick: () => start(false) }, 'Scan now'),
      h('button.button', { type: 'button', onclick: () => start(true) }, 'Full rescan (re-read every file)')));
  await poll();
}

async function errorsSection(box) {
  fill(box, h('h2', {}, 'Files the last scans could not read'), loading());
  try {
    const r = await api('getScanErrors', { size: 500 });
    const list = r.scanErrors.scanError || [];
    fill(box, h('h2', {}, 'Files the last scans could not read'),
      list.length ? h('div.table-wrap', {}, h('table.data', {},
        h('caption.visually-hidden', {}, 'Unreadable files'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Folder'), h('th', { scope: 'col' }, 'File'), h('th', { scope: 'col' }, 'Why'))),
        h('tbody', {}, list.map((e) => h('tr', {}, h('td', {}, e.folder), h('td.path', {}, e.path), h('td', {}, e.reason)))))) : h('p.muted', {}, 'None: every file was read.'),
      r.scanErrors.count > list.length ? h('p.muted', {}, `${r.scanErrors.count - list.length} more not shown.`) : null);
  } catch (e) { fill(box, h('h2', {}, 'Files the last scans could not read'), h('p.error-text', {}, e.message)); }
}

async function usersSection(box) {
  const [r, f] = await Promise.all([api('getUsers'), api('getMusicFolders')]);
  const users = r.users.user || [];
  const allFolders = f.musicFolders.musicFolder || [];
  const table = h('table.data', {},
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'User'), h('th', { scope: 'col' }, 'Roles'), h('th', { scope: 'col' }, ''))),
    h('tbody', {}, users.map((u) => h('tr', {},
      h('td', {}, u.username, u.email ? h('div.muted', {}, u.email) : null),
      h('td', {}, ROLES.filter(([k]) => u[k]).map(([, l]) => l).join(', ') || '—'),
      h('td', {}, h('div.actions', {},
        h('button.button', { type: 'button', onclick: () => editUser(u, allFolders, () => usersSection(box)) }, 'Edit'),
        h('button.button', { type: 'button', onclick: () => userKeys(u) }, 'API keys'),
        u.username !== app.user.username ? h('button.button.danger', { type: 'button', onclick: async () => {
          if (!confirm(`Delete the user ${u.username}? Their playlists, stars and play queue go with them.`)) return;
          try { await api('deleteUser', { username: u.username }); usersSection(box); } catch (e) { toast(e.message, 'error'); }
        } }, 'Delete') : null))))));
  fill(box, h('h2', {}, 'Users'), h('div.table-wrap', {}, table),
    h('div.actions', {}, h('button.button.primary', { type: 'button', onclick: () => editUser(null, allFolders, () => usersSection(box)) }, 'New user')));
}

/** The create/edit dialog: name and password (new users), e-mail, roles, folders. */
function editUser(user, folders, done) {
  const isNew = !user;
  const u = user || { streamRole: true, settingsRole: true, playlistRole: true, coverArtRole: true, downloadRole: true, folder: folders.map((x) => x.id) };
  const name = h('input', { type: 'text', id: 'eu-name', required: true, value: u.username || '', disabled: !isNew, autocomplete: 'off' });
  const password = h('input', { type: 'password', id: 'eu-password', required: isNew, autocomplete: 'new-password', placeholder: isNew ? '' : 'unchanged' });
  const email = h('input', { type: 'email', id: 'eu-email', value: u.email || '' });
  const roleBoxes = ROLES.map(([key, label]) => [key, h('input', { type: 'checkbox', checked: !!u[key] }), label]);
  const folderBoxes = folders.map((f) => [f.id, h('input', { type: 'checkbox', checked: (u.folder || []).includes(f.id) }), f.name]);
  const dialog = h('dialog', { 'aria-labelledby': 'eu-title' });
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.append(h('form', { onsubmit: async (e) => {
    e.preventDefault();
    const params = { username: name.value.trim(), email: email.value.trim() || undefined };
    for (const [key, box] of roleBoxes) params[key] = box.checked;
    params.musicFolderId = folderBoxes.filter(([, box]) => box.checked).map(([id]) => id);
    if (password.value) params.password = password.value;
    try {
      await api(isNew ? 'createUser' : 'updateUser', params);
      toast(isNew ? `Created ${params.username}` : `Saved ${params.username}`);
      close();
      done();
    } catch (err) { toast(err.message, 'error'); }
  } },
  h('h2', { id: 'eu-title' }, isNew ? 'New user' : `Edit ${u.username}`),
  h('label.field', {}, 'Name', name),
  h('label.field', {}, isNew ? 'Password' : 'New password', password),
  h('label.field', {}, 'E-mail', email),
  h('fieldset', {}, h('legend', {}, 'Roles'), h('div.checks', {}, roleBoxes.map(([, box, label]) => h('label', {}, box, ` ${label}`)))),
  h('fieldset', {}, h('legend', {}, 'Music folders'), h('div.checks', {}, folderBoxes.map(([, box, label]) => h('label', {}, box, ` ${label}`)))),
  h('div.actions', {}, h('button.button.primary', { type: 'submit' }, isNew ? 'Create' : 'Save'), h('button.button', { type: 'button', onclick: close }, 'Cancel'))));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

/** A user's API keys: list, create (shown once), revoke. */
async function userKeys(user) {
  const dialog = h('dialog', { 'aria-labelledby': 'uk-title' });
  const list = h('ul.list-plain');
  const created = h('p', { role: 'status' });
  const label = h('input', { type: 'text', id: 'uk-label', placeholder: 'Label, e.g. phone' });
  const load = async () => {
    try {
      const r = await api('getApiKeys', { username: user.username });
      const keys = r.apiKeys.apiKey || [];
      fill(list, keys.length ? keys.map((k) => h('li', {}, h('span', {}, k.name, h('span.muted', {}, ` · ${k.created.slice(0, 10)}`)),
        h('button.button.danger', { type: 'button', onclick: async () => {
          try { await api('deleteApiKey', { id: k.id, username: user.username }); load(); } catch (e) { toast(e.message, 'error'); }
        } }, 'Revoke'))) : h('li.muted', {}, 'No API keys.'));
    } catch (e) { fill(list, h('li.error-text', {}, e.message)); }
  };
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.append(h('h2', { id: 'uk-title' }, `API keys of ${user.username}`), list,
    h('form.actions', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        const r = await api('createApiKey', { username: user.username, name: label.value.trim() || undefined });
        fill(created, 'New key (shown only now): ', h('code', {}, r.apiKey.key));
        load();
      } catch (err) { toast(err.message, 'error'); }
    } }, h('label.visually-hidden', { for: 'uk-label' }, 'Label'), label, h('button.button', { type: 'submit' }, 'Create key')),
    created,
    h('div.actions', {}, h('button.button', { type: 'button', onclick: close }, 'Close')));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  load();
}

async function foldersSection(box) {
  const r = await api('getMusicFolders');
  const list = r.musicFolders.musicFolder || [];
  fill(box, h('h2', {}, 'Music folders'),
    h('ul.list-plain', {}, list.map((f) => h('li', {}, h('span', {}, f.name), h('span.muted', {}, `id ${f.id}`)))),
    h('p.muted', {}, 'Folders are set in config.toml (library.folders); which users see which folder is set per user above.'));
}

let loudnessTimer = null;

// Loudness analysis (ReplayGain for untagged tracks): progress, start, re-measure, stop, and
// the tracks that could not be measured.
async function loudnessSection(box) {
  const bar = h('div.progress', { role: 'progressbar', 'aria-label': 'Loudness analysis progress' }, h('div'));
  const text = h('p', { role: 'status', id: 'loudness-status' });
  const failures = h('div');
  const poll = async () => {
    clearTimeout(loudnessTimer);
    if (!box.isConnected) return;
    try {
      const s = (await api('getLoudnessStatus')).loudnessStatus;
      const total = s.pending + s.measured + s.failed;
      bar.hidden = !s.running;
      bar.firstChild.style.width = `${total ? Math.round(100 * (s.measured + s.failed) / total) : 100}%`;
      bar.setAttribute('aria-valuenow', String(total ? Math.round(100 * (s.measured + s.failed) / total) : 100));
      const counts = `${plural(s.measured, 'track')} measured, ${s.failed} could not be, ${s.pending} waiting`;
      text.textContent = !s.enabled ? `Turned off (loudness.enabled): ${counts}.`
        : s.running ? `Measuring… ${counts} (${plural(s.runTracks, 'track')} in this run).`
          : `Idle: ${counts}${s.lastRun ? `; last run ${s.lastRunEnd} ${new Date(s.lastRun).toLocaleString()}` : ''}.`;
      const list = s.failure || [];
      fill(failures, list.length ? h('div.table-wrap', {}, h('table.data', {},
        h('caption.visually-hidden', {}, 'Tracks without a measured loudness'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'File'), h('th', { scope: 'col' }, 'Why'))),
        h('tbody', {}, list.map((f) => h('tr', {}, h('td.path', {}, f.path), h('td', {}, f.reason)))))) : null);
      if (s.running) loudnessTimer = setTimeout(poll, 1500);
    } catch (e) { text.textContent = e.message; }
  };
  const call = async (method, params) => {
    try { await api(method, params); poll(); } catch (e) { toast(e.message, 'error'); }
  };
  fill(box, h('h2', {}, 'Loudness (ReplayGain for untagged tracks)'), text, bar,
    h('div.actions', {},
      h('button.button', { type: 'button', onclick: () => call('startLoudnessAnalysis', {}) }, 'Measure now'),
      h('button.button', { type: 'button', onclick: () => call('startLoudnessAnalysis', { full: true }) }, 'Measure everything again'),
      h('button.button', { type: 'button', onclick: () => call('stopLoudnessAnalysis', {}) }, 'Stop')),
    failures);
  await poll();
}
