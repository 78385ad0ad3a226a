/**
 * Rate-limited logging of the embedded broker's refusals (a login, a client id, a
 * publish, a subscription, an oversize packet): the first refusal of one client for one
 * reason is logged at once; repeats within the window are only counted, and the count is
 * logged once when the window ends. A client flooding refused messages costs one log
 * line per window, not one per message. The counting is the protocol's
 * `RateLimitedLog` (`components/protocol/rate-limited-log.ts`), keyed by client.
 */
import type { Logger } from 'pino';
import { RATE_LIMIT_WINDOW_MS, RateLimitedLog } from '../../components/protocol/rate-limited-log.ts';

/** Why the broker refused something; one log line per (client, reason) and window. */
export type RefusalReason = 'login' | 'client-id' | 'publish' | 'subscribe' | 'packet-too-large' | 'bridge-no-handler';

export interface RefusalLogOptions {
  logger: Logger;
  /** Window in which repeats of a (client, reason) are counted, not logged, ms. Default 60 000. */
  windowMs?: number;
  /**
   * Most (client, reason) pairs tracked at once. Past it, refusals of new clients count
   * under one shared client `*` per reason, so a flood of fresh client ids cannot grow
   * memory or the log. Default 10 000.
   */
  maxKeys?: number;
}

/** Default window, ms: one line per client and reason per minute. */
export const REFUSAL_WINDOW_MS = RATE_LIMIT_WINDOW_MS;

/**
 * Logs refusals once per (client, reason) and window (warn level, the client as
 * `clientId`), then the number of repeats that were not logged (`suppressed`, with the
 * context of the last one) when the window ends.
 */
export class RefusalLog {
  private readonly log: RateLimitedLog;

  constructor(opts: RefusalLogOptions) {
    this.log = new RateLimitedLog({ logger: opts.logger, windowMs: opts.windowMs, maxKeys: opts.maxKeys ?? 10_000, keyField: 'clientId' });
  }

  /**
   * Records one refusal.
   * @param who the client: its MQTT client id, or (before login) `<address>|<username>`
   * @param reason why; one line per (who, reason) per window
   * @param fields context for the log line (`topic`, `size` …); `clientId` is added from `who` unless given
   * @param msg the log message (`mqtt publish refused` …)
   * @returns true when this refusal was logged, false when it was only counted
   */
  refuse(who: string, reason: RefusalReason, fields: Record<string, unknown>, msg: string): boolean {
    return this.log.warn(who, reason, fields, msg);
  }

  /** Logs the counts of every window still open and forgets them (broker stop). */
  close(): void {
    this.log.close();
  }
}
