// End-to-end test of the web player in Debian's headless Chromium, driven by playwright-core.
// Run by tests/web_player.rs, which starts the server on a generated library and passes:
//   BASE_URL, CHROMIUM (the browser binary), SCREENSHOTS (a folder), TRACK_SECONDS, TONE_HZ,
//   TONE_RATE, TONE_RATE_48K, SETUP_URL (a second server with no account yet) and FORMATS_URL
//   (a server on a library of formats Chromium cannot play, files nothing can decode, and the
//   gapless tone at 48 kHz).
// Users: admin/adminpw (administrator) and bob/bobpw. The album "Gapless Live" by
// "The Continuous" holds three tracks that split one continuous sine tone.
// Prints one line per step and a closing "N passed, M failed"; exits non-zero on failure.

import { chromium } from 'playwright-core';
import path from 'node:path';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOTS;
const TRACK_SECONDS = Number(process.env.TRACK_SECONDS || 4);
const TONE_HZ = Number(process.env.TONE_HZ || 441);
const TONE_RATE = Number(process.env.TONE_RATE || 44100);
const TONE_RATE_48K = Number(process.env.TONE_RATE_48K || 48000);
const FORMATS = process.env.FORMATS_URL;
if (!BASE || !SHOTS || !process.env.CHROMIUM || !process.env.SETUP_URL || !FORMATS) {
  console.error('BASE_URL, SETUP_URL, FORMATS_URL, SCREENSHOTS and CHROMIUM must be set (tests/web_player.rs sets them)');
  process.exit(2);
}

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

let passed = 0;
let failed = 0;
const consoleErrors = [];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function waitFor(page, fn, arg, what, timeout = 15000) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch {
    throw new Error(`timed out waiting for ${what}`);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Collects the page's console errors; with `loadErrors: false`, not the browser's own notes
 * of a resource that failed to load (expected where files cannot be decoded). */
function watch(page, label, { loadErrors = true } = {}) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (!loadErrors && /^Failed to load resource/.test(msg.text())) return;
    consoleErrors.push(`${label}: ${msg.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${label}: uncaught ${e.message}`));
}

async function signIn(page, user, password, base = BASE) {
  await page.goto(base);
  await page.locator('#login-user').fill(user);
  await page.locator('#login-password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.locator('#view h1').waitFor();
}

/** Controls on the page without an accessible name (text, aria-label, title or a label). */
async function unnamedControls(page) {
  return page.locator('button, input:not([type="hidden"]), select, a[href]').evaluateAll((els) => els
    .filter((el) => el.getClientRects().length)
    .filter((el) => !((el.textContent || '').trim() || el.getAttribute('aria-label') || el.title || el.labels?.length || el.querySelector('img[alt]:not([alt=""])')))
    .map((el) => el.outerHTML.slice(0, 120)));
}

async function checkNames(page, where) {
  const unnamed = await unnamedControls(page);
  check(unnamed.length === 0, `${where}: controls without a name:\n  ${unnamed.join('\n  ')}`);
}

const player = (page, expr) => page.evaluate(`(() => { const p = window.mediastreamer.player; return ${expr}; })()`);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: FLAGS, headless: true });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
watch(page, 'desktop');
page.on('dialog', (d) => d.accept(d.type() === 'prompt' ? 'Road trip (renamed)' : undefined));

const steps = [];
const step = (name, fn) => steps.push([name, fn]);

step('a fresh install offers the one-time administrator setup', async () => {
  const fresh = await browser.newContext();
  const setup = await fresh.newPage();
  watch(setup, 'setup');
  await setup.goto(process.env.SETUP_URL);
  await setup.getByRole('heading', { name: 'Welcome' }).waitFor();
  await shot(setup, 'setup');
  await setup.locator('#setup-user').fill('owner');
  await setup.locator('#setup-password').fill('first secret');
  await setup.locator('#setup-again').fill('first secret');
  await setup.getByRole('button', { name: 'Create and sign in' }).click();
  await setup.locator('#app').waitFor({ state: 'visible' });
  check(await setup.locator('#admin-link').isVisible(), 'the new owner is no administrator');
  const r = await setup.evaluate(async () => (await fetch('/setup')).json());
  check(r.needed === false, 'setup still offered');
  await fresh.close();
});

step('a wrong password is refused with a message', async () => {
  await page.goto(BASE);
  await page.locator('#login-user').fill('admin');
  await page.locator('#login-password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Wrong user name or password.').waitFor();
  await shot(page, 'login');
});

step('sign in keeps an API key, never the password', async () => {
  await signIn(page, 'admin', 'adminpw');
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  check(!stored.includes('adminpw'), 'the password is in localStorage');
  const session = JSON.parse(await page.evaluate(() => localStorage.getItem('mediastreamer.session')));
  check(session.user === 'admin' && session.apiKey, `session: ${JSON.stringify(session)}`);
  await page.getByRole('heading', { name: 'Recently added' }).waitFor();
  await page.locator('.row-scroll .card').first().waitFor();
  await checkNames(page, 'home');
  await shot(page, 'home');
});

step('browse: artists A–Z with album counts, artist page, album page with tracks', async () => {
  await page.getByRole('link', { name: 'Artists', exact: true }).click();
  await page.getByRole('link', { name: 'The Continuous' }).waitFor();
  check(await page.getByText('1 album').count() >= 1, 'no album count');
  await shot(page, 'artists');
  await page.getByRole('link', { name: 'The Continuous' }).click();
  await page.getByRole('heading', { name: 'The Continuous', level: 1 }).waitFor();
  await page.locator('.grid .card a.title', { hasText: 'Gapless Live' }).click();
  await page.getByRole('heading', { name: 'Gapless Live' }).waitFor();
  const rows = page.locator('.track');
  check(await rows.count() === 3, `album rows: ${await rows.count()}`);
  check((await rows.nth(0).locator('.time').textContent()) === '0:04', 'duration not shown as 0:04');
  check((await page.locator('.detail-head img.cover').getAttribute('src')).includes('size='), 'cover without size=');
  await checkNames(page, 'album');
  await shot(page, 'album');
});

