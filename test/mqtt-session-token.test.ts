/**
 * A browser session on the bus: the web UI connects to MQTT over WebSocket (`/mqtt`) with
 * the user's name and the session's access token as password (hub/auth/auth-service.ts
 * `fromMqtt`). Real hub, real aedes broker, mqtt.js over a real WebSocket. The connection
 * gets exactly the user's ACL (a viewer limited to one camera); an expired, tampered,
 * garbage, revoked or someone else's token is refused; a logout closes the connection its
 * token opened.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';

let h: TestHub;
let wsUrl: string;
const clients: MqttClient[] = [];

/** Connects over WebSocket; resolves with the client, or rejects with the CONNACK error. */
function connect(username: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(wsUrl, { username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (err) => { c.end(true); reject(err); });
  });
}

/** Subscribes; resolves with the granted QoS of each filter (128 = refused). */
async function subscribe(c: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos: 0 })).map((g) => g.qos);
  } catch (err) {
    // mqtt.js rejects when the SUBACK refuses a filter; the packet carries the granted codes.
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

const login = async (username: string, password: string) => (await api(h.baseUrl, 'POST', '/api/auth/login', { username, password }, null)).body as { access_token: string };

beforeAll(async () => {
  h = await startTestHub({ detector: { enabled: false }, camera: { enabled: false } });
  wsUrl = `${h.baseUrl.replace(/^http/, 'ws')}/mqtt`;
  for (const name of ['front', 'back']) {
    expect((await api(h.baseUrl, 'POST', '/api/cameras', { name, enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' } })).status).toBe(201);
  }
  expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'vera', password: 'vera-password', role: 'viewer', cameras: ['front'] })).status).toBe(201);
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await h?.stop();
});

describe('the session access token as MQTT password', () => {
  it("connects with the user's rights: its camera only, no writes of an operator", async () => {
    const { access_token } = await login('vera', 'vera-password');
    const vera = await connect('vera', access_token);
    expect(await subscribe(vera, ['vigil/camera/front/motion'])).toEqual([0]);
    expect(await subscribe(vera, ['vigil/camera/back/motion'])).toEqual([128]); // another camera: refused
    const got: string[] = [];
    vera.on('message', (t, p) => got.push(`${t}=${p.toString()}`));
    await vera.subscribeAsync('vigil/camera/+/motion', { qos: 0 }); // wildcard: filtered per message

    const pub = await connect(h.mqttCreds!.username, h.mqttCreds!.password);
    await pub.publishAsync('vigil/camera/back/motion', 'ON', { qos: 1 });
    await pub.publishAsync('vigil/camera/front/motion', 'ON', { qos: 1 });
    await expect.poll(() => got, { timeout: 5000 }).toContain('vigil/camera/front/motion=ON');
    await pub.publishAsync('vigil/camera/front/motion', 'OFF', { qos: 1 });
    await expect.poll(() => got, { timeout: 5000 }).toContain('vigil/camera/front/motion=OFF');
    expect(got.some((m) => m.startsWith('vigil/camera/back/'))).toBe(false);

    // A viewer may not switch a camera: the broker acknowledges the publish and drops it (as Mosquitto does).
    const seen: string[] = [];
    await pub.subscribeAsync('vigil/camera/front/detect/set', { qos: 1 });
    pub.on('message', (t) => seen.push(t));
    await vera.publishAsync('vigil/camera/front/detect/set', 'OFF', { qos: 1 }); // PUBACK comes
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
    expect(vera.connected).toBe(true);
    const admin = await connect('admin', (await login('admin', 'test-admin-password')).access_token);
    expect(await subscribe(admin, ['vigil/camera/back/motion'])).toEqual([0]); // the admin's token: every camera
  });

  it('refuses an expired, garbage, tampered, revoked or borrowed token', async () => {
    const user = (await h.hub.auth!.users.byName('vera'))!;
    const live = await h.hub.auth!.sessions.open(user.id, '127.0.0.1');
    const claims = await h.hub.auth!.signer.verifyAccess(live.access_token);
    const expired = await h.hub.auth!.signer.access(claims!, -60);
    expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: expired })).status).toBe(401); // expired for REST too
    const refused = async (username: string, password: string) => {
      const err = await connect(username, password).then(() => null, (e: Error & { code?: number }) => e);
      expect(err, `${username} / ${password.slice(0, 12)}… must be refused`).not.toBeNull();
      expect([4, 5]).toContain(err!.code);
    };
    await refused('vera', expired);
    await refused('vera', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'); // JWT-shaped garbage
    await refused('vera', 'not-a-token-and-not-the-password');
    const [head, payload, sig] = live.access_token.split('.');
    await refused('vera', `${head}.${payload}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`); // tampered signature
    await refused('admin', live.access_token); // vera's token with another name
    const ok = await connect('vera', live.access_token); // the same token is fine as vera
    ok.end(true);
    await h.hub.auth!.sessions.revoke(claims!.sid); // logout
    await refused('vera', live.access_token);
  });

  it("a logout closes the MQTT connection opened with that session's token, and only that one", async () => {
    const a = await login('vera', 'vera-password');
    const b = await login('vera', 'vera-password');
    const ca = await connect('vera', a.access_token);
    const cb = await connect('vera', b.access_token);
    const closed = new Promise<number>((resolve) => { const t0 = Date.now(); ca.once('close', () => resolve(Date.now() - t0)); });
    expect((await api(h.baseUrl, 'POST', '/api/auth/logout', {}, { token: a.access_token })).status).toBeLessThan(300);
    expect(await closed).toBeLessThan(1000);
    expect(cb.connected).toBe(true);
    // Revoking every session of the user (a password change) closes the other one too.
    const closedB = new Promise<void>((resolve) => cb.once('close', () => resolve()));
    const user = (await h.hub.auth!.users.byName('vera'))!;
    await h.hub.auth!.sessions.revokeAll(user.id);
    await closedB;
    expect(cb.connected).toBe(false);
  });
});
