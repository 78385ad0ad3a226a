/**
 * REST access control: every route × every role (anonymous, viewer with and without the
 * camera, operator, admin, an API key of each scope) → the expected status, and the
 * per-camera filtering of lists.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { EventsRepo } from '../hub/store/events-repo.ts';
import type { TrackedObjectState } from '../components/protocol/tracked-object.ts';

type Who = 'anon' | 'viewerFront' | 'viewerNone' | 'operator' | 'admin' | 'keyRead' | 'keyControl' | 'keyAdmin' | 'keyReadBack';
const WHO: Who[] = ['anon', 'viewerFront', 'viewerNone', 'operator', 'admin', 'keyRead', 'keyControl', 'keyAdmin', 'keyReadBack'];

let h: TestHub;
const cred: Partial<Record<Who, { token?: string; apiKey?: string } | null>> = { anon: null };
const FRONT_EVT = '1700000000.000000-front1';
const BACK_EVT = '1700000001.000000-back01';
/** An unknown face seen by camera front just now (published as a detector would; older ones are pruned). */
const FRONT_FACE = `${Date.now()}-0f0f0f0f`;

function event(id: string, camera: string): TrackedObjectState {
  return {
    id, camera, frame_time: 1700000000, label: 'person', sub_label: null, score: 0.8, top_score: 0.8, false_positive: false,
    start_time: 1700000000, end_time: 1700000005, box: [1, 2, 30, 40], area: 1102, ratio: 0.76, current_zones: [], entered_zones: [],
    loitering: false, has_snapshot: true, has_clip: false, stationary: false, motionless_count: 0, position_changes: 0,
  };
}

beforeAll(async () => {
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
  for (const name of ['front', 'back']) {
    expect((await api(h.baseUrl, 'POST', '/api/cameras', { name, enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } })).status).toBe(201);
  }
  const users: Array<[Who, string, string[] | null]> = [['viewerFront', 'viewer', ['front']], ['viewerNone', 'viewer', []], ['operator', 'operator', null]];
  for (const [who, role, cameras] of users) {
    expect((await api(h.baseUrl, 'POST', '/api/users', { username: who, password: `${who}-password`, role, cameras })).status).toBe(201);
    const login = await api(h.baseUrl, 'POST', '/api/auth/login', { username: who, password: `${who}-password` }, null);
    expect(login.status).toBe(200);
    cred[who] = { token: login.body.access_token };
  }
  cred.admin = { token: h.adminToken };
  const keys: Array<[Who, string, string[] | null]> = [['keyRead', 'read', null], ['keyControl', 'control', null], ['keyAdmin', 'admin', null], ['keyReadBack', 'read', ['back']]];
  for (const [who, scope, cameras] of keys) {
    const k = await api(h.baseUrl, 'POST', '/api/api-keys', { name: who, scope, cameras });
    expect(k.status).toBe(201);
    cred[who] = { apiKey: k.body.key };
  }
  // The camera wall: a layout showing front, and a paired kiosk's display.
  expect((await api(h.baseUrl, 'POST', '/api/layouts', { id: 'wall-front', name: 'Front', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'front' }] })).status).toBe(201);
  const ticket = await api(h.baseUrl, 'POST', '/api/kiosks/pairing', {}, null);
  expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: ticket.body.code, id: 'k1' })).status).toBe(201);
  const repo = new EventsRepo((h.hub as unknown as { ds: import('typeorm').DataSource }).ds);
  await repo.upsert(event(FRONT_EVT, 'front'));
  await repo.upsert(event(BACK_EVT, 'back'));
  for (const [cam, id] of [['front', FRONT_EVT], ['back', BACK_EVT]]) {
    mkdirSync(join(h.dataDir, 'snapshots', cam!), { recursive: true });
    writeFileSync(join(h.dataDir, 'snapshots', cam!, `${id}.jpg`), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  }
  const detector = await MqttRecorder.connect(h.mqttUrl, ['vigil/faces/unknown/+/+']);
  await detector.client.publishAsync(`vigil/faces/unknown/front/${FRONT_FACE}`, Buffer.from([0xff, 0xd8, 0xff, 0xd9]), { qos: 1 });
  await detector.close();
  for (let i = 0; i < 50 && (await api(h.baseUrl, 'GET', '/api/faces/unknown')).body.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
});
afterAll(async () => { await h?.stop(); });

