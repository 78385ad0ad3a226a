/**
 * Broker restarts (issue #15, Tests): "components, availability and retained state come
 * back by themselves; events in flight are not duplicated in the store".
 *
 * Real parts: an RTSP camera looping vtest.avi (pedestrians → person events), the camera
 * and detector components each as their own OS process (`components/main.ts`), the hub
 * with its SQLite store, and the broker restarted in the middle of a person event:
 *
 * 1. Mosquitto (`mqtt.url`, anonymous, no persistence) killed with SIGKILL after the
 *    event's `new` and started again on the same port 2 s later.
 * 2. The embedded broker: it lives in the hub, so the hub is stopped and started again
 *    (same data dir, same MQTT port; the components log in with device credentials).
 *
 * Each shows: every process reconnects by itself and re-publishes its retained state into
 * the empty broker (a subscriber arriving afterwards gets it, retained); the event in
 * flight ends, with the detector's own `end`, and is stored once; every event id is stored
 * once; and a QoS 1 message delivered twice (as a redelivery after a reconnect does) leaves
 * one row. The embedded case also shows that what a component queued while the broker was
 * down reaches the store after the restart. Home Assistant's configs after a Mosquitto
 * restart are covered by test/ha-discovery.test.ts ("with Mosquitto restarted").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../components/protocol/bus.ts';
import type { EventRecord } from '../components/protocol/tracked-object.ts';
import { spawnComponent, type ComponentProcess } from './helpers/component-process.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';

const CAMERA = 'yard';
/** What `Bus` logs after each reconnect (`components/protocol/bus.ts`). */
const RECONNECTED = 'mqtt reconnected; re-sending retained state';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rtsp: RtspServer;
/** Component processes of the running scenario (each scenario stops its own before its broker goes). */
const procs: ComponentProcess[] = [];
const stopComponents = () => Promise.all(procs.splice(0).map((p) => p.stop()));

beforeAll(async () => { rtsp = await startRtspServer(); }, 60_000);
afterAll(async () => {
  await stopComponents();
  await rtsp?.stop();
});

/** The test camera: person events on the footage within a minute (as test/scale-out-secure.test.ts). */
function cameraBody(): Record<string, unknown> {
  return {
    name: CAMERA, paths: { detect: rtsp.mainUrl }, detect: { width: 640, fps: 5 },
    objects: { track: ['person'], filters: { person: { min_score: 0.4, threshold: 0.55 } } },
  };
}

type EventMsg = { type: 'new' | 'update' | 'end'; before: unknown; after: { id: string; label: string; start_time: number; end_time: number | null } & Record<string, unknown> };
const parseEvent = (payload: Buffer): EventMsg => JSON.parse(payload.toString()) as EventMsg;

/** Both components as their own processes; resolves once both are online on the bus. */
async function startComponents(url: string, rec: MqttRecorder, creds: { camera?: { username: string; password: string }; detector?: { username: string; password: string } } = {}): Promise<{ cam: ComponentProcess; det: ComponentProcess }> {
  const cam = spawnComponent('camera', { url, ...creds.camera });
  const det = spawnComponent('detector', { url, ...creds.detector, args: ['--workers', '1'] });
  procs.push(cam, det);
  const online = (p: ComponentProcess, ms: number) => rec.waitFor((m) => m.topic === `vigil/component/${p.id}/availability` && m.payload.toString() === 'online', ms, `${p.id} online`)
    .catch((err: Error) => { throw new Error(`${err.message}; its log:\n${p.logs().slice(-3000)}`); });
  await Promise.all([online(cam, 60_000), online(det, 90_000)]);
  return { cam, det };
}

