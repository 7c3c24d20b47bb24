// Settings › Scrobbling: the user's links to the ListenBrainz and Last.fm services the server
// is configured for (link, unlink, status with a broken link's reason, pending count, loving
// starred songs on Last.fm). Through our methods getScrobbleServices, linkListenBrainz,
// getLastFmAuthUrl, updateScrobbleService and unlinkScrobbleService.

import { api } from '../api.js';
import { fill, h, plural, toast } from '../dom.js';

function status(s) {
  if (!s.linked) return h('p.muted', {}, 'Not linked.');
  return h('div', {},
    h('p', {}, `Linked${s.account ? ` as ${s.account}` : ''}`,
      h('span.muted', {}, ` · ${s.pending ? `${plural(s.pending, 'listen')} waiting to be sent` : 'nothing waiting'}`)),
    s.brokenReason && h('p.error-text', { role: 'alert' },
      `Stopped: the service no longer accepts this link (${s.brokenReason}). Link it again to send what waits.`),
    !s.brokenReason && s.lastError && h('p.muted', {}, `Last try failed, retrying: ${s.lastError}`));
}

function serviceBlock(s, show) {
  const run = (fn) => async (e) => {
    e?.preventDefault?.();
    try { show(await fn()); } catch (err) { toast(err.message, 'error'); }
  };
  const unlink = s.linked && h('button.button.danger', { type: 'button',
    onclick: run(() => api('unlinkScrobbleService', { service: s.id })) }, 'Unlink');
  let controls;
  if (s.type === 'listenbrainz') {
    const token = h('input', { type: 'password', id: `scrobble-token-${s.id}`, autocomplete: 'off', required: true, placeholder: 'User token' });
    controls = (!s.linked || s.brokenReason)
      ? h('form.scrobble-link', { onsubmit: run(() => api('linkListenBrainz', { service: s.id, token: token.value.trim() })) },
        h('label.field', { for: token.id }, `${s.name} user token`, token),
        h('button.button', { type: 'submit' }, s.linked ? 'Link again' : 'Link'))
      : null;
  } else {
    const link = (!s.linked || s.brokenReason) && h('button.button', { type: 'button', onclick: async () => {
      try { location.assign((await api('getLastFmAuthUrl')).lastFmAuth.url); } catch (err) { toast(err.message, 'error'); }
    } }, s.linked ? 'Link with Last.fm again' : 'Link with Last.fm');
    const love = s.linked && h('label.field', {}, h('input', { type: 'checkbox', id: `scrobble-love-${s.id}`, checked: !!s.loveOnStar,
      onchange: run(() => api('updateScrobbleService', { service: s.id, loveOnStar: String(love.querySelector('input').checked) })) }),
    ' Love songs on Last.fm when I star them');
    controls = [love, link];
  }
  return h('section.scrobble-service', { dataset: { service: s.id } },
    h('h3', {}, s.name), status(s), controls, h('div.actions', {}, unlink));
}

/** The Scrobbling section of Settings. */
export function scrobblingSection() {
  const body = h('div', {}, h('p.muted', { role: 'status' }, 'Loading…'));
  const show = (r) => {
    const services = r.scrobbleServices.service || [];
    fill(body, services.length
      ? services.map((s) => serviceBlock(s, show))
      : h('p.muted', {}, 'No scrobbling service is configured on this server.'));
  };
  api('getScrobbleServices').then(show).catch((e) => fill(body, h('p.error-text', {}, e.message)));
  return h('div', {}, h('h2', {}, 'Scrobbling'),
    h('p.muted', {}, 'Plays are always counted here. Link an account to send your listens to it too; while a service is down they wait on the server and go out later, in order.'),
    body);
}
