// The Subsonic/OpenSubsonic client: JSON only, every call a form POST to /rest/METHOD (the
// formPost extension), every failed envelope thrown as an ApiError the views show.
// The session (user name + API key, or user name + token + salt) lives in localStorage;
// the password never does.

import { md5 } from './md5.js';

const STORE = 'mediastreamer.session';
const CLIENT = 'MediaStreamer Web';
const VERSION = '1.16.1';

export class ApiError extends Error {
  constructor(code, message) {
    super(message || `Error ${code}`);
    this.code = code;
  }
  /** Credentials that no longer work (wrong password, revoked key). */
  get isAuth() { return this.code === 40 || this.code === 44 || this.code === 41; }
}

let session = load();
const authListeners = new Set();

function load() {
  try { return JSON.parse(localStorage.getItem(STORE)) || null; } catch { return null; }
}

export function currentSession() { return session; }
export function onAuthLost(fn) { authListeners.add(fn); }

function authParams(s = session) {
  if (!s) return {};
  if (s.apiKey) return { apiKey: s.apiKey };
  return { u: s.user, t: s.token, s: s.salt };
}

function randomSalt() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function body(params, auth) {
  const form = new URLSearchParams({ ...auth, v: VERSION, c: CLIENT, f: 'json' });
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((item) => form.append(k, item));
    else form.append(k, v);
  }
  return form;
}

async function post(method, params, auth, signal) {
  let response;
  try {
    response = await fetch(`/rest/${method}`, { method: 'POST', body: body(params, auth), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server cannot be reached');
  }
  let json;
  try { json = await response.json(); } catch { throw new ApiError(0, `The server answered ${response.status}`); }
  const r = json['subsonic-response'];
  if (!r) throw new ApiError(0, 'Not a Subsonic response');
  if (r.status !== 'ok') throw new ApiError(r.error?.code ?? 0, r.error?.message);
  return r;
}

/** Calls `method` with `params` (arrays become repeated keys); resolves to the payload. */
export async function api(method, params = {}, { signal } = {}) {
  try {
    return await post(method, params, authParams(), signal);
  } catch (e) {
    if (e instanceof ApiError && e.isAuth && session) {
      signOutLocally();
      authListeners.forEach((fn) => fn(e));
    }
    throw e;
  }
}

/** Signs in: checks the password by token, then trades it for an API key of its own when the
 * server offers one (revocable, and no password-derived secret is kept). */
export async function signIn(user, password) {
  const salt = randomSalt();
  const tokenAuth = { u: user, t: md5(password + salt), s: salt };
  await post('ping', {}, tokenAuth);
  let next = { user, token: tokenAuth.t, salt };
  try {
    const label = `Web player, ${browserName()}, ${new Date().toISOString().slice(0, 10)}`;
    const r = await post('createApiKey', { name: label }, tokenAuth);
    if (r.apiKey?.key) next = { user, apiKey: r.apiKey.key, apiKeyId: r.apiKey.id };
  } catch {
    // No API keys for this user (settings role) or server: token and salt it is.
  }
  session = next;
  localStorage.setItem(STORE, JSON.stringify(session));
  return session;
}

/** Signs out: revokes this browser's API key, then forgets the session. */
export async function signOut() {
  if (session?.apiKeyId) {
    try { await post('deleteApiKey', { id: session.apiKeyId }, authParams()); } catch { /* gone already */ }
  }
  signOutLocally();
}

function signOutLocally() {
  session = null;
  localStorage.removeItem(STORE);
}

function browserName() {
  const ua = navigator.userAgent;
  for (const name of ['Firefox', 'Edg', 'Chrome', 'Safari']) if (ua.includes(name)) return name === 'Edg' ? 'Edge' : name;
  return 'browser';
}

function query(params) {
  const q = new URLSearchParams({ ...authParams(), v: VERSION, c: CLIENT });
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  return q.toString();
}

/** URL of a track's audio: the original, or MP3 at `maxBitRate` kbps when it is set (and
 * always MP3 with `format: 'mp3'`, the server's transcode of what the browser cannot play). */
export function streamUrl(id, maxBitRate = 0, format = undefined) {
  return `/rest/stream?${query({ id, maxBitRate: maxBitRate || undefined, format })}`;
}

/** URL of cover art scaled to `size` px (the server never enlarges). */
export function coverUrl(coverArt, size) {
  return coverArt ? `/rest/getCoverArt?${query({ id: coverArt, size })}` : '';
}

/** First-run setup: whether the server still has no account. */
export async function setupNeeded() {
  try {
    const r = await fetch('/setup');
    return r.ok && (await r.json()).needed === true;
  } catch { return false; }
}

/** Creates the first administrator on a fresh install. */
export async function createFirstAdmin(username, password) {
  const r = await fetch('/setup', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) {
    let message = `Setup failed (${r.status})`;
    try { message = (await r.json()).error || message; } catch { /* keep the status */ }
    throw new ApiError(0, message);
  }
}

/** Sends a form call that must survive the page closing (the queue on pagehide). */
export function beacon(method, params) {
  if (!session) return false;
  return navigator.sendBeacon(`/rest/${method}`, body(params, authParams()));
}
