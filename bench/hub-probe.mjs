/**
 * A probe the benchmarks preload into a hub process (`node --import ./bench/hub-probe.mjs`,
 * see `startHub({ probeDir })` in `bench/hub-process.ts`); plain JavaScript because it
 * loads before tsx. It never changes what the hub does.
 *
 * - Event loop: every second, one JSON line appended to `<VIGIL_PROBE_DIR>/loop.jsonl`:
 *   `{t, delay_p50_ms, delay_p95_ms, delay_p99_ms, delay_max_ms, elu, gc_ms, gc_major}` — the main thread's
 *   event-loop delay over that second (`perf_hooks.monitorEventLoopDelay`, 10 ms
 *   resolution: the figures include those 10 ms of timer granularity, so an idle loop reads
 *   ≈ 10 ms), its utilisation (0–1, `performance.eventLoopUtilization`), and the garbage
 *   collections that ended in that second (`PerformanceObserver` `gc` entries): their
 *   summed pause, ms, and how many were major (mark-compact).
 * - CPU profile of a window: SIGUSR2 starts the V8 sampling profiler (node:inspector,
 *   100 µs interval), the next SIGUSR2 stops it and writes
 *   `<VIGIL_PROBE_DIR>/window-<n>.cpuprofile` (then `window-<n>.done`).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector';
import { PerformanceObserver, constants, monitorEventLoopDelay, performance } from 'node:perf_hooks';

const dir = process.env.VIGIL_PROBE_DIR;
if (dir) {
  const NS_PER_MS = 1e6;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let elu = performance.eventLoopUtilization();
  let gcMs = 0;
  let gcMajor = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMajor++;
    }
  }).observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const used = performance.eventLoopUtilization(now, elu);
    elu = now;
    const line = {
      t: Date.now(),
      delay_p50_ms: h.percentile(50) / NS_PER_MS,
      delay_p95_ms: h.percentile(95) / NS_PER_MS,
      delay_p99_ms: h.percentile(99) / NS_PER_MS,
      delay_max_ms: h.max / NS_PER_MS,
      elu: used.utilization,
      gc_ms: gcMs,
      gc_major: gcMajor,
    };
    h.reset();
    gcMs = 0;
    gcMajor = 0;
    try { appendFileSync(join(dir, 'loop.jsonl'), `${JSON.stringify(line)}\n`); } catch { /* dir gone: the bench ended */ }
  }, 1000);
  timer.unref();

  let session;
  let windows = 0;
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 100 }, () => session.post('Profiler.start')));
      return;
    }
    const s = session;
    session = undefined;
    const n = ++windows;
    s.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `window-${n}.cpuprofile`), JSON.stringify(res.profile));
      writeFileSync(join(dir, `window-${n}.done`), err ? String(err) : 'ok');
      s.disconnect();
    });
  });
}
