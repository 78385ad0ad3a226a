/**
 * The detector under overload, in a real hub (embedded broker, the detector component in
 * process, the real model): frames of real footage published faster than the model can
 * take them → each camera keeps one waiting frame (the newest), the rest are dropped and
 * counted per camera in the detector's state and `/api/system`, nothing piles up, memory
 * stays bounded, and events still come. Also: the model loads only when the first camera
 * with detection appears, not at hub start.
 */
import { execFileSync } from 'node:child_process';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../components/protocol/frame-codec.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

const FOOTAGE = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const W = 640;
const H = 480;
const CAMERAS = ['lane1', 'lane2', 'lane3'];

let h: TestHub;
let rec: MqttRecorder;
const jpegs: Buffer[] = [];

beforeAll(async () => {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', FOOTAGE, '-vf', `fps=5,scale=${W}:${H}`, '-frames:v', '40', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  for (let i = 0; i + W * H * 3 <= raw.length; i += W * H * 3) jpegs.push(await sharp(raw.subarray(i, i + W * H * 3), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 80 }).toBuffer());
  h = await startTestHub({ camera: { enabled: false }, detector: { workers: 2 } });
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/events', 'vigil/component/detector/state']);
}, 120_000);

afterAll(async () => {
  await rec?.close();
  await h?.stop();
});

/** The in-process detector's status as `/api/system` shows it (`components.detector`). */
const detectorState = async () => (await api(h.baseUrl, 'GET', '/api/system')).body.components.detector as Record<string, any> | undefined;

describe('detector back-pressure', () => {
  it('loads the model only when the first camera with detection appears', async () => {
    const before = await detectorState();
    expect(before?.runtime).toBe('not loaded');
    for (const name of CAMERAS) {
      expect((await api(h.baseUrl, 'POST', '/api/cameras', { name, paths: { detect: 'rtsp://127.0.0.1:9/none' }, detect: { width: W, height: H } })).status).toBe(201);
    }
    await expect.poll(async () => (await detectorState())?.runtime, { timeout: 60_000, interval: 1000 }).toMatch(/^(onnx|tfjs-)/);
    expect(h.logs()).toMatch(/detector model loaded/);
  }, 90_000);

  it('drops the older frames of a camera flooded beyond the model, counts them, keeps memory bounded, still detects', async () => {
    const client = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, ...h.mqttCreds });
    const rssBefore = process.memoryUsage().rss;
    let sent = 0;
    const t0 = Date.now();
    // 3 cameras × 30 frames/s for 12 s, every frame with motion boxes over the whole frame.
    while (Date.now() - t0 < 12_000) {
      for (const camera of CAMERAS) {
        const jpeg = jpegs[sent % jpegs.length]!;
        client.publish(`vigil/camera/${camera}/frame`, encodeFrame({ camera, seq: sent, ts: Date.now(), width: W, height: H, motion: true, motion_boxes: [[0, 0, W, H]] }, jpeg), { qos: 0 });
        sent++;
      }
      await new Promise((r) => setTimeout(r, 33));
    }
    const rssPeak = process.memoryUsage().rss;
    await client.endAsync();
    await new Promise((r) => setTimeout(r, 6000)); // drain and one state interval
    const state = await detectorState();
    const system = (await api(h.baseUrl, 'GET', '/api/system')).body;
    let dropped = 0;
    let received = 0;
    for (const camera of CAMERAS) {
      const c = state!.cameras[camera];
      expect(c.frames_dropped, camera).toBeGreaterThan(0);
      expect(c.queued).toBeLessThanOrEqual(1);
      expect(c.in_flight).toBeLessThanOrEqual(state!.workers);
      // Every frame is accounted for: inferred, skipped, dropped, or still queued / in flight.
      expect(c.frames_detected + c.frames_skipped + c.frames_dropped + c.queued + c.in_flight).toBeGreaterThanOrEqual(c.frames_received - state!.inference_errors);
      expect(system.cameras[camera].detection.frames_dropped).toBe(c.frames_dropped);
      dropped += c.frames_dropped;
      received += c.frames_received;
    }
    console.log(`back-pressure: sent ${sent}, received ${received}, dropped ${dropped}, inferences ${state!.inferences}, runtime ${state!.runtime}; RSS +${((rssPeak - rssBefore) / 2 ** 20).toFixed(0)} MiB at peak`);
    expect(received).toBeGreaterThan(sent * 0.9);
    expect(dropped / received).toBeGreaterThan(0.3);
    // Bounded: a pile-up of 3 × 30 fps × 12 s JPEGs plus decoded frames would take far more.
    expect(rssPeak - rssBefore).toBeLessThan(300 * 2 ** 20);
    expect(rec.on('vigil/events').some((m) => CAMERAS.includes(JSON.parse(m.payload.toString()).after.camera))).toBe(true);
  }, 120_000);
});
