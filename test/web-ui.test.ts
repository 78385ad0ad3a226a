/**
 * The admin web UI (www/, built with vite, served by the hub at `/`) in Debian's Chromium
 * through playwright-core, against a real hub (real broker, SQLite, the camera component
 * on real footage). First-run setup with the setup token, sign-in (a wrong password, then
 * the right one), sign-in with TOTP, the dashboard (a camera tile with a picture, an event
 * published while the page is open appears without a reload), the events page (label
 * filter in the URL, the filter form, the detail view with its snapshot and crop). Every
 * page: an axe-core scan with no serious or critical violation, no console error, and a
 * screenshot at 1280×800 and 390×844 under test-artifacts/web-ui/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { generate } from 'otplib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureWwwBuilt } from '../www/build.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';

const FOOTAGE = 'file:///usr/share/doc/opencv-doc/examples/data/vtest.avi';
const JPEG = readFileSync('/usr/share/doc/opencv-doc/examples/data/home.jpg');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'correct-horse-battery';

let h: TestHub;
let browser: Browser;
let token: string;
let pub: MqttClient;
/** Problems seen by any page: page errors and console errors (a failed request the test provokes is listed in `expected`). */
const problems: string[] = [];
const expectedStatus = new Set<string>();

const auth = () => ({ token });

async function newPage(viewport: { width: number; height: number }): Promise<{ ctx: BrowserContext; page: Page }> {
  return watchedPage(browser, viewport, problems, expectedStatus);
}


