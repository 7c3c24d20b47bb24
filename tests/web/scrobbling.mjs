// The web player's Settings → Scrobbling in headless Chromium (run by tests/api_scrobbling.rs,
// which starts the server with a fake ListenBrainz service and passes BASE_URL, CHROMIUM and
// SCREENSHOTS): bob links the service by token, sees the account, unlinks it. Screenshots
// scrobbling-linked.png and scrobbling-unlinked.png. Exits non-zero on failure.

import { chromium } from 'playwright-core';
import path from 'node:path';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOTS;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: FLAGS, headless: true });
const errors = [];
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 1100 } })).newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(BASE);
  await page.locator('#login-user').fill('bob');
  await page.locator('#login-password').fill('bobpw');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.goto(`${BASE}/settings`);
  const section = page.locator('section.scrobble-service[data-service="lb"]');
  await section.getByText('Not linked.').waitFor({ timeout: 15000 });
  await section.getByLabel('ListenBrainz user token').fill('good-token');
  await section.getByRole('button', { name: 'Link', exact: true }).click();
  await section.getByText('Linked as bobby').waitFor({ timeout: 15000 });
  await section.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'scrobbling-linked.png') });
  await section.getByRole('button', { name: 'Unlink' }).click();
  await section.getByText('Not linked.').waitFor({ timeout: 15000 });
  await page.screenshot({ path: path.join(SHOTS, 'scrobbling-unlinked.png') });
  if (errors.length) throw new Error(`console errors: ${errors.join('; ')}`);
  console.log('scrobbling settings: linked and unlinked');
} catch (e) {
  const page = browser.contexts()[0]?.pages()[0];
  if (page) {
    await page.screenshot({ path: path.join(SHOTS, 'scrobbling-failed.png') });
    console.log(await page.locator('body').innerText());
  }
  console.log(`errors: ${errors.join('; ')}`);
  throw e;
} finally {
  await browser.close();
}
