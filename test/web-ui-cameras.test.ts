/**
 * The web UI's Cameras and Camera pages (www/src/pages/cameras.ts, camera.ts, live-view.ts)
 * in Debian's Chromium through playwright-core against a real hub (broker, SQLite, the
 * camera component on real footage): an admin adds a camera through the form (first a bad
 * URL, whose error shows next to its field), sees it in the list with its availability
 * going online, opens its page, the live view shows a picture (MSE, or `latest.jpg` for a
 * `file://` source that has no fMP4 output), switches detect OFF and sees the state
 * follow (from the retained `…/detect/state`), sees an event of that camera published on
 * MQTT, then deletes the camera after confirming. axe-core on both pages (no serious or
 * critical violation), no console error, screenshots under test-artifacts/web-ui/.
 */
import { mkdirSync } from 'node:fs';
import mqtt from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureWwwBuilt } from '../www/build.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';

const FOOTAGE = 'file:///usr/share/doc/opencv-doc/examples/data/vtest.avi';

let h: TestHub;
let browser: Browser;
const problems: string[] = [];
const expectedStatus = new Set<string>();


beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureWwwBuilt();
  h = await startTestHub({ detector: { enabled: false } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

it('adds a camera, shows it live, switches detect off and deletes it', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 1280, height: 800 }, problems, expectedStatus);

  await page.goto(`${h.baseUrl}/cameras`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Cameras', level: 1 }).waitFor();
  await page.locator('#no-cameras').waitFor();
  expect(await page.getByRole('link', { name: 'Cameras', exact: true }).getAttribute('aria-current')).toBe('page');

  // A URL the hub refuses: its message appears next to the detect field.
  await page.getByLabel('Name', { exact: true }).fill('porch');
  await page.getByLabel('Detect stream URL').fill('http://example.com/stream');
  expectedStatus.add(`400 ${h.baseUrl}/api/cameras`);
  await page.getByRole('button', { name: 'Add camera' }).click();
  await page.locator('#f-detect-error').waitFor();
  expect(await page.getByLabel('Detect stream URL').getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#f-detect-error').textContent()).toMatch(/rtsp/);
  await audit(page, 'cameras-error');

  await page.getByLabel('Detect stream URL').fill(FOOTAGE);
  await page.getByRole('button', { name: 'Add camera' }).click();
  await expect.poll(() => page.locator('#cameras-message').textContent(), { timeout: 10_000 }).toBe('Camera porch added.');
  expect((await api(h.baseUrl, 'GET', '/api/cameras/porch')).status).toBe(200);
  const row = page.locator('tr[data-camera="porch"]');
  await expect.poll(() => row.locator('[data-badge="availability"]').textContent(), { timeout: 15_000 }).toBe('online');
  expect(await row.locator('[data-feature="detect"]').textContent()).toBe('ON');
  await audit(page, 'cameras');

  // An event of this camera, published as the detector does (the hub stores it).
  const now = Math.floor(Date.now() / 1000);
  const pub = await mqtt.connectAsync(h.mqttUrl, { ...h.mqttCreds!, protocolVersion: 4 });
  const ev = { id: `${now}.0-p1`, camera: 'porch', label: 'person', sub_label: null, score: 0.8, top_score: 0.9, false_positive: false,
    start_time: now, end_time: now + 3, box: [10, 10, 50, 90], area: 3200, entered_zones: [], has_snapshot: false, has_clip: false };
  await pub.publishAsync('vigil/events', JSON.stringify({ type: 'end', before: ev, after: ev }), { qos: 1 });
  await pub.endAsync();
  await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/events?camera=porch')).body.length, { timeout: 10_000 }).toBe(1);
  // The page polls latest.jpg when MSE is not offered: wait for the first frame so that no 404 is logged.
  await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/cameras/porch/latest.jpg')).status, { timeout: 20_000, interval: 500 }).toBe(200);

  // ---- the camera's page -------------------------------------------------------------------
  await row.getByRole('link', { name: 'porch' }).click();
  await page.getByRole('heading', { name: /^Camera porch/, level: 1 }).waitFor();
  expect(new URL(page.url()).pathname).toBe('/cameras/porch');
  await page.locator(`tr[data-event="${now}.0-p1"]`).waitFor({ timeout: 10_000 });
  // The live view shows moving video (MSE) or pictures (latest.jpg): at least two pictures shown.
  const live = page.locator('vigil-live-view');
  await expect.poll(() => live.getAttribute('data-mode'), { timeout: 15_000 }).toMatch(/^(mse|jpeg)$/);
  await expect.poll(() => live.evaluate((el) => (el as unknown as { frames: number }).frames), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  const shown = await live.evaluate((el) => {
    const root = el.shadowRoot!;
    const v = root.querySelector('video')!;
    const img = root.querySelector('img')!;
    return el.getAttribute('data-mode') === 'mse' ? { w: v.videoWidth, h: v.videoHeight } : { w: img.naturalWidth, h: img.naturalHeight };
  });
  expect(shown.w).toBeGreaterThan(0);
  expect(shown.h).toBeGreaterThan(0);
  console.log(`live view mode: ${await live.getAttribute('data-mode')}, ${shown.w}×${shown.h}`);
  await expect.poll(() => page.locator('#availability').textContent(), { timeout: 10_000 }).toBe('online');

  const detect = page.getByLabel('Detection', { exact: true });
  await expect.poll(() => detect.isChecked(), { timeout: 10_000 }).toBe(true);
  await detect.focus();
  await page.keyboard.press('Space'); // keyboard works
  await expect.poll(() => page.locator('[data-feature="detect"]').textContent(), { timeout: 10_000 }).toBe('OFF');
  expect(await detect.isChecked()).toBe(false);
  expect((await api(h.baseUrl, 'GET', '/api/cameras/porch')).body.detect.enabled).toBe(false);
  // A change from elsewhere (the REST API, as another client) shows up live.
  expect((await api(h.baseUrl, 'POST', '/api/cameras/porch/features', { snapshots: 'OFF' })).status).toBe(200);
  await expect.poll(() => page.locator('[data-feature="snapshots"]').textContent(), { timeout: 10_000 }).toBe('OFF');
  await audit(page, 'camera');

  // ---- back to the list: the state follows, then delete with confirmation -----------------------
  await page.getByRole('link', { name: 'All cameras' }).click();
  await page.getByRole('heading', { name: 'Cameras', level: 1 }).waitFor();
  await expect.poll(() => row.locator('[data-feature="detect"]').textContent(), { timeout: 10_000 }).toBe('OFF');
  await row.getByRole('button', { name: 'Delete porch' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: 'Delete camera porch?' }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  expect(await dialog.isVisible()).toBe(false);
  expect((await api(h.baseUrl, 'GET', '/api/cameras/porch')).status).toBe(200);
  await row.getByRole('button', { name: 'Delete porch' }).click();
  await dialog.getByRole('button', { name: 'Delete porch' }).click();
  await expect.poll(() => page.locator('#cameras-message').textContent(), { timeout: 10_000 }).toBe('Camera porch deleted.');
  await page.locator('#no-cameras').waitFor();
  expect((await api(h.baseUrl, 'GET', '/api/cameras/porch')).status).toBe(404);

  await ctx.close();
  expect(problems).toEqual([]);
}, 90_000);
