/**
 * Broker benchmark: the embedded aedes broker as the hub runs it (a real hub process,
 * `bench/hub-process.ts`) against a real Mosquitto 2 with a password file and an ACL
 * (`startMosquitto({ passwordFile })`, `test/helpers/mosquitto.ts`), one after the other, on 127.0.0.1. Every client
 * authenticates: a device credential on the hub, Mosquitto's one user on Mosquitto.
 *
 * For each broker and for QoS 0 and QoS 1: one publisher and one subscriber (mqtt.js,
 * MQTT 3.1.1) in this process, on one topic under `vigil/bench/`. Every payload carries
 * its send time (`performance.now()`) and a sequence number, so the subscriber measures
 * the one-way latency and counts unique messages. Publishing is flow-controlled so that
 * nothing overflows: QoS 0 keeps at most {@link QOS0_WINDOW} messages between send and
 * receive, QoS 1 keeps at most {@link QOS1_WINDOW} `publishAsync` calls awaiting PUBACK.
 * The broker's own CPU (its process, `/proc/<pid>/stat`) per message is read too: it does
 * not depend on how the two cores are shared.
 *
 * Note: the clients (this process) and the broker share the two cores of a small machine,
 * so the absolute figures include mqtt.js' own cost; the aedes/mosquitto ratios are the
 * point. `--profile=<dir>` writes a CPU profile of the hub for each of its runs; summarise
 * them with `npx tsx bench/cpuprofile-summary.ts <dir>/aedes-qos0.cpuprofile`.
 *
 * Run: `npm run bench -- broker`, or
 * `npx tsx bench/broker.ts [messages] [payloadBytes] [--in-process] [--profile=<dir>]`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { EmbeddedBroker } from '../hub/broker/broker.ts';
import { BrokerPolicy, INTERNAL_USER } from '../hub/broker/policy.ts';
import { Topics } from '../components/protocol/topics.ts';
import { clockTicks, procStat, startHub, waitIdle, type HubProcess } from './hub-process.ts';
import { startMosquitto, type MosquittoBroker } from '../test/helpers/mosquitto.ts';
import { profileWindow } from './probe.ts';

/** QoS 0: most messages sent but not yet received. */
const QOS0_WINDOW = 1000;
/** QoS 1: most publishes awaiting their PUBACK. */
const QOS1_WINDOW = 100;
/** Messages sent (and awaited) before each measured run: enough for V8 to optimise the hot paths of a JavaScript broker (and of the clients). */
const WARMUP_MESSAGES = 5_000;
/** A run gives up waiting when no message has arrived for this long (loss). */
const STALL_MS = 3_000;
/** Hard limit of one run (one broker, one QoS). */
const RUN_TIMEOUT_MS = 45_000;
/** Payload header: float64 send time (ms, performance.now()) + uint32 sequence number. */
const HEADER_BYTES = 12;
/** Clock ticks per second of `/proc/<pid>/stat`. */
const TICKS = clockTicks();

/** Options of {@link benchBroker}. */
export interface BenchBrokerOptions {
  /** Messages per QoS 0 run; default 50 000. QoS 1 runs send half as many (default 25 000). */
  messages?: number;
  /** Payload size, bytes (≥ 12: send time and sequence number); default 200. */
  payloadBytes?: number;
  /** Rounds: each runs QoS 0 then QoS 1 on aedes then Mosquitto; figures are medians over the rounds. Default 3. */
  rounds?: number;
  /** Also measure the broker alone inside this process (the method before issue #15); default false. */
  inProcess?: boolean;
  /**
   * Profile the hub during its runs of the last round: `<profileDir>/aedes-qos<q>.cpuprofile` (V8
   * sampler, 100 µs; read with `bench/cpuprofile-summary.ts`). Profiling slows the hub.
   */
  profileDir?: string;
}

