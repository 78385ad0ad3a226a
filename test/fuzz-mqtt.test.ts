/**
 * Fuzzing every topic the hub and its components subscribe to (fast-check, fixed seed):
 * random bytes, truncated JSON, JSON of the wrong type, valid-shaped payloads with one
 * field wrong or out of range, bad JPEGs and detect frames, huge JSON near the broker's
 * max packet size — published by authorized clients into a real hub whose services and
 * in-process camera and detector components are running (one camera with detection on,
 * so the detector loads its model and decodes frames). A device limited to its own camera
 * publishes and subscribes at random too, so the broker refuses a flood.
 *
 * Afterwards the hub still answers `/api/health` and every GET route it answered before
 * with the same status, the camera, user and event rows made before are unchanged, and
 * each (client, reason) refusal of the broker, and each (topic, reason) bad-message
 * warning of a service or component, was logged at most once (the window is a minute,
 * the run shorter): the flood's warn lines grow with the topics it used, not with the
 * messages.
 *
 * Topics (`grep subscribe hub components`, `components/protocol/topics.ts`): the hub's
 * camera service (`…/config`, `…/+/set`), system status and recordings (`…/state`,
 * `…/availability`, `…/motion`, `…/snapshot`, components), event feed and store
 * (`vigil/events`, `vigil/events/+/+`), recording index and exports
 * (`vigil/recorder/+/segment`), wall (`vigil/display/+/layout/set`), faces
 * (`vigil/faces/…`), heads (`vigil/head/#`), ONVIF (`…/ptz`, `…/relay/+/set`), bridge
 * (`vigil/bridge/request/#`), Home Assistant (`homeassistant/status`, discovery configs,
 * feature states, `vigil/hub/storage`); the camera component (`…/config`,
 * `…/live/demand`, `…/all/active`) and the detector (`…/config`, `…/availability`,
 * `…/frame`, faces).
 */
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../components/protocol/frame-codec.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { FUZZ_SCALE, FUZZ_SEED, REAL_JPEG, anyJson, badJpeg, badJson, badText, fuzzParams, hugeJson, mutated, weirdString } from './helpers/fuzz.ts';

/** The broker's max packet size in this run, bytes: huge JSON goes up to just under it. */
const MAX_PACKET = 1024 * 1024;

let h: TestHub;
let component: MqttClient;
let haClient: MqttClient;
/** A `camera` device for camera `porch`: most fuzz topics are refused to it. */
let limited: MqttClient;
let cameraConfigSample: Record<string, unknown>;
let before: { statuses: Record<string, number>; cameras: unknown; users: unknown; events: unknown };

const now = () => Date.now() / 1000;
function eventOf(id: string, type: 'new' | 'update' | 'end', camera = 'porch'): Record<string, unknown> {
  const t = now();
  const after = { id, camera, label: 'person', sub_label: null, score: 0.9, top_score: 0.9, box: [10, 20, 110, 220], area: 20000, ratio: 0.5, current_zones: [], entered_zones: [], start_time: t - 5, end_time: type === 'end' ? t : null, has_snapshot: false, has_clip: false, false_positive: false, stationary: false, motionless_count: 0, position_changes: 1, frame_time: t };
  return { type, before: after, after };
}

