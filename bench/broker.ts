/**
 * Broker benchmark: the embedded aedes broker ({@link EmbeddedBroker}, the hub's own bus)
 * against a real Mosquitto 2, one after the other, on 127.0.0.1.
 *
 * For each broker and for QoS 0 and QoS 1: one publisher and one subscriber (mqtt.js,
 * MQTT 3.1.1) in this process, on one topic under `vigil/bench/`. Every payload carries
 * its send time (`performance.now()`) and a sequence number, so the subscriber measures
 * the one-way latency and counts unique messages. Publishing is flow-controlled so that
 * nothing overflows: QoS 0 keeps at most {@link QOS0_WINDOW} messages between send and
 * receive, QoS 1 keeps at most {@link QOS1_WINDOW} `publishAsync` calls awaiting PUBACK.
 *
 * Note: client and broker (for aedes) share the two cores of a small machine, so the
 * absolute figures include mqtt.js' own cost; the aedes/mosquitto ratios are the point.
 *
 * Run: `npx tsx bench/broker.ts [messages] [payloadBytes]`.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { EmbeddedBroker } from '../hub/broker/broker.ts';
import { BrokerPolicy, INTERNAL_USER } from '../hub/broker/policy.ts';
import { Topics } from '../components/protocol/topics.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';

/** QoS 0: most messages sent but not yet received. */
const QOS0_WINDOW = 1000;
/** QoS 1: most publishes awaiting their PUBACK. */
const QOS1_WINDOW = 100;
/** Messages sent (and awaited) before each measured run. */
const WARMUP_MESSAGES = 300;
/** A run gives up waiting when no message has arrived for this long (loss). */
const STALL_MS = 3_000;
/** Hard limit of one run (one broker, one QoS). */
const RUN_TIMEOUT_MS = 45_000;
/** Payload header: float64 send time (ms, performance.now()) + uint32 sequence number. */
const HEADER_BYTES = 12;

/** Options of {@link benchBroker}. */
export interface BenchBrokerOptions {
  /** Messages per QoS 0 run; default 20 000. QoS 1 runs send half as many (default 10 000). */
  messages?: number;
  /** Payload size, bytes (≥ 12: send time and sequence number); default 200. */
  payloadBytes?: number;
}

interface RunResult {
  sent: number;
  received: number;
  duplicates: number;
  msgsPerS: number;
  p50Ms: number;
  p99Ms: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const round = (v: number, digits = 1): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

/** Credentials per broker URL (the embedded broker needs them; the test Mosquitto allows anonymous clients). */
const credentials = new Map<string, { username: string; password: string }>();

function connect(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, clientId, clean: true, reconnectPeriod: 0, keepalive: 60, connectTimeout: 5_000, ...credentials.get(url) });
}

/**
 * One measured run: connects a subscriber and a publisher to `url`, warms up, then sends
 * `n` messages at `qos` and waits until all have arrived (or none arrived for
 * {@link STALL_MS}).
 */