step('browse: genres, folders and the list of all songs', async () => {
  await page.getByRole('link', { name: 'Genres' }).click();
  await page.getByRole('link', { name: 'Live' }).click();
  await page.locator('.grid .card a.title', { hasText: 'Gapless Live' }).waitFor();
  check(await page.locator('.track').count() === 3, 'the Live genre lists 3 songs');
  await page.getByRole('link', { name: 'Folders' }).click();
  await page.getByRole('link', { name: 'The Continuous' }).click();
  await page.getByRole('link', { name: 'Gapless Live' }).click();
  await page.locator('.track .name button', { hasText: 'Closing' }).waitFor();
  await page.getByRole('link', { name: 'Songs' }).click();
  await waitFor(page, () => document.querySelectorAll('.tracks .track').length === 5, null, 'all 5 songs');
  await page.getByRole('link', { name: 'Albums' }).click();
  await page.locator('.grid .card a.title', { hasText: 'Gapless Live' }).click();
  await page.getByRole('heading', { name: 'Gapless Live' }).waitFor();
});

step('play: the audio clock advances and the bar follows', async () => {
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(page, () => window.mediastreamer?.player.playing && window.mediastreamer.engine.position > 0.3, null, 'playback to start');
  const a = await player(page, 'p.position');
  await page.waitForTimeout(600);
  const b = await player(page, 'p.position');
  check(b > a + 0.3, `position did not advance: ${a} → ${b}`);
  check(await player(page, 'p.song.title') === 'Opening', 'not playing the first track');
  check((await page.locator('.pb-title').textContent()) === 'Opening', 'bar does not show the song');
  await waitFor(page, () => document.getElementById('elapsed').textContent !== '0:00', null, 'the elapsed time');
  const session = await page.evaluate(() => `${navigator.mediaSession.metadata?.title}/${navigator.mediaSession.playbackState}`);
  check(session === 'Opening/playing', `media session: ${session}`);
  check(await page.evaluate(() => !window.mediastreamer.engine.presence.paused), 'no media element keeps the session');
});

step('seek with the seek bar', async () => {
  await page.locator('#seek').fill('2.5');
  await page.waitForTimeout(200);
  const pos = await player(page, 'p.position');
  check(pos >= 2.4 && pos < 3.3, `position after seeking to 2.5: ${pos}`);
});

/** Records the player's output across the transition from the queue's first track to its
 * second (a continuous tone split in two) and checks that it is one unbroken tone at
 * `expectedRate`: the sine recurrence holds at every sample, nothing falls silent, and the
 * tone's phase after the transition is the phase before it carried on sample for sample (a
 * gap or an overlap of a single sample shifts it). Nothing here takes the engine's word for
 * its timing. */
async function checkGapless(page, expectedRate) {
  for (let attempt = 1; ; attempt++) {
    const result = await recordTransition(page);
    // The recorder runs on the page's main thread: on a loaded machine it can miss a block,
    // which its timestamps show. That says nothing of the player: record again.
    if (result.lostBlocks && attempt < 3) {
      console.log(`   (the recorder lost ${result.lostBlocks} blocks; recording again)`);
      await page.evaluate(() => window.mediastreamer.player.jump(0));
      await waitFor(page, () => window.mediastreamer.player.playing && window.mediastreamer.player.index === 0
        && window.mediastreamer.engine.position > 0.3, null, 'the first track again');
      continue;
    }
    check(result.lostBlocks === 0, `the recorder lost ${result.lostBlocks} blocks three times`);
    return judgeGapless(result, expectedRate);
  }
}

async function recordTransition(page) {
  await page.locator('#seek').fill(String(TRACK_SECONDS - 1.2));
  await page.waitForTimeout(150);
  await page.evaluate(() => {
    const { engine } = window.mediastreamer;
    const node = engine.ctx.createScriptProcessor(1024, 1, 1);
    const chunks = [];
    node.onaudioprocess = (e) => {
      chunks.push({ at: e.playbackTime, x: Float32Array.from(e.inputBuffer.getChannelData(0)) });
      e.outputBuffer.getChannelData(0).fill(0);
    };
    engine.master.connect(node);
    node.connect(engine.ctx.destination);
    window.recording = { node, chunks };
  });
  await waitFor(page, () => window.mediastreamer.player.index === 1 && window.mediastreamer.engine.position > 0.5, null, 'track 2');
  return page.evaluate((hz) => {
    const { engine } = window.mediastreamer;
    const { node, chunks } = window.recording;
    engine.master.disconnect(node);
    node.disconnect();
    const rate = engine.ctx.sampleRate;
    // Leave out the first and last blocks (the recorder's own start and stop).
    const kept = chunks.slice(2, -2);
    const n = kept.reduce((t, c) => t + c.x.length, 0);
    const x = new Float32Array(n);
    let at = 0;
    for (const c of kept) { x.set(c.x, at); at += c.x.length; }
    // A sine obeys x[n+1] = 2cos(w)x[n] - x[n-1]: any gap, overlap or jump breaks it.
    const w = (2 * Math.PI * hz) / rate;
    const c2 = 2 * Math.cos(w);
    let worst = 0;
    let peak = 0;
    let silent = 0;
    let longestSilence = 0;
    for (let i = 1; i < n - 1; i++) {
      worst = Math.max(worst, Math.abs(x[i + 1] - c2 * x[i] + x[i - 1]));
      peak = Math.max(peak, Math.abs(x[i]));
    }
    for (let i = 0; i < n; i++) {
      silent = Math.abs(x[i]) < peak * 0.02 ? silent + 1 : 0;
      longestSilence = Math.max(longestSilence, silent);
    }
    // Phase of the tone (least squares fit of a·sin(wi) + b·cos(wi), i counted from the
    // recording's start) in its first and last 4096 samples: equal when no sample was lost
    // or doubled in between.
    const phase = (from, count) => {
      let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
      for (let i = from; i < from + count; i++) {
        const si = Math.sin(w * i), ci = Math.cos(w * i);
        ss += si * si; cc += ci * ci; sc += si * ci; xs += x[i] * si; xc += x[i] * ci;
      }
      const det = ss * cc - sc * sc;
      return Math.atan2((ss * xc - sc * xs) / det, (cc * xs - sc * xc) / det);
    };
    let drift = phase(n - 4096, 4096) - phase(0, 4096);
    drift = Math.atan2(Math.sin(drift), Math.cos(drift));
    const t = engine.transitions.findLast((tr) => tr.to.startsWith(window.mediastreamer.player.queue[1].id + '@'));
    // The recording's span on the context's clock (the recorder delays it by a block or two).
    const span = [kept[0].at, kept.at(-1).at + kept.at(-1).x.length / rate];
    let lostBlocks = 0;
    for (let i = 1; i < kept.length; i++) {
      if (Math.abs(kept[i].at - kept[i - 1].at - kept[i - 1].x.length / rate) > 0.5 / rate) lostBlocks++;
    }
    return { seconds: n / rate, rate, worst, peak, longestSilence, driftSamples: drift / w, span, transition: t, lostBlocks };
  }, TONE_HZ);
}

