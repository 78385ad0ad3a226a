/**
 * REST latency under frame load (issue #15): does frame traffic on the bus slow the HTTP API?
 *
 * A real hub as its own process (`bench/hub-process.ts`: embedded broker, the camera
 * component in the hub, the detector off so that inference does not take the cores) with
 * `bench/hub-probe.mjs` preloaded (its main thread's event-loop delay, utilisation and
 * garbage collections, every second). The store holds {@link BenchRestOptions.events} finished events, published
 * on `vigil/events` by a bench device as a detector would. One client in this process asks
 * `GET /api/events?limit=50` (admin bearer token, keep-alive) at a steady
 * {@link BenchRestOptions.rate} per second, one request at a time, `measureS` seconds per
 * phase, in `rounds` rounds of one window of each (idle, frames, idle, frames …, so that
 * other load on the machine weighs on both alike):
 *
 * 1. `idle`: the cameras switched off (`enabled: false`, no ffmpeg);
 * 2. `frames`: the `cameras` cameras of the real camera component on, each looping OpenCV's
 *    `vtest.avi` (pedestrians; Debian opencv-doc) through ffmpeg at 640×480, 5 fps detect
 *    (the hub's defaults otherwise: motion detection gates the frames), JPEG frames
 *    published on `vigil/camera/<cam>/frame` to a subscriber in this process (standing in
 *    for a detector process elsewhere), which counts them.
 *
 * Per phase: request latency p50/p95/p99/max (ms, all its windows); the hub's event-loop
 * delay (median over the seconds of each second's p95 and p99, worst max; ms, 10 ms probe
 * resolution included), utilisation (0–1) and garbage collection (pause ms/s, major
 * collections/s); hub CPU (% of one core: every thread, and its main thread alone) and its
 * ffmpeg children's; the CPU the rest of the machine used (other load skews every figure
 * on 2 cores); frames/s and MB/s on the bus. Then `p95_frames_over_idle` (pooled, and the
 * median of the rounds' ratios).
 *
 * Run: `npm run bench -- rest` (≈ 2 min), or
 * `npx tsx bench/rest-under-load.ts [measureS] [cameras] [--profile=<dir>]`
 * (`--profile` writes a CPU profile of the hub during the last `frames` window:
 * `<dir>/hub-frames.cpuprofile`; summarise with `bench/cpuprofile-summary.ts`).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { FOOTAGE, percentile, round } from './frames.ts';
import { children, clockTicks, machineCpuTicks, procStat, sleep, startHub, waitFor, waitIdle, warningFigures, type HubProcess } from './hub-process.ts';
import { loopSeconds, loopSummary, profileWindow, type LoopSecond } from './probe.ts';

const ONLINE_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
const EVENTS_TIMEOUT_MS = 30_000;

/** Options of {@link benchRestUnderLoad}. */
export interface BenchRestOptions {
  /** Cameras streaming in the `frames` phase; default 8. */
  cameras?: number;
  /** Measuring time of each phase over all rounds, s; default 30. */
  measureS?: number;
  /** Rounds of one `idle` and one `frames` window (`measureS / rounds` s each); default 3. */
  rounds?: number;
  /** Wait after the cameras are online before measuring, s; default 3. */
  warmupS?: number;
  /** Requests per second (one at a time; a slow answer delays the next); default 20. */
  rate?: number;
  /** Finished events in the store before measuring; default 300. */
  events?: number;
  /** Write a CPU profile of the hub during the last `frames` window to `<profileDir>/hub-frames.cpuprofile`. */
  profileDir?: string;
}

/** Figures of one phase. */
interface PhaseFigures {
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  loop: ReturnType<typeof loopSummary>;
  hubCpuPct: number;
  hubMainCpuPct: number;
  ffmpegCpuPct: number;
  otherCpuPct: number;
}

