/**
 * The plate OCR worker thread (started by `ocr-thread.ts`): loads the two PaddleOCR models
 * once, then reads plates one request at a time. `onnxruntime-node` computes on the calling
 * thread, so this keeps inference (and the pixel loops around it) off the detector's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPlateModels, readPlate, releasePlateModels, type PlateModels, type ReadPlateOptions, type ReadPlateResult } from './plate-ocr.ts';

/** `workerData` of the worker. */
export interface OcrWorkerInit {
  /** onnxruntime intra-op threads per session. */
  threads: number;
}

/** A request: read the plate of the vehicle `box` in the JPEG frame. */
export interface OcrRequest {
  id: number;
  jpeg: Uint8Array;
  box: [number, number, number, number];
  opts: ReadPlateOptions;
}

/** The worker's answer to one request. */
export type OcrReply = { id: number; result: ReadPlateResult } | { id: number; error: string };

/** Sent once after start-up: models loaded (with load time, ms) or not; `closed` answers a {@link OcrClose}. */
export type OcrStatus = { type: 'ready'; loadMs: number } | { type: 'failed'; error: string } | { type: 'closed' };

/**
 * Asks the worker to finish: it waits for the model load and the read in progress, releases
 * both ONNX sessions and answers `closed`. Terminating a thread while onnxruntime-node runs
 * native code in it aborts the whole process (`terminate called after throwing an instance of
 * 'Napi::Error'`), so the parent terminates only after this answer (or a timeout).
 */
export interface OcrClose { type: 'close' }

const port = parentPort;
if (port) {
  const init = workerData as OcrWorkerInit;
  let models: PlateModels | null = null;
  const t0 = performance.now();
  const loading = loadPlateModels({ threads: init.threads }).then(
    (m) => {
      models = m;
      port.postMessage({ type: 'ready', loadMs: performance.now() - t0 } satisfies OcrStatus);
    },
    (err: unknown) => port.postMessage({ type: 'failed', error: err instanceof Error ? err.message : String(err) } satisfies OcrStatus),
  );
  let reading: Promise<unknown> = Promise.resolve();
  // Requests are handled strictly one after another (the caller sends the next only after a reply).
  port.on('message', (req: OcrRequest | OcrClose) => {
    if ('type' in req) {
      void Promise.allSettled([loading, reading]).then(async () => {
        const m = models;
        models = null;
        if (m) await releasePlateModels(m).catch(() => undefined);
        port.postMessage({ type: 'closed' } satisfies OcrStatus);
      });
      return;
    }
    if (!models) {
      port.postMessage({ id: req.id, error: 'plate OCR models are not loaded' } satisfies OcrReply);
      return;
    }
    reading = readPlate(models, req.jpeg, req.box, req.opts).then(
      (result) => port.postMessage({ id: req.id, result } satisfies OcrReply),
      (err: unknown) => port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies OcrReply),
    );
  });
}
