/**
 * The bus client (`components/protocol/bus.ts`) against a real MQTT broker (aedes on a
 * random port) whose logins can be refused: a refused first connection rejects `connect()`
 * and the client stops; a refused RE-connection (a broker restarted before its credentials
 * are back, as Mosquitto before its dynamic security plugin is loaded) is retried until the
 * broker accepts, and then the retained state and availability are re-sent. The connection
 * errors of a client retrying every second are logged once per kind, then counted.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Bus } from '../components/protocol/bus.ts';
import { createLogger } from '../components/protocol/log.ts';
import { captureLog, type LogLine } from './helpers/log-capture.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let aedes: Aedes;
let server: Server;
let url: string;
/** Logins refused while > 0 (each refusal counts down); `Infinity` refuses all. */
let refuse = 0;
let attempts = 0;
/** Connected clients by id. */
const clients = new Map<string, Client>();

beforeAll(async () => {
  aedes = await Aedes.createBroker({
    authenticate: (_client, _user, _pass, done) => {
      attempts++;
      if (refuse > 0) {
        refuse--;
        const err = Object.assign(new Error('not authorized'), { returnCode: 5 as const });
        done(err, false);
        return;
      }
      done(null, true);
    },
  });
  aedes.on('client', (c) => clients.set(c.id, c));
  server = createServer((s) => aedes.handle(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => aedes.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});


it('a refused first connection rejects connect() and is not retried', async () => {
  refuse = Infinity;
  attempts = 0;
  const bus = new Bus({ url, clientId: 'refused-first', logger: createLogger({ level: 'silent' }) });
  await expect(bus.connect()).rejects.toThrow(/Not authorized/i);
  await sleep(2500); // two reconnect periods
  expect(attempts).toBe(1);
  refuse = 0;
});

it('a refused reconnect is retried until the broker accepts; retained state and availability come back', async () => {
  const { logger, lines } = captureLog<LogLine & { err?: string; suppressed?: number; url?: string }>();
  const bus = new Bus({ url, clientId: 'refused-again', availabilityTopic: 'test/bus/availability', logger });
  await bus.connect();
  bus.publishState('test/bus/state', { n: 1 });
  await sleep(100);
  // The broker "restarts": retained messages gone, the client dropped, the next 3 logins refused.
  refuse = 3;
  attempts = 0;
  for (const topic of ['test/bus/state', 'test/bus/availability']) {
    await new Promise<void>((r) => aedes.publish({ cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 0, retain: true, dup: false }, () => r()));
  }
  clients.get('refused-again')!.close();

  for (let i = 0; i < 100 && !(attempts >= 4 && bus.connected); i++) await sleep(100);
  expect(attempts).toBe(4); // three refused, then accepted
  expect(bus.connected).toBe(true);

  // A fresh subscriber gets the re-sent retained state.
  const sub = await mqtt.connectAsync(url, { clientId: 'checker' });
  const got = new Map<string, string>();
  sub.on('message', (t, p, packet) => { if (packet.retain) got.set(t, p.toString()); });
  await sub.subscribeAsync('test/bus/#');
  for (let i = 0; i < 50 && got.size < 2; i++) await sleep(50);
  expect(got.get('test/bus/state')).toBe(JSON.stringify({ n: 1 }));
  expect(got.get('test/bus/availability')).toBe('online');
  await sub.endAsync();

  // Three refusals of the same kind: one line now, the count when the window ends (here, at close).
  await bus.close();
  const errors = lines().filter((l) => l.msg.startsWith('mqtt client error'));
  expect(errors).toHaveLength(2);
  expect(errors[0]!.err).toMatch(/Not authorized/i);
  expect(errors[0]!.url).toBe(url);
  expect(errors[1]!.suppressed).toBe(2);
}, 30_000);
