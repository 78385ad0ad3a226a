/**
 * The web UI's Recordings page (www/src/pages/recordings*.ts) and the recordings parts of the
 * Camera and Event pages, in Debian's Chromium through playwright-core against a real hub
 * whose camera really records: the RTSP test camera (vtest.avi) into 10 s segments (the
 * shortest `record.segment_seconds`).
 *
 * Checked as a user: from the camera's page to its recordings; segments that arrive appear
 * on the timeline without a reload; a click into the recorded span plays the video from
 * there (currentTime advancing, a picture, the playhead near the clicked time and following
 * playback); keyboard scrubbing (←, Shift+←, Enter); an event published on MQTT shows as a
 * mark and plays from its button; a range dragged on the timeline is exported with progress
 * to a Download link that serves an MP4 of the range's length (ffprobe) and a row in
 * `GET /api/exports`; the export plays and is deleted after a confirmation. On the event's
 * page its clip plays, an operator exports the event, and "Open in recordings" lands on its
 * moment. axe-core at 1280×800 (both themes) and 390×844, no console error.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureWwwBuilt } from '../www/build.ts';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

const run = promisify(execFile);
const CAM = 'yard';

interface Seg { id: string; start_time: number; end_time: number; duration: number; motion: boolean; objects: boolean }

let rtsp: RtspServer;
let h: TestHub;
let browser: Browser;
let scratch: string;
const problems: string[] = [];
const expectedStatus = new Set<string>();

const segments = async (): Promise<Seg[]> => (await api(h.baseUrl, 'GET', `/api/recordings?camera=${CAM}&order=asc&limit=1000`)).body as Seg[];
const probe = async (file: string): Promise<number> => Number((await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file])).stdout.trim());
/** `<input type="datetime-local">` value (local time, as the browser's — same machine, same zone) → Unix s. */
const localToUnix = (v: string): number => new Date(v).getTime() / 1000;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'vigil-webrec-'));
  await ensureWwwBuilt();
  [rtsp, h] = await Promise.all([startRtspServer(), startTestHub({ detector: { enabled: false } })]);
  const cam = { name: CAM, paths: { detect: rtsp.mainUrl, record: rtsp.mainUrl }, detect: { fps: 2, width: 320 }, record: { enabled: true, segment_seconds: 10 } };
  expect((await api(h.baseUrl, 'POST', '/api/cameras', cam)).status).toBe(201);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
  });
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await rtsp?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The timeline's view and the slider's box: x on screen of a Unix time. */
async function timelineX(page: Page): Promise<{ x: (t: number) => number; y: number }> {
  const tl = page.locator('vigil-recordings-timeline');
  await page.locator('vigil-recordings-timeline [role="slider"]').scrollIntoViewIfNeeded();
  const { from, to } = await tl.evaluate((el) => ({ from: (el as unknown as { from: number }).from, to: (el as unknown as { to: number }).to }));
  const box = (await page.locator('vigil-recordings-timeline [role="slider"]').boundingBox())!;
  return { x: (t) => box.x + ((t - from) / (to - from)) * box.width, y: box.y + 36 };
}
const prop = <T>(loc: Locator, name: string): Promise<T> => loc.evaluate((el, n) => (el as unknown as Record<string, T>)[n]!, name);
const videoState = (v: Locator) => v.evaluate((el) => {
  const x = el as HTMLVideoElement;
  return { t: x.currentTime, w: x.videoWidth, paused: x.paused, src: x.currentSrc };
});

/** Fetches a file with the page's session cookie; checks it is an MP4 (ftyp box) and returns its ffprobe duration, s. */
async function mp4Duration(page: Page, href: string, name: string): Promise<number> {
  const res = await page.request.get(new URL(href, h.baseUrl).toString());
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toMatch(/video\/mp4/);
  const body = await res.body();
  expect(body.subarray(4, 8).toString('latin1')).toBe('ftyp');
  const file = join(scratch, name);
  writeFileSync(file, body);
  return probe(file);
}

