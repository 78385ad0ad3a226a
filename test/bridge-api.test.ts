/**
 * Management over MQTT (`vigil/bridge/request/<op>` → `vigil/bridge/response/<op>`) against a
 * real hub: mqtt.js clients log in to the embedded broker as the admin user, operator and
 * viewer API keys (one operator limited to a camera) and the Home Assistant device. Every
 * operation's answer, each kind of refusal with its code, field and echoed transaction,
 * who receives which answer, requests never delivered to anyone, `bridge/info` and
 * `bridge/state` retained. Then the same bridge over an external Mosquitto, where
 * requests run as admin and a retained request replayed at start is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder, type Recorded } from './helpers/mqtt-recorder.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';

const RESPONSES = 'vigil/bridge/response/#';
const BUS_SECRET = 'bus-password-never-shown';
const camera = (name: string) => ({ name, enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } });
const json = (m: Recorded): any => JSON.parse(m.payload.toString());
let seq = 0;

/**
 * Publishes a request as `who` and resolves with its response (matched by a fresh
 * transaction), with the message's retain flag and QoS. `body` as a string is sent as is
 * (then the next response on the op's topic after the publish is taken).
 */
async function call(who: MqttRecorder, op: string, body: Record<string, unknown> | string = {}, opts: { retain?: boolean } = {}): Promise<{ body: any; retain: boolean; qos: number; transaction?: string }> {
  const topic = `vigil/bridge/response/${op}`;
  const transaction = typeof body === 'string' ? undefined : `t-${++seq}`;
  const before = new Set(who.messages);
  const payload = typeof body === 'string' ? body : JSON.stringify({ ...body, transaction });
  const wait = who.waitFor((m) => m.topic === topic && !before.has(m) && (transaction === undefined || json(m).transaction === transaction), 10_000, `${op} response`);
  await who.client.publishAsync(`vigil/bridge/request/${op}`, payload, { qos: 1, retain: opts.retain ?? false });
  const m = await wait;
  return { body: json(m), retain: m.retain, qos: m.qos, transaction };
}

