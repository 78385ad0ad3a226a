/**
 * The embedded broker: MQTT on TCP and over WebSocket at `/mqtt` on the HTTP port,
 * username/password authentication, the hub's retained availability and last will.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

describe('embedded broker transports', () => {
  let h: TestHub;
  beforeAll(async () => { h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } }); });
  afterAll(async () => { await h?.stop(); });

  it('serves MQTT over TCP and WebSocket on the same bus', async () => {
    const tcp = await MqttRecorder.connect(h.mqttUrl, ['vigil/test/#']);
    // The test client is a `component` device: full bus access over both transports.
    const ws = await MqttRecorder.connect(`ws://127.0.0.1:${new URL(h.baseUrl).port}/mqtt`, ['vigil/hub/availability']);
    const avail = await ws.waitFor((m) => m.topic === 'vigil/hub/availability', 5000, 'hub availability over ws');
    expect(avail.payload.toString()).toBe('online');
    expect(avail.retain).toBe(true);
    await ws.client.publishAsync('vigil/test/hello', 'from-ws', { qos: 1 });
    const got = await tcp.waitFor((m) => m.topic === 'vigil/test/hello', 5000, 'ws → tcp');
    expect(got.payload.toString()).toBe('from-ws');
    expect(got.qos).toBe(1);
    await Promise.all([tcp.close(), ws.close()]);
  });

  it('refuses publishing to $SYS topics', async () => {
    const c = await MqttRecorder.connect(h.mqttUrl, ['vigil/test/#']);
    await expect(c.client.subscribeAsync('$SYS/fake')).rejects.toThrow(/Subscribe error/);
    await c.client.publishAsync('$SYS/fake', 'x', { qos: 0 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.on('$SYS/fake')).toHaveLength(0);
    await c.close();
  });
});

describe('broker authentication', () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
    expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'ha', password: 'correct horse', role: 'viewer' })).status).toBe(201);
  });
  afterAll(async () => { await h?.stop(); });

  it('refuses anonymous clients and wrong passwords, accepts the right one', async () => {
    const connect = (opts: { username?: string; password?: string }) =>
      mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, ...opts });
    await expect(connect({})).rejects.toThrow(/Not authorized/i);
    await expect(connect({ username: 'ha', password: 'wrong' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect({ username: '$vigil-internal', password: 'guess' })).rejects.toThrow(/Bad username or password/i);
    const ok = await MqttRecorder.connect(h.mqttUrl, ['vigil/hub/availability'], { username: 'ha', password: 'correct horse' });
    expect((await ok.waitFor((m) => m.topic === 'vigil/hub/availability', 5000)).payload.toString()).toBe('online');
    await ok.close();
    expect(h.logs()).toContain('mqtt login refused');
    expect(h.logs()).not.toContain('correct horse');
    expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
  });
});

describe('anonymous access when allowed', () => {
  it('lets loopback clients in, read-only on display topics', async () => {
    const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, mqtt: { allow_anonymous: true } });
    try {
      const anon = await MqttRecorder.connect(h.mqttUrl, ['vigil/display/hall/layout/state'], {});
      await expect(anon.client.subscribeAsync('vigil/events')).rejects.toThrow(/Subscribe error/);
      anon.client.publish('vigil/display/hall/layout/state', '{}', { qos: 0 }); // refused: dropped, the connection kept
      await new Promise((r) => setTimeout(r, 300));
      expect(anon.on('vigil/display/hall/layout/state')).toHaveLength(0); // publishing refused
      await anon.close();
    } finally {
      await h.stop();
    }
  });
});

describe('hub availability', () => {
  it('goes offline (retained) when the hub stops', async () => {
    const h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
    // The hub's client says `offline` before the embedded broker closes under it.
    const rec = await MqttRecorder.connect(h.mqttUrl, ['vigil/hub/availability']);
    await rec.waitFor((m) => m.payload.toString() === 'online', 5000);
    await h.stop();
    expect(rec.messages.map((m) => m.payload.toString())).toContain('offline');
    await rec.close();
  });
});
