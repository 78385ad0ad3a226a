/**
 * The object-detection model, loaded in-process (call it from a worker thread: see
 * `inference-pool.ts`; inference is CPU-bound and blocks the thread's event loop).
 *
 * Model: the COCO CenterNet (MobileNetV3 backbone, "MB3-CenterNet",
 * https://github.com/610265158/mobilenetv3_centernet) shipped inside the
 * `@vladmandic/human` npm package as `models/centernet.json` + `centernet.bin` (~4 MB).
 * It knows the 80 COCO classes (`person`, `car`, `dog`, …) and takes a 512×512 RGB
 * input: human stretches the whole frame to 512×512 (no letterbox), so boxes are
 * mapped back to the frame with independent x/y scales.
 *
 * Runtime: human's Node builds on TensorFlow.js 4.22 — `human.node.js` with the native
 * `tensorflow` backend when `@tensorflow/tfjs-node` can be imported, else
 * `human.node-wasm.js` with the `wasm` backend (single-threaded SIMD in Node). No
 * network is used: models and `.wasm` binaries are read from `node_modules`.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Box } from '../protocol/tracked-object.ts';
import type { RawDetection } from './types.ts';

const require = createRequire(import.meta.url);

/** Which TensorFlow.js backend to run on. `auto` = `tensorflow` if installed, else `wasm`. */
export type DetectorBackend = 'auto' | 'wasm' | 'tensorflow';

/** Options of {@link loadObjectModel}. */
export interface LoadObjectModelOptions {
  /** Backend to use; default `auto` (tfjs-node if `@tensorflow/tfjs-node` imports, else wasm). */
  backend?: DetectorBackend;
  /**
   * Minimum model score kept, 0–1 (human's `object.minConfidence`); default 0.2.
   * Keep it low: per-label thresholds are applied downstream.
   */
  minScore?: number;
  /** Maximum detections per frame after NMS (human's `object.maxDetected`); default 20. */
  maxDetected?: number;
  /** IoU above which NMS drops the lower-scored box, 0–1; default 0.4 (human's default). */
  iouThreshold?: number;
  /** Run one inference on a blank frame after loading so the first real frame is not slow; default true. */
  warmup?: boolean;
}

/** A loaded object-detection model (one per thread, shared by every handle of the thread). */
export interface ObjectModel {
  /**
   * Detects objects in one frame.
   * @param rgb packed RGB24 pixels, row-major, no padding: `width * height * 3` bytes.
   * @param width frame width, px.
   * @param height frame height, px.
   * @returns detections with COCO labels, scores 0–1 (2 decimals, as human truncates them),
   *   boxes `[x_min, y_min, x_max, y_max]` in integer px of this frame, clamped to it;
   *   at most `maxDetected`, only scores ≥ `minScore`. Calls are serialized per thread.
   * @throws Error if the buffer size does not match the dimensions, the handle was
   *   disposed, or the model fails.
   */
  detect(rgb: Buffer, width: number, height: number): Promise<RawDetection[]>;
  /** TensorFlow.js backend in use: `wasm` or `tensorflow`. */
  readonly backend: string;
  /** Model input side, px (the frame is resized to `inputSize`×`inputSize`): 512 for CenterNet. */
  readonly inputSize: number;
  /** Releases this handle; the model's weights are freed when the thread's last handle is disposed. */
  dispose(): void;
}

/** Minimal shape of the parts of human's `Human` we use (its `.d.ts` types `tf` as `any`). */
interface HumanLike {
  config: { backend: string };
  tf: TfLike;
  env: { initial: boolean };
  models: { models: Record<string, GraphModelLike | null>; reset(): void };
  load(config?: Record<string, unknown>): Promise<void>;
  detect(input: unknown, config?: Record<string, unknown>): Promise<HumanResult>;
}

interface HumanResult {
  error: string | null;
  object: Array<{ score: number; label: string; boxRaw: [number, number, number, number] }>;
}

interface GraphModelLike {
  inputs: Array<{ shape?: number[] }>;
  dispose(): void;
}

interface TensorLike {
  dispose(): void;
}

interface TfLike {
  getBackend(): string;
  tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): TensorLike;
  zeros(shape: number[], dtype: 'int32'): TensorLike;
  io: {
    getLoadHandlers(url: string): unknown[];
    registerLoadRouter(router: (url: string | string[]) => unknown): void;
    getModelArtifactsForJSON(
      json: unknown,
      loadWeights: (manifest: Array<{ paths: string[]; weights: unknown[] }>) => Promise<[unknown[], ArrayBuffer]>,
    ): Promise<unknown>;
  };
}

interface Loaded {
  human: HumanLike;
  backend: string;
  inputSize: number;
  refs: number;
  /** Serializes `human.detect` (human keeps per-instance state between calls). */
  chain: Promise<unknown>;
}

const HUMAN_DIR = path.dirname(require.resolve('@vladmandic/human'));
const MODEL_FILE = path.join(HUMAN_DIR, '..', 'models', 'centernet.json');
const WASM_DIR = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
const DEFAULT_INPUT_SIZE = 512;

