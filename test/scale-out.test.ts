/**
 * The scale-out path: an external Mosquitto broker, the hub with no in-process
 * components, and the camera and detector each running as their own OS process
 * (`components/main.ts`). Events still flow end to end and land in the hub's database.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { spawnComponent, type ComponentProcess } from './helpers/component-process.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

let rtsp: RtspServer;
let broker: MosquittoBroker;
let h: TestHub;
let rec: MqttRecorder;
const procs: ComponentProcess[] = [];

function component(role: 'camera' | 'detector', url: string): ComponentProcess {
  const p = spawnComponent(role, { url, args: ['--workers', '2'] });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  [rtsp, broker] = await Promise.all([startRtspServer(), startMosquitto()]);
  h = await startTestHub({ mqtt: { url: broker.url }, camera: { enabled: false }, detector: { enabled: false } });
  rec = await MqttRecorder.connect(broker.url, ['vigil/events', 'vigil/component/+/availability', 'vigil/camera/yard/availability', 'vigil/camera/yard/person', 'vigil/camera/yard/person/snapshot']);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await rec?.close();
  await h?.stop();
  await broker?.stop();
  await rtsp?.stop();
});

it('runs camera and detector as separate processes over Mosquitto', async () => {
  const sys = await api(h.baseUrl, 'GET', '/api/system');
  expect(sys.body.mqtt.embedded).toBe(false);
  expect(Object.keys(sys.body.components)).not.toContain('camera');

  const cam = component('camera', broker.url);
  const det = component('detector', broker.url);
  await rec.waitFor((m) => m.topic === `vigil/component/camera-${cam.pid}/availability` && m.payload.toString() === 'online', 20_000, 'camera process online');
  await rec.waitFor((m) => m.topic === `vigil/component/detector-${det.pid}/availability` && m.payload.toString() === 'online', 60_000, 'detector process online');

  const res = await api(h.baseUrl, 'POST', '/api/cameras', {
    name: 'yard', paths: { detect: rtsp.mainUrl }, detect: { width: 640, fps: 5 },
    objects: { track: ['person'], filters: { person: { min_score: 0.4, threshold: 0.55 } } },
  });
  expect(res.status).toBe(201);
  // mosquitto_sub gets the first event (spawned async: the test hub shares this event loop).
  const mosq = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'vigil/events', '-C', '1', '-W', '90'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let mosqOut = '';
  mosq.stdout!.on('data', (c: Buffer) => { mosqOut += c.toString(); });
  const mosqExit = new Promise<number | null>((r) => mosq.on('exit', r));
  await rec.waitFor((m) => m.topic === 'vigil/camera/yard/availability' && m.payload.toString() === 'online', 20_000, 'camera online');
  expect(await mosqExit).toBe(0);
  expect(JSON.parse(mosqOut).after.camera).toBe('yard');
  const ev = await rec.waitFor((m) => m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).after.label === 'person', 90_000, 'person event');
  const id = JSON.parse(ev.payload.toString()).after.id as string;

  await rec.waitFor((m) => m.topic === 'vigil/camera/yard/person' && Number(m.payload.toString()) >= 1, 10_000, 'count ≥ 1');
  const snap = await rec.waitFor((m) => m.topic === 'vigil/camera/yard/person/snapshot', 20_000, 'snapshot');
  expect(snap.payload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

  // The hub, in another process, stored the row and the snapshot it received over Mosquitto.
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${id}`)).status, { timeout: 10_000 }).toBe(200);
  await expect.poll(async () => (await fetch(`${h.baseUrl}/api/events/${id}/snapshot.jpg`, { headers: { authorization: `Bearer ${h.adminToken}` } })).status, { timeout: 10_000 }).toBe(200);
  // The hub sees the components through the bus.
  await expect.poll(async () => Object.keys((await api(h.baseUrl, 'GET', '/api/system')).body.components), { timeout: 10_000 })
    .toContain(`detector-${det.pid}`);

  // The camera process dies: its last will marks it offline on the broker.
  cam.child.kill('SIGKILL');
  const killed = Date.now();
  await rec.waitFor((m) => m.topic === `vigil/component/camera-${cam.pid}/availability` && m.payload.toString() === 'offline', 30_000, 'camera process last will');
  // … and the hub marks the cameras that process ran offline; the detector ends their events.
  await rec.waitFor((m) => m.topic === 'vigil/camera/yard/availability' && m.payload.toString() === 'offline' && m.at >= killed, 10_000, 'camera offline via the hub');
  await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/events?camera=yard&in_progress=1')).body.length, { timeout: 10_000 }).toBe(0);
  await rec.waitFor((m) => m.topic === 'vigil/camera/yard/person' && m.payload.toString() === '0', 10_000, 'count back to 0');
  expect(procs.map((p) => p.logs()).join('\n')).not.toMatch(/"level":(50|60)/);
}, 240_000);
