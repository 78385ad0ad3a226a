/**
 * MQTT 3.1.1 conformance of the embedded broker where the ACL and the limits say no,
 * against Mosquitto 2 as the reference: the same packets on raw TCP sockets
 * (`mqtt-packet`) to the hub's aedes broker and to a real Mosquitto 2.0 whose dynamic
 * security plugin holds the same rules for the same camera device, and the answers
 * (packet types, message ids, return codes, closed or not) compared.
 *
 * The device is a `camera` device `cam1`: it may publish under `vigil/camera/cam1/#` but
 * not `…/config` nor `…/+/set`, and subscribe to `vigil/camera/cam1/#` only
 * (`hub/broker/acl.ts`). Mosquitto gets that as a dynsec role. Mosquitto's plain
 * `acl_file` would differ on one point: it grants every subscription and filters at
 * delivery (SUBACK 0/1/2, never 0x80); dynamic security answers 0x80 as aedes does.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { describeAnswer, rawConnect, remainingLength, RawMqtt, type Answer } from './helpers/raw-mqtt.ts';

/** Both brokers' `max_packet_size`, bytes (the config's minimum). */
const MAX = 65_536;
const CAM = 'cam1';
const PASSWORD_FOR_MOSQUITTO = 'cam1-password-for-mosquitto';

interface Target { name: 'aedes' | 'mosquitto'; port: number; creds: { username: string; password: string }; witness: { username: string; password: string } }

/**
 * A dynsec client entry: PBKDF2-HMAC-SHA512, 64-byte hash, base64 — the form Mosquitto
 * 2.0's dynamic security plugin stores (`plugins/dynamic-security/auth.c`).
 */
function dynsecClient(username: string, password: string, role: string): object {
  const salt = randomBytes(12);
  const iterations = 101;
  return { username, password: pbkdf2Sync(password, salt, iterations, 64, 'sha512').toString('base64'), salt: salt.toString('base64'), iterations, roles: [{ rolename: role }] };
}

/** The camera device's rules of `acl.ts` as a dynsec role (deny entries take priority). */
function dynsecConfig(witnessPassword: string): object {
  const base = `vigil/camera/${CAM}`;
  return {
    defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
    clients: [dynsecClient(CAM, PASSWORD_FOR_MOSQUITTO, 'camera-cam1'), dynsecClient('witness', witnessPassword, 'everything')],
    groups: [],
    roles: [
      { rolename: 'camera-cam1', acls: [
        { acltype: 'publishClientSend', topic: `${base}/config`, priority: 10, allow: false },
        { acltype: 'publishClientSend', topic: `${base}/+/set`, priority: 10, allow: false },
        { acltype: 'publishClientSend', topic: `${base}/#`, priority: 0, allow: true },
        { acltype: 'subscribePattern', topic: `${base}/#`, priority: 0, allow: true },
      ] },
      { rolename: 'everything', acls: [
        { acltype: 'publishClientSend', topic: '#', allow: true },
        { acltype: 'subscribePattern', topic: '#', allow: true },
      ] },
    ],
  };
}

const bothBrokers: Target[] = [];
let h: TestHub;
let mosq: MosquittoBroker;
let dynsecDir: string;

beforeAll(async () => {
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, mqtt: { max_packet_size: MAX } });
  const dev = await api(h.baseUrl, 'POST', '/api/devices', { id: CAM, kind: 'camera' });
  expect(dev.status, JSON.stringify(dev.body)).toBe(201);
  dynsecDir = mkdtempSync(join(tmpdir(), 'vigil-dynsec-'));
  const witnessPassword = randomBytes(9).toString('base64url');
  writeFileSync(join(dynsecDir, 'dynamic-security.json'), JSON.stringify(dynsecConfig(witnessPassword)));
  // Mosquitto started as root runs as user `mosquitto`: the plugin must be able to read the file.
  chmodSync(dynsecDir, 0o755);
  mosq = await startMosquitto({ config: [
    'plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
    `plugin_opt_config_file ${join(dynsecDir, 'dynamic-security.json')}`,
    `max_packet_size ${MAX}`,
  ] });
  bothBrokers.push(
    { name: 'aedes', port: Number(new URL(h.mqttUrl).port), creds: { username: dev.body.username, password: dev.body.password }, witness: h.mqttCreds! },
    { name: 'mosquitto', port: mosq.port, creds: { username: CAM, password: PASSWORD_FOR_MOSQUITTO }, witness: { username: 'witness', password: witnessPassword } },
  );
}, 30_000);

