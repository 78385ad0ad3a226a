/**
 * A connected pair of Unix stream sockets to carry a child process's raw video output
 * into this process without a fresh allocation per read.
 *
 * A pipe read by a Node stream allocates a new 64 KiB buffer for every read. Raw RGB24
 * detect frames are big (640×480×3 = 921 600 bytes, so 8 cameras × 5 fps ≈ 37 MB/s),
 * and `bench/rest-under-load.ts` showed that allocation rate alone triggering 2–3 major
 * garbage collections a second in the hub (0 at 320×240), which tripled the p95 latency
 * of the REST API. A socket opened with `net.connect({ onread })` reads into one buffer
 * reused for every read (Node's `net.Socket` `onread` option); the child writes into the
 * other end, passed to it as a stdio stream (its descriptor is duplicated into the child).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Size of the reused read buffer, bytes. */
export const READ_BUFFER_BYTES = 256 * 1024;
const OPEN_TIMEOUT_MS = 5_000;

/** An open pair: `childEnd` goes into `spawn()`'s stdio; `close()` ends both. */
export interface FrameSocket {
  /** The end to hand to the child (`stdio: [..., frameSocket.childEnd, ...]`); close it here after spawning (`releaseChildEnd`). */
  readonly childEnd: Socket;
  /** Closes this process's copy of the child's end (the child keeps its own). Idempotent. */
  releaseChildEnd(): void;
  /** Closes both ends. Idempotent. */
  close(): void;
}

/**
 * Opens a socket pair through a short-lived listener (Linux: an abstract socket name;
 * elsewhere a path in the temp directory, removed once connected).
 * @param onChunk called for each read with a view of the reused buffer (valid only during
 *   the call: copy what you keep)
 * @param onEnd called once when the child's end is closed (the child exited) or on a read error
 * @throws Error when the pair cannot be opened within 5 s
 */
export async function openFrameSocket(onChunk: (chunk: Buffer) => void, onEnd: () => void = () => undefined): Promise<FrameSocket> {
  const id = `vigil-frames-${process.pid}-${randomBytes(6).toString('hex')}`;
  const abstract = process.platform === 'linux';
  const path = abstract ? `\0${id}` : join(tmpdir(), `${id}.sock`);
  const server = createServer();
  try {
    const accepted = new Promise<Socket>((resolve, reject) => {
      server.once('connection', resolve);
      server.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
    });
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    let ended = false;
    const end = (): void => { if (!ended) { ended = true; onEnd(); } };
    const reader = connect({ path, onread: { buffer, callback: (n: number, buf: Uint8Array) => { onChunk(Buffer.from(buf.buffer, buf.byteOffset, n)); return true; } } });
    reader.on('error', end);
    reader.on('end', end);
    reader.on('close', end);
    let timer: NodeJS.Timeout | undefined;
    const childEnd = await Promise.race([
      accepted,
      new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error('frame socket did not connect within 5 s')), OPEN_TIMEOUT_MS); }),
    ]).finally(() => clearTimeout(timer));
    childEnd.on('error', () => undefined);
    return {
      childEnd,
      releaseChildEnd: () => { childEnd.destroy(); },
      close: () => { childEnd.destroy(); reader.destroy(); },
    };
  } finally {
    server.close();
    if (!abstract) rmSync(path, { force: true });
  }
}
