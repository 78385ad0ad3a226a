/**
 * A pool of `worker_threads` running the object model (`model.ts`: human's COCO
 * CenterNet, 512×512 input), so inference never blocks the caller's event loop.
 *
 * The worker is `inference-worker.ts`. How it is started depends on how this file runs
 * (decided from the extension of `import.meta.url`):
 * - as TypeScript (`tsx`, vitest): an eval'd bootstrap `import(<tsx/esm/api>)` → `register()` →
 *   `import(<inference-worker.ts URL>)`; tsx is resolved from this file, so neither the cwd
 *   nor the parent's flags matter (see {@link workerEntry} for why not `--import tsx`);
 * - compiled by `tsc` (dist/…/inference-pool.js): `new Worker(<inference-worker.js URL>)`.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../protocol/ts-worker.ts';
import type { DetectorBackend } from './model.ts';
import type { WorkerInit, WorkerReply, WorkerRequest, WorkerStatus } from './inference-worker.ts';
import type { RawDetection } from './types.ts';

/** Logger accepted by {@link InferencePool} (pino-compatible: `(obj, msg)` or `(msg)`). */
export interface PoolLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Options of {@link InferencePool}. */
export interface InferencePoolOptions {
  /**
   * Number of workers; default `os.availableParallelism()`. Each holds its own model copy
   * (~130–160 MB RSS with wasm). wasm runs single-threaded, so one worker per core fits;
   * tfjs-node already uses every core per inference, so there 1–2 workers are enough.
   */
  size?: number;
  /** Minimum model score kept, 0–1; default 0.2 (label thresholds are applied downstream). */
  minScore?: number;
  /** Maximum detections per frame; default 20. */
  maxDetected?: number;
  /** TF.js backend; default `auto` (tfjs-node if installed, else wasm). */
  backend?: DetectorBackend;
  /** Where pool events go (worker deaths, load failures); default silent. */
  logger?: PoolLogger;
  /** A worker busy with one frame longer than this is killed and replaced, ms; default 30 000. */
  jobTimeoutMs?: number;
  /** {@link InferencePool.start} fails if the models are not loaded within this, ms; default 120 000. */
  startTimeoutMs?: number;
}

/**
 * One frame to detect on: a JPEG, or packed RGB24 (`width * height * 3` bytes, sizes in px).
 * The bytes are copied (exactly, never the whole backing `ArrayBuffer`) and the copy is
 * transferred to a worker. With `transfer: true` and a buffer that owns its whole
 * `ArrayBuffer`, that `ArrayBuffer` is transferred instead (zero-copy): the caller's buffer
 * is then detached and must not be used again.
 */
export type DetectInput =
  | { jpeg: Buffer | Uint8Array; transfer?: boolean }
  | { rgb: Buffer | Uint8Array; width: number; height: number; transfer?: boolean };

/** Result of {@link InferencePool.detect}. Times in ms. */
export interface DetectResult {
  /** Detections with boxes `[x_min, y_min, x_max, y_max]` in px of the (decoded) frame, scores 0–1. */
  detections: RawDetection[];
  /** Model time in the worker (tensor creation, inference, NMS), ms. */
  inferenceMs: number;
  /** JPEG decode time in the worker (0 for RGB input), ms. */
  decodeMs: number;
  /** Time spent waiting for a free worker, ms. */
  queuedMs: number;
  /** Frame size, px (the JPEG's decoded size for JPEG input). */
  width: number;
  height: number;
}

/** Facts reported by each worker once its model is loaded. */
export interface WorkerInfo {
  backend: string;
  /** Model input side, px. */
  inputSize: number;
  /** Model load time, ms. */
  loadMs: number;
  /** Process RSS seen by the worker before and after loading its model, bytes. */
  rssBeforeLoad: number;
  rssAfterLoad: number;
}

interface Job {
  id: number;
  message: WorkerRequest;
  transfer: ArrayBuffer[];
  enqueuedAt: number;
  startedAt: number;
  resolve: (r: DetectResult) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  /** Set when we terminate it on purpose (stop, timeout): its exit is not a crash. */
  retiring: boolean;
  /** Settles the slot's start-up promise (resolve on ready, reject on init failure / exit). */
  onReady?: (info: WorkerInfo) => void;
  onInitFail?: (err: Error) => void;
}

