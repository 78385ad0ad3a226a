/**
 * The camera wall on the hub: layouts over REST, pairing from ticket to credential,
 * activation over MQTT and REST with the retained bundle, refusals on `…/layout/error`
 * that change nothing, the kiosk's credential (MQTT ACL, bundle route, media tokens that
 * open the live WebSocket), and removal. Real hub, real broker, real RTSP camera.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { startRtspServer, type RtspServer } from './helpers/rtsp.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { bundle as bundleSchema, type Bundle } from '../components/protocol/layout.ts';

let rtsp: RtspServer;
let h: TestHub;
let operatorKey: string;
let rec: MqttRecorder;

const camera = (name: string, paths: Record<string, string>) => ({
  name, paths, detect: { enabled: false }, record: { enabled: false }, snapshots: { enabled: false }, motion: { enabled: false },
});

beforeAll(async () => {
  rtsp = await startRtspServer();
  h = await startTestHub({ detector: { enabled: false } });
  expect((await api(h.baseUrl, 'POST', '/api/cameras', camera('front', { detect: rtsp.subUrl, live: rtsp.mainUrl }))).status).toBe(201);
  expect((await api(h.baseUrl, 'POST', '/api/cameras', camera('back', { live: rtsp.mainUrl }))).status).toBe(201);
  const key = await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'wall-operator', scope: 'control' });
  operatorKey = key.body.key;
  rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/display/#', 'vigil/kiosk/#']);
});

afterAll(async () => {
  await rec?.close();
  await h?.stop();
  await rtsp?.stop();
});

/** Pairs a kiosk through the REST flow; returns the poll result. */
async function pairKiosk(id: string, size = { width: 1280, height: 720 }): Promise<any> {
  const ticket = await api(h.baseUrl, 'POST', '/api/kiosks/pairing', size, null);
  expect(ticket.status).toBe(201);
  expect(ticket.body.code).toMatch(/^[346789ABCDEFGHJKMNPQRTUVWXY]{6}$/);
  const poll = () => api(h.baseUrl, 'GET', `/api/kiosks/pairing/${ticket.body.pairing_id}`, undefined, { headers: { 'x-pairing-secret': ticket.body.poll_secret } });
  expect((await poll()).body).toEqual({ status: 'pending' });
  // Typed with a dash and in lower case, as a person would.
  const typed = `${ticket.body.code.slice(0, 3)}-${ticket.body.code.slice(3)}`.toLowerCase();
  const paired = await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: typed, id, name: `Kiosk ${id}` });
  expect(paired.status).toBe(201);
  expect(paired.body.displays).toEqual([{ id: `${id}-hdmi-0`, kiosk_id: id, name: 'HDMI-0', ...size, layout_id: null }]);
  const result = await poll();
  expect(result.status).toBe(200);
  expect((await poll()).status).toBe(404); // collected once
  return result.body;
}

async function publishAsOperator(topic: string, payload: string): Promise<void> {
  const c = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, username: 'op', password: operatorKey });
  await c.publishAsync(topic, payload, { qos: 1 });
  await c.endAsync();
}

const lastBundle = (display: string): Bundle | undefined => {
  const m = rec.on(`vigil/display/${display}/layout/state`).at(-1);
  return m && m.payload.length ? bundleSchema.parse(JSON.parse(m.payload.toString())) : undefined;
};

