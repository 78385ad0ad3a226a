/**
 * Socket write batching for the embedded broker's TCP clients.
 *
 * aedes writes every packet it delivers in its own `setImmediate` callback, and
 * mqtt-packet's `writeToStream` corks the socket and uncorks it on `process.nextTick` —
 * which Node runs right after that one callback, so each packet becomes one `writev`
 * system call. A CPU profile of the hub under `bench/broker.ts` showed `writev` taking
 * ~30 % of the broker's busy time (≈ 7 µs per packet). {@link WriteBatcher} holds those
 * uncorks back and releases them together once the packets of the current event-loop
 * turn are written, so each socket gets one `writev` per turn, as Mosquitto's packet
 * queue does.
 */
import type { Socket } from 'node:net';

/**
 * Holds back the uncorks of the sockets it is attached to and releases them in a
 * `setImmediate` callback:
 * - one queued after each read from an attached socket — behind the deliveries aedes
 *   queued while parsing that read, so they leave in this same loop turn;
 * - else one queued when a socket first holds writes (they then leave on the next turn).
 *
 * `destroy()` and `end()` of an attached socket release what it holds first (aedes writes
 * a refusing CONNACK, then destroys the socket one `setImmediate` later: that CONNACK must
 * still leave). Back-pressure is unchanged: `write()` still returns false past the
 * high-water mark, and `drain` follows the release.
 */
export class WriteBatcher {
  /** Release functions of the sockets holding uncorks. */
  private readonly held = new Set<() => void>();
  /** `setImmediate(releaseAll)` calls queued and not yet run. */
  private queued = 0;
  private readonly releaseAll = (): void => {
    this.queued--;
    for (const release of this.held) release(); // each deletes itself
  };

  /**
   * Batches the writes of `socket` (patched in place: `uncork`, `destroy`, `end`, and a
   * `readable` listener). Call it right after `aedes.handle(socket)`, so that its
   * `readable` listener runs after aedes' own.
   */
  attach(socket: Socket): void {
    const uncork = socket.uncork.bind(socket);
    const destroy = socket.destroy;
    const end = socket.end;
    let deferred = 0;
    const release = (): void => {
      this.held.delete(release);
      const n = deferred;
      deferred = 0;
      // Writable.uncork ignores calls beyond the cork count, so a socket ended or destroyed meanwhile is fine.
      for (let i = 0; i < n; i++) uncork();
    };
    socket.uncork = (): void => {
      deferred++;
      if (deferred > 1) return;
      this.held.add(release);
      // Any queued releaseAll runs after this point (immediates run in order, and those queued in the check phase on the next turn).
      if (this.queued === 0) this.queue();
    };
    socket.destroy = function destroyAfterRelease(this: Socket, error?: Error): Socket {
      release();
      return destroy.call(this, error);
    };
    socket.end = function endAfterRelease(this: Socket, ...args: unknown[]): Socket {
      release();
      return (end as (...a: unknown[]) => Socket).apply(this, args);
    };
    socket.on('readable', () => this.queue());
  }

  private queue(): void {
    this.queued++;
    setImmediate(this.releaseAll);
  }
}