/** Adds the camera and waits for the detector's first person event's `new` (not one of `notIds`): the event that will be in flight at the restart. */
async function personEventInProgress(h: TestHub, rec: MqttRecorder, notIds: string[] = []): Promise<EventMsg> {
  expect((await api(h.baseUrl, 'POST', '/api/cameras', cameraBody())).status).toBe(201);
  await rec.waitFor((m) => m.topic === `vigil/camera/${CAMERA}/availability` && m.payload.toString() === 'online', 60_000, 'camera online');
  const isPersonNew = (e: EventMsg) => e.type === 'new' && e.after.label === 'person' && !notIds.includes(e.after.id);
  const m = await rec.waitFor((x) => x.topic === 'vigil/events' && isPersonNew(parseEvent(x.payload)), 150_000, 'a person event');
  const ev = parseEvent(m.payload);
  // Stored by the hub while in progress.
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${ev.after.id}`)).body?.end_time, { timeout: 15_000 }).toBeNull();
  return ev;
}

/** Number of "reconnected" lines in a log. */
const reconnects = (log: string) => log.split(RECONNECTED).length - 1;

/**
 * Waits until the hub and both component processes have reconnected (each says so once
 * in its log), then checks that a subscriber arriving now gets every retained topic from
 * the broker (retain flag set) with a current value. Returns the topics checked.
 */
async function retainedStateIsBack(url: string, creds: { username?: string; password?: string }, h: TestHub, cam: ComponentProcess, det: ComponentProcess, hubReconnects: boolean): Promise<string[]> {
  for (const p of [cam, det]) {
    await expect.poll(() => reconnects(p.logs()), { timeout: 30_000, message: `${p.id} reconnects by itself` }).toBeGreaterThanOrEqual(1);
  }
  if (hubReconnects) await expect.poll(() => reconnects(h.logs()), { timeout: 30_000, message: 'the hub reconnects by itself' }).toBeGreaterThanOrEqual(1);
  await sleep(1500); // what they re-publish right after reconnecting is in flight
  const expected: Array<[string, (p: string) => boolean]> = [
    ['vigil/hub/availability', (p) => p === 'online'],
    [`vigil/component/${cam.id}/availability`, (p) => p === 'online'],
    [`vigil/component/${det.id}/availability`, (p) => p === 'online'],
    [`vigil/component/${cam.id}/state`, (p) => { const s = JSON.parse(p); return s.role === 'camera' && s.cameras.includes(CAMERA); }],
    // The detector process publishes its counters as component `detector` (what /api/system reads), its availability as `detector-<pid>`.
    ['vigil/component/detector/state', (p) => typeof JSON.parse(p).frames_received === 'number'],
    [`vigil/camera/${CAMERA}/config`, (p) => JSON.parse(p).name === CAMERA],
    [`vigil/camera/${CAMERA}/availability`, (p) => p === 'online'],
    [`vigil/camera/${CAMERA}/state`, (p) => typeof JSON.parse(p).frames === 'number'],
    [`vigil/camera/${CAMERA}/motion`, (p) => p === 'ON' || p === 'OFF'],
    [`vigil/camera/${CAMERA}/detect/state`, (p) => p === 'ON'],
    [`vigil/camera/${CAMERA}/person`, (p) => /^\d+$/.test(p)],
  ];
  const fresh = await MqttRecorder.connect(url, expected.map(([t]) => t), creds);
  try {
    for (const [topic, ok] of expected) {
      await fresh.waitFor((m) => m.topic === topic && m.retain && ok(m.payload.toString()), 10_000, `retained ${topic}`);
    }
  } finally {
    await fresh.close();
  }
  return expected.map(([t]) => t);
}

async function allEvents(h: TestHub): Promise<EventRecord[]> {
  const r = await api(h.baseUrl, 'GET', '/api/events?limit=1000');
  expect(r.status).toBe(200);
  return r.body as EventRecord[];
}

/**
 * The event in flight at the restart ends and is stored once; every event id is stored
 * once; every event the recorder saw is stored, with the end time of its `end`. The
 * detector did not end the object while it was cut off from its frames: after its
 * reconnect, the object had the camera's `detect.max_disappeared` seconds of new frames to
 * be seen again (`components/detector/detector-component.ts`), so its end is that late at least.
 */
async function inFlightEventStoredOnce(h: TestHub, rec: MqttRecorder, inflight: string, det: ComponentProcess): Promise<void> {
  // It ends by itself (the detector's `end`, through the restarted broker).
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events/${inflight}`)).body?.data?.end_time ?? null, { timeout: 120_000, interval: 1000, message: `${inflight} ends` }).not.toBeNull();
  const seen = [...new Set(rec.events().map((e) => e.after.id as string))];
  await expect.poll(async () => { const ids = new Set((await allEvents(h)).map((e) => e.id)); return seen.filter((id) => !ids.has(id)); }, { timeout: 15_000, message: 'every event seen on the bus is stored' }).toEqual([]);
  const rows = await allEvents(h);
  const ids = rows.map((e) => e.id);
  expect(ids.length).toBe(new Set(ids).size); // one row per event id
  const mine = rows.filter((e) => e.id === inflight);
  expect(mine).toHaveLength(1);
  const e = mine[0]!;
  // The row holds the detector's `end` (a row the hub closed at start-up has end_time set but data.end_time null).
  expect(e.end_time).not.toBeNull();
  expect(e.data.end_time).toBe(e.end_time);
  const reconnectedAt = det.records().find((r) => r.msg === RECONNECTED)?.time;
  expect(reconnectedAt).toBeTypeOf('number');
  const maxDisappeared = (await api(h.baseUrl, 'GET', `/api/cameras/${CAMERA}`)).body.detect.max_disappeared as number;
  expect(maxDisappeared).toBeGreaterThan(0);
  expect(e.end_time! * 1000).toBeGreaterThanOrEqual(reconnectedAt! + maxDisappeared * 1000 - 50); // 50 ms: float seconds
  // Each `end` the recorder saw is the stored end.
  for (const end of rec.events().filter((x) => x.type === 'end')) {
    expect(rows.find((r) => r.id === end.after.id)?.end_time, end.after.id).toBe(end.after.end_time);
  }
  // A person the detector lost during the outage comes back as a new event: another id, started after the reconnect.
  const later = rows.filter((r) => r.id !== inflight && r.start_time * 1000 >= reconnectedAt!);
  const continued = rows.filter((r) => r.start_time * 1000 < reconnectedAt! && (r.end_time === null || r.end_time * 1000 > reconnectedAt! + maxDisappeared * 1000 + 1000));
  console.log(`in-flight ${inflight}: ${(e.end_time! - e.start_time).toFixed(1)} s long, ended ${((e.end_time! * 1000 - reconnectedAt!) / 1000).toFixed(1)} s after the detector reconnected; ` +
    `${rows.length} events stored; followed across the restart: ${continued.map((r) => r.id).join(', ') || 'none'}; started after it: ${later.length}`);
}

