/**
 * An external Mosquitto 2 with its dynamic security plugin, driven by a real hub
 * (`mqtt.url` + `mqtt.dynamic_security`, `hub/broker/dynsec-sync.ts`):
 *
 * - the security MQTT test matrix (`test/helpers/mqtt-acl-matrix.ts`, the embedded broker's
 *   table) gives the same answers on Mosquitto, but for the documented differences
 *   (`MOSQUITTO_DIFFERENCES`, CONNACK 5 for every refused login);
 * - a viewer limited to one camera sees only that camera's topics; a revoked API key is
 *   refused, its live connection dropped, within a second (printed); a changed password,
 *   a TOTP user, a client changed behind the hub's back and clients Vigil does not manage;
 * - MQTT 5 answers of refusals (reason codes) next to MQTT 3.1.1's;
 * - the plugin missing, or the hub's account not its admin: the hub does not start and
 *   says why (with the mosquitto.conf lines); the broker losing it while the hub runs:
 *   `/api/system` shows the failure.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { generate } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { describeAclMatrix, eventMessage, pub, run, sleep, sub, until } from './helpers/mqtt-acl-matrix.ts';
import { keyUsername } from '../hub/broker/dynsec-sync.ts';
import { packetLength } from '../hub/broker/ws-relay.ts';

const HUB_USER = 'vigil-hub';
const HUB_PASSWORD = 'hub-dynsec-password';

/** A Mosquitto with the plugin (the hub's account its admin) and a hub driving it. */
async function mosquittoHub(extra: Record<string, unknown> = {}): Promise<{ broker: MosquittoBroker; h: TestHub }> {
  const broker = await startMosquitto({ dynsec: { username: HUB_USER, password: HUB_PASSWORD } });
  try {
    const h = await startTestHub({ mqtt: { url: broker.url, username: HUB_USER, password: HUB_PASSWORD, dynamic_security: true }, camera: { enabled: false }, detector: { enabled: false }, ...extra });
    return { broker, h };
  } catch (err) {
    await broker.stop();
    throw err;
  }
}

/** Waits until the sync has taken in everything the hub knows now (camera configs included). */
async function settled(h: TestHub): Promise<void> {
  await sleep(300); // the sync takes in camera configs 100 ms after the last one
  await h.hub.dynamicSecurity!.sync();
}

let matrixBroker: MosquittoBroker | undefined;
let matrixHub: TestHub | undefined;
describeAclMatrix({
  kind: 'mosquitto',
  async start() {
    const { broker, h } = await mosquittoHub();
    matrixBroker = broker;
    matrixHub = h;
    const dev = await api(h.baseUrl, 'POST', '/api/devices', { id: 'test-client', kind: 'component' });
    return { h, port: broker.port, url: broker.url, component: { username: 'test-client', password: dev.body.password as string } };
  },
  async stop() {
    await matrixHub?.stop();
    await matrixBroker?.stop();
  },
  keyUsername,
  settle: settled,
});

