/**
 * The face models in ONE `worker_threads` worker (`face-worker.ts`), started on first use,
 * so face detection and description never run on the detector's event loop.
 *
 * Requests are answered in order. A request that takes longer than `jobTimeoutMs` kills the
 * worker (the next request starts a new one); a worker that fails to load makes requests
 * fail fast for `retryAfterMs` before loading is tried again.
 */
import { Worker } from 'node:worker_threads';
import type { Box } from '../../protocol/tracked-object.ts';
import type { FaceBackend } from './face-model.ts';
import type { FaceReply, FaceRequest, FaceWorkerInit, FaceWorkerStatus, FoundFace } from './face-worker.ts';
import { spawnSiblingWorker } from '../../protocol/ts-worker.ts';

/** Logger accepted by {@link FaceRunner} (pino-compatible). */
export interface RunnerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link FaceRunner}. */
export interface FaceRunnerOptions {
  /** TF.js backend; default `auto` (tfjs-node if installed, else wasm). */
  backend?: FaceBackend;
  /** Minimum BlazeFace score, 0–1; default 0.5 (`face-model.ts`). */
  minConfidence?: number;
  /** A request running longer than this kills the worker, ms; default 30 000. */
  jobTimeoutMs?: number;
  /** Loading the models must take less than this, ms; default 120 000. */
  startTimeoutMs?: number;
  /** After a failed load, requests fail at once for this long, ms; default 30 000. */
  retryAfterMs?: number;
  logger?: RunnerLogger;
}

/** What one request found; times in ms. */
export interface RunnerResult {
  /** The biggest face (at least `minFaceSize` wide for frames), or null. */
  face: FoundFace | null;
  /** Faces found in all, and how many of them were narrower than `minFaceSize`. */
  faces: number;
  tooSmall: number;
  /** Decode + crop + resize, and model time, ms (in the worker). */
  decodeMs: number;
  inferMs: number;
}

/** A request the worker refused: `invalid_image` (cannot decode) or `failed` (model, timeout, worker). */
export class FaceRunnerError extends Error {
  constructor(message: string, readonly code: 'invalid_image' | 'failed') {
    super(message);
    this.name = 'FaceRunnerError';
  }
}

