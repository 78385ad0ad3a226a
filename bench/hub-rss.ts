/**
 * Hub memory/CPU benchmark: a real hub as its own process (`node --import tsx hub/main.ts`,
 * embedded broker, 2 detector workers, demo off), measured idle and then with cameras on
 * a real RTSP test camera (`test/helpers/rtsp.ts`, the 384×288 `/sub` stream, decoded at
 * 640 px / 5 fps per camera).
 *
 * Figures come from `/proc`: `VmRSS` of the hub process (its worker threads included) and
 * of its ffmpeg children, and `utime + stime` for CPU. Linux only.
 *
 * Run: `npx tsx bench/hub-rss.ts [cameras] [settleMs]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRtspServer, type RtspServer } from '../test/helpers/rtsp.ts';
import { MIB, children, clockTicks, median, procStat, pssBytes, rssBytes, runtimeOf, sleep, startHub, waitFor, warningFigures, type HubProcess } from './hub-process.ts';

const ONLINE_TIMEOUT_MS = 60_000;
const SAMPLES = 5;
const SAMPLE_GAP_MS = 1_000;

/** Options of {@link benchHubRss}. */
export interface BenchHubRssOptions {
  /** Cameras created on the one RTSP test camera; default 4. */
  cameras?: number;
  /** Settle time after all cameras are online, ms; default 20 000. The idle settle is half of it (default 10 s). */
  settleMs?: number;
}

const round = (v: number, digits = 1): number => Number(v.toFixed(digits));

/**
 * Starts a hub process and measures its memory idle and with `cameras` cameras on a real
 * RTSP stream (640 px wide, 5 fps detect each), then stops everything it started.
 *
 * @returns flat figures: `idle_rss_mib` (median of 5 hub VmRSS samples 1 s apart after the idle
 *   settle, MiB), `idle_detector_runtime` (`/api/system` `components.detector.state.runtime` then:
 *   `not loaded` when the model waits for the first camera), `detector_runtime` (with the cameras),
 *   `cams<N>_rss_mib` (median of 5 hub VmRSS samples 1 s apart, MiB), `cams<N>_rss_delta_mib`,
 *   `ffmpeg_count` and `ffmpeg_rss_mib_total` (summed VmRSS of the hub's ffmpeg children,
 *   median over the samples, MiB; shared library pages counted in every process),
 *   `ffmpeg_pss_mib_total` (the same as PSS from `smaps_rollup`, shared pages split, MiB),
 *   `cams<N>_hub_cpu_pct` and `ffmpeg_cpu_pct_total` (CPU time over the sampling window,
 *   % of one core, so up to 100 × cores), `other_children` (names of non-ffmpeg children,
 *   e.g. tsx's `esbuild`), `cameras_online_s` (POST of the first camera → all
 *   online, s), `hub_start_s` (spawn → `/api/health` 200, s), `hub_stop_s`, `hub_exit_code`,
 *   `hub_warnings_running` / `hub_warnings_stopping` (hub log lines at warn or above plus
 *   stderr lines, before / after SIGTERM) with up to 5 `…_distinct` messages.
 * @throws Error when the hub does not become healthy or the cameras do not come online
 *   within 60 s (the message includes the tail of the hub's output); the hub, the RTSP
 *   server and the temp dir are cleaned up first.
 */
