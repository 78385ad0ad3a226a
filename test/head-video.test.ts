/**
 * The camera head's video and recordings against real parts: the head's RTSP relay, real
 * ffmpeg encoding the test pattern, ffprobe, the recorder's MP4 files, SQLite on disk and
 * the real file system's free space. Small sizes (320×240, 10 fps) for a 2-core machine.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HeadRtspServer, isH264KeyframeStart, parseSdpTracks } from '../head-firmware/video/rtsp-server.ts';
import { CameraSource, type CameraSourceState, type StreamSettings } from '../head-firmware/video/camera-source.ts';
import { RECORDING_MOVFLAGS, Recorder, RecordingRefusedError, partialDir, recoverPartialRecordings, type RecordedFile } from '../head-firmware/video/recorder.ts';
import { MetadataDb } from '../head-firmware/recordings/metadata-db.ts';
import { StorageGuard, type StorageReport } from '../head-firmware/recordings/storage-guard.ts';
import { ffmpegPath, ffprobePath } from '../components/protocol/ffmpeg-path.ts';
import { silentLogger } from '../components/protocol/log.ts';
import { CameraInput, type RawFrame } from '../components/camera/camera-input.ts';
import { freePort } from './helpers/ports.ts';

const execFileP = promisify(execFile);
const STREAM: StreamSettings = { width: 320, height: 240, fps: 10, bitrate_kbps: 300 };
const FIXTURE = fileURLToPath(new URL('./fixtures/head-recorder-sigterm.ts', import.meta.url));

const tmpDirs: string[] = [];
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `vigil-head-${prefix}-`));
  tmpDirs.push(d);
  return d;
}

interface ProbeStream { codec_name: string; width: number; height: number; r_frame_rate: string; avg_frame_rate: string; nb_read_frames?: string }
async function probe(target: string, extra: string[] = []): Promise<{ streams: ProbeStream[]; format: { duration?: string; format_name: string } }> {
  const rtsp = target.startsWith('rtsp:') ? ['-rtsp_transport', 'tcp'] : [];
  const { stdout } = await execFileP(ffprobePath(), ['-v', 'error', ...rtsp, ...extra, '-show_entries', 'stream=codec_name,width,height,r_frame_rate,avg_frame_rate,nb_read_frames:format=duration,format_name', '-of', 'json', target], { timeout: 30_000 });
  return JSON.parse(stdout);
}

/** Presentation times (s) of the key frames of a file. */
async function keyframeTimes(file: string): Promise<number[]> {
  const { stdout } = await execFileP(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file], { timeout: 30_000 });
  return stdout.trim().split('\n').filter((l) => l.includes('K')).map((l) => Number(l.split(',')[0]));
}

function waitForStatus(cam: CameraSource, status: CameraSourceState['status'], timeoutMs = 20_000): Promise<CameraSourceState> {
  if (cam.state.status === status) return Promise.resolve(cam.state);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off('status', on); reject(new Error(`camera not ${status} within ${timeoutMs} ms (is ${JSON.stringify(cam.state)})`)); }, timeoutMs);
    const on = (s: CameraSourceState): void => {
      if (s.status === status) { clearTimeout(t); cam.off('status', on); resolve(s); }
    };
    cam.on('status', on);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('RTSP relay helpers', () => {
  it('reads the tracks of an SDP and spots H.264 keyframe packets', () => {
    const sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=control:streamid=1\r\n';
    expect(parseSdpTracks(sdp)).toEqual([{ control: 'streamid=0', codec: 'H264' }, { control: 'streamid=1', codec: 'MPEG4-GENERIC' }]);
    const rtp = (payload: number[]): Buffer => Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, ...payload]);
    expect(isH264KeyframeStart(rtp([0x65, 0x88]))).toBe(true); // IDR slice
    expect(isH264KeyframeStart(rtp([0x41, 0x9a]))).toBe(false); // non-IDR slice
    expect(isH264KeyframeStart(rtp([0x7c, 0x85, 0x88]))).toBe(true); // FU-A start of an IDR
    expect(isH264KeyframeStart(rtp([0x7c, 0x05, 0x88]))).toBe(false); // FU-A middle
    expect(isH264KeyframeStart(rtp([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce]))).toBe(true); // STAP-A with an SPS
    expect(isH264KeyframeStart(Buffer.from([1, 2, 3]))).toBe(false); // garbage
  });
});

