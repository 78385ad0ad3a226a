/**
 * `worker_threads` entry of {@link JpegEncoder} (`jpeg-encoder.ts`): encodes raw RGB24
 * frames to JPEG with sharp, one message at a time, off the camera component's main thread.
 *
 * Protocol (over `parentPort`): receives {@link EncodeRequest}s; answers each with an
 * {@link EncodeReply} — the JPEG's bytes transferred back — or `{ id, error }`. A bad
 * request is an error reply, never a crash.
 *
 * Not meant to be imported; spawn it through `JpegEncoder`.
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';

/** One frame to encode: packed RGB24 of `width`×`height` px; `quality` 1–100. */
export interface EncodeRequest { id: number; rgb: Uint8Array; width: number; height: number; quality: number }
/** The JPEG of request `id`, or why it failed. */
export type EncodeReply = { id: number; jpeg: Uint8Array } | { id: number; error: string };

parentPort?.on('message', (req: EncodeRequest) => {
  const { id } = req;
  const reply = (r: EncodeReply, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(r, transfer);
  try {
    const rgb = Buffer.from(req.rgb.buffer, req.rgb.byteOffset, req.rgb.byteLength);
    sharp(rgb, { raw: { width: req.width, height: req.height, channels: 3 } })
      .jpeg({ quality: req.quality })
      .toBuffer()
      .then((jpeg) => {
        // A buffer of its own, so that its memory can move to the main thread without a copy.
        const own = new Uint8Array(jpeg.length);
        own.set(jpeg);
        reply({ id, jpeg: own }, [own.buffer]);
      }, (err: Error) => reply({ id, error: err.message }));
  } catch (err) {
    reply({ id, error: (err as Error).message });
  }
});
