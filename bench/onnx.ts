/**
 * ONNX runtime benchmark: the COCO CenterNet on onnxruntime-node (`onnx-model.ts`) against
 * today's TF.js wasm path (`model.ts`), single-threaded, on the same real frames (vtest.avi,
 * 768×576 RGB24 decoded by ffmpeg, spread over the clip).
 *
 * Figures (ms per inference as the caller sees it: resize + model + decode, median over
 * `frames × iterations` calls after a warm-up): TF.js wasm at 512 px (today), ONNX at 512 px
 * and 320 px (1 intra-op thread, session in its worker thread), and the speed-ups against
 * wasm 512. For reference also ONNX with 2 intra-op threads, the split of one ONNX call (resize / onnxruntime run / decode, on the
 * calling thread) and the longest event-loop stall of the caller during ONNX calls, with the
 * session in a worker (the default) and on the calling thread (`runIn: 'caller'`).
 *
 * Run: `npx tsx bench/onnx.ts [frames] [iterations]` (default 10 frames × 3).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { loadObjectModel, type ObjectModel } from '../components/detector/model.ts';
import { loadOnnxObjectModel } from '../components/detector/onnx-model.ts';
import { ensureCenternetOnnx } from '../components/detector/onnx/centernet-onnx-cache.ts';
import { CenternetRunner } from '../components/detector/onnx/centernet-runner.ts';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';
import { FOOTAGE, percentile, round } from './frames.ts';

const W = 768;
const H = 576;

/** Options of {@link benchOnnx}. */
export interface BenchOnnxOptions {
  /** Frames of vtest.avi, spread over the clip; default 10. */
  frames?: number;
  /** Passes over the frames per configuration; default 3. */
  iterations?: number;
}