/**
 * QoS 1 is at-least-once: a publisher that reconnects re-sends what was not acknowledged
 * (the DUP flag set), so the hub can get one event message twice. Sends a `new` and an
 * `end` twice each through the real broker; the hub stores every delivery (its counter of
 * stored messages rises by 4: call this with no detector running) into one row.
 */
async function duplicateDeliveryKeepsOneRow(h: TestHub, url: string, creds: { username?: string; password?: string }, template: EventMsg): Promise<void> {
  const stored = async () => (await api(h.baseUrl, 'GET', '/api/system')).body.components.events.events_stored as number;
  const before = await stored();
  const t = Date.now() / 1000;
  const id = `${t.toFixed(6)}-redelivered`;
  const after = { ...template.after, id, camera: CAMERA, start_time: t, frame_time: t, end_time: null };
  const ended = { ...after, end_time: t + 2 };
  const c = await mqtt.connectAsync(url, { ...creds, protocolVersion: 4, reconnectPeriod: 0 });
  try {
    for (const msg of [{ type: 'new', before: after, after }, { type: 'end', before: after, after: ended }]) {
      await c.publishAsync('vigil/events', JSON.stringify(msg), { qos: 1 });
      await c.publishAsync('vigil/events', JSON.stringify(msg), { qos: 1, dup: true });
    }
  } finally {
    await c.endAsync();
  }
  await expect.poll(async () => (await stored()) - before, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
  await sleep(500);
  expect((await stored()) - before).toBe(4);
  const rows = (await allEvents(h)).filter((e) => e.id === id);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.end_time).toBe(t + 2);
  expect(rows[0]!.data.end_time).toBe(t + 2);
}

