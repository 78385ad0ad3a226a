/**
 * Recordings playback and exports on real segments: one real ffmpeg records the RTSP test
 * camera into 5 s fragmented MP4 segments, which are placed in the recordings layout of a
 * test hub and indexed. The recordings router runs on a small express 5 app with the hub's
 * auth (the hub's own app does not mount it yet), the export service on the hub's bus.
 * Checked: listing with filters, HTTP Range, ffprobe on served files, a range as one MP4,
 * export jobs with MQTT progress, event clips, HLS in real Chromium through hls.js, media
 * tokens, and path traversal.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import cookieParser from 'cookie-parser';
import express from 'express';
import helmet from 'helmet';
import { chromium, type Browser } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrackedObjectState } from '../components/protocol/tracked-object.ts';
import { authenticate } from '../hub/http/auth.ts';
import { errorHandler, notFound } from '../hub/http/errors.ts';
import { PLAYER_PAGE, PLAYER_SCRIPT } from '../hub/http/player-page.ts';
import { recordingsRouter } from '../hub/http/routes-recordings.ts';
import type { ExportMessage } from '../hub/services/export-queue.ts';
import { ExportService } from '../hub/services/exports.ts';
import { EventsRepo } from '../hub/store/events-repo.ts';
import { RecordingsRepo, type ExportRow, type RecordingRow } from '../hub/store/recordings-repo.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { startRtspServer } from './helpers/rtsp.ts';

const run = promisify(execFile);
const CAM = 'cam1';
const RECORD_S = 21;

let h: TestHub;
let server: Server;
let base: string;
let root: string;
let repo: RecordingsRepo;
let events: EventsRepo;
let exportsSvc: ExportService;
let segs: RecordingRow[] = [];
let rec: MqttRecorder;
let browser: Browser | undefined;
let scratch: string;
const timings: Record<string, number> = {};

async function probeDuration(input: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', input]);
  return Number(stdout.trim());
}

/** Records the RTSP camera for ~RECORD_S seconds into 5 s fragmented MP4 segments named by their UTC start. */
async function recordSegments(dir: string): Promise<void> {
  const cam = await startRtspServer();
  try {
    const p = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-rtsp_transport', 'tcp', '-i', cam.mainUrl, '-map', '0:v:0', '-c', 'copy',
      '-f', 'segment', '-segment_time', '5', '-reset_timestamps', '1', '-segment_format', 'mp4',
      '-segment_format_options', 'movflags=+frag_keyframe+empty_moov+default_base_moof', '-strftime', '1', join(dir, '%Y%m%d%H%M%S.mp4'),
    ], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    await Promise.race([new Promise((r) => setTimeout(r, RECORD_S * 1000)), exited]);
    p.kill('SIGINT');
    await exited;
    if (readdirSync(dir).length < 3) throw new Error(`ffmpeg made too few segments: ${stderr}`);
  } finally {
    await cam.stop();
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Moves the segments into `<root>/<cam>/YYYY-MM-DD/HH/MM.SS.mp4` and indexes them (contiguous start times from the first file's name). */
async function indexSegments(dir: string): Promise<RecordingRow[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort();
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.mp4$/.exec(files[0]!)!;
  let start = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  const rows: RecordingRow[] = [];
  for (const f of files) {
    const src = join(dir, f);
    const duration = Math.round((await probeDuration(src)) * 1000) / 1000;
    const d = new Date(start * 1000);
    const rel = [CAM, `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`, pad(d.getUTCHours()), `${pad(d.getUTCMinutes())}.${pad(d.getUTCSeconds())}.mp4`];
    mkdirSync(join(root, ...rel.slice(0, -1)), { recursive: true });
    renameSync(src, join(root, ...rel));
    const row: RecordingRow = {
      id: `${CAM}:${start.toFixed(3)}`, camera: CAM, path: rel.join('/'), start_time: start, end_time: Math.round((start + duration) * 1000) / 1000,
      duration, bytes: statSync(join(root, ...rel)).size, motion: false, objects: false,
    };
    await repo.upsert(row);
    rows.push(row);
    start = row.end_time;
  }
  return rows;
}

function event(id: string, start: number, end: number): TrackedObjectState {
  return {
    id, camera: CAM, frame_time: end, label: 'person', sub_label: null, score: 0.8, top_score: 0.8, false_positive: false,
    start_time: start, end_time: end, box: [10, 10, 50, 100], area: 3600, ratio: 0.4, current_zones: [], entered_zones: [],
    loitering: false, has_snapshot: false, has_clip: false, stationary: false, motionless_count: 0, position_changes: 1,
  };
}

const admin = () => ({ token: h.adminToken! });
async function mediaToken(camera: string): Promise<string> {
  const r = await api(h.baseUrl, 'POST', '/api/media-tokens', { camera });
  expect(r.status).toBe(201);
  return r.body.token as string;
}
async function waitExport(id: string, status: ExportRow['status'] = 'done', timeoutMs = 20_000): Promise<ExportRow> {
  let row: ExportRow | undefined;
  await expect.poll(async () => { row = (await api(base, 'GET', `/api/exports/${id}`, undefined, admin())).body; return row?.status; }, { timeout: timeoutMs, interval: 100 }).toBe(status);
  return row!;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vigil-recplay-'));
  const segDir = join(scratch, 'segments');
  mkdirSync(segDir);
  // The recording (~21 s) and the hub start run side by side.
  [h] = await Promise.all([startTestHub({ camera: { enabled: false }, detector: { enabled: false }, recordings: { max_percent: 100, min_free_gb: 0 } }), recordSegments(segDir)]);
  root = join(h.dataDir, 'recordings');
  const ds = (h.hub as unknown as { ds: DataSource }).ds;
  repo = new RecordingsRepo(ds);
  events = new EventsRepo(ds);
  segs = await indexSegments(segDir);
  const logger = (await import('../components/protocol/log.ts')).silentLogger;
  exportsSvc = new ExportService({ repo, events, root, bus: (h.hub as unknown as { bus: never }).bus, topics: h.hub.topics, logger, waitTimeoutS: 30 });
  await exportsSvc.start();
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/recorder/export/#']);

  const app = express();
  app.use(helmet({
    contentSecurityPolicy: {
      // The hub's CSP (hub/http/app.ts) plus media-src blob: for hls.js's MediaSource.
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'], connectSrc: ["'self'", 'ws:', 'wss:'], frameAncestors: ["'none'"], objectSrc: ["'none'"], upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: false,
  }));
  app.use(express.json());
  app.use(cookieParser());
  app.use('/api', authenticate(h.hub.auth!));
  app.use('/api', recordingsRouter({ repo, exports: exportsSvc, auth: h.hub.auth!, root, events }));
  app.use('/api', notFound);
  app.get('/player.html', (_req, res) => { res.type('html').send(PLAYER_PAGE); });
  app.get('/player.js', (_req, res) => { res.type('text/javascript').send(PLAYER_SCRIPT); });
  const hlsJs = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
  app.get('/vendor/hls.min.js', (_req, res) => { res.sendFile(hlsJs); });
  app.use(errorHandler(logger));
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await rec?.close();
  await exportsSvc?.stop();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  await h?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  console.log('recordings-playback timings', timings);
});

describe('recordings', () => {
  it('has real segments', () => {
    expect(segs.length).toBeGreaterThanOrEqual(3);
    for (const s of segs) expect(s.duration).toBeGreaterThan(3);
  });

  it('lists segments with camera, time filters, pagination and grants', async () => {
    const all = await api(base, 'GET', `/api/recordings?camera=${CAM}`, undefined, admin());
    expect(all.status).toBe(200);
    expect(all.headers.get('x-total-count')).toBe(String(segs.length));
    expect(all.body.map((r: RecordingRow) => r.id)).toEqual([...segs].reverse().map((s) => s.id));
    expect(all.body[0]).toMatchObject({ camera: CAM, motion: false, objects: false });

    const mid = segs[1]!;
    const win = await api(base, 'GET', `/api/recordings?after=${mid.start_time + 0.5}&before=${mid.end_time - 0.5}&order=asc`, undefined, admin());
    expect(win.body.map((r: RecordingRow) => r.id)).toEqual([mid.id]);
    const page = await api(base, 'GET', '/api/recordings?limit=2&offset=1&order=asc', undefined, admin());
    expect(page.headers.get('x-total-count')).toBe(String(segs.length));
    expect(page.body.map((r: RecordingRow) => r.id)).toEqual([segs[1]!.id, segs[2]!.id]);

    const bad = await api(base, 'GET', '/api/recordings?after=soon', undefined, admin());
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('query.after');
    expect((await api(base, 'GET', '/api/recordings?camera=../x', undefined, admin())).status).toBe(400);
    expect((await api(base, 'GET', '/api/recordings?limit=0', undefined, admin())).body.error.field).toBe('query.limit');
    expect((await api(base, 'GET', '/api/recordings', undefined, null)).status).toBe(401);

    // A viewer granted another camera sees none of these.
    const auth = h.hub.auth!;
    const u = await auth.users.create({ username: 'viewer2', password: 'viewer2-password-long', role: 'viewer', cameras: ['cam2'] });
    const token = (await auth.sessions.open(u.id, '127.0.0.1')).access_token;
    const v = await api(base, 'GET', `/api/recordings?camera=${CAM}`, undefined, { token });
    expect(v.status).toBe(200);
    expect(v.body).toEqual([]);
    expect(v.headers.get('x-total-count')).toBe('0');
    expect((await api(base, 'GET', `/api/recordings/${encodeURIComponent(segs[0]!.id)}/file`, undefined, { token })).status).toBe(404);
  });

  it('serves a segment with HTTP Range, readable by ffprobe', async () => {
    const s = segs[1]!;
    const bytes = readFileSync(join(root, ...s.path.split('/')));
    const url = `${base}/api/recordings/${encodeURIComponent(s.id)}/file`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${h.adminToken}`, range: 'bytes=100-1099' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 100-1099/${bytes.length}`);
    expect(res.headers.get('content-type')).toMatch(/^video\/mp4/);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(100, 1100))).toBe(true);
    const tail = await fetch(url, { headers: { authorization: `Bearer ${h.adminToken}`, range: `bytes=${bytes.length - 10}-` } });
    expect(tail.status).toBe(206);
    expect((await tail.arrayBuffer()).byteLength).toBe(10);

    // ffprobe over HTTP with a media token (it seeks with Range requests).
    const tok = await mediaToken(CAM);
    const d = await probeDuration(`${url}?token=${tok}`);
    expect(d).toBeCloseTo(s.duration, 1);
  });

  it('serves a time range spanning two segments as one seekable MP4', async () => {
    const a = segs[0]!;
    const b = segs[1]!;
    const start = a.start_time + 2.5;
    const end = b.start_time + 2.5;
    const tok = await mediaToken(CAM);
    const url = `${base}/api/cameras/${CAM}/recordings.mp4?start=${start}&end=${end}&token=${tok}`;
    const t0 = Date.now();
    const first = await fetch(url, { headers: { range: 'bytes=0-99' } });
    timings.range_mp4_ms = Date.now() - t0;
    expect(first.status).toBe(206);
    const total = Number(first.headers.get('content-range')!.split('/')[1]);
    expect(total).toBeGreaterThan(100_000);
    expect(Number(first.headers.get('x-recording-start'))).toBeCloseTo(start, 3);
    const d = await probeDuration(url);
    expect(Math.abs(d - (end - start))).toBeLessThan(1.5);
    // A second request hits the cache file.
    const again = await fetch(url, { method: 'HEAD' });
    expect(again.headers.get('content-length')).toBe(String(total));
    expect(readdirSync(exportsSvc.cacheDir).filter((f) => f.endsWith('.mp4'))).toHaveLength(1);
    expect(await exportsSvc.sweepCache(0)).toBeGreaterThanOrEqual(1);
    const none = await api(base, 'GET', `/api/cameras/${CAM}/recordings.mp4?start=1000&end=2000`, undefined, admin());
    expect(none.status).toBe(404);
    expect((await api(base, 'GET', `/api/cameras/${CAM}/recordings.mp4?start=2000&end=1000`, undefined, admin())).body.error.field).toBe('query.end');
  });

  it('runs an export job with MQTT progress and a playable file', async () => {
    const start = segs[0]!.start_time + 1;
    const end = segs[2]!.start_time + 2;
    const t0 = Date.now();
    const created = await api(base, 'POST', '/api/exports', { camera: CAM, start, end }, admin());
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ kind: 'export', camera: CAM, status: 'queued', created_by: 'admin' });
    const id = created.body.id as string;
    const topic = `vigil/recorder/export/${id}`;
    await rec.waitFor((m) => m.topic === topic && JSON.parse(m.payload.toString()).status === 'done', 20_000, 'export done');
    timings.export_ms = Date.now() - t0;
    const msgs = rec.on(topic).map((m) => ({ ...(JSON.parse(m.payload.toString()) as ExportMessage), qos: m.qos }));
    const statuses = msgs.map((m) => m.status).filter((s, i, a) => a[i - 1] !== s);
    expect(statuses).toEqual(['queued', 'running', 'done']);
    const progress = msgs.map((m) => m.progress);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(1);
    expect(msgs.at(-1)).toMatchObject({ id, kind: 'export', camera: CAM, status: 'done', progress: 1 });
    expect(msgs.at(-1)!.bytes).toBeGreaterThan(100_000);
    expect(msgs.every((m) => m.qos === 1)).toBe(true);

    const row = await waitExport(id);
    expect(row.bytes).toBe(msgs.at(-1)!.bytes);
    expect(row.start_time).toBeCloseTo(start, 3);
    expect(row.end_time).toBeCloseTo(end, 3);
    const tok = await mediaToken(CAM);
    const d = await probeDuration(`${base}/api/exports/${id}/file?token=${tok}`);
    expect(Math.abs(d - (end - start))).toBeLessThan(1.5);
    timings.export_media_s = Math.round((end - start) * 10) / 10;
    const ranged = await fetch(`${base}/api/exports/${id}/file?token=${tok}`, { headers: { range: 'bytes=0-9' } });
    expect(ranged.status).toBe(206);

    const bad = await api(base, 'POST', '/api/exports', { camera: CAM, start: 'soon', end }, admin());
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('start');
    expect((await api(base, 'POST', '/api/exports', { camera: CAM, start: end, end: start }, admin())).body.error.field).toBe('end');
    expect((await api(base, 'POST', '/api/exports', { event: '../x' }, admin())).body.error.field).toBe('event');

    const listed = await api(base, 'GET', '/api/exports', undefined, admin());
    expect(listed.body.map((e: ExportRow) => e.id)).toContain(id);

    // Deleting removes the file, the row and the retained final state.
    const file = join(root, 'exports', `${id}.mp4`);
    expect(existsSync(file)).toBe(true);
    expect((await api(base, 'DELETE', `/api/exports/${id}`, undefined, admin())).status).toBe(204);
    expect(existsSync(file)).toBe(false);
    expect((await api(base, 'GET', `/api/exports/${id}`, undefined, admin())).status).toBe(404);
  });

  it('keeps a job queued until a segment announcement covers its range', async () => {
    const last = segs.at(-1)!;
    const end = last.end_time + 3;
    const row = await exportsSvc.create({ camera: CAM, start: last.start_time + 1, end, kind: 'export' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await exportsSvc.get(row.id))!.status).toBe('queued');
    // The path is not a segment path on purpose: the hub's own recording index drops the message
    // instead of indexing a file that does not exist; the export service only reads `end_time`.
    await rec.client.publishAsync(`vigil/recorder/${CAM}/segment`, JSON.stringify({ id: `${CAM}:${last.end_time.toFixed(3)}`, camera: CAM, path: 'not-a-segment', start_time: last.end_time, end_time: end + 1, duration: 4, bytes: 1 }), { qos: 1 });
    const done = await waitExport(row.id);
    // It ran with what exists: the range ends where the recordings end.
    expect(done.end_time).toBeCloseTo(last.end_time, 3);
    await exportsSvc.delete(row.id);
  });

  it('makes an event clip around the event (pre/post capture)', async () => {
    const s = segs[1]!;
    const ev = event('1763700000.123-abcdef', s.start_time + 1.2, s.start_time + 3.7);
    await events.upsert(ev);
    // `has_clip` in REST events (the hub's app): true only while a `done` clip row of the event exists.
    const hasClip = async () => {
      const one = await api(h.baseUrl, 'GET', `/api/events/${ev.id}`);
      const listed = await api(h.baseUrl, 'GET', `/api/events?camera=${CAM}`);
      expect(one.status).toBe(200);
      const inList = (listed.body as Array<{ id: string; has_clip: boolean }>).find((e) => e.id === ev.id);
      expect(inList?.has_clip).toBe(one.body.has_clip);
      return one.body.has_clip as boolean;
    };
    expect(await hasClip()).toBe(false);
    // A failed clip does not count.
    const failed: ExportRow = {
      id: 'failed-clip-1', kind: 'clip', camera: CAM, event_id: ev.id, start_time: ev.start_time, end_time: ev.end_time!, status: 'failed',
      progress: 0, path: null, bytes: null, error: 'test', created_by: null, created_at: Math.floor(Date.now() / 1000),
    };
    await repo.saveExport(failed);
    expect(await hasClip()).toBe(false);
    expect(await exportsSvc.delete(failed.id)).toBe(true);
    expect(await exportsSvc.onEventEnd({ id: ev.id, camera: CAM, start_time: ev.start_time, end_time: ev.end_time! }, { enabled: true, event_clips: false, pre_capture: 2, post_capture: 2 })).toBeNull();
    expect(await exportsSvc.onEventEnd({ id: ev.id, camera: CAM, start_time: ev.start_time, end_time: ev.end_time! }, { enabled: false, event_clips: true, pre_capture: 2, post_capture: 2 })).toBeNull();
    const clip = (await exportsSvc.onEventEnd({ id: ev.id, camera: CAM, start_time: ev.start_time, end_time: ev.end_time! }, { enabled: true, event_clips: true, pre_capture: 2, post_capture: 2 }))!;
    expect(clip).toMatchObject({ kind: 'clip', event_id: ev.id });
    // One clip per event.
    expect((await exportsSvc.clipForEvent(ev.id)).id).toBe(clip.id);
    const done = await waitExport(clip.id);
    expect(await hasClip()).toBe(true);
    const evTok = (await api(h.baseUrl, 'POST', '/api/media-tokens', { event: ev.id })).body.token as string;
    const d = await probeDuration(`${base}/api/exports/${clip.id}/file?token=${evTok}`);
    expect(done.start_time).toBeLessThanOrEqual(ev.start_time);
    expect(done.start_time + d).toBeGreaterThanOrEqual(ev.end_time!);
    expect(Math.abs(d - (ev.end_time! - ev.start_time + 4))).toBeLessThan(1.5);

    // A user export of the event window is kind `export` (kept by clip retention).
    const exp = await api(base, 'POST', '/api/exports', { event: ev.id }, admin());
    expect(exp.status).toBe(202);
    expect(exp.body).toMatchObject({ kind: 'export', event_id: ev.id, start_time: ev.start_time - 5, end_time: ev.end_time! + 5 });
    await waitExport(exp.body.id);
    expect((await api(base, 'POST', '/api/exports', { event: 'no-such-event' }, admin())).status).toBe(404);

    // Clip retention removes clips only.
    expect(await exportsSvc.sweepClips(1)).toBe(0);
    expect(await exportsSvc.sweepClips(-1)).toBe(1);
    expect(existsSync(join(root, 'exports', `${clip.id}.mp4`))).toBe(false);
    expect(await exportsSvc.get(exp.body.id)).not.toBeNull();
    // The clip is gone; the event's done `export` row is not a clip.
    expect(await hasClip()).toBe(false);
  });

  it('plays an HLS VOD playlist in Chromium through hls.js, and seeks', async () => {
    const first = segs[0]!;
    const lastSeg = segs.at(-1)!;
    const total = segs.reduce((a, s) => a + s.duration, 0);
    const tok = await mediaToken(CAM);
    const path = `/api/cameras/${CAM}/recordings.m3u8?start=${first.start_time}&end=${lastSeg.end_time}&token=${tok}`;
    const pl = await fetch(base + path);
    expect(pl.status).toBe(200);
    expect(pl.headers.get('content-type')).toMatch(/^application\/vnd\.apple\.mpegurl/);
    const text = await pl.text();
    expect(text).toMatch(/^#EXTM3U\n/);
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text).toMatch(/#EXT-X-TARGETDURATION:\d+/);
    expect(text.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
    const uris = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(uris).toHaveLength(segs.length);
    expect(text.match(/#EXTINF:/g)).toHaveLength(segs.length);
    for (const u of uris) expect(new URL(u, base + path).searchParams.get('token')).toBeTruthy();

    // One TS segment, as hls.js would fetch it.
    const tsUrl = new URL(uris[1]!, base + path).href;
    const t0 = Date.now();
    const ts = await fetch(tsUrl);
    const tsBytes = Buffer.from(await ts.arrayBuffer());
    timings.remux_ts_ms = Date.now() - t0;
    expect(ts.status).toBe(200);
    expect(ts.headers.get('content-type')).toBe('video/mp2t');
    expect(tsBytes[0]).toBe(0x47);
    const tsFile = join(scratch, 'seg.ts');
    writeFileSync(tsFile, tsBytes);
    expect(Math.abs((await probeDuration(tsFile)) - segs[1]!.duration)).toBeLessThan(0.5);

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
    });
    const page = await browser.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') cspErrors.push(m.text()); });
    await page.goto(`${base}/player.html?src=${encodeURIComponent(path)}`);
    await page.waitForFunction(() => {
      const p = (window as any).__player;
      return p && (p.error || p.video.currentTime > 1.5);
    }, undefined, { timeout: 20_000 });
    const state = await page.evaluate(() => {
      const p = (window as any).__player;
      const v = p.video as HTMLVideoElement;
      return { error: p.error, t: v.currentTime, seekableEnd: v.seekable.length ? v.seekable.end(v.seekable.length - 1) : 0, w: v.videoWidth };
    });
    expect(state.error, cspErrors.join('\n')).toBeNull();
    expect(state.w).toBe(768);
    expect(Math.abs(state.seekableEnd - total)).toBeLessThan(1);

    const mid = total / 2;
    await page.evaluate((m) => { ((window as any).__player.video as HTMLVideoElement).currentTime = m; }, mid);
    await page.waitForFunction((m) => {
      const v = (window as any).__player.video as HTMLVideoElement;
      return !v.seeking && v.currentTime > m + 1;
    }, mid, { timeout: 20_000 });
    expect(await page.evaluate(() => (window as any).__player.error)).toBeNull();
  });

  it('refuses media without a token, with another camera\'s token, and path traversal', async () => {
    const id = encodeURIComponent(segs[0]!.id);
    const s0 = segs[0]!;
    const range = `start=${s0.start_time}&end=${s0.end_time}`;
    const other = await mediaToken('cam2');
    for (const p of [`/api/recordings/${id}/file`, `/api/recordings/${id}/segment.ts`, `/api/cameras/${CAM}/recordings.mp4?${range}`, `/api/cameras/${CAM}/recordings.m3u8?${range}`]) {
      const anon = await api(base, 'GET', p, undefined, null);
      expect(anon.status, p).toBe(401);
      expect(anon.body.error.code).toBe('unauthorized');
      const wrong = await api(base, 'GET', `${p}${p.includes('?') ? '&' : '?'}token=${other}`, undefined, null);
      expect(wrong.status, p).toBe(404);
      const bad = await api(base, 'GET', `${p}${p.includes('?') ? '&' : '?'}token=not-a-token`, undefined, null);
      expect(bad.status, p).toBe(401);
    }

    // Traversal in ids and names: JSON 400/404, never a file.
    const tok = await mediaToken(CAM);
    const attempts = [
      '/api/recordings/..%2F..%2Fetc/file',
      '/api/recordings/..%2F..%2Fvigil.db/file',
      `/api/recordings/${CAM}:..%2F..%2F..%2Fvigil.db/file`,
      `/api/recordings/${CAM}:1..2/file`,
      `/api/recordings/${CAM}:%2E%2E/segment.ts`,
      '/api/exports/..%2F..%2Fvigil.db/file',
      '/api/exports/..%2Fexports%2F.cache/file',
      `/api/cameras/..%2F..%2Fetc/recordings.mp4?start=1&end=2`,
      `/api/cameras/${CAM}%2F..%2F..%2Fvigil.db/recordings.m3u8?start=1&end=2`,
    ];
    for (const p of attempts) {
      for (const who of [admin(), null]) {
        const r = await api(base, 'GET', `${p}${p.includes('?') ? '&' : '?'}token=${tok}`, undefined, who);
        expect([400, 404], p).toContain(r.status);
        expect(r.headers.get('content-type'), p).toMatch(/^application\/json/);
        expect(r.body.error.code).toBeTruthy();
      }
    }
    // A row whose stored path escapes the root is refused by safeJoin, not served. (It points at a
    // canary file, not at vigil.db: a retention sweep that trusted the row would delete its target.)
    writeFileSync(join(h.dataDir, 'canary.txt'), 'must not be served');
    await repo.upsert({ id: `${CAM}:1000.000`, camera: CAM, path: '../canary.txt', start_time: 1000, end_time: 1005, duration: 5, bytes: 1, motion: false, objects: false });
    const esc = await api(base, 'GET', `/api/recordings/${CAM}:1000.000/file`, undefined, admin());
    expect(esc.status).toBe(400);
    expect(esc.body.error.code).toBe('bad_path');
    const escTs = await api(base, 'GET', `/api/recordings/${CAM}:1000.000/segment.ts`, undefined, admin());
    expect(escTs.status).toBe(400);
    expect(JSON.stringify(escTs.body)).not.toContain('must not be served');
    await repo.delete([`${CAM}:1000.000`]);
  });
});
