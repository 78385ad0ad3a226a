import { createServer } from 'node:net';

/**
 * Find a TCP port on 127.0.0.1 that is free right now.
 *
 * Binds a throw-away server to port 0 on 127.0.0.1, reads the port the kernel
 * picked, and closes it again. Another process may grab the port between this
 * call and its reuse, so callers that can should retry on `EADDRINUSE`.
 *
 * @returns A port number in 1..65535.
 * @throws If no loopback listener can be bound (the underlying `listen` error).
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error(`freePort: unexpected listener address ${String(addr)}`));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