export async function benchHubRss(opts: BenchHubRssOptions = {}): Promise<Record<string, number | string>> {
  const nCams = opts.cameras ?? 4;
  const settleMs = opts.settleMs ?? 20_000;
  const idleSettleMs = Math.round(settleMs / 2);
  const ticks = clockTicks();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-hub-'));
  let hub: HubProcess | undefined;
  let rtsp: RtspServer | undefined;
  const out: Record<string, number | string> = { cameras: nCams };

  try {
    hub = await startHub({ dir, config: { detector: { workers: 2 } } });
    const h = hub;
    const pid = h.pid;
    out.hub_start_s = round(h.startS);

    // Idle RSS falls for a while after start (model load garbage freed), so take a median too.
    await sleep(idleSettleMs);
    const idle: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      if (i > 0) await sleep(SAMPLE_GAP_MS);
      idle.push(rssBytes(pid));
    }
    out.idle_rss_mib = round(median(idle) / MIB);
    const sys = (await h.get('/api/system')).body;
    out.idle_detector_runtime = runtimeOf(sys) ?? '(no detector state yet)';

    rtsp = await startRtspServer();
    const tCams = performance.now();
    const names = Array.from({ length: nCams }, (_, i) => `cam${i + 1}`);
    for (const name of names) {
      const res = await h.post('/api/cameras', { name, paths: { detect: rtsp.subUrl }, detect: { width: 640, fps: 5 } });
      if (res.status !== 201) throw new Error(`POST /api/cameras ${name}: ${res.status} ${res.text}`);
    }
    let lastSystem: unknown;
    await waitFor(async () => {
      if (!h.alive()) throw new Error('hub exited');
      const { body } = await h.get('/api/system');
      lastSystem = body;
      const cams = (body as { cameras?: Record<string, { availability?: string }> }).cameras ?? {};
      return names.every((n) => cams[n]?.availability === 'online');
    }, ONLINE_TIMEOUT_MS, () => `cameras not all online within ${ONLINE_TIMEOUT_MS / 1000} s; /api/system cameras: ${JSON.stringify((lastSystem as { cameras?: unknown })?.cameras)}\n${h.tail()}`);
    out.cameras_online_s = round((performance.now() - tCams) / 1000);

    await sleep(settleMs);

    // Sampling window: hub RSS and ffmpeg RSS per sample, CPU over the whole window.
    const hubRss: number[] = [];
    const ffRss: number[] = [];
    const ffPss: number[] = [];
    const ffCount: number[] = [];
    const ffmpegs = (): Array<{ pid: number; comm: string }> => children(pid).filter((c) => c.comm === 'ffmpeg');
    const ffCpu = (pids: number[]): number => pids.reduce((s, p) => s + (procStat(p)?.cpuTicks ?? 0), 0);
    const ff0 = ffmpegs().map((c) => c.pid);
    const hubCpu0 = procStat(pid)?.cpuTicks ?? 0;
    const ffCpu0 = ffCpu(ff0);
    const w0 = performance.now();
    for (let i = 0; i < SAMPLES; i++) {
      if (i > 0) await sleep(SAMPLE_GAP_MS);
      hubRss.push(rssBytes(pid));
      const ff = ffmpegs();
      ffCount.push(ff.length);
      ffRss.push(ff.reduce((s, c) => s + rssBytes(c.pid), 0));
      ffPss.push(ff.reduce((s, c) => s + pssBytes(c.pid), 0));
    }
    const wall = (performance.now() - w0) / 1000;
    const hubCpu1 = procStat(pid)?.cpuTicks ?? 0;
    const ffCpu1 = ffCpu(ff0); // same processes (a restarted ffmpeg would count as gone)
    const loaded = (await h.get('/api/system')).body;
    out.detector_runtime = runtimeOf(loaded) ?? '?';

    const k = `cams${nCams}`;
    out[`${k}_rss_mib`] = round(median(hubRss) / MIB);
    out[`${k}_rss_delta_mib`] = round(Number(out[`${k}_rss_mib`]) - Number(out.idle_rss_mib));
    out.ffmpeg_count = median(ffCount);
    out.ffmpeg_rss_mib_total = round(median(ffRss) / MIB);
    out.ffmpeg_pss_mib_total = round(median(ffPss) / MIB);
    out[`${k}_hub_cpu_pct`] = round(((hubCpu1 - hubCpu0) / ticks / wall) * 100);
    out.ffmpeg_cpu_pct_total = round(((ffCpu1 - ffCpu0) / ticks / wall) * 100);
    out.other_children = children(pid).filter((c) => c.comm !== 'ffmpeg').map((c) => c.comm).join(',') || '-';

    const stopped = await h.stop();
    out.hub_stop_s = round(stopped.stopS);
    out.hub_exit_code = stopped.exitCode;
  } finally {
    await hub?.stop();
    await rtsp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // Anything the hub logged at warn or above, and anything on stderr, while running and while stopping.
  return { ...out, ...warningFigures(hub?.warnings ?? []) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cameras = process.argv[2] ? Number(process.argv[2]) : undefined;
  const settleMs = process.argv[3] ? Number(process.argv[3]) : undefined;
  const figures = await benchHubRss({ cameras, settleMs });
  console.log('Hub memory/CPU benchmark (MiB = VmRSS / 2^20; CPU % of one core)');
  const pad = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(pad)}  ${v}`);
}
