/**
 * The embedded broker's fast paths (issue #15, throughput) change no answer:
 * - remembered ACL decisions (`hub/broker/acl-cache.ts`) give exactly `Acl`'s answers for
 *   every principal kind, topic and payload, and follow a change of the discovery prefix;
 *   the principals whose deliveries are remembered per topic really are answered from the
 *   topic alone;
 * - remembered subscription matches (`match-cache.ts`) follow subscribes and unsubscribes;
 * - batched socket writes (`write-batching.ts`) keep order, carry large payloads through
 *   back-pressure, and still send a refusing CONNACK before the socket closes.
 * Real aedes on a random port, real mqtt.js clients.
 */
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics } from '../components/protocol/topics.ts';
import { Acl } from '../hub/broker/acl.ts';
import { AclDecisions, receiveIsTopicOnly } from '../hub/broker/acl-cache.ts';
import { EmbeddedBroker } from '../hub/broker/broker.ts';
import { BrokerPolicy, INTERNAL_USER } from '../hub/broker/policy.ts';
import type { DeviceKind, Principal, Role } from '../hub/auth/principal.ts';

const user = (role: Role, cameras: string[] | null = null): Principal => ({ kind: 'user', id: `u-${role}-${cameras?.join() ?? 'all'}`, name: role, role, cameras });
const apikey = (role: Role, cameras: string[] | null = null): Principal => ({ kind: 'apikey', id: `k-${role}`, name: `key-${role}`, role, cameras });
const device = (deviceKind: DeviceKind, id: string, displays?: string[]): Principal => ({ kind: 'device', id, name: id, role: null, cameras: null, deviceKind, ...(displays ? { displays } : {}) });
const principals: Principal[] = [
  { kind: 'internal', id: 'internal', name: 'internal', role: 'admin', cameras: null },
  { kind: 'anonymous', id: 'anonymous', name: 'anonymous', role: null, cameras: [] },
  device('component', 'c1'), device('ha', 'ha'), device('kiosk', 'k1', ['lobby']), device('head', 'h1'), device('camera', 'front'),
  user('admin'), user('admin', ['front']), user('operator'), user('operator', ['front', 'head_h1']), user('viewer'), user('viewer', ['front']),
  apikey('admin'), apikey('viewer', ['back']),
];

/** Topics of every area, for cameras in and out of the limited principals' grants. */
function topicsOf(t: Topics): string[] {
  const out: string[] = [];
  for (const cam of ['front', 'back']) {
    out.push(t.cameraConfig(cam), t.cameraState(cam), t.cameraFrame(cam), t.cameraMotion(cam), t.cameraFeatureSet(cam, 'detect'), t.cameraPtz(cam),
      t.cameraRelaySet(cam, 'r1'), t.cameraLive(cam, 'jpeg'), t.recorderSegment(cam), t.onvifEvent(cam), t.faceUnknown(cam, 'f1'), t.cameraCount(cam, 'person'));
  }
  out.push(t.events(), t.eventImage('e1', 'snapshot'), t.trackedObjectUpdate(), t.zoneCount('porch', 'person'), t.zoneCount('yard', 'car'),
    t.componentState('detector'), t.componentAvailability('camera'), t.recorderExport('x1'), t.hubAvailability(), t.hubStats(), t.eventTrigger(),
    t.displayLayoutSet('lobby'), t.displayLayoutState('lobby'), t.kioskState('k1'), t.headState('h1', 'light.level'), t.headStateSet('h1', 'light.level'),
    t.bridgeRequest('camera/add'), t.bridgeResponse('camera/add'), t.bridgeResponse('health'), t.bridgeState(), t.bridgeInfo(),
    t.faceLibrary('ann', 'i1'), t.haDiscovery('sensor', 'vigil', 'x'), t.haStatus(), `${t.prefix}/bench/x`, 'other/thing', '$SYS/x');
  return out;
}

