/**
 * The plate OCR's worker thread, seen from the detector's thread: one worker per process
 * holds the two onnxruntime sessions (`ocr-worker.ts`), started on the first read and
 * shared by every {@link PlateEnricher} of the process ({@link acquirePlateOcr}).
 *
 * The worker is started like the inference pool's (`inference-pool.ts`): from TypeScript
 * sources (tsx, vitest) an eval'd bootstrap registers tsx's ESM hooks in the worker and
 * imports `ocr-worker.ts` (on Node 20, `--import tsx` does not reach worker threads);
 * compiled by tsc, `ocr-worker.js` is started directly.
 */
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../../protocol/ts-worker.ts';
// sharp must be loaded by the main thread before a worker uses it, or glibc may unload libvips
// while the worker still runs it (sharp's docs, lovell/sharp#2263).
import 'sharp';
import type { OcrClose, OcrReply, OcrRequest, OcrStatus, OcrWorkerInit } from './ocr-worker.ts';
import type { ReadPlateOptions, ReadPlateResult } from './plate-ocr.ts';

/** Logger accepted here (pino-compatible). */
export interface OcrLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Options of {@link PlateOcrThread}. */
export interface PlateOcrThreadOptions {
  /** onnxruntime intra-op threads per session; default 1 (object detection keeps the other cores). */
  threads?: number;
  /** A read taking longer than this kills and later restarts the worker, ms; default 20 000. */
  timeoutMs?: number;
  /** The models must load within this, ms; default 120 000. */
  startTimeoutMs?: number;
  /** Reads waiting or running at most; more are refused at once (`plate OCR busy`); default 2. */
  maxPending?: number;
  /** After the models failed to load, no new start is tried for this long, ms; default 60 000. */
  retryAfterMs?: number;
  logger?: OcrLogger;
}

interface Job {
  req: Omit<OcrRequest, 'id'>;
  resolve: (r: ReadPlateResult) => void;
  reject: (e: Error) => void;
}

/**
 * One worker thread running the plate OCR, with a short FIFO queue.
 *
 * ```ts
 * const ocr = new PlateOcrThread();
 * const { reading } = await ocr.read(jpeg, [x0, y0, x1, y1], { minPlateWidth: 40 });
 * await ocr.stop();
 * ```
 */
export class PlateOcrThread {
  private readonly opts: Required<Omit<PlateOcrThreadOptions, 'logger'>> & Pick<PlateOcrThreadOptions, 'logger'>;
  private worker: Worker | null = null;
  private ready = false;
  private readonly queue: Job[] = [];
  private current: { id: number; job: Job; timer: NodeJS.Timeout } | null = null;
  private nextId = 1;
  private stopped = false;
  private failedUntil = 0;
  private lastError = '';
  private startTimer: NodeJS.Timeout | undefined;
  /** Model load time of the current worker, ms (null before it is ready). */
  loadMs: number | null = null;

  /** @throws RangeError for a non-positive `threads` or `maxPending`. */
  constructor(opts: PlateOcrThreadOptions = {}) {
    this.opts = {
      threads: opts.threads ?? 1,
      timeoutMs: opts.timeoutMs ?? 20_000,
      startTimeoutMs: opts.startTimeoutMs ?? 120_000,
      maxPending: opts.maxPending ?? 2,
      retryAfterMs: opts.retryAfterMs ?? 60_000,
      logger: opts.logger,
    };
    if (!Number.isInteger(this.opts.threads) || this.opts.threads < 1) throw new RangeError(`threads must be a positive integer, got ${this.opts.threads}`);
    if (!Number.isInteger(this.opts.maxPending) || this.opts.maxPending < 1) throw new RangeError(`maxPending must be a positive integer, got ${this.opts.maxPending}`);
  }

  /** Reads waiting or running. */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** True when a read now would be refused at once (queue full, stopped, or models failed lately). */
  get saturated(): boolean {
    return this.stopped || this.pending >= this.opts.maxPending || Date.now() < this.failedUntil;
  }

  /**
   * Reads the plate of one vehicle in the worker (starting it, and loading the models, on first use).
   * @param jpeg the frame (copied; the caller keeps its buffer).
   * @param box the vehicle, px of the frame.
   * @throws Error (rejects) when stopped, busy (`plate OCR busy`), the models cannot be
   *   loaded, the JPEG cannot be decoded, the worker dies or the read times out.
   */
  read(jpeg: Uint8Array, box: readonly [number, number, number, number], opts: ReadPlateOptions): Promise<ReadPlateResult> {
    if (this.stopped) return Promise.reject(new Error('plate OCR is stopped'));
    if (Date.now() < this.failedUntil) return Promise.reject(new Error(`plate OCR models failed to load: ${this.lastError}`));
    if (this.pending >= this.opts.maxPending) return Promise.reject(new Error('plate OCR busy'));
    return new Promise<ReadPlateResult>((resolve, reject) => {
      this.queue.push({ req: { jpeg: new Uint8Array(jpeg), box: [box[0], box[1], box[2], box[3]], opts }, resolve, reject });
      this.pump();
    });
  }