function judgeGapless(result, expectedRate) {
  const t = result.transition;
  check(t, 'no transition recorded');
  console.log(`   gapless: ${result.seconds.toFixed(2)} s recorded across the transition at ${result.rate} Hz; `
    + `largest deviation from the continuous tone ${result.worst.toExponential(2)} (peak ${result.peak.toFixed(3)}); `
    + `phase drift ${result.driftSamples.toFixed(3)} samples; longest near-silence ${result.longestSilence} samples; `
    + `scheduled ahead: ${t.exact}`);
  check(result.rate === expectedRate, `the AudioContext runs at ${result.rate} Hz, not ${expectedRate}`);
  check(result.seconds > 1, 'recording too short');
  const slack = 0.1;
  check(result.span[0] + slack < t.previousEnd && t.previousEnd < result.span[1] - slack,
    `the recording (${result.span}) does not cover the transition at ${t.previousEnd}`);
  check(t.exact, `the next track was not scheduled ahead: ${JSON.stringify(t)}`);
  // The album is untagged, so the server's measured ReplayGain (the player's default "track"
  // mode) plays it quieter than the files; the other checks are relative to the peak.
  check(result.peak > 0.02, `no signal recorded (peak ${result.peak})`);
  check(result.longestSilence < 8, `a gap of ${result.longestSilence} silent samples`);
  check(result.worst < result.peak * 0.02, `the tone breaks at the transition (deviation ${result.worst})`);
  check(Math.abs(result.driftSamples) < 0.25, `the tone after the transition is ${result.driftSamples} samples off`);
}

step('gapless: the next track starts on the sample the previous one ends', async () => {
  await checkGapless(page, TONE_RATE);
});

step('next track and previous with the buttons', async () => {
  await page.getByRole('button', { name: 'Next (n)' }).click();
  await waitFor(page, () => window.mediastreamer.player.index === 2 && window.mediastreamer.player.playing, null, 'track 3');
  check((await page.locator('.pb-title').textContent()) === 'Closing', 'bar does not show track 3');
  await page.getByRole('button', { name: 'Previous (p)' }).click();
  await waitFor(page, () => window.mediastreamer.player.index === 1, null, 'back to track 2');
});

step('keyboard: space pauses and plays, n skips', async () => {
  // Start from a known state: the tracks are 4 s long, so on a loaded machine the one the
  // previous step left playing may already be ending (or over) by now.
  await page.evaluate(() => window.mediastreamer.player.jump(1));
  await waitFor(page, () => window.mediastreamer.player.playing && window.mediastreamer.player.index === 1
    && window.mediastreamer.engine.position > 0.05 && window.mediastreamer.engine.position < 2, null, 'the second track to play');
  await page.locator('#view').focus();
  await page.keyboard.press('Space');
  await waitFor(page, () => !window.mediastreamer.player.playing && window.mediastreamer.engine.ctx.state === 'suspended', null, 'pause');
  const a = await player(page, 'p.position');
  await page.waitForTimeout(400);
  check(Math.abs((await player(page, 'p.position')) - a) < 0.01, 'position moves while paused');
  await page.keyboard.press('Space');
  await waitFor(page, () => window.mediastreamer.player.playing, null, 'play again');
  await page.keyboard.press('n');
  await waitFor(page, () => window.mediastreamer.player.index === 2, null, 'n to skip');
});

step('long tracks stream through a media element and still advance', async () => {
  await page.evaluate(() => { window.mediastreamer.engine.maxBufferSeconds = 3; window.mediastreamer.player.jump(0); });
  await waitFor(page, () => window.mediastreamer.engine.current?.el && window.mediastreamer.engine.position > 0.3, null, 'streamed playback');
  await page.locator('#seek').fill(String(TRACK_SECONDS - 0.8));
  await waitFor(page, () => window.mediastreamer.player.index === 1 && window.mediastreamer.engine.position > 0.2, null, 'the next streamed track');
  const last = await page.evaluate(() => window.mediastreamer.engine.transitions.at(-1));
  check(last.exact === false, 'a streamed transition claims to be exact');
  await page.evaluate(() => { window.mediastreamer.engine.maxBufferSeconds = 720; });
});