/** Publishes an event as the detector does: images first (the hub holds them until the row exists), then the event. */
async function publishEvent(id: string, label: string, startTime: number, opts: { zones?: string[]; open?: boolean } = {}): Promise<void> {
  await pub.publishAsync(`vigil/events/${id}/snapshot`, JPEG, { qos: 1 });
  await pub.publishAsync(`vigil/events/${id}/crop`, JPEG, { qos: 1 });
  const state = {
    id, camera: 'yard', frame_time: startTime, label, sub_label: null, score: 0.82, top_score: 0.84, false_positive: false,
    start_time: startTime, end_time: opts.open ? null : startTime + 4, box: [100, 100, 200, 300], area: 20000, ratio: 0.5,
    current_zones: [], entered_zones: opts.zones ?? [], has_snapshot: true, has_clip: false,
  };
  await pub.publishAsync('vigil/events', JSON.stringify({ type: opts.open ? 'new' : 'end', before: state, after: state }), { qos: 1 });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureWwwBuilt(); // the hub serves www/dist: build it from the sources under test when stale
  h = await startTestHub({ detector: { enabled: false } }, { noAdmin: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => {
  pub?.end(true);
  await browser?.close();
  await h?.stop();
});

it('serves the UI at / with a fallback for its routes, and not for the hub’s own', async () => {
  const index = await fetch(`${h.baseUrl}/events/some-id?label=car`);
  expect(index.status).toBe(200);
  expect(index.headers.get('cache-control')).toBe('no-cache');
  const html = await index.text();
  expect(html).toContain('<vigil-app>');
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
  const js = await fetch(`${h.baseUrl}${asset}`);
  expect(js.status).toBe(200);
  expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(js.headers.get('content-type')).toMatch(/javascript/);
  expect((await fetch(`${h.baseUrl}/assets/missing.js`)).status).toBe(404);
  expect((await fetch(`${h.baseUrl}/api/nothing-here`)).status).toBe(404);
  for (const path of ['/kiosk/nothing-here', '/live.nothing', '/player/x', '/vendor/x.js']) {
    const res = await fetch(`${h.baseUrl}${path}`);
    expect(res.status, path).toBe(404);
    expect(await res.text(), path).not.toContain('<vigil-app>');
  }
  expect((await fetch(`${h.baseUrl}/favicon.ico`)).status).toBe(404);
  const status = await fetch(`${h.baseUrl}/status`);
  expect(await status.text()).toContain('<script type="module" src="/app.js">');
});

it('walks through setup, sign-in, dashboard and events', async () => {
  const t0 = Date.now();
  // ---- first-run setup ------------------------------------------------------------
  const phone = await newPage(PHONE);
  await phone.page.goto(h.baseUrl);
  await phone.page.getByRole('heading', { name: 'Welcome to Vigil' }).waitFor();
  await audit(phone.page, 'setup');

  const { page, ctx } = await newPage(DESKTOP);
  await page.goto(h.baseUrl);
  await page.getByRole('heading', { name: 'Welcome to Vigil' }).waitFor();
  await audit(page, 'setup');
  const setupToken = readFileSync(join(h.dataDir, 'setup-token'), 'utf8').trim();
  await page.getByLabel('Setup token').fill(setupToken);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create the administrator' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  expect(await page.locator('#user-name').textContent()).toContain('admin');
  expect((await api(h.baseUrl, 'GET', '/api/auth/status', undefined, null)).body.setup_required).toBe(false);

  // ---- fixtures through the REST API as that admin ----------------------------------
  const login = await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'admin', password: PASSWORD }, null);
  token = login.body.access_token;
  expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'yard', paths: { detect: FOOTAGE }, detect: { enabled: false }, record: { enabled: false } }, auth())).status).toBe(201);
  const dev = await api(h.baseUrl, 'POST', '/api/devices', { id: 'ui-test', kind: 'component' }, auth());
  pub = await mqtt.connectAsync(h.mqttUrl, { username: dev.body.username ?? 'ui-test', password: dev.body.password, protocolVersion: 4 });
  const now = Math.floor(Date.now() / 1000);
  await publishEvent(`${now - 300}.0-car1`, 'car', now - 300, { zones: ['driveway'] });
  await publishEvent(`${now - 200}.0-per1`, 'person', now - 200);
  await publishEvent(`${now - 100}.0-per2`, 'person', now - 100);
  await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/events', undefined, auth())).body.length, { timeout: 10_000 }).toBe(3);
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${now - 100}.0-per2/thumbnail.jpg`, undefined, auth())).status, { timeout: 10_000 }).toBe(200);
  await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/cameras/yard/latest.jpg', undefined, auth())).status, { timeout: 20_000, interval: 500 }).toBe(200);

  // ---- sign out, a wrong password, the right one -------------------------------------
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
  await audit(page, 'login');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong-password');
  expectedStatus.add(`401 ${h.baseUrl}/api/auth/login`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 5000 }).toBe('The username or password is wrong.');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();

  // ---- dashboard: the camera tile with a picture, live state, a live event --------------
  const tile = page.locator('li[data-camera="yard"]');
  await tile.getByRole('heading', { name: 'yard' }).waitFor();
  // The tile's live view shows pictures (a file:// camera has no fMP4 output: JPEGs, polled).
  await expect.poll(() => tile.locator('vigil-live-view').evaluate((v: HTMLElement & { frames: number }) => v.frames), { timeout: 15_000 }).toBeGreaterThan(0);
  await expect.poll(() => tile.locator('[data-badge="availability"]').textContent(), { timeout: 10_000 }).toBe('online');
  await expect.poll(() => page.locator('#live-state').textContent(), { timeout: 10_000 }).toMatch(/Live/);
  expect(await page.locator('tr[data-event]').count()).toBe(3);
  const liveId = `${now}.0-live`;
  await publishEvent(liveId, 'dog', now);
  await page.locator(`tr[data-event="${liveId}"]`).waitFor({ timeout: 10_000 });
  expect(await page.locator('tr[data-event]').first().getAttribute('data-event')).toBe(liveId); // newest first, no reload
  await page.waitForTimeout(1800); // its thumbnail is asked for 1.5 s after the event
  await audit(page, 'dashboard');

  // ---- events: label in the URL, the form, paging info, the detail view ---------------
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  await expect.poll(() => page.locator('#events-count').textContent()).toBe('Events 1–4 of 4');
  await page.goto(`${h.baseUrl}/events?label=car`); // a deep link: the hub answers with the page
  await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  await expect.poll(() => page.locator('#events-count').textContent(), { timeout: 10_000 }).toBe('Events 1–1 of 1');
  expect(await page.locator('tr[data-event] a.label').allTextContents()).toEqual(['car']);
  expect(await page.getByLabel('Label').inputValue()).toBe('car');
  await page.getByLabel('Label').fill('person');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect.poll(() => new URL(page.url()).search).toBe('?label=person');
  await expect.poll(() => page.locator('tr[data-event] a.label').allTextContents()).toEqual(['person', 'person']);
  await audit(page, 'events');
  await page.goBack();
  await expect.poll(() => page.locator('tr[data-event] a.label').allTextContents()).toEqual(['car']);
  await page.locator('tr[data-event] a.label').first().click();
  await page.getByRole('heading', { name: 'car on yard', level: 1 }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`/events/${now - 300}.0-car1`);
  for (const id of ['#snapshot', '#crop']) {
    await expect.poll(() => page.locator(id).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 10_000 }).toBe(true);
  }
  expect(await page.locator('#facts').textContent()).toContain('driveway');
  await audit(page, 'event');

  // ---- the timeline view, a live event into it, download and delete ----------------------
  await page.goto(`${h.baseUrl}/events?label=person&view=timeline`);
  await expect.poll(() => page.locator('li[data-event]').count(), { timeout: 10_000 }).toBe(2);
  expect(await page.getByRole('link', { name: 'Timeline' }).getAttribute('aria-current')).toBe('page');
  const extra = `${now + 5}.0-per3`;
  await publishEvent(extra, 'person', now + 5);
  await page.locator(`li[data-event="${extra}"]`).waitFor({ timeout: 10_000 });
  expect(await page.locator('li[data-event]').first().getAttribute('data-event')).toBe(extra);
  expect(await page.locator('#events-count').textContent()).toBe('Events 1–3 of 3');
  await expect.poll(() => page.locator(`li[data-event="${extra}"] img`).count(), { timeout: 5_000 }).toBe(1);
  await audit(page, 'events-timeline');
  await page.locator(`li[data-event="${extra}"] a`).click();
  await page.getByRole('heading', { name: 'person on yard', level: 1 }).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the snapshot' }).click()]);
  expect(download.suggestedFilename()).toBe(`yard-person-${extra}.jpg`);
  expect(readFileSync(await download.path())).toEqual(readFileSync(join(h.dataDir, 'snapshots', 'yard', `${extra}.jpg`)));
  await page.getByRole('button', { name: 'Delete the event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  expect((await page.request.get(`${h.baseUrl}/api/events/${extra}`)).status()).toBe(200);
  await page.getByRole('button', { name: 'Delete the event' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  expect((await page.request.get(`${h.baseUrl}/api/events/${extra}`)).status()).toBe(404);
  expect(existsSync(join(h.dataDir, 'snapshots', 'yard', `${extra}.jpg`))).toBe(false);
  await expect.poll(() => page.locator('#events-count').textContent()).toBe('Events 1–4 of 4');
  // An event in progress cannot be deleted (409); once ended it can.
  const openId = `${now + 6}.0-per4`;
  await publishEvent(openId, 'person', now + 6, { open: true });
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${openId}`, undefined, auth())).status, { timeout: 10_000 }).toBe(200);
  const refused = await api(h.baseUrl, 'DELETE', `/api/events/${openId}`, undefined, auth());
  expect([refused.status, refused.body.error.code]).toEqual([409, 'conflict']);
  await publishEvent(openId, 'person', now + 6);
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${openId}`, undefined, auth())).body.end_time, { timeout: 10_000 }).not.toBeNull();
  expect((await api(h.baseUrl, 'DELETE', `/api/events/${openId}`, undefined, auth())).status).toBe(204);
  expect((await api(h.baseUrl, 'GET', `/api/events/${openId}`, undefined, auth())).status).toBe(404);
  await ctx.close();

  // ---- the same pages on a phone: the nav behind the menu button -------------------------
  await phone.page.goto(h.baseUrl);
  await phone.page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
  await audit(phone.page, 'login');
  await phone.page.getByLabel('Username').fill('admin');
  await phone.page.getByLabel('Password').fill(PASSWORD);
  await phone.page.getByRole('button', { name: 'Sign in' }).click();
  await phone.page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await phone.page.locator(`tr[data-event="${liveId}"]`).waitFor();
  await audit(phone.page, 'dashboard');
  const menu = phone.page.getByRole('button', { name: 'Menu' });
  expect(await menu.getAttribute('aria-expanded')).toBe('false');
  expect(await phone.page.getByRole('link', { name: 'Events', exact: true }).isVisible()).toBe(false);
  await menu.click();
  expect(await menu.getAttribute('aria-expanded')).toBe('true');
  await phone.page.getByRole('link', { name: 'Events', exact: true }).click();
  await phone.page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  await expect.poll(() => phone.page.locator('#events-count').textContent()).toBe('Events 1–4 of 4');
  await audit(phone.page, 'events');
  await phone.page.locator(`tr[data-event="${liveId}"] a.label`).click();
  await phone.page.getByRole('heading', { name: 'dog on yard', level: 1 }).waitFor();
  await expect.poll(() => phone.page.locator('#snapshot').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 10_000 }).toBe(true);
  await audit(phone.page, 'event');
  // The theme toggle is remembered across a reload.
  const theme = await phone.page.evaluate(() => document.documentElement.dataset.theme ?? '');
  await phone.page.getByRole('button', { name: /theme$/ }).click();
  const flipped = await phone.page.evaluate(() => document.documentElement.dataset.theme);
  expect(flipped).not.toBe(theme);
  await phone.page.reload();
  await phone.page.getByRole('heading', { name: 'dog on yard', level: 1 }).waitFor();
  expect(await phone.page.evaluate(() => document.documentElement.dataset.theme)).toBe(flipped);
  await phone.ctx.close();

  expect(problems).toEqual([]);
  console.log(`web UI walk-through: ${Date.now() - t0} ms`);
}, 90_000);

it('asks a user with TOTP for the code', async () => {
  expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'tina', password: 'tina-password', role: 'viewer' }, auth())).status).toBe(201);
  const t = (await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'tina', password: 'tina-password' }, null)).body.access_token as string;
  const { secret } = (await api(h.baseUrl, 'POST', '/api/auth/totp/setup', undefined, { token: t })).body as { secret: string };
  expect((await api(h.baseUrl, 'POST', '/api/auth/totp/enable', { code: await generate({ secret }) }, { token: t })).status).toBe(200);

  const { page, ctx } = await newPage(DESKTOP);
  expectedStatus.add(`401 ${h.baseUrl}/api/auth/login`); // the first answer: totp_required
  await page.goto(h.baseUrl);
  await page.getByLabel('Username').fill('tina');
  await page.getByLabel('Password').fill('tina-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  const code = page.getByLabel('Authentication code');
  await expect.poll(() => code.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true); // focused
  await audit(page, 'totp');
  await code.fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect.poll(() => page.locator('#f-totp-error').textContent(), { timeout: 5000 }).toContain('wrong');
  await code.fill(await generate({ secret }));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  expect(await page.locator('#user-name').textContent()).toContain('tina');
  await ctx.close();
  expect(problems).toEqual([]);
});