describe('bridge over the embedded broker', () => {
  let h: TestHub;
  let admin: MqttRecorder, operator: MqttRecorder, opFront: MqttRecorder, viewer: MqttRecorder, ha: MqttRecorder;
  /** A `component` device on `vigil/#` and the admin on `vigil/bridge/request/#`: must never see a request. */
  let witness: MqttRecorder, requestSpy: MqttRecorder;

  beforeAll(async () => {
    h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, mqtt: { username: 'hub', password: BUS_SECRET } });
    for (const c of ['front', 'back']) expect((await api(h.baseUrl, 'POST', '/api/cameras', camera(c))).status).toBe(201);
    const key = async (name: string, scope: string, cameras?: string[]) => (await api(h.baseUrl, 'POST', '/api/api-keys', { name, scope, ...(cameras ? { cameras } : {}) })).body.key as string;
    const haDev = (await api(h.baseUrl, 'POST', '/api/devices', { id: 'ha1', kind: 'ha' })).body as { username: string; password: string };
    const as = (username: string, password: string) => MqttRecorder.connect(h.mqttUrl, [RESPONSES], { username, password });
    [admin, operator, opFront, viewer, ha] = await Promise.all([
      as('admin', ADMIN_PASSWORD), as('op', await key('op', 'control')), as('op-front', await key('op-front', 'control', ['front'])),
      as('viewer', await key('viewer', 'read')), as(haDev.username, haDev.password),
    ]);
    witness = await MqttRecorder.connect(h.mqttUrl, ['vigil/#']);
    requestSpy = await MqttRecorder.connect(h.mqttUrl, ['vigil/bridge/request/#'], { username: 'admin', password: ADMIN_PASSWORD });
  });

  afterAll(async () => {
    await Promise.all([admin, operator, opFront, viewer, ha, witness, requestSpy].map((c) => c?.close()));
    await h?.stop();
  });

  it('bridge/info and bridge/state are retained; info follows the cameras and shows no secret', async () => {
    const r = await MqttRecorder.connect(h.mqttUrl, ['vigil/bridge/info', 'vigil/bridge/state'], { username: 'admin', password: ADMIN_PASSWORD });
    const info = await r.waitFor((m) => m.topic === 'vigil/bridge/info', 5000, 'bridge/info');
    const state = await r.waitFor((m) => m.topic === 'vigil/bridge/state', 5000, 'bridge/state');
    await r.close();
    expect([info.retain, state.retain]).toEqual([true, true]);
    expect(json(state)).toEqual({ state: 'online' });
    expect(json(info)).toMatchObject({ version: expect.any(String), prefix: 'vigil', broker: 'embedded', cameras: ['back', 'front'], config: { mqtt: { prefix: 'vigil', url: null }, camera: { enabled: false } } });
    expect(info.payload.toString()).not.toContain(BUS_SECRET);
    // Viewers read the state, not the info (every camera and the config).
    const v = await MqttRecorder.connect(h.mqttUrl, ['vigil/bridge/info', 'vigil/bridge/state'], { username: 'viewer', password: (await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'v2', scope: 'read' })).body.key });
    await v.waitFor((m) => m.topic === 'vigil/bridge/state', 5000, 'state for a viewer');
    await new Promise((res) => setTimeout(res, 300));
    expect(v.on('vigil/bridge/info')).toEqual([]);
    await v.close();
  });

  it('camera/add, camera/update (deep merge) and camera/remove as admin; bridge/info follows', async () => {
    const added = await call(admin, 'camera/add', { ...camera('side'), detect: { fps: 4 }, username: 'u', password: 'cam-secret' });
    expect(added.body).toMatchObject({ status: 'ok', transaction: added.transaction, data: { name: 'side', has_credentials: true, detect: { fps: 4 } } });
    expect(JSON.stringify(added.body)).not.toContain('cam-secret');
    expect([added.retain, added.qos]).toEqual([false, 1]);
    expect((await api(h.baseUrl, 'GET', '/api/cameras/side')).status).toBe(200);
    await witness.waitFor((m) => m.topic === 'vigil/bridge/info' && json(m).cameras.includes('side'), 5000, 'info with side');

    const updated = await call(admin, 'camera/update', { name: 'side', detect: { width: 320 } });
    expect(updated.body).toMatchObject({ status: 'ok', transaction: updated.transaction, data: { name: 'side', detect: { fps: 4, width: 320 }, has_credentials: true } });

    const before = new Set(witness.messages);
    const removed = await call(admin, 'camera/remove', { name: 'side' });
    expect(removed.body).toEqual({ status: 'ok', data: { name: 'side' }, transaction: removed.transaction });
    expect((await api(h.baseUrl, 'GET', '/api/cameras/side')).status).toBe(404);
    await witness.waitFor((m) => m.topic === 'vigil/bridge/info' && !before.has(m) && !json(m).cameras.includes('side'), 5000, 'info without side');

    // The same activity entries as over REST, with the MQTT client's address.
    const log = (await api(h.baseUrl, 'GET', '/api/activity?action=camera.create&actor=admin')).body;
    expect(log).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'camera.create', target: 'camera:side', ip: '127.0.0.1', details: expect.objectContaining({ via: 'mqtt' }) })]));
  });

  it('camera errors: validation with the field, a taken name, an unknown camera — transaction echoed', async () => {
    const bad = await call(admin, 'camera/add', { name: 'Bad Name!', paths: { detect: 'rtsp://127.0.0.1:1/x' } });
    expect(bad.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'name', transaction: bad.transaction });
    expect(bad.body.error).toMatch(/^name: /);
    const taken = await call(admin, 'camera/add', camera('front'));
    expect(taken.body).toMatchObject({ status: 'error', code: 'conflict', field: 'name', transaction: taken.transaction });
    const path = await call(admin, 'camera/update', { name: 'front', paths: { detect: 'file:///etc/passwd' } });
    expect(path.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'paths.detect' });
    for (const op of ['camera/update', 'camera/remove']) {
      const r = await call(admin, op, { name: 'nope' });
      expect(r.body).toEqual({ status: 'error', code: 'not_found', error: 'no camera nope', transaction: r.transaction });
    }
    const noName = await call(admin, 'camera/remove', {});
    expect(noName.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'name', transaction: noName.transaction });
  });

  it('refuses operations above the caller\'s role with forbidden (transaction echoed), as REST does', async () => {
    for (const [who, op, body] of [
      [operator, 'camera/add', camera('x')], [operator, 'config/get', {}], [viewer, 'camera/remove', { name: 'front' }],
      [viewer, 'event/trigger', { camera: 'front', topic: 'x' }], [viewer, 'export', { camera: 'front', start: 1, end: 2 }],
      [viewer, 'layout/activate', { display: 'd', layout: 'l' }], [ha, 'camera/add', camera('x')],
    ] as const) {
      const r = await call(who, op, body);
      expect(r.body, op).toEqual({ status: 'error', code: 'forbidden', error: expect.stringMatching(/^needs the (admin|operator) role$/), transaction: r.transaction });
    }
    expect((await api(h.baseUrl, 'GET', '/api/cameras/x')).status).toBe(404);
  });

  it('config/get: the running config with secrets redacted (admins)', async () => {
    const r = await call(admin, 'config/get');
    expect(r.body).toMatchObject({ status: 'ok', transaction: r.transaction, data: { mqtt: { prefix: 'vigil', username: 'hub', password: '[redacted]' }, camera: { enabled: false } } });
    expect(JSON.stringify(r.body)).not.toContain(BUS_SECRET);
  });

  it('health: /api/health plus component and service states, for every role', async () => {
    for (const who of [viewer, operator, admin, ha]) {
      const r = await call(who, 'health');
      expect(r.body).toMatchObject({ status: 'ok', transaction: r.transaction, data: { status: 'ok', broker: 'embedded', uptime_s: expect.any(Number), services: { bridge: 'running' } } });
    }
    // An empty payload is an empty request.
    expect((await call(viewer, 'health', '')).body).toMatchObject({ status: 'ok', data: { status: 'ok' } });
  });

  it('event/trigger (operators, the HA device): the event is published; unknown and unseen cameras are not found', async () => {
    const trigger = await MqttRecorder.connect(h.mqttUrl, ['vigil/event/trigger']);
    const ok = await call(operator, 'event/trigger', { camera: 'front', topic: 'doorbell', payload: 'ring' });
    expect(ok.body).toMatchObject({ status: 'ok', transaction: ok.transaction, data: { camera: 'front', topic: 'doorbell' } });
    await trigger.waitFor((m) => json(m).camera === 'front' && json(m).topic === 'doorbell', 5000, 'trigger published');
    const fromHa = await call(ha, 'event/trigger', { camera: 'back', topic: 'ha-button' });
    expect(fromHa.body).toMatchObject({ status: 'ok', data: { camera: 'back' } });
    await trigger.close();
    const unknown = await call(operator, 'event/trigger', { camera: 'nope', topic: 'x' });
    expect(unknown.body).toMatchObject({ status: 'error', code: 'not_found', transaction: unknown.transaction });
    const unseen = await call(opFront, 'event/trigger', { camera: 'back', topic: 'x' });
    expect(unseen.body).toEqual({ status: 'error', code: 'not_found', error: 'no camera back', transaction: unseen.transaction });
    const invalid = await call(operator, 'event/trigger', { camera: 'front' });
    expect(invalid.body).toMatchObject({ status: 'error', code: 'validation_failed', field: expect.any(String), transaction: invalid.transaction });
  });

  it('export: a camera range is queued; bad ranges, unknown events and unseen cameras are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ok = await call(operator, 'export', { camera: 'front', start: now - 120, end: now - 60 });
    expect(ok.body).toMatchObject({ status: 'ok', transaction: ok.transaction, data: { kind: 'export', camera: 'front', status: 'queued', created_by: 'key:op' } });
    expect((await api(h.baseUrl, 'GET', `/api/exports/${ok.body.data.id}`)).status).toBe(200);
    const backwards = await call(operator, 'export', { camera: 'front', start: now - 60, end: now - 120 });
    expect(backwards.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'end', transaction: backwards.transaction });
    const extra = await call(operator, 'export', { camera: 'front', start: 1, end: 2, format: 'avi' });
    expect(extra.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'format' });
    const noEvent = await call(operator, 'export', { event: 'no-such-event' });
    expect(noEvent.body).toMatchObject({ status: 'error', code: 'not_found', transaction: noEvent.transaction });
    const unseen = await call(opFront, 'export', { camera: 'back', start: now - 120, end: now - 60 });
    expect(unseen.body).toEqual({ status: 'error', code: 'not_found', error: 'no camera back', transaction: unseen.transaction });
  });

  it('layout/activate: activates on a display; unknown displays and layouts with unseen cameras are refused', async () => {
    const ticket = (await api(h.baseUrl, 'POST', '/api/kiosks/pairing', { width: 1280, height: 720 }, null)).body;
    expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: ticket.code, id: 'k1', name: 'Kiosk' })).status).toBe(201);
    expect((await api(h.baseUrl, 'POST', '/api/layouts', { id: 'solo-front', name: 'Front', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'front' }] })).status).toBe(201);
    expect((await api(h.baseUrl, 'POST', '/api/layouts', { id: 'solo-back', name: 'Back', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'back' }] })).status).toBe(201);
    const state = await MqttRecorder.connect(h.mqttUrl, ['vigil/display/k1-hdmi-0/layout/state']);

    const ok = await call(opFront, 'layout/activate', { display: 'k1-hdmi-0', layout: 'solo-front' });
    expect(ok.body).toEqual({ status: 'ok', transaction: ok.transaction, data: { display: 'k1-hdmi-0', layout: 'solo-front', seq: expect.any(Number) } });
    await state.waitFor((m) => m.payload.length > 0 && json(m).layout === 'solo-front', 5000, 'bundle');
    await state.close();
    const unseen = await call(opFront, 'layout/activate', { display: 'k1-hdmi-0', layout: 'solo-back' });
    expect(unseen.body).toMatchObject({ status: 'error', code: 'not_found', transaction: unseen.transaction });
    const noDisplay = await call(operator, 'layout/activate', { display: 'nope', layout: 'solo-back' });
    expect(noDisplay.body).toMatchObject({ status: 'error', code: 'not_found', transaction: noDisplay.transaction });
    const noLayout = await call(operator, 'layout/activate', { display: 'k1-hdmi-0' });
    expect(noLayout.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'layout', transaction: noLayout.transaction });
  });

  it('unknown operations, bad JSON, non-object bodies and bad transactions get an error response', async () => {
    const unknown = await call(operator, 'nope/deeper', {});
    expect(unknown.body).toMatchObject({ status: 'error', code: 'unknown_operation', transaction: unknown.transaction });
    expect(unknown.body.error).toContain('camera/add');
    const badJson = await call(operator, 'health', '{"transaction": "t-bad", oops');
    expect(badJson.body).toMatchObject({ status: 'error', code: 'invalid_json' });
    expect(badJson.body.transaction).toBeUndefined();
    const array = await call(operator, 'health', '[1, 2]');
    expect(array.body).toMatchObject({ status: 'error', code: 'validation_failed' });
    const badTx = await call(operator, 'health', '{"transaction": {"id": 1}}');
    expect(badTx.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'transaction' });
    const numeric = await call(operator, 'health', '{"transaction": 42}');
    expect(numeric.body).toMatchObject({ status: 'ok', transaction: 42 });
  });

  it('requests are never delivered nor retained; answers reach those allowed to see them', async () => {
    // A retained request runs once and is not stored.
    const r = await call(admin, 'camera/add', camera('retained-add'), { retain: true });
    expect(r.body.status).toBe('ok');
    const late = await MqttRecorder.connect(h.mqttUrl, ['vigil/bridge/request/#']);
    await new Promise((res) => setTimeout(res, 300));
    expect(late.messages).toEqual([]);
    await late.close();
    expect(witness.messages.filter((m) => m.topic.startsWith('vigil/bridge/request/'))).toEqual([]);
    expect(requestSpy.messages).toEqual([]);

    const seen = (who: MqttRecorder, pred: (b: any, op: string) => boolean) => who.messages.some((m) => pred(json(m), m.topic.slice('vigil/bridge/response/'.length)));
    // Admin answers (cameras, config) stay with admins; every role reads health answers and errors.
    expect(seen(admin, (b, op) => op === 'camera/add' && b.status === 'ok')).toBe(true);
    expect(seen(operator, (b, op) => op === 'camera/add' && b.status === 'ok')).toBe(false);
    expect(seen(viewer, (b, op) => op === 'config/get' && b.status === 'ok')).toBe(false);
    expect(seen(viewer, (b, op) => op === 'health' && b.status === 'ok')).toBe(true);
    expect(seen(viewer, (b) => b.code === 'forbidden')).toBe(true);
    expect(seen(viewer, (b, op) => op === 'export' && b.status === 'ok')).toBe(false);
    // Operators read each other's answers (as in Zigbee2MQTT); a limited one only about its cameras.
    expect(seen(operator, (b, op) => op === 'layout/activate' && b.status === 'ok')).toBe(true);
    expect(seen(opFront, (b, op) => op === 'export' && b.status === 'ok' && b.data.camera === 'front')).toBe(true);
    expect(seen(opFront, (b) => b.status === 'ok' && b.data?.camera === 'back')).toBe(false);
    expect(seen(ha, (b, op) => op === 'camera/add' && b.status === 'ok')).toBe(true);
  });
});

