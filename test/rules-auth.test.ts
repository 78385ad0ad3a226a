/**
 * The embedded Node-RED inside a real hub: editor and admin API only for admins through
 * the hub's own auth, configurable off; its flows reach the bus with their own credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

describe('rules engine enabled', () => {
  let h: TestHub;
  let viewer: string;
  let adminKey: string;
  let readKey: string;
  beforeAll(async () => {
    h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, rules: { enabled: true } });
    await api(h.baseUrl, 'POST', '/api/users', { username: 'vic', password: 'vic-password', role: 'viewer' });
    viewer = (await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vic', password: 'vic-password' }, null)).body.access_token;
    adminKey = (await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'flows', scope: 'admin' })).body.key;
    readKey = (await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'ro', scope: 'read' })).body.key;
  });
  afterAll(async () => { await h?.stop(); });

  it('lets only admins reach the editor and admin API', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${h.baseUrl}${path}`, { headers }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() }));
    expect((await get('/rules/')).status).toBe(401);
    expect((await get('/rules/', { authorization: `Bearer ${viewer}` })).status).toBe(403);
    expect((await get('/rules/flows', { 'x-api-key': readKey })).status).toBe(403);
    const editor = await get('/rules/', { authorization: `Bearer ${h.adminToken}` });
    expect(editor.status).toBe(200);
    expect(editor.type).toContain('text/html');
    const flows = await get('/rules/flows', { 'x-api-key': adminKey });
    expect(flows.status).toBe(200);
    expect(flows.body).toContain('vigil/events');
    const deploy = await fetch(`${h.baseUrl}/rules/flows`, { method: 'POST', headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body: '[]' });
    expect(deploy.status).toBe(403);
    // The REST API is still Express 5, on the same port.
    expect((await api(h.baseUrl, 'GET', '/api/system')).body.components.rules.state).toBe('running');
  });

  it('runs the shipped flow on the bus with its own device credential', async () => {
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/rules/notification']);
    const after = { id: 'r1', camera: 'front', label: 'person' };
    await expect.poll(async () => {
      await rec.client.publishAsync('vigil/events', JSON.stringify({ type: 'new', before: after, after }), { qos: 1 });
      return rec.on('vigil/rules/notification').length;
    }, { timeout: 15_000, interval: 1000 }).toBeGreaterThan(0);
    const msg = JSON.parse(rec.on('vigil/rules/notification')[0]!.payload.toString());
    expect(msg.camera ?? msg.payload?.after?.camera).toBe('front');
    const devices = (await api(h.baseUrl, 'GET', '/api/devices')).body as Array<{ id: string; kind: string }>;
    expect(devices.find((d) => d.id === 'node-red')?.kind).toBe('component');
    await rec.close();
  });
});

describe('rules engine disabled', () => {
  it('serves no editor at all', async () => {
    const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, rules: { enabled: false } });
    try {
      const r = await fetch(`${h.baseUrl}/rules/`, { headers: { authorization: `Bearer ${h.adminToken}` } });
      expect(r.status).toBe(404);
      expect((await api(h.baseUrl, 'GET', '/api/system')).body.components.rules.state).toBe('disabled');
    } finally {
      await h.stop();
    }
  });
});