/** `mosquitto_ctrl dynsec …` as the plugin's admin: what it printed ('' when a command succeeded), without its warning about plain TCP. */
async function ctrl(broker: MosquittoBroker, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const r = await run('mosquitto_ctrl', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', HUB_USER, '-P', HUB_PASSWORD, 'dynsec', ...args], (l) => out.push(l)).result;
  return out.join('\n') + r.stderr.replace(/Warning: You are running mosquitto_ctrl without encryption\.\nThis means all of the configuration changes you are making are visible on the network, including passwords\.\n\n?/g, '');
}

/** MQTT 3.1.1 login on `broker`: `ok`, or the CONNACK refusal. */
async function login(broker: MosquittoBroker, username: string, password: string): Promise<string> {
  try {
    const c = await mqtt.connectAsync(broker.url, { username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
    await c.endAsync();
    return 'ok';
  } catch (err) {
    return `refused:${(err as { code?: number }).code ?? (err as Error).message}`;
  }
}

describe('Mosquitto kept in step with users, keys and devices', () => {
  let broker: MosquittoBroker;
  let h: TestHub;
  /** A `component` device of the hub: publishes the fixtures. */
  let fx: MqttRecorder;

  beforeAll(async () => {
    ({ broker, h } = await mosquittoHub());
    const poly = [[0, 0], [1, 0], [1, 1]];
    for (const [name, zone] of [['front', 'porch'], ['back', 'yard']]) {
      expect((await api(h.baseUrl, 'POST', '/api/cameras', { name, enabled: false, paths: { detect: 'rtsp://127.0.0.1:1/x' }, zones: [{ name: zone, coordinates: poly }] })).status).toBe(201);
    }
    const dev = await api(h.baseUrl, 'POST', '/api/devices', { id: 'fixtures', kind: 'component' });
    fx = await MqttRecorder.connect(broker.url, ['vigil/#'], { username: 'fixtures', password: dev.body.password as string });
    await fx.waitFor((m) => m.topic === 'vigil/camera/back/config', 5000, 'back config');
    await settled(h);
  });
  afterAll(async () => {
    await fx?.close();
    await h?.stop();
    await broker?.stop();
  });

  it('a viewer limited to one camera sees only that camera\'s topics, and after a change of grants only the new one\'s', async () => {
    const u = await api(h.baseUrl, 'POST', '/api/users', { username: 'vfront', password: 'vfront-password', role: 'viewer', cameras: ['front'] });
    expect(u.status).toBe(201);
    const viewer = await MqttRecorder.connect(broker.url, ['vigil/#'], { username: 'vfront', password: 'vfront-password' });
    const burst = async (tag: string) => {
      for (const cam of ['front', 'back']) {
        await fx.client.publishAsync(`vigil/camera/${cam}/motion`, tag, { qos: 1 });
        await fx.client.publishAsync(`vigil/camera/${cam}/person/snapshot`, tag, { qos: 1 });
        await fx.client.publishAsync(`vigil/recorder/${cam}/segment`, JSON.stringify({ camera: cam, tag }), { qos: 1 });
        await fx.client.publishAsync(`vigil/onvif/${cam}/event`, JSON.stringify({ camera: cam, tag }), { qos: 1 });
        await fx.client.publishAsync('vigil/events', eventMessage(cam, `ev-${cam}-${tag}`), { qos: 1 });
      }
      await fx.client.publishAsync('vigil/zone/porch/person', tag, { qos: 1 });
      await fx.client.publishAsync('vigil/zone/yard/person', tag, { qos: 1 });
      await fx.client.publishAsync('vigil/hub/stats', tag, { qos: 1 }); // no camera's: every viewer's
      await viewer.waitFor((m) => m.topic === 'vigil/hub/stats' && m.payload.toString() === tag, 5000, `${tag} burst`);
    };
    const seen = (tag: string) => viewer.messages.filter((m) => m.payload.toString().includes(tag)).map((m) => m.topic).sort();

    await burst('one');
    expect(seen('one')).toEqual(['vigil/camera/front/motion', 'vigil/camera/front/person/snapshot', 'vigil/hub/stats', 'vigil/onvif/front/event', 'vigil/recorder/front/segment', 'vigil/zone/porch/person']);
    // Retained camera configs (sealed credentials) never reach it.
    expect(viewer.messages.filter((m) => m.topic.endsWith('/config'))).toEqual([]);

    // Its grant moves to back: the role changes in place (no reconnect), deliveries follow at once.
    expect((await api(h.baseUrl, 'PATCH', `/api/users/${u.body.id as string}`, { cameras: ['back'] })).status).toBe(200);
    await burst('two');
    expect(seen('two')).toEqual(['vigil/camera/back/motion', 'vigil/camera/back/person/snapshot', 'vigil/hub/stats', 'vigil/onvif/back/event', 'vigil/recorder/back/segment', 'vigil/zone/yard/person']);
    expect(viewer.client.connected).toBe(true);
    await viewer.close();
  });

  it('a revoked API key is refused, and its live connection dropped, within a second', async () => {
    const k = await api(h.baseUrl, 'POST', '/api/api-keys', { name: 'soon-gone', scope: 'read' });
    const username = keyUsername(k.body.id as string);
    const c = await mqtt.connectAsync(broker.url, { username, password: k.body.key as string, protocolVersion: 4, reconnectPeriod: 0 });
    await c.subscribeAsync('vigil/hub/#');
    const closed = new Promise<number>((r) => c.once('close', () => r(Date.now())));
    const t0 = Date.now();
    expect((await api(h.baseUrl, 'DELETE', `/api/api-keys/${k.body.id as string}`)).status).toBe(204);
    const answered = Date.now();
    const dropped = await closed;
    const refused = await login(broker, username, k.body.key as string);
    const refusedAt = Date.now();
    process.stdout.write(`revoked API key on Mosquitto: DELETE answered after ${answered - t0} ms, live connection dropped after ${dropped - t0} ms, a new login refused (${refused}) ${refusedAt - t0} ms after the DELETE was sent\n`);
    expect(refused).toBe('refused:5');
    expect(dropped - t0).toBeLessThan(1000);
    expect(refusedAt - t0).toBeLessThan(1000);
    c.end(true);
  });

  it('a password change takes effect on Mosquitto; a deleted user is gone from it', async () => {
    const u = await api(h.baseUrl, 'POST', '/api/users', { username: 'pat', password: 'pat-password-1', role: 'operator' });
    expect(await login(broker, 'pat', 'pat-password-1')).toBe('ok');
    expect((await api(h.baseUrl, 'PATCH', `/api/users/${u.body.id as string}`, { password: 'pat-password-2' })).status).toBe(200);
    expect([await login(broker, 'pat', 'pat-password-1'), await login(broker, 'pat', 'pat-password-2')]).toEqual(['refused:5', 'ok']);
    expect((await api(h.baseUrl, 'DELETE', `/api/users/${u.body.id as string}`)).status).toBe(204);
    expect(await login(broker, 'pat', 'pat-password-2')).toBe('refused:5');
    expect(await ctrl(broker, 'getClient', 'pat')).toMatch(/Client not found/);
  });

  it('a user with TOTP cannot log in with the password alone (as on the embedded broker)', async () => {
    const u = await api(h.baseUrl, 'POST', '/api/users', { username: 'tess', password: 'tess-password-1', role: 'viewer' });
    expect(await login(broker, 'tess', 'tess-password-1')).toBe('ok');
    const users = h.hub.auth!.users;
    await users.totpSetup(u.body.id as string);
    await users.totpEnable(u.body.id as string, await users.currentCode(u.body.id as string));
    expect(await login(broker, 'tess', 'tess-password-1')).toBe('refused:5');
    // A web login (password + code) does not give it back either.
    const web = await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'tess', password: 'tess-password-1', totp: await users.currentCode(u.body.id as string) }, null);
    expect(web.status).toBe(200);
    await h.hub.dynamicSecurity!.sync();
    expect(await login(broker, 'tess', 'tess-password-1')).toBe('refused:5');
    expect(h.hub.dynamicSecurity!.status().awaiting_password).not.toContain('tess');
  });

  it('changes behind the hub\'s back: a client deleted in Mosquitto, a password changed with the CLI — locked, then healed by a web login', async () => {
    await api(h.baseUrl, 'POST', '/api/users', { username: 'olly', password: 'olly-password-1', role: 'operator' });
    expect(await login(broker, 'olly', 'olly-password-1')).toBe('ok');

    // Deleted in Mosquitto: the next reconcile makes it again, without a password it does not have.
    expect(await ctrl(broker, 'deleteClient', 'olly')).toBe('');
    await h.hub.dynamicSecurity!.sync();
    expect(await ctrl(broker, 'getClient', 'olly')).toMatch(/vigil-operator/);
    expect(await login(broker, 'olly', 'olly-password-1')).toBe('refused:5');
    expect(h.hub.dynamicSecurity!.status().awaiting_password).toContain('olly');
    expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'olly', password: 'olly-password-1' }, null)).status).toBe(200);
    await until(async () => (await login(broker, 'olly', 'olly-password-1')) === 'ok', 3000);
    expect(await login(broker, 'olly', 'olly-password-1')).toBe('ok');

    // The CLI (another process, straight into the database): the old password stops working at the next reconcile.
    const config = join(h.dataDir, 'cli.yaml');
    writeFileSync(config, `data_dir: ${h.dataDir}\n`);
    const cli = spawn(process.execPath, ['--import', 'tsx', 'hub/cli.ts', 'user', 'passwd', 'olly', '--config', config], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['pipe', 'pipe', 'pipe'] });
    cli.stdin.end('olly-password-2\n');
    expect(await new Promise((r) => cli.on('exit', r))).toBe(0);
    await h.hub.dynamicSecurity!.sync();
    expect([await login(broker, 'olly', 'olly-password-1'), await login(broker, 'olly', 'olly-password-2')]).toEqual(['refused:5', 'refused:5']);
    expect(h.hub.dynamicSecurity!.status().awaiting_password).toContain('olly');
    expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'olly', password: 'olly-password-2' }, null)).status).toBe(200);
    await until(async () => (await login(broker, 'olly', 'olly-password-2')) === 'ok', 3000);
    expect(await login(broker, 'olly', 'olly-password-2')).toBe('ok');
    await h.hub.dynamicSecurity!.sync(); // the status of the reconcile that sent it (Mosquitto may answer the login first)
    expect(h.hub.dynamicSecurity!.status().awaiting_password).not.toContain('olly');
  });

  it('clients and roles Vigil does not manage are left alone; a user of the same name is a conflict', async () => {
    expect(await ctrl(broker, 'createClient', 'own-client', '-p', 'own-password-1')).toBe('');
    expect(await ctrl(broker, 'createRole', 'own-role')).toBe('');
    await h.hub.dynamicSecurity!.sync();
    expect(await ctrl(broker, 'getClient', 'own-client')).toMatch(/Username: own-client/);
    expect(await ctrl(broker, 'getRole', 'own-role')).toMatch(/Rolename: own-role/);
    await api(h.baseUrl, 'POST', '/api/users', { username: 'own-client', password: 'vigil-password-1', role: 'admin' });
    expect(await login(broker, 'own-client', 'vigil-password-1')).toBe('refused:5');
    expect(await login(broker, 'own-client', 'own-password-1')).toBe('ok');
    const status = (await api(h.baseUrl, 'GET', '/api/system')).body.components.dynamic_security as { status: string; conflicts: string[] };
    expect(status.status).toBe('running');
    expect(status.conflicts).toEqual([expect.stringMatching(/^own-client \(own-client: a client Vigil does not manage\)/)]);
  });

  it('MQTT 5 refusals carry their reason: CONNACK, SUBACK and PUBACK 0x87', async () => {
    await api(h.baseUrl, 'POST', '/api/users', { username: 'vic', password: 'vic-password-1', role: 'viewer', cameras: ['front'] });
    const wrong = await run('mosquitto_sub', ['-V', '5', '-h', '127.0.0.1', '-p', String(broker.port), '-u', 'vic', '-P', 'wrong', '-t', 'vigil/#', '-W', '3']).result;
    expect([wrong.code, wrong.stderr.trim()]).toEqual([0x87, 'Connection error: Not authorized']);
    const s = await sub(broker.port, { username: 'vic', password: 'vic-password-1' }, ['vigil/camera/back/#', 'vigil/camera/front/#'], { count: 1, windowS: 0.5, version: 5 }).done;
    expect(s.granted).toEqual([0x87, 0]);
    expect(await pub(broker.port, { username: 'vic', password: 'vic-password-1' }, 'vigil/camera/front/detect/set', 'OFF', false, 5)).toBe('not-authorized');
    // The same publish over MQTT 3.1.1: acknowledged (PUBACK 0), dropped.
    expect(await pub(broker.port, { username: 'vic', password: 'vic-password-1' }, 'vigil/camera/front/detect/set', 'OFF', false, 4)).toBe('ok');
  });

  it('/mqtt on the hub: the web UI\'s session token relayed as a client of its own (the user\'s rights, gone at logout), device logins passed through', async () => {
    await api(h.baseUrl, 'POST', '/api/users', { username: 'wendy', password: 'wendy-password-1', role: 'viewer', cameras: ['front'] });
    const session = await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'wendy', password: 'wendy-password-1' }, null);
    const token = session.body.access_token as string;
    const wsUrl = `ws://127.0.0.1:${h.hub.httpPort}/mqtt`;
    const web = await MqttRecorder.connect(wsUrl, ['vigil/camera/+/motion'], { username: 'wendy', password: token });
    await fx.client.publishAsync('vigil/camera/back/motion', 'relay', { qos: 1 });
    await fx.client.publishAsync('vigil/camera/front/motion', 'relay', { qos: 1 });
    await web.waitFor((m) => m.topic === 'vigil/camera/front/motion' && m.payload.toString() === 'relay', 5000, 'front motion over the relay');
    await sleep(200);
    expect(web.messages.filter((m) => m.payload.toString() === 'relay').map((m) => m.topic)).toEqual(['vigil/camera/front/motion']);
    const clients = await ctrl(broker, 'listClients');
    expect(clients).toMatch(/vigil-ws-[0-9a-f]{12}/);

    // A token of another user, or a made-up one: CONNACK 4, as on the embedded broker.
    const forged = await mqtt.connectAsync(wsUrl, { username: 'admin', password: token, protocolVersion: 4, reconnectPeriod: 0 }).then(() => 'ok', (e: { code?: number }) => `refused:${e.code}`);
    expect(forged).toBe('refused:4');

    // Logout: the session's client is deleted, and with it the relayed connection.
    web.client.options.reconnectPeriod = 0;
    const closed = new Promise<number>((r) => web.client.once('close', () => r(Date.now())));
    const t0 = Date.now();
    expect((await api(h.baseUrl, 'POST', '/api/auth/logout', undefined, { token })).status).toBe(204);
    const dropped = (await closed) - t0;
    process.stdout.write(`web UI session over the /mqtt relay: connection dropped ${dropped} ms after the logout was sent\n`);
    expect(dropped).toBeLessThan(1000);
    await until(async () => !/vigil-ws-/.test(await ctrl(broker, 'listClients')), 2000);
    expect(await ctrl(broker, 'listClients')).not.toMatch(/vigil-ws-/);
    await web.close();

    // A kiosk's device credential goes through unchanged: Mosquitto checks it.
    const kiosk = await api(h.baseUrl, 'POST', '/api/devices', { id: 'kiosk9', kind: 'kiosk', displays: ['hall'] });
    const k = await MqttRecorder.connect(wsUrl, ['vigil/display/hall/#'], { username: 'kiosk9', password: kiosk.body.password as string });
    const refused = await k.client.subscribeAsync('vigil/camera/front/#').then(() => 'granted', () => 'refused');
    expect(refused).toBe('refused');
    await k.close();
  });
});