describe('head video: RTSP server, camera source, recorder', () => {
  let rtsp: HeadRtspServer;
  let cam: CameraSource;
  const statuses: CameraSourceState[] = [];

  beforeAll(async () => {
    rtsp = new HeadRtspServer();
    await rtsp.start();
    cam = new CameraSource({ input: { kind: 'test' }, stream: STREAM, publishUrl: rtsp.url('main'), onStatus: (s) => statuses.push(s) });
    cam.start();
    await waitForStatus(cam, 'streaming');
  });

  afterAll(async () => {
    await cam?.stop();
    await rtsp?.stop();
  });

  it('publishes the test pattern: ffprobe reads H.264 at the configured size and fps over TCP and UDP-first', async () => {
    expect(statuses.map((s) => s.status).slice(0, 2)).toEqual(['starting', 'streaming']);
    expect(rtsp.url('main')).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/main$/);
    expect(rtsp.isPublishing('main')).toBe(true);
    const p = await probe(rtsp.url('main'));
    expect(p.streams).toHaveLength(1);
    expect(p.streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240, r_frame_rate: '10/1' });
    // A client that asks for UDP first (ffprobe's default) is told 461 and falls back to TCP.
    const { stdout } = await execFileP(ffprobePath(), ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', rtsp.url('main')], { timeout: 30_000 });
    expect(stdout.trim()).toBe('h264');
    const stats = rtsp.stats();
    expect(stats[0]).toMatchObject({ path: 'main', codecs: ['H264'] });
    expect(stats[0]!.packets_in).toBeGreaterThan(10);
    expect(stats[0]!.packets_out).toBeGreaterThan(0);
    // An unknown path is a 404: ffprobe fails.
    await expect(probe(rtsp.url('nothing-here'))).rejects.toThrow(/404|Not Found/);
  });

  it('is ingested by the hub\'s own camera input like any RTSP camera (detect frames decoded)', async () => {
    const input = new CameraInput({ url: rtsp.url('main'), outputs: { detect: { width: 160, height: 120, fps: 5 } }, logger: silentLogger });
    try {
      const frame = await new Promise<RawFrame>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no frame from the hub's camera input: ${JSON.stringify(input.stats)}`)), 20_000);
        input.once('frame', (f: RawFrame) => { clearTimeout(t); resolve(f); });
        input.start();
      });
      expect([frame.width, frame.height, frame.rgb.length]).toEqual([160, 120, 160 * 120 * 3]);
      // Not a flat picture: the test pattern has many colours.
      const values = new Set<number>();
      for (let i = 0; i < frame.rgb.length; i += 3 * 37) values.add(frame.rgb[i]!);
      expect(values.size).toBeGreaterThan(5);
    } finally {
      await input.stop();
    }
  });

  it('lets one publisher per path, and only from addresses allowPublish accepts', async () => {
    const publish = async (url: string): Promise<{ code: number | null; stderr: string }> => {
      const p = spawn(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=5', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'rtsp', '-rtsp_transport', 'tcp', url], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.setEncoding('utf8').on('data', (x: string) => { stderr += x; });
      const code = await new Promise<number | null>((r) => p.once('close', (c) => r(c)));
      return { code, stderr };
    };
    const taken = await publish(rtsp.url('main'));
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toMatch(/455/);
    const closed = new HeadRtspServer({ allowPublish: () => false });
    await closed.start();
    try {
      const refused = await publish(closed.url('main'));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/403/);
      expect(closed.isPublishing('main')).toBe(false);
    } finally {
      await closed.stop();
    }
    expect(rtsp.isPublishing('main')).toBe(true);
  });

  it('loops a real video file (vtest.avi) as the camera, on a second path of the same server', async () => {
    const footage = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
    const loop = new CameraSource({ input: { kind: 'file', path: footage }, stream: STREAM, publishUrl: rtsp.url('loop') });
    try {
      loop.start();
      await waitForStatus(loop, 'streaming');
      const p = await probe(rtsp.url('loop'));
      expect(p.streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240, r_frame_rate: '10/1' });
      expect(rtsp.stats().map((x) => x.path).sort()).toEqual(['loop', 'main']);
    } finally {
      await loop.stop();
    }
    await vi.waitFor(() => expect(rtsp.isPublishing('loop')).toBe(false), { timeout: 5000 });
  });

  it('records a stopped recording to an MP4 that ffprobe reads with the recorded duration (±1 s), keyframes every 2 s', async () => {
    const dataDir = tmp('rec');
    const files: RecordedFile[] = [];
    const rec = new Recorder({ sourceUrl: rtsp.url('main'), dataDir, onFile: (f) => files.push(f) });
    expect(rec.status).toBe('idle');
    await rec.start();
    const t0 = Date.now();
    expect(rec.isRecording()).toBe(true);
    await expect(rec.start()).rejects.toThrow(/recorder is recording/);
    await sleep(5000);
    const t1 = Date.now();
    const f = await rec.stop();
    const recordedS = (t1 - t0) / 1000;
    expect(rec.status).toBe('idle');
    expect(f).not.toBeNull();
    expect(files).toEqual([f]);
    const day = new Date(f!.started_at).toISOString().slice(0, 10);
    expect(f!.path.startsWith(join(dataDir, 'recordings', day) + '/')).toBe(true);
    expect(f!.path).toMatch(/\/\d{2}-\d{2}-\d{2}\.mp4$/);
    expect(f!.bytes).toBe(statSync(f!.path).size);
    const p = await probe(f!.path, ['-count_frames']);
    expect(p.format.format_name).toContain('mp4');
    expect(p.streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    const duration = Number(p.format.duration);
    expect(Math.abs(duration - recordedS)).toBeLessThanOrEqual(1);
    expect(Math.abs(f!.duration_s - duration)).toBeLessThanOrEqual(0.2);
    expect(Math.abs(Number(p.streams[0]!.nb_read_frames) - duration * STREAM.fps)).toBeLessThanOrEqual(2);
    expect(Math.abs(f!.ended_at - f!.started_at - f!.duration_s * 1000)).toBeLessThanOrEqual(1);
    expect(Math.abs(f!.ended_at - t1)).toBeLessThanOrEqual(1500);
    // GOP = 2 s: the file starts on a keyframe and has one every 2 s.
    const keys = await keyframeTimes(f!.path);
    expect(keys[0]).toBeCloseTo(0, 1);
    for (let i = 1; i < keys.length; i++) expect(keys[i]! - keys[i - 1]!).toBeCloseTo(2, 1);
    // Nothing left half-written.
    expect(readdirSync(join(dataDir, 'recordings', '.partial'))).toEqual([]);
    expect(await rec.stop()).toBeNull();
  });

  it('splits a recording into files of maxFileSeconds (cut at keyframes), each readable', async () => {
    const dataDir = tmp('split');
    const files: RecordedFile[] = [];
    const rec = new Recorder({ sourceUrl: rtsp.url('main'), dataDir, maxFileSeconds: 2, onFile: (f) => files.push(f) });
    await rec.start();
    await sleep(5000);
    const last = await rec.stop();
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(files.at(-1)).toEqual(last);
    for (const f of files.slice(0, -1)) expect(f.duration_s).toBeCloseTo(2, 1);
    for (const f of files) {
      const p = await probe(f.path);
      expect(Math.abs(Number(p.format.duration) - f.duration_s)).toBeLessThanOrEqual(0.2);
    }
    // Consecutive files follow each other without a gap.
    for (let i = 1; i < files.length; i++) expect(Math.abs(files[i]!.started_at - files[i - 1]!.ended_at)).toBeLessThanOrEqual(300);
  });

  it('a recording stopped by SIGTERM to its process is complete and readable', async () => {
    const dataDir = tmp('sigterm');
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await vi.waitFor(() => { if (!/^READY /m.test(out)) throw new Error(`fixture not ready: ${err}`); }, { timeout: 45_000, interval: 100 });
      const readyAt = Date.now();
      await sleep(4000);
      const termAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const m = /^STOPPED (.+)$/m.exec(out);
      expect(m, `stdout: ${out}\nstderr: ${err}`).not.toBeNull();
      const { file, signal, stop_ms } = JSON.parse(m![1]!) as { file: RecordedFile; signal: string; stop_ms: number };
      expect(signal).toBe('SIGTERM');
      expect(stop_ms).toBeLessThan(10_000);
      expect(existsSync(file.path)).toBe(true);
      const p = await probe(file.path, ['-count_frames']);
      const duration = Number(p.format.duration);
      expect(Math.abs(duration - (termAt - readyAt) / 1000)).toBeLessThanOrEqual(1);
      expect(Math.abs(file.duration_s - duration)).toBeLessThanOrEqual(0.2);
      expect(Math.abs(Number(p.streams[0]!.nb_read_frames) - duration * STREAM.fps)).toBeLessThanOrEqual(2);
      // Complete: ffmpeg decodes every frame without an error.
      const { stderr } = await execFileP('ffmpeg', ['-v', 'error', '-i', file.path, '-f', 'null', '-'], { timeout: 30_000 });
      expect(stderr.trim()).toBe('');
      expect(readdirSync(join(dataDir, 'recordings', '.partial'))).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('keeps recording across a camera restart: the file is finished, a new one follows', async () => {
    const dataDir = tmp('restart-rec');
    const files: RecordedFile[] = [];
    const events: string[] = [];
    const rec = new Recorder({ sourceUrl: rtsp.url('main'), dataDir, reconnectMinMs: 200, onFile: (f) => files.push(f) });
    rec.on('status', (st: string) => events.push(st));
    rec.on('interrupted', () => events.push('interrupted'));
    await rec.start();
    await sleep(2500);
    await cam.restart(); // same settings, new ffmpeg: the relay drops the players of the old stream
    await vi.waitFor(() => expect(events).toContain('interrupted'), { timeout: 10_000 });
    await vi.waitFor(() => expect(rec.status).toBe('recording'), { timeout: 15_000 });
    await sleep(2500);
    const last = await rec.stop();
    expect(events.slice(0, 4)).toEqual(['starting', 'recording', 'reconnecting', 'interrupted']);
    expect(files.length).toBe(2);
    expect(files[1]).toEqual(last);
    for (const f of files) {
      const p = await probe(f.path);
      expect(Number(p.format.duration)).toBeGreaterThan(1);
    }
  });

  it('recovers what a killed ffmpeg left in .partial (fragmented MP4 readable to its last fragment)', async () => {
    const dataDir = tmp('recover');
    mkdirSync(partialDir(dataDir), { recursive: true });
    const partial = join(partialDir(dataDir), 'crashed-000.mp4');
    const p = spawn(ffmpegPath(), ['-v', 'error', '-probesize', '32', '-analyzeduration', '0', '-rtsp_transport', 'tcp', '-i', rtsp.url('main'), '-map', '0:v:0', '-c', 'copy', '-f', 'mp4', '-movflags', RECORDING_MOVFLAGS, '-flush_packets', '1', partial], { stdio: 'ignore' });
    await vi.waitFor(() => expect(existsSync(partial) && statSync(partial).size).toBeGreaterThan(20_000), { timeout: 15_000 });
    await sleep(3500);
    p.kill('SIGKILL');
    await new Promise((r) => p.once('close', r));
    writeFileSync(join(partialDir(dataDir), 'garbage-000.mp4'), 'not a video');
    const recovered = await recoverPartialRecordings(dataDir);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.duration_s).toBeGreaterThanOrEqual(2);
    expect(recovered[0]!.bytes).toBe(statSync(recovered[0]!.path).size);
    expect(Number((await probe(recovered[0]!.path)).format.duration)).toBeCloseTo(recovered[0]!.duration_s, 1);
    expect(readdirSync(partialDir(dataDir))).toEqual([]); // the unreadable one is deleted
  });

  it('files what its ffmpeg wrote when that ffmpeg is killed, and records on in a new file', async () => {
    const dataDir = tmp('killed');
    const files: RecordedFile[] = [];
    const rec = new Recorder({ sourceUrl: rtsp.url('main'), dataDir, reconnectMinMs: 200, onFile: (f) => files.push(f) });
    await rec.start();
    await sleep(4500);
    const pid = rec.ffmpegPid!;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await vi.waitFor(() => expect(files).toHaveLength(1), { timeout: 10_000 });
    // Everything up to the last complete fragment (one per 2 s keyframe interval) is there.
    expect(files[0]!.duration_s).toBeGreaterThanOrEqual(2);
    expect(Number((await probe(files[0]!.path)).format.duration)).toBeCloseTo(files[0]!.duration_s, 1);
    await vi.waitFor(() => expect(rec.status).toBe('recording'), { timeout: 15_000 });
    expect(rec.ffmpegPid).not.toBe(pid);
    await sleep(1000);
    const last = await rec.stop();
    expect(files).toHaveLength(2);
    expect(last).toEqual(files[1]);
    expect(readdirSync(partialDir(dataDir))).toEqual([]);
  });

  it('start() fails clearly when there is no stream to record', async () => {
    const rec = new Recorder({ sourceUrl: rtsp.url('nothing-here'), dataDir: tmp('nostream'), startTimeoutMs: 10_000 });
    await expect(rec.start()).rejects.toThrow(/recorder ffmpeg exited \(\d+\) before the first frame: .*404/);
    expect(rec.status).toBe('idle');
  });

  it('restart() applies new stream settings: ffprobe sees the new size and fps', async () => {
    const next = { width: 256, height: 192, fps: 5, bitrate_kbps: 200 };
    await expect(cam.restart({ stream: { ...next, width: 255 } })).rejects.toThrow(/width must be an even integer/);
    await cam.restart({ stream: next });
    await waitForStatus(cam, 'streaming');
    expect(cam.stream).toEqual(next);
    const p = await probe(rtsp.url('main'));
    expect(p.streams[0]).toMatchObject({ codec_name: 'h264', width: 256, height: 192, r_frame_rate: '5/1' });
    // Overlapping restarts leave exactly one camera ffmpeg.
    await Promise.all([cam.restart({ stream: STREAM }), cam.restart({ stream: STREAM })]);
    await waitForStatus(cam, 'streaming');
    const { stdout } = await execFileP('ps', ['-o', 'args=', '--ppid', String(process.pid)]);
    expect(stdout.split('\n').filter((l) => l.includes('-f rtsp') && l.includes(rtsp.url('main')))).toHaveLength(1);
  });
});

