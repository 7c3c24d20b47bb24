// The player's settings, kept in this browser (localStorage).

const STORE = 'mediastreamer.settings';
const DEFAULTS = {
  maxBitRate: 0, // 0: the original file; otherwise MP3 at this many kbps
  replayGain: 'track', // 'off' | 'track' | 'album'
  preamp: 0, // dB added to the ReplayGain value
  theme: 'system', // 'system' | 'light' | 'dark'
  volume: 0.8,
  muted: false,
};

let values = { ...DEFAULTS };
try { Object.assign(values, JSON.parse(localStorage.getItem(STORE)) || {}); } catch { /* defaults */ }
const listeners = new Set();

export const settings = {
  get: (key) => values[key],
  set(key, value) {
    values[key] = value;
    localStorage.setItem(STORE, JSON.stringify(values));
    listeners.forEach((fn) => fn(key, value));
  },
  onChange: (fn) => listeners.add(fn),
};

export function applyTheme() {
  const theme = values.theme;
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}
