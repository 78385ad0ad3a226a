/**
 * The benchmarks keep working as the hub changes (they broke once when every MQTT client
 * had to authenticate): a short broker run must deliver every message on both brokers.
 * Figures are not asserted here — they live in `npm run bench`.
 */
import { expect, it } from 'vitest';
import { benchBroker } from '../bench/broker.ts';

it('runs the broker benchmark end to end on aedes and Mosquitto', async () => {
  const r = await benchBroker({ messages: 400 });
  for (const b of ['aedes', 'mosquitto']) {
    for (const q of [0, 1]) {
      expect(r[`${b}_qos${q}_received`]).toBe(r[`${b}_qos${q}_sent`]);
      expect(Number(r[`${b}_qos${q}_msgs_per_s`])).toBeGreaterThan(0);
    }
  }
}, 120_000);