/** Payloads that sway payload-reading decisions: an event's camera, a bridge answer's status, garbage. */
const payloads = [
  Buffer.from(JSON.stringify({ type: 'new', after: { camera: 'front' } })),
  Buffer.from(JSON.stringify({ type: 'new', after: { camera: 'back' } })),
  Buffer.from(JSON.stringify({ camera: 'back', status: 'ok', data: { camera: 'back' } })),
  Buffer.from(JSON.stringify({ status: 'error', data: { topic: 'vigil/camera/back/detect/set' } })),
  Buffer.from('not json'),
  Buffer.alloc(0),
];
const zones = (z: string): string[] => (z === 'porch' ? ['front'] : z === 'yard' ? ['back'] : []);

describe('remembered ACL decisions', () => {
  it('answer as the Acl for every principal, topic and payload, asked twice', () => {
    const t = new Topics();
    const acl = new Acl(t);
    const d = new AclDecisions(acl, t);
    const wrong: string[] = [];
    for (let pass = 0; pass < 2; pass++) {
      for (const p of principals) {
        for (const topic of topicsOf(t)) {
          if (d.canPublish(p, topic) !== acl.canPublish(p, topic)) wrong.push(`publish ${p.name} ${topic}`);
          if (d.isBridgeRequest(topic) !== acl.isBridgeRequest(topic)) wrong.push(`bridge ${topic}`);
          for (const payload of payloads) {
            if (d.canReceive(p, topic, payload, zones) !== acl.canReceive(p, topic, payload, zones)) wrong.push(`receive ${p.name} ${topic} ${payload.toString().slice(0, 30)}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('remember deliveries only for principals answered from the topic alone', () => {
    const t = new Topics();
    const acl = new Acl(t);
    const topicOnly = principals.filter(receiveIsTopicOnly);
    expect(topicOnly.map((p) => p.kind).sort()).toEqual(['anonymous', 'device', 'device', 'device', 'device', 'device', 'internal']);
    // For them, no payload and no zone table changes Acl.canReceive's answer: remembering it per topic is exact.
    const varying: string[] = [];
    for (const p of topicOnly) {
      for (const topic of topicsOf(t)) {
        const answers = new Set(payloads.flatMap((payload) => [acl.canReceive(p, topic, payload, zones), acl.canReceive(p, topic, payload, () => ['front', 'back'])]));
        if (answers.size > 1) varying.push(`${p.name} ${topic}`);
      }
    }
    expect(varying).toEqual([]);
    // Users and keys are asked every time: an event's camera decides for one limited to a camera.
    const vera = user('viewer', ['front']);
    expect(receiveIsTopicOnly(vera)).toBe(false);
    const d = new AclDecisions(acl, t);
    expect(d.canReceive(vera, t.events(), payloads[0]!, zones)).toBe(true);
    expect(d.canReceive(vera, t.events(), payloads[1]!, zones)).toBe(false);
  });

  it('forget everything when the discovery prefix changes', () => {
    const t = new Topics();
    const acl = new Acl(t);
    const d = new AclDecisions(acl, t);
    const component = device('component', 'c1');
    expect(d.canPublish(component, 'hass/sensor/x/config')).toBe(true); // not discovery yet
    expect(d.canPublish(component, 'homeassistant/sensor/x/config')).toBe(false);
    t.setDiscoveryPrefix('hass');
    expect(d.canPublish(component, 'hass/sensor/x/config')).toBe(false);
    expect(d.canPublish(component, 'homeassistant/sensor/x/config')).toBe(true);
    expect(d.canReceive(device('kiosk', 'k1', ['lobby']), 'hass/sensor/x/config', Buffer.alloc(0), zones)).toBe(false);
  });

  it('hold at most maxTopics topics per principal and still answer right beyond', () => {
    const t = new Topics();
    const acl = new Acl(t);
    const d = new AclDecisions(acl, t, 8);
    const viewer = user('viewer');
    const answers = Array.from({ length: 50 }, (_, i) => d.canPublish(viewer, i % 2 ? `vigil/bridge/request/x${i}` : `vigil/camera/c${i}/detect/set`));
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => i % 2 === 1));
  });
});

describe('the embedded broker with its fast paths', () => {
  let broker: EmbeddedBroker;
  let policy: BrokerPolicy;
  let url: string;
  const clients: MqttClient[] = [];
  const connect = async (): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(url, { protocolVersion: 4, username: INTERNAL_USER, password: policy.internalSecret, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    // Credentials answered a few event-loop turns later, as a database lookup is: aedes then
    // destroys the socket after the refusing CONNACK was written, not in the same turn.
    policy = new (class extends BrokerPolicy {
      override async authenticate(...args: Parameters<BrokerPolicy['authenticate']>): ReturnType<BrokerPolicy['authenticate']> {
        await new Promise((r) => setTimeout(r, 20));
        return super.authenticate(...args);
      }
    })({ topics: new Topics(), allowAnonymous: false, logger: pino({ level: 'silent' }) });
    broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, policy, logger: pino({ level: 'silent' }) });
    await broker.start();
    url = `mqtt://127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.stop();
  });

  it('delivers a burst once each and in order per QoS (MQTT orders messages of one QoS, §4.6)', async () => {
    const sub = await connect();
    const pub = await connect();
    const got: number[] = [];
    sub.on('message', (_t, p) => got.push(p.readUInt32BE(0)));
    await sub.subscribeAsync('vigil/fast/#', { qos: 1 });
    const n = 3000;
    for (let i = 0; i < n; i++) pub.publish(`vigil/fast/${i % 3}`, Buffer.from([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]), { qos: i % 2 ? 1 : 0 });
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(n);
    const all = Array.from({ length: n }, (_, i) => i);
    expect(got.filter((i) => i % 2 === 0)).toEqual(all.filter((i) => i % 2 === 0)); // QoS 0
    expect(got.filter((i) => i % 2 === 1)).toEqual(all.filter((i) => i % 2 === 1)); // QoS 1
  });

  it('follows subscribes and unsubscribes on a topic already routed', async () => {
    const pub = await connect();
    const a = await connect();
    const b = await connect();
    const gotA: string[] = [];
    const gotB: string[] = [];
    a.on('message', (_t, p) => gotA.push(p.toString()));
    b.on('message', (_t, p) => gotB.push(p.toString()));
    await a.subscribeAsync('vigil/route/x', { qos: 1 });
    await pub.publishAsync('vigil/route/x', '1', { qos: 1 });
    await expect.poll(() => gotA).toEqual(['1']);
    await b.subscribeAsync('vigil/route/+', { qos: 1 }); // a new match for a topic whose matches were remembered
    await pub.publishAsync('vigil/route/x', '2', { qos: 1 });
    await expect.poll(() => gotB).toEqual(['2']);
    await expect.poll(() => gotA).toEqual(['1', '2']);
    await a.unsubscribeAsync('vigil/route/x');
    await new Promise((r) => setTimeout(r, 50)); // aedes removes the route on the next turn
    await pub.publishAsync('vigil/route/x', '3', { qos: 1 });
    await expect.poll(() => gotB).toEqual(['2', '3']);
    expect(gotA).toEqual(['1', '2']); // nothing after its unsubscribe
  });

  it('carries payloads larger than the socket buffer through back-pressure', async () => {
    const sub = await connect();
    const pub = await connect();
    const got: Buffer[] = [];
    sub.on('message', (_t, p) => got.push(p));
    await sub.subscribeAsync('vigil/big', { qos: 0 });
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 253;
    for (let k = 0; k < 4; k++) pub.publish('vigil/big', big, { qos: 0 });
    await expect.poll(() => got.length, { timeout: 20_000 }).toBe(4);
    for (const g of got) expect(g.equals(big)).toBe(true);
  });

  it('still sends the refusing CONNACK before closing the socket', async () => {
    let timer: NodeJS.Timeout | undefined;
    const err = await Promise.race([
      mqtt.connectAsync(url, { protocolVersion: 4, username: INTERNAL_USER, password: 'wrong', reconnectPeriod: 0, connectTimeout: 3000 })
        .then((c) => { clients.push(c); return null; }, (e: Error & { code?: number }) => e),
      new Promise<Error>((r) => { timer = setTimeout(() => r(new Error('no CONNACK within 5 s')), 5000); }),
    ]).finally(() => clearTimeout(timer));
    expect((err as { code?: number } | null)?.code, String(err)).toBe(4); // bad user name or password, not a timeout or a reset
  });
});