afterAll(async () => {
  await h?.stop();
  await mosq?.stop();
  if (dynsecDir) rmSync(dynsecDir, { recursive: true, force: true });
});

/** Runs `scenario` on both brokers and returns each one's transcript. */
async function onBoth(scenario: (t: Target) => Promise<string[]>): Promise<Record<Target['name'], string[]>> {
  const out = {} as Record<Target['name'], string[]>;
  for (const t of bothBrokers) out[t.name] = await scenario(t);
  return out;
}

/** A logged-in device connection. */
async function device(t: Target, clientId = `conf-${Math.random().toString(16).slice(2, 8)}`): Promise<RawMqtt> {
  const c = await RawMqtt.open(t.port);
  const ack = await c.connect({ clientId, username: t.creds.username, password: t.creds.password });
  expect(describeAnswer(ack), `${t.name} CONNACK`).toBe('connack:0');
  return c;
}

/** A witness subscribed to everything under `vigil/camera/` (QoS 1): what really got through. */
async function witness(t: Target): Promise<RawMqtt> {
  const w = await RawMqtt.open(t.port);
  expect(describeAnswer(await w.connect({ username: t.witness.username, password: t.witness.password }))).toBe('connack:0');
  w.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `vigil/camera/${CAM}/#`, qos: 1 }] });
  expect(describeAnswer(await w.next())).toBe('suback:1');
  return w;
}

const names = (as: Answer[]) => as.map(describeAnswer);

describe('CONNECT with a zero-length client id (MQTT 3.1.1 §3.1.3.1)', () => {
  it('clean session 0: CONNACK 0x02 (identifier rejected) and the connection closed', async () => {
    const got = await onBoth(async (t) => {
      const c = await RawMqtt.open(t.port);
      c.sendRaw(rawConnect({ clientId: '', clean: false, username: t.creds.username, password: t.creds.password }));
      return names(await c.drain(1000));
    });
    expect(got.mosquitto).toEqual(['connack:2', 'closed']);
    expect(got.aedes).toEqual(got.mosquitto);
  });

  it('clean session 0, even with wrong credentials: 0x02 comes first', async () => {
    const got = await onBoth(async (t) => {
      const c = await RawMqtt.open(t.port);
      c.sendRaw(rawConnect({ clientId: '', clean: false, username: t.creds.username, password: 'wrong' }));
      return names(await c.drain(1000));
    });
    expect(got.mosquitto).toEqual(['connack:2', 'closed']);
    expect(got.aedes).toEqual(got.mosquitto);
  });

  it('clean session 1: accepted with a generated id, the connection lives', async () => {
    const got = await onBoth(async (t) => {
      const c = await RawMqtt.open(t.port);
      c.sendRaw(rawConnect({ clientId: '', clean: true, username: t.creds.username, password: t.creds.password }));
      const out = [describeAnswer(await c.next()), (await c.ping()) ? 'alive' : 'dead'];
      c.destroy();
      return out;
    });
    expect(got.mosquitto).toEqual(['connack:0', 'alive']);
    expect(got.aedes).toEqual(got.mosquitto);
  });

  it('MQTT 3.1 (MQIsdp) needs a client id: CONNACK 0x02', async () => {
    const got = await onBoth(async (t) => {
      const c = await RawMqtt.open(t.port, 3);
      c.sendRaw(rawConnect({ clientId: '', clean: true, protocolVersion: 3, username: t.creds.username, password: t.creds.password }));
      return names(await c.drain(1000));
    });
    expect(got.mosquitto).toEqual(['connack:2', 'closed']);
    expect(got.aedes).toEqual(got.mosquitto);
  });

  it('the hub logs the rejection once per address and user, not per attempt', async () => {
    const port = bothBrokers[0]!.port;
    for (let i = 0; i < 5; i++) {
      const c = await RawMqtt.open(port);
      c.sendRaw(rawConnect({ clientId: '', clean: false, username: 'id-flooder', password: 'x' }));
      expect(names(await c.drain(1000))).toEqual(['connack:2', 'closed']);
    }
    const lines = logLines().filter((l) => l.msg === 'mqtt client id rejected: zero-length (clean session 0, or MQTT 3.1)' && l.username === 'id-flooder');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(40);
  });
});

