/**
 * Reads JPEGs out of a `multipart/x-mixed-replace` MJPEG response (the hub's `live.mjpeg`):
 * each frame is the bytes from an SOI marker (FF D8) to the next EOI (FF D9).
 */

/**
 * Reads until `count` JPEGs arrived or `timeoutMs` passed, then cancels the body.
 * @returns the JPEGs read (possibly fewer than `count`) and when the reading stopped (Unix ms)
 */
export async function readMjpegFrames(res: Response, count: number, timeoutMs: number): Promise<{ jpegs: Buffer[]; closedAt: number }> {
  const reader = res.body!.getReader();
  let buf = Buffer.alloc(0);
  const jpegs: Buffer[] = [];
  const deadline = Date.now() + timeoutMs;
  while (jpegs.length < count && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf = Buffer.concat([buf, Buffer.from(value)]);
    for (;;) {
      const soi = buf.indexOf(Buffer.from([0xff, 0xd8]));
      const eoi = soi >= 0 ? buf.indexOf(Buffer.from([0xff, 0xd9]), soi + 2) : -1;
      if (soi < 0 || eoi < 0) break;
      jpegs.push(buf.subarray(soi, eoi + 2));
      buf = buf.subarray(eoi + 2);
    }
  }
  const closedAt = Date.now();
  await reader.cancel();
  return { jpegs, closedAt };
}
