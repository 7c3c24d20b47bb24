// Internet radio: the stations the server knows (getInternetRadioStations), played live.
// A station streams from its own host, outside the gapless engine: a plain <audio> element.

import { api, ApiError } from '../api.js';
import { fill, h, toast } from '../dom.js';
import { loading } from '../components.js';
import { app } from '../state.js';

let radio = null; // the <audio> playing a station
let playingId = null;

function stopRadio() {
  radio?.pause();
  radio = null;
  playingId = null;
}

export async function stations(view) {
  fill(view, h('h1', {}, 'Internet radio'), loading());
  let list;
  try {
    const r = await api('getInternetRadioStations');
    list = r.internetRadioStations.internetRadioStation || [];
  } catch (e) {
    if (e instanceof ApiError && e.code === 0 && /unknown/i.test(e.message)) {
      return fill(view, h('h1', {}, 'Internet radio'), h('p.empty', {}, 'This server does not offer internet radio.'));
    }
    throw e;
  }
  const admin = app.user.adminRole;
  const rows = h('ul.list-plain');
  const paint = () => fill(rows, list.length ? list.map((s) => h('li', {},
    h('span', {}, h('strong', {}, s.name), h('span.muted', {}, ` · ${s.streamUrl}`)),
    h('span.actions', {},
      h('button.button', { type: 'button', 'aria-pressed': playingId === s.id ? 'true' : 'false', onclick: () => {
        if (playingId === s.id) { stopRadio(); return paint(); }
        stopRadio();
        if (app.player.playing) app.player.toggle();
        radio = new Audio(s.streamUrl);
        playingId = s.id;
        if (window.mediastreamer) window.mediastreamer.radio = radio;
        radio.play().catch((e) => { toast(`Cannot play ${s.name}: ${e.message}`, 'error'); stopRadio(); paint(); });
        paint();
      } }, playingId === s.id ? 'Stop' : 'Play'),
      s.homePageUrl ? h('a.button', { href: s.homePageUrl, target: '_blank', rel: 'noopener noreferrer' }, 'Website') : null,
      admin ? h('button.button.danger', { type: 'button', onclick: async () => {
        try { await api('deleteInternetRadioStation', { id: s.id }); list = list.filter((x) => x !== s); paint(); } catch (e) { toast(e.message, 'error'); }
      } }, 'Delete') : null))) : h('li.muted', {}, 'No stations yet.'));
  paint();
  const name = h('input', { type: 'text', id: 'radio-name', required: true });
  const url = h('input', { type: 'text', id: 'radio-url', required: true, inputmode: 'url', placeholder: 'https://…' });
  const home = h('input', { type: 'text', id: 'radio-home', inputmode: 'url', placeholder: 'https://… (optional)' });
  fill(view, h('h1', {}, 'Internet radio'), rows,
    admin ? h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('createInternetRadioStation', { name: name.value.trim(), streamUrl: url.value.trim(), homepageUrl: home.value.trim() || undefined });
        const r = await api('getInternetRadioStations');
        list = r.internetRadioStations.internetRadioStation || [];
        name.value = url.value = home.value = '';
        paint();
      } catch (err) { toast(err.message, 'error'); }
    } }, h('h2', {}, 'Add a station'),
    h('label.field', {}, 'Name', name), h('label.field', {}, 'Stream URL', url), h('label.field', {}, 'Website', home),
    h('button.button.primary', { type: 'submit' }, 'Add')) : null);
}

/** The music player took over: the radio stops. */
export function onPlayerStart() { stopRadio(); }
