/**
 * The broker's refusal log (`hub/broker/refusal-log.ts`) with a real pino logger: one line
 * per (client, reason) per window, the count of the repeats when the window ends, and a
 * bounded number of clients tracked (the rest counted together under `*`).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../components/protocol/log.ts';
import { RefusalLog } from '../hub/broker/refusal-log.ts';

interface Line { level: number; msg: string; clientId: string; reason: string; topic?: string; suppressed?: number; window_ms?: number }

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Line[] } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (c: Buffer) => { text += c.toString(); });
  return { logger: createLogger({ level: 'debug', destination: sink }), lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RefusalLog', () => {
  it('logs the first refusal of a client for a reason, counts the rest, and logs the count when the window ends', async () => {
    const { logger, lines } = capture();
    const log = new RefusalLog({ logger, windowMs: 200 });
    const logged = [];
    for (let i = 0; i < 50; i++) logged.push(log.refuse('flooder', 'publish', { topic: `t/${i}` }, 'mqtt publish refused'));
    log.refuse('flooder', 'subscribe', { topic: '#' }, 'mqtt subscribe refused');
    log.refuse('other', 'publish', { topic: 'x' }, 'mqtt publish refused');
    expect(logged.filter(Boolean)).toHaveLength(1);
    expect(lines().map((l) => `${l.clientId} ${l.reason} ${l.topic}`)).toEqual(['flooder publish t/0', 'flooder subscribe #', 'other publish x']);
    expect(lines()[0]!.level).toBe(40);
    await sleep(400);
    const summary = lines().filter((l) => l.suppressed !== undefined);
    expect(summary).toEqual([expect.objectContaining({ clientId: 'flooder', reason: 'publish', suppressed: 49, topic: 't/49', window_ms: 200, msg: 'mqtt publish refused (repeats not logged)' })]);
    // A new window: logged again at once.
    expect(log.refuse('flooder', 'publish', { topic: 'again' }, 'mqtt publish refused')).toBe(true);
    log.close();
  });

  it('past maxKeys, new clients are counted together under *', () => {
    const { logger, lines } = capture();
    const log = new RefusalLog({ logger, windowMs: 60_000, maxKeys: 3 });
    for (let i = 0; i < 100; i++) log.refuse(`c${i}`, 'login', {}, 'mqtt login refused');
    expect(lines().map((l) => l.clientId)).toEqual(['c0', 'c1', 'c2', '*']);
    log.close(); // logs the counts of the open windows
    expect(lines().filter((l) => l.suppressed !== undefined).map((l) => `${l.clientId}:${l.suppressed}`)).toEqual(['*:96']);
  });
});