/** A finished event as the detector publishes it (`vigil/events`, `components/protocol/tracked-object.ts`). */
function eventState(i: number, start: number): Record<string, unknown> {
  return {
    id: `bench-${start}-${i}`, camera: `cam${(i % 8) + 1}`, frame_time: start + i, label: i % 3 ? 'person' : 'car', sub_label: null,
    score: 0.8, top_score: 0.85, false_positive: false, start_time: start + i, end_time: start + i + 5,
    box: [10, 20, 110, 220], area: 20_000, ratio: 0.5, current_zones: [], entered_zones: [], has_snapshot: false, stationary: false,
  };
}

/** Publishes `n` events (`new` then `end`, QoS 1) and waits until the store has them all. */
async function seedEvents(hub: HubProcess, client: MqttClient, n: number): Promise<void> {
  const start = Math.floor(Date.now() / 1000) - n - 60;
  for (let i = 0; i < n; i++) {
    const after = eventState(i, start);
    await client.publishAsync('vigil/events', JSON.stringify({ type: 'new', before: { ...after, end_time: null }, after: { ...after, end_time: null } }), { qos: 1 });
    await client.publishAsync('vigil/events', JSON.stringify({ type: 'end', before: after, after }), { qos: 1 });
  }
  let total = 0;
  await waitFor(async () => {
    const res = await fetch(`${hub.base}/api/events?limit=1`, { headers: { authorization: `Bearer ${hub.token}` } });
    total = Number(res.headers.get('x-total-count') ?? 0);
    await res.arrayBuffer();
    return total >= n;
  }, EVENTS_TIMEOUT_MS, () => `the store has ${total} of ${n} events after ${EVENTS_TIMEOUT_MS / 1000} s\n${hub.tail()}`);
}

