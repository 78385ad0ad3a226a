/**
 * `worker_threads` entry of the detector's {@link InferencePool}: loads the object model
 * (see `model.ts`) once, then answers one request at a time.
 *
 * Protocol (all over `parentPort`):
 * - on start, posts a {@link WorkerStatus}: `{ type: 'ready', … }` or `{ type: 'init-error', error }`
 *   (after an init error the worker does nothing more and exits on its own);
 * - receives {@link WorkerRequest}s: `{ id, jpeg }` or `{ id, rgb, width, height }`;
 * - answers each with a {@link WorkerReply}: `{ id, detections, inferenceMs, decodeMs }` or
 *   `{ id, error }`. A bad JPEG or a failed inference is an error reply, never a crash.
 *
 * Not meant to be imported; spawn it through `InferencePool`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { loadObjectModel, type DetectorBackend, type ObjectModel } from './model.ts';
import type { RawDetection } from './types.ts';

/** `workerData` of an inference worker. */
export interface WorkerInit {
  backend?: DetectorBackend;
  /** Minimum score kept by the model, 0–1. */
  minScore?: number;
  /** Maximum detections per frame. */
  maxDetected?: number;
}

/** A request to the worker. `jpeg`/`rgb` are best sent as transferred buffers. */
export type WorkerRequest =
  | { id: number; jpeg: Uint8Array }
  /** `rgb`: packed RGB24, `width * height * 3` bytes; sizes in px. */
  | { id: number; rgb: Uint8Array; width: number; height: number };

/** The worker's answer to one {@link WorkerRequest}. Times in ms. */
export type WorkerReply =
  | { id: number; detections: RawDetection[]; inferenceMs: number; decodeMs: number; width: number; height: number }
  | { id: number; error: string };

/** Posted once after start. RSS in bytes (of the whole process, the worker shares it); times in ms. */
export type WorkerStatus =
  | { type: 'ready'; backend: string; inputSize: number; loadMs: number; rssBeforeLoad: number; rssAfterLoad: number }
  | { type: 'init-error'; error: string };

const port = parentPort;
if (!port) throw new Error('inference-worker must be started as a worker thread (use InferencePool)');
const init = (workerData ?? {}) as WorkerInit;

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

async function decodeJpeg(jpeg: Uint8Array): Promise<{ rgb: Buffer; width: number; height: number }> {
  try {
    const { data, info } = await sharp(jpeg)
      .removeAlpha()
      .toColourspace('srgb') // greyscale / CMYK JPEGs come out as 3-channel RGB too
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels, expected 3`);
    return { rgb: data, width: info.width, height: info.height };
  } catch (err) {
    throw new Error(`JPEG decode failed: ${errorText(err)}`);
  }
}

async function handle(model: ObjectModel, req: WorkerRequest): Promise<WorkerReply> {
  const t0 = performance.now();
  let frame: { rgb: Buffer; width: number; height: number };
  if ('jpeg' in req) {
    if (!(req.jpeg instanceof Uint8Array) || req.jpeg.length === 0) throw new Error('JPEG decode failed: empty input');
    frame = await decodeJpeg(req.jpeg);
  } else {
    frame = { rgb: Buffer.from(req.rgb.buffer, req.rgb.byteOffset, req.rgb.byteLength), width: req.width, height: req.height };
  }
  const t1 = performance.now();
  const detections = await model.detect(frame.rgb, frame.width, frame.height);
  const t2 = performance.now();
  const decodeMs = 'jpeg' in req ? t1 - t0 : 0;
  return { id: req.id, detections, inferenceMs: t2 - t1, decodeMs, width: frame.width, height: frame.height };
}

async function main(p: NonNullable<typeof parentPort>): Promise<void> {
  const rssBeforeLoad = process.memoryUsage.rss();
  const t0 = performance.now();
  let model: ObjectModel;
  try {
    model = await loadObjectModel({ backend: init.backend, minScore: init.minScore, maxDetected: init.maxDetected });
  } catch (err) {
    p.postMessage({ type: 'init-error', error: errorText(err) } satisfies WorkerStatus);
    return;
  }
  const ready: WorkerStatus = {
    type: 'ready',
    backend: model.backend,
    inputSize: model.inputSize,
    loadMs: performance.now() - t0,
    rssBeforeLoad,
    rssAfterLoad: process.memoryUsage.rss(),
  };

  // Requests are handled strictly one after the other (the pool sends one at a time anyway).
  let chain: Promise<void> = Promise.resolve();
  p.on('message', (req: WorkerRequest) => {
    chain = chain.then(async () => {
      let reply: WorkerReply;
      try {
        reply = await handle(model, req);
      } catch (err) {
        reply = { id: req?.id ?? -1, error: errorText(err) };
      }
      try {
        p.postMessage(reply);
      } catch (err) {
        p.postMessage({ id: req?.id ?? -1, error: `cannot post reply: ${errorText(err)}` } satisfies WorkerReply);
      }
    });
  });
  p.postMessage(ready);
}

await main(port);
