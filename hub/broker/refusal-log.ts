/**
 * Rate-limited logging of the embedded broker's refusals (a login, a client id, a
 * publish, a subscription, an oversize packet): the first refusal of one client for one
 * reason is logged at once; repeats within the window are only counted, and the count is
 * logged once when the window ends. A client flooding refused messages costs one log
 * line per window, not one per message (Mosquitto logs every denied PUBLISH at debug
 * level only, for the same reason).
 */
import type { Logger } from 'pino';

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

interface Entry {
  who: string;
  reason: RefusalReason;
  msg: string;
  /** Context of the last suppressed repeat (topic …), logged with the count. */
  last: Record<string, unknown>;
  /** When the window ends, Unix ms. */
  until: number;
  suppressed: number;
}

/** Default window, ms: one line per client and reason per minute. */
export const REFUSAL_WINDOW_MS = 60_000;

/**
 * Logs refusals once per (client, reason) and window (warn level), then the number of
 * repeats that were not logged (`suppressed`, with the context of the last one) when the
 * window ends. Entries are swept by a timer that does not keep the process alive.
 */
export class RefusalLog {
  private readonly entries = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: RefusalLogOptions) {
    this.windowMs = opts.windowMs ?? REFUSAL_WINDOW_MS;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.timer = setInterval(() => this.sweep(Date.now()), Math.max(50, Math.min(this.windowMs, 10_000)));
    this.timer.unref();
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
    const now = Date.now();
    let key = `${reason}\u0000${who}`;
    let e = this.entries.get(key);
    if (e && e.until <= now) {
      this.summarize(e);
      this.entries.delete(key);
      e = undefined;
    }
    if (!e && this.entries.size >= this.maxKeys) {
      // Too many clients refused at once: count the rest together.
      this.sweep(now);
      if (this.entries.size >= this.maxKeys) {
        key = `${reason}\u0000*`;
        e = this.entries.get(key);
        who = '*';
      }
    }
    if (e) {
      e.suppressed++;
      e.last = fields;
      return false;
    }
    this.entries.set(key, { who, reason, msg, last: fields, until: now + this.windowMs, suppressed: 0 });
    this.opts.logger.warn({ clientId: who, ...fields, reason }, msg);
    return true;
  }

  /** Logs the counts of every window still open and forgets them (broker stop). */
  close(): void {
    clearInterval(this.timer);
    for (const e of this.entries.values()) this.summarize(e);
    this.entries.clear();
  }

  /** Ends the windows that are over: logs their counts. */
  private sweep(now: number): void {
    for (const [key, e] of this.entries) {
      if (e.until > now) continue;
      this.summarize(e);
      this.entries.delete(key);
    }
  }

  private summarize(e: Entry): void {
    if (e.suppressed === 0) return;
    this.opts.logger.warn({ clientId: e.who, ...e.last, reason: e.reason, suppressed: e.suppressed, window_ms: this.windowMs }, `${e.msg} (repeats not logged)`);
  }
}