describe('layouts', () => {
  it('creates from a preset with cells, lists, replaces and deletes; refuses bad ones with the field', async () => {
    const made = await api(h.baseUrl, 'POST', '/api/layouts', {
      id: 'quad', name: 'Quad', preset: '2x2',
      cells: [{ type: 'camera', camera: 'front' }, { type: 'camera', camera: 'back', stream: 'main' }, { type: 'web', url: 'http://127.0.0.1:1/x' }, null],
    });
    expect(made.status).toBe(201);
    expect(made.body.regions).toHaveLength(4);
    expect(made.body.regions[0]).toEqual({ name: 'r1', x: 0, y: 0, w: 6, h: 6, cell: { type: 'camera', camera: 'front', stream: 'auto' } });
    expect(made.body.regions[3].cell).toBeUndefined();
    expect((await api(h.baseUrl, 'POST', '/api/layouts', { id: 'quad', name: 'again', preset: 'fullscreen' })).status).toBe(409);
    expect((await api(h.baseUrl, 'GET', '/api/layouts')).body.map((l: { id: string }) => l.id)).toContain('quad');

    const bad = [
      [{ id: 'ov', name: 'x', regions: [{ name: 'a', x: 0, y: 0, w: 6, h: 6 }, { name: 'b', x: 3, y: 3, w: 6, h: 6 }] }, 'regions.1'],
      [{ id: 'off', name: 'x', regions: [{ name: 'a', x: 8, y: 0, w: 6, h: 6 }] }, 'regions.0.w'],
      [{ id: 'nocam', name: 'x', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'nope' }] }, 'regions.0.cell.camera'],
      [{ id: 'js', name: 'x', preset: 'fullscreen', cells: [{ type: 'web', url: 'javascript:alert(1)' }] }, 'cells.0.url'],
      [{ id: 'Bad Id', name: 'x', preset: 'fullscreen' }, 'id'],
      [{ id: 'many', name: 'x', regions: Array.from({ length: 33 }, (_, i) => ({ name: `c${i}`, x: i % 12, y: Math.floor(i / 12), w: 1, h: 1 })) }, 'regions'],
    ] as const;
    for (const [body, field] of bad) {
      const r = await api(h.baseUrl, 'POST', '/api/layouts', body);
      expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(r.body.error.field).toBe(field);
    }
    expect((await api(h.baseUrl, 'PUT', '/api/layouts/quad', { name: 'Quad 2', preset: '1+3' })).body.regions).toHaveLength(4);
    expect((await api(h.baseUrl, 'PUT', '/api/layouts/ghost', { name: 'x', preset: 'fullscreen' })).status).toBe(404);
    expect((await api(h.baseUrl, 'DELETE', '/api/layouts/quad')).status).toBe(204);
    expect((await api(h.baseUrl, 'GET', '/api/layouts/quad')).status).toBe(404);
  });
});

