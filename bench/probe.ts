/**
 * Reading what `bench/hub-probe.mjs` writes in a hub process started with
 * `startHub({ probeDir })`: the hub's event-loop delay over a time window, and CPU
 * profiles of a window (the hub's side of a benchmark, without its start-up).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, type HubProcess } from './hub-process.ts';

/** One line of `loop.jsonl`: a second of the hub's main thread. */
export interface LoopSecond {
  /** End of the second, Unix ms. */
  t: number;
  /** Event-loop delay percentiles and maximum over the second, ms (10 ms timer resolution included). */
  delay_p50_ms: number;
  delay_p95_ms: number;
  delay_p99_ms: number;
  delay_max_ms: number;
  /** Event-loop utilisation over the second, 0–1. */
  elu: number;
  /** Garbage-collection pauses that ended in the second, summed, ms; and how many were major (mark-compact). */
  gc_ms: number;
  gc_major: number;
}

/** The probe's seconds that ended within `[from, to]` (Unix ms). */
export function loopSeconds(probeDir: string, from: number, to: number): LoopSecond[] {
  const file = join(probeDir, 'loop.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as LoopSecond)
    .filter((s) => s.t > from && s.t <= to);
}

/**
 * Summary of {@link loopSeconds}: the median over the seconds of each second's p95 and
 * p99 delay, the worst second's maximum, the mean utilisation, and the mean garbage-collection
 * pause per second and major collections per second (ms, utilisation 0–1).
 */
export function loopSummary(seconds: LoopSecond[]): { seconds: number; delay_p95_ms_median: number; delay_p99_ms_median: number; delay_max_ms: number; elu_mean: number; gc_ms_per_s: number; gc_major_per_s: number } {
  const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN; };
  return {
    seconds: seconds.length,
    delay_p95_ms_median: med(seconds.map((s) => s.delay_p95_ms)),
    delay_p99_ms_median: med(seconds.map((s) => s.delay_p99_ms)),
    delay_max_ms: seconds.length ? Math.max(...seconds.map((s) => s.delay_max_ms)) : NaN,
    elu_mean: seconds.length ? seconds.reduce((a, s) => a + s.elu, 0) / seconds.length : NaN,
    gc_ms_per_s: seconds.length ? seconds.reduce((a, s) => a + (s.gc_ms ?? 0), 0) / seconds.length : NaN,
    gc_major_per_s: seconds.length ? seconds.reduce((a, s) => a + (s.gc_major ?? 0), 0) / seconds.length : NaN,
  };
}

/**
 * Profiles the hub (V8 sampler, 100 µs) while `work` runs and returns the path of the
 * `.cpuprofile` written in `probeDir`; summarise it with `bench/cpuprofile-summary.ts`.
 * @throws Error when the profile is not written within 10 s of the end of `work`.
 */
export async function profileWindow<T>(hub: HubProcess, probeDir: string, work: () => Promise<T>): Promise<{ result: T; profile: string }> {
  const before = countWindows(probeDir);
  process.kill(hub.pid, 'SIGUSR2');
  await sleep(200); // the session starts asynchronously
  let result: T;
  try {
    result = await work();
  } finally {
    process.kill(hub.pid, 'SIGUSR2');
  }
  const n = before + 1;
  const deadline = Date.now() + 10_000;
  while (!existsSync(join(probeDir, `window-${n}.done`))) {
    if (Date.now() > deadline) throw new Error(`no CPU profile from the hub within 10 s (${probeDir})`);
    await sleep(100);
  }
  return { result, profile: join(probeDir, `window-${n}.cpuprofile`) };
}

function countWindows(dir: string): number {
  let n = 0;
  while (existsSync(join(dir, `window-${n + 1}.done`))) n++;
  return n;
}