/** `count` RGB24 frames (768×576) spread evenly over vtest.avi's 795 frames. */
function rgbFrames(count: number): Buffer[] {
  const step = Math.max(1, Math.floor(795 / count));
  const raw = execFileSync(
    ffmpegPath(),
    ['-v', 'error', '-i', FOOTAGE, '-vf', `select=not(mod(n\\,${step}))`, '-fps_mode', 'vfr', '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  const size = W * H * 3;
  const out: Buffer[] = [];
  for (let off = 0; off + size <= raw.length; off += size) out.push(raw.subarray(off, off + size));
  if (out.length === 0) throw new Error(`ffmpeg produced no frames from ${FOOTAGE}`);
  return out;
}

/** Times `model.detect` over every frame `iterations` times (after 2 warm-up calls); returns ms per call. */
async function timeModel(model: ObjectModel, frames: Buffer[], iterations: number): Promise<number[]> {
  for (const f of frames.slice(0, 2)) await model.detect(f, W, H);
  const ms: number[] = [];
  for (let it = 0; it < iterations; it++) {
    for (const f of frames) {
      const t0 = performance.now();
      await model.detect(f, W, H);
      ms.push(performance.now() - t0);
    }
  }
  return ms;
}

/** Longest event-loop delay of this thread while `fn` runs, ms. */
async function maxStall(fn: () => Promise<void>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // Keep the loop busy with short timers so a blocked loop shows up as delay.
  let ticking = true;
  const tick = (): void => {
    if (ticking) setTimeout(tick, 1);
  };
  tick();
  try {
    await fn();
  } finally {
    ticking = false;
    h.disable();
  }
  return h.max / 1e6;
}

/**
 * Runs the benchmark (see the file header).
 * @returns figures keyed by name, times in ms: `wasm512_ms`, `onnx512_ms`, `onnx320_ms`
 *   (medians), their p90s, `speedup_onnx512_vs_wasm512` / `speedup_onnx320_vs_wasm512`
 *   (wasm 512 ms ÷ ONNX ms), `onnx512_2threads_ms` / `onnx320_2threads_ms` (2 intra-op
 *   threads), `onnx512_resize_ms` / `_run_ms` / `_decode_ms` (and 320),
 *   `rss_onnx_load_delta_mb` (process RSS growth from loading the ONNX session and its worker
 *   thread and running the 512 px warm-up, MiB; measured after TF.js was loaded and
 *   disposed), `stall_worker_ms` / `stall_caller_ms` (longest event-loop stall during ONNX
 *   512 calls),
 *   plus `frames`, `calls_per_config`, `cores`.
 * @throws Error if ffmpeg, the footage or a model is missing.
 */
export async function benchOnnx(opts: BenchOnnxOptions = {}): Promise<Record<string, number | string>> {
  const frames = rgbFrames(opts.frames ?? 10);
  const iterations = opts.iterations ?? 3;

  const wasm = await loadObjectModel({ backend: 'wasm' });
  let wasmMs: number[];
  try {
    wasmMs = await timeModel(wasm, frames, iterations);
  } finally {
    wasm.dispose();
  }

  const rssBefore = process.memoryUsage.rss();
  const onnx512 = await loadOnnxObjectModel({ inputSize: 512, threads: 1 });
  const rssLoaded = process.memoryUsage.rss();
  const onnx320 = await loadOnnxObjectModel({ inputSize: 320, threads: 1 });
  let ms512: number[];
  let ms320: number[];
  let stallWorker: number;
  try {
    ms512 = await timeModel(onnx512, frames, iterations);
    ms320 = await timeModel(onnx320, frames, iterations);
    stallWorker = await maxStall(async () => {
      for (const f of frames) await onnx512.detect(f, W, H);
    });
  } finally {
    onnx512.dispose();
    onnx320.dispose();
  }

  // The same with 2 intra-op threads (all cores of this machine on one inference).
  const two512 = await loadOnnxObjectModel({ inputSize: 512, threads: 2 });
  const two320 = await loadOnnxObjectModel({ inputSize: 320, threads: 2 });
  let two512Ms: number[];
  let two320Ms: number[];
  try {
    two512Ms = await timeModel(two512, frames, iterations);
    two320Ms = await timeModel(two320, frames, iterations);
  } finally {
    two512.dispose();
    two320.dispose();
  }

  // Split of one call, and the stall when the session runs on this thread.
  const file = await ensureCenternetOnnx();
  const runner = await CenternetRunner.create({ model: file.path ?? file.bytes!, threads: 1 });
  const split: Record<number, { resize: number[]; run: number[]; decode: number[] }> = {};
  let stallCaller: number;
  try {
    const decode = { minScore: 0.2, maxDetected: 20, iouThreshold: 0.4 };
    for (const size of [512, 320]) {
      const s = (split[size] = { resize: [] as number[], run: [] as number[], decode: [] as number[] });
      await runner.detect(frames[0]!, W, H, size, decode);
      for (const f of frames) {
        const { timings } = await runner.detect(f, W, H, size, decode);
        s.resize.push(timings.resizeMs);
        s.run.push(timings.inferenceMs);
        s.decode.push(timings.decodeMs);
      }
    }
    stallCaller = await maxStall(async () => {
      for (const f of frames) await runner.detect(f, W, H, 512, decode);
    });
  } finally {
    await runner.release();
  }

  const med = (v: number[]): number => round(percentile(v, 50));
  const p90 = (v: number[]): number => round(percentile(v, 90));
  return {
    frames: frames.length,
    frame_size: `${W}x${H}`,
    calls_per_config: frames.length * iterations,
    cores: os.availableParallelism(),
    wasm512_ms: med(wasmMs),
    wasm512_p90_ms: p90(wasmMs),
    onnx512_ms: med(ms512),
    onnx512_p90_ms: p90(ms512),
    onnx320_ms: med(ms320),
    onnx320_p90_ms: p90(ms320),
    speedup_onnx512_vs_wasm512: round(percentile(wasmMs, 50) / percentile(ms512, 50), 2),
    speedup_onnx320_vs_wasm512: round(percentile(wasmMs, 50) / percentile(ms320, 50), 2),
    onnx512_2threads_ms: med(two512Ms),
    onnx320_2threads_ms: med(two320Ms),
    onnx512_resize_ms: round(percentile(split[512]!.resize, 50), 2),
    onnx512_run_ms: med(split[512]!.run),
    onnx512_decode_ms: round(percentile(split[512]!.decode, 50), 2),
    onnx320_resize_ms: round(percentile(split[320]!.resize, 50), 2),
    onnx320_run_ms: med(split[320]!.run),
    onnx320_decode_ms: round(percentile(split[320]!.decode, 50), 2),
    rss_onnx_load_delta_mb: round((rssLoaded - rssBefore) / 1024 / 1024),
    stall_worker_ms: round(stallWorker),
    stall_caller_ms: round(stallCaller),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const frames = process.argv[2] ? Number(process.argv[2]) : undefined;
  const iterations = process.argv[3] ? Number(process.argv[3]) : undefined;
  const figures = await benchOnnx({ frames, iterations });
  const pad = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(pad)}  ${v}`);
  process.exit();
}
