/**
 * Malformed MQTT on the raw socket (fast-check, fixed seed): after a good CONNECT — and
 * before any — a client sends packets the protocol forbids: reserved packet types, wrong
 * fixed-header flags, QoS 3, a remaining length of five bytes, server-only packets, a
 * second CONNECT, PUBLISH to an empty or wildcard topic, SUBSCRIBE without filters or with
 * QoS 3, random bytes behind a bad header. The broker closes that connection (MQTT 3.1.1
 * §4.8: "the receiver MUST close the Network Connection") and nothing else: a bystander
 * connection still answers PINGREQ, the hub still answers `/api/health`, and once the
 * fuzzed connections are gone the broker holds no more clients than before. Truncated
 * packets (a header announcing more than ever comes) end with the keep-alive
 * (1.5 × keep-alive, §3.1.2.10), and a client that hangs up mid-packet leaves nothing
 * behind.
 *
 * The fixed cases also run against Mosquitto 2, which closes the connection for each but
 * two (a PINGREQ with flags set, a PINGRESP from a client: Mosquitto 2.0.11 ignores the
 * flags and takes the PINGRESP); the embedded broker closes for those too, as §2.2.2 and
 * §4.8 say.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { FUZZ_SCALE, FUZZ_SEED, fuzzParams } from './helpers/fuzz.ts';
import { RawMqtt, describeAnswer, rawConnect, remainingLength } from './helpers/raw-mqtt.ts';

let h: TestHub;
let port: number;
let bystander: RawMqtt;
let mosq: MosquittoBroker;

const packet = (first: number, body: Uint8Array | number[]): Buffer => Buffer.concat([Buffer.from([first]), remainingLength(body.length), Buffer.from(body)]);
const str = (s: string): Buffer => { const b = Buffer.from(s); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]); };
/** A length-prefixed string of raw bytes (ill-formed UTF-8 on purpose). */
const rawStr = (bytes: number[]): number[] => [bytes.length >> 8, bytes.length & 0xff, ...bytes];

/** Named malformed packets: every one must close the connection, on both brokers. */
const FIXED: Record<string, Buffer> = {
  'reserved type 0': packet(0x00, []),
  'reserved type 15': packet(0xf0, [1, 2, 3]),
  'SUBSCRIBE with flags 0': packet(0x80, [0, 1, ...str('a/b'), 0]),
  'UNSUBSCRIBE with flags 0': packet(0xa0, [0, 1, ...str('a/b')]),
  'PUBREL with flags 0': packet(0x60, [0, 1]),
  'PINGREQ with flags': packet(0xc1, []),
  'PUBLISH with QoS 3': packet(0x36, [...str('vigil/x'), 0, 1, 0x61]),
  'remaining length of five bytes': Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0]),
  'CONNACK from a client': packet(0x20, [0, 0]),
  'PINGRESP from a client': packet(0xd0, []),
  'a second CONNECT': rawConnect({ clientId: 'again', clean: true }),
  'PUBLISH to an empty topic': packet(0x30, [...str(''), 0x61]),
  'PUBLISH to a wildcard topic': packet(0x30, [...str('vigil/#'), 0x61]),
  'SUBSCRIBE without filters': packet(0x82, [0, 1]),
  'SUBSCRIBE with QoS 3': packet(0x82, [0, 1, ...str('vigil/x'), 3]),
  // §1.5.3: ill-formed UTF-8 and U+0000 (aedes lets these through; parser-checks.ts closes).
  'PUBLISH topic with U+0000': packet(0x30, [...rawStr([0x61, 0x00, 0x62]), 0x61]),
  'PUBLISH topic with ill-formed UTF-8': packet(0x30, [...rawStr([0x61, 0xc3, 0x28]), 0x61]),
  'PUBLISH topic with a surrogate': packet(0x30, [...rawStr([0x61, 0xed, 0xa0, 0x80]), 0x61]),
  'SUBSCRIBE filter with U+0000': packet(0x82, [0, 1, ...rawStr([0x61, 0x00]), 0]),
  'SUBSCRIBE filter with ill-formed UTF-8': packet(0x82, [0, 1, ...rawStr([0x61, 0xff]), 0]),
  'UNSUBSCRIBE filter with U+0000': packet(0xa2, [0, 1, ...rawStr([0x61, 0x00])]),
  // §2.3.1: packet identifiers are non-zero.
  'PUBLISH QoS 1 with packet identifier 0': packet(0x32, [...str('vigil/x'), 0, 0, 0x61]),
  'SUBSCRIBE with packet identifier 0': packet(0x82, [0, 0, ...str('vigil/x'), 0]),
};