step('now playing: large art and synced lyrics that follow the music', async () => {
  await page.evaluate(() => window.mediastreamer.player.jump(0));
  await page.keyboard.press('l');
  await page.locator('#now-playing .lyrics p', { hasText: 'First line of the opening' }).waitFor();
  await waitFor(page, () => document.querySelector('#now-playing .lyrics p.active')?.textContent === 'Second line', null, 'the second lyric line to light up');
  await shot(page, 'now-playing');
  await page.keyboard.press('Escape');
  check(await page.locator('#now-playing').isHidden(), 'now playing did not close');
});

step('a now-playing scrobble at the start and a play at half the track', async () => {
  await page.evaluate(() => window.mediastreamer.player.jump(1));
  await waitFor(page, () => window.mediastreamer.player.playing && window.mediastreamer.player.song.title === 'Middle', null, 'Middle to play');
  const call = (method, params) => page.evaluate(async ([m, q]) => {
    const key = JSON.parse(localStorage.getItem('mediastreamer.session')).apiKey;
    return (await (await fetch(`/rest/${m}?f=json&apiKey=${key}&${q}`)).json())['subsonic-response'];
  }, [method, params]);
  await page.waitForTimeout(300);
  const now = await call('getNowPlaying', '');
  check(now.nowPlaying.entry?.some((e) => e.title === 'Middle'), `not in now playing: ${JSON.stringify(now.nowPlaying)}`);
  const id = await player(page, 'p.song.id');
  const before = (await call('getSong', `id=${id}`)).song.playCount || 0;
  await page.waitForTimeout(2600); // half of the 4-second track, and the scrobble's round trip
  const after = (await call('getSong', `id=${id}`)).song.playCount || 0;
  check(after === before + 1, `play count ${before} → ${after}`);
});

step('queue: add, play next, reorder, remove, clear', async () => {
  await page.keyboard.press('Space'); // pause for stable edits
  await page.getByRole('button', { name: 'Add to queue' }).click();
  check(await player(page, 'p.queue.length') === 6, 'add to queue');
  await page.getByRole('button', { name: 'Queue (q)' }).click();
  const items = page.locator('#queue-panel .queue-list li');
  await items.nth(5).waitFor();
  check(await items.count() === 6, 'queue panel rows');
  await shot(page, 'queue');
  await page.getByRole('button', { name: 'Move Closing up' }).last().click();
  let titles = await player(page, 'p.queue.map((s) => s.title).join(",")');
  check(titles === 'Opening,Middle,Closing,Opening,Closing,Middle', `after moving up: ${titles}`);
  // Drag the last song to the top.
  await items.nth(5).dragTo(items.nth(1));
  titles = await player(page, 'p.queue.map((s) => s.title).join(",")');
  check(titles === 'Opening,Middle,Middle,Closing,Opening,Closing', `after dragging: ${titles}`);
  await page.getByRole('button', { name: 'Remove Closing from the queue' }).last().click();
  check(await player(page, 'p.queue.length') === 5, 'remove');
  await page.locator('#queue-panel').getByRole('button', { name: 'Clear' }).click();
  check(await player(page, 'p.queue.length') === 0, 'clear');
  await page.keyboard.press('Escape');
});

step('a queue of 100,000 songs opens fast: only the rows in view are in the page', async () => {
  const took = await page.evaluate(() => {
    const p = window.mediastreamer.player;
    const songs = [];
    for (let i = 0; i < 100000; i++) songs.push({ ...p.queue[0] || {}, id: `tr-${(i % 3) + 1}`, title: `Song ${i}`, duration: 4 });
    const started = performance.now();
    p.add(songs);
    document.getElementById('queue-button').click();
    return performance.now() - started;
  });
  const rows = await page.locator('#queue-panel .queue-list li').count();
  console.log(`   100,000-song queue: shown in ${took.toFixed(0)} ms with ${rows} rows in the page`);
  check(rows > 5 && rows < 80, `${rows} rows in the page`);
  check(took < 1000, `took ${took} ms`);
  await page.locator('#queue-panel .queue-scroll').evaluate((el) => { el.scrollTop = 52 * 60000; });
  await page.locator('#queue-panel li', { hasText: 'Song 60000' }).waitFor();
  await page.locator('#queue-panel').getByRole('button', { name: 'Clear' }).click();
  await page.keyboard.press('Escape');
});

step('search as you type finds artists, albums and songs', async () => {
  await page.locator('#view').focus();
  await page.keyboard.press('/');
  check(await page.evaluate(() => document.activeElement.id) === 'search', '/ does not focus the search');
  await page.keyboard.type('polka', { delay: 40 });
  await page.getByRole('heading', { name: 'Results for “polka”' }).waitFor();
  await page.locator('.track .name button', { hasText: 'Brief Polka' }).waitFor();
  await page.locator('#search').fill('continuous');
  await page.getByRole('heading', { name: 'Results for “continuous”' }).waitFor();
  await page.locator('.card a.title', { hasText: 'The Continuous' }).waitFor();
  await shot(page, 'search');
});

step('star a song and find it in favourites', async () => {
  await page.goto(`${BASE}/search?q=waltz`);
  await page.locator('.track .name button', { hasText: 'Tiny Waltz' }).waitFor();
  await page.getByRole('button', { name: 'Add “Tiny Waltz” to favourites' }).click();
  await page.getByRole('button', { name: 'Remove “Tiny Waltz” from favourites' }).waitFor();
  await page.getByRole('link', { name: 'Favourites' }).click();
  await page.locator('.track .name button', { hasText: 'Tiny Waltz' }).waitFor();
});

