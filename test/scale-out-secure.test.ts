/**
 * Scale-out that stays secure (issue #15): Mosquitto 2 with the dynamic security plugin
 * driven by the hub, PostgreSQL as the store, and the camera and detector each running as
 * their own OS process (`components/main.ts`) with a `component` device credential — the
 * main job runs (RTSP → events → rows in PostgreSQL), a viewer limited to one camera gets
 * only that camera's topics from Mosquitto, and a revoked API key is refused within a second.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keyUsername } from '../hub/broker/dynsec-sync.ts';
import { spawnComponent, type ComponentProcess } from './helpers/component-process.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { startPostgres, type PostgresServer } from './helpers/postgres.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

const HUB_USER = 'vigil-hub';
const HUB_PASSWORD = 'hub-dynsec-password';

let rtsp: RtspServer;
let broker: MosquittoBroker;
let pg: PostgresServer;
let h: TestHub;
let rec: MqttRecorder;
const procs: ComponentProcess[] = [];

/** A device credential made through the API (the hub creates its Mosquitto client). */
async function device(id: string): Promise<{ username: string; password: string }> {
  const r = await api(h.baseUrl, 'POST', '/api/devices', { id, kind: 'component' });
  expect(r.status).toBe(201);
  return { username: id, password: r.body.password as string };
}

function component(role: 'camera' | 'detector', creds: { username: string; password: string }): ComponentProcess {
  const p = spawnComponent(role, { url: broker.url, ...creds, args: ['--workers', '1'] });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  [rtsp, broker, pg] = await Promise.all([startRtspServer(), startMosquitto({ dynsec: { username: HUB_USER, password: HUB_PASSWORD } }), startPostgres()]);
  const storeUrl = await pg.createDatabase('vigil_scale');
  h = await startTestHub({
    mqtt: { url: broker.url, username: HUB_USER, password: HUB_PASSWORD, dynamic_security: true },
    store: { url: storeUrl }, camera: { enabled: false }, detector: { enabled: false },
  });
  rec = await MqttRecorder.connect(broker.url, ['vigil/events', 'vigil/component/+/availability', 'vigil/camera/+/availability'], await device('recorder'));
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await rec?.close();
  await h?.stop();
  await Promise.all([broker?.stop(), rtsp?.stop(), pg?.stop()]);
});

it('runs camera and detector processes on Mosquitto with dynamic security; events land in PostgreSQL', async () => {
  const sys = (await api(h.baseUrl, 'GET', '/api/system')).body;
  expect(sys.mqtt.embedded).toBe(false);
  const cam = component('camera', await device('camera-proc'));
  const det = component('detector', await device('detector-proc'));
  await rec.waitFor((m) => m.topic === `vigil/component/camera-${cam.pid}/availability` && m.payload.toString() === 'online', 30_000, 'camera process online');
  await rec.waitFor((m) => m.topic === `vigil/component/detector-${det.pid}/availability` && m.payload.toString() === 'online', 90_000, 'detector process online');

  expect((await api(h.baseUrl, 'POST', '/api/cameras', {
    name: 'yard', paths: { detect: rtsp.mainUrl }, detect: { width: 640, fps: 5 },
    objects: { track: ['person'], filters: { person: { min_score: 0.4, threshold: 0.55 } } },
  })).status).toBe(201);
  await rec.waitFor((m) => m.topic === 'vigil/camera/yard/availability' && m.payload.toString() === 'online', 30_000, 'camera online');
  const ev = await rec.waitFor((m) => m.topic === 'vigil/events' && JSON.parse(m.payload.toString()).after.label === 'person', 120_000, 'person event');
  const id = JSON.parse(ev.payload.toString()).after.id as string;
  // Stored by the hub in PostgreSQL (read back through the API and straight from the database).
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${id}`)).status, { timeout: 15_000 }).toBe(200);
  expect((await pg.psql(`SELECT count(*) FROM events WHERE id = '${id}'`, 'vigil_scale')).trim()).toMatch(/\b1\b/);
  expect(procs.map((p) => p.logs()).join('\n')).not.toMatch(/"level":(50|60)/);
}, 300_000);

it('gives a viewer limited to one camera only that camera’s topics on Mosquitto', async () => {
  expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'gate', enabled: false, paths: { detect: rtsp.subUrl } })).status).toBe(201);
  expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'vic', password: 'vic-password-1', role: 'viewer', cameras: ['yard'] })).status).toBe(201);
  await h.hub.dynamicSecurity!.sync();
  const c = await mqtt.connectAsync(broker.url, { username: 'vic', password: 'vic-password-1', protocolVersion: 4, reconnectPeriod: 0 });
  try {
    const seen = new Set<string>();
    c.on('message', (t) => seen.add(t.split('/').slice(0, 3).join('/')));
    expect((await c.subscribeAsync('vigil/camera/yard/#')).map((g) => g.qos)).toEqual([0]);
    // The other camera's filter is refused: SUBACK 0x80 (mqtt.js turns it into an error).
    expect(await c.subscribeAsync('vigil/camera/gate/#').then(() => 'granted', (err: Error) => err.message)).toMatch(/Subscribe error/);
    await c.subscribeAsync('vigil/camera/+/config');
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen.has('vigil/camera/yard')).toBe(true);
    expect([...seen].filter((t) => t !== 'vigil/camera/yard')).toEqual([]);
  } finally {
    await c.endAsync();
  }
}, 60_000);

it('refuses a revoked API key within a second, its live connection included', async () => {
  const k = await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'script', scope: 'read' });
  expect(k.status).toBe(201);
  const creds = { username: keyUsername(k.body.id as string), password: k.body.key as string };
  const c = await mqtt.connectAsync(broker.url, { ...creds, protocolVersion: 4, reconnectPeriod: 0 });
  const closed = new Promise<number>((r) => c.once('close', () => r(Date.now())));
  const t0 = Date.now();
  expect((await api(h.baseUrl, 'DELETE', `/api/api-keys/${k.body.id}`)).status).toBe(204);
  const dropped = (await closed) - t0;
  const refused = await mqtt.connectAsync(broker.url, { ...creds, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 }).then((x) => { x.end(true); return 'connected'; }, (err: Error) => err.message);
  const refusedAfter = Date.now() - t0;
  console.log(`revoked API key: live connection dropped after ${dropped} ms, a new login refused ${refusedAfter} ms after the DELETE was sent`);
  expect(dropped).toBeLessThan(1000);
  expect(refused).toMatch(/Not authorized|Bad username or password/i);
  expect(refusedAfter).toBeLessThan(1000 + 3000);
}, 60_000);
