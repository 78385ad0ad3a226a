/**
 * The web UI's camera edit form and zones and masks editor (www/src/pages/camera-edit.ts,
 * zone-editor.ts) in Debian's Chromium through playwright-core, against a real hub with a
 * camera on real footage (vtest.avi through the camera component; detector off):
 *
 * - edit: from the camera page's "Edit" link, change the friendly name, the detect fps and
 *   a per-object filter and add a live URL → `PATCH`, seen in `GET /api/cameras/:name`; an
 *   out-of-range fps → the hub's error at the fps input, nothing stored; emptying the live
 *   URL removes the slot (`PUT`);
 * - zones: draw a zone by clicking 4 points on the latest frame (double-click closes), name
 *   it, count only `person`, set the dwell → saved with 4 normalized points at the clicked
 *   places (±0.02); drag a vertex → the saved point moves; a motion mask made with the
 *   keyboard only (Add mask, typed points, Add point), first with a point out of range whose
 *   error (`masks.0.coordinates…`) shows at the points; the saved config reaches the bus
 *   (retained `vigil/camera/<cam>/config`, what the detector runs from); delete the zone.
 *
 * axe-core (no serious or critical violation) and screenshots at 1280×800 and 390×844, light
 * and dark; no console error.
 */
import { mkdirSync } from 'node:fs';
import mqtt from 'mqtt';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureWwwBuilt } from '../www/build.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';

const FOOTAGE = 'file:///usr/share/doc/opencv-doc/examples/data/vtest.avi';
const CAM = 'yard';

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
  const made = await api(h.baseUrl, 'POST', '/api/cameras', { name: CAM, paths: { detect: FOOTAGE }, objects: { track: ['person', 'car'] } });
  expect(made.status).toBe(201);
  // The editor shows latest.jpg: wait for the first frame so that no 404 is logged.
  const until = Date.now() + 30_000;
  while ((await api(h.baseUrl, 'GET', `/api/cameras/${CAM}/latest.jpg`)).status !== 200) {
    if (Date.now() > until) throw new Error('no frame from the test camera within 30 s');
    await new Promise((r) => setTimeout(r, 500));
  }
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