describe('Mosquitto killed and restarted (no persistence)', () => {
  let broker: MosquittoBroker;
  let h: TestHub;
  let rec: MqttRecorder;

  beforeAll(async () => {
    broker = await startMosquitto();
    h = await startTestHub({ mqtt: { url: broker.url }, camera: { enabled: false }, detector: { enabled: false } });
    rec = await MqttRecorder.connect(broker.url, ['vigil/events', 'vigil/component/+/availability', 'vigil/camera/+/availability'], {});
  }, 60_000);

  afterAll(async () => {
    await stopComponents();
    await rec?.close();
    await h?.stop();
    await broker?.stop();
  });

  it('brings every process, availability and retained state back, and stores the event in flight once', async () => {
    const { cam, det } = await startComponents(broker.url, rec);
    const ev = await personEventInProgress(h, rec);
    const id = ev.after.id;
    expect(rec.events().some((e) => e.type === 'end' && e.after.id === id)).toBe(false); // in flight

    await broker.kill(); // a crash: no clean disconnects, no wills, nothing kept
    await sleep(2000);
    broker = await startMosquitto({ port: broker.port });

    const topics = await retainedStateIsBack(broker.url, {}, h, cam, det, true);
    console.log(`after the Mosquitto restart a new subscriber got, retained: ${topics.join(', ')}`);
    await inFlightEventStoredOnce(h, rec, id, det);
    for (const p of [cam, det]) expect(p.exited(), p.id).toBeNull();
    expect(cam.logs() + det.logs()).not.toMatch(/"level":(50|60)/);
    await stopComponents(); // their `end`s at stop land before the count below starts
    await sleep(1000);
    await duplicateDeliveryKeepsOneRow(h, broker.url, {}, ev);
  }, 330_000);
});

