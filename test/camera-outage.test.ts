/**
 * A camera dropping off: the RTSP server is killed (kill -9) → the camera goes offline
 * within 25 s, open events end, nothing crashes; the server comes back on the same port
 * → online and events again within 30 s.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

let rtsp: RtspServer;
let h: TestHub;
let rec: MqttRecorder;

beforeAll(async () => {
  rtsp = await startRtspServer();
  h = await startTestHub();
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/events', 'vigil/camera/door/availability', 'vigil/camera/door/state', 'vigil/camera/door/person']);
});

afterAll(async () => {
  await rec?.close();
  await h?.stop();
  await rtsp?.stop();
});

it('goes offline when the camera dies and recovers when it returns', async () => {
  const res = await api(h.baseUrl, 'POST', '/api/cameras', {
    name: 'door', paths: { detect: rtsp.mainUrl }, detect: { width: 640, fps: 5, max_disappeared: 2 },
    objects: { track: ['person'], filters: { person: { min_score: 0.4, threshold: 0.55 } } },
  });
  expect(res.status).toBe(201);
  await rec.waitFor((m) => m.topic === 'vigil/camera/door/availability' && m.payload.toString() === 'online', 15_000, 'online');
  await rec.waitFor((m) => m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).type === 'new', 90_000, 'first event');

  const killedAt = Date.now();
  const before = rec.messages.length;
  await rtsp.kill();
  const offline = await rec.waitFor((m) => m.topic === 'vigil/camera/door/availability' && m.payload.toString() === 'offline' && m.at >= killedAt, 25_000, 'offline within 25 s');
  expect(offline.at - killedAt).toBeLessThanOrEqual(25_000);
  // Every event that was open ends.
  await expect.poll(() => {
    const evs = rec.events().filter((e) => e.after.camera === 'door');
    const lastType = new Map<string, string>();
    for (const e of evs) lastType.set(e.after.id, e.type);
    return [...lastType.values()].every((t) => t === 'end');
  }, { timeout: 10_000 }).toBe(true);
  await rec.waitFor((m, ) => m.topic === 'vigil/camera/door/person' && m.payload.toString() === '0' && rec.messages.indexOf(m) >= before, 10_000, 'count 0');
  const health = await api(h.baseUrl, 'GET', '/api/health');
  expect(health.status).toBe(200);

  // Let the backoff grow a little, then bring the camera back on the same port.
  await new Promise((r) => setTimeout(r, 4000));
  const back = Date.now();
  rtsp = await startRtspServer({ port: rtsp.port });
  const online = await rec.waitFor((m) => m.topic === 'vigil/camera/door/availability' && m.payload.toString() === 'online' && m.at >= back, 30_000, 'online again');
  await rec.waitFor((m) => m.topic === 'vigil/events' && m.at >= back && JSON.parse(m.payload.toString()).type === 'new', Math.max(1000, 30_000 - (Date.now() - back)), 'events again within 30 s');
  expect(online.at - back).toBeLessThan(30_000);
  const state = JSON.parse(rec.on('vigil/camera/door/state').at(-1)!.payload.toString());
  expect(state.restarts).toBeGreaterThanOrEqual(1);
  const sys = await api(h.baseUrl, 'GET', '/api/system');
  expect(sys.body.components.camera.door.restarts).toBeGreaterThanOrEqual(1);
  expect(sys.body.components.camera.door.last_error === null || typeof sys.body.components.camera.door.last_error === 'string').toBe(true);
}, 240_000);