describe('PUBLISH the ACL refuses: acknowledged and dropped, the connection kept', () => {
  it('QoS 1 → PUBACK; QoS 2 → PUBREC, PUBREL → PUBCOMP; QoS 0 → nothing; then PINGRESP — and nothing reaches a subscriber', async () => {
    const delivered: Record<string, string[]> = {};
    const got = await onBoth(async (t) => {
      const w = await witness(t);
      const c = await device(t);
      const out: string[] = [];
      c.send({ cmd: 'publish', topic: `vigil/camera/${CAM}/config`, payload: '{"forged":true}', qos: 1, messageId: 11, retain: true });
      out.push(describeAnswer(await c.next()));
      c.send({ cmd: 'publish', topic: `vigil/camera/${CAM}/detect/set`, payload: 'OFF', qos: 2, messageId: 12 });
      out.push(describeAnswer(await c.next()));
      c.send({ cmd: 'pubrel', messageId: 12 });
      out.push(describeAnswer(await c.next()));
      c.send({ cmd: 'publish', topic: 'vigil/camera/other/state', payload: '{}', qos: 0 });
      c.send({ cmd: 'publish', topic: 'vigil/events', payload: '{}', qos: 1, messageId: 13 });
      out.push(describeAnswer(await c.next()));
      out.push((await c.ping()) ? 'alive' : 'dead');
      // An allowed publish still goes through on the same connection.
      c.send({ cmd: 'publish', topic: `vigil/camera/${CAM}/state`, payload: '{"ok":1}', qos: 1, messageId: 14 });
      out.push(describeAnswer(await c.next()));
      delivered[t.name] = (await w.drain(500)).filter((a) => a !== 'closed' && a !== 'timeout' && a.cmd === 'publish').map(describeAnswer);
      // A retained refused publish left nothing retained behind.
      const late = await RawMqtt.open(t.port);
      await late.connect({ username: t.witness.username, password: t.witness.password });
      late.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `vigil/camera/${CAM}/config`, qos: 1 }] });
      out.push(...names(await late.drain(500)));
      for (const x of [c, w, late]) x.destroy();
      return out;
    });
    expect(got.mosquitto).toEqual(['puback:11', 'pubrec:12', 'pubcomp:12', 'puback:13', 'alive', 'puback:14', 'suback:1']);
    expect(got.aedes).toEqual(got.mosquitto);
    expect(delivered).toEqual({ aedes: [`publish:vigil/camera/${CAM}/state`], mosquitto: [`publish:vigil/camera/${CAM}/state`] });
  });

  it('the hub logs a flood of refused publishes once (warn, client id, topic)', async () => {
    const t = bothBrokers[0]!;
    const c = await device(t, 'publish-flooder');
    for (let i = 0; i < 200; i++) c.send({ cmd: 'publish', topic: `vigil/camera/${CAM}/config`, payload: String(i), qos: 1, messageId: 100 + i });
    let acks = 0;
    for (let a = await c.next(); a !== 'timeout' && a !== 'closed'; a = await c.next(1000)) if (a.cmd === 'puback') acks++;
    expect(acks).toBe(200);
    expect(await c.ping()).toBe(true);
    c.destroy();
    const lines = logLines().filter((l) => l.msg === 'mqtt publish refused' && l.clientId === 'publish-flooder');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, topic: `vigil/camera/${CAM}/config`, reason: 'publish' });
  });
});