async function runOnce(url: string, qos: 0 | 1, n: number, payloadBytes: number): Promise<RunResult> {
  const tag = Math.random().toString(16).slice(2, 8);
  const topic = `vigil/bench/${tag}/q${qos}`;
  const sub = await connect(url, `bench-sub-${tag}`);
  let pub: MqttClient | undefined;
  try {
    pub = await connect(url, `bench-pub-${tag}`);
    await sub.subscribeAsync(topic, { qos });

    // Receive side. `phase` separates warm-up from the measured messages.
    let phase: 'warmup' | 'run' = 'warmup';
    let warmReceived = 0;
    let received = 0;
    let duplicates = 0;
    let lastReceive = 0;
    let lastProgress = performance.now();
    const seen = new Uint8Array(n);
    const latencies = new Float64Array(n);
    let wake: (() => void) | undefined;
    sub.on('message', (_t, payload: Buffer) => {
      const now = performance.now();
      lastProgress = now;
      if (payload.length < HEADER_BYTES) return;
      const sentAt = payload.readDoubleLE(0);
      const seq = payload.readUInt32LE(8);
      if (sentAt < 0) { warmReceived++; }
      else if (phase === 'run' && seq < n) {
        if (seen[seq]) duplicates++;
        else { seen[seq] = 1; latencies[received] = now - sentAt; received++; lastReceive = now; }
      }
      const w = wake; wake = undefined; w?.();
    });
    /** Resolves when `done()` holds, or when nothing arrived for STALL_MS (returns false). */
    const waitUntil = async (done: () => boolean): Promise<boolean> => {
      while (!done()) {
        if (performance.now() - lastProgress > STALL_MS) return false;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100).unref();
        });
      }
      return true;
    };

    const payload = (seq: number, warm: boolean): Buffer => {
      const b = Buffer.alloc(payloadBytes, 0x61);
      b.writeDoubleLE(warm ? -1 : performance.now(), 0);
      b.writeUInt32LE(seq, 8);
      return b;
    };

    // Publish side: windowed so that neither broker nor client queues overflow.
    const client = pub;
    let inflight = 0;
    let pubError: Error | undefined;
    let freed: (() => void) | undefined;
    const sendAll = async (count: number, warm: boolean, receivedSoFar: () => number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        if (pubError) throw pubError;
        if (qos === 0) {
          if (i - receivedSoFar() >= QOS0_WINDOW) {
            lastProgress = performance.now();
            if (!(await waitUntil(() => i - receivedSoFar() < QOS0_WINDOW / 2))) return; // stalled: loss
          }
          client.publish(topic, payload(i, warm), { qos: 0 });
        } else {
          while (inflight >= QOS1_WINDOW) await new Promise<void>((resolve) => { freed = resolve; });
          inflight++;
          client.publishAsync(topic, payload(i, warm), { qos: 1 }).then(
            () => { inflight--; const f = freed; freed = undefined; f?.(); },
            (err: Error) => { pubError ??= err; inflight--; const f = freed; freed = undefined; f?.(); },
          );
        }
      }
    };

    // Warm-up (not measured).
    lastProgress = performance.now();
    await sendAll(WARMUP_MESSAGES, true, () => warmReceived);
    await waitUntil(() => warmReceived >= WARMUP_MESSAGES);
    while (inflight > 0) await new Promise<void>((resolve) => { freed = resolve; });

    // Measured run.
    phase = 'run';
    const t0 = performance.now();
    lastProgress = t0;
    await sendAll(n, false, () => received);
    await waitUntil(() => received >= n);
    if (pubError) throw pubError;

    const lat = latencies.subarray(0, received).sort();
    const elapsed = (lastReceive || performance.now()) - t0;
    return {
      sent: n,
      received,
      duplicates,
      msgsPerS: received > 0 ? (received / elapsed) * 1000 : 0,
      p50Ms: quantile(lat, 0.5),
      p99Ms: quantile(lat, 0.99),
    };
  } finally {
    await Promise.allSettled([sub.endAsync(true), pub?.endAsync(true)]);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function versions(): { aedes: string; mosquitto: string } {
  let aedes = '?';
  let mosquitto = '?';
  try {
    // aedes' `exports` hide package.json; find the package root from its entry point.
    const entry = createRequire(import.meta.url).resolve('aedes');
    const root = entry.slice(0, entry.lastIndexOf('node_modules/aedes/') + 'node_modules/aedes/'.length);
    aedes = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
  } catch { /* unknown */ }
  try {
    execFileSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // `mosquitto -h` prints its version and exits with status 3.
    const out = String((err as { stdout?: string }).stdout ?? '');
    mosquitto = /mosquitto version (\S+)/.exec(out)?.[1] ?? '?';
  }
  return { aedes, mosquitto };
}

/**
 * Benchmarks MQTT throughput and latency of the embedded aedes broker against Mosquitto 2
 * (started with `startMosquitto`), sequentially, in one run. Each broker gets a QoS 0 run
 * of `messages` messages and a QoS 1 run of `messages / 2`, after a warm-up of 300.
 *
 * @returns flat figures: `payload_bytes`, `aedes_version`, `mosquitto_version`, and for each
 *   `<broker>_qos<q>_` (`aedes`/`mosquitto`, 0/1): `msgs_per_s` (messages received ÷ time
 *   from first send to last receive, msg/s), `p50_ms` / `p99_ms` (one-way latency, send →
 *   receive, ms), `sent`, `received` (unique), `lost` (sent − received), `duplicates`;
 *   plus `qos<q>_throughput_aedes_over_mosquitto` and `qos<q>_p99_aedes_over_mosquitto`
 *   (ratios; > 1 means aedes is faster resp. slower).
 * @throws Error when a broker cannot start or a run exceeds its time limit (45 s); every
 *   broker and client started is stopped first.
 */
export async function benchBroker(opts: BenchBrokerOptions = {}): Promise<Record<string, number | string>> {
  const n0 = opts.messages ?? 20_000;
  const n1 = Math.max(1, Math.round(n0 / 2));
  const payloadBytes = Math.max(HEADER_BYTES, opts.payloadBytes ?? 200);
  const v = versions();
  const out: Record<string, number | string> = { payload_bytes: payloadBytes, aedes_version: v.aedes, mosquitto_version: v.mosquitto };

  const measure = async (name: string, url: string): Promise<void> => {
    for (const [qos, n] of [[0, n0], [1, n1]] as const) {
      const r = await withTimeout(runOnce(url, qos, n, payloadBytes), RUN_TIMEOUT_MS, `${name} QoS ${qos} run`);
      const k = `${name}_qos${qos}_`;
      out[`${k}msgs_per_s`] = Math.round(r.msgsPerS);
      out[`${k}p50_ms`] = round(r.p50Ms, 2);
      out[`${k}p99_ms`] = round(r.p99Ms, 2);
      out[`${k}sent`] = r.sent;
      out[`${k}received`] = r.received;
      out[`${k}lost`] = r.sent - r.received;
      out[`${k}duplicates`] = r.duplicates;
    }
  };

  // The hub's own policy with its internal credential (every client authenticates), as Vigil's components connect.
  const policy = new BrokerPolicy({ topics: new Topics('vigil'), allowAnonymous: false, logger: pino({ level: 'silent' }) });
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, policy, logger: pino({ level: 'silent' }) });
  await broker.start();
  try {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    credentials.set(url, { username: INTERNAL_USER, password: policy.internalSecret });
    await measure('aedes', url);
  } finally {
    await broker.stop();
  }

  const mosquitto = await startMosquitto();
  try {
    await measure('mosquitto', mosquitto.url);
  } finally {
    await mosquitto.stop();
  }

  for (const q of [0, 1]) {
    out[`qos${q}_throughput_aedes_over_mosquitto`] = round(Number(out[`aedes_qos${q}_msgs_per_s`]) / Number(out[`mosquitto_qos${q}_msgs_per_s`]), 2);
    out[`qos${q}_p99_aedes_over_mosquitto`] = round(Number(out[`aedes_qos${q}_p99_ms`]) / Number(out[`mosquitto_qos${q}_p99_ms`]), 2);
  }
  return out;
}