async function signIn(page: Page, path: string): Promise<void> {
  await page.goto(`${h.baseUrl}${path}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const camera = async (): Promise<any> => (await api(h.baseUrl, 'GET', `/api/cameras/${CAM}`)).body;

/** The page position of normalized point (x, y) on the overlay. */
async function at(svg: Locator, x: number, y: number): Promise<{ x: number; y: number }> {
  const b = (await svg.boundingBox())!;
  return { x: b.x + x * b.width, y: b.y + y * b.height };
}

it('edits a camera: changes saved, a bad value shown at its field, a slot removed', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 1280, height: 800 }, problems, expectedStatus);
  await signIn(page, `/cameras/${CAM}`);
  await page.getByRole('heading', { name: new RegExp(`^Camera ${CAM}`), level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await page.getByRole('heading', { name: `Edit camera ${CAM}`, level: 1 }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`/cameras/${CAM}/edit`);

  const fps = page.getByLabel('Frames per second');
  expect(await fps.inputValue()).toBe('5');
  await page.getByLabel('Friendly name').fill('Back yard');
  await fps.fill('2');
  await page.getByLabel('Min score of person').fill('0.5');
  await page.getByLabel('Live stream URL').fill(FOOTAGE);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect.poll(() => page.locator('#edit-status').textContent(), { timeout: 10_000 }).toMatch(/^Saved/);
  let cam = await camera();
  expect(cam.friendly_name).toBe('Back yard');
  expect(cam.detect.fps).toBe(2);
  expect(cam.objects.filters.person).toMatchObject({ min_score: 0.5, threshold: 0.55 });
  expect(cam.paths.live).toBe(FOOTAGE);
  expect(cam.objects.track).toEqual(['person', 'car']); // untouched keys stay
  expect(await page.getByLabel('Width (px)').inputValue()).toBe('640'); // the form shows the saved config
  expect(await page.getByLabel('Min score of person').inputValue()).toBe('0.5');

  // Out of range: the hub's message at the fps input, nothing stored.
  await fps.fill('60');
  expectedStatus.add(`400 ${h.baseUrl}/api/cameras/${CAM}`);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const fpsError = page.locator('#e-detect-fps-error');
  await fpsError.waitFor({ timeout: 10_000 });
  expect(await fpsError.textContent()).toMatch(/detect\.fps/);
  expect(await fps.getAttribute('aria-invalid')).toBe('true');
  expect(await fps.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
  expect((await camera()).detect.fps).toBe(2);
  await audit(page, 'camera-edit-error');

  // Back in range, and the live slot emptied: the slot is removed (a PUT, as PATCH cannot remove).
  await fps.fill('3');
  await page.getByLabel('Live stream URL').fill('');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect.poll(() => page.locator('#edit-status').textContent(), { timeout: 10_000 }).toMatch(/^Saved/);
  expect(await page.locator('#e-detect-fps-error').count()).toBe(0);
  cam = await camera();
  expect(cam.detect.fps).toBe(3);
  expect(cam.paths.live).toBeUndefined();
  expect(cam.paths.detect).toBe(FOOTAGE);
  expect(cam.friendly_name).toBe('Back yard');
  expect(cam.objects.filters.person.min_score).toBe(0.5);
  expect(cam.has_credentials).toBe(false);
  await audit(page, 'camera-edit');

  // Cancel goes back to the camera's page.
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.getByRole('heading', { name: new RegExp(`^Camera ${CAM}`), level: 1 }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`/cameras/${CAM}`);
  await ctx.close();
  expect(problems).toEqual([]);
}, 180_000);

it('draws, moves and deletes a zone; adds a motion mask with the keyboard; the config reaches the bus', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 1280, height: 800 }, problems, expectedStatus);
  await signIn(page, `/cameras/${CAM}`);
  await page.getByRole('link', { name: 'Zones and masks' }).click();
  await page.getByRole('heading', { name: `Zones and masks: ${CAM}`, level: 1 }).waitFor();
  const stage = page.locator('vigil-zone-editor .stage');
  await expect.poll(() => stage.getAttribute('data-frame'), { timeout: 20_000 }).toMatch(/^\d+x\d+$/);
  const [fw, fh] = (await stage.getAttribute('data-frame'))!.split('x').map(Number);
  const svg = stage.locator('svg');
  const box = (await svg.boundingBox())!;
  expect(box.width / box.height).toBeCloseTo(fw! / fh!, 1); // the overlay has the picture's shape

  // ---- draw a zone: 3 clicks and a double-click on the 4th corner --------------------------------
  await page.getByRole('button', { name: 'Draw zone' }).click();
  const corners: [number, number][] = [[0.1, 0.5], [0.6, 0.45], [0.7, 0.9], [0.15, 0.95]];
  for (const [x, y] of corners.slice(0, 3)) { const p = await at(svg, x, y); await page.mouse.click(p.x, p.y); }
  const last = await at(svg, ...corners[3]!);
  await page.mouse.dblclick(last.x, last.y);
  const name = page.getByLabel('Name', { exact: true });
  await expect.poll(() => name.inputValue()).toBe('zone_1');
  expect(await name.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
  await name.fill('driveway');
  await page.getByLabel('person', { exact: true }).check();
  await page.getByLabel('Loitering time (dwell, s)').fill('5');
  await page.getByRole('button', { name: 'Save zones and masks' }).click();
  await expect.poll(() => page.locator('#zones-status').textContent(), { timeout: 10_000 }).toMatch(/^Saved: 1 zone and 0 masks/);
  let zone = (await camera()).zones[0];
  expect(zone).toMatchObject({ name: 'driveway', objects: ['person'], loitering_time: 5, inertia: 3, threshold: 0 });
  expect(zone.coordinates).toHaveLength(4);
  zone.coordinates.forEach(([x, y]: [number, number], i: number) => {
    expect(Math.abs(x - corners[i]![0])).toBeLessThanOrEqual(0.02);
    expect(Math.abs(y - corners[i]![1])).toBeLessThanOrEqual(0.02);
  });
  // The zone is drawn on the picture with its name.
  expect(await svg.locator('text').allTextContents()).toContain('driveway');

  // ---- drag the second vertex -------------------------------------------------------------------
  await svg.scrollIntoViewIfNeeded();
  const from = await at(svg, zone.coordinates[1][0], zone.coordinates[1][1]);
  const to = await at(svg, 0.8, 0.3);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 4 });
  await page.mouse.up();
  await expect.poll(() => page.getByLabel('Point 2 x (%)').inputValue()).toBe('80');
  await page.getByRole('button', { name: 'Save zones and masks' }).click();
  await expect.poll(async () => (await camera()).zones[0].coordinates[1], { timeout: 10_000 }).toEqual([0.8, 0.3]);
  zone = (await camera()).zones[0];
  expect(zone.coordinates[0]).toEqual((await camera()).zones[0].coordinates[0]);
  expect(Math.abs(zone.coordinates[0][0] - 0.1)).toBeLessThanOrEqual(0.02); // the others stay
  await audit(page, 'zones');

  // ---- drawing keys: Backspace takes a point back, Enter needs 3 points, Escape cancels -------------------
  await page.getByRole('button', { name: 'Draw mask' }).click();
  for (const [x, y] of [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4]] as const) { const p = await at(svg, x, y); await page.mouse.click(p.x, p.y); }
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Enter');
  await expect.poll(() => page.locator('#zones-status').textContent()).toBe('A mask needs at least 3 points; it has 2.');
  await page.keyboard.press('Escape');
  await expect.poll(() => page.locator('#zones-status').textContent()).toBe('Drawing cancelled.');
  expect(await page.getByText('No mask yet.').isVisible()).toBe(true);
  expect(await page.evaluate(() => document.querySelector('vigil-app')!.shadowRoot!.querySelector('vigil-zone-editor')!.shadowRoot!.activeElement?.id)).toBe('draw-masks');

  // ---- a motion mask, keyboard only ---------------------------------------------------------------
  await page.getByRole('button', { name: 'Add mask' }).focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => name.inputValue()).toBe('mask_1');
  expect(await name.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
  await page.keyboard.press('Control+A');
  await page.keyboard.type('tree');
  await page.keyboard.press('Tab'); // → Applies to
  expect(await page.evaluate(() => document.querySelector('vigil-app')!.shadowRoot!.querySelector('vigil-zone-editor')!.shadowRoot!.activeElement?.id)).toBe('s-applies_to');
  await page.keyboard.press('ArrowDown'); // Motion and objects → Motion only
  await expect.poll(() => page.getByLabel('Applies to').inputValue()).toBe('motion');
  const x1 = page.getByLabel('Point 1 x (%)');
  await x1.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('150'); // out of range: the hub says where
  await page.getByRole('button', { name: 'Save zones and masks' }).focus();
  expectedStatus.add(`400 ${h.baseUrl}/api/cameras/${CAM}`);
  await page.keyboard.press('Enter');
  const coordError = page.locator('#s-coordinates-error');
  await coordError.waitFor({ timeout: 10_000 });
  expect(await coordError.textContent()).toBe('Point 1 x must be between 0 and 100 %.'); // the hub's masks.0.coordinates.0.0, in the form's terms
  expect(await x1.getAttribute('aria-invalid')).toBe('true');
  expect(await x1.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
  expect((await camera()).masks).toEqual([]);
  await audit(page, 'zones-error');
  await x1.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('10');
  await page.getByRole('button', { name: 'Add point' }).focus();
  await page.keyboard.press('Enter');
  await page.getByLabel('Point 5 x (%)').waitFor();
  await page.getByRole('button', { name: 'Save zones and masks' }).focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => page.locator('#zones-status').textContent(), { timeout: 10_000 }).toMatch(/^Saved: 1 zone and 1 mask/);
  const mask = (await camera()).masks[0];
  expect(mask).toMatchObject({ name: 'tree', applies_to: 'motion' });
  // The default rectangle with point 1 moved to x 10 %, and point 5 halfway between point 4 and point 1.
  expect(mask.coordinates).toEqual([[0.1, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75], [0.175, 0.5]]);

  // ---- the detector's side: the retained camera config on the bus carries them ------------------------
  const sub = await mqtt.connectAsync(h.mqttUrl, { ...h.mqttCreds!, protocolVersion: 4 });
  const onBus = await new Promise<any>((resolve) => {
    sub.on('message', (_t, p) => resolve(JSON.parse(p.toString())));
    void sub.subscribeAsync(`vigil/camera/${CAM}/config`);
  });
  await sub.endAsync();
  expect(onBus.zones.map((z: { name: string }) => z.name)).toEqual(['driveway']);
  expect(onBus.zones[0].coordinates[1]).toEqual([0.8, 0.3]);
  expect(onBus.masks[0]).toMatchObject({ name: 'tree', applies_to: 'motion' });

  // ---- delete the zone -------------------------------------------------------------------------------
  await page.getByRole('button', { name: 'driveway' }).click();
  await page.getByRole('button', { name: 'Delete zone' }).click();
  expect(await svg.locator('text').allTextContents()).toEqual(['tree']);
  await page.getByRole('button', { name: 'Save zones and masks' }).click();
  await expect.poll(() => page.locator('#zones-status').textContent(), { timeout: 10_000 }).toMatch(/^Saved: 0 zones and 1 mask/);
  const after = await camera();
  expect(after.zones).toEqual([]);
  expect(after.masks).toHaveLength(1);
  await ctx.close();
  expect(problems).toEqual([]);
}, 180_000);

it('works on a phone, light and dark', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 390, height: 844 }, problems, expectedStatus);
  await signIn(page, `/cameras/${CAM}/zones`);
  await page.getByRole('heading', { name: `Zones and masks: ${CAM}`, level: 1 }).waitFor();
  await expect.poll(() => page.locator('vigil-zone-editor .stage').getAttribute('data-frame'), { timeout: 20_000 }).toMatch(/^\d+x\d+$/);
  await page.getByRole('button', { name: 'tree' }).click();
  await page.getByLabel('Point 1 x (%)').waitFor();
  // Nothing wider than the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.emulateMedia({ colorScheme: 'light' });
  await audit(page, 'zones-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await audit(page, 'zones-dark');

  await page.goto(`${h.baseUrl}/cameras/${CAM}/edit`);
  await page.getByRole('heading', { name: `Edit camera ${CAM}`, level: 1 }).waitFor();
  expect(await page.getByLabel('Friendly name').inputValue()).toBe('Back yard');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await audit(page, 'camera-edit-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await audit(page, 'camera-edit-light');
  await ctx.close();
  expect(problems).toEqual([]);
}, 180_000);
