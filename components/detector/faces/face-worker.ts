/**
 * `worker_threads` entry of the face models (see `face-runner.ts`, which starts it): loads
 * BlazeFace + FaceRes once (`face-model.ts`), then answers one request at a time.
 *
 * Protocol (over `parentPort`):
 * - on start, posts a {@link FaceWorkerStatus}: `{type: 'ready', backend, loadMs}` or
 *   `{type: 'init-error', error}` (then it does nothing more);
 * - receives {@link FaceRequest}s and answers each with a {@link FaceReply}. A bad image
 *   or a failed inference is an error reply, never a crash.
 *
 * Not meant to be imported; spawn it through `FaceRunner`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Box } from '../../protocol/tracked-object.ts';
import { cropFace, prepareImage, toSource } from './face-images.ts';
import { loadFaceModel, type FaceBackend, type FaceModel } from './face-model.ts';

/** `workerData` of the face worker. */
export interface FaceWorkerInit {
  backend?: FaceBackend;
  /** Minimum BlazeFace score, 0–1. */
  minConfidence?: number;
}

/** A request. Byte arrays are best transferred. */
export type FaceRequest =
  /**
   * A person in a frame: look in `region` (px of the frame) for faces at least
   * `minFaceSize` px wide; describe the biggest; with `crop`, also cut it out as JPEG.
   */
  | { id: number; op: 'frame'; jpeg: Uint8Array; region: Box; minFaceSize: number; crop: boolean }
  /** An enrolled image (JPEG/PNG/WebP): describe its biggest face. */
  | { id: number; op: 'image'; image: Uint8Array };

/** The face a request found. */
export interface FoundFace {
  /** `[x_min, y_min, x_max, y_max]`, px of the frame (or image). */
  box: Box;
  /** BlazeFace score, 0–1. */
  score: number;
  /** FaceRes descriptor, 1024 numbers. */
  descriptor: Float32Array;
  /** The face with margin, JPEG (`frame` requests with `crop`). */
  crop?: Uint8Array;
}

/** The answer to one request; times in ms. */
export type FaceReply =
  | { id: number; face: FoundFace | null; faces: number; tooSmall: number; decodeMs: number; inferMs: number }
  | { id: number; error: string; code: 'invalid_image' | 'failed' };

export type FaceWorkerStatus = { type: 'ready'; backend: string; loadMs: number } | { type: 'init-error'; error: string };

const port = parentPort;
if (!port) throw new Error('face-worker must be started as a worker thread (use FaceRunner)');
const init = (workerData ?? {}) as FaceWorkerInit;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function handle(model: FaceModel, req: FaceRequest): Promise<FaceReply> {
  const t0 = performance.now();
  let prepared;
  const source = req.op === 'frame' ? req.jpeg : req.image;
  try {
    if (!(source instanceof Uint8Array) || source.length === 0) throw new Error('invalid image: empty');
    prepared = await prepareImage(source, req.op === 'frame' ? req.region : undefined);
  } catch (err) {
    return { id: req.id, error: errorText(err), code: 'invalid_image' };
  }
  const t1 = performance.now();
  const faces = await model.detect(prepared.rgb, prepared.side, prepared.side);
  const t2 = performance.now();
  const minWidth = req.op === 'frame' ? req.minFaceSize : 0;
  const mapped = faces.map((f) => ({ ...f, box: toSource(prepared, f.box) }));
  const big = mapped.filter((f) => f.box[2] - f.box[0] >= minWidth);
  const best = big[0];
  let face: FoundFace | null = null;
  if (best) {
    face = { box: best.box, score: best.score, descriptor: best.descriptor };
    // A copy that owns its ArrayBuffer (sharp's may share one), so it can be transferred.
    if (req.op === 'frame' && req.crop) face.crop = new Uint8Array(await cropFace(req.jpeg, best.box, prepared.sourceWidth, prepared.sourceHeight));
  }
  return { id: req.id, face, faces: faces.length, tooSmall: mapped.length - big.length, decodeMs: t1 - t0, inferMs: t2 - t1 };
}

async function main(p: NonNullable<typeof parentPort>): Promise<void> {
  const t0 = performance.now();
  let model: FaceModel;
  try {
    model = await loadFaceModel({ backend: init.backend, minConfidence: init.minConfidence });
  } catch (err) {
    p.postMessage({ type: 'init-error', error: errorText(err) } satisfies FaceWorkerStatus);
    return;
  }
  let chain: Promise<void> = Promise.resolve();
  p.on('message', (req: FaceRequest) => {
    chain = chain.then(async () => {
      let reply: FaceReply;
      try {
        reply = await handle(model, req);
      } catch (err) {
        reply = { id: req?.id ?? -1, error: errorText(err), code: 'failed' };
      }
      const transfer: ArrayBuffer[] = [];
      if ('face' in reply && reply.face) {
        transfer.push(reply.face.descriptor.buffer as ArrayBuffer);
        if (reply.face.crop) transfer.push(reply.face.crop.buffer as ArrayBuffer);
      }
      try {
        p.postMessage(reply, transfer);
      } catch (err) {
        p.postMessage({ id: req?.id ?? -1, error: `cannot post reply: ${errorText(err)}`, code: 'failed' } satisfies FaceReply);
      }
    });
  });
  p.postMessage({ type: 'ready', backend: model.backend, loadMs: performance.now() - t0 } satisfies FaceWorkerStatus);
}

await main(port);
