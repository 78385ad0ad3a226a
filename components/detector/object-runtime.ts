/**
 * Where the object model runs, behind one interface for the detector component:
 *
 * - `onnx` (the default when it loads): the COCO CenterNet converted to ONNX
 *   (`onnx/convert-centernet.ts`) on `onnxruntime-node`. ONE model in memory for the whole
 *   process: one session in one worker thread (onnxruntime-node's `run` is synchronous
 *   underneath, so it never runs on this event loop), using `threads` intra-op threads
 *   (default 1); runs are served one at a time, at the region size (default
 *   320 px) or the full-frame size (512 px on the long side, the aspect ratio kept) — the
 *   graph takes any input size that is a multiple of 32.
 * - `tfjs` (the fallback): TF.js (wasm, or tfjs-node when installed) in worker threads
 *   (`inference-pool.ts`), each worker holding its own model copy at 512 px.
 *
 * The model loads when {@link loadObjectRuntime} is called: the detector component calls it
 * when the first camera with detection enabled appears, not at start.
 */
import os from 'node:os';
import type { DetectorBackend } from './model.ts';
import { modelInputDims } from './onnx/frame-checks.ts';
import { InferencePool, type PoolLogger } from './inference-pool.ts';
import type { RawDetection } from './types.ts';

/** Which runtime to use: `auto` = ONNX, falling back to TF.js when ONNX cannot load. */
export type RuntimeChoice = 'auto' | 'onnx' | 'tfjs';

/** Options of {@link loadObjectRuntime}. */
export interface ObjectRuntimeOptions {
  runtime?: RuntimeChoice;
  /** TF.js backend of the fallback. */
  backend?: DetectorBackend;
  /** Inferences run at once (ONNX: concurrent runs of the one session; TF.js: worker threads); default 1 per core. */
  concurrency: number;
  /** ONNX intra-op threads of the one session; default 1 (measured: 2 threads cost 39–52 % more CPU per inference on 2 cores for 30 % less wall time). */
  threads?: number;
  /** Model input side for regions, px (ONNX); default 320. TF.js always uses 512. */
  regionSize?: number;
  /** Model input side for full frames, px; default 512. */
  fullFrameSize?: number;
  /** Lowest model score kept, 0–1. */
  minScore?: number;
  logger: PoolLogger;
}

/** One inference's outcome. */
export interface RuntimeResult {
  /** Boxes in px of the given image, scores 0–1. */
  detections: RawDetection[];
  /** Model time (pre-processing, inference, decoding; not the wait behind other runs), ms. */
  ms: number;
}

/** A loaded object model. */
export interface ObjectRuntime {
  /** `onnx`, `tfjs-wasm` or `tfjs-tensorflow`. */
  readonly name: string;
  /** Smallest region side, px: the input size a region is scaled to. */
  readonly regionSize: number;
  /** Input size of a full-frame inference, px (its long side when the aspect ratio is kept). */
  readonly fullFrameSize: number;
  /** Model input pixels of one inference on a `width`×`height` image of this `kind`: what it costs. */
  inputPixels(kind: 'region' | 'full', width: number, height: number): number;
  /** Inferences that may run at once. */
  readonly concurrency: number;
  /**
   * Detects objects in a packed RGB24 image (`width * height * 3` bytes), scaled to the
   * region size (`kind: 'region'`, a square crop) or the full-frame size (`'full'`, stretched).
   * @throws Error on a bad buffer or a model failure
   */
  detect(rgb: Buffer, width: number, height: number, kind: 'region' | 'full'): Promise<RuntimeResult>;
  /** Frees the model. */
  stop(): Promise<void>;
}

/**
 * Loads the object model.
 * @throws Error when the chosen runtime cannot load (with `auto`, only when TF.js fails too)
 */
export async function loadObjectRuntime(o: ObjectRuntimeOptions): Promise<ObjectRuntime> {
  const choice = o.runtime ?? 'auto';
  if (choice !== 'tfjs') {
    try {
      return await loadOnnx(o);
    } catch (err) {
      if (choice === 'onnx') throw err;
      o.logger.warn({ err: (err as Error).message }, 'ONNX runtime unavailable; falling back to TF.js');
    }
  }
  return loadTfjs(o);
}

async function loadOnnx(o: ObjectRuntimeOptions): Promise<ObjectRuntime> {
  const { loadOnnxObjectModel } = await import('./onnx-model.ts');
  const regionSize = o.regionSize ?? 320;
  const fullFrameSize = o.fullFrameSize ?? 512;
  const common = { threads: o.threads ?? 1, minScore: o.minScore };
  const region = await loadOnnxObjectModel({ ...common, inputSize: regionSize });
  // Whole frames keep their aspect ratio (640×480 → 512×384: the same people as 512², 28 % cheaper).
  const full = await loadOnnxObjectModel({ ...common, inputSize: fullFrameSize, keepAspect: true });
  const pending = new Set<Promise<unknown>>();
  return {
    name: 'onnx',
    regionSize,
    fullFrameSize,
    concurrency: o.concurrency,
    inputPixels(kind, width, height) {
      if (kind === 'region') return regionSize ** 2;
      const [w, h] = modelInputDims(width, height, fullFrameSize, true);
      return w * h;
    },
    async detect(rgb, width, height, kind) {
      const run = (kind === 'region' ? region : full).detectTimed(rgb, width, height);
      pending.add(run);
      try {
        return await run;
      } finally {
        pending.delete(run);
      }
    },
    async stop() {
      // Closing the session under a running inference aborts the process (Napi::Error): let them finish.
      await Promise.allSettled([...pending]);
      await region.release();
      await full.release();
    },
  };
}

async function loadTfjs(o: ObjectRuntimeOptions): Promise<ObjectRuntime> {
  const pool = new InferencePool({ size: o.concurrency, backend: o.backend, minScore: o.minScore, logger: o.logger });
  await pool.start();
  const info = pool.workerInfo;
  const size = info?.inputSize ?? 512;
  return {
    name: `tfjs-${info?.backend ?? 'wasm'}`,
    regionSize: size,
    fullFrameSize: size,
    concurrency: pool.size,
    inputPixels: () => size * size,
    async detect(rgb, width, height) {
      const r = await pool.detect({ rgb, width, height });
      return { detections: r.detections, ms: r.inferenceMs };
    },
    stop: () => pool.stop(),
  };
}