step('ReplayGain: track and album gain, limited to the setting', async () => {
  await page.goto(`${BASE}/search?q=waltz`);
  await page.locator('.track .name button', { hasText: 'Tiny Waltz' }).click();
  await waitFor(page, () => window.mediastreamer.engine.current?.item.title === 'Tiny Waltz', null, 'Tiny Waltz');
  const gain = () => page.evaluate(() => window.mediastreamer.engine.current.gain.gain.value);
  check(Math.abs((await gain()) - 10 ** (-6 / 20)) < 0.01, `track gain applied: ${await gain()}`);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.locator('#set-rg').selectOption('album');
  await page.goto(`${BASE}/search?q=waltz`);
  await page.locator('.track .name button', { hasText: 'Tiny Waltz' }).click();
  await waitFor(page, () => Math.abs(window.mediastreamer.engine.current?.gain.gain.value - 10 ** (-3 / 20)) < 0.01, null, 'the album gain');
  await page.getByRole('link', { name: 'Settings' }).click();
  await checkNames(page, 'settings');
  await shot(page, 'settings');
  await page.locator('#set-rg').selectOption('track');
  await page.locator('#view').focus();
  await page.keyboard.press('Space');
});

step('playlists: create, add from anywhere, reorder, rename', async () => {
  await page.getByRole('link', { name: 'Playlists' }).click();
  await page.locator('#new-playlist').fill('Road trip');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'Road trip' }).waitFor();
  for (const q of ['waltz', 'polka']) {
    await page.goto(`${BASE}/search?q=${q}`);
    await page.locator('.track .tools button[aria-label^="More for"]').first().click();
    await page.getByRole('menuitem', { name: 'Add to playlist…' }).click();
    await page.locator('dialog li', { hasText: 'Road trip' }).getByRole('button', { name: 'Add' }).click();
    await page.getByText('Added to “Road trip”').waitFor();
  }
  await page.getByRole('link', { name: 'Playlists' }).click();
  await page.locator('.card a.title', { hasText: 'Road trip' }).click();
  await page.locator('.track').nth(1).waitFor();
  let names = await page.locator('.track .name').allTextContents();
  check(names.join(',') === 'Tiny Waltz,Brief Polka', `playlist: ${names}`);
  await page.getByRole('button', { name: 'Move Brief Polka up' }).click();
  await waitFor(page, () => document.querySelector('.track .name').textContent === 'Brief Polka', null, 'the reorder');
  await page.reload();
  await page.locator('.track').nth(1).waitFor();
  names = await page.locator('.track .name').allTextContents();
  check(names.join(',') === 'Brief Polka,Tiny Waltz', `after reorder and reload: ${names}`);
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('heading', { name: 'Road trip (renamed)' }).waitFor();
  await shot(page, 'playlist');
});

step('admin: scan now with progress, unreadable files listed, users', async () => {
  await page.getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('heading', { name: 'Library scan' }).waitFor();
  await waitFor(page, () => /^Idle: 5 tracks/.test(document.getElementById('scan-status')?.textContent || ''), null, 'the scan status');
  const before = await page.locator('#scan-status').textContent();
  await page.waitForTimeout(1100); // the status names the last scan to the second
  await page.getByRole('button', { name: 'Full rescan (re-read every file)' }).click();
  await waitFor(page, (old) => {
    const text = document.getElementById('scan-status')?.textContent || '';
    return /^Idle: 5 tracks/.test(text) && text !== old;
  }, before, 'the scan to finish', 30000);
  await page.locator('td.path', { hasText: '03 broken.mp3' }).waitFor();
  await page.locator('table.data td', { hasText: 'bob' }).waitFor();
  await checkNames(page, 'admin');
  await shot(page, 'admin');
});

step('admin: create a user, change their roles, delete them', async () => {
  await page.getByRole('button', { name: 'New user' }).click();
  await page.locator('#eu-name').fill('carol');
  await page.locator('#eu-password').fill('carolpw');
  await page.locator('dialog').getByRole('button', { name: 'Create' }).click();
  const row = page.locator('table.data tr', { hasText: 'carol' });
  await row.waitFor();
  check((await row.textContent()).includes('Download'), 'new users may download');
  await row.getByRole('button', { name: 'Edit' }).click();
  await page.locator('dialog label', { hasText: 'Download' }).locator('input').uncheck();
  await page.locator('dialog').getByRole('button', { name: 'Save' }).click();
  await waitFor(page, () => [...document.querySelectorAll('table.data tr')].some((tr) => tr.textContent.startsWith('carol') && !tr.textContent.includes('Download')), null, 'the role change');
  await page.locator('table.data tr', { hasText: 'carol' }).getByRole('button', { name: 'Delete' }).click();
  await waitFor(page, () => ![...document.querySelectorAll('table.data td')].some((td) => td.textContent === 'carol'), null, 'the deletion');
});

step('internet radio: an admin adds a station, and it plays', async () => {
  await page.getByRole('link', { name: 'Radio' }).click();
  await page.getByRole('heading', { name: 'Add a station' }).waitFor();
  // No other host is reachable here: the station streams one of our own tracks.
  const track = await page.evaluate(async () => {
    const key = JSON.parse(localStorage.getItem('mediastreamer.session')).apiKey;
    const r = await (await fetch(`/rest/search3?f=json&query=waltz&apiKey=${key}`)).json();
    return r['subsonic-response'].searchResult3.song[0].id;
  });
  await page.locator('#radio-name').fill('Loopback FM');
  await page.locator('#radio-url').fill(`${BASE}/rest/stream?id=${track}&u=bob&p=bobpw`);
  await page.getByRole('button', { name: 'Add' }).click();
  const station = page.locator('li', { hasText: 'Loopback FM' });
  await station.getByRole('button', { name: 'Play' }).click();
  await waitFor(page, () => window.mediastreamer.radio && window.mediastreamer.radio.currentTime > 0.02, null, 'the station to play');
  await shot(page, 'radio');
  await station.getByRole('button', { name: 'Stop' }).click();
  await station.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No stations yet.').waitFor();
});

