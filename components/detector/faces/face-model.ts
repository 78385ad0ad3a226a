/**
 * The face models, loaded in-process (call it from a worker thread: see `face-runner.ts`;
 * inference blocks the thread's event loop).
 *
 * Models, both shipped inside the `@vladmandic/human` npm package (`models/`):
 * - **BlazeFace** (`blazeface.json`, ~0.6 MB, 256×256 input; MediaPipe's short-range face
 *   detector): face boxes and 6 landmarks. human enlarges each box 1.4× and makes it square.
 * - **FaceRes** (`faceres.json`, ~7 MB, 224×224 input; HSE-FaceRes,
 *   https://github.com/HSE-asavchenko/HSE_FaceRec_tf): a 1024-number face descriptor
 *   (and age/gender, unused) of the face box's crop.
 *
 * human runs them as in its own pipeline (`src/face/face.ts`) with the mesh, iris, emotion,
 * antispoof and liveness models off: measured on real photos, the face mesh's alignment
 * did not change which faces matched (`bench/faces.ts`) and cost ~30 % more time.
 *
 * Runtime: human's Node builds on TensorFlow.js 4.22 — `human.node.js` with tfjs-node
 * when `@tensorflow/tfjs-node` imports, else `human.node-wasm.js` on the `wasm` backend.
 * No network: models and `.wasm` binaries come from `node_modules`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Box } from '../../protocol/tracked-object.ts';
import { registerFileRouter } from '../model.ts';

const require = createRequire(import.meta.url);

const HUMAN_DIR = path.dirname(require.resolve('@vladmandic/human'));
const MODELS_DIR = path.join(HUMAN_DIR, '..', 'models');
const WASM_DIR = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
const HUMAN_VERSION = (JSON.parse(readFileSync(path.join(HUMAN_DIR, '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Names the descriptor model: descriptors of different models (or model versions) do not
 * compare, so it travels with every descriptor on the bus.
 */
export const FACE_MODEL_ID = `human-${HUMAN_VERSION}-faceres`;

/** TF.js backend: `auto` = tfjs-node when installed, else wasm. */
export type FaceBackend = 'auto' | 'wasm' | 'tensorflow';

/** Options of {@link loadFaceModel}. */
export interface FaceModelOptions {
  backend?: FaceBackend;
  /**
   * Minimum BlazeFace score of a face, 0–1; default 0.5. human's default is 0.2, which
   * finds more small faces but also faces in foliage and patterns.
   */
  minConfidence?: number;
  /** At most this many faces per image (the biggest are used); default 5. */
  maxFaces?: number;
}

/** One face found by {@link FaceModel.detect}. */
export interface DetectedFace {
  /** `[x_min, y_min, x_max, y_max]`, integer px of the input image (human's square, 1.4× enlarged box, clamped). */
  box: Box;
  /** BlazeFace score, 0–1. */
  score: number;
  /** FaceRes descriptor: 1024 numbers. */
  descriptor: Float32Array;
}

/** The loaded face models of this thread. */
export interface FaceModel {
  /** TF.js backend in use: `wasm` or `tensorflow`. */
  readonly backend: string;
  /**
   * Finds faces in one image and describes each.
   * @param rgb packed RGB24, row-major: `width * height * 3` bytes
   * @param width px
   * @param height px
   * @returns faces, biggest first (empty when none)
   * @throws RangeError on a size mismatch; Error when the models fail
   */
  detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]>;
}

interface HumanLike {
  tf: TfLike;
  load(): Promise<void>;
  detect(input: unknown, config?: Record<string, unknown>): Promise<{ error: string | null; face: HumanFace[] }>;
  models: { models: Record<string, { inputs: Array<{ shape?: number[] }> } | null> };
}

interface HumanFace {
  box: [number, number, number, number];
  score: number;
  embedding?: number[];
}

interface TfLike {
  getBackend(): string;
  tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): { dispose(): void };
  zeros(shape: number[], dtype: 'int32'): { dispose(): void };
  io: {
    getLoadHandlers(url: string): unknown[];
    registerLoadRouter(router: (url: string | string[]) => unknown): void;
    getModelArtifactsForJSON(json: unknown, loadWeights: (manifest: Array<{ paths: string[]; weights: unknown[] }>) => Promise<[unknown[], ArrayBuffer]>): Promise<unknown>;
  };
}

/**
 * Loads BlazeFace and FaceRes (from human's package) in this thread. Call once per thread.
 * @throws Error if the backend cannot start, the models cannot be read, or
 *   `backend: 'tensorflow'` is asked without `@tensorflow/tfjs-node`
 */