describe('SUBSCRIBE the ACL refuses', () => {
  it('0x80 for each refused filter, the others of the same SUBSCRIBE granted', async () => {
    const got = await onBoth(async (t) => {
      const c = await device(t);
      c.send({ cmd: 'subscribe', messageId: 21, subscriptions: [
        { topic: `vigil/camera/${CAM}/#`, qos: 1 },
        { topic: 'vigil/camera/other/#', qos: 1 },
        { topic: `vigil/camera/${CAM}/state`, qos: 2 },
        { topic: '#', qos: 0 },
      ] });
      const out = [describeAnswer(await c.next()), (await c.ping()) ? 'alive' : 'dead'];
      c.destroy();
      return out;
    });
    expect(got.mosquitto).toEqual(['suback:1,128,2,128', 'alive']);
    expect(got.aedes).toEqual(got.mosquitto);
  });
});

describe('delivery order', () => {
  // aedes 1.2.0 alone drops a retained message a later one overtook (hub/broker/emit-order.ts).
  it('retained QoS 0 messages between plain ones all reach a live subscriber', async () => {
    const got: Record<string, string[]> = {};
    for (const t of bothBrokers) {
      const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.port}`, { ...t.witness, protocolVersion: 4, reconnectPeriod: 0 });
      const seen: string[] = [];
      sub.on('message', (topic, payload) => seen.push(`${topic}=${payload.toString()}`));
      await sub.subscribeAsync(`vigil/camera/${CAM}/#`, { qos: 1 });
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.port}`, { ...t.creds, protocolVersion: 4, reconnectPeriod: 0 });
      for (let i = 0; i < 50; i++) {
        pub.publish(`vigil/camera/${CAM}/state`, `r${i}`, { qos: 0, retain: true });
        pub.publish(`vigil/camera/${CAM}/frame`, `f${i}`, { qos: 0 });
      }
      for (let i = 0; i < 100 && seen.length < 100; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      got[t.name] = seen;
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    }
    // Order is kept per topic (§4.6); between topics a retained message may come after a later plain one.
    const perTopic = (ms: string[], topic: string) => ms.filter((m) => m.startsWith(`vigil/camera/${CAM}/${topic}=`));
    for (const name of ['mosquitto', 'aedes'] as const) {
      expect(perTopic(got[name]!, 'state'), name).toEqual(Array.from({ length: 50 }, (_, i) => `vigil/camera/${CAM}/state=r${i}`));
      expect(perTopic(got[name]!, 'frame'), name).toEqual(Array.from({ length: 50 }, (_, i) => `vigil/camera/${CAM}/frame=f${i}`));
      expect(got[name], name).toHaveLength(100);
    }
  });
});

describe('max_packet_size', () => {
  /** A QoS 0 PUBLISH to an allowed topic whose whole packet is `size` bytes. */
  function publishOfSize(size: number): Buffer {
    const topic = `vigil/camera/${CAM}/snapshot`;
    const head = 2 + topic.length;
    // remaining = size - 1 - len(remaining length field); the field is 3 bytes around 64 KiB.
    const remaining = size - 1 - remainingLength(size).length;
    const body = Buffer.alloc(remaining);
    body.writeUInt16BE(topic.length, 0);
    body.write(topic, 2);
    body.fill(0x61, head);
    const pkt = Buffer.concat([Buffer.from([0x30]), remainingLength(remaining), body]);
    expect(pkt.length).toBe(size);
    return pkt;
  }

  it('a packet under the limit passes; one over it closes the connection (no answer), others unaffected', async () => {
    const got = await onBoth(async (t) => {
      const bystander = await device(t);
      const c = await device(t);
      c.sendRaw(publishOfSize(MAX - 100));
      const out = [(await c.ping()) ? 'under: alive' : 'under: dead'];
      c.sendRaw(publishOfSize(MAX + 100));
      out.push(...names(await c.drain(2000)));
      out.push((await bystander.ping()) ? 'bystander alive' : 'bystander dead');
      bystander.destroy();
      return out;
    });
    expect(got.mosquitto).toEqual(['under: alive', 'closed', 'bystander alive']);
    expect(got.aedes).toEqual(got.mosquitto);
  });

  it('refused from the header alone, before the body arrives (no buffering up to the announced size)', async () => {
    const got = await onBoth(async (t) => {
      const c = await device(t);
      // A PUBLISH announcing 200 MB, and nothing more.
      c.sendRaw(Buffer.concat([Buffer.from([0x30]), remainingLength(200_000_000)]));
      return names(await c.drain(2000));
    });
    expect(got.mosquitto).toEqual(['closed']);
    expect(got.aedes).toEqual(got.mosquitto);
  });

  it('an oversize CONNECT is refused without a CONNACK', async () => {
    const got = await onBoth(async (t) => {
      const c = await RawMqtt.open(t.port);
      // Credentials are at most 65 535 bytes each: a long user name and password together.
      c.sendRaw(rawConnect({ clientId: 'big-connect', clean: true, username: 'u'.repeat(40_000), password: 'x'.repeat(40_000) }));
      return names(await c.drain(2000));
    });
    expect(got.mosquitto).toEqual(['closed']);
    expect(got.aedes).toEqual(got.mosquitto);
  });

  it('over WebSocket (embedded broker): a message over the limit closes the connection, one under it passes', async () => {
    const t = bothBrokers[0]!;
    const open = async (): Promise<{ ws: WebSocket; closed: Promise<number>; packets: string[] }> => {
      const ws = new WebSocket(`ws://127.0.0.1:${new URL(h.baseUrl).port}/mqtt`, 'mqtt');
      const packets: string[] = [];
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => packets.push(p.cmd));
      ws.on('message', (d: Buffer) => parser.parse(d));
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      ws.send(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'ws-big', clean: true, keepalive: 60, username: t.creds.username, password: Buffer.from(t.creds.password) }));
      for (let i = 0; i < 100 && packets.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(packets).toEqual(['connack']);
      return { ws, closed, packets };
    };
    const small = await open();
    small.ws.send(mqttPacket.generate({ cmd: 'publish', topic: `vigil/camera/${CAM}/snapshot`, payload: Buffer.alloc(MAX - 200), qos: 1, messageId: 1, dup: false, retain: false }));
    for (let i = 0; i < 100 && small.packets.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(small.packets).toEqual(['connack', 'puback']);
    small.ws.close();
    const big = await open();
    big.ws.send(mqttPacket.generate({ cmd: 'publish', topic: `vigil/camera/${CAM}/snapshot`, payload: Buffer.alloc(MAX + 200), qos: 1, messageId: 2, dup: false, retain: false }));
    expect(await big.closed).toBe(1009); // ws: message too big
    expect(big.packets).toEqual(['connack']);
    expect(logLines().filter((l) => l.msg === 'mqtt packet too large: connection closed' && l.clientId === 'ws-big')).toHaveLength(1);
  });

  it('the hub logs one warning with the client id and the size', async () => {
    const t = bothBrokers[0]!;
    for (let i = 0; i < 3; i++) {
      const c = await device(t, 'too-big');
      c.sendRaw(publishOfSize(MAX + 1000 + i));
      expect(names(await c.drain(2000))).toEqual(['closed']);
    }
    const lines = logLines().filter((l) => l.msg === 'mqtt packet too large: connection closed' && l.clientId === 'too-big');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, size: MAX + 1000, max: MAX });
    expect(logLines().filter((l) => String(l.err ?? '').includes('exceeds max_packet_size'))).toEqual([]);
    expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
  });
});

interface LogLine { level: number; msg: string; clientId?: string; username?: string; [k: string]: unknown }
function logLines(): LogLine[] {
  return h.logs().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
}