describe('embedded broker: the hub restarted', () => {
  let h: TestHub | undefined;
  let dataDir: string;
  let rec: MqttRecorder | undefined;
  let publisher: Bus | undefined;
  let eager: mqtt.MqttClient | undefined;

  beforeAll(() => { dataDir = mkdtempSync(join(tmpdir(), 'vigil-broker-restart-')); });

  afterAll(async () => {
    await stopComponents();
    await publisher?.close();
    await eager?.endAsync(true);
    await rec?.close();
    await h?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A `component` device made through the API: it is stored, so it outlives the restart. */
  async function device(id: string): Promise<{ username: string; password: string }> {
    const r = await api(h!.baseUrl, 'POST', '/api/devices', { id, kind: 'component' });
    expect(r.status).toBe(201);
    return { username: id, password: r.body.password as string };
  }

  it('brings the components and retained state back, stores the event in flight once, and loses nothing queued while it was down', async () => {
    const overrides = { camera: { enabled: false }, detector: { enabled: false } };
    h = await startTestHub(overrides, { dataDir });
    const port = h.hub.mqttPort;
    const url = h.mqttUrl;
    const recorderCreds = await device('recorder');
    rec = await MqttRecorder.connect(url, ['vigil/events', 'vigil/component/+/availability', 'vigil/camera/+/availability'], recorderCreds);
    const { cam, det } = await startComponents(url, rec, { camera: await device('camera-proc'), detector: await device('detector-proc') });
    // A client publishing events as the detector does (the protocol's Bus, QoS 1): what it sends while the broker is down is queued.
    publisher = new Bus({ url, ...(await device('publisher')), clientId: 'vigil-test-publisher', logger: pino({ level: 'silent' }) });
    await publisher.connect();
    // …and one that retries every 25 ms, so it is back the moment the broker listens again.
    eager = await mqtt.connectAsync(url, { ...(await device('eager')), protocolVersion: 4, reconnectPeriod: 25 });
    const now = Date.now() / 1000;
    const state = (id: string) => ({ id, camera: CAMERA, label: 'person', score: 0.7, top_score: 0.7, false_positive: false, start_time: now, end_time: null, box: [10, 10, 60, 160], area: 7500, entered_zones: [], has_snapshot: false });
    const queuedId = `${now.toFixed(6)}-queued`;
    const eagerId = `${now.toFixed(6)}-eager`;
    const q = state(queuedId);
    const qe = state(eagerId);
    publisher.send('vigil/events', { type: 'new', before: q, after: q }, { qos: 1 });
    await eager.publishAsync('vigil/events', JSON.stringify({ type: 'new', before: qe, after: qe }), { qos: 1 });
    for (const x of [queuedId, eagerId]) await expect.poll(async () => (await api(h!.baseUrl, 'GET', `/api/events/${x}`)).status, { timeout: 10_000 }).toBe(200);

    const ev = await personEventInProgress(h, rec, [queuedId, eagerId]);
    const id = ev.after.id;
    expect(rec.events().some((e) => e.type === 'end' && e.after.id === id)).toBe(false); // in flight

    await h.stop(); // the embedded broker goes with the hub: nothing it held survives
    await expect.poll(() => publisher!.connected, { timeout: 5_000 }).toBe(false);
    // Published while there is no broker: mqtt.js keeps QoS 1 messages until a broker acknowledges them.
    const qUpdate = { ...q, score: 0.9, top_score: 0.9 };
    const qEnd = { ...qUpdate, end_time: q.start_time + 3 };
    publisher.send('vigil/events', { type: 'update', before: q, after: qUpdate }, { qos: 1 });
    publisher.send('vigil/events', { type: 'end', before: qUpdate, after: qEnd }, { qos: 1 });
    const qeEnd = { ...qe, end_time: qe.start_time + 4 };
    eager.publish('vigil/events', JSON.stringify({ type: 'end', before: qe, after: qeEnd }), { qos: 1 });
    await sleep(4000);
    h = await startTestHub({ ...overrides, mqtt: { port } }, { dataDir });
    expect(h.hub.mqttPort).toBe(port);

    const topics = await retainedStateIsBack(url, recorderCreds, h, cam, det, false);
    console.log(`after the hub (embedded broker) restart a new subscriber got, retained: ${topics.join(', ')}`);
    // What was queued while the broker was down reached the store once, in order.
    await expect.poll(async () => (await api(h!.baseUrl, 'GET', `/api/events/${queuedId}`)).body?.end_time, { timeout: 15_000, message: 'the queued end is stored' }).toBe(qEnd.end_time);
    const queued = (await api(h.baseUrl, 'GET', `/api/events/${queuedId}`)).body as EventRecord;
    expect(queued.data.end_time).toBe(qEnd.end_time);
    expect(queued.top_score).toBe(0.9);
    await expect.poll(async () => (await api(h!.baseUrl, 'GET', `/api/events/${eagerId}`)).body?.data?.end_time, { timeout: 15_000, message: 'the eager client\'s queued end is stored' }).toBe(qeEnd.end_time);

    await inFlightEventStoredOnce(h, rec, id, det);
    for (const p of [cam, det]) expect(p.exited(), p.id).toBeNull();
    expect(cam.logs() + det.logs()).not.toMatch(/"level":(50|60)/);
    await stopComponents();
    await sleep(1000);
    await duplicateDeliveryKeepsOneRow(h, url, recorderCreds, ev);
  }, 330_000);
});