describe('without the plugin, or without its admin', () => {
  it('the plugin is not loaded: the hub does not start, and says which mosquitto.conf lines to add', async () => {
    const plain = await startMosquitto();
    try {
      const t0 = Date.now();
      const err = await startTestHub({ mqtt: { url: plain.url, username: HUB_USER, password: HUB_PASSWORD, dynamic_security: true }, camera: { enabled: false }, detector: { enabled: false } }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/dynamic security plugin did not answer on \$CONTROL\/dynamic-security\/v1\/response within 5 s: it is not loaded/);
      expect(err?.message).toContain('plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so');
      expect(err?.message).toContain('plugin_opt_config_file');
      expect(err?.message).toContain(`mosquitto_ctrl dynsec init /var/lib/mosquitto/dynamic-security.json ${HUB_USER}`);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await plain.stop();
    }
  });

  it('the hub\'s account is not the plugin\'s admin: the hub does not start, and says so', async () => {
    const broker = await startMosquitto({ dynsec: { username: HUB_USER, password: HUB_PASSWORD } });
    try {
      expect(await ctrl(broker, 'createClient', 'not-admin', '-p', 'not-admin-password')).toBe('');
      const err = await startTestHub({ mqtt: { url: broker.url, username: 'not-admin', password: 'not-admin-password', dynamic_security: true }, camera: { enabled: false }, detector: { enabled: false } }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/refused not-admin's subscription to \$CONTROL\/dynamic-security\/v1\/response: the dynamic security plugin is loaded but not-admin is not its admin/);
    } finally {
      await broker.stop();
    }
  });

  it('the broker comes back without the plugin while the hub runs: /api/system shows the failure, the log says why', async () => {
    const { broker, h } = await mosquittoHub();
    let plain: MosquittoBroker | undefined;
    try {
      await broker.stop();
      plain = await startMosquitto({ port: broker.port });
      await expect.poll(async () => ((await api(h.baseUrl, 'GET', '/api/system')).body.components.dynamic_security as { status: string }).status, { timeout: 20_000, interval: 250 }).toBe('failed');
      const st = (await api(h.baseUrl, 'GET', '/api/system')).body.components.dynamic_security as { error: string };
      expect(st.error).toMatch(/it is not loaded/);
      expect(h.logs()).toMatch(/"level":50[^\n]*Mosquitto is not in step with Vigil's users, keys and devices/);
    } finally {
      await h.stop();
      await plain?.stop();
    }
  }, 40_000);
});

describe('packetLength (the relay reads one CONNECT)', () => {
  it('tells a whole packet from a part of one, and a malformed length', () => {
    const connect = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 30, username: 'u', password: Buffer.from('p'.repeat(200)) });
    expect(connect.length).toBeGreaterThan(200); // a two-byte remaining length
    expect(packetLength(connect)).toBe(connect.length);
    expect(packetLength(Buffer.concat([connect, Buffer.from([0xc0, 0x00])]))).toBe(connect.length);
    expect(packetLength(connect.subarray(0, connect.length - 1))).toBeUndefined();
    expect(packetLength(connect.subarray(0, 2))).toBeUndefined();
    expect(packetLength(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBeNaN();
  });
});
