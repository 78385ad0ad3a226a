/**
 * The object-detection model on onnxruntime-node: the same COCO CenterNet as `model.ts`
 * (MB3-CenterNet shipped by `@vladmandic/human`), converted to ONNX at install
 * (`onnx/convert-centernet.ts`, cached in `node_modules/.cache/vigil/centernet.onnx`, or
 * converted on first use), with human's pre/post-processing reproduced in TypeScript
 * (`onnx/resize-bilinear.ts`, `onnx/centernet-decode.ts`). Same {@link ObjectModel}
 * contract as `loadObjectModel()`; ~4× faster than TF.js wasm at the same 512 px input,
 * and the input side is selectable (320 px is the default: ~3× cheaper again).
 *
 * Threads: onnxruntime-node's `session.run()` is synchronous native code run on the JS
 * thread (its promise only defers it to `setImmediate`), so by default (`runIn: 'worker'`)
 * the session lives in one worker thread per process (`onnx/onnx-worker.ts`) and `detect()`
 * never blocks the caller's event loop. `runIn: 'caller'` runs it on the calling thread
 * instead — for code that is already in a worker thread (e.g. an inference pool worker).
 *
 * Sharing: every handle with the same `runIn` in a thread (for `worker`: in the process's
 * main thread) shares one session, loaded on the first call (not at import) and released
 * when the last handle is disposed. Frames of all handles are run one at a time, in call
 * order; each handle keeps its own `inputSize` and thresholds.
 */
import type { ObjectModel } from './model.ts';
import type { CenternetRunOptions, RunnerTimings } from './onnx/centernet-runner.ts';
import { checkFrame, checkInputSize } from './onnx/frame-checks.ts';
import { OnnxWorkerHost } from './onnx/onnx-host.ts';
import type { RawDetection } from './types.ts';

export type { ObjectModel } from './model.ts';

/** Options of {@link loadOnnxObjectModel}. */
export interface LoadOnnxObjectModelOptions {
  /**
   * Model input side, px: the frame is stretched to `inputSize`×`inputSize` (no letterbox,
   * as human does). A multiple of 32 within 64–1024; default 320. 512 is the size the model
   * was trained for and what `model.ts` uses (best for small/far objects); 320 is ~3× faster.
   */
  inputSize?: number;
  /**
   * onnxruntime intra-op threads for the shared session; default 1 (one core per inference;
   * run several detectors/processes for throughput). Fixed by the first load: a later load
   * asking for another value throws while the session is loaded.
   */
  threads?: number;
  /** Minimum score kept, 0–1 (human's `object.minConfidence`); default 0.2. */
  minScore?: number;
  /** Maximum detections per frame after NMS; default 20. */
  maxDetected?: number;
  /** IoU above which NMS drops the lower-scored box, 0–1; default 0.4 (human's default). */
  iouThreshold?: number;
  /**
   * Keep each frame's aspect ratio: `inputSize` is the long side, the short side scaled
   * alike (a multiple of 32); default false (stretched to `inputSize`², as human does).
   */
  keepAspect?: boolean;
  /** Run one inference on a blank frame at `inputSize` after loading; default true. */
  warmup?: boolean;
  /** Where the session runs: `worker` (default; never blocks the caller) or `caller` (see the file header). */
  runIn?: 'worker' | 'caller';
  /** A converted `.onnx` to load instead of the cached conversion (e.g. from `convert-centernet.ts <out.onnx>`). */
  modelPath?: string;
}

/** Value of {@link ObjectModel.backend} for this loader. */
export const ONNX_BACKEND = 'onnxruntime-cpu';

interface Engine {
  detect(rgb: Uint8Array, width: number, height: number, inputSize: number, decode: CenternetRunOptions): Promise<{ detections: RawDetection[]; timings: RunnerTimings }>;
  close(): Promise<void>;
  /** Non-null once the engine cannot run anymore (worker died). */
  readonly dead: string | null;
}

interface Entry {
  key: string;
  promise: Promise<Engine>;
  refs: number;
  /** Callers still awaiting `promise`. */
  pending: number;
  /** Input sizes already warmed up. */
  warmed: Set<number>;
}

/** Loaded or loading sessions of this thread, by `runIn`. */
const entries = new Map<'worker' | 'caller', Entry>();

/**
 * Loads (once per thread and `runIn`) the CenterNet ONNX model and returns a handle to it.
 *
 * ```ts
 * const model = await loadOnnxObjectModel({ inputSize: 320 });
 * const detections = await model.detect(rgb, 768, 576); // [{ label: 'person', score: 0.71, box: [x1, y1, x2, y2] }, …]
 * model.dispose();
 * ```
 * @throws RangeError on invalid options; Error if the session is already loaded with another
 *   `threads`/`modelPath`, or the model cannot be converted/loaded (e.g. onnxruntime-node or
 *   `@vladmandic/human` missing).
 */