describe('camera loss', () => {
  it('reports unavailable with the reason when the V4L2 device is missing, and retries with backoff', async () => {
    const states: CameraSourceState[] = [];
    const cam = new CameraSource({
      input: { kind: 'v4l2', device: '/dev/video-vigil-missing' }, stream: STREAM, publishUrl: 'rtsp://127.0.0.1:9/main',
      backoffMinMs: 100, backoffMaxMs: 400, onStatus: (s) => states.push(s),
    });
    cam.start();
    await vi.waitFor(() => expect(states.filter((s) => s.status === 'unavailable').length).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
    await cam.stop();
    const unavailable = states.filter((s) => s.status === 'unavailable' && s.reason !== 'stopped');
    expect(unavailable[0]!.reason).toBe('V4L2 device /dev/video-vigil-missing not found');
    expect(unavailable.map((s) => s.retry_in_ms).slice(0, 4)).toEqual([100, 200, 400, 400]);
    expect(states.filter((s) => s.status === 'starting').length).toBeGreaterThanOrEqual(4);
    expect(unavailable[3]!.restarts).toBeGreaterThanOrEqual(3);
    expect(cam.state).toMatchObject({ status: 'unavailable', reason: 'stopped', retry_in_ms: null });
  });

  it('reports the ffmpeg error for a device that is not a camera (/dev/null)', async () => {
    const states: CameraSourceState[] = [];
    const cam = new CameraSource({ input: { kind: 'v4l2', device: '/dev/null' }, stream: STREAM, publishUrl: 'rtsp://127.0.0.1:9/main', backoffMinMs: 5000, onStatus: (s) => states.push(s) });
    cam.start();
    const s = await waitForStatus(cam, 'unavailable', 15_000);
    await cam.stop();
    expect(s.reason).toMatch(/^ffmpeg exited \(1\): .+/);
    expect(s.retry_in_ms).toBe(5000);
  });

  it('goes unavailable when the stream breaks off (RTSP server gone) and streams again once it is back', async () => {
    const port = await freePort();
    let server = new HeadRtspServer({ port });
    await server.start();
    const cam = new CameraSource({ input: { kind: 'test', clock: false }, stream: STREAM, publishUrl: server.url('main'), backoffMinMs: 300, backoffMaxMs: 1000 });
    try {
      cam.start();
      await waitForStatus(cam, 'streaming');
      await server.stop();
      const down = await waitForStatus(cam, 'unavailable', 15_000);
      expect(down.reason).toMatch(/^ffmpeg exited/);
      expect(down.retry_in_ms).toBeGreaterThan(0);
      server = new HeadRtspServer({ port });
      await server.start();
      await waitForStatus(cam, 'streaming', 20_000);
      expect(cam.state.restarts).toBeGreaterThanOrEqual(1);
      const p = await probe(server.url('main'));
      expect(p.streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    } finally {
      await cam.stop();
      await server.stop();
    }
  });

  it('refuses bad settings with a clear error', () => {
    const base = { input: { kind: 'test' as const }, stream: STREAM, publishUrl: 'rtsp://127.0.0.1:1/main' };
    expect(() => new CameraSource({ ...base, stream: { ...STREAM, fps: 0 } })).toThrow(/fps must be an integer 1–60/);
    expect(() => new CameraSource({ ...base, input: { kind: 'v4l2', device: '/etc/passwd' } })).toThrow(/\/dev\/ path/);
    expect(() => new CameraSource({ ...base, input: { kind: 'file', path: 'relative.avi' } })).toThrow(/absolute path/);
    expect(() => new CameraSource({ ...base, publishUrl: 'http://x/main' })).toThrow(/rtsp:\/\//);
    expect(() => new HeadRtspServer({ port: 70000 })).toThrow(/0–65535/);
    expect(() => new Recorder({ sourceUrl: 'file:///etc/passwd', dataDir: '/tmp' })).toThrow(/rtsp:\/\//);
  });
});

describe('recording metadata (SQLite, batched)', () => {
  it('queues writes: not in the file before a flush, visible through the API, on disk after flush()', () => {
    const dir = tmp('meta');
    const db = new MetadataDb(dir, { flushIntervalMs: 60_000 });
    const reader = new Database(db.file, { readonly: true });
    try {
      expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
      const a = db.addRecording({ path: '/r/a.mp4', started_at: 1_000, ended_at: 6_000, bytes: 100, duration_s: 5 });
      const b = db.addRecording({ path: '/r/b.mp4', started_at: 10_000, ended_at: 12_000, bytes: 50, duration_s: 2 });
      const tag = db.addTag({ recording_id: a.id, at_s: 1.5, label: 'door opened' });
      expect(b.id).toBe(a.id + 1);
      expect(db.pendingWrites).toBe(3);
      // Not in the database file yet …
      expect(reader.prepare('SELECT count(*) AS n FROM recordings').get()).toEqual({ n: 0 });
      // … but visible through the API.
      expect(db.list().map((r) => r.path)).toEqual(['/r/b.mp4', '/r/a.mp4']);
      expect(db.list({ order: 'asc', limit: 1 })).toEqual([a]);
      expect(db.list({ from: 5_000 })).toEqual([b]);
      expect(db.getRecording(a.id)).toEqual(a);
      expect(db.tags(a.id)).toEqual([tag]);
      expect(db.count()).toBe(2);
      expect(db.totalBytes()).toBe(150);
      expect(db.flush()).toBe(3);
      expect(db.pendingWrites).toBe(0);
      expect(reader.prepare('SELECT path FROM recordings ORDER BY id').all()).toEqual([{ path: '/r/a.mp4' }, { path: '/r/b.mp4' }]);
      expect(reader.prepare('SELECT label FROM tags').all()).toEqual([{ label: 'door opened' }]);
      // Updates and deletions go through the queue too.
      db.updateRecording(b.id, { bytes: 75 });
      db.deleteRecording(a.id);
      expect(db.list().map((r) => [r.path, r.bytes])).toEqual([['/r/b.mp4', 75]]);
      expect(db.tags(a.id)).toEqual([]);
      expect(db.totalBytes()).toBe(75);
      expect(reader.prepare('SELECT count(*) AS n FROM recordings').get()).toEqual({ n: 2 });
      db.flush();
      expect(reader.prepare('SELECT id, bytes FROM recordings').all()).toEqual([{ id: b.id, bytes: 75 }]);
      expect(reader.prepare('SELECT count(*) AS n FROM tags').get()).toEqual({ n: 0 }); // cascaded
    } finally {
      reader.close();
      db.close();
    }
  });

  it('commits by itself every flush interval, and close() commits the rest', async () => {
    const dir = tmp('meta-timer');
    const db = new MetadataDb(dir, { flushIntervalMs: 300 });
    const reader = new Database(db.file, { readonly: true });
    const count = () => (reader.prepare('SELECT count(*) AS n FROM recordings').get() as { n: number }).n;
    db.addRecording({ path: '/r/1.mp4', started_at: 1, bytes: 1, duration_s: 1 });
    expect(count()).toBe(0);
    await vi.waitFor(() => expect(count()).toBe(1), { timeout: 3000, interval: 50 });
    db.addRecording({ path: '/r/2.mp4', started_at: 2, bytes: 1, duration_s: 1 });
    db.close();
    expect(count()).toBe(2);
    reader.close();
    expect(() => db.list()).toThrow(/closed/);
    // Reopened: the rows are there and ids go on.
    const again = new MetadataDb(dir);
    try {
      expect(again.list({ order: 'asc' }).map((r) => r.path)).toEqual(['/r/1.mp4', '/r/2.mp4']);
      const r3 = again.addRecording({ path: '/r/3.mp4', started_at: 3, bytes: 1, duration_s: 1 });
      expect(r3.id).toBe(3);
    } finally {
      again.close();
    }
  });

  it('keeps categories (committed at once) and refuses bad input with clear errors', () => {
    const dir = tmp('meta-cat');
    const db = new MetadataDb(dir, { flushIntervalMs: 60_000 });
    try {
      const cat = db.addCategory({ name: 'Surgery', color: '#FF8800' });
      expect(cat).toMatchObject({ name: 'Surgery', color: '#ff8800' });
      expect(db.categories()).toEqual([cat]);
      const r = db.addRecording({ path: '/r/x.mp4', started_at: 5, bytes: 1, duration_s: 1, category_id: cat.id });
      expect(db.list({ category_id: cat.id })).toEqual([r]);
      expect(() => db.addCategory({ name: 'Surgery', color: '#000000' })).toThrow(/exists/);
      expect(() => db.addCategory({ name: 'x', color: 'red' })).toThrow(/#rrggbb/);
      expect(db.updateCategory(cat.id, { color: '#00ff00' }).color).toBe('#00ff00');
      expect(db.deleteCategory(cat.id)).toBe(true);
      expect(db.getRecording(r.id)!.category_id).toBeNull();
      expect(() => db.addRecording({ path: '/r/x.mp4', started_at: 6, bytes: 1, duration_s: 1 })).toThrow(/exists/);
      expect(() => db.addRecording({ path: '/r/y.mp4', started_at: -1, bytes: 1, duration_s: 1 })).toThrow(/started_at/);
      expect(() => db.addRecording({ path: '/r/y.mp4', started_at: 1, bytes: 1, duration_s: Number.NaN })).toThrow(/duration_s/);
      expect(() => db.addRecording({ path: '/r/y.mp4', started_at: 1, bytes: 1, duration_s: 1, category_id: 999 })).toThrow(/no category 999/);
      expect(() => db.addTag({ recording_id: 999, at_s: 1, label: 'x' })).toThrow(/no recording 999/);
      expect(() => db.addTag({ recording_id: r.id, at_s: 1, label: '' })).toThrow(/label/);
      expect(() => db.updateRecording(999, { bytes: 1 })).toThrow(/no recording 999/);
      expect(() => db.list({ limit: 0 })).toThrow(/limit/);
      // The refused writes queued nothing (the category writes committed the queue).
      expect(db.pendingWrites).toBe(0);
      expect(db.count()).toBe(1);
    } finally {
      db.close();
    }
  });
});

describe('storage full', () => {
  let rtsp: HeadRtspServer;
  let cam: CameraSource;

  beforeAll(async () => {
    rtsp = new HeadRtspServer();
    await rtsp.start();
    cam = new CameraSource({ input: { kind: 'test', clock: false }, stream: STREAM, publishUrl: rtsp.url('main') });
    cam.start();
    await waitForStatus(cam, 'streaming');
  });

  afterAll(async () => {
    await cam?.stop();
    await rtsp?.stop();
  });

  const freeBytes = async (dir: string): Promise<number> => {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  };

  it('refuses to record when full and deleting is off (state reported, nothing deleted)', async () => {
    const dataDir = tmp('full-refuse');
    const db = new MetadataDb(dataDir, { flushIntervalMs: 60_000 });
    const old = join(dataDir, 'old.mp4');
    writeFileSync(old, Buffer.alloc(1024, 1));
    db.addRecording({ path: old, started_at: 1, bytes: 1024, duration_s: 1 });
    const reports: StorageReport[] = [];
    const minFree = (await freeBytes(dataDir)) + 10e9; // 10 GB more than there is: full
    const guard = new StorageGuard({ dataDir, db, minFreeBytes: minFree, deleteOldestWhenFull: false, onState: (r) => reports.push(r) });
    const rec = new Recorder({ sourceUrl: rtsp.url('main'), dataDir, gate: guard });
    try {
      await expect(rec.start()).rejects.toBeInstanceOf(RecordingRefusedError);
      await expect(rec.start()).rejects.toThrow(/storage full: .* MB free, below .* MB \(deleting the oldest recordings is off\)/);
      expect(rec.status).toBe('idle');
      expect(reports).toHaveLength(1); // reported once: the state did not change on the second check
      expect(reports[0]).toMatchObject({ state: 'full', deleted: [], stopped_recording: false, min_free_bytes: minFree });
      expect(reports[0]!.free_bytes).toBeLessThan(minFree);
      expect(existsSync(old)).toBe(true);
      expect(db.count()).toBe(1);
      expect(guard.state).toBe('full');
    } finally {
      db.close();
    }
  });

  it('stops the active recording and deletes the oldest recordings until there is room again', async () => {
    const dataDir = tmp('full-delete');
    const db = new MetadataDb(dataDir, { flushIntervalMs: 60_000 });
    const rec = new Recorder({ sourceUrl: rtsp.url('main'), dataDir, onFile: (f) => db.addRecording(f) });
    // Two old recordings of 64 MB each (real bytes on the real disk).
    const day = join(dataDir, 'recordings', '2020-01-01');
    mkdirSync(day, { recursive: true });
    const [a, b] = [join(day, '00-00-00.mp4'), join(day, '01-00-00.mp4')];
    const size = 64 * 1024 * 1024;
    writeFileSync(a!, Buffer.alloc(size, 7));
    writeFileSync(b!, Buffer.alloc(size, 7));
    const ra = db.addRecording({ path: a!, started_at: Date.UTC(2020, 0, 1, 0), bytes: size, duration_s: 3600 });
    const rb = db.addRecording({ path: b!, started_at: Date.UTC(2020, 0, 1, 1), bytes: size, duration_s: 3600 });
    await rec.start();
    await sleep(2000);
    const free0 = await freeBytes(dataDir);
    // Full now (16 MB short); deleting one old file (64 MB) gets above the low mark (32 MB more), not two.
    const reports: StorageReport[] = [];
    const guard = new StorageGuard({ dataDir, db, minFreeBytes: free0 + 16 * 2 ** 20, lowFreeBytes: free0 + 32 * 2 ** 20, deleteOldestWhenFull: true, recorder: rec, onState: (r) => reports.push(r) });
    try {
      const report = await guard.check();
      expect(report.stopped_recording).toBe(true);
      expect(rec.isRecording()).toBe(false);
      expect(report.deleted.map((d) => d.id)).toEqual([ra.id]);
      expect(report.state).not.toBe('full');
      expect(report.free_bytes).toBeGreaterThanOrEqual(free0 + 32 * 2 ** 20);
      expect(reports).toEqual([report]);
      expect(existsSync(a!)).toBe(false);
      expect(existsSync(b!)).toBe(true);
      expect(db.getRecording(ra.id)).toBeNull();
      expect(db.getRecording(rb.id)).not.toBeNull();
      // The stopped recording was filed, kept, and is readable.
      const newest = db.list({ limit: 1 })[0]!;
      expect(newest.id).toBeGreaterThan(rb.id);
      const p = await probe(newest.path);
      expect(Number(p.format.duration)).toBeGreaterThan(1);
      // The deletions are committed (the guard flushes them).
      expect(db.pendingWrites).toBe(0);
    } finally {
      db.close();
    }
  });

  it('reports low between the thresholds without deleting or stopping anything', async () => {
    const dataDir = tmp('low');
    const db = new MetadataDb(dataDir, { flushIntervalMs: 60_000 });
    const reports: StorageReport[] = [];
    const guard = new StorageGuard({ dataDir, db, minFreeBytes: 0, lowFreeBytes: (await freeBytes(dataDir)) + 10e9, deleteOldestWhenFull: true, intervalMs: 200, onState: (r) => reports.push(r) });
    guard.start();
    await vi.waitFor(() => expect(reports.length).toBeGreaterThanOrEqual(1), { timeout: 3000 });
    await sleep(500);
    await guard.stop();
    expect(reports).toHaveLength(1); // periodic checks report changes only
    expect(reports[0]).toMatchObject({ state: 'low', deleted: [], stopped_recording: false });
    expect(await guard.ensureSpace()).toEqual({ ok: true });
    expect(() => new StorageGuard({ dataDir, db, minFreeBytes: 10, lowFreeBytes: 5, deleteOldestWhenFull: false })).toThrow(/lowFreeBytes/);
    db.close();
  });
});