/** Prints the figures of {@link benchBroker} as a table. */
function printTable(f: Record<string, number | string>): void {
  console.log(`MQTT broker benchmark — aedes ${f.aedes_version} vs mosquitto ${f.mosquitto_version}, payload ${f.payload_bytes} B, 1 pub + 1 sub, 127.0.0.1`);
  const head = ['broker', 'QoS', 'msg/s', 'p50 ms', 'p99 ms', 'received/sent', 'lost', 'dup'];
  const rows: string[][] = [];
  for (const b of ['aedes', 'mosquitto']) {
    for (const q of [0, 1]) {
      const k = `${b}_qos${q}_`;
      rows.push([b, String(q), String(f[`${k}msgs_per_s`]), String(f[`${k}p50_ms`]), String(f[`${k}p99_ms`]), `${f[`${k}received`]}/${f[`${k}sent`]}`, String(f[`${k}lost`]), String(f[`${k}duplicates`])]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const q of [0, 1]) {
    console.log(`QoS ${q}: throughput aedes/mosquitto = ${f[`qos${q}_throughput_aedes_over_mosquitto`]}, p99 aedes/mosquitto = ${f[`qos${q}_p99_aedes_over_mosquitto`]}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = process.argv[2] ? Number(process.argv[2]) : undefined;
  const payloadBytes = process.argv[3] ? Number(process.argv[3]) : undefined;
  printTable(await benchBroker({ messages, payloadBytes }));
}