/** Expected status per principal: one number for all, or a map with a default. */
type Expect = number | (Partial<Record<Who, number>> & { _: number });
const adminOnly = (ok: number): Expect => ({ _: 403, anon: 401, admin: ok, keyAdmin: ok });
const seen = (ok: number, hiddenFrom: Who[]): Expect => ({ _: ok, anon: 401, ...Object.fromEntries(hiddenFrom.map((w) => [w, 404])) });

const ROUTES: Array<[string, string, unknown, Expect]> = [
  ['GET', '/api/health', undefined, 200],
  ['GET', '/api/openapi.json', undefined, 200],
  ['GET', '/api/auth/status', undefined, 200],
  ['GET', '/api/auth/me', undefined, { _: 200, anon: 401 }],
  ['GET', '/api/system', undefined, { _: 200, anon: 401 }],
  ['GET', '/api/cameras', undefined, { _: 200, anon: 401 }],
  ['GET', '/api/cameras/front', undefined, seen(200, ['viewerNone', 'keyReadBack'])],
  ['GET', '/api/cameras/back', undefined, seen(200, ['viewerNone', 'viewerFront'])],
  ['POST', '/api/cameras', { name: 'x', paths: { detect: 'rtsp://127.0.0.1:1/x' }, enabled: false }, adminOnly(201)],
  ['PATCH', '/api/cameras/front', { detect: { fps: 4 } }, adminOnly(200)],
  ['PUT', '/api/cameras/front', { enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } }, adminOnly(200)],
  ['DELETE', '/api/cameras/nonexistent', undefined, adminOnly(404)],
  ['POST', '/api/onvif/discover', { timeout_ms: 100 }, adminOnly(200)],
  ['POST', '/api/onvif/probe', { url: 'http://127.0.0.1:1/onvif/device_service', username: 'u', password: 'p' }, adminOnly(400)],
  ['POST', '/api/cameras/onvif', { name: 'o', url: 'http://127.0.0.1:1/onvif/device_service' }, adminOnly(400)],
  ['POST', '/api/cameras/front/features', { snapshots: 'ON' }, { _: 403, anon: 401, operator: 200, admin: 200, keyControl: 200, keyAdmin: 200 }],
  ['POST', '/api/cameras/back/features', { snapshots: 'ON' }, { _: 403, anon: 401, operator: 200, admin: 200, keyControl: 200, keyAdmin: 200 }],
  ['GET', '/api/cameras/front/latest.jpg', undefined, { _: 404, anon: 401 }],
  ['GET', '/api/events', undefined, { _: 200, anon: 401 }],
  ['GET', `/api/events/${FRONT_EVT}`, undefined, seen(200, ['viewerNone', 'keyReadBack'])],
  ['GET', `/api/events/${BACK_EVT}`, undefined, seen(200, ['viewerNone', 'viewerFront'])],
  ['GET', `/api/events/${FRONT_EVT}/snapshot.jpg`, undefined, seen(200, ['viewerNone', 'keyReadBack'])],
  ['GET', `/api/events/${BACK_EVT}/snapshot.jpg`, undefined, seen(200, ['viewerNone', 'viewerFront'])],
  ['POST', '/api/media-tokens', { camera: 'front' }, seen(201, ['viewerNone', 'keyReadBack'])],
  ['POST', '/api/media-tokens', { camera: 'back' }, seen(201, ['viewerNone', 'viewerFront'])],
  ['POST', '/api/media-tokens', { event: FRONT_EVT }, seen(201, ['viewerNone', 'keyReadBack'])],
  ['GET', '/api/users', undefined, adminOnly(200)],
  ['POST', '/api/users', { username: 'u', password: 'long-enough-pw', role: 'viewer' }, adminOnly(201)],
  ['PATCH', '/api/users/nobody', { role: 'viewer' }, adminOnly(404)],
  ['DELETE', '/api/users/nobody', undefined, adminOnly(404)],
  ['GET', '/api/api-keys', undefined, adminOnly(200)],
  ['POST', '/api/api-keys', { name: 'k', scope: 'read' }, adminOnly(201)],
  ['DELETE', '/api/api-keys/nope', undefined, adminOnly(404)],
  ['GET', '/api/devices', undefined, adminOnly(200)],
  ['POST', '/api/devices', { id: 'd', kind: 'head' }, adminOnly(201)],
  ['GET', '/api/activity', undefined, adminOnly(200)],
  ['GET', '/api/recordings', undefined, { _: 200, anon: 401 }],
  ['GET', '/api/recordings/front:1.000/file', undefined, { _: 404, anon: 401 }],
  ['GET', '/api/cameras/front/recordings.m3u8?start=1&end=100', undefined, seen(404, ['viewerNone', 'keyReadBack'])],
  ['GET', '/api/cameras/back/recordings.mp4?start=1&end=100', undefined, seen(404, ['viewerNone', 'viewerFront'])],
  ['GET', '/api/exports', undefined, { _: 200, anon: 401 }],
  ['POST', '/api/exports', { camera: 'front', start: 1, end: 60 }, { _: 403, anon: 401, operator: 202, admin: 202, keyControl: 202, keyAdmin: 202 }],
  ['DELETE', '/api/exports/nope', undefined, { _: 403, anon: 401, operator: 404, admin: 404, keyControl: 404, keyAdmin: 404 }],
  ['POST', '/api/events/trigger', { camera: 'front', topic: 'doorbell/pressed', payload: { pressed: true } }, { _: 403, anon: 401, operator: 202, admin: 202, keyControl: 202, keyAdmin: 202 }],
  ['POST', '/api/events/trigger', { camera: 'nope', topic: 'x' }, { _: 403, anon: 401, operator: 404, admin: 404, keyControl: 404, keyAdmin: 404 }],
  ['GET', '/api/layouts', undefined, { _: 200, anon: 401 }],
  ['GET', '/api/layouts/wall-front', undefined, seen(200, ['viewerNone', 'keyReadBack'])],
  ['POST', '/api/layouts', { id: 'l', name: 'L', preset: 'fullscreen' }, adminOnly(201)],
  ['PUT', '/api/layouts/nope', { name: 'L', preset: 'fullscreen' }, adminOnly(404)],
  ['DELETE', '/api/layouts/nope', undefined, adminOnly(404)],
  ['POST', '/api/kiosks/pairing', {}, 201],
  ['GET', '/api/kiosks/pairing/nope', undefined, 401],
  ['POST', '/api/kiosks/pair', { code: 'XXXXXX' }, adminOnly(404)],
  ['GET', '/api/kiosks', undefined, adminOnly(200)],
  ['GET', '/api/kiosks/k1', undefined, adminOnly(200)],
  ['DELETE', '/api/kiosks/nope', undefined, adminOnly(404)],
  ['POST', '/api/kiosks/nope/displays', { id: 'd2', name: 'D2', width: 800, height: 600 }, adminOnly(404)],
  ['GET', '/api/displays', undefined, { _: 200, anon: 401 }],
  ['GET', '/api/displays/k1-hdmi-0', undefined, { _: 200, anon: 401 }],
  ['PATCH', '/api/displays/k1-hdmi-0', { name: 'Wall' }, adminOnly(200)],
  ['POST', '/api/displays/k1-hdmi-0/activate', { layout: 'wall-front' }, { _: 403, anon: 401, operator: 200, admin: 200, keyControl: 200, keyAdmin: 200 }],
  ['GET', '/api/displays/k1-hdmi-0/bundle', undefined, { _: 404, anon: 401, admin: 200, keyAdmin: 200 }],
  ['POST', '/api/auth/totp/setup', undefined, { _: 403, anon: 401, viewerFront: 200, viewerNone: 200, operator: 200, admin: 200 }],
  ['GET', '/api/faces', undefined, { _: 200, anon: 401 }],
  ['GET', '/api/faces/nobody/abcdef123.jpg', undefined, { _: 404, anon: 401 }],
  ['POST', '/api/faces/alice', {}, adminOnly(400)], // a JSON body is no image
  ['DELETE', '/api/faces/nobody', undefined, adminOnly(404)],
  ['DELETE', '/api/faces/nobody/abcdef123', undefined, adminOnly(404)],
  ['GET', '/api/faces/unknown', undefined, { _: 200, anon: 401 }],
  ['GET', `/api/faces/unknown/${FRONT_FACE}.jpg`, undefined, seen(200, ['viewerNone', 'keyReadBack'])],
  ['POST', `/api/faces/unknown/${FRONT_FACE}/enrol`, { name: 'Not A Slug' }, adminOnly(400)],
  ['DELETE', '/api/faces/unknown/1700000000000-00000000', undefined, adminOnly(404)],
];