/** GET routes of the OpenAPI document, path parameters filled with rows that exist. */
async function getRoutes(): Promise<string[]> {
  const doc = (await api(h.baseUrl, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).filter(([, ops]) => 'get' in ops).map(([p]) => p
    .replace('{name}', 'porch').replace('{camera}', 'porch').replace('{id}', 'keep-1')).filter((p) => !/[{}]/.test(p) && !/\/live|stream|\.mp4|\.m3u8|mjpeg|export/.test(p));
}

async function snapshot(routes: string[]): Promise<typeof before> {
  const statuses: Record<string, number> = {};
  for (const r of routes) statuses[r] = (await api(h.baseUrl, 'GET', r)).status;
  const strip = (rows: any[]) => rows.map(({ updated_at: _u, last_seen: _l, status: _s, ...rest }) => rest);
  return {
    statuses,
    cameras: (await api(h.baseUrl, 'GET', '/api/cameras/porch')).body,
    users: strip((await api(h.baseUrl, 'GET', '/api/users')).body as any[]),
    events: ((await api(h.baseUrl, 'GET', '/api/events?limit=100')).body as Array<{ id: string }>).filter((e) => e.id.startsWith('keep-')),
  };
}

beforeAll(async () => {
  h = await startTestHub({ mqtt: { max_packet_size: MAX_PACKET }, homeassistant: { enabled: true }, log: { level: 'debug' } });
  const ok = async (method: string, path: string, body: unknown) => {
    const r = await api(h.baseUrl, method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  await ok('POST', '/api/cameras', { name: 'porch', paths: { detect: 'rtsp://127.0.0.1:1/none' }, zones: [{ name: 'steps', coordinates: [[0, 0], [1, 0], [1, 1]] }] });
  await ok('POST', '/api/cameras', { name: 'yard', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/none' } });
  await ok('POST', '/api/users', { username: 'keeper', password: 'keeper-password-1', role: 'viewer' });
  const cam = await ok('POST', '/api/devices', { id: 'porch', kind: 'camera' });
  const ha = await ok('POST', '/api/devices', { id: 'ha-fuzz', kind: 'ha' });
  const opts = { protocolVersion: 4 as const, reconnectPeriod: 200, connectTimeout: 5000 };
  component = await mqtt.connectAsync(h.mqttUrl, { ...opts, ...h.mqttCreds, clientId: 'fuzz-component' });
  haClient = await mqtt.connectAsync(h.mqttUrl, { ...opts, username: ha.username, password: ha.password, clientId: 'fuzz-ha' });
  limited = await mqtt.connectAsync(h.mqttUrl, { ...opts, username: cam.username, password: cam.password, clientId: 'fuzz-limited' });
  // Rows that must survive: two events (one ended) of the camera.
  const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/porch/config']);
  cameraConfigSample = JSON.parse((await rec.waitFor((m) => m.payload.length > 0, 5000, 'porch config')).payload.toString());
  await rec.close();
  await component.publishAsync('vigil/events', JSON.stringify(eventOf('keep-1', 'new')), { qos: 1 });
  await component.publishAsync('vigil/events', JSON.stringify(eventOf('keep-2', 'new')), { qos: 1 });
  await component.publishAsync('vigil/events', JSON.stringify(eventOf('keep-2', 'end')), { qos: 1 });
  for (let i = 0; i < 100 && ((await api(h.baseUrl, 'GET', '/api/events')).body as unknown[]).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  before = await snapshot(await getRoutes());
  expect(before.statuses['/api/health']).toBe(200);
  expect(before.events).toHaveLength(2);
}, 60_000);

afterAll(async () => {
  await Promise.all([component, haClient, limited].map((c) => c?.endAsync(true)));
  await h?.stop();
});

type Publisher = 'component' | 'ha' | 'limited';
interface Target { topic: fc.Arbitrary<string>; payload: fc.Arbitrary<Buffer>; by?: Publisher }

const seg = fc.oneof(fc.constantFrom('porch', 'ghost', 'x', 'all', 'keep-1'), fc.stringMatching(/^[A-Za-z0-9_.-]{1,24}$/));
const cam = fc.constantFrom('porch', 'porch', 'ghost', 'a_b');
const t = (parts: TemplateStringsArray, ...args: Array<fc.Arbitrary<string>>): fc.Arbitrary<string> =>
  fc.tuple(...args).map((vals) => parts.reduce((acc, p, i) => acc + p + (i < vals.length ? vals[i] : ''), ''));

const frame = fc.oneof(
  fc.tuple(mutated({ camera: 'porch', seq: 1, ts: Date.now(), width: 640, height: 480, motion: [[0, 0, 10, 10]] }), badJpeg).map(([header, jpeg]) => encodeFrame(header as never, jpeg)),
  fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 512 })).map(([n, rest]) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return Buffer.concat([b, Buffer.from(rest)]); }),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  // A good header with a real, but cut, JPEG.
  fc.nat({ max: REAL_JPEG.length }).map((n) => encodeFrame({ camera: 'porch', seq: 2, ts: Date.now(), width: 640, height: 480 } as never, REAL_JPEG.subarray(0, n))),
);

/** Every subscribed topic family with its bad payloads. */
function targets(): Target[] {
  const onoff = badText(['ON', 'OFF']);
  const json = (sample: unknown) => badJson(sample);
  return [
    { topic: t`vigil/camera/${cam}/config`, payload: json(cameraConfigSample) },
    // Commands go to camera `yard` (and unknown ones): a fuzzed value may be a valid command, which rightly changes the camera.
    { topic: t`vigil/camera/${fc.constantFrom('yard', 'ghost')}/${fc.constantFrom('detect', 'record', 'motion', 'snapshots', 'motion_threshold', 'motion_min_area', 'teleport')}/set`, payload: badText(['ON', 'OFF', '42', '0.5']) },
    { topic: t`vigil/camera/${cam}/${fc.constantFrom('detect', 'motion', 'record')}/state`, payload: onoff },
    { topic: t`vigil/camera/${cam}/availability`, payload: badText(['online', 'offline']) },
    { topic: t`vigil/camera/${cam}/state`, payload: json({ status: 'ok', fps: 5, frames: 10, restarts: 0, last_error: null, width: 640, height: 480, last_frame: Date.now(), motion: false, detect_frames_sent: 3 }) },
    { topic: t`vigil/camera/${cam}/motion`, payload: onoff },
    { topic: t`vigil/camera/${cam}/snapshot`, payload: badJpeg },
    { topic: t`vigil/camera/${cam}/frame`, payload: frame },
    { topic: t`vigil/camera/${cam}/live/demand`, payload: json({ client: 'hub-1', stream: 'main', lease_ms: 30_000, init: true }) },
    { topic: t`vigil/camera/${cam}/all/active`, payload: badText(['0', '1', '3']) },
    { topic: t`vigil/camera/${cam}/ptz`, payload: badText(['preset_home', 'MOVE_LEFT', 'ZOOM_IN', 'STOP']) },
    { topic: t`vigil/camera/${cam}/relay/${seg}/set`, payload: onoff },
    { topic: t`vigil/component/${seg}/state`, payload: json({ role: 'camera', cameras: ['porch'], porch: { fps: 5 } }) },
    { topic: t`vigil/component/${seg}/availability`, payload: badText(['online', 'offline']) },
    { topic: fc.constant('vigil/events'), payload: json(eventOf('fuzz-ev', 'new')) },
    { topic: t`vigil/events/${seg}/${fc.constantFrom('snapshot', 'crop')}`, payload: badJpeg },
    { topic: t`vigil/recorder/${cam}/segment`, payload: json({ id: 'seg-1', camera: 'porch', path: 'porch/2025/seg.mp4', start_time: now() - 10, end_time: now(), duration: 10, bytes: 1000 }) },
    { topic: t`vigil/display/${seg}/layout/set`, payload: json({ layout: 'hall', transaction: 't1' }) },
    { topic: t`vigil/faces/descriptor/${seg}/${seg}`, payload: json({ ok: true, face_score: 0.9, box: [1, 2, 3, 4], descriptor: [0.1, 0.2], model: 'm', sha256: 'a'.repeat(64), detector: 'detector', time: now() }) },
    { topic: t`vigil/faces/unknown/${cam}/${seg}`, payload: badJpeg },
    { topic: t`vigil/faces/library/${seg}/${seg}`, payload: badJpeg },
    { topic: t`vigil/head/${seg}/info`, payload: json({ id: 'head1', name: 'Head', model: 'm', version: '1', variant: 'v', stream: { main: 'rtsp://127.0.0.1:1/h' }, keys: [{ key: 'light.level', description: 'd', writable: true, component: 'number', min: 0, max: 100 }] }) },
    { topic: t`vigil/head/${seg}/availability`, payload: badText(['online', 'offline']) },
    { topic: t`vigil/head/${seg}/state/${seg}`, payload: json({ value: 1 }) },
    // Bridge requests: random payloads only (a valid camera/remove would rightly remove the camera).
    { topic: t`vigil/bridge/request/${fc.constantFrom('health', 'camera/add', 'camera/update', 'camera/remove', 'config/get', 'layout/activate', 'event/trigger', 'export', 'nope')}`, payload: fc.oneof(fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)), anyJson.map((v) => Buffer.from(JSON.stringify(v))), weirdString.map((s) => Buffer.from(s))) },
    { topic: fc.constant('vigil/event/trigger'), payload: json({ camera: 'porch', label: 'doorbell', sub_label: 'front', duration: 5, score: 1 }) },
    { topic: fc.constant('vigil/tracked_object_update'), payload: json({ type: 'face', id: 'keep-1', name: 'alice', score: 0.8, camera: 'porch', timestamp: now() }) },
    { topic: fc.constant('vigil/hub/storage'), payload: json({ status: 'ok', used_bytes: 1, free_bytes: 2, used_percent: 3 }) },
    { topic: fc.constant('homeassistant/status'), payload: badText(['online', 'offline']), by: 'ha' },
    { topic: t`homeassistant/${fc.constantFrom('sensor', 'switch', 'camera')}/vigil/${seg}/config`, payload: json({ name: 'x', state_topic: 'vigil/x', unique_id: 'u' }), by: 'ha' },
  ];
}

