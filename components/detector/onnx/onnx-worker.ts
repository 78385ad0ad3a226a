/**
 * `worker_threads` entry that hosts the CenterNet ONNX session for `onnx-host.ts`, so the
 * synchronous native `session.run()` never blocks the parent's event loop.
 *
 * Protocol (over `parentPort`):
 * - on start, converts the model if needed and posts {@link OnnxWorkerStatus}: `ready` or
 *   `init-error` (then it does nothing more);
 * - answers each {@link OnnxWorkerRequest} `detect` with an {@link OnnxWorkerReply}, in
 *   order, one at a time; a bad frame or a failed run is an error reply, never a crash;
 * - on `close`, releases the session and posts `{ type: 'closed' }`.
 *
 * Not meant to be imported; started by `OnnxWorkerHost`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RawDetection } from '../types.ts';
import { ensureCenternetOnnx } from './centernet-onnx-cache.ts';
import { CenternetRunner, type RunnerTimings } from './centernet-runner.ts';

/** `workerData` of the worker. */
export interface OnnxWorkerInit {
  /** onnxruntime intra-op threads. */
  threads: number;
  /** A `.onnx` to load instead of the cached conversion. */
  modelPath?: string;
}

/** A request to the worker. `rgb` is packed RGB24 (`width * height * 3` bytes); sizes in px. */
export type OnnxWorkerRequest =
  | {
      type: 'detect';
      id: number;
      rgb: Uint8Array;
      width: number;
      height: number;
      inputSize: number;
      /** Keep the frame's aspect ratio (`inputSize` = long side); default false. */
      keepAspect?: boolean;
      minScore: number;
      maxDetected: number;
      iouThreshold: number;
    }
  | { type: 'close' };

/** The worker's answer to a `detect` request. Times in ms. */
export type OnnxWorkerReply = { id: number; detections: RawDetection[]; timings: RunnerTimings } | { id: number; error: string };

/** Posted once after start (`loadMs`: model conversion/load time, ms), and after `close`. */
export type OnnxWorkerStatus =
  | { type: 'ready'; loadMs: number; converted: boolean; modelPath: string | null }
  | { type: 'init-error'; error: string }
  | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('onnx-worker must be started as a worker thread (use OnnxWorkerHost)');
const init = workerData as OnnxWorkerInit;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function main(p: NonNullable<typeof parentPort>): Promise<void> {
  const t0 = performance.now();
  let runner: CenternetRunner;
  let converted = false;
  let modelPath: string | null = init.modelPath ?? null;
  try {
    let model: string | Uint8Array;
    if (init.modelPath) {
      model = init.modelPath;
    } else {
      const file = await ensureCenternetOnnx();
      converted = file.converted;
      modelPath = file.path;
      model = file.path ?? file.bytes!;
    }
    runner = await CenternetRunner.create({ model, threads: init.threads });
  } catch (err) {
    p.postMessage({ type: 'init-error', error: errorText(err) } satisfies OnnxWorkerStatus);
    return;
  }

  let chain: Promise<void> = Promise.resolve();
  p.on('message', (req: OnnxWorkerRequest) => {
    chain = chain.then(async () => {
      if (req?.type === 'close') {
        await runner.release().catch(() => undefined);
        p.postMessage({ type: 'closed' } satisfies OnnxWorkerStatus);
        return;
      }
      if (req?.type !== 'detect') return;
      let reply: OnnxWorkerReply;
      try {
        const r = await runner.detect(req.rgb, req.width, req.height, req.inputSize, {
          minScore: req.minScore,
          maxDetected: req.maxDetected,
          iouThreshold: req.iouThreshold,
          keepAspect: req.keepAspect,
        });
        reply = { id: req.id, detections: r.detections, timings: r.timings };
      } catch (err) {
        reply = { id: req.id, error: errorText(err) };
      }
      p.postMessage(reply);
    });
  });
  p.postMessage({ type: 'ready', loadMs: performance.now() - t0, converted, modelPath } satisfies OnnxWorkerStatus);
}

await main(port);
