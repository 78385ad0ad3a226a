/**
 * The camera component: motion detection with masks, the stall watchdog on a frozen
 * RTSP camera, and cameras added, changed and removed through the API without a restart.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MotionDetector } from '../components/camera/motion.ts';
import { CameraInput } from '../components/camera/camera-input.ts';
import { decodeFrame } from '../components/protocol/frame-codec.ts';
import { silentLogger } from '../components/protocol/log.ts';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';
import { footagePath, startRtspServer } from './helpers/rtsp.ts';
import { api, startTestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

/** A grey 320×240 RGB frame with a white 40×40 block at (x, y). */
function frame(x: number, y: number): Buffer {
  const w = 320, h = 240, b = Buffer.alloc(w * h * 3, 90);
  for (let j = y; j < y + 40; j++) for (let i = x; i < x + 40; i++) b.fill(250, (j * w + i) * 3, (j * w + i) * 3 + 3);
  return b;
}

describe('motion detection', () => {
  it('sees a moving block, not a still scene, and ignores masked areas', () => {
    const m = new MotionDetector({ threshold: 30, min_area: 0.002 });
    expect(m.update(frame(10, 10), 320, 240).motion).toBe(false); // background
    expect(m.update(frame(10, 10), 320, 240).motion).toBe(false); // nothing moved
    const moved = m.update(frame(200, 150), 320, 240);
    expect(moved.motion).toBe(true);
    expect(moved.changed).toBeGreaterThan(0.02);

    // The same movement inside a motion mask (right half) is ignored.
    const masked = new MotionDetector({ threshold: 30, min_area: 0.002 }, [[[0.5, 0], [1, 0], [1, 1], [0.5, 1]]]);
    masked.update(frame(200, 20), 320, 240);
    expect(masked.update(frame(250, 150), 320, 240).motion).toBe(false);
    expect(masked.update(frame(20, 150), 320, 240).motion).toBe(true);
  });
});

describe('camera input', () => {
  it('restarts a frozen camera through the stall watchdog and comes back', async () => {
    const rtsp = await startRtspServer();
    const src = new CameraInput({ url: rtsp.subUrl, outputs: { detect: { width: 320, fps: 5 } }, logger: silentLogger, stallTimeoutMs: 3000, backoffMinMs: 500 });
    try {
      const online = new Promise<void>((r) => src.once('online', r));
      const firstFrame = new Promise<{ width: number; height: number; rgb: Buffer }>((r) => src.once('frame', r));
      src.start();
      await online;
      const f = await firstFrame;
      expect([f.width, f.height]).toEqual([320, 240]); // 384×288 scaled, aspect kept
      expect(f.rgb.length).toBe(320 * 240 * 3);
      const offline = new Promise<string>((r) => src.once('offline', r));
      process.kill(rtsp.pid, 'SIGSTOP'); // connection stays open, no data
      const reason = await offline;
      expect(reason).toMatch(/stalled|timed out|exited/);
      expect(src.stats.status).toBe('offline');
      process.kill(rtsp.pid, 'SIGCONT');
      await new Promise<void>((r) => src.once('online', r));
      expect(src.stats.restarts).toBeGreaterThanOrEqual(1);
    } finally {
      process.kill(rtsp.pid, 'SIGCONT');
      await src.stop();
      await rtsp.stop();
    }
  }, 60_000);
});

describe('recording watchdog', () => {
  it('restarts the recorder when no segment is finished in time', async () => {
    const rtsp = await startRtspServer();
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'vigil-wd-'));
    // 30 s segments with a 4 s segment watchdog: the watchdog must fire first.
    const src = new CameraInput({ url: rtsp.mainUrl, outputs: { record: { dir, segmentSeconds: 30 } }, logger: silentLogger, segmentTimeoutMs: 4000, backoffMinMs: 300 });
    try {
      const online = new Promise<void>((r) => src.once('online', r));
      src.start();
      await online; // from ffmpeg's progress heartbeat: this input has no detect frames
      const reason = await new Promise<string>((r) => src.once('offline', r));
      expect(reason).toMatch(/recorder stalled/);
      await new Promise<void>((r) => src.once('online', r));
      expect(src.stats.restarts).toBeGreaterThanOrEqual(1);
    } finally {
      await src.stop();
      await rtsp.stop();
    }
  }, 30_000);
});