  /**
   * Stops the worker; waiting and running reads reject. The worker is first asked to close
   * (it finishes the native call in progress and frees its sessions, at most
   * {@link CLOSE_TIMEOUT_MS}), then terminated. Idempotent.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.failAll(new Error('plate OCR is stopped'));
    const w = this.worker;
    if (w) {
      await new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(timer); w.off('message', onMsg); w.off('exit', done); resolve(); };
        const onMsg = (m: OcrStatus | OcrReply): void => { if ('type' in m && m.type === 'closed') done(); };
        const timer = setTimeout(done, CLOSE_TIMEOUT_MS);
        w.on('message', onMsg);
        w.once('exit', done);
        try { w.postMessage({ type: 'close' } satisfies OcrClose); } catch { done(); }
      });
    }
    await this.kill();
  }

  private pump(): void {
    if (this.stopped || this.current || this.queue.length === 0) return;
    if (!this.worker) { this.spawn(); return; }
    if (!this.ready) return;
    const job = this.queue.shift()!;
    const id = this.nextId++;
    const timer = setTimeout(() => {
      if (this.current?.id !== id) return;
      this.current = null;
      job.reject(new Error(`plate OCR timed out after ${this.opts.timeoutMs} ms; worker restarted`));
      this.opts.logger?.warn({ timeoutMs: this.opts.timeoutMs }, 'plate OCR timed out; restarting its worker');
      void this.kill().then(() => this.pump());
    }, this.opts.timeoutMs);
    this.current = { id, job, timer };
    try {
      this.worker.postMessage({ id, ...job.req } satisfies OcrRequest, [job.req.jpeg.buffer as ArrayBuffer]);
    } catch (err) {
      clearTimeout(timer);
      this.current = null;
      job.reject(new Error(`cannot send frame to the plate OCR worker: ${err instanceof Error ? err.message : String(err)}`));
      this.pump();
    }
  }

  private spawn(): void {
    let worker: Worker;
    try {
      worker = spawnSiblingWorker(import.meta.url, 'ocr-worker', { workerData: { threads: this.opts.threads } satisfies OcrWorkerInit, name: 'vigil-plate-ocr' });
    } catch (err) {
      this.loadFailed(err instanceof Error ? err.message : String(err));
      return;
    }
    this.worker = worker;
    this.ready = false;
    this.startTimer = setTimeout(() => {
      if (this.worker === worker && !this.ready) this.loadFailed(`models did not load within ${this.opts.startTimeoutMs} ms`);
    }, this.opts.startTimeoutMs);
    worker.on('message', (msg: OcrStatus | OcrReply) => {
      if (this.worker !== worker) return;
      if ('type' in msg) {
        if (msg.type === 'closed') return; // answered to stop(), which waits for it
        clearTimeout(this.startTimer);
        if (msg.type === 'failed') { this.loadFailed(msg.error); return; }
        this.ready = true;
        this.loadMs = msg.loadMs;
        this.opts.logger?.info({ loadMs: Math.round(msg.loadMs), threads: this.opts.threads }, 'plate OCR models loaded');
        this.pump();
        return;
      }
      const cur = this.current;
      if (!cur || cur.id !== msg.id) return; // a late reply of a timed-out read
      clearTimeout(cur.timer);
      this.current = null;
      if ('error' in msg) cur.job.reject(new Error(msg.error));
      else cur.job.resolve(msg.result);
      this.pump();
    });
    worker.on('error', (err) => this.opts.logger?.error({ err: err.message }, 'plate OCR worker crashed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      clearTimeout(this.startTimer);
      this.worker = null;
      const wasReady = this.ready;
      this.ready = false;
      const cur = this.current;
      this.current = null;
      if (cur) { clearTimeout(cur.timer); cur.job.reject(new Error(`plate OCR worker exited (code ${code}) during this read`)); }
      if (!wasReady) { this.loadFailed(`worker exited with code ${code} while loading the models`); return; }
      this.opts.logger?.warn({ code }, 'plate OCR worker exited; it restarts on the next read');
      this.pump();
    });
  }

  /** The models could not be loaded: fail every waiting read and refuse new ones for `retryAfterMs`. */
  private loadFailed(error: string): void {
    this.lastError = error;
    this.failedUntil = Date.now() + this.opts.retryAfterMs;
    this.opts.logger?.error({ err: error, retryMs: this.opts.retryAfterMs }, 'plate OCR models failed to load');
    this.failAll(new Error(`plate OCR models failed to load: ${error}`));
    void this.kill();
  }

  private failAll(err: Error): void {
    for (const job of this.queue.splice(0)) job.reject(err);
    const cur = this.current;
    this.current = null;
    if (cur) { clearTimeout(cur.timer); cur.job.reject(err); }
  }

  private async kill(): Promise<void> {
    clearTimeout(this.startTimer);
    const w = this.worker;
    this.worker = null;
    this.ready = false;
    if (w) await w.terminate().catch(() => undefined);
  }
}

/** How long {@link PlateOcrThread.stop} waits for the worker to close by itself, ms (a plate read takes ~200 ms, a model load a few s). */
const CLOSE_TIMEOUT_MS = 10_000;

let shared: { thread: PlateOcrThread; refs: number } | null = null;

/**
 * The process's plate OCR thread (created on first call; `opts` of that first call apply),
 * counted: call {@link releasePlateOcr} once per acquire.
 */
export function acquirePlateOcr(opts: PlateOcrThreadOptions = {}): PlateOcrThread {
  if (!shared) shared = { thread: new PlateOcrThread(opts), refs: 0 };
  shared.refs++;
  return shared.thread;
}

/** Releases one hold on the shared thread; the last release stops its worker and frees the models. */
export async function releasePlateOcr(thread: PlateOcrThread): Promise<void> {
  if (!shared || shared.thread !== thread) return;
  if (--shared.refs > 0) return;
  shared = null;
  await thread.stop();
}