/** The ONNX model handle: {@link ObjectModel}, plus a release that resolves once the session is closed (if this was the last handle). */
export interface OnnxObjectModel extends ObjectModel {
  /** Like `dispose()`, awaiting the session's close; call it only when no `detect` is pending. */
  release(): Promise<void>;
  /**
   * Like `detect`, with the model's own time (resize + inference + decode in the session's
   * thread, ms), which leaves out the wait behind other handles' runs.
   */
  detectTimed(rgb: Buffer, width: number, height: number): Promise<{ detections: RawDetection[]; ms: number }>;
}

export async function loadOnnxObjectModel(opts: LoadOnnxObjectModelOptions = {}): Promise<OnnxObjectModel> {
  const inputSize = opts.inputSize ?? 320;
  const threads = opts.threads ?? 1;
  const minScore = opts.minScore ?? 0.2;
  const maxDetected = opts.maxDetected ?? 20;
  const iouThreshold = opts.iouThreshold ?? 0.4;
  const runIn = opts.runIn ?? 'worker';
  checkInputSize(inputSize);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  if (!(minScore >= 0 && minScore <= 1)) throw new RangeError(`minScore must be within 0–1, got ${minScore}`);
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new RangeError(`iouThreshold must be within 0–1, got ${iouThreshold}`);
  if (!Number.isInteger(maxDetected) || maxDetected < 1) throw new RangeError(`maxDetected must be a positive integer, got ${maxDetected}`);
  if (runIn !== 'worker' && runIn !== 'caller') throw new RangeError(`runIn must be 'worker' or 'caller', got ${String(runIn)}`);

  const key = `${threads}|${opts.modelPath ?? ''}`;
  let entry = entries.get(runIn);
  if (entry && entry.key !== key) {
    throw new Error(`ONNX object model already loaded (${runIn}) with threads|model '${entry.key}'; cannot also load '${key}'`);
  }
  if (!entry) {
    const promise = startEngine(runIn, threads, opts.modelPath);
    const created: Entry = { key, promise, refs: 0, pending: 0, warmed: new Set() };
    entry = created;
    entries.set(runIn, created);
    promise.catch(() => {
      if (entries.get(runIn) === created) entries.delete(runIn);
    });
  }
  const e = entry;
  e.pending++;
  let engine: Engine;
  try {
    engine = await e.promise;
    if ((opts.warmup ?? true) && !e.warmed.has(inputSize)) {
      e.warmed.add(inputSize);
      try {
        await engine.detect(new Uint8Array(64 * 64 * 3), 64, 64, inputSize, { minScore, maxDetected, iouThreshold });
      } catch (err) {
        e.warmed.delete(inputSize);
        if (e.refs === 0 && e.pending === 1) {
          if (entries.get(runIn) === e) entries.delete(runIn);
          void engine.close().catch(() => undefined);
        }
        throw new Error(`ONNX object model warm-up failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    e.pending--;
  }
  e.refs++;
  const decode: CenternetRunOptions = { minScore, maxDetected, iouThreshold, keepAspect: opts.keepAspect ?? false };
  let disposed = false;

  return {
    backend: ONNX_BACKEND,
    inputSize,
    detect: (rgb: Buffer, width: number, height: number) => timed(rgb, width, height).then((r) => r.detections),
    detectTimed: (rgb: Buffer, width: number, height: number) => timed(rgb, width, height),
    dispose(): void {
      void release();
    },
    release: () => release(),
  };

  function timed(rgb: Buffer, width: number, height: number): Promise<{ detections: RawDetection[]; ms: number }> {
    if (disposed) return Promise.reject(new Error('object model handle is disposed'));
    try {
      checkFrame(rgb, width, height);
    } catch (err) {
      return Promise.reject(err);
    }
    if (engine.dead) {
      if (entries.get(runIn) === e) entries.delete(runIn); // the next load starts a new one
      return Promise.reject(new Error(engine.dead));
    }
    return engine.detect(rgb, width, height, inputSize, decode)
      .then((r) => ({ detections: r.detections, ms: r.timings.resizeMs + r.timings.inferenceMs + r.timings.decodeMs }));
  }

  async function release(): Promise<void> {
    if (disposed) return;
    disposed = true;
    e.refs--;
    if (e.refs > 0 || e.pending > 0) return;
    if (entries.get(runIn) === e) entries.delete(runIn);
    await engine.close().catch(() => undefined);
  }
}

async function startEngine(runIn: 'worker' | 'caller', threads: number, modelPath: string | undefined): Promise<Engine> {
  if (runIn === 'worker') return OnnxWorkerHost.start({ threads, modelPath });
  // Loaded here, not at import: onnxruntime's native library and the converter stay out of
  // threads that only talk to the worker.
  const { CenternetRunner } = await import('./onnx/centernet-runner.ts');
  let model: string | Uint8Array;
  if (modelPath) {
    model = modelPath;
  } else {
    const { ensureCenternetOnnx } = await import('./onnx/centernet-onnx-cache.ts');
    const file = await ensureCenternetOnnx();
    model = file.path ?? file.bytes!;
  }
  const runner = await CenternetRunner.create({ model, threads });
  return {
    detect: (rgb, width, height, inputSize, decode) => runner.detect(rgb, width, height, inputSize, decode),
    close: () => runner.release(),
    dead: null,
  };
}
