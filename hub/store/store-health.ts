/**
 * Whether the store can be used, for `/api/health` and the bridge's `health`. SQLite is
 * a file in the process: it fails only when closed. PostgreSQL is a server that can go
 * away: the watch pings it (`SELECT 1`) every {@link PING_INTERVAL_MS} and reports the
 * last failure until a ping succeeds again (the pool reconnects by itself).
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { dialectOf } from './dialect.ts';

/** Time between pings of a PostgreSQL store, ms. */
export const PING_INTERVAL_MS = 2_000;
/** A ping slower than this counts as a failure, ms. */
export const PING_TIMEOUT_MS = 3_000;

/** The health watch of one open store (see the module comment). */
export class StoreHealth {
  private timer?: NodeJS.Timeout;
  private failure: string | null = null;
  private pinging = false;

  /** @param intervalMs time between pings, ms */
  constructor(private readonly ds: DataSource, private readonly logger?: Logger, private readonly intervalMs = PING_INTERVAL_MS) {}

  /** Starts pinging (PostgreSQL only; SQLite needs none). */
  start(): void {
    if (dialectOf(this.ds) !== 'postgres' || this.timer) return;
    this.timer = setInterval(() => void this.ping(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops pinging. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Why the store cannot be used (`database closed`, `database unreachable: …`), or null. */
  problem(): string | null {
    if (!this.ds.isInitialized) return 'database closed';
    return this.failure;
  }

  /** One ping; logs a change of state once (not every interval). */
  async ping(): Promise<void> {
    if (this.pinging || !this.ds.isInitialized) return;
    this.pinging = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ds.query('SELECT 1'),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS); }),
      ]);
      if (this.failure) this.logger?.info('database reachable again');
      this.failure = null;
    } catch (err) {
      const next = `database unreachable: ${(err as Error).message}`;
      if (!this.failure) this.logger?.error({ err: (err as Error).message }, 'database unreachable');
      this.failure = next;
    } finally {
      clearTimeout(timer);
      this.pinging = false;
    }
  }
}