/** This thread's model: loading or loaded. `pending` counts callers still awaiting `promise`. */
let current: { backend: 'wasm' | 'tensorflow'; promise: Promise<Loaded>; pending: number } | null = null;
let fileRouterRegistered = false;

/**
 * Loads the COCO CenterNet object model (from `@vladmandic/human`'s package, 80 classes,
 * 512×512 input) once per thread and returns a handle to it. Later calls in the same
 * thread reuse the loaded model (each handle keeps its own `minScore`/`maxDetected`).
 *
 * @throws Error if `backend: 'tensorflow'` is asked and `@tensorflow/tfjs-node` cannot be
 *   imported, if the model or the wasm binaries cannot be read, if TF.js cannot switch to
 *   the backend, or if the thread already holds the model on a different backend.
 */
export async function loadObjectModel(opts: LoadObjectModelOptions = {}): Promise<ObjectModel> {
  const minScore = opts.minScore ?? 0.2;
  const maxDetected = opts.maxDetected ?? 20;
  const iouThreshold = opts.iouThreshold ?? 0.4;
  if (!(minScore >= 0 && minScore <= 1)) throw new RangeError(`minScore must be within 0–1, got ${minScore}`);
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new RangeError(`iouThreshold must be within 0–1, got ${iouThreshold}`);
  if (!Number.isInteger(maxDetected) || maxDetected < 1) throw new RangeError(`maxDetected must be a positive integer, got ${maxDetected}`);

  const backend = await resolveBackend(opts.backend ?? 'auto');
  if (current && current.backend !== backend) {
    throw new Error(`object model already loaded on backend '${current.backend}' in this thread; cannot also load '${backend}'`);
  }
  if (!current) {
    const promise = loadHuman(backend, opts.warmup ?? true);
    current = { backend, promise, pending: 0 };
    promise.catch(() => {
      if (current?.promise === promise) current = null;
    });
  }
  const entry = current;
  entry.pending++;
  let loaded: Loaded;
  try {
    loaded = await entry.promise;
  } finally {
    entry.pending--;
  }
  loaded.refs++;
  let disposed = false;
  const objectConfig = { object: { enabled: true, minConfidence: minScore, maxDetected, iouThreshold, skipFrames: 0, skipTime: 0 } };

  return {
    backend: loaded.backend,
    inputSize: loaded.inputSize,
    detect(rgb: Buffer, width: number, height: number): Promise<RawDetection[]> {
      if (disposed) return Promise.reject(new Error('object model handle is disposed'));
      if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
        return Promise.reject(new RangeError(`invalid frame size ${width}x${height}`));
      }
      if (rgb.length !== width * height * 3) {
        return Promise.reject(new RangeError(`RGB buffer is ${rgb.length} bytes, expected ${width * height * 3} for ${width}x${height}x3`));
      }
      const run = loaded.chain.then(() => runDetect(loaded, rgb, width, height, objectConfig));
      loaded.chain = run.catch(() => undefined);
      return run;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      loaded.refs--;
      if (loaded.refs > 0) return;
      // Last handle in this thread: free the weights and let the next load start afresh.
      void loaded.chain.then(() => {
        if (loaded.refs > 0 || entry.pending > 0) return; // re-acquired meanwhile
        const graph = loaded.human.models.models['centernet'];
        try {
          graph?.dispose();
        } catch {
          /* already freed */
        }
        loaded.human.models.reset();
        loaded.human.env.initial = true; // makes human re-read the model on a later load
        if (current === entry) current = null;
      });
    },
  };
}

