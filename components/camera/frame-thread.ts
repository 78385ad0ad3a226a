/**
 * `worker_threads` entry of {@link FrameWorker} (`frame-worker.ts`): the per-frame work of
 * the camera component, off its main thread — motion detection ({@link MotionDetector}, one
 * per camera, kept here between frames) and JPEG encoding with sharp.
 *
 * Protocol (over `parentPort`): receives {@link FrameRequest}s, handled in arrival order
 * (so a camera's frames reach its motion detector in order); answers each `encode` and
 * `motion` with a {@link FrameReply} — the JPEG's bytes transferred back, the motion result —
 * or `{ id, error }`. `forget` drops a camera's detector and has no answer. A bad request is
 * an error reply, never a crash.
 *
 * Not meant to be imported but for its types; spawn it through `FrameWorker`.
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { MotionDetector, type MotionResult, type MotionSettings } from './motion.ts';

/** One frame to encode: packed RGB24 of `width`×`height` px; `quality` 1–100. */
export interface EncodeRequest { kind: 'encode'; id: number; rgb: Uint8Array; width: number; height: number; quality: number }
/**
 * One frame for the motion detector `detector` (created on its first frame from `settings`
 * and `masks`, normalized 0–1 polygons; `settings` applied again on every frame).
 */
export interface MotionRequest { kind: 'motion'; id: number; detector: number; settings: MotionSettings; masks: Array<Array<[number, number]>>; rgb: Uint8Array; width: number; height: number }
/** Drops motion detector `detector` (its camera stopped). */
export interface ForgetRequest { kind: 'forget'; detector: number }
export type FrameRequest = EncodeRequest | MotionRequest | ForgetRequest;
/** The JPEG or the motion result of request `id`, or why it failed. */
export type FrameReply = { id: number; jpeg: Uint8Array } | { id: number; motion: MotionResult } | { id: number; error: string };

const detectors = new Map<number, MotionDetector>();

function reply(r: FrameReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(r, transfer);
}

function encode(req: EncodeRequest): void {
  const rgb = Buffer.from(req.rgb.buffer, req.rgb.byteOffset, req.rgb.byteLength);
  sharp(rgb, { raw: { width: req.width, height: req.height, channels: 3 } })
    .jpeg({ quality: req.quality })
    .toBuffer()
    .then((jpeg) => {
      // A buffer of its own, so that its memory can move to the main thread without a copy.
      const own = new Uint8Array(jpeg.length);
      own.set(jpeg);
      reply({ id: req.id, jpeg: own }, [own.buffer]);
    }, (err: Error) => reply({ id: req.id, error: err.message }));
}

function motion(req: MotionRequest): void {
  let d = detectors.get(req.detector);
  if (!d) {
    d = new MotionDetector(req.settings, req.masks);
    detectors.set(req.detector, d);
  } else {
    d.configure(req.settings);
  }
  const rgb = Buffer.from(req.rgb.buffer, req.rgb.byteOffset, req.rgb.byteLength);
  reply({ id: req.id, motion: d.update(rgb, req.width, req.height) });
}

parentPort?.on('message', (req: FrameRequest) => {
  try {
    if (req.kind === 'forget') detectors.delete(req.detector);
    else if (req.kind === 'motion') motion(req);
    else encode(req);
  } catch (err) {
    if (req.kind !== 'forget') reply({ id: req.id, error: (err as Error).message });
  }
});