describe('pairing and activation', () => {
  let paired: any;
  const display = 'wall1-hdmi-0';

  beforeAll(async () => {
    for (const l of [
      { id: 'big', name: 'Big', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'front' }], preload_camera_ids: ['back'] },
      { id: 'grid', name: 'Grid', preset: '1+7', cells: [{ type: 'camera', camera: 'back' }, { type: 'camera', camera: 'front' }, { type: 'camera', camera: 'front', stream: 'main' }, { type: 'html', html: '<h1>hi</h1>' }], cooling_timeout_seconds: 5 },
    ]) expect((await api(h.baseUrl, 'POST', '/api/layouts', l)).status).toBe(201);
    paired = await pairKiosk('wall1');
  });

  it('gives the kiosk a credential limited to its display, over MQTT and HTTP', async () => {
    expect(paired).toMatchObject({ status: 'paired', kiosk_id: 'wall1', displays: [display], prefix: 'vigil', mqtt: { username: 'wall1', path: '/mqtt' } });
    expect(paired.credential).toMatch(/^vgd_wall1_/);
    const k = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, username: 'wall1', password: paired.mqtt.password, reconnectPeriod: 0 });
    expect((await k.subscribeAsync(`vigil/display/${display}/#`, { qos: 1 }))[0]!.qos).toBe(1);
    for (const other of ['vigil/display/other/#', 'vigil/camera/#']) await expect(k.subscribeAsync(other, { qos: 1 }), other).rejects.toThrow(/Subscribe error/);
    await k.endAsync();
    // Nothing shown yet: the bundle route says so; another display is not the kiosk's.
    const auth = { token: paired.credential };
    expect((await api(h.baseUrl, 'GET', `/api/displays/${display}/bundle`, undefined, auth)).status).toBe(404);
    expect((await api(h.baseUrl, 'GET', '/api/layouts', undefined, auth)).status).toBe(403);
  });

  it('activates by MQTT: a retained bundle with pixel rects, streams by cell size and tokens that open the live view', async () => {
    await publishAsOperator(`vigil/display/${display}/layout/set`, 'grid');
    await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && x.payload.length > 0, 10_000, 'bundle');
    // A client arriving later (the kiosk after a restart) gets it retained.
    const late = await MqttRecorder.connect(h.mqttUrl, [`vigil/display/${display}/layout/state`]);
    const m = await late.waitFor(() => true, 5000, 'retained bundle');
    await late.close();
    expect(m.retain).toBe(true);
    const b = bundleSchema.parse(JSON.parse(m.payload.toString()));
    expect(b).toMatchObject({ display, layout: 'grid', name: 'Grid', seq: 1, width: 1280, height: 720, cooling_timeout_seconds: 5 });
    expect(b.cells).toHaveLength(8);
    // 1+7 on 1280×720: the big 9×9 region is 960×540 px; small ones 320×180.
    const [main, r1, r2, r3, r4] = b.cells;
    expect(main).toMatchObject({ type: 'camera', name: 'main', camera: 'back', stream: 'main', rect: { x: 0, y: 0, w: 960, h: 540 } });
    // A small cell (6.25 % of the display) plays the sub stream…
    expect(r1).toMatchObject({ type: 'camera', name: 'r1', camera: 'front', stream: 'sub', rect: { x: 960, y: 0, w: 320, h: 180 } });
    // …unless the cell says otherwise.
    expect(r2).toMatchObject({ type: 'camera', camera: 'front', stream: 'main' });
    expect(r3).toMatchObject({ type: 'html', html: '<h1>hi</h1>' });
    expect(r4).toMatchObject({ type: 'empty', rect: { x: 0, y: 540, w: 320, h: 180 } });
    // The grid tiles the display with no gap and no overlap.
    expect(b.cells.reduce((a, c) => a + c.rect.w * c.rect.h, 0)).toBe(1280 * 720);

    // The token in a cell's URL opens that camera's live WebSocket without any other credential…
    const url = (r1 as { url: string }).url;
    expect(url).toMatch(/^\/api\/cameras\/front\/live\?stream=sub&token=/);
    const init = await firstLiveMessage(`ws://127.0.0.1:${h.hub.httpPort}${url}`);
    expect(init).toMatchObject({ type: 'init' });
    // …and no other camera.
    const token = new URL(url, 'http://x').searchParams.get('token')!;
    expect(await upgradeStatus(`ws://127.0.0.1:${h.hub.httpPort}/api/cameras/back/live?token=${encodeURIComponent(token)}`)).toBe(404);
  });

  it('activates by REST (answering without stream URLs); the kiosk fetches its bundle with fresh tokens', async () => {
    const r = await api(h.baseUrl, 'POST', `/api/displays/${display}/activate`, { layout: 'big' }, { apiKey: operatorKey });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ layout: 'big', seq: 2 });
    expect(r.body.cells[0].url).toBe('');
    const b = await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && JSON.parse(x.payload.toString()).seq === 2, 5000, 'bundle 2');
    const pub = bundleSchema.parse(JSON.parse(b.payload.toString()));
    // Fullscreen front: main; back is preloaded, warm with the streams the stored layouts play for it (main).
    expect(pub.cells[0]).toMatchObject({ camera: 'front', stream: 'main' });
    expect(pub.warm.map((w) => `${w.camera}/${w.stream}`)).toEqual(['back/main']);
    expect(pub.warm[0]!.url).toMatch(/^\/api\/cameras\/back\/live\?stream=main&token=/);
    expect((await api(h.baseUrl, 'GET', `/api/displays/${display}`)).body.layout_id).toBe('big');
    const fresh = await api(h.baseUrl, 'GET', `/api/displays/${display}/bundle`, undefined, { token: paired.credential });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ layout: 'big', seq: 2 });
  });

  it('refuses bad requests on …/layout/error and changes nothing', async () => {
    const before = lastBundle(display)!;
    const cases: Array<[string, string, string | undefined]> = [
      ['nope', 'not_found', undefined],
      ['{"layout": "grid", "extra": 1}', 'validation_failed', undefined],
      ['{not json', 'validation_failed', undefined],
      [JSON.stringify({ layout: { id: 'x', name: 'x', regions: [{ name: 'a', x: 0, y: 0, w: 13, h: 1 }] }, transaction: 't-1' }), 'validation_failed', 't-1'],
      [JSON.stringify({ layout: { id: 'x', name: 'x', regions: [{ name: 'a', x: 0, y: 0, w: 12, h: 12, cell: { type: 'camera', camera: 'ghost' } }] }, transaction: 't-2' }), 'validation_failed', 't-2'],
    ];
    for (const [payload, code, transaction] of cases) {
      const n = rec.on(`vigil/display/${display}/layout/error`).length;
      await publishAsOperator(`vigil/display/${display}/layout/set`, payload);
      const e = await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/error` && rec.on(x.topic).indexOf(x) >= n, 5000, `error for ${payload}`);
      const body = JSON.parse(e.payload.toString());
      expect(body.error.code, payload).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(3);
      expect(body.transaction).toBe(transaction);
      expect(e.retain).toBe(false);
    }
    // An unknown display is refused too, on its own error topic.
    await publishAsOperator('vigil/display/ghost/layout/set', 'big');
    await rec.waitFor((x) => x.topic === 'vigil/display/ghost/layout/error', 5000, 'ghost display error');
    await new Promise((r) => setTimeout(r, 300));
    expect(lastBundle(display)).toEqual(before);
    expect((await api(h.baseUrl, 'POST', `/api/displays/${display}/activate`, { layout: 'nope' })).status).toBe(404);
    expect((await api(h.baseUrl, 'POST', `/api/displays/${display}/activate`, { layout: 'big' }, { token: paired.credential })).status).toBe(403);
  });

  it('activates a whole layout sent on the bus once, without storing it', async () => {
    const once = { id: 'adhoc', name: 'Ad hoc', regions: [{ name: 'a', x: 0, y: 0, w: 12, h: 12, cell: { type: 'web', url: 'https://example.org/' } }] };
    await publishAsOperator(`vigil/display/${display}/layout/set`, JSON.stringify({ layout: once }));
    const m = await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && JSON.parse(x.payload.toString()).layout === 'adhoc', 5000, 'ad hoc bundle');
    expect(JSON.parse(m.payload.toString()).cells[0]).toMatchObject({ type: 'web', url: 'https://example.org/', rect: { x: 0, y: 0, w: 1280, h: 720 } });
    expect((await api(h.baseUrl, 'GET', '/api/layouts/adhoc')).status).toBe(404);
  });

  it('keeps priority-hot layouts warm on every display, and re-issues bundles when a shown layout changes', async () => {
    const seq = (await api(h.baseUrl, 'POST', `/api/displays/${display}/activate`, { layout: 'big' })).body.seq as number;
    const shown = await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && JSON.parse(x.payload.toString()).seq === seq, 5000, 'big again');
    expect((await api(h.baseUrl, 'POST', '/api/layouts', { id: 'hotback', name: 'Hot', priority: 'hot', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'back', stream: 'sub' }] })).status).toBe(201);
    // back has no distinct sub stream: `sub` plays main, once.
    const b = await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && x.at >= shown.at && x !== shown && JSON.parse(x.payload.toString()).seq === seq, 5000, 're-issued bundle');
    expect(JSON.parse(b.payload.toString()).warm.map((w: { camera: string; stream: string }) => `${w.camera}/${w.stream}`)).toEqual(['back/main']);
    await api(h.baseUrl, 'PUT', '/api/layouts/big', { name: 'Big', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'back' }] });
    const next = await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && JSON.parse(x.payload.toString()).seq === seq + 1, 5000, 'updated layout');
    expect(JSON.parse(next.payload.toString()).cells[0]).toMatchObject({ camera: 'back' });
    await api(h.baseUrl, 'DELETE', '/api/layouts/hotback');
  });

  it('a viewer limited to one camera never receives display bundles (they carry the kiosk\'s tokens)', async () => {
    const key = (await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'front-only', scope: 'read', cameras: ['front'] })).body.key;
    const viewer = await MqttRecorder.connect(h.mqttUrl, ['vigil/#'], { username: 'v', password: key });
    await new Promise((r) => setTimeout(r, 500));
    await api(h.baseUrl, 'POST', `/api/displays/${display}/activate`, { layout: 'grid' });
    await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && JSON.parse(x.payload.toString()).layout === 'grid' && x.retain === false, 5000, 'live bundle');
    await new Promise((r) => setTimeout(r, 300));
    expect(viewer.on(`vigil/display/${display}/layout/state`)).toHaveLength(0);
    await viewer.close();
  });

  it('removing the kiosk revokes its credential, drops its connection, its tokens and its retained topics', async () => {
    const url = lastBundle(display)!.cells.find((c) => c.type === 'camera') as { url: string };
    const connected = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, username: 'wall1', password: paired.mqtt.password, reconnectPeriod: 0 });
    const dropped = new Promise<void>((resolve) => connected.once('close', () => resolve()));
    expect((await api(h.baseUrl, 'DELETE', '/api/kiosks/wall1')).status).toBe(204);
    await rec.waitFor((x) => x.topic === `vigil/display/${display}/layout/state` && x.payload.length === 0, 5000, 'cleared bundle');
    await dropped; // at once, not at its next reconnect
    await expect(mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, username: 'wall1', password: paired.mqtt.password, reconnectPeriod: 0 })).rejects.toThrow();
    expect(await upgradeStatus(`ws://127.0.0.1:${h.hub.httpPort}${url.url}`)).toBe(404);
    expect((await api(h.baseUrl, 'GET', '/api/kiosks/wall1')).status).toBe(404);
  });

  it('refuses unknown codes, bad polls and non-admins', async () => {
    expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: 'XXXXXX' })).status).toBe(404);
    const t = (await api(h.baseUrl, 'POST', '/api/kiosks/pairing', {}, null)).body;
    expect((await api(h.baseUrl, 'GET', `/api/kiosks/pairing/${t.pairing_id}`, undefined, { headers: { 'x-pairing-secret': 'wrong' } })).status).toBe(401);
    expect((await api(h.baseUrl, 'GET', `/api/kiosks/pairing/${t.pairing_id}`, undefined, null)).status).toBe(401);
    expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: t.code }, { apiKey: operatorKey })).status).toBe(403);
    expect((await api(h.baseUrl, 'POST', '/api/kiosks/pairing', { width: 'big' }, null)).status).toBe(400);
    // A default id, and the screen size of the ticket (none given: 1920×1080).
    const k = await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: t.code });
    expect(k.body).toMatchObject({ id: 'kiosk-1', displays: [{ id: 'kiosk-1-hdmi-0', width: 1920, height: 1080 }] });
    const second = await api(h.baseUrl, 'POST', '/api/kiosks/kiosk-1/displays', { id: 'kiosk-1-hdmi-1', name: 'HDMI-1', width: 800, height: 480 });
    expect(second.status).toBe(201);
    expect((await api(h.baseUrl, 'GET', '/api/kiosks/kiosk-1')).body.displays.map((d: { id: string }) => d.id)).toEqual(['kiosk-1-hdmi-0', 'kiosk-1-hdmi-1']);
  });
});

/** The first text message of a live WebSocket. */
function firstLiveMessage(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('no live message')); }, 15_000);
    ws.on('message', (data, binary) => {
      if (binary) return;
      clearTimeout(timer);
      ws.close();
      resolve(JSON.parse(data.toString()));
    });
    ws.on('unexpected-response', (_req, res) => { clearTimeout(timer); reject(new Error(`HTTP ${res.statusCode}`)); });
    ws.on('error', reject);
  });
}

/** HTTP status of a refused WebSocket upgrade (101 when it was accepted). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => { ws.close(); resolve(101); });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', (e) => { if (!/Unexpected server response/.test(e.message)) reject(e); });
  });
}
