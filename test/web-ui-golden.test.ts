/**
 * The web UI's golden path (issue #14), as one user does it in Debian's Chromium through
 * playwright-core against a real hub with the in-process camera component and detector,
 * a real RTSP camera (gst-rtsp-server looping real street footage: 12 s of vtest.avi's
 * pedestrians, then the same street empty), real recording, real exports and a real kiosk:
 *
 * sign in → add the camera by its RTSP URL after a connection test → see it live (MSE) →
 * turn recording on → a person event appears on its page without a reload → its clip plays
 * → export a range from the Recordings page and download it → draw a zone on the snapshot →
 * build a layout with the camera and activate it on a kiosk paired by its code.
 *
 * Every page visited is scanned with axe-core and saved as a screenshot (test-artifacts/web-ui/).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildClips } from '../bench/capacity.ts';
import { ensureWwwBuilt } from '../www/build.ts';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

const DESKTOP = { width: 1280, height: 800 };

let h: TestHub;
let rtsp: RtspServer;
let browser: Browser;
let clipDir: string;
const problems: string[] = [];
const expectedStatus = new Set<string>();

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  clipDir = mkdtempSync(join(tmpdir(), 'vigil-golden-'));
  // 12 s of people, then 28 s of the empty street: events start, and end (so their clips are made).
  const { files } = buildClips(clipDir, 1, 12, 28);
  await ensureWwwBuilt();
  rtsp = await startRtspServer({ source: files[0] });
  h = await startTestHub({ detector: { workers: 1 } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await rtsp?.stop();
  if (clipDir) rmSync(clipDir, { recursive: true, force: true });
});

/** The live view's state: its mode and the size of what it shows. */
async function liveShown(page: Page): Promise<{ mode: string | null; frames: number; w: number; h: number }> {
  return page.locator('vigil-live-view').first().evaluate((el) => {
    const v = el.shadowRoot!.querySelector('video')!;
    return { mode: el.getAttribute('data-mode'), frames: (el as unknown as { frames: number }).frames, w: v.videoWidth, h: v.videoHeight };
  });
}

