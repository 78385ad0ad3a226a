/**
 * The shared rate-limited warning log (`components/protocol/rate-limited-log.ts`) with a
 * real pino logger: one line per (key, reason) per window, the count of the repeats in one
 * line when the window ends, a bounded number of keys (the rest counted under `*`); and the
 * bus client's bad-message warnings built on it (`Bus.warnBadMessage`, a handler that
 * throws) against a real MQTT broker (aedes on a random port).
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../components/protocol/bus.ts';
import { createLogger } from '../components/protocol/log.ts';
import { OVERFLOW_KEY, RateLimitedLog } from '../components/protocol/rate-limited-log.ts';
import { captureLog, type LogLine } from './helpers/log-capture.ts';

interface Line extends LogLine { level: number; msg: string; key?: string; topic?: string; reason: string; module?: string; err?: string; n?: number; example?: string; suppressed?: number; window_ms?: number }

const capture = (bindings: Record<string, string> = {}) => captureLog<Line>(bindings);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RateLimitedLog', () => {
  it('logs the first warning of a (key, reason), counts the repeats and logs their count when the window ends', async () => {
    const { logger, lines } = capture();
    const log = new RateLimitedLog({ logger, windowMs: 200 });
    const logged: boolean[] = [];
    for (let n = 0; n < 40; n++) logged.push(log.warn('cam/a', 'bad', { n }, 'bad message'));
    expect(log.warn('cam/a', 'other', { n: 0 }, 'other problem')).toBe(true);
    expect(log.warn('cam/b', 'bad', { n: 0 }, 'bad message')).toBe(true);
    expect(logged.filter(Boolean)).toHaveLength(1);
    expect(logged[0]).toBe(true);
    expect(lines().map((l) => `${l.key} ${l.reason} ${l.n} ${l.msg}`)).toEqual(['cam/a bad 0 bad message', 'cam/a other 0 other problem', 'cam/b bad 0 bad message']);
    expect(lines().every((l) => l.level === 40)).toBe(true);
    expect(log.size).toBe(3);
    // The window ends: one summary for the key that had repeats (the context of the last one), none for the others.
    await sleep(450);
    const summary = lines().filter((l) => l.suppressed !== undefined);
    expect(summary).toEqual([expect.objectContaining({ key: 'cam/a', reason: 'bad', n: 39, suppressed: 39, window_ms: 200, msg: 'bad message (repeats not logged)' })]);
    expect(log.size).toBe(0);
    // A new window: logged at once again.
    expect(log.warn('cam/a', 'bad', { n: 40 }, 'bad message')).toBe(true);
    expect(lines().at(-1)).toMatchObject({ key: 'cam/a', n: 40, msg: 'bad message' });
    log.close();
  });

  it('past maxKeys, new keys are counted together under * per reason, naming the key that overflowed', () => {
    const { logger, lines } = capture();
    const log = new RateLimitedLog({ logger, windowMs: 60_000, maxKeys: 3, keyField: 'topic' });
    for (let i = 0; i < 100; i++) log.warn(`t/${i}`, 'bad', {}, 'bad message');
    log.warn('t/new', 'worse', {}, 'worse message');
    // Keys never grow past the cap plus one `*` per reason.
    expect(log.size).toBe(5);
    expect(lines().map((l) => `${l.topic}${l.example ? `(${l.example})` : ''} ${l.reason}`)).toEqual(['t/0 bad', 't/1 bad', 't/2 bad', `${OVERFLOW_KEY}(t/3) bad`, `${OVERFLOW_KEY}(t/new) worse`]);
    // Already tracked keys still count under their own key.
    expect(log.warn('t/1', 'bad', {}, 'bad message')).toBe(false);
    log.close(); // logs the counts of the open windows
    expect(lines().filter((l) => l.suppressed !== undefined).map((l) => `${l.topic}:${l.suppressed}:${l.example ?? ''}`)).toEqual(['t/1:1:', '*:96:t/99']);
    expect(log.size).toBe(0);
  });

  it('writes a key\'s lines, its summary too, to the logger given with its first warning', () => {
    const shared = capture();
    const service = capture({ module: 'events' });
    const log = new RateLimitedLog({ logger: shared.logger, windowMs: 60_000 });
    log.warn('vigil/events', 'invalid-event', { err: 'not JSON' }, 'invalid event', service.logger);
    log.warn('vigil/events', 'invalid-event', { err: 'no id' }, 'invalid event', service.logger);
    log.warn('vigil/other', 'bad', {}, 'bad');
    log.close();
    expect(service.lines().map((l) => `${l.module} ${l.err} ${l.suppressed ?? 0}`)).toEqual(['events not JSON 0', 'events no id 1']);
    expect(shared.lines().map((l) => l.key)).toEqual(['vigil/other']);
  });
});

describe('Bus bad-message warnings', () => {
  let server: Server;
  let aedes: Aedes;
  let url: string;

  beforeAll(async () => {
    aedes = await Aedes.createBroker();
    server = createServer((s) => aedes.handle(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a handler that throws on a flood is logged once per topic, then its count; warnBadMessage shares the count', async () => {
    const { logger, lines } = capture({ bus: 'test' });
    const sub = new Bus({ url, clientId: 'rl-sub', logger });
    const pub = new Bus({ url, clientId: 'rl-pub', logger: createLogger({ level: 'silent' }) });
    await Promise.all([sub.connect(), pub.connect()]);
    let seen = 0;
    await sub.subscribe('rl/+/in', (topic, payload) => {
      seen++;
      if (topic === 'rl/async/in') return Promise.reject(new Error(`bad ${payload.toString()}`));
      throw new Error(`bad ${payload.toString()}`);
    });
    for (let i = 0; i < 60; i++) {
      await pub.publish('rl/sync/in', String(i), { qos: 1 });
      await pub.publish('rl/async/in', String(i), { qos: 1 });
    }
    for (let i = 0; i < 100 && seen < 120; i++) await sleep(20);
    expect(seen).toBe(120);
    await sleep(50); // the async rejections settle
    const failed = lines().filter((l) => l.msg === 'message handler failed');
    expect(failed.map((l) => `${l.topic} ${l.reason} ${l.err}`)).toEqual(['rl/sync/in handler-failed bad 0', 'rl/async/in handler-failed bad 0']);
    // A service's own refusal of a message on a topic: once, through the shared log.
    const { logger: svc, lines: svcLines } = capture({ module: 'svc' });
    expect(sub.warnBadMessage('rl/sync/in', 'invalid', 'invalid thing; dropped', { err: 'x' }, svc)).toBe(true);
    expect(sub.warnBadMessage('rl/sync/in', 'invalid', 'invalid thing; dropped', { err: 'y' }, svc)).toBe(false);
    // Closing the bus logs the counts of the open windows.
    await sub.close();
    await pub.close();
    const summaries = lines().filter((l) => l.suppressed !== undefined).map((l) => `${l.topic} ${l.suppressed} ${l.err}`).sort();
    expect(summaries).toEqual(['rl/async/in 59 bad 59', 'rl/sync/in 59 bad 59']);
    expect(svcLines().map((l) => `${l.module} ${l.topic} ${l.reason} ${l.err} ${l.suppressed ?? 0}`)).toEqual(['svc rl/sync/in invalid x 0', 'svc rl/sync/in invalid y 1']);
  }, 20_000);
});
