// Settings: streaming quality, ReplayGain, theme; the account (password, API keys, sign out).

import { api, currentSession, signOut } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { applyTheme, settings } from '../settings.js';
import { app } from '../state.js';
import { scrobblingSection } from './scrobbling.js';

function choice(id, label, key, options, parse = (v) => v) {
  const select = h('select', { id, onchange: () => settings.set(key, parse(select.value)) },
    options.map(([value, text]) => h('option', { value, selected: String(settings.get(key)) === String(value) }, text)));
  return h('label.field', { for: id }, label, select);
}

export async function view(el) {
  const keys = h('ul.list-plain');
  const session = currentSession();
  const loadKeys = async () => {
    try {
      const r = await api('getApiKeys');
      const list = r.apiKeys.apiKey || [];
      fill(keys, list.length ? list.map((k) => h('li', {},
        h('span', {}, k.name, h('span.muted', {}, ` · created ${k.created.slice(0, 10)}${k.lastUsed ? ` · last used ${k.lastUsed.slice(0, 10)}` : ''}${String(k.id) === String(session?.apiKeyId) ? ' · this browser' : ''}`)),
        h('button.button.danger', { type: 'button', onclick: async () => {
          try { await api('deleteApiKey', { id: k.id }); loadKeys(); } catch (e) { toast(e.message, 'error'); }
        } }, 'Revoke'))) : h('li.muted', {}, 'No API keys.'));
    } catch (e) { fill(keys, h('li.muted', {}, e.message)); }
  };
  const current = h('input', { type: 'password', id: 'pw-new', autocomplete: 'new-password', required: true });
  const again = h('input', { type: 'password', id: 'pw-again', autocomplete: 'new-password', required: true });
  fill(el, h('h1', {}, 'Settings'),
    h('h2', {}, 'Playback'),
    choice('set-quality', 'Streaming quality', 'maxBitRate', [[0, 'Original files'], [320, 'MP3 320 kbps'], [256, 'MP3 256 kbps'], [192, 'MP3 192 kbps'], [128, 'MP3 128 kbps'], [96, 'MP3 96 kbps']], Number),
    h('p.muted', {}, 'Files this browser cannot play are sent as MP3 (at 320 kbps with “Original files”).'),
    choice('set-rg', 'ReplayGain', 'replayGain', [['track', 'Track gain'], ['album', 'Album gain'], ['off', 'Off']]),
    choice('set-preamp', 'ReplayGain pre-amplification', 'preamp', [[-6, '−6 dB'], [-3, '−3 dB'], [0, '0 dB'], [3, '+3 dB'], [6, '+6 dB']], Number),
    h('h2', {}, 'Appearance'),
    choice('set-theme', 'Theme', 'theme', [['system', 'Follow the system'], ['light', 'Light'], ['dark', 'Dark']]),
    scrobblingSection(),
    h('h2', {}, 'Account'),
    h('p', {}, `Signed in as ${app.user.username}${app.user.adminRole ? ' (administrator)' : ''}.`),
    h('form', { onsubmit: async (e) => {
      e.preventDefault();
      if (current.value !== again.value) return toast('The two passwords differ', 'error');
      try {
        await api('changePassword', { username: app.user.username, password: current.value });
        current.value = again.value = '';
        toast('Password changed');
      } catch (err) { toast(err.message, 'error'); }
    } }, h('label.field', {}, 'New password', current), h('label.field', {}, 'New password again', again),
    h('button.button', { type: 'submit' }, 'Change password')),
    h('h2', {}, 'API keys'),
    h('p.muted', {}, 'Apps can sign in with an API key instead of your password. This browser holds one of its own.'),
    keys,
    h('div.actions', {}, h('button.button.danger', { type: 'button', onclick: async () => { await signOut(); location.assign('/'); } }, 'Sign out')));
  settings.onChange((key) => { if (key === 'theme') applyTheme(); });
  loadKeys();
}