async function runDetect(
  loaded: Loaded,
  rgb: Buffer,
  width: number,
  height: number,
  objectConfig: Record<string, unknown>,
): Promise<RawDetection[]> {
  const { human } = loaded;
  const view = new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length);
  const input = human.tf.tensor3d(view, [height, width, 3], 'int32');
  try {
    const res = await human.detect(input, objectConfig);
    if (res.error) throw new Error(`object detection failed: ${res.error}`);
    const out: RawDetection[] = [];
    for (const o of res.object) {
      const [x, y, w, h] = o.boxRaw; // normalized 0–1 [x, y, width, height]
      const box: Box = [
        clamp(Math.round(x * width), 0, width),
        clamp(Math.round(y * height), 0, height),
        clamp(Math.round((x + w) * width), 0, width),
        clamp(Math.round((y + h) * height), 0, height),
      ];
      if (box[2] <= box[0] || box[3] <= box[1]) continue;
      out.push({ label: o.label, score: o.score, box });
    }
    return out;
  } finally {
    input.dispose();
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

async function tfjsNodeAvailable(): Promise<boolean> {
  const name = '@tensorflow/tfjs-node'; // not a dependency: only used when installed
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

async function resolveBackend(wanted: DetectorBackend): Promise<'wasm' | 'tensorflow'> {
  if (wanted === 'wasm') return 'wasm';
  if (current) {
    if (wanted === 'auto') return current.backend;
  }
  const hasNode = await tfjsNodeAvailable();
  if (wanted === 'tensorflow' && !hasNode) {
    throw new Error("backend 'tensorflow' needs @tensorflow/tfjs-node, which cannot be imported here; use 'wasm' or 'auto'");
  }
  return hasNode ? 'tensorflow' : 'wasm';
}

async function loadHuman(backend: 'wasm' | 'tensorflow', warmup: boolean): Promise<Loaded> {
  // The wasm backend's Emscripten glue adds process-wide `uncaughtException` /
  // `unhandledRejection` listeners that re-throw (turning any stray rejection into a
  // crash); they are removed once the backend is up.
  const before = snapshotListeners();
  try {
    return await loadHumanInner(backend, warmup);
  } finally {
    removeAddedListeners(before);
  }
}

type ListenerSnapshot = { exception: Set<unknown>; rejection: Set<unknown> };

function snapshotListeners(): ListenerSnapshot {
  return {
    exception: new Set<unknown>(process.listeners('uncaughtException')),
    rejection: new Set<unknown>(process.listeners('unhandledRejection')),
  };
}

function removeAddedListeners(before: ListenerSnapshot): void {
  for (const l of process.listeners('uncaughtException')) if (!before.exception.has(l)) process.removeListener('uncaughtException', l);
  for (const l of process.listeners('unhandledRejection')) if (!before.rejection.has(l)) process.removeListener('unhandledRejection', l);
}

async function loadHumanInner(backend: 'wasm' | 'tensorflow', warmup: boolean): Promise<Loaded> {
  const bundle = backend === 'tensorflow' ? 'human.node.js' : 'human.node-wasm.js';
  const mod = require(path.join(HUMAN_DIR, bundle)) as { Human: new (config: Record<string, unknown>) => HumanLike };
  const config: Record<string, unknown> = {
    backend,
    // Model and wasm files come from node_modules; nothing is fetched.
    modelBasePath: '',
    wasmPath: WASM_DIR,
    wasmPlatformFetch: false,
    debug: false,
    async: false,
    warmup: 'none',
    cacheModels: false,
    cacheSensitivity: 0, // never reuse the previous frame's results
    filter: { enabled: false },
    gesture: { enabled: false },
    face: { enabled: false },
    body: { enabled: false },
    hand: { enabled: false },
    segmentation: { enabled: false },
    object: { enabled: true, modelPath: 'file://' + MODEL_FILE, skipFrames: 0, skipTime: 0 },
  };
  const human = new mod.Human(config);
  if (backend === 'wasm') registerFileRouter(human.tf);

  await human.load();
  const actual = human.tf.getBackend();
  if (actual !== backend) {
    const hint = backend === 'wasm' ? `; wasm binaries expected in ${WASM_DIR}` : '';
    throw new Error(`TensorFlow.js backend '${backend}' failed to initialize (got '${actual}')${hint}`);
  }
  const graph = human.models.models['centernet'];
  let inputSize = DEFAULT_INPUT_SIZE;
  try {
    // Throws when human swallowed a load error (it logs and keeps an empty GraphModel).
    const shape = graph?.inputs[0]?.shape;
    if (!graph) throw new Error('no model');
    if (shape && typeof shape[2] === 'number' && shape[2] > 0) inputSize = shape[2];
  } catch {
    throw new Error(`object model failed to load from ${MODEL_FILE}`);
  }
  const loaded: Loaded = { human, backend: actual, inputSize, refs: 0, chain: Promise.resolve() };
  if (warmup) {
    const blank = human.tf.zeros([64, 64, 3], 'int32');
    try {
      const res = await human.detect(blank, { object: { enabled: true } });
      if (res.error) throw new Error(`object model warm-up failed: ${res.error}`);
    } finally {
      blank.dispose();
    }
  }
  return loaded;
}

/**
 * Registers a `file://` model loader with TF.js (the pure-JS build has none; tfjs-node
 * brings its own, hence only for wasm and only if no other handler claims `file://`).
 * Once per thread; the face model's worker uses it too.
 */
export function registerFileRouter(tf: Pick<TfLike, 'io'>): void {
  if (fileRouterRegistered) return;
  fileRouterRegistered = true;
  if (tf.io.getLoadHandlers('file:///probe/model.json').length > 0) return;
  tf.io.registerLoadRouter((url) => {
    if (typeof url !== 'string' || !url.startsWith('file://')) return null;
    const file = url.slice('file://'.length);
    return {
      load: async () => {
        const json = JSON.parse(await readFile(file, 'utf8')) as unknown;
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const specs: unknown[] = [];
          const parts: Buffer[] = [];
          for (const group of manifest) {
            specs.push(...group.weights);
            for (const p of group.paths) parts.push(await readFile(path.join(path.dirname(file), p)));
          }
          const all = Buffer.concat(parts);
          const data = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
          return [specs, data];
        });
      },
    };
  });
}
