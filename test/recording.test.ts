/**
 * Recording on real parts: segments of the set length that ffprobe reads, rows that
 * match files, one ffmpeg per camera input, retention oldest-first by size, a full disk
 * (a small tmpfs) that keeps the recorder alive with the alert published, and a
 * `kill -9` of the hub mid-segment repaired at the next start.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { api, startTestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { RecordingsRepo } from '../hub/store/recordings-repo.ts';
import { freePort } from './helpers/ports.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const probe = (file: string) => Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString().trim());
const dsOf = (h: { hub: unknown }) => (h.hub as { ds: import('typeorm').DataSource }).ds;
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.mp4')).map((e) => join(e.parentPath, e.name));
}
const camera = (url: string, extra: Record<string, unknown> = {}) => ({
  name: 'drive', paths: { detect: url, record: url }, detect: { fps: 2, width: 320 }, record: { enabled: true, segment_seconds: 10 }, ...extra,
});

let rtsp: RtspServer;
beforeAll(async () => { rtsp = await startRtspServer(); });
afterAll(async () => { await rtsp?.stop(); });

describe('segments', () => {
  it('records 10 s segments with -c copy from one ffmpeg, rows matching files', async () => {
    const h = await startTestHub({ detector: { enabled: false } });
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/recorder/drive/segment']);
    try {
      expect((await api(h.baseUrl, 'POST', '/api/cameras', camera(rtsp.mainUrl))).status).toBe(201);
      await rec.waitFor(() => rec.on('vigil/recorder/drive/segment').length >= 3, 45_000, 'three segments');
      // One ffmpeg for the one input URL, although it feeds detect, recording and live.
      const ps = execFileSync('ps', ['-eo', 'ppid,args']).toString().split('\n').filter((l) => l.includes(rtsp.mainUrl) && l.includes('ffmpeg'));
      expect(ps.filter((l) => Number(l.trim().split(/\s+/)[0]) === process.pid)).toHaveLength(1);
      expect(ps[0]).toContain('-c copy');
      const segs = rec.on('vigil/recorder/drive/segment').map((m) => JSON.parse(m.payload.toString()));
      const recRoot = join(h.dataDir, 'recordings');
      for (const s of segs.slice(1)) { // the first one starts at whatever keyframe came first
        expect(s.path).toMatch(/^drive\/\d{4}-\d{2}-\d{2}\/\d{2}\/\d{2}\.\d{2}(-\d+)?\.mp4$/);
        const d = probe(join(recRoot, s.path));
        expect(Math.abs(d - 10)).toBeLessThanOrEqual(1);
        expect(Math.abs(s.duration - 10)).toBeLessThanOrEqual(1);
      }
      // Wall-clock naming (UTC) agrees with the announced start.
      const s1 = segs[1];
      expect(s1.path).toContain(new Date(Math.floor(s1.start_time) * 1000).toISOString().slice(0, 10));
      expect(s1.start_time).toBeCloseTo(segs[0].end_time, 0);
      await expect.poll(async () => (await new RecordingsRepo(dsOf(h)).all('drive')).length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
      const rows = await new RecordingsRepo(dsOf(h)).all('drive');
      const files = filesUnder(recRoot).filter((f) => !f.includes('.incoming')).map((f) => relative(recRoot, f)).sort();
      expect(rows.map((r) => r.path).sort()).toEqual(files);
      for (const r of rows) expect(r.bytes).toBe(statSync(join(recRoot, r.path)).size);
      // Playback through the hub: the list, a segment with HTTP Range, and an export job with progress on MQTT.
      const list = await api(h.baseUrl, 'GET', '/api/recordings?camera=drive&order=asc');
      expect(list.body.map((r: { path: string }) => r.path)).toEqual(rows.map((r) => r.path));
      const seg = rows[1]!;
      const ranged = await fetch(`${h.baseUrl}/api/recordings/${encodeURIComponent(seg.id)}/file`, { headers: { authorization: `Bearer ${h.adminToken}`, range: 'bytes=0-99' } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer())).toEqual(readFileSync(join(recRoot, seg.path)).subarray(0, 100));
      const progress = await MqttRecorder.connect(h.mqttUrl, ['vigil/recorder/export/+']);
      const job = await api(h.baseUrl, 'POST', '/api/exports', { camera: 'drive', start: rows[0]!.start_time + 2, end: rows[1]!.end_time - 2 });
      expect(job.status).toBe(202);
      await progress.waitFor((m) => m.topic === `vigil/recorder/export/${job.body.id}` && JSON.parse(m.payload.toString()).status === 'done', 30_000, 'export done');
      const file = await fetch(`${h.baseUrl}/api/exports/${job.body.id}/file`, { headers: { authorization: `Bearer ${h.adminToken}` } });
      const out = join(h.dataDir, 'export.mp4');
      writeFileSync(out, Buffer.from(await file.arrayBuffer()));
      expect(Math.abs(probe(out) - (rows[1]!.end_time - 2 - (rows[0]!.start_time + 2)))).toBeLessThan(1.5);
      await progress.close();
      // The camera's state (every 5 s) counts the segments too.
      await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/system')).body.cameras.drive?.recording?.segments ?? 0, { timeout: 8000 }).toBeGreaterThanOrEqual(3);
    } finally {
      await rec.close();
      await h.stop();
    }
  }, 90_000);
});

describe('retention', () => {
  it('deletes the oldest segments first when over the size cap', async () => {
    const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, recordings: { max_size_gb: 0.003, sweep_interval_s: 3600 } });
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/hub/storage']);
    try {
      const recRoot = join(h.dataDir, 'recordings');
      // Five 1 MB "segments" announced like the camera component does (3 MB cap → the two oldest go).
      for (let i = 0; i < 5; i++) {
        const start = 1_800_000_000 + i * 60;
        const rel = `yard/2027-01-15/08/0${i}.00.mp4`;
        mkdirSync(join(recRoot, 'yard/2027-01-15/08'), { recursive: true });
        writeFileSync(join(recRoot, rel), Buffer.alloc(1_000_000));
        await rec.client.publishAsync('vigil/recorder/yard/segment', JSON.stringify({ id: `yard:${start}`, camera: 'yard', path: rel, start_time: start, end_time: start + 60, duration: 60, bytes: 1_000_000 }), { qos: 1 });
      }
      await expect.poll(async () => (await new RecordingsRepo(dsOf(h)).all('yard')).map((r) => r.path), { timeout: 10_000 })
        .toEqual(['yard/2027-01-15/08/02.00.mp4', 'yard/2027-01-15/08/03.00.mp4', 'yard/2027-01-15/08/04.00.mp4']);
      expect(existsSync(join(recRoot, 'yard/2027-01-15/08/00.00.mp4'))).toBe(false);
      expect(existsSync(join(recRoot, 'yard/2027-01-15/08/04.00.mp4'))).toBe(true);
      await rec.waitFor((m) => m.topic === 'vigil/hub/storage' && JSON.parse(m.payload.toString()).recordings_bytes === 3_000_000, 5000, 'storage state');
      const late = await MqttRecorder.connect(h.mqttUrl, ['vigil/hub/storage']);
      const st = await late.waitFor((m) => m.topic === 'vigil/hub/storage', 5000, 'retained storage state');
      expect(st.retain).toBe(true);
      expect(JSON.parse(st.payload.toString())).toMatchObject({ status: 'ok', recordings_bytes: 3_000_000 });
      await late.close();
    } finally {
      await rec.close();
      await h.stop();
    }
  });

  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!canMount)('keeps recording on a full disk: the alert goes out and the oldest segments go', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'vigil-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=9m', 'tmpfs', mnt]);
    const h = await startTestHub({ detector: { enabled: false }, recordings: { root: mnt, min_free_gb: 0, max_percent: 100, sweep_interval_s: 1 } });
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/hub/storage', 'vigil/recorder/drive/segment']);
    try {
      writeFileSync(join(mnt, 'ballast.bin'), Buffer.alloc(5 * 1024 * 1024)); // not a segment: never deleted
      expect((await api(h.baseUrl, 'POST', '/api/cameras', camera(rtsp.mainUrl))).status).toBe(201);
      const full = await rec.waitFor((m) => m.topic === 'vigil/hub/storage' && JSON.parse(m.payload.toString()).status === 'full', 60_000, 'storage full alert');
      expect(JSON.parse(full.payload.toString()).message).toMatch(/lack of space/);
      const first = rec.on('vigil/recorder/drive/segment')[0];
      expect(first).toBeDefined();
      // The oldest segment makes room, and recording goes on: new segments after the alert.
      await expect.poll(() => existsSync(join(mnt, JSON.parse(first!.payload.toString()).path)), { timeout: 20_000 }).toBe(false);
      await rec.waitFor((m) => m.topic === 'vigil/recorder/drive/segment' && m.at > full.at, 60_000, 'a segment after the disk filled');
      expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
      expect(h.logs()).toContain('No space left on device');
    } finally {
      await rec.close();
      await h.stop();
      spawnSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }, 150_000);
});

describe('crash safety', () => {
  it('kill -9 of the hub mid-segment loses at most that segment; the index is repaired at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
    const setup = await startTestHub({ detector: { enabled: false }, camera: { enabled: false } }, { dataDir });
    expect((await api(setup.baseUrl, 'POST', '/api/cameras', camera(rtsp.mainUrl))).status).toBe(201);
    await setup.hub.stop();
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const cfg = join(dataDir, 'vigil.yaml');
    writeFileSync(cfg, `data_dir: ${dataDir}\nhttp: {port: ${httpPort}, host: 127.0.0.1}\nmqtt: {port: ${mqttPort}, host: 127.0.0.1}\ndetector: {enabled: false}\nrules: {enabled: false}\ndemo: {mode: 'off'}\nrecordings: {max_percent: 100, min_free_gb: 0}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts', '--config', cfg], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIGIL_LOG_FORMAT: 'json' } });
    let childLog = '';
    child.stdout!.on('data', (c: Buffer) => { childLog += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { childLog += c.toString(); });
    const recRoot = join(dataDir, 'recordings');
    const done = () => filesUnder(recRoot).filter((f) => !f.includes('.incoming')).length;
    const deadline = Date.now() + 60_000;
    while (done() < 2 && Date.now() < deadline) await sleep(500);
    await sleep(4000); // mid-segment
    const ffmpegs = execFileSync('ps', ['-eo', 'pid,ppid,args']).toString().split('\n').filter((l) => Number(l.trim().split(/\s+/)[1]) === child.pid && l.includes('ffmpeg')).map((l) => Number(l.trim().split(/\s+/)[0]));
    child.kill('SIGKILL');
    for (const pid of ffmpegs) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } // the whole box dies
    await new Promise((r) => child.once('exit', r));
    const before = filesUnder(recRoot);
    const interrupted = before.filter((f) => f.includes('.incoming'));
    writeFileSync('/tmp/child.log', childLog);
    expect(done()).toBeGreaterThanOrEqual(2);
    expect(interrupted.length).toBeGreaterThanOrEqual(1);
    // A row whose file vanished (deleted by hand while the hub was down).
    const h = await startTestHub({ detector: { enabled: false }, camera: { enabled: false } }, { dataDir });
    try {
      const rows = await new RecordingsRepo(dsOf(h)).all('drive');
      const files = filesUnder(recRoot);
      expect(files.filter((f) => f.includes('.incoming'))).toEqual([]); // the interrupted segment was filed
      expect(rows.map((r) => r.path).sort()).toEqual(files.map((f) => relative(recRoot, f)).sort()); // no row without a file, no file without a row
      expect(rows.length).toBe(before.length);
      for (const r of rows) expect(probe(join(recRoot, r.path))).toBeGreaterThan(0); // even the interrupted one plays (fragmented MP4)
      const last = rows[rows.length - 1]!;
      expect(last.duration).toBeGreaterThan(1);
      // And the other way: a file removed while down loses its row at the next start.
      rmSync(join(recRoot, rows[0]!.path));
      await h.hub.stop();
      const again = await startTestHub({ detector: { enabled: false }, camera: { enabled: false } }, { dataDir });
      expect((await new RecordingsRepo(dsOf(again)).all('drive')).length).toBe(rows.length - 1);
      await again.stop();
    } finally {
      await h.hub.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
