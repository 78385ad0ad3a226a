/**
 * The broker ACL end to end on the hub's embedded aedes broker: the security MQTT test
 * matrix (`test/helpers/mqtt-acl-matrix.ts`: MQTT topics × principals, probed with the
 * real Mosquitto 2.0.11 command-line clients — how they report what the broker did is
 * written there). The same table runs against Mosquitto with its dynamic security plugin
 * driven by the hub in `test/dynsec.test.ts`. The rules under test are the table in
 * `hub/broker/acl.ts`.
 *
 * Then anonymous clients with `mqtt.allow_anonymous` (the embedded broker's alone: from
 * loopback, read-only on display topics).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';
import { connRefused, DENIED, describeAclMatrix, eventMessage, outcome, pub, settle, sleep, sub, topicsAndPayloads, type Creds } from './helpers/mqtt-acl-matrix.ts';

let matrixHub: TestHub | undefined;
describeAclMatrix({
  kind: 'embedded',
  async start() {
    matrixHub = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
    return { h: matrixHub, port: Number(new URL(matrixHub.mqttUrl).port), url: matrixHub.mqttUrl, component: matrixHub.mqttCreds! };
  },
  async stop() {
    await matrixHub?.stop();
  },
  // The embedded broker takes an API key under any username.
  keyUsername: () => 'anything',
});

describe('anonymous clients with mqtt.allow_anonymous (loopback)', () => {
  let h: TestHub;
  let port: number;
  let fx: MqttRecorder;
  /** No credentials at all (anonymous), a wrong password, a username without password. */
  const WHO2 = ['anon', 'wrongPw', 'noPassword'] as const;
  const creds2: Record<(typeof WHO2)[number], Creds> = { anon: {}, wrongPw: { username: 'nobody', password: 'wrong-password' }, noPassword: { username: 'nobody' } };
  const HALL2 = 'vigil/display/hall/layout/state={"layout":"hall"}';

  beforeAll(async () => {
    h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false }, mqtt: { allow_anonymous: true } });
    port = Number(new URL(h.mqttUrl).port);
    fx = await MqttRecorder.connect(h.mqttUrl, ['vigil/#']);
    await fx.client.publishAsync('vigil/display/hall/layout/state', '{"layout":"hall"}', { qos: 1, retain: true });
  });
  afterAll(async () => {
    await fx?.close();
    await h?.stop();
  });

  it('reads vigil/display/… and the hub availability, but not vigil/events (SUBACK 0, 0, 0x80; a live event never arrives)', async () => {
    const runs = WHO2.map((w) => sub(port, creds2[w], ['vigil/display/#', 'vigil/hub/availability', 'vigil/events'], { count: 3, windowS: 1, manualArm: true }));
    await Promise.all(runs.map((r) => r.subscribed));
    await fx.client.publishAsync('vigil/events', eventMessage('front', 'ev-live'), { qos: 1 });
    runs.forEach((r) => r.arm());
    const results = await Promise.all(runs.map((r) => r.done));
    const cells = Object.fromEntries(WHO2.map((w, i) => {
      const r = results[i]!;
      // Only some filters refused: mosquitto_sub says nothing and carries on; show the grants.
      return [w, connRefused(r) ?? { granted: r.granted, code: r.code, received: topicsAndPayloads(r.messages), retained: r.messages.map((m) => m.retain) }];
    }));
    expect(cells).toEqual({
      anon: { granted: [0, 0, 0x80], code: 27, received: [HALL2, 'vigil/hub/availability=online'], retained: [true, true] },
      wrongPw: 'refused:4',
      noPassword: 'refused:4',
    });
  });

  it('cannot subscribe to cameras, the whole prefix, nor #', async () => {
    const filters = ['vigil/camera/#', 'vigil/#', '#'];
    const cells = Object.fromEntries(await Promise.all(WHO2.flatMap((w) => filters.map(async (f) => [`${w} ${f}`, outcome(await sub(port, creds2[w], [f], { count: 1, windowS: 1 }).done, topicsAndPayloads)]))));
    expect(cells).toEqual(Object.fromEntries(WHO2.flatMap((w) => filters.map((f) => [`${w} ${f}`, w === 'anon' ? DENIED : 'refused:4']))));
  });

  it('cannot publish, not even to vigil/display/…', async () => {
    const s = sub(port, creds2.anon, ['vigil/display/#'], { count: 2, windowS: 1, manualArm: true });
    await s.subscribed;
    const from = fx.messages.length;
    const attempts: Array<[string, string, boolean]> = [
      ['vigil/display/hall/layout/set', '{}', false],
      ['vigil/display/hall/layout/state', '{"layout":"forged"}', true],
      ['vigil/events', eventMessage('front', 'ev-forged'), false],
    ];
    // Nothing reaches the witness (checked below): every acknowledged attempt was dropped.
    const cells = Object.fromEntries(await Promise.all(WHO2.flatMap((w) => attempts.map(async ([t, p, r]) => [`${w} ${t}`, settle(await pub(port, creds2[w], t, p, r), false)]))));
    expect(cells).toEqual(Object.fromEntries(WHO2.flatMap((w) => attempts.map(([t]) => [`${w} ${t}`, w === 'anon' ? 'dropped' : 'refused:4']))));
    await sleep(300);
    s.arm();
    // The anonymous reader saw only the retained hall layout, the privileged witness nothing new.
    expect(outcome(await s.done, topicsAndPayloads)).toEqual([HALL2]);
    expect(fx.messages.slice(from).map((m) => `${m.topic}=${m.payload.toString()}`)).toEqual([]);
  });
});