it('shows the recordings of a day, plays from the timeline, scrubs by keyboard and exports a range', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 1280, height: 800 }, problems, expectedStatus);
  await expect.poll(async () => (await segments()).length, { timeout: 45_000, interval: 1000 }).toBeGreaterThanOrEqual(1);

  // ---- from the camera's page to its recordings --------------------------------------------------
  await page.goto(`${h.baseUrl}/cameras/${CAM}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /^Camera yard/, level: 1 }).waitFor();
  await page.getByRole('main').getByRole('link', { name: 'Recordings' }).click();
  await page.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
  // The page puts the day it shows into the URL (replacing the entry: Back leaves the page).
  await expect.poll(() => new URL(page.url()).searchParams.get('day') ?? '', { timeout: 10_000 }).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  const url = new URL(page.url());
  expect(url.pathname).toBe('/recordings');
  expect(url.searchParams.get('camera')).toBe(CAM);
  expect(await page.getByRole('link', { name: 'Recordings', exact: true }).first().getAttribute('aria-current')).toBe('page');
  expect(await page.getByLabel('Camera').inputValue()).toBe(CAM);

  // ---- segments appear as they are recorded, without a reload -----------------------------------
  const tl = page.locator('vigil-recordings-timeline');
  await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true; });
  await expect.poll(() => prop<Seg[]>(tl, 'segments').then((s) => s.length), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
  const shownAtFirst = (await prop<Seg[]>(tl, 'segments')).length;
  await expect.poll(async () => (await segments()).length, { timeout: 30_000, interval: 1000 }).toBeGreaterThan(Math.max(shownAtFirst, 2));
  await expect.poll(async () => (await prop<Seg[]>(tl, 'segments')).length, { timeout: 15_000 }).toBe((await segments()).length);
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  let segs = await segments();
  const recorded = segs.reduce((s, x) => s + x.duration, 0);
  expect(await page.locator('#tl-summary').textContent()).toMatch(/recorded span/);
  console.log(`segments: ${segs.length}, ${recorded.toFixed(1)} s recorded; motion in ${segs.filter((s) => s.motion).length}`);

  // Zoom to 10 minutes: the recorded span and its motion marks (when the hub flagged motion) are drawn.
  await page.getByLabel('Show').selectOption('10m');
  await expect.poll(() => tl.locator('rect.rec').count()).toBeGreaterThanOrEqual(1);
  segs = await segments();
  expect(await tl.locator('rect.motion').count() > 0).toBe(segs.some((s) => s.motion));
  const recBox = (await tl.locator('rect.rec').first().boundingBox())!;
  expect(recBox.width).toBeGreaterThan(20); // ≥ 20 s at ~2 px/s

  // ---- click into the recorded span: the video plays from there -----------------------------------
  const video = page.locator('video#player');
  const T = segs[1]!.start_time + 2;
  let g = await timelineX(page);
  await page.mouse.click(g.x(T), g.y);
  await expect.poll(async () => { const s = await videoState(video); return !s.paused && s.t > 0.3 && s.w > 0; }, { timeout: 30_000 }).toBe(true);
  const st = await videoState(video);
  expect(st.src).toContain(`/api/cameras/${CAM}/recordings.mp4?start=`);
  expect(st.w).toBe(768);
  const p1 = await prop<number>(tl, 'playhead');
  expect(Math.abs(p1 - T)).toBeLessThan(4); // the px under the pointer is ~0.5 s wide; the file starts on a keyframe (≤ 1 s)
  expect(new URL(page.url()).searchParams.get('t')).toBe(String(Math.round(T)));
  await expect.poll(() => page.locator('#player-status').textContent(), { timeout: 10_000 }).toMatch(/^Playing from/);
  await page.waitForTimeout(2000);
  const p2 = await prop<number>(tl, 'playhead');
  expect(p2 - p1).toBeGreaterThan(0.8); // the playhead follows playback
  expect(p2 - p1).toBeLessThan(6);

  // ---- keyboard scrubbing ---------------------------------------------------------------------------
  const slider = page.getByRole('slider', { name: /^Playhead, yard/ });
  await slider.focus();
  const v0 = Number(await slider.getAttribute('aria-valuenow'));
  const c0 = (await videoState(video)).t;
  await page.keyboard.press('ArrowLeft');
  await expect.poll(async () => Number(await slider.getAttribute('aria-valuenow')), { timeout: 5000 }).toBeLessThan(v0 - 7);
  expect(Number(await slider.getAttribute('aria-valuenow'))).toBeGreaterThan(v0 - 13);
  expect((await videoState(video)).t).toBeLessThan(c0 - 5); // the video was sought back
  const v1 = Number(await slider.getAttribute('aria-valuenow'));
  await page.keyboard.press('Shift+ArrowLeft'); // a minute back: before the first recording
  await expect.poll(async () => Number(await slider.getAttribute('aria-valuenow')), { timeout: 5000 }).toBeLessThan(v1 - 55);
  expect(await slider.getAttribute('aria-valuetext')).toMatch(/not recorded$/);
  await expect.poll(async () => (await videoState(video)).paused).toBe(true);
  await page.keyboard.press('Enter'); // plays from the next recording: the first segment's start
  await expect.poll(async () => !(await videoState(video)).paused, { timeout: 20_000 }).toBe(true);
  const p3 = await prop<number>(tl, 'playhead');
  expect(Math.abs(p3 - segs[0]!.start_time)).toBeLessThan(3);
  expect(await slider.getAttribute('aria-valuetext')).toMatch(/, recorded$/);

  // ---- an event shows as a mark and plays from its button ------------------------------------------
  const evStart = Math.floor(segs[1]!.start_time) + 1;
  const ev = { id: `${evStart}.0-rec1`, camera: CAM, label: 'person', sub_label: null, score: 0.8, top_score: 0.9, false_positive: false,
    start_time: evStart, end_time: evStart + 3, box: [10, 10, 50, 90], area: 3200, entered_zones: [], has_snapshot: false, has_clip: false };
  const pub = await mqtt.connectAsync(h.mqttUrl, { ...h.mqttCreds!, protocolVersion: 4 });
  await pub.publishAsync('vigil/events', JSON.stringify({ type: 'end', before: ev, after: ev }), { qos: 1 });
  await pub.endAsync();
  const evButton = page.locator(`button[data-event="${ev.id}"]`);
  await evButton.waitFor({ timeout: 10_000 });
  expect(await evButton.textContent()).toMatch(/person$/);
  expect(await tl.locator('g.event').count()).toBe(1);
  await evButton.click();
  await expect.poll(async () => Math.abs((await prop<number>(tl, 'playhead')) - (evStart - 2)) < 3 && !(await videoState(video)).paused, { timeout: 20_000 }).toBe(true);

  // ---- export a range dragged on the timeline ----------------------------------------------------
  const A = segs[0]!.start_time + 3;
  g = await timelineX(page);
  await page.mouse.move(g.x(A), g.y);
  await page.mouse.down();
  await page.mouse.move(g.x(A + 8), g.y, { steps: 4 });
  await page.mouse.move(g.x(A + 15), g.y, { steps: 4 });
  await page.mouse.up();
  await expect.poll(() => page.getByLabel('From', { exact: true }).inputValue()).not.toBe('');
  const start = localToUnix(await page.getByLabel('From', { exact: true }).inputValue());
  const end = localToUnix(await page.getByLabel('To', { exact: true }).inputValue());
  expect(Math.abs(start - A)).toBeLessThan(2);
  expect(end - start).toBeGreaterThanOrEqual(13);
  expect(end - start).toBeLessThanOrEqual(17);
  await expect.poll(() => tl.locator('rect.selection').count()).toBe(1);
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  const status = page.locator('#export-status');
  await expect.poll(() => status.textContent(), { timeout: 10_000 }).toMatch(/^Export (queued|running|done)/);
  expect(await page.locator('#export-progress').count()).toBe(1);
  await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('Export done.');
  expect(await page.locator('#export-progress').evaluate((el) => (el as HTMLProgressElement).value)).toBe(1);
  const href = (await page.getByRole('link', { name: 'Download the export' }).getAttribute('href'))!;
  const id = /\/api\/exports\/([^/]+)\/file/.exec(href)![1]!;
  const d = await mp4Duration(page, href, 'export.mp4');
  console.log(`export ${start}–${end} (${end - start} s): ffprobe ${d.toFixed(2)} s`);
  expect(Math.abs(d - (end - start))).toBeLessThanOrEqual(2);
  const listed = (await api(h.baseUrl, 'GET', '/api/exports')).body as { id: string; status: string; camera: string; start_time: number; end_time: number; kind: string }[];
  expect(listed.find((r) => r.id === id)).toMatchObject({ status: 'done', camera: CAM, kind: 'export', start_time: start, end_time: end });
  const row = page.locator(`tr[data-export="${id}"]`);
  await expect.poll(() => row.getAttribute('data-status')).toBe('done');
  // The event's clip (made by the hub when the event ended) shows up in the list too, live.
  await expect.poll(() => page.locator('#export-list tr', { hasText: 'Event clip' }).count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);

  await page.getByRole('button', { name: 'Play the export' }).click();
  await expect.poll(async () => { const s = await videoState(video); return s.src.includes(`/api/exports/${id}/file`) && !s.paused && s.t > 0.3 && s.w > 0; }, { timeout: 20_000 }).toBe(true);
  await expect.poll(() => page.locator('#player-status').textContent()).toMatch(/^Playing the export/);

  await audit(page, 'recordings');
  const themeButton = page.getByRole('button', { name: /^Switch to the (dark|light) theme$/ });
  await themeButton.click();
  await audit(page, 'recordings-other-theme');
  await themeButton.click();

  // ---- delete the export after confirming ------------------------------------------------------------
  await row.getByRole('button', { name: /^Delete / }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: 'Delete this export?' }).waitFor();
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
  expect((await api(h.baseUrl, 'GET', `/api/exports/${id}`)).status).toBe(404);

  // A range the hub refuses (before 1970: negative Unix time): its message shows at "From".
  await page.getByLabel('From', { exact: true }).fill('1969-12-31T10:00:00');
  await page.getByLabel('To', { exact: true }).fill('1969-12-31T10:00:10');
  expectedStatus.add(`400 ${h.baseUrl}/api/exports`);
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await page.locator('#exp-start-error').waitFor({ timeout: 10_000 });
  expect(await page.getByLabel('From', { exact: true }).getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#exp-start-error').textContent()).toMatch(/\S/);
  // One checked in the page: "To" before "From".
  await page.getByLabel('To', { exact: true }).fill('1969-12-31T09:00:00');
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  expect(await page.locator('#exp-end-error').textContent()).toBe('Must be later than "From".');

  // ---- another day and Back -----------------------------------------------------------------------------
  const today = new URL(page.url()).searchParams.get('day')!;
  await page.getByRole('button', { name: 'Previous day' }).click();
  await expect.poll(() => page.locator('#tl-summary').textContent(), { timeout: 10_000 }).toBe('Nothing recorded on this day.');
  expect(new URL(page.url()).searchParams.get('day')).not.toBe(today);
  expect(await page.getByLabel('Day', { exact: true }).inputValue()).toBe(new URL(page.url()).searchParams.get('day'));
  await page.goBack();
  await expect.poll(() => page.locator('#tl-summary').textContent(), { timeout: 10_000 }).toMatch(/recorded span/);
  expect(new URL(page.url()).searchParams.get('day')).toBe(today);

  // ---- a phone ----------------------------------------------------------------------------------------
  await page.setViewportSize({ width: 390, height: 844 });
  await expect.poll(async () => ((await page.locator('vigil-recordings-timeline [role="slider"]').boundingBox())?.width ?? 999)).toBeLessThan(390);
  await audit(page, 'recordings');
  await page.setViewportSize({ width: 1280, height: 800 });

  // ---- the event's page: its clip plays; an operator exports it; "Open in recordings" --------------------
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${ev.id}`)).body.has_clip, { timeout: 30_000 }).toBe(true);
  await page.goto(`${h.baseUrl}/events/${ev.id}`);
  const clip = page.locator('video#clip');
  await clip.waitFor({ timeout: 15_000 });
  await clip.evaluate((v) => (v as HTMLVideoElement).play());
  await expect.poll(async () => { const s = await videoState(clip); return s.t > 0.3 && s.w > 0; }, { timeout: 20_000 }).toBe(true);
  await page.getByRole('button', { name: "Export the event's video" }).click();
  await expect.poll(() => page.locator('#event-export-state').textContent(), { timeout: 30_000 }).toMatch(/^Export done\./);
  const evHref = (await page.locator('#event-export-state').getByRole('link', { name: 'Download the export' }).getAttribute('href'))!;
  const evDur = await mp4Duration(page, evHref, 'event-export.mp4');
  expect(Math.abs(evDur - (3 + 5 + 5))).toBeLessThanOrEqual(2); // the event's 3 s with 5 s pre- and post-capture
  await audit(page, 'event-detail-recordings');
  await page.getByRole('link', { name: 'Open in recordings' }).click();
  await page.getByRole('heading', { name: 'Recordings', level: 1 }).waitFor();
  expect(new URL(page.url()).searchParams.get('t')).toBe(String(evStart));
  // The video is cued at that moment (paused, its frame loaded); Enter on the timeline plays it.
  await expect.poll(async () => { const v = await videoState(page.locator('video#player')); return v.src.includes('/recordings.mp4?') && v.paused && v.w > 0; }, { timeout: 20_000 }).toBe(true);
  expect(Math.abs((await prop<number>(page.locator('vigil-recordings-timeline'), 'playhead')) - evStart)).toBeLessThan(1.5);
  await page.getByRole('slider', { name: /^Playhead, yard/ }).press('Enter');
  await expect.poll(async () => { const v = await videoState(page.locator('video#player')); return !v.paused && v.t > 0; }, { timeout: 20_000 }).toBe(true);

  await ctx.close();

  // ---- a viewer sees and plays, but neither exports nor deletes ---------------------------------------------
  expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'watcher', password: 'watcher-password-1', role: 'viewer' })).status).toBe(201);
  const viewer = await watchedPage(browser, { width: 1280, height: 800 }, problems, expectedStatus);
  await viewer.page.goto(`${h.baseUrl}/recordings?camera=${CAM}`);
  await viewer.page.getByLabel('Username').fill('watcher');
  await viewer.page.getByLabel('Password').fill('watcher-password-1');
  await viewer.page.getByRole('button', { name: 'Sign in' }).click();
  await viewer.page.getByText('Operators and admins can export recordings.').waitFor();
  await viewer.page.locator('#export-list tr[data-status="done"]').first().waitFor({ timeout: 10_000 });
  expect(await viewer.page.getByRole('button', { name: 'Export', exact: true }).count()).toBe(0);
  expect(await viewer.page.locator('#export-list').getByRole('button', { name: /^Delete/ }).count()).toBe(0);
  expect(await viewer.page.locator('#export-list').getByRole('button', { name: /^Play/ }).count()).toBeGreaterThanOrEqual(1);
  await viewer.ctx.close();
  expect(problems).toEqual([]);
}, 180_000);
