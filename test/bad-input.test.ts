/**
 * Bad input gets a clear error and loses nothing: a broken config file, bad REST
 * bodies, bad payloads on `…/set` and on the components' topics.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { loadConfig } from '../components/protocol/config/load.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('configuration', () => {
  it('prints every error as path: message and exits non-zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'http:\n  port: 99999\n  colour: blue\nmqtt:\n  url: ftp://x\ndetecter: {}\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'hub/main.ts', '--config', file], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('http.port: Too big');
    expect(r.stderr).toContain('http.colour: unknown key');
    expect(r.stderr).toContain('mqtt.url: must be an mqtt://');
    expect(r.stderr).toContain('detecter: unknown key');
  });

  it('reports YAML syntax errors and bad environment overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'http: [unclosed\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/\(file\):/);
    writeFileSync(file, 'http: {port: 8081}\n');
    expect(loadConfig({ file, env: { VIGIL_HTTP__PORT: '9090' } }).http.port).toBe(9090);
    expect(() => loadConfig({ file, env: { VIGIL_HTTP__PORT: 'eighty' } })).toThrow(/http\.port: VIGIL_HTTP__PORT="eighty" is not a number/);
    expect(() => loadConfig({ file, env: { VIGIL_MQTT__WEBSOCKET: 'maybe' } })).toThrow(/mqtt\.websocket: VIGIL_MQTT__WEBSOCKET must be true or false/);
  });
});

describe('REST and MQTT input', () => {
  let h: TestHub;
  let rec: MqttRecorder;
  const good = { name: 'porch', enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/none' }, zones: [{ name: 'steps', coordinates: [[0, 0], [1, 0], [1, 1]] }] };

  beforeAll(async () => {
    h = await startTestHub({ detector: { enabled: false } });
    rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/bridge/response/#', 'vigil/camera/porch/+/state']);
    expect((await api(h.baseUrl, 'POST', '/api/cameras', good)).status).toBe(201);
  });
  afterAll(async () => { await rec?.close(); await h?.stop(); });

  it.each([
    ['not JSON', '{"name": ', 400, 'invalid_json', undefined],
    ['unknown key', { ...good, name: 'x1', colour: 'red' }, 400, 'validation_failed', 'colour'],
    ['bad name', { ...good, name: 'Front Door' }, 400, 'validation_failed', 'name'],
    ['bad scheme', { ...good, name: 'x2', paths: { detect: 'http://cam/x.mjpg' } }, 400, 'validation_failed', 'paths.detect'],
    ['ffmpeg option smuggled as URL', { ...good, name: 'x3', paths: { detect: '-i /etc/passwd' } }, 400, 'validation_failed', 'paths.detect'],
    ['no path', { ...good, name: 'x4', paths: {} }, 400, 'validation_failed', 'paths'],
    ['zone out of range', { ...good, name: 'x5', zones: [{ name: 'z', coordinates: [[0, 0], [2, 0], [1, 1]] }] }, 400, 'validation_failed', 'zones.0.coordinates.1.0'],
    ['duplicate', good, 409, 'conflict', 'name'],
  ])('POST /api/cameras with %s → %i', async (_what, body, status, code, field) => {
    const r = await api(h.baseUrl, 'POST', '/api/cameras', body);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toBeTypeOf('string');
    if (field) expect(r.body.error.field).toBe(field);
  });

  it('answers unknown routes, unknown cameras and bad queries with JSON errors', async () => {
    expect((await api(h.baseUrl, 'GET', '/api/nope')).body.error.code).toBe('not_found');
    expect((await api(h.baseUrl, 'GET', '/api/cameras/ghost')).status).toBe(404);
    expect((await api(h.baseUrl, 'PATCH', '/api/cameras/porch', { name: 'other' })).body.error.field).toBe('name');
    expect((await api(h.baseUrl, 'PATCH', '/api/cameras/porch', { detect: { fps: 0 } })).body.error.field).toBe('detect.fps');
    const q = await api(h.baseUrl, 'GET', '/api/events?limit=-1');
    expect(q.status).toBe(400);
    expect(q.body.error.field).toBe('query.limit');
    expect((await api(h.baseUrl, 'GET', '/api/events?after=10&before=5')).status).toBe(400);
    expect((await api(h.baseUrl, 'GET', '/api/events/nope/snapshot.jpg')).status).toBe(404);
    // Nothing stored was lost or changed by the failures.
    const cam = await api(h.baseUrl, 'GET', '/api/cameras/porch');
    expect(cam.body.zones[0].name).toBe('steps');
    expect(cam.body.detect.fps).toBe(5);
  });

  it('answers bad …/set payloads with an error response and keeps running', async () => {
    const pub = async (topic: string, payload: string) => rec.client.publishAsync(topic, payload, { qos: 1 });
    await pub('vigil/camera/porch/detect/set', 'MAYBE');
    const e1 = await rec.waitFor((m) => m.topic === 'vigil/bridge/response/set', 5000, 'error response');
    const body = JSON.parse(e1.payload.toString());
    expect(body.status).toBe('error');
    expect(body.error).toContain('must be ON or OFF');
    expect(body.data.topic).toBe('vigil/camera/porch/detect/set');
    await pub('vigil/camera/porch/motion_threshold/set', '9000');
    await pub('vigil/camera/porch/teleport/set', 'ON');
    await pub('vigil/camera/ghost/detect/set', 'OFF');
    await expect.poll(() => rec.on('vigil/bridge/response/set').length, { timeout: 5000 }).toBe(4);
    const errors = rec.on('vigil/bridge/response/set').map((m) => JSON.parse(m.payload.toString()).error as string);
    expect(errors[1]).toMatch(/motion_threshold/);
    expect(errors[2]).toMatch(/unknown feature teleport/);
    expect(errors[3]).toMatch(/no camera ghost/);

    // Garbage on the components' topics: frames, events, event images.
    await pub('vigil/camera/porch/frame', 'not a frame');
    await pub('vigil/events', '{"type":"new","after":{"id":"../../etc"}}');
    await pub('vigil/events', 'nonsense');
    await pub('vigil/events/../../x/snapshot', 'nope');
    await pub('vigil/camera/porch/config', '{"name":"porch","paths":{}}');

    // A good set still works and is reflected in state and in the store.
    await pub('vigil/camera/porch/motion_threshold/set', '42');
    await rec.waitFor((m) => m.topic === 'vigil/camera/porch/motion_threshold/state' && m.payload.toString() === '42', 5000, 'threshold state 42');
    const cam = await api(h.baseUrl, 'GET', '/api/cameras/porch');
    expect(cam.body.motion.threshold).toBe(42);
    expect(cam.body.zones).toHaveLength(1);
    expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
    expect((await api(h.baseUrl, 'GET', '/api/events')).body).toEqual([]);
  });
});
