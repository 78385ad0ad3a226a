/**
 * JPEG encoding of raw frames in a worker thread ({@link JpegEncoder}).
 *
 * sharp's native entry point reads its ~250 options from the JavaScript object on the
 * calling thread, synchronously: ≈ 1–1.5 ms of the main thread per 640×480 frame in a CPU
 * profile of the hub under `bench/rest-under-load.ts`, so 8 cameras at 5 fps held the hub's
 * event loop (HTTP API, broker) ≈ 5 % of the time. Here that call happens in a worker
 * (`jpeg-worker.ts`). A frame over a `SharedArrayBuffer` (as `camera-input.ts` makes them)
 * reaches the worker without a copy; any other is copied into the message (≈ 0.75 ms per
 * 640×480 frame in the same profile, and garbage to collect).
 */
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../protocol/ts-worker.ts';
import type { EncodeReply, EncodeRequest } from './jpeg-worker.ts';

/**
 * Encodes RGB24 frames to JPEG in one lazily started worker thread (unref'd: it never keeps
 * the process alive). A worker that dies fails its pending encodes; the next encode starts
 * a new one.
 */
export class JpegEncoder {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (jpeg: Buffer) => void; reject: (err: Error) => void }>();

  /**
   * Encodes one frame. `rgb` must not change until the returned promise settles when it
   * lies over a `SharedArrayBuffer` (the worker reads it in place); otherwise it is copied
   * before this returns.
   * @param rgb packed RGB24, `width`×`height`×3 bytes
   * @param width px; `height` px
   * @param quality JPEG quality, 1–100
   * @returns the JPEG bytes
   * @throws (rejects) Error when the sizes do not match `rgb`, sharp fails, or the worker exits
   */
  encode(rgb: Buffer, width: number, height: number, quality: number): Promise<Buffer> {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || rgb.length !== width * height * 3) {
      return Promise.reject(new Error(`raw frame of ${rgb.length} bytes is not ${width}×${height} RGB24`));
    }
    const w = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, rgb, width, height, quality } satisfies EncodeRequest); // shared memory is shared, anything else copied
    });
  }

  /** Stops the worker; pending encodes fail. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
    this.failAll(new Error('JPEG encoder closed'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = spawnSiblingWorker(import.meta.url, 'jpeg-worker');
    w.unref();
    w.on('message', (r: EncodeReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if ('error' in r) p.reject(new Error(r.error));
      else p.resolve(Buffer.from(r.jpeg.buffer, r.jpeg.byteOffset, r.jpeg.byteLength));
    });
    const gone = (err: Error): void => {
      if (this.worker === w) this.worker = undefined;
      this.failAll(err);
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`JPEG encoder worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

/** The process's one encoder (started at its first frame). */
export const jpegEncoder = new JpegEncoder();