describe.each(ROUTES)('%s %s', (method, path, body, expected) => {
  it.each(WHO)('as %s', async (who) => {
    const want = typeof expected === 'number' ? expected : (expected[who] ?? expected._);
    // Names must be unique per principal where a route creates something.
    const b = body && typeof body === 'object' && 'name' in body && method === 'POST' && path === '/api/cameras' ? { ...body, name: `x-${who.toLowerCase()}` }
      : body && typeof body === 'object' && 'username' in body ? { ...body, username: `u-${who}` }
      : body && typeof body === 'object' && 'id' in body && (path === '/api/devices' || path === '/api/layouts') ? { ...body, id: `d-${who.toLowerCase()}` }
      : body;
    const res = await api(h.baseUrl, method, path, b, cred[who] ?? null);
    expect(res.status, `${method} ${path} as ${who}: ${JSON.stringify(res.body)?.slice(0, 200)}`).toBe(want);
    if (want >= 400) expect(res.body.error.code).toBeTypeOf('string');
  });
});

describe('per-camera grants filter lists everywhere', () => {
  it('a viewer of front sees only front in cameras, events and system', async () => {
    const v = cred.viewerFront!;
    expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, v)).body.map((c: { name: string }) => c.name)).toEqual(['front']);
    expect((await api(h.baseUrl, 'GET', '/api/events', undefined, v)).body.map((e: { camera: string }) => e.camera)).toEqual(['front']);
    expect((await api(h.baseUrl, 'GET', '/api/events?camera=back', undefined, v)).body).toEqual([]);
    const sys = await api(h.baseUrl, 'GET', '/api/system', undefined, v);
    expect(Object.keys(sys.body.cameras).every((c) => c === 'front')).toBe(true);
    expect(sys.body.components).toBeUndefined();
    expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, cred.viewerNone!)).body).toEqual([]);
    expect((await api(h.baseUrl, 'GET', '/api/events', undefined, cred.keyReadBack!)).body.map((e: { camera: string }) => e.camera)).toEqual(['back']);
    expect((await api(h.baseUrl, 'GET', '/api/faces/unknown', undefined, v)).body.map((f: { id: string }) => f.id)).toEqual([FRONT_FACE]);
    expect((await api(h.baseUrl, 'GET', '/api/faces/unknown', undefined, cred.keyReadBack!)).body).toEqual([]);
  });

  it('never returns credentials', async () => {
    const res = await api(h.baseUrl, 'PATCH', '/api/cameras/front', { username: 'cam-user', password: 'cam-pass-123' });
    expect(res.status).toBe(200);
    expect(res.body.has_credentials).toBe(true);
    expect(res.body.password).toBeUndefined();
    expect(res.body.username).toBeUndefined();
  });
});