function copyToOwnBuffer(bytes: Uint8Array, transfer: boolean | undefined): Uint8Array {
  const owns =
    transfer === true &&
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength;
  if (owns) return bytes;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/**
 * A fixed-size pool of inference workers with a FIFO queue.
 *
 * ```ts
 * const pool = new InferencePool({ size: 2 });
 * await pool.start();
 * const { detections } = await pool.detect({ jpeg });
 * await pool.stop();
 * ```
 *
 * A worker that dies (crash, or killed after `jobTimeoutMs`) is replaced; the frame it was
 * working on is rejected. Bad input (e.g. an undecodable JPEG) rejects only that call.
 */
export class InferencePool {
  private readonly opts: Required<Pick<InferencePoolOptions, 'size' | 'jobTimeoutMs' | 'startTimeoutMs'>> & InferencePoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private info: WorkerInfo | null = null;
  /** Back-off before re-spawning after a replacement failed to load its model, ms. */
  private respawnBackoffMs = 0;

  /**
   * @param opts pool options; see {@link InferencePoolOptions}.
   * @throws RangeError if `size` is not a positive integer.
   */
  constructor(opts: InferencePoolOptions = {}) {
    const size = opts.size ?? os.availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`InferencePool size must be a positive integer, got ${size}`);
    this.opts = { ...opts, size, jobTimeoutMs: opts.jobTimeoutMs ?? 30_000, startTimeoutMs: opts.startTimeoutMs ?? 120_000 };
  }

  /** Number of workers. */
  get size(): number {
    return this.opts.size;
  }

  /** Number of workers currently running a frame. */
  get busy(): number {
    return this.slots.filter((s) => s.job !== null).length;
  }

  /** Number of frames waiting for a free worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Backend, model input size (px), load time and RSS of the first worker; `null` before {@link start} resolves. */
  get workerInfo(): WorkerInfo | null {
    return this.info;
  }

  /**
   * Spawns the workers and waits until every one has loaded its model.
   * @throws Error (rejects) when a model cannot be loaded, a worker exits during start-up,
   *   `startTimeoutMs` elapses, or the pool was already started/stopped; all workers are
   *   terminated in that case.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`InferencePool.start() called twice (state: ${this.state})`);
    this.state = 'starting';
    let timer: NodeJS.Timeout | undefined;
    try {
      const started = Array.from({ length: this.opts.size }, () => this.spawn());
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`detector model did not load within ${this.opts.startTimeoutMs} ms`)),
          this.opts.startTimeoutMs,
        );
      });
      const infos = await Promise.race([Promise.all(started), timeout]);
      if (this.currentState() !== 'starting') throw new Error('InferencePool stopped while starting');
      this.info = infos[0] ?? null;
      this.state = 'running';
      this.opts.logger?.info(
        { size: this.opts.size, backend: this.info?.backend, inputSize: this.info?.inputSize, loadMs: Math.round(this.info?.loadMs ?? 0) },
        'detector pool started',
      );
      this.pump();
    } catch (err) {
      const wasStopped = this.currentState() === 'stopped';
      this.state = 'stopped';
      await this.terminateAll(new Error('InferencePool failed to start'));
      const e = err instanceof Error ? err : new Error(String(err));
      if (!wasStopped) this.opts.logger?.error({ err: e.message }, 'detector pool failed to start');
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs the model on one frame in a worker. Queued (FIFO) while every worker is busy;
   * may be called while {@link start} is in progress.
   * @returns detections (boxes in px of the frame, scores 0–1) and timings in ms.
   * @throws Error (rejects) if the pool is not started or is stopped (also for frames still
   *   queued or in flight at {@link stop}), if the JPEG cannot be decoded
   *   (`JPEG decode failed: …`), if the RGB size does not match, if the worker dies on this
   *   frame, or if it takes longer than `jobTimeoutMs`.
   */
  detect(input: DetectInput): Promise<DetectResult> {
    if (this.state === 'new') return Promise.reject(new Error('InferencePool.start() has not been called'));
    if (this.state === 'stopped') return Promise.reject(new Error('InferencePool is stopped'));
    const id = this.nextId++;
    let message: WorkerRequest;
    if ('jpeg' in input) {
      if (!(input.jpeg instanceof Uint8Array) || input.jpeg.byteLength === 0) {
        return Promise.reject(new Error('JPEG decode failed: empty input'));
      }
      message = { id, jpeg: copyToOwnBuffer(input.jpeg, input.transfer) };
    } else {
      const { width, height } = input;
      if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
        return Promise.reject(new RangeError(`invalid frame size ${width}x${height}`));
      }
      if (input.rgb.byteLength !== width * height * 3) {
        return Promise.reject(
          new RangeError(`RGB buffer is ${input.rgb.byteLength} bytes, expected ${width * height * 3} for ${width}x${height}x3`),
        );
      }
      message = { id, rgb: copyToOwnBuffer(input.rgb, input.transfer), width, height };
    }
    const bytes = 'jpeg' in message ? message.jpeg : message.rgb;
    return new Promise<DetectResult>((resolve, reject) => {
      this.queue.push({
        id,
        message,
        transfer: [bytes.buffer as ArrayBuffer],
        enqueuedAt: performance.now(),
        startedAt: 0,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /**
   * Stops the pool: rejects queued and in-flight frames (`InferencePool is stopped`) and
   * terminates every worker. Later {@link detect} calls reject. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' && this.slots.length === 0) return;
    this.state = 'stopped';
    await this.terminateAll(new Error('InferencePool is stopped'));
  }

  /** Reads the state without TypeScript's flow narrowing (it changes across awaits). */
  private currentState(): typeof this.state {
    return this.state;
  }

  private async terminateAll(reason: Error): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(reason);
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        slot.retiring = true;
        const job = slot.job;
        slot.job = null;
        if (job) {
          clearTimeout(job.timer);
          job.reject(reason);
        }
        slot.onInitFail?.(reason);
        await slot.worker.terminate().catch(() => undefined);
      }),
    );
  }

  /** Spawns one worker into a new slot; resolves with its info once its model is loaded. */
  private spawn(): Promise<WorkerInfo> {
    const init: WorkerInit = { backend: this.opts.backend, minScore: this.opts.minScore, maxDetected: this.opts.maxDetected };
    // Under tsx an eval'd bootstrap registers tsx inside the worker (`--import tsx` registers on the main thread only on Node 20).
    const worker = spawnSiblingWorker(import.meta.url, 'inference-worker', { workerData: init, name: 'vigil-inference' });
    const slot: Slot = { worker, ready: false, job: null, retiring: false };
    this.slots.push(slot);

    const readyPromise = new Promise<WorkerInfo>((resolve, reject) => {
      slot.onReady = resolve;
      slot.onInitFail = reject;
    });
    const settleInit = (): void => {
      slot.onReady = undefined;
      slot.onInitFail = undefined;
    };

    worker.on('message', (msg: WorkerStatus | WorkerReply) => {
      if ('type' in msg) {
        if (msg.type === 'ready') {
          slot.ready = true;
          const { type: _type, ...info } = msg;
          slot.onReady?.(info);
          settleInit();
          this.respawnBackoffMs = 0;
          this.pump();
        } else {
          slot.onInitFail?.(new Error(`detector model failed to load: ${msg.error}`));
          settleInit();
          slot.retiring = true;
          void worker.terminate();
          this.removeSlot(slot);
          if (this.state === 'running') this.scheduleRespawn(`detector model failed to load: ${msg.error}`);
        }
        return;
      }
      this.finish(slot, msg);
    });
    worker.on('error', (err) => {
      this.opts.logger?.error({ err: err.message }, 'inference worker crashed');
      slot.onInitFail?.(new Error(`inference worker crashed while loading the model: ${err.message}`));
      settleInit();
    });
    worker.on('exit', (code) => {
      slot.onInitFail?.(new Error(`inference worker exited with code ${code} while loading the model`));
      settleInit();
      const job = slot.job;
      slot.job = null;
      const wasInPool = this.removeSlot(slot);
      if (job) {
        clearTimeout(job.timer);
        job.reject(new Error(`inference worker exited (code ${code}) while processing this frame`));
      }
      if (slot.retiring || !wasInPool) return;
      if (slot.ready && (this.state === 'running' || this.state === 'starting')) {
        this.opts.logger?.warn({ code }, 'inference worker exited; replacing it');
        this.replace();
      } else if (!slot.ready && this.state === 'running') {
        // A replacement died while loading (start() reports its own workers' failures).
        this.scheduleRespawn(`replacement inference worker exited with code ${code} while loading the model`);
      }
    });
    return readyPromise;
  }

  private removeSlot(slot: Slot): boolean {
    const i = this.slots.indexOf(slot);
    if (i < 0) return false;
    this.slots.splice(i, 1);
    return true;
  }

  /** Spawns a replacement worker (its start-up failures are handled by the slot's handlers). */
  private replace(): void {
    try {
      this.spawn().catch(() => undefined);
    } catch (err) {
      this.scheduleRespawn(`cannot spawn inference worker: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** A replacement failed to load its model: try again later, backing off from 1 s up to 30 s. */
  private scheduleRespawn(error: string): void {
    this.respawnBackoffMs = Math.min(30_000, Math.max(1_000, this.respawnBackoffMs * 2));
    const delay = this.respawnBackoffMs;
    this.opts.logger?.error({ err: error, retryMs: delay }, 'inference worker failed to start; retrying');
    setTimeout(() => {
      if (this.state === 'running' && this.slots.length < this.opts.size) this.replace();
    }, delay).unref();
  }

  private pump(): void {
    if (this.state !== 'running' && this.state !== 'starting') return;
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.ready && !s.job && !s.retiring);
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      job.startedAt = performance.now();
      job.timer = setTimeout(() => this.timeout(slot, job), this.opts.jobTimeoutMs);
      try {
        slot.worker.postMessage(job.message, job.transfer);
      } catch (err) {
        clearTimeout(job.timer);
        slot.job = null;
        job.reject(new Error(`cannot send frame to inference worker: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
  }

  private timeout(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    slot.job = null;
    slot.retiring = true;
    this.removeSlot(slot);
    job.reject(new Error(`inference timed out after ${this.opts.jobTimeoutMs} ms; worker replaced`));
    this.opts.logger?.warn({ timeoutMs: this.opts.jobTimeoutMs }, 'inference worker timed out; replacing it');
    void slot.worker.terminate();
    if (this.state === 'running') this.replace();
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    if (!job || job.id !== reply.id) return; // late reply of a timed-out job
    slot.job = null;
    clearTimeout(job.timer);
    if ('error' in reply) {
      job.reject(new Error(reply.error));
    } else {
      job.resolve({
        detections: reply.detections,
        inferenceMs: reply.inferenceMs,
        decodeMs: reply.decodeMs,
        queuedMs: job.startedAt - job.enqueuedAt,
        width: reply.width,
        height: reply.height,
      });
    }
    this.pump();
  }
}