interface RunResult {
  sent: number;
  received: number;
  duplicates: number;
  msgsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the broker's process (every thread) per message received, µs; NaN in this process. */
  brokerCpuUsPerMsg: number;
  /** CPU time of this process (both clients; and the broker too when it runs here) per message received, µs. */
  clientCpuUsPerMsg: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const round = (v: number, digits = 1): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

/** A broker under test and the credentials its bench clients log in with. */
interface Target {
  url: string;
  username: string;
  password: string;
  /** The broker's process (CPU readings), when it is not this one. */
  pid?: number;
}

function connect(t: Target, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(t.url, { protocolVersion: 4, clientId, clean: true, reconnectPeriod: 0, keepalive: 60, connectTimeout: 5_000, username: t.username, password: t.password });
}

/**
 * One measured run: connects a subscriber and a publisher to `target`, warms up, then sends
 * `n` messages at `qos` and waits until all have arrived (or none arrived for
 * {@link STALL_MS}).
 */
async function runOnce(target: Target, qos: 0 | 1, n: number, payloadBytes: number): Promise<RunResult> {
  const tag = Math.random().toString(16).slice(2, 8);
  const topic = `vigil/bench/${tag}/q${qos}`;
  const sub = await connect(target, `bench-sub-${tag}`);
  let pub: MqttClient | undefined;
  try {
    pub = await connect(target, `bench-pub-${tag}`);
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
    const cpu0 = target.pid ? procStat(target.pid)?.cpuTicks : undefined;
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    lastProgress = t0;
    await sendAll(n, false, () => received);
    await waitUntil(() => received >= n);
    if (pubError) throw pubError;
    const cpu1 = target.pid ? procStat(target.pid)?.cpuTicks : undefined;
    const own = process.cpuUsage(own0);

    const lat = latencies.subarray(0, received).sort();
    const elapsed = (lastReceive || performance.now()) - t0;
    return {
      sent: n,
      received,
      duplicates,
      msgsPerS: received > 0 ? (received / elapsed) * 1000 : 0,
      p50Ms: quantile(lat, 0.5),
      p99Ms: quantile(lat, 0.99),
      brokerCpuUsPerMsg: cpu0 !== undefined && cpu1 !== undefined && received > 0 ? ((cpu1 - cpu0) / TICKS) * 1e6 / received : NaN,
      clientCpuUsPerMsg: received > 0 ? (own.user + own.system) / received : NaN,
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
 * Benchmarks MQTT throughput and latency of the embedded broker as it runs in a real hub
 * process ({@link startHub}: aedes with the hub's policy, its services and their own
 * subscriptions) against Mosquitto 2 with a password file and an ACL
 * (`startMosquitto({ passwordFile })` of `test/helpers/mosquitto.ts`), in one run. Every client authenticates: on the hub with a
 * device credential (`component`, as a camera or detector process elsewhere), on
 * Mosquitto as its one user. In each of `rounds` rounds, each broker gets a QoS 0 run of
 * `messages` messages and a QoS 1 run of `messages / 2` (after a warm-up of 5 000),
 * alternating between the brokers; the figures are medians over the rounds. With
 * `opts.inProcess`, also the broker alone in this process ({@link EmbeddedBroker} with the
 * internal credential: the bench's method before issue #15, where broker and clients share
 * one thread) as `inproc_…`.
 *
 * @returns flat figures: `payload_bytes`, `aedes_version`, `mosquitto_version`, `auth`, and
 *   `rounds`, and for each `<broker>_qos<q>_` (`aedes`/`mosquitto`[/`inproc`], 0/1): `msgs_per_s`
 *   (messages received ÷ time from first send to last receive, msg/s), `p50_ms` / `p99_ms`
 *   (one-way latency, send → receive, ms), `broker_cpu_us_per_msg` (CPU of the broker's
 *   process, every thread, per message, µs), `bench_cpu_us_per_msg` (CPU of this process —
 *   both clients, and the broker for `inproc` — per message, µs), and over all rounds `sent`, `received`
 *   (unique), `lost` (sent − received), `duplicates`; plus `qos<q>_throughput_aedes_over_mosquitto`
 *   (the median over the rounds of each round's ratio), `qos<q>_cpu_aedes_over_mosquitto`
 *   and `qos<q>_p99_aedes_over_mosquitto` (ratios of the medians;
 *   throughput > 1 means aedes is faster, CPU and p99 > 1 mean it costs more).
 * @throws Error when a broker or the hub cannot start or a run exceeds its time limit
 *   (45 s); every broker, hub and client started is stopped first.
 */
export async function benchBroker(opts: BenchBrokerOptions = {}): Promise<Record<string, number | string>> {
  const n0 = opts.messages ?? 50_000;
  const n1 = Math.max(1, Math.round(n0 / 2));
  const rounds = Math.max(1, opts.rounds ?? 3);
  const payloadBytes = Math.max(HEADER_BYTES, opts.payloadBytes ?? 200);
  const v = versions();
  const out: Record<string, number | string> = {
    payload_bytes: payloadBytes, aedes_version: v.aedes, mosquitto_version: v.mosquitto, rounds,
    auth: 'hub: device credential (component); mosquitto: password file + ACL',
  };
  /** Runs per `<broker>_qos<q>_`. */
  const runs = new Map<string, RunResult[]>();
  const runOn = async (name: string, target: Target, qos: 0 | 1, profile?: (qos: 0 | 1, run: () => Promise<RunResult>) => Promise<RunResult>): Promise<void> => {
    const run = () => withTimeout(runOnce(target, qos, qos === 0 ? n0 : n1, payloadBytes), RUN_TIMEOUT_MS, `${name} QoS ${qos} run`);
    const r = await (profile ? profile(qos, run) : run());
    const k = `${name}_qos${qos}_`;
    runs.set(k, [...(runs.get(k) ?? []), r]);
  };

  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-broker-'));
  let hub: HubProcess | undefined;
  let mosquitto: MosquittoBroker | undefined;
  try {
    // The embedded broker under a real hub (demo camera off), clients with a device credential.
    const probeDir = join(dir, 'probe');
    if (opts.profileDir) mkdirSync(probeDir);
    hub = await startHub({ dir, mqttDevice: true, ...(opts.profileDir ? { probeDir } : {}) });
    await waitIdle(hub.pid); // Node-RED is still loading when /api/health first answers
    const h = hub;
    const aedes: Target = { url: h.mqttUrl, ...h.mqtt!, pid: h.pid };
    const user = { username: 'bench', password: `bench-${Math.random().toString(36).slice(2)}` };
    mosquitto = await startMosquitto({ passwordFile: user });
    const mosq: Target = { url: mosquitto.url, ...user, pid: mosquitto.pid };
    // Interleaved (aedes, Mosquitto, aedes, …) so that other load on the machine weighs on both alike.
    for (let round = 0; round < rounds; round++) {
      for (const qos of [0, 1] as const) {
        const profile = opts.profileDir && round === rounds - 1
          ? async (q: 0 | 1, run: () => Promise<RunResult>): Promise<RunResult> => {
            const { result, profile: file } = await profileWindow(h, probeDir, run);
            mkdirSync(opts.profileDir!, { recursive: true });
            copyFileSync(file, join(opts.profileDir!, `aedes-qos${q}.cpuprofile`));
            return result;
          }
          : undefined;
        await runOn('aedes', aedes, qos, profile);
        await runOn('mosquitto', mosq, qos);
      }
    }
  } finally {
    await Promise.all([hub?.stop(), mosquitto?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }

  if (opts.inProcess) {
    // The broker alone in this process, as the bench measured it before issue #15.
    const policy = new BrokerPolicy({ topics: new Topics('vigil'), allowAnonymous: false, logger: pino({ level: 'silent' }) });
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, policy, logger: pino({ level: 'silent' }) });
    await broker.start();
    try {
      const target = { url: `mqtt://127.0.0.1:${broker.port}`, username: INTERNAL_USER, password: policy.internalSecret };
      for (let round = 0; round < rounds; round++) for (const qos of [0, 1] as const) await runOn('inproc', target, qos);
    } finally {
      await broker.stop();
    }
  }

  // Medians over the rounds; losses and duplicates summed.
  const med = (xs: number[]) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN; };
  for (const [k, rs] of runs) {
    out[`${k}msgs_per_s`] = Math.round(med(rs.map((r) => r.msgsPerS)));
    out[`${k}p50_ms`] = round(med(rs.map((r) => r.p50Ms)), 2);
    out[`${k}p99_ms`] = round(med(rs.map((r) => r.p99Ms)), 2);
    const cpu = med(rs.map((r) => r.brokerCpuUsPerMsg));
    if (Number.isFinite(cpu)) out[`${k}broker_cpu_us_per_msg`] = round(cpu, 1);
    out[`${k}bench_cpu_us_per_msg`] = round(med(rs.map((r) => r.clientCpuUsPerMsg)), 1);
    out[`${k}sent`] = rs.reduce((a, r) => a + r.sent, 0);
    out[`${k}received`] = rs.reduce((a, r) => a + r.received, 0);
    out[`${k}lost`] = rs.reduce((a, r) => a + r.sent - r.received, 0);
    out[`${k}duplicates`] = rs.reduce((a, r) => a + r.duplicates, 0);
  }
  for (const q of [0, 1]) {
    const ratio = (a: string, b: string, field: string) => round(Number(out[`${a}_qos${q}_${field}`]) / Number(out[`${b}_qos${q}_${field}`]), 2);
    // Throughput: the median of each round's ratio (runs next to each other in time see the same other load).
    const [ra, rm] = [runs.get(`aedes_qos${q}_`) ?? [], runs.get(`mosquitto_qos${q}_`) ?? []];
    out[`qos${q}_throughput_aedes_over_mosquitto`] = round(med(ra.map((r, i) => r.msgsPerS / (rm[i]?.msgsPerS ?? NaN))), 2);
    out[`qos${q}_cpu_aedes_over_mosquitto`] = ratio('aedes', 'mosquitto', 'broker_cpu_us_per_msg');
    out[`qos${q}_p99_aedes_over_mosquitto`] = ratio('aedes', 'mosquitto', 'p99_ms');
    if (opts.inProcess) out[`qos${q}_throughput_inproc_over_mosquitto`] = ratio('inproc', 'mosquitto', 'msgs_per_s');
  }
  return out;
}

/** Prints the figures of {@link benchBroker} as a table. */
function printTable(f: Record<string, number | string>): void {
  console.log(`MQTT broker benchmark — aedes ${f.aedes_version} (in a hub process) vs mosquitto ${f.mosquitto_version}, payload ${f.payload_bytes} B, 1 pub + 1 sub, 127.0.0.1`);
  console.log(`auth: ${f.auth}`);
  const head = ['broker', 'QoS', 'msg/s', 'broker µs/msg', 'clients µs/msg', 'p50 ms', 'p99 ms', 'received/sent', 'lost', 'dup'];
  const rows: string[][] = [];
  for (const b of ['aedes', 'mosquitto', 'inproc']) {
    for (const q of [0, 1]) {
      const k = `${b}_qos${q}_`;
      if (f[`${k}sent`] === undefined) continue;
      rows.push([b, String(q), String(f[`${k}msgs_per_s`]), String(f[`${k}broker_cpu_us_per_msg`] ?? '-'), String(f[`${k}bench_cpu_us_per_msg`]), String(f[`${k}p50_ms`]), String(f[`${k}p99_ms`]), `${f[`${k}received`]}/${f[`${k}sent`]}`, String(f[`${k}lost`]), String(f[`${k}duplicates`])]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const q of [0, 1]) {
    console.log(`QoS ${q}: throughput aedes/mosquitto = ${f[`qos${q}_throughput_aedes_over_mosquitto`]}, broker CPU per message aedes/mosquitto = ${f[`qos${q}_cpu_aedes_over_mosquitto`]}, p99 aedes/mosquitto = ${f[`qos${q}_p99_aedes_over_mosquitto`]}${f[`qos${q}_throughput_inproc_over_mosquitto`] !== undefined ? `, throughput in-process aedes/mosquitto = ${f[`qos${q}_throughput_inproc_over_mosquitto`]}` : ''}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const messages = args[0] ? Number(args[0]) : undefined;
  const payloadBytes = args[1] ? Number(args[1]) : undefined;
  const profileDir = /^--profile=(.+)$/.exec(process.argv.find((a) => a.startsWith('--profile=')) ?? '')?.[1];
  printTable(await benchBroker({ messages, payloadBytes, inProcess: process.argv.includes('--in-process'), profileDir }));
  process.exit();
}