/** Cases Mosquitto 2.0.11 lets through (it answers or ignores them), where the embedded broker closes as MQTT 3.1.1 says. */
const MOSQUITTO_TOLERATES = new Set(['PINGREQ with flags', 'PINGRESP from a client']);

/** Malformed packets, generated: each one breaks a rule the parser or the broker enforces. */
const malformed: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(...Object.values(FIXED)),
  // Reserved packet types 0 and 15, any flags and body.
  fc.tuple(fc.constantFrom(0x00, 0xf0), fc.nat({ max: 15 }), fc.uint8Array({ maxLength: 64 })).map(([t, f, b]) => packet(t | f, b)),
  // Fixed-header flags other than the required ones (§2.2.2): SUBSCRIBE, UNSUBSCRIBE, PUBREL (2); PINGREQ, DISCONNECT, PUBACK, PUBREC, PUBCOMP (0).
  fc.tuple(fc.constantFrom([0x80, 2], [0xa0, 2], [0x60, 2], [0xc0, 0], [0xe0, 0], [0x40, 0], [0x50, 0], [0x70, 0]), fc.nat({ max: 15 }), fc.uint8Array({ maxLength: 16 }))
    .filter(([[, need], f]) => f !== need).map(([[t], f, b]) => packet(t! | f, b)),
  // PUBLISH with both QoS bits set.
  fc.tuple(fc.nat({ max: 1 }), fc.nat({ max: 1 }), fc.uint8Array({ minLength: 3, maxLength: 64 })).map(([dup, retain, b]) => packet(0x36 | (dup << 3) | retain, b)),
  // A remaining length longer than four bytes, then anything.
  fc.tuple(fc.constantFrom(0x30, 0x82, 0xc0), fc.uint8Array({ maxLength: 16 })).map(([t, b]) => Buffer.concat([Buffer.from([t, 0x80, 0x80, 0x80, 0x80, 0x01]), Buffer.from(b)])),
  // Packets only a server sends.
  fc.tuple(fc.constantFrom(0x20, 0x90, 0xb0, 0xd0), fc.uint8Array({ maxLength: 8 })).map(([t, b]) => packet(t, t === 0x20 ? [0, b[0] ?? 0] : t === 0xd0 ? [] : [0, 1, ...b])),
  // PUBLISH to a topic with wildcards or NUL (valid framing, forbidden topic).
  fc.tuple(fc.constantFrom('#', '+', 'vigil/+/x', 'vigil/#', 'a/\u0000/b', ''), fc.uint8Array({ maxLength: 32 })).map(([t, b]) => packet(0x30, [...str(t), ...b])),
  // SUBSCRIBE with a QoS above 2 or reserved bits set, or an empty filter.
  fc.tuple(fc.integer({ min: 3, max: 255 }), fc.constantFrom('vigil/x', '')).map(([q, f]) => packet(0x82, [0, 1, ...str(f), q])),
  // Topics and filters with U+0000, a lone continuation byte, or an overlong encoding.
  fc.tuple(fc.constantFrom([0x00], [0x80], [0xc0, 0xaf], [0xed, 0xbf, 0xbf], [0xf8, 0x88, 0x80, 0x80, 0x80]), fc.constantFrom(0x30, 0x82, 0xa2), fc.uint8Array({ maxLength: 8 }))
    .map(([bad, t, pre]) => { const name = rawStr([0x76, ...pre.map((b) => 0x61 + (b % 26)), ...bad]); return packet(t, t === 0x30 ? [...name, 0x61] : t === 0x82 ? [0, 7, ...name, 0] : [0, 7, ...name]); }),
  // A whole packet of random bytes, then random bytes (read as a next packet) behind a reserved header.
  fc.tuple(fc.uint8Array({ maxLength: 256 }), fc.uint8Array({ maxLength: 64 })).map(([a, b]) => Buffer.concat([packet(0x00, a), Buffer.from(b)])),
);

beforeAll(async () => {
  h = await startTestHub({ camera: { enabled: false }, detector: { enabled: false } });
  port = Number(new URL(h.mqttUrl).port);
  bystander = await connected(60);
  mosq = await startMosquitto();
}, 30_000);

afterAll(async () => {
  bystander?.destroy();
  await h?.stop();
  await mosq?.stop();
});