describe('camera lifecycle through the API', () => {
  it('starts, restarts and stops a camera within 2 s of the API call', async () => {
    const h = await startTestHub({ detector: { enabled: false } });
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/walk/+', 'vigil/camera/walk/+/state']);
    try {
      const url = pathToFileURL(footagePath()).toString();
      const t0 = Date.now();
      expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'walk', paths: { detect: url }, detect: { fps: 5 }, snapshots: { interval: 1 } })).status).toBe(201);
      const online = await rec.waitFor((m) => m.topic === 'vigil/camera/walk/availability' && m.payload.toString() === 'online', 5000, 'online');
      expect(online.at - t0).toBeLessThan(2000);

      // Frames for the detector carry their header and a JPEG; the live snapshot decodes.
      const fr = await rec.waitFor((m) => m.topic === 'vigil/camera/walk/frame', 15_000, 'a detect frame');
      const { header, jpeg } = decodeFrame(fr.payload);
      expect(header).toMatchObject({ camera: 'walk', width: 640, height: 480 });
      expect(Math.abs(header.ts - fr.at)).toBeLessThan(2000);
      expect((await sharp(jpeg).metadata()).width).toBe(640);
      const snap = await rec.waitFor((m) => m.topic === 'vigil/camera/walk/snapshot', 5000, 'snapshot');
      expect((await sharp(snap.payload).metadata()).format).toBe('jpeg');
      const latest = await fetch(`${h.baseUrl}/api/cameras/walk/latest.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } });
      expect(latest.headers.get('content-type')).toBe('image/jpeg');
      await rec.waitFor((m) => m.topic === 'vigil/camera/walk/motion' && m.payload.toString() === 'ON', 15_000, 'motion ON');

      // A change restarts the camera with the new settings.
      const t1 = Date.now();
      expect((await api(h.baseUrl, 'PATCH', '/api/cameras/walk', { detect: { width: 320 } })).status).toBe(200);
      const small = await rec.waitFor((m) => m.topic === 'vigil/camera/walk/frame' && m.at > t1 && decodeFrame(m.payload).header.width === 320, 10_000, '320 px frames');
      expect(small.at - t1).toBeLessThan(2000 + 1000); // restart within 2 s, plus the first frame
      expect(h.logs()).toContain('camera config changed; restarting');

      // Motion off through MQTT: state answers and frames without motion stop flowing at 5 fps.
      await rec.client.publishAsync('vigil/camera/walk/motion/set', 'OFF', { qos: 1 });
      await rec.waitFor((m) => m.topic === 'vigil/camera/walk/motion/state' && m.payload.toString() === 'OFF', 3000, 'motion state OFF');

      // Removal stops it.
      const t2 = Date.now();
      expect((await api(h.baseUrl, 'DELETE', '/api/cameras/walk')).status).toBe(204);
      const off = await rec.waitFor((m) => m.topic === 'vigil/camera/walk/availability' && m.payload.toString() === 'offline' && m.at >= t2, 3000, 'offline');
      expect(off.at - t2).toBeLessThan(2000);
      const sys = await api(h.baseUrl, 'GET', '/api/system');
      expect(sys.body.components.camera.walk).toBeUndefined();
    } finally {
      await rec.close();
      await h.stop();
    }
  }, 90_000);
});

describe('motion-gated frames', () => {
  it('holds detect frames back while nothing moves, and sends them at the detect fps while something does', async () => {
    const h = await startTestHub({ detector: { enabled: false } });
    // A still scene (flat grey, 10 s) next to the pedestrian footage, both at 5 fps.
    const media = join(h.dataDir, 'media');
    mkdirSync(media, { recursive: true });
    const still = join(media, 'still.mp4');
    execFileSync(ffmpegPath(), ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=gray:s=320x240:r=10', '-t', '10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', still]);
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/+/frame']);
    try {
      const detect = { fps: 5, width: 320, interval_without_motion: 3 };
      expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'still', paths: { detect: pathToFileURL(still).toString() }, detect })).status).toBe(201);
      expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'walk', paths: { detect: pathToFileURL(footagePath()).toString() }, detect })).status).toBe(201);
      const first = await rec.waitFor((m) => m.topic === 'vigil/camera/still/frame', 15_000, 'the first still frame');
      await rec.waitFor((m) => m.topic === 'vigil/camera/walk/frame', 15_000, 'the first walk frame');
      // Let the motion detector's background settle, then count over 9 s.
      const from = Math.max(first.at, Date.now()) + 2000;
      await new Promise((r) => setTimeout(r, from + 9000 - Date.now()));
      const count = (cam: string) => rec.messages.filter((m) => m.topic === `vigil/camera/${cam}/frame` && m.at >= from && m.at < from + 9000).length;
      const stillFrames = count('still'), walkFrames = count('walk');
      // No motion: one frame per interval_without_motion (3 s) → 3 in 9 s (±1), not 45.
      expect(stillFrames).toBeGreaterThanOrEqual(2);
      expect(stillFrames).toBeLessThanOrEqual(4);
      for (const m of rec.messages.filter((x) => x.topic === 'vigil/camera/still/frame' && x.at >= from)) expect(decodeFrame(m.payload).header.motion).toBe(false);
      // People walk through the whole clip: most of the 45 frames go out.
      expect(walkFrames).toBeGreaterThanOrEqual(20);
    } finally {
      await rec.close();
      await h.stop();
    }
  }, 60_000);
});