it('signs in, adds an RTSP camera, watches it live, gets an event and plays its clip', async () => {
  const { ctx, page } = await watchedPage(browser, DESKTOP, problems, expectedStatus);

  // ---- sign in -----------------------------------------------------------------------------
  await page.goto(h.baseUrl);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();

  // ---- add the camera: connection test first, then add -------------------------------------
  await page.getByRole('link', { name: 'Cameras', exact: true }).click();
  await page.getByRole('heading', { name: 'Cameras', level: 1 }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('front');
  await page.getByLabel('Detect stream URL', { exact: true }).fill(rtsp.mainUrl);
  await page.getByRole('button', { name: 'Test connection (detect stream)' }).click();
  const probe = page.locator('#f-detect-probe');
  await expect.poll(() => probe.getAttribute('data-probe'), { timeout: 30_000 }).toBe('ok');
  expect(await probe.textContent()).toMatch(/H\.?264/i);
  expect(await probe.textContent()).toMatch(/640\s*[×x]\s*480/);
  await audit(page, 'golden-camera-probe');
  await page.getByRole('button', { name: 'Add camera' }).click();
  await expect.poll(() => page.locator('#cameras-message').textContent(), { timeout: 10_000 }).toBe('Camera front added.');
  const row = page.locator('tr[data-camera="front"]');
  await expect.poll(() => row.locator('[data-badge="availability"]').textContent(), { timeout: 30_000 }).toBe('online');
  // Short segments, so that clips and exports are ready within the test (the form adds with the defaults).
  expect((await api(h.baseUrl, 'PATCH', '/api/cameras/front', { record: { segment_seconds: 10 } })).status).toBe(200);

  // ---- live (MSE), recording on --------------------------------------------------------------
  await row.getByRole('link', { name: 'front' }).click();
  await page.getByRole('heading', { name: /^Camera front/, level: 1 }).waitFor();
  await expect.poll(async () => (await liveShown(page)).mode, { timeout: 20_000 }).toBe('mse');
  await expect.poll(async () => (await liveShown(page)).frames, { timeout: 20_000 }).toBeGreaterThan(10);
  const live = await liveShown(page);
  expect([live.w, live.h]).toEqual([640, 480]);
  const recording = page.getByLabel('Recording', { exact: true });
  if (!(await recording.isChecked())) await recording.click();
  await expect.poll(() => page.locator('[data-feature="record"]').textContent(), { timeout: 10_000 }).toBe('ON');
  expect((await api(h.baseUrl, 'GET', '/api/cameras/front')).body.record.enabled).toBe(true);
  // Recording on restarts the camera's ffmpeg: offline for a moment, then online again, shown live.
  await expect.poll(() => page.locator('#availability').textContent(), { timeout: 20_000 }).toBe('online');
  await audit(page, 'golden-camera');

  const recordingSince = Date.now() / 1000;

  // ---- an event appears on the page by itself; the clip of one recorded whole plays ----------
  await page.locator('tr[data-event]').filter({ hasText: 'person' }).first().waitFor({ timeout: 60_000 });
  // A person event that started after recording began (plus the clip's 5 s pre-capture) has a clip once it ended.
  let event: { id: string; start_time: number } | undefined;
  await expect.poll(async () => {
    const list = (await api(h.baseUrl, 'GET', `/api/events?camera=front&label=person&after=${Math.ceil(recordingSince + 5)}&limit=100`)).body as { id: string; start_time: number; has_clip: boolean }[];
    event = list.find((e) => e.has_clip);
    return event !== undefined;
  }, { timeout: 150_000, interval: 2000 }).toBe(true);
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByLabel('Camera', { exact: true }).selectOption('front');
  await page.getByLabel('Label').fill('person');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect.poll(() => new URL(page.url()).searchParams.get('camera')).toBe('front');
  // Narrowed to the second it started in, the event is on the list.
  await page.goto(`${h.baseUrl}/events?camera=front&label=person&after=${Math.floor(event!.start_time)}&before=${Math.floor(event!.start_time) + 1}`);
  const eventRow = page.locator(`tr[data-event="${event!.id}"]`);
  await eventRow.waitFor({ timeout: 15_000 });
  await eventRow.getByRole('link').first().click();
  await page.getByRole('heading', { name: 'person on front', level: 1 }).waitFor();
  const clip = page.locator('video#clip');
  await clip.waitFor({ timeout: 15_000 });
  await clip.evaluate((v: HTMLVideoElement) => { v.muted = true; return v.play(); });
  await expect.poll(() => clip.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 }).toBeGreaterThan(0.5);
  expect(await clip.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([640, 480]);
  await audit(page, 'golden-event');

  // ---- export a range of the recordings and download it ----------------------------------------
  await page.getByRole('link', { name: 'Recordings', exact: true }).first().click();
  await page.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
  await page.getByLabel('Camera').selectOption('front');
  const segs = (await api(h.baseUrl, 'GET', '/api/recordings?camera=front&order=asc&limit=100')).body as { start_time: number; end_time: number }[];
  expect(segs.length).toBeGreaterThan(1);
  const from = Math.ceil(segs[0]!.start_time) + 1;
  await page.getByLabel('From', { exact: true }).fill(localInput(from));
  await page.getByLabel('To', { exact: true }).fill(localInput(from + 12));
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await expect.poll(() => page.locator('#export-status').textContent(), { timeout: 60_000 }).toBe('Export done.');
  const href = (await page.getByRole('link', { name: 'Download the export' }).getAttribute('href'))!;
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the export' }).click()]);
  const mp4 = readFileSync(await download.path());
  expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
  expect(href).toMatch(/^\/api\/exports\/[^/]+\/file/);
  await audit(page, 'golden-recordings');

  // ---- draw a zone on the camera's picture ------------------------------------------------------
  await page.goto(`${h.baseUrl}/cameras/front`);
  await page.getByRole('link', { name: 'Zones and masks' }).click();
  await page.getByRole('heading', { name: 'Zones and masks: front', level: 1 }).waitFor();
  const stage = page.locator('vigil-zone-editor .stage');
  await expect.poll(() => stage.getAttribute('data-frame'), { timeout: 20_000 }).toMatch(/^\d+x\d+$/);
  const svg = stage.locator('svg');
  await svg.scrollIntoViewIfNeeded();
  await page.getByRole('button', { name: 'Draw zone' }).click();
  const corners: [number, number][] = [[0.05, 0.55], [0.95, 0.55], [0.95, 0.95], [0.05, 0.95]];
  const at = async ([x, y]: [number, number]) => { const b = (await svg.boundingBox())!; return { x: b.x + x * b.width, y: b.y + y * b.height }; };
  for (const c of corners.slice(0, 3)) { const pt = await at(c); await page.mouse.click(pt.x, pt.y); }
  const lastPt = await at(corners[3]!);
  await page.mouse.dblclick(lastPt.x, lastPt.y);
  await page.getByLabel('Name', { exact: true }).fill('pavement');
  await page.getByLabel('person', { exact: true }).check();
  await page.getByRole('button', { name: 'Save zones and masks' }).click();
  await expect.poll(() => page.locator('#zones-status').textContent(), { timeout: 10_000 }).toMatch(/^Saved: 1 zone/);
  const zone = (await api(h.baseUrl, 'GET', '/api/cameras/front')).body.zones[0];
  expect(zone.name).toBe('pavement');
  expect(zone.objects).toEqual(['person']);
  zone.coordinates.forEach(([x, y]: [number, number], i: number) => {
    expect(Math.abs(x - corners[i]![0])).toBeLessThan(0.02);
    expect(Math.abs(y - corners[i]![1])).toBeLessThan(0.02);
  });
  await audit(page, 'golden-zones');

  // ---- a layout with the camera, activated on a kiosk paired by its code -----------------------
  await page.getByRole('link', { name: 'Wall', exact: true }).click();
  await page.getByRole('heading', { name: 'Layouts', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'New layout' }).click();
  await page.getByRole('heading', { name: 'New layout', level: 1 }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('Golden');
  await page.getByRole('button', { name: 'Preset 2×2' }).click();
  await page.locator('vigil-layout-grid button[data-region]').first().click();
  await page.getByLabel('Shows').selectOption('camera');
  await page.getByLabel('Camera', { exact: true }).selectOption('front');
  await page.getByRole('button', { name: 'Create layout' }).click();
  await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/layouts/golden')).status, { timeout: 10_000 }).toBe(200);
  await audit(page, 'golden-layout');

  const kctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const kpage = await kctx.newPage();
  kpage.on('pageerror', (e) => problems.push(`kiosk pageerror: ${e.message}`));
  await kpage.goto(`${h.baseUrl}/kiosk`);
  const codeEl = kpage.locator('[data-pairing-code]');
  await expect.poll(() => codeEl.getAttribute('data-pairing-code'), { timeout: 20_000 }).toMatch(/^[A-Z0-9]{6}$/);
  const code = (await codeEl.getAttribute('data-pairing-code'))!;
  await page.getByRole('link', { name: 'Wall', exact: true }).click();
  await page.goto(`${h.baseUrl}/displays`);
  await page.getByLabel('Pairing code').fill(code);
  await page.getByRole('button', { name: 'Pair kiosk' }).click();
  await kpage.waitForFunction(() => (window as unknown as { __vigilKiosk?: { phase: string } }).__vigilKiosk?.phase === 'online', undefined, { timeout: 30_000 });
  await page.getByLabel('Layout for HDMI-0').selectOption('golden');
  await page.getByRole('button', { name: 'Activate on HDMI-0' }).click();
  await kpage.waitForFunction(() => (window as unknown as { __vigilKiosk?: { lastSwitch?: { layout: string; painted_ms: number | null } } }).__vigilKiosk?.lastSwitch?.layout === 'golden', undefined, { timeout: 30_000 });
  const players = () => kpage.evaluate(() => (window as unknown as { __vigilKiosk: { players(): Record<string, { cell?: string; frames: number; readyState: number }> } }).__vigilKiosk.players());
  await expect.poll(async () => Object.entries(await players()).filter(([k, p]) => k.startsWith('front/') && p.cell && p.readyState >= 2).length, { timeout: 30_000 }).toBe(1);
  await audit(page, 'golden-displays');
  await kpage.screenshot({ path: join(SHOTS, 'golden-kiosk-1280x720.png') });
  await kctx.close();

  await ctx.close();
  expect(problems).toEqual([]);
}, 420_000);

/** Unix s → the value of an `<input type="datetime-local" step="1">` (local time, seconds). */
function localInput(unixS: number): string {
  const d = new Date(unixS * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
