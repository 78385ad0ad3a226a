/**
 * Parent side of `onnx-worker.ts`: one worker thread holding one CenterNet ONNX session,
 * fed frames by message. Frames are copied into a fresh `ArrayBuffer` that is transferred
 * (one copy, ~1 ms for 768×576). Requests are answered in order; the worker runs one at a
 * time. The worker is `unref`'d while idle, so an idle host never keeps the process alive.
 */
import type { Worker } from 'node:worker_threads';
import type { RawDetection } from '../types.ts';
import type { CenternetRunOptions, RunnerTimings } from './centernet-runner.ts';
import type { OnnxWorkerInit, OnnxWorkerReply, OnnxWorkerRequest, OnnxWorkerStatus } from './onnx-worker.ts';
import { spawnSiblingWorker } from '../../protocol/ts-worker.ts';

interface Pending {
  resolve: (r: { detections: RawDetection[]; timings: RunnerTimings }) => void;
  reject: (e: Error) => void;
}

/** Facts about a started host. */
export interface OnnxHostInfo {
  /** Worker start + model conversion/load, ms. */
  loadMs: number;
  /** True if the model was converted at start (cache missing or stale). */
  converted: boolean;
  /** The `.onnx` loaded, or null when it was loaded from memory (cache not writable). */
  modelPath: string | null;
}

/** A worker thread running the CenterNet ONNX session. */
export class OnnxWorkerHost {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private deadReason: string | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    /** Start-up facts. */
    readonly info: OnnxHostInfo,
  ) {
    worker.on('message', (msg: OnnxWorkerReply | OnnxWorkerStatus) => {
      if ('type' in msg) return; // 'closed' is awaited in close()
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in msg) p.reject(new Error(msg.error));
      else p.resolve({ detections: msg.detections, timings: msg.timings });
    });
    worker.on('error', (err) => this.fail(`ONNX inference worker crashed: ${err.message}`));
    worker.on('exit', (code) => this.fail(`ONNX inference worker exited (code ${code})`));
    worker.unref();
  }

  /**
   * Starts the worker and waits until its session is loaded.
   * @throws Error if the model cannot be converted or loaded (the worker's message), or the
   *   worker dies while starting.
   */
  static async start(init: OnnxWorkerInit): Promise<OnnxWorkerHost> {
    const worker = spawnSiblingWorker(import.meta.url, 'onnx-worker', { workerData: init, name: 'vigil-onnx' });
    const status = await new Promise<OnnxWorkerStatus>((resolve, reject) => {
      const onMessage = (msg: OnnxWorkerStatus): void => {
        if (msg.type === 'ready' || msg.type === 'init-error') {
          cleanup();
          resolve(msg);
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new Error(`ONNX inference worker crashed while loading the model: ${err.message}`));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`ONNX inference worker exited with code ${code} while loading the model`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
    if (status.type !== 'ready') {
      await worker.terminate().catch(() => undefined);
      throw new Error(`CenterNet ONNX model failed to load: ${status.type === 'init-error' ? status.error : status.type}`);
    }
    return new OnnxWorkerHost(worker, { loadMs: status.loadMs, converted: status.converted, modelPath: status.modelPath });
  }

  /** Why the worker is gone, or null while it runs. */
  get dead(): string | null {
    return this.deadReason;
  }

  /**
   * Runs one frame in the worker (frame and options are checked there).
   * @throws Error (rejects) if the worker is gone, or with the worker's error for this frame.
   */
  detect(
    rgb: Uint8Array,
    width: number,
    height: number,
    inputSize: number,
    decode: CenternetRunOptions,
  ): Promise<{ detections: RawDetection[]; timings: RunnerTimings }> {
    if (this.deadReason) return Promise.reject(new Error(this.deadReason));
    if (this.closing) return Promise.reject(new Error('ONNX inference worker is closed'));
    const id = this.nextId++;
    const copy = new Uint8Array(rgb.byteLength);
    copy.set(rgb);
    const req: OnnxWorkerRequest = { type: 'detect', id, rgb: copy, width, height, inputSize, ...decode };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      try {
        this.worker.postMessage(req, [copy.buffer]);
      } catch (err) {
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(new Error(`cannot send frame to the ONNX inference worker: ${(err as Error).message}`));
      }
    });
  }

  /**
   * Lets queued frames finish, releases the session and ends the worker (terminated after
   * 5 s if it does not answer). Idempotent.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      if (this.deadReason) return;
      this.worker.ref();
      const closed = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        const onMessage = (msg: OnnxWorkerStatus | OnnxWorkerReply): void => {
          if ('type' in msg && msg.type === 'closed') {
            clearTimeout(timer);
            this.worker.off('message', onMessage);
            resolve();
          }
        };
        this.worker.on('message', onMessage);
        this.worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.worker.postMessage({ type: 'close' } satisfies OnnxWorkerRequest);
      await closed;
      this.deadReason = 'ONNX inference worker is closed';
      await this.worker.terminate().catch(() => undefined);
    })();
    return this.closing;
  }

  private fail(reason: string): void {
    if (!this.deadReason) this.deadReason = reason;
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}