/** A logged-in raw connection to the hub's broker. */
async function connected(keepalive: number, to = port, creds = h.mqttCreds): Promise<RawMqtt> {
  const c = await RawMqtt.open(to);
  const ack = await c.connect({ keepalive, username: creds?.username, password: creds?.password });
  expect(describeAnswer(ack)).toBe('connack:0');
  return c;
}

/** Waits until the broker closes `c`; what came before (`closed` last), or `timeout`. */
async function closedWithin(c: RawMqtt, ms: number): Promise<string[]> {
  const got: string[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const a = await c.next(end - Date.now());
    got.push(describeAnswer(a));
    if (a === 'closed' || a === 'timeout') break;
  }
  return got;
}

async function brokerClients(): Promise<number> {
  const sys = (await api(h.baseUrl, 'GET', '/api/system')).body as { mqtt?: { clients?: number } };
  return sys.mqtt?.clients ?? -1;
}

describe('malformed MQTT packets on the raw socket', () => {
  it('each fixed case closes the connection, on the embedded broker and on Mosquitto', async () => {
    const outcome = async (to: number, creds: typeof h.mqttCreds, bytes: Buffer): Promise<string> => {
      const c = await connected(60, to, creds);
      c.sendRaw(bytes);
      const got = await closedWithin(c, 2000);
      c.destroy();
      return got[got.length - 1]!;
    };
    const hub: Record<string, string> = {};
    const mosquitto: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(FIXED)) {
      hub[name] = await outcome(port, h.mqttCreds, bytes);
      mosquitto[name] = await outcome(mosq.port, undefined, bytes);
    }
    const allClosed = Object.fromEntries(Object.keys(FIXED).map((n) => [n, 'closed']));
    expect(mosquitto).toEqual(Object.fromEntries(Object.keys(FIXED).map((n) => [n, MOSQUITTO_TOLERATES.has(n) ? 'timeout' : 'closed'])));
    expect(hub).toEqual(allClosed);
  });

  it('generated malformed packets, after CONNECT and instead of it: that connection is closed, the others live on', async () => {
    const baseline = await brokerClients();
    expect(baseline).toBeGreaterThan(0);
    let runs = 0;
    await fc.assert(fc.asyncProperty(malformed, fc.boolean(), fc.nat({ max: 3 }), async (bytes, beforeConnect, split) => {
      const c = beforeConnect ? await RawMqtt.open(port) : await connected(60);
      // Sent whole or in pieces (the parser must not care where the reads split).
      const step = Math.max(1, Math.ceil(bytes.length / (split + 1)));
      for (let i = 0; i < bytes.length; i += step) c.sendRaw(bytes.subarray(i, i + step));
      const got = await closedWithin(c, 2000);
      c.destroy();
      expect(got[got.length - 1], `${bytes.toString('hex')} → ${got.join(' ')}`).toBe('closed');
      expect(await bystander.ping()).toBe(true);
      runs++;
    }), fuzzParams(400, 12_000));
    expect(runs).toBeGreaterThan(20);
    expect((await api(h.baseUrl, 'GET', '/api/health')).status).toBe(200);
    await expect.poll(brokerClients, { timeout: 3000 }).toBe(baseline);
    console.log(`fuzz-packets: ${runs} malformed connections (seed ${FUZZ_SEED})`);
  }, 40_000 * FUZZ_SCALE);

  it('truncated packets end with the keep-alive; a client hanging up mid-packet leaves nothing behind', async () => {
    const baseline = await brokerClients();
    const truncated = fc.tuple(
      fc.constantFrom(0x30, 0x32, 0x82, 0xa2),
      fc.integer({ min: 10, max: 100_000 }),
      fc.uint8Array({ maxLength: 8 }),
    ).map(([t, announced, sent]) => Buffer.concat([Buffer.from([t]), remainingLength(announced), Buffer.from(sent).subarray(0, Math.max(0, Math.min(sent.length, announced - 1)))]));
    await fc.assert(fc.asyncProperty(truncated, async (bytes) => {
      const stalled = await connected(1);
      const hangUp = await connected(60);
      stalled.sendRaw(bytes);
      hangUp.sendRaw(bytes);
      hangUp.destroy();
      const t0 = Date.now();
      // Keep-alive 1 s: closed after 1.5 s without a complete packet.
      expect((await closedWithin(stalled, 4000)).pop()).toBe('closed');
      expect(Date.now() - t0).toBeGreaterThan(1000);
      expect(await bystander.ping()).toBe(true);
    }), fuzzParams(3, 15_000));
    await expect.poll(brokerClients, { timeout: 3000 }).toBe(baseline);
  }, 30_000 * FUZZ_SCALE);
});