export async function loadFaceModel(opts: FaceModelOptions = {}): Promise<FaceModel> {
  const minConfidence = opts.minConfidence ?? 0.5;
  const maxFaces = opts.maxFaces ?? 5;
  if (!(minConfidence >= 0 && minConfidence <= 1)) throw new RangeError(`minConfidence must be within 0–1, got ${minConfidence}`);
  if (!Number.isInteger(maxFaces) || maxFaces < 1) throw new RangeError(`maxFaces must be a positive integer, got ${maxFaces}`);
  const backend = await resolveBackend(opts.backend ?? 'auto');
  // The wasm glue adds process-wide listeners that re-throw; removed once it is up (as model.ts does).
  const before = { exception: new Set(process.listeners('uncaughtException')), rejection: new Set(process.listeners('unhandledRejection')) };
  let human: HumanLike;
  try {
    human = await loadHuman(backend, minConfidence, maxFaces);
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!before.exception.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.rejection.has(l)) process.removeListener('unhandledRejection', l);
  }
  let chain: Promise<unknown> = Promise.resolve();
  return {
    backend: human.tf.getBackend(),
    detect(rgb, width, height) {
      if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return Promise.reject(new RangeError(`invalid image size ${width}x${height}`));
      if (rgb.length !== width * height * 3) return Promise.reject(new RangeError(`RGB buffer is ${rgb.length} bytes, expected ${width * height * 3} for ${width}x${height}x3`));
      const run = chain.then(() => runDetect(human, rgb, width, height));
      chain = run.catch(() => undefined);
      return run;
    },
  };
}

async function runDetect(human: HumanLike, rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]> {
  const input = human.tf.tensor3d(rgb, [height, width, 3], 'int32');
  try {
    const res = await human.detect(input);
    if (res.error) throw new Error(`face detection failed: ${res.error}`);
    const out: DetectedFace[] = [];
    for (const f of res.face) {
      if (!f.embedding || f.embedding.length === 0) continue;
      const [x, y, w, h] = f.box; // px [x, y, width, height]
      const box: Box = [clamp(Math.round(x), 0, width), clamp(Math.round(y), 0, height), clamp(Math.round(x + w), 0, width), clamp(Math.round(y + h), 0, height)];
      if (box[2] <= box[0] || box[3] <= box[1]) continue;
      out.push({ box, score: f.score, descriptor: Float32Array.from(f.embedding) });
    }
    return out.sort((a, b) => b.box[2] - b.box[0] - (a.box[2] - a.box[0]));
  } finally {
    input.dispose();
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

async function resolveBackend(wanted: FaceBackend): Promise<'wasm' | 'tensorflow'> {
  if (wanted === 'wasm') return 'wasm';
  const name = '@tensorflow/tfjs-node'; // not a dependency: only used when installed
  const hasNode = await import(name).then(() => true, () => false);
  if (wanted === 'tensorflow' && !hasNode) throw new Error("backend 'tensorflow' needs @tensorflow/tfjs-node, which cannot be imported here; use 'wasm' or 'auto'");
  return hasNode ? 'tensorflow' : 'wasm';
}

async function loadHuman(backend: 'wasm' | 'tensorflow', minConfidence: number, maxFaces: number): Promise<HumanLike> {
  const bundle = backend === 'tensorflow' ? 'human.node.js' : 'human.node-wasm.js';
  const mod = require(path.join(HUMAN_DIR, bundle)) as { Human: new (config: Record<string, unknown>) => HumanLike };
  const off = { enabled: false };
  const human = new mod.Human({
    backend,
    modelBasePath: '',
    wasmPath: WASM_DIR,
    wasmPlatformFetch: false,
    debug: false,
    async: false,
    warmup: 'none',
    cacheModels: false,
    cacheSensitivity: 0, // never reuse an earlier image's results
    filter: off,
    gesture: off,
    body: off,
    hand: off,
    object: off,
    segmentation: off,
    face: {
      enabled: true,
      detector: {
        modelPath: 'file://' + path.join(MODELS_DIR, 'blazeface.json'),
        rotation: false, maxDetected: maxFaces, minConfidence, iouThreshold: 0.1, scale: 1.4, skipFrames: 0, skipTime: 0, return: false, mask: false,
      },
      mesh: off, iris: off, attention: off, emotion: off, antispoof: off, liveness: off, gear: off,
      description: { enabled: true, modelPath: 'file://' + path.join(MODELS_DIR, 'faceres.json'), skipFrames: 0, skipTime: 0 },
    },
  });
  if (backend === 'wasm') registerFileRouter(human.tf);
  await human.load();
  const actual = human.tf.getBackend();
  if (actual !== backend) throw new Error(`TensorFlow.js backend '${backend}' failed to initialize (got '${actual}')${backend === 'wasm' ? `; wasm binaries expected in ${WASM_DIR}` : ''}`);
  for (const name of ['blazeface', 'faceres']) {
    try {
      // Throws when human swallowed a load error (it logs and keeps an empty model).
      if (!human.models.models[name]?.inputs[0]) throw new Error('no model');
    } catch {
      throw new Error(`face model ${name} failed to load from ${MODELS_DIR}`);
    }
  }
  // Warm-up: the first inference compiles the kernels.
  const blank = human.tf.zeros([64, 64, 3], 'int32');
  try {
    const res = await human.detect(blank);
    if (res.error) throw new Error(`face model warm-up failed: ${res.error}`);
  } finally {
    blank.dispose();
  }
  return human;
}