describe('bridge over an external broker (Mosquitto)', () => {
  let broker: MosquittoBroker;
  let h: TestHub | undefined;
  let client: MqttRecorder;

  beforeAll(async () => {
    broker = await startMosquitto();
    client = await MqttRecorder.connect(broker.url, [RESPONSES, 'vigil/bridge/state']);
    // Left retained on the broker before the hub starts: replayed to it on subscribe, and refused.
    await client.client.publishAsync('vigil/bridge/request/camera/remove', JSON.stringify({ name: 'front', transaction: 'replayed' }), { qos: 1, retain: true });
    h = await startTestHub({ mqtt: { url: broker.url }, camera: { enabled: false }, detector: { enabled: false } });
    expect((await api(h.baseUrl, 'POST', '/api/cameras', camera('front'))).status).toBe(201);
  });

  afterAll(async () => {
    await client?.close();
    await h?.stop();
    await broker?.stop();
  });

  it('refuses a retained request replayed at start', async () => {
    const m = await client.waitFor((x) => x.topic === 'vigil/bridge/response/camera/remove' && json(x).transaction === 'replayed', 10_000, 'replay refused');
    expect(json(m)).toMatchObject({ status: 'error', code: 'retained_request' });
    expect((await api(h!.baseUrl, 'GET', '/api/cameras/front')).status).toBe(200);
    await client.client.publishAsync('vigil/bridge/request/camera/remove', '', { qos: 1, retain: true });
  });

  it('runs requests from any client as admin; info says external; state goes offline at a clean stop', async () => {
    const info = await MqttRecorder.connect(broker.url, ['vigil/bridge/info']);
    const i = await info.waitFor((m) => json(m).cameras.includes('front'), 5000, 'info');
    await info.close();
    expect(json(i)).toMatchObject({ broker: 'external', config: { mqtt: { url: new URL(broker.url).toString() } } });

    const added = await call(client, 'camera/add', camera('porch'));
    expect(added.body).toMatchObject({ status: 'ok', data: { name: 'porch' }, transaction: added.transaction });
    const cfg = await call(client, 'config/get');
    expect(cfg.body).toMatchObject({ status: 'ok', data: { mqtt: { url: broker.url } } });
    const bad = await call(client, 'camera/update', { name: 'porch', detect: { fps: -1 } });
    expect(bad.body).toMatchObject({ status: 'error', code: 'validation_failed', field: 'detect.fps', transaction: bad.transaction });

    await client.waitFor((m) => m.topic === 'vigil/bridge/state' && json(m).state === 'online', 5000, 'online');
    await h!.stop();
    h = undefined;
    const after = await MqttRecorder.connect(broker.url, ['vigil/bridge/state', 'vigil/hub/availability']);
    const st = await after.waitFor((m) => m.topic === 'vigil/bridge/state', 5000, 'retained state');
    const av = await after.waitFor((m) => m.topic === 'vigil/hub/availability', 5000, 'retained availability');
    await after.close();
    expect([json(st), st.retain]).toEqual([{ state: 'offline' }, true]);
    expect(av.payload.toString()).toBe('offline');
  });
});