/** `GET /api/events?limit=50` at `rate`/s for `seconds`; returns the latencies, ms. @throws on a non-200 answer or one without 50 events. */
async function measureRest(hub: HubProcess, seconds: number, rate: number): Promise<number[]> {
  const lat: number[] = [];
  const interval = 1000 / rate;
  const end = performance.now() + seconds * 1000;
  let next = performance.now();
  while (performance.now() < end) {
    const t0 = performance.now();
    const res = await fetch(`${hub.base}/api/events?limit=50`, { headers: { authorization: `Bearer ${hub.token}` }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = (await res.json()) as unknown[];
    lat.push(performance.now() - t0);
    if (res.status !== 200 || !Array.isArray(body) || body.length !== 50) throw new Error(`GET /api/events?limit=50: ${res.status}, ${Array.isArray(body) ? `${body.length} events` : JSON.stringify(body).slice(0, 200)}`);
    next += interval;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    else next = performance.now();
  }
  return lat;
}

/** Readings of a window: REST latencies, the hub's loop seconds and CPU tick counters. */
interface Window {
  lat: number[];
  loop: LoopSecond[];
  seconds: number;
  hubTicks: number;
  /** Of the hub's main thread (`/proc/<pid>/task/<pid>/stat`). */
  hubMainTicks: number;
  ffmpegTicks: number;
  otherTicks: number;
}

/** Measures one window: REST latency, the hub's loop, CPU of the hub, its ffmpeg children and the rest of the machine. */
async function measureWindow(hub: HubProcess, probeDir: string, seconds: number, rate: number): Promise<Window> {
  const kids = children(hub.pid).filter((c) => c.comm === 'ffmpeg').map((c) => c.pid);
  const cpu = (pids: number[]) => pids.reduce((s, p) => s + (procStat(p)?.cpuTicks ?? 0), 0);
  const main = () => procStat(`${hub.pid}/task/${hub.pid}`)?.cpuTicks ?? 0;
  const [hub0, main0, kids0, m0, own0] = [cpu([hub.pid]), main(), cpu(kids), machineCpuTicks(), cpu([process.pid])];
  const from = Date.now();
  const t0 = performance.now();
  const lat = await measureRest(hub, seconds, rate);
  const s = (performance.now() - t0) / 1000;
  const to = Date.now();
  const [hub1, main1, kids1, m1, own1] = [cpu([hub.pid]), main(), cpu(kids), machineCpuTicks(), cpu([process.pid])];
  await sleep(1100); // the probe's last second
  return {
    lat, loop: loopSeconds(probeDir, from, to), seconds: s,
    hubTicks: hub1 - hub0, hubMainTicks: main1 - main0, ffmpegTicks: kids1 - kids0,
    otherTicks: m1.busy - m0.busy - (hub1 - hub0) - (kids1 - kids0) - (own1 - own0),
  };
}

/** Pools the windows of one phase. */
function pool(ws: Window[]): PhaseFigures {
  const lat = ws.flatMap((w) => w.lat);
  const s = ws.reduce((a, w) => a + w.seconds, 0);
  const pct = (t: number) => round((t / clockTicks() / s) * 100);
  return {
    requests: lat.length,
    p50: round(percentile(lat, 50), 2), p95: round(percentile(lat, 95), 2), p99: round(percentile(lat, 99), 2), max: round(Math.max(...lat), 2),
    loop: loopSummary(ws.flatMap((w) => w.loop)),
    hubCpuPct: pct(ws.reduce((a, w) => a + w.hubTicks, 0)),
    hubMainCpuPct: pct(ws.reduce((a, w) => a + w.hubMainTicks, 0)),
    ffmpegCpuPct: pct(ws.reduce((a, w) => a + w.ffmpegTicks, 0)),
    otherCpuPct: pct(ws.reduce((a, w) => a + w.otherTicks, 0)),
  };
}

/** Adds cameras `cam1…camN` looping the footage. */
async function addCameras(hub: HubProcess, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `cam${i + 1}`);
  for (const name of names) {
    const res = await hub.post('/api/cameras', { name, paths: { detect: pathToFileURL(FOOTAGE).href }, detect: { width: 640, height: 480, fps: 5 } });
    if (res.status !== 201) throw new Error(`POST /api/cameras ${name}: ${res.status} ${res.text}`);
  }
  return names;
}

/** Switches the cameras on (and waits until all are online) or off (and waits until no ffmpeg of the hub runs). */
async function switchCameras(hub: HubProcess, names: string[], on: boolean): Promise<void> {
  for (const name of names) {
    const res = await fetch(`${hub.base}/api/cameras/${name}`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.token}` }, body: JSON.stringify({ enabled: on }) });
    if (res.status !== 200) throw new Error(`PATCH /api/cameras/${name} enabled=${on}: ${res.status} ${await res.text()}`);
  }
  let last: unknown;
  await waitFor(async () => {
    if (!hub.alive()) throw new Error('hub exited');
    if (!on) return children(hub.pid).every((c) => c.comm !== 'ffmpeg');
    const { body } = await hub.get('/api/system');
    last = (body as { cameras?: unknown }).cameras;
    const cams = (body as { cameras?: Record<string, { availability?: string }> }).cameras ?? {};
    return names.every((c) => cams[c]?.availability === 'online');
  }, ONLINE_TIMEOUT_MS, () => `cameras not all ${on ? 'online' : 'stopped'} within ${ONLINE_TIMEOUT_MS / 1000} s; /api/system cameras: ${JSON.stringify(last).slice(0, 2000)}\n${hub.tail()}`);
}

/**
 * Runs the two phases (see the module comment) on one hub, in `rounds` rounds of one
 * `idle` then one `frames` window each.
 * @returns flat figures: `cameras`, `measure_s` (per phase, all rounds), `rounds`,
 *   `rate_per_s`, `events_in_store`; per phase `<idle|frames>_` over all its windows:
 *   `requests`, `p50_ms`, `p95_ms`, `p99_ms`, `max_ms` (request latency),
 *   `loop_delay_p95_ms`, `loop_delay_p99_ms` (median over the seconds), `loop_delay_max_ms`,
 *   `loop_utilisation` (0–1), `gc_ms_per_s` (garbage-collection pauses, ms per second),
 *   `gc_major_per_s`, `hub_cpu_pct` (every thread), `hub_main_cpu_pct` (its main thread),
 *   `ffmpeg_cpu_pct`, `other_cpu_pct` (% of one
 *   core); `frames_per_s`, `frames_mb_per_s` (on the bus, all cameras, during the `frames`
 *   windows), `frame_kb`; `p95_frames_over_idle` and `p99_frames_over_idle` (of the pooled
 *   figures) and `…_rounds_median` (the median of each round's ratio: windows next to each
 *   other in time see the same other load, but each holds fewer samples); the hub's warnings.
 * @throws Error when ffmpeg or the footage is missing, the hub does not start, a camera is
 *   not online within 60 s, or a request fails; the hub is stopped first.
 */
export async function benchRestUnderLoad(opts: BenchRestOptions = {}): Promise<Record<string, number | string>> {
  const n = opts.cameras ?? 8;
  const measureS = opts.measureS ?? 30;
  const rounds = Math.max(1, opts.rounds ?? 3);
  const windowS = measureS / rounds;
  const rate = opts.rate ?? 20;
  const events = opts.events ?? 300;
  if (!existsSync(FOOTAGE)) throw new Error(`${FOOTAGE} is missing (apt-get install opencv-doc)`);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-rest-'));
  const probeDir = join(dir, 'probe');
  mkdirSync(probeDir);
  const out: Record<string, number | string> = {
    cameras: n, measure_s: measureS, rounds, rate_per_s: rate, events_in_store: events,
    detect: '640x480 @ 5 fps, vtest.avi looped, motion on (defaults), detector off',
  };
  let hub: HubProcess | undefined;
  let client: MqttClient | undefined;
  try {
    hub = await startHub({ dir, mqttDevice: true, probeDir, config: { detector: { enabled: false } } });
    await waitIdle(hub.pid); // Node-RED loads after /api/health answers
    const h = hub;
    client = await mqtt.connectAsync(h.mqttUrl, { protocolVersion: 4, ...h.mqtt!, reconnectPeriod: 0 });
    await seedEvents(h, client, events);
    // The frames' consumer (a detector process elsewhere) and the cameras, stopped until their first window.
    let frames = 0;
    let bytes = 0;
    client.on('message', (_t, payload: Buffer) => { frames++; bytes += payload.length; });
    await client.subscribeAsync('vigil/camera/+/frame', { qos: 0 });
    const names = await addCameras(h, n);
    await switchCameras(h, names, false);
    await measureRest(h, 2, rate); // warm-up of the route

    const idle: Window[] = [];
    const loaded: Window[] = [];
    let framesIn = 0;
    let bytesIn = 0;
    let framesS = 0;
    for (let r = 0; r < rounds; r++) {
      if (r > 0) await switchCameras(h, names, false);
      await sleep(1000);
      idle.push(await measureWindow(h, probeDir, windowS, rate));
      await switchCameras(h, names, true);
      await sleep((opts.warmupS ?? 3) * 1000);
      const [f0, b0, t0] = [frames, bytes, performance.now()];
      const measure = () => measureWindow(h, probeDir, windowS, rate);
      if (opts.profileDir && r === rounds - 1) {
        const { result, profile } = await profileWindow(h, probeDir, measure);
        mkdirSync(opts.profileDir, { recursive: true });
        copyFileSync(profile, join(opts.profileDir, 'hub-frames.cpuprofile'));
        loaded.push(result);
      } else {
        loaded.push(await measure());
      }
      framesIn += frames - f0;
      bytesIn += bytes - b0;
      framesS += (performance.now() - t0) / 1000;
    }

    const put = (name: string, f: PhaseFigures) => {
      Object.assign(out, {
        [`${name}_requests`]: f.requests, [`${name}_p50_ms`]: f.p50, [`${name}_p95_ms`]: f.p95, [`${name}_p99_ms`]: f.p99, [`${name}_max_ms`]: f.max,
        [`${name}_loop_delay_p95_ms`]: round(f.loop.delay_p95_ms_median, 1), [`${name}_loop_delay_p99_ms`]: round(f.loop.delay_p99_ms_median, 1),
        [`${name}_loop_delay_max_ms`]: round(f.loop.delay_max_ms, 1), [`${name}_loop_utilisation`]: round(f.loop.elu_mean, 2),
        [`${name}_gc_ms_per_s`]: round(f.loop.gc_ms_per_s, 1), [`${name}_gc_major_per_s`]: round(f.loop.gc_major_per_s, 2),
        [`${name}_hub_cpu_pct`]: f.hubCpuPct, [`${name}_hub_main_cpu_pct`]: f.hubMainCpuPct, [`${name}_ffmpeg_cpu_pct`]: f.ffmpegCpuPct, [`${name}_other_cpu_pct`]: f.otherCpuPct,
      });
    };
    put('idle', pool(idle));
    put('frames', pool(loaded));
    out.frames_per_s = round(framesIn / framesS, 1);
    out.frames_mb_per_s = round(bytesIn / framesS / 1e6, 2);
    out.frame_kb = framesIn ? round(bytesIn / framesIn / 1000, 1) : 0;
    const ratio = (q: number) => {
      const rs = idle.map((w, i) => percentile(loaded[i]!.lat, q) / percentile(w.lat, q)).sort((a, b) => a - b);
      return round(rs[Math.floor((rs.length - 1) / 2)]!, 2);
    };
    out.p95_frames_over_idle = round(Number(out.frames_p95_ms) / Number(out.idle_p95_ms), 2);
    out.p99_frames_over_idle = round(Number(out.frames_p99_ms) / Number(out.idle_p99_ms), 2);
    out.p95_frames_over_idle_rounds_median = ratio(95);
    out.p99_frames_over_idle_rounds_median = ratio(99);
  } finally {
    await client?.endAsync(true).catch(() => undefined);
    await hub?.stop();
    if (hub) Object.assign(out, warningFigures(hub.warnings));
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Prints the figures of {@link benchRestUnderLoad} as a two-column table. */
export function printRest(f: Record<string, number | string>): void {
  console.log(`GET /api/events?limit=50 at ${f.rate_per_s}/s, ${f.measure_s} s per phase in ${f.rounds} rounds: idle vs ${f.cameras} cameras streaming frames (${f.detect})`);
  const rows = ['requests', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'loop_delay_p95_ms', 'loop_delay_p99_ms', 'loop_delay_max_ms', 'loop_utilisation', 'gc_ms_per_s', 'gc_major_per_s', 'hub_cpu_pct', 'hub_main_cpu_pct', 'ffmpeg_cpu_pct', 'other_cpu_pct'];
  console.log(`${'figure'.padEnd(20)} ${'idle'.padStart(8)} ${'frames'.padStart(8)}`);
  for (const r of rows) console.log(`${r.padEnd(20)} ${String(f[`idle_${r}`]).padStart(8)} ${String(f[`frames_${r}`]).padStart(8)}`);
  console.log(`frames on the bus: ${f.frames_per_s}/s, ${f.frames_mb_per_s} MB/s (${f.frame_kb} kB each)`);
  console.log(`p95 frames/idle = ${f.p95_frames_over_idle}, p99 frames/idle = ${f.p99_frames_over_idle} (pooled); medians of the rounds' ratios: p95 ${f.p95_frames_over_idle_rounds_median}, p99 ${f.p99_frames_over_idle_rounds_median}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const profileDir = /^--profile=(.+)$/.exec(process.argv.find((a) => a.startsWith('--profile=')) ?? '')?.[1];
  printRest(await benchRestUnderLoad({ measureS: args[0] ? Number(args[0]) : undefined, cameras: args[1] ? Number(args[1]) : undefined, profileDir }));
  process.exit();
}
