/**
 * The camera component's per-frame work in one worker thread ({@link FrameWorker}): motion
 * detection and JPEG encoding of raw detect frames (`frame-thread.ts`).
 *
 * Both used to run on the main thread, which also serves the hub's HTTP API and broker when
 * the camera component runs in the hub. sharp's native entry point reads its ~250 options
 * from the JavaScript object on the calling thread, synchronously: ≈ 1–1.5 ms of the main
 * thread per 640×480 frame in a CPU profile of the hub under `bench/rest-under-load.ts`;
 * motion detection took ≈ 0.7 ms per frame, and with 8 cameras at 5 fps it alone raised the
 * p95 of `GET /api/events` from ≈ 1.1× to ≈ 1.5–1.7× its idle figure in that bench. A frame
 * over a `SharedArrayBuffer` (as `camera-input.ts` makes them) reaches the worker without a
 * copy; any other is copied into the message (≈ 0.75 ms per 640×480 frame, and garbage).
 */
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../protocol/ts-worker.ts';
import type { FrameReply, FrameRequest } from './frame-thread.ts';
import type { MotionResult, MotionSettings } from './motion.ts';

type Pending = { resolve: (r: Buffer | MotionResult) => void; reject: (err: Error) => void };

/**
 * Runs motion detection and JPEG encoding in one lazily started worker thread (unref'd: it
 * never keeps the process alive). Requests are handled in the order made. A worker that
 * dies fails its pending requests and loses the motion detectors' backgrounds; the next
 * request starts a new one (each detector starts again from its next frame).
 */
export class FrameWorker {
  private worker?: Worker;
  private nextId = 1;
  private nextDetector = 1;
  private readonly pending = new Map<number, Pending>();

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
    return this.request({ kind: 'encode', id: 0, rgb, width, height, quality }) as Promise<Buffer>;
  }

  /**
   * Feeds one frame to motion detector `detector` (one per camera, created by its first
   * frame; see `motion.ts`). Frames of one detector are handled in the order given. `rgb`
   * as for {@link encode}.
   * @param detector the camera's detector id ({@link newDetectorId})
   * @param settings threshold (0–255) and min_area (0–1), applied to this frame on
   * @param masks motion masks, normalized 0–1 polygons (used when the detector is created)
   * @returns `{ motion, changed, boxes }` as `MotionDetector.update`
   * @throws (rejects) Error when the sizes do not match `rgb` or the worker exits
   */
  motion(detector: number, settings: MotionSettings, masks: Array<Array<[number, number]>>, rgb: Buffer, width: number, height: number): Promise<MotionResult> {
    return this.request({ kind: 'motion', id: 0, detector, settings: { threshold: settings.threshold, min_area: settings.min_area }, masks, rgb, width, height }) as Promise<MotionResult>;
  }

  /** Drops motion detector `detector` (its camera stopped). */
  forget(detector: number): void {
    this.worker?.postMessage({ kind: 'forget', detector } satisfies FrameRequest);
  }

  /** A fresh detector id for {@link motion}. */
  newDetectorId(): number {
    return this.nextDetector++;
  }

  /** Stops the worker; pending requests fail. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
    this.failAll(new Error('frame worker closed'));
  }

  private request(req: Extract<FrameRequest, { rgb: Uint8Array }>): Promise<Buffer | MotionResult> {
    const { rgb, width, height } = req;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || rgb.length !== width * height * 3) {
      return Promise.reject(new Error(`raw frame of ${rgb.length} bytes is not ${width}×${height} RGB24`));
    }
    const w = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ ...req, id }); // shared memory is shared, anything else copied
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = spawnSiblingWorker(import.meta.url, 'frame-thread');
    w.unref();
    w.on('message', (r: FrameReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if ('error' in r) p.reject(new Error(r.error));
      else if ('jpeg' in r) p.resolve(Buffer.from(r.jpeg.buffer, r.jpeg.byteOffset, r.jpeg.byteLength));
      else p.resolve(r.motion);
    });
    const gone = (err: Error): void => {
      if (this.worker === w) this.worker = undefined;
      this.failAll(err);
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`frame worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

/** The process's frame worker, shared by its cameras. */
export const frameWorker = new FrameWorker();