const clientOf = (by: Publisher): MqttClient => (by === 'ha' ? haClient : by === 'limited' ? limited : component);

describe('fuzzing the subscribed topics', () => {
  it('bad payloads on every topic: nothing crashes, nothing stored is lost, refusals logged once', async () => {
    const all = targets();
    const logStart = h.logs().length;
    const message = fc.oneof(...all.map((x) => fc.record({
      topic: x.topic, payload: x.payload, retain: fc.boolean(), qos: fc.constantFrom<0 | 1>(0, 1, 1),
      // One in six goes out from the device limited to its camera: mostly refused.
      by: fc.constantFrom<Publisher>(x.by ?? 'component', x.by ?? 'component', x.by ?? 'component', x.by ?? 'component', x.by ?? 'component', 'limited'),
    })));
    let sent = 0;
    await fc.assert(fc.asyncProperty(message, fc.option(fc.constantFrom('#', 'vigil/#', 'vigil/camera/ghost/#', 'homeassistant/#', 'vigil/events'), { nil: undefined }), async (m, filter) => {
      await clientOf(m.by).publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain });
      if (filter && m.by === 'limited') await limited.subscribeAsync(filter, { qos: 0 }).catch(() => undefined);
      sent++;
    }), fuzzParams(1000, 15_000));
    expect(sent).toBeGreaterThan(50);
    console.log(`fuzz-mqtt: ${sent} messages (seed ${FUZZ_SEED})`);

    // Huge JSON, just under the packet limit, on the JSON topics.
    const huge = fc.record({
      topic: fc.constantFrom('vigil/events', 'vigil/camera/porch/config', 'vigil/camera/porch/state', 'vigil/recorder/porch/segment', 'vigil/bridge/request/camera/add', 'vigil/display/hall/layout/set', 'vigil/camera/porch/live/demand', 'vigil/faces/descriptor/x/y', 'vigil/head/h1/info'),
      bytes: fc.integer({ min: MAX_PACKET - 64 * 1024, max: MAX_PACKET - 1024 }),
    });
    await fc.assert(fc.asyncProperty(huge, async ({ topic, bytes }) => {
      await component.publishAsync(topic, hugeJson(bytes, { type: 'new', name: 'porch' }), { qos: 1 });
    }), fuzzParams(6, 15_000));

    // Let the hub digest what it queued (event store chains, retained re-publishes).
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
    const after = await snapshot(Object.keys(before.statuses));
    // Every route still answers: no 5xx, and what answered 2xx still does (a 404 may turn
    // 200: a fuzzed snapshot JPEG for the camera or for event keep-1 is a real image now).
    const broken = Object.entries(after.statuses).filter(([r, st]) => st >= 500 || (before.statuses[r]! < 300 && st >= 300));
    expect(broken).toEqual([]);
    expect(after.cameras).toEqual(before.cameras);
    expect((await api(h.baseUrl, 'GET', '/api/cameras/yard')).status).toBe(200);
    expect(after.users).toEqual(before.users);
    expect(after.events).toEqual(before.events);
    // The components are still on the bus and the retained porch config is the hub's.
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/camera/porch/config', 'vigil/component/+/availability']);
    const cfg = await rec.waitFor((m) => m.topic === 'vigil/camera/porch/config', 5000, 'porch config');
    expect(JSON.parse(cfg.payload.toString())).toEqual(cameraConfigSample);
    await rec.waitFor((m) => m.topic === 'vigil/component/detector/availability' && m.payload.toString() === 'online', 5000, 'detector online');
    await rec.waitFor((m) => m.topic === 'vigil/component/camera/availability' && m.payload.toString() === 'online', 5000, 'camera online');
    await rec.close();

    // Refusals: the limited device was refused, each (client, reason) logged at most once.
    const lines = h.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; module?: string; clientId?: string; reason?: string; suppressed?: number });
    const refusals = lines.filter((l) => l.module === 'broker' && l.reason && l.suppressed === undefined);
    const perKey = new Map<string, number>();
    for (const l of refusals) perKey.set(`${l.clientId}|${l.reason}`, (perKey.get(`${l.clientId}|${l.reason}`) ?? 0) + 1);
    expect(perKey.get('fuzz-limited|publish')).toBe(1);
    expect([...perKey.entries()].filter(([, n]) => n > 1)).toEqual([]);
    // Nothing the hub logged as a crash of its own, and no handler threw on bad input
    // (the bus catches and logs it: a handler must refuse bad payloads with its own message).
    expect(lines.filter((l) => l.level >= 60)).toEqual([]);
    // The services' and components' warnings about bad messages are rate-limited like the
    // broker's refusals: one line per (topic, reason) a minute and bus client (the hub's,
    // and each in-process component's own), not one per message. What else warned during
    // the flood is the porch camera's input retrying its dead address.
    const flood = h.logs().slice(logStart).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; module?: string; component?: string; topic?: string; clientId?: string; reason?: string; suppressed?: number });
    const warns = flood.filter((l) => l.level === 40);
    console.log(`fuzz-mqtt: ${warns.length} warn lines over the flood`);
    // A rate-limited line has a `reason` and its key: `clientId` (broker) or `topic`.
    const rateLimited = (l: (typeof warns)[number]): boolean => l.reason !== undefined && (l.module === 'broker' ? l.clientId : l.topic) !== undefined;
    const perTopic = new Map<string, number>();
    for (const l of warns.filter((w) => rateLimited(w) && w.suppressed === undefined)) {
      const k = `${l.component ?? 'hub'}|${l.module === 'broker' ? l.clientId : l.topic}|${l.reason}`;
      perTopic.set(k, (perTopic.get(k) ?? 0) + 1);
    }
    expect([...perTopic.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(perTopic.get('hub|vigil/events|invalid-event')).toBe(1);
    // The event services logged fewer lines than they rejected messages (before: one each).
    const rejected = (await api(h.baseUrl, 'GET', '/api/system')).body.components.events.rejected as number;
    expect(warns.filter((l) => l.module === 'events').length).toBeLessThan(rejected);
    expect([...new Set(warns.filter((l) => !rateLimited(l)).map((l) => l.msg))].filter((m) => !['camera offline', 'camera input offline', 'restarting ffmpeg'].includes(m))).toEqual([]);
    expect(lines.filter((l) => l.msg === 'message handler failed' || l.msg === 'camera config failed').map((l) => `${l.msg}: ${JSON.stringify(l)}`)).toEqual([]);
  }, 90_000 * FUZZ_SCALE);
});