interface Job {
  resolve: (r: RunnerResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class FaceRunner {
  private worker?: Worker;
  private starting?: Promise<Worker>;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private failure?: { at: number; error: string };
  private closed = false;
  /** Backend and load time of the running worker. */
  info?: { backend: string; loadMs: number };

  constructor(private readonly opts: FaceRunnerOptions = {}) {}

  /** True while a worker with loaded models runs. */
  get loaded(): boolean { return this.worker !== undefined; }
  /** Requests sent and not answered yet. */
  get pending(): number { return this.jobs.size; }

  /**
   * Looks for faces in `region` of a frame.
   * @param jpeg the frame (JPEG; PNG works too)
   * @param region px of the frame
   * @param minFaceSize faces narrower than this (px of the frame) are ignored
   * @param crop also return the face with margin as JPEG
   * @throws FaceRunnerError (`invalid_image`, `failed`), or Error when stopped
   */
  frame(jpeg: Uint8Array, region: Box, minFaceSize: number, crop: boolean): Promise<RunnerResult> {
    const bytes = ownCopy(jpeg);
    return this.send((id) => ({ id, op: 'frame', jpeg: bytes, region, minFaceSize, crop }), bytes);
  }

  /**
   * Describes the biggest face of an enrolled image (JPEG, PNG, WebP; EXIF orientation applied).
   * @throws FaceRunnerError (`invalid_image`, `failed`), or Error when stopped
   */
  image(bytes: Uint8Array): Promise<RunnerResult> {
    const copy = ownCopy(bytes);
    return this.send((id) => ({ id, op: 'image', image: copy }), copy);
  }

  /** Terminates the worker (freeing the models); the next request loads them again. Pending requests reject. */
  async unload(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.info = undefined;
    this.rejectAll(new FaceRunnerError('face models unloaded', 'failed'));
    await w?.terminate().catch(() => undefined);
  }

  /** Terminates the worker for good; later requests reject. Idempotent. */
  async stop(): Promise<void> {
    this.closed = true;
    const starting = this.starting;
    await this.unload();
    await starting?.then((w) => w.terminate(), () => undefined).catch(() => undefined);
  }

  /** Sends `make(id)`, transferring `bytes` (its own ArrayBuffer). */
  private async send(make: (id: number) => FaceRequest, bytes: Uint8Array): Promise<RunnerResult> {
    const worker = await this.ensure();
    if (this.closed) throw new Error('FaceRunner is stopped');
    const id = this.nextId++;
    const req = make(id);
    return new Promise<RunnerResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.jobs.delete(id)) return;
        reject(new FaceRunnerError(`face models took longer than ${this.timeoutMs} ms; worker restarted`, 'failed'));
        this.opts.logger?.warn({ timeoutMs: this.timeoutMs }, 'face worker timed out; restarting it');
        if (this.worker === worker) void this.unload();
      }, this.timeoutMs);
      this.jobs.set(id, { resolve, reject, timer });
      try {
        worker.postMessage(req, [bytes.buffer as ArrayBuffer]);
      } catch (err) {
        clearTimeout(timer);
        this.jobs.delete(id);
        reject(new FaceRunnerError(`cannot send to the face worker: ${(err as Error).message}`, 'failed'));
      }
    });
  }

  private get timeoutMs(): number { return this.opts.jobTimeoutMs ?? 30_000; }

  private ensure(): Promise<Worker> {
    if (this.closed) return Promise.reject(new Error('FaceRunner is stopped'));
    if (this.worker) return Promise.resolve(this.worker);
    if (this.starting) return this.starting;
    const f = this.failure;
    if (f && Date.now() - f.at < (this.opts.retryAfterMs ?? 30_000)) return Promise.reject(new FaceRunnerError(`face models failed to load: ${f.error}`, 'failed'));
    this.starting = this.spawn().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const init: FaceWorkerInit = { backend: this.opts.backend, minConfidence: this.opts.minConfidence };
    const worker = spawnSiblingWorker(import.meta.url, 'face-worker', { workerData: init, name: 'vigil-faces' });
    const startMs = this.opts.startTimeoutMs ?? 120_000;
    return new Promise<Worker>((resolve, reject) => {
      let settled = false;
      const fail = (error: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.failure = { at: Date.now(), error };
        this.opts.logger?.error({ err: error }, 'face models failed to load');
        void worker.terminate().catch(() => undefined);
        reject(new FaceRunnerError(`face models failed to load: ${error}`, 'failed'));
      };
      const timer = setTimeout(() => fail(`not loaded within ${startMs} ms`), startMs);
      worker.on('message', (msg: FaceWorkerStatus | FaceReply) => {
        if ('type' in msg) {
          if (msg.type === 'init-error') return fail(msg.error);
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.failure = undefined;
          if (this.closed) {
            void worker.terminate();
            return reject(new Error('FaceRunner is stopped'));
          }
          this.worker = worker;
          this.info = { backend: msg.backend, loadMs: msg.loadMs };
          this.opts.logger?.info({ backend: msg.backend, loadMs: Math.round(msg.loadMs) }, 'face models loaded');
          return resolve(worker);
        }
        this.finish(msg);
      });
      worker.on('error', (err) => {
        this.opts.logger?.error({ err: err.message }, 'face worker crashed');
        fail(`face worker crashed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        fail(`face worker exited with code ${code} while loading`);
        if (this.worker === worker) {
          this.worker = undefined;
          this.info = undefined;
          this.rejectAll(new FaceRunnerError(`face worker exited (code ${code})`, 'failed'));
        }
      });
    });
  }

  private finish(reply: FaceReply): void {
    const job = this.jobs.get(reply.id);
    if (!job) return; // answered after its timeout
    this.jobs.delete(reply.id);
    clearTimeout(job.timer);
    if ('error' in reply) job.reject(new FaceRunnerError(reply.error, reply.code));
    else job.resolve({ face: reply.face, faces: reply.faces, tooSmall: reply.tooSmall, decodeMs: reply.decodeMs, inferMs: reply.inferMs });
  }

  private rejectAll(err: Error): void {
    for (const [id, job] of this.jobs) {
      clearTimeout(job.timer);
      this.jobs.delete(id);
      job.reject(err);
    }
  }
}

/** A copy that owns its whole ArrayBuffer, so it can be transferred without detaching the caller's bytes. */
function ownCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