step('podcasts: subscribe by URL, open the channel, play an episode, unsubscribe', async () => {
  // The feed comes from a server of this script's own; its episode is one of our tracks.
  const song = await page.evaluate(async () => {
    const key = JSON.parse(localStorage.getItem('mediastreamer.session')).apiKey;
    const r = await (await fetch(`/rest/search3?f=json&query=waltz&apiKey=${key}`)).json();
    return r['subsonic-response'].searchResult3.song[0];
  });
  const bytes = Buffer.from(await (await fetch(`${BASE}/rest/download?id=${song.id}&u=bob&p=bobpw`)).arrayBuffer());
  const { createServer } = await import('node:http');
  const feeds = createServer((req, res) => {
    const port = feeds.address().port;
    if (req.url === '/feed.xml') {
      res.writeHead(200, { 'Content-Type': 'application/rss+xml' });
      res.end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Waltz Cast</title>
<description>Three-four time</description><item><title>The first waltz</title><guid>w1</guid>
<pubDate>01 Jun 2026 10:00:00 +0000</pubDate><enclosure url="http://127.0.0.1:${port}/episode.${song.suffix}"
type="${song.contentType}" length="${bytes.length}"/></item></channel></rss>`);
    } else if (req.url === `/episode.${song.suffix}`) {
      res.writeHead(200, { 'Content-Type': song.contentType, 'Content-Length': bytes.length });
      res.end(bytes);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((done) => feeds.listen(0, '127.0.0.1', done));
  try {
    await page.getByRole('link', { name: 'Podcasts' }).click();
    await page.getByRole('heading', { name: 'Subscribe' }).waitFor();
    await page.locator('#podcast-url').fill(`http://127.0.0.1:${feeds.address().port}/feed.xml`);
    await page.getByRole('button', { name: 'Add' }).click();
    await waitFor(page, async () => {
      const key = JSON.parse(localStorage.getItem('mediastreamer.session')).apiKey;
      const r = await (await fetch(`/rest/getPodcasts?f=json&apiKey=${key}`)).json();
      const c = r['subsonic-response'].podcasts.channel?.[0];
      return c?.episode?.[0]?.status === 'completed';
    }, null, 'the episode to download');
    await page.goto(`${BASE}/podcasts`);
    await page.getByRole('link', { name: 'Waltz Cast' }).last().click();
    await page.getByRole('heading', { name: 'Waltz Cast' }).waitFor();
    await checkNames(page, 'podcast channel');
    await page.locator('.episodes li').first().getByRole('button', { name: 'Play' }).click();
    await waitFor(page, () => String(window.mediastreamer.player.song?.id).startsWith('pe-') && window.mediastreamer.player.position > 0.02, null, 'the episode to play');
    await shot(page, 'podcast');
    await page.evaluate(() => window.mediastreamer.player.clear());
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByText('No podcasts yet.').waitFor();
  } finally {
    feeds.close();
  }
});

step('the queue is saved and restored on another device', async () => {
  await page.goto(`${BASE}/artists`);
  await page.getByRole('link', { name: 'The Continuous' }).click();
  await page.locator('.grid .card a.title', { hasText: 'Gapless Live' }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(page, () => window.mediastreamer.player.playing, null, 'playback');
  await page.evaluate(() => window.mediastreamer.player.jump(1));
  await page.waitForTimeout(1200);
  await page.locator('#view').focus();
  await page.keyboard.press('Space');
  await waitFor(page, () => !window.mediastreamer.player.playing, null, 'pause');
  await page.evaluate(() => window.mediastreamer.player.saveNow(false));
  await page.waitForTimeout(500);
  const other = await browser.newContext({ viewport: { width: 1024, height: 700 } });
  const phone = await other.newPage();
  watch(phone, 'second device');
  await signIn(phone, 'admin', 'adminpw');
  await waitFor(phone, () => window.mediastreamer?.player.queue.length === 3, null, 'the restored queue');
  const restored = await player(phone, '`${p.index} ${p.song.title} ${p.position}`');
  const [index, , position] = restored.split(' ');
  check(index === '1' && Number(position) > 0.5, `restored at the wrong place: ${restored}`);
  await phone.locator('.pb-title', { hasText: 'Middle' }).waitFor();
  await other.close();
});

step('phone-sized screen (360 px): no sideways scrolling, menu drawer works', async () => {
  const small = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const phone = await small.newPage();
  watch(phone, 'phone');
  await signIn(phone, 'bob', 'bobpw');
  await phone.locator('.row-scroll .card').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await shot(phone, 'phone-home');
  await phone.getByRole('button', { name: 'Menu' }).click();
  await phone.getByRole('link', { name: 'Albums' }).click();
  await phone.locator('.grid .card').first().waitFor();
  await phone.locator('.grid .card a.title', { hasText: 'Gapless Live' }).click();
  await phone.getByRole('heading', { name: 'Gapless Live' }).waitFor();
  check(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 0, 'album page overflows');
  await shot(phone, 'phone-album');
  check(await phone.locator('#admin-link').isHidden(), 'bob sees the admin link');
  await small.close();
});

step('dark theme follows the system', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(BASE);
  await page.locator('.row-scroll .card').first().waitFor();
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(bg === 'rgb(18, 19, 22)', `dark background expected, got ${bg}`);
  await shot(page, 'home-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

step('sign out revokes the browser\'s API key', async () => {
  const key = JSON.parse(await page.evaluate(() => localStorage.getItem('mediastreamer.session'))).apiKey;
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#login-user').waitFor();
  check(await page.evaluate(() => localStorage.getItem('mediastreamer.session')) === null, 'session kept');
  const r = await page.evaluate(async (k) => (await fetch(`/rest/ping?f=json&apiKey=${k}`)).json(), key);
  check(r['subsonic-response'].error?.code === 44, `the key still works: ${JSON.stringify(r)}`);
});

// --- formats the browser cannot play, files nothing can decode, and 48 kHz (FORMATS_URL) ---

let formats; // { context, page, streams: [urls of stream requests] }

/** A signed-in admin page on the formats server that notes every stream request. */
async function formatsPage() {
  if (formats) return formats;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const fpage = await context.newPage();
  watch(fpage, 'formats', { loadErrors: false });
  const streams = [];
  fpage.on('request', (r) => { if (r.url().includes('/stream')) streams.push(r.url()); });
  await signIn(fpage, 'admin', 'adminpw', FORMATS);
  formats = { context, page: fpage, streams };
  return formats;
}

/**
 * The album named `name` on the page's server: its id and its songs. Asks again for up to
 * 30 s (the session may still be being stored, the scan still running on a loaded machine),
 * then fails with the server's last answer.
 */
function albumByName(p, name) {
  return p.evaluate(async (n) => {
    let last;
    for (const started = Date.now(); Date.now() - started < 30000;) {
      const session = JSON.parse(localStorage.getItem('mediastreamer.session') || 'null');
      if (session && session.apiKey) {
        const get = async (q) =>
          (await (await fetch(`/rest/${q}&f=json&apiKey=${session.apiKey}`)).json())['subsonic-response'];
        last = await get('getAlbumList2?type=alphabeticalByName&size=100');
        const album = last.albumList2 && (last.albumList2.album || []).find((a) => a.name === n);
        if (album) {
          const found = await get(`getAlbum?id=${album.id}`);
          if (found.album) return found.album;
          last = found;
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no album "${n}": ${JSON.stringify(last)}`);
  }, name);
}

async function openAlbum(p, base, name) {
  const album = await albumByName(p, name);
  await p.goto(`${base}/album/${album.id}`);
  await p.getByRole('heading', { name }).waitFor();
  // The player's messages on this page load (the toasts vanish after a while).
  await p.evaluate(() => {
    window.playerErrors = [];
    window.mediastreamer.player.addEventListener('error', (e) => window.playerErrors.push(e.detail));
  });
  return album;
}

/** The requests among `streams` for song `id` (by the API's id parameter or the share's path). */
const streamsOf = (streams, id) => streams.filter((u) => {
  const url = new URL(u);
  return url.searchParams.get('id') === id || url.pathname.endsWith(`/stream/${id}`);
});
const asMp3 = (u) => new URL(u).searchParams.get('format') === 'mp3';

step('AIFF, WavPack and ALAC play through as the server\'s MP3 ("Original files")', async () => {
  const { page: fpage, streams } = await formatsPage();
  check(await fpage.evaluate(() => JSON.parse(localStorage.getItem('mediastreamer.settings') || '{}').maxBitRate || 0) === 0,
    'the quality setting is not "Original files"');
  const album = await openAlbum(fpage, FORMATS, 'Odd Formats');
  await fpage.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(fpage, () => window.mediastreamer.player.playing && window.mediastreamer.engine.position > 0.3, null, 'the AIFF to play');
  const a = await player(fpage, 'p.position');
  await fpage.waitForTimeout(500);
  const b = await player(fpage, 'p.position');
  check(b > a + 0.2, `position did not advance: ${a} → ${b}`);
  check(await player(fpage, 'p.song.title') === 'Aiff Song', 'not playing the AIFF');
  await shot(fpage, 'transcoded-playing');
  await fpage.keyboard.press('l');
  await fpage.locator('#now-playing').waitFor();
  await shot(fpage, 'transcoded-now-playing');
  await fpage.keyboard.press('Escape');
  // On through the WavPack to the ALAC (which Chromium takes for AAC and fails to decode).
  await waitFor(fpage, () => window.mediastreamer.player.index === 2 && window.mediastreamer.engine.position > 0.3, null, 'the ALAC to play', 20000);
  const c = await player(fpage, 'p.position');
  await fpage.waitForTimeout(400);
  check((await player(fpage, 'p.position')) > c + 0.2, 'the ALAC does not advance');
  check((await fpage.evaluate(() => window.playerErrors.length)) === 0, `errors: ${await fpage.evaluate(() => window.playerErrors.join('; '))}`);
  check(await fpage.locator('#toasts .toast.error').count() === 0, 'an error toast is shown');
  for (const song of album.song) {
    const asked = streamsOf(streams, song.id);
    check(asked.some(asMp3), `${song.title}: no stream with format=mp3 among ${asked.join(', ') || 'none'}`);
  }
  // The AIFF and the WavPack are asked for as MP3 up front, never as they are.
  for (const title of ['Aiff Song', 'WavPack Song']) {
    const id = album.song.find((s) => s.title === title).id;
    check(streamsOf(streams, id).every(asMp3), `${title}: the original was requested`);
  }
  await fpage.locator('#view').focus();
  await fpage.keyboard.press('Space');
});

step('a file nothing can decode: one message, and playback stops on it', async () => {
  const { page: fpage, streams } = await formatsPage();
  const album = await openAlbum(fpage, FORMATS, 'Broken Album');
  const ids = Object.fromEntries(album.song.map((s) => [s.title, s.id]));
  await fpage.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(fpage, () => window.playerErrors.length > 0, null, 'the error message');
  await fpage.locator('#toasts .toast.error', { hasText: 'Cannot play “Broken One”' }).waitFor();
  await shot(fpage, 'cannot-play');
  await fpage.waitForTimeout(2500);
  const errors = await fpage.evaluate(() => window.playerErrors);
  check(errors.length === 1, `${errors.length} messages: ${errors.join('; ')}`);
  check(await fpage.locator('#toasts .toast.error').count() === 1, 'not one toast');
  check(await player(fpage, 'p.index') === 0 && !(await player(fpage, 'p.playing')), 'playback went on');
  check(await fpage.evaluate(() => window.mediastreamer.engine.current === null), 'something plays');
  // Broken One is WavPack: asked for as MP3 only.
  const one = streamsOf(streams, ids['Broken One']);
  check(one.length > 0 && one.every(asMp3), `Broken One: ${one.join(', ')}`);
  // The WAV of an unknown codec looks playable: the original fails, then the transcode.
  await fpage.evaluate(() => window.mediastreamer.player.jump(1));
  await waitFor(fpage, () => window.playerErrors.length === 2, null, 'the second message');
  await fpage.waitForTimeout(2000);
  check(await fpage.evaluate(() => window.playerErrors.length) === 2, 'more than one message for Broken Two');
  check(await player(fpage, 'p.index') === 1 && !(await player(fpage, 'p.playing')), 'playback went on after Broken Two');
  check(await fpage.evaluate(() => window.mediastreamer.engine.current === null), 'something plays');
  const two = streamsOf(streams, ids['Broken Two']);
  check(two.some(asMp3) && two.some((u) => !asMp3(u)), `Broken Two: ${two.join(', ')}`);
  // From a song that plays into two that do not: one message, on the first of them.
  await fpage.evaluate((songs) => window.mediastreamer.player.playList(songs), [2, 0, 1].map((i) => album.song[i]));
  await waitFor(fpage, () => window.playerErrors.length === 3, null, 'the message at the end of Fine Three', 20000);
  await fpage.waitForTimeout(1500);
  check(await fpage.evaluate(() => window.playerErrors.length) === 3, 'more than one message after Fine Three');
  check((await fpage.evaluate(() => window.playerErrors[2])).includes('Broken One'), 'the message is not about Broken One');
  check(await player(fpage, 'p.index') === 1 && !(await player(fpage, 'p.playing')), 'playback did not stop on Broken One');
  await fpage.locator('.pb-title', { hasText: 'Broken One' }).waitFor();
});

step('gapless at 48 kHz, as strict as at 44.1 kHz', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // This machine's output runs at 44.1 kHz: ask for a 48 kHz AudioContext, as on most phones.
  await context.addInitScript((rate) => {
    const Native = window.AudioContext;
    window.AudioContext = class extends Native {
      constructor(options = {}) { super({ ...options, sampleRate: rate }); }
    };
  }, TONE_RATE_48K);
  const p48 = await context.newPage();
  watch(p48, '48 kHz');
  await signIn(p48, 'admin', 'adminpw', FORMATS);
  await openAlbum(p48, FORMATS, 'Gapless 48k');
  await p48.getByRole('button', { name: 'Play', exact: true }).click();
  await waitFor(p48, () => window.mediastreamer.player.playing && window.mediastreamer.engine.position > 0.3, null, 'playback at 48 kHz');
  await checkGapless(p48, TONE_RATE_48K);
  await context.close();
});

/** A new share of album `name` on the formats server; the share page's path. */
async function shareAlbum(name) {
  const { page: fpage } = await formatsPage();
  const album = await albumByName(fpage, name);
  const token = await fpage.evaluate(async (id) => {
    const key = JSON.parse(localStorage.getItem('mediastreamer.session')).apiKey;
    const r = await (await fetch(`/rest/createShare?f=json&apiKey=${key}&id=${id}`)).json();
    return r['subsonic-response'].shares.share[0].id;
  }, album.id);
  return { album, url: `${FORMATS}/share/${token}` };
}

step('the share page plays AIFF, WavPack and ALAC through the server\'s MP3', async () => {
  const { album, url } = await shareAlbum('Odd Formats');
  const visitor = await browser.newContext({ viewport: { width: 800, height: 700 } });
  const sp = await visitor.newPage();
  watch(sp, 'share', { loadErrors: false });
  const streams = [];
  sp.on('request', (r) => { if (r.url().includes('/stream/')) streams.push(r.url()); });
  await sp.goto(url);
  await sp.locator('#tracks li button').first().click();
  await waitFor(sp, () => document.getElementById('player').currentTime > 0.3, null, 'the shared AIFF to play');
  await shot(sp, 'share-transcoded');
  await waitFor(sp, () => document.querySelector('#tracks li.playing .title')?.textContent === 'Alac Song'
    && document.getElementById('player').currentTime > 0.3, null, 'the shared ALAC to play', 20000);
  check(await sp.locator('#message').isHidden(), `message: ${await sp.locator('#message').textContent()}`);
  for (const song of album.song) {
    check(streamsOf(streams, song.id).some(asMp3), `${song.title}: no format=mp3 among ${streams.join(', ')}`);
  }
  await visitor.close();
});

step('the share page: a file nothing can decode gives one message and stops', async () => {
  const { url } = await shareAlbum('Broken Album');
  const visitor = await browser.newContext();
  const sp = await visitor.newPage();
  watch(sp, 'broken share', { loadErrors: false });
  await sp.goto(url);
  await sp.locator('#tracks li button').first().click();
  await sp.locator('#message', { hasText: 'Cannot play “Broken One”' }).waitFor();
  await shot(sp, 'share-cannot-play');
  await sp.waitForTimeout(2000);
  check(await sp.locator('#tracks li.playing .title').textContent() === 'Broken One', 'the page moved on');
  check(await sp.evaluate(() => document.getElementById('player').paused), 'the player is not stopped');
  await visitor.close();
});

step('no errors in the browser console', async () => {
  check(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`);
});

for (const [name, fn] of steps) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
    await shot(page, `failed-${passed + failed}`).catch(() => {});
    if (name.startsWith('sign in')) break;
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
