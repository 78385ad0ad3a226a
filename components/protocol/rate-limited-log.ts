/**
 * Rate-limited warnings, for things that can repeat at the rate a peer sends them: a bad
 * message on the bus, a refused login or publish. The first warning of one (key, reason)
 * is logged at once; repeats within the window are only counted, and the count is logged
 * in one line (`suppressed: n`) when the window ends. A flood costs one line per key and
 * reason per window, not one per message (Mosquitto logs every denied PUBLISH at debug
 * level only, for the same reason). The broker's refusals (`hub/broker/refusal-log.ts`)
 * and the bad-message warnings of every bus client (`Bus.warnBadMessage`, `bus.ts`) use it.
 */

/** What a {@link RateLimitedLog} writes to: a pino logger, or anything with pino's `warn(obj, msg)`. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface RateLimitedLogOptions {
  /** Where lines go unless {@link RateLimitedLog.warn} is given another logger. */
  logger: WarnLogger;
  /** Window in which repeats of a (key, reason) are counted, not logged, ms. Default {@link RATE_LIMIT_WINDOW_MS}. */
  windowMs?: number;
  /**
   * Most (key, reason) pairs tracked at once. Past it, warnings of new keys count under one
   * shared key `*` per reason (their line names the key that overflowed as `example`), so a
   * flood of fresh keys (random topics, client ids) cannot grow memory or the log. Default 10 000.
   */
  maxKeys?: number;
  /** Field of the log line that holds the key (`topic`, `clientId` …). Default `key`. */
  keyField?: string;
}

interface Entry {
  key: string;
  reason: string;
  msg: string;
  logger: WarnLogger;
  /** Context of the last suppressed repeat, logged with the count. */
  last: Record<string, unknown>;
  /** When the window ends, Unix ms. */
  until: number;
  suppressed: number;
}

/** Default window, ms: one line per key and reason per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** The key that warnings of new keys count under once `maxKeys` are tracked. */
export const OVERFLOW_KEY = '*';

/**
 * Logs a warning once per (key, reason) and window (warn level), then the number of
 * repeats that were not logged (`suppressed`, `window_ms`, with the context of the last
 * one; message `<msg> (repeats not logged)`) when the window ends. Ended windows are swept
 * by a timer that runs only while a window is open and does not keep the process alive.
 */
export class RateLimitedLog {
  private readonly entries = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly keyField: string;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: RateLimitedLogOptions) {
    this.windowMs = opts.windowMs ?? RATE_LIMIT_WINDOW_MS;
    this.maxKeys = Math.max(1, opts.maxKeys ?? 10_000);
    this.keyField = opts.keyField ?? 'key';
  }

  /** (key, reason) pairs with an open window (at most `maxKeys` + one `*` per reason). */
  get size(): number { return this.entries.size; }

  /**
   * Records one warning.
   * @param key whose it is: a topic, a client id …; written as the `keyField` of the line
   * @param reason why (a short fixed word such as `invalid-event`); written as `reason`
   * @param fields context for the line (`err` …); they may override the key field
   * @param msg the log message
   * @param logger where this (key, reason)'s lines go, e.g. a service's child logger; default the options' logger
   * @returns true when this warning was logged, false when it was only counted
   */
  warn(key: string, reason: string, fields: Record<string, unknown>, msg: string, logger: WarnLogger = this.opts.logger): boolean {
    const now = Date.now();
    let id = `${reason}\u0000${key}`;
    let e = this.entries.get(id);
    if (e && e.until <= now) {
      this.summarize(e);
      this.entries.delete(id);
      e = undefined;
    }
    if (!e && this.entries.size >= this.maxKeys) {
      // Too many keys at once: count the rest together.
      this.sweep(now);
      if (this.entries.size >= this.maxKeys) {
        fields = { ...fields, example: key };
        key = OVERFLOW_KEY;
        id = `${reason}\u0000${key}`;
        e = this.entries.get(id);
      }
    }
    if (e) {
      e.suppressed++;
      e.last = fields;
      return false;
    }
    this.entries.set(id, { key, reason, msg, logger, last: fields, until: now + this.windowMs, suppressed: 0 });
    this.timer ??= this.startTimer();
    logger.warn({ [this.keyField]: key, ...fields, reason }, msg);
    return true;
  }

  /** Logs the counts of every window still open and forgets them (on stop). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const e of this.entries.values()) this.summarize(e);
    this.entries.clear();
  }

  private startTimer(): NodeJS.Timeout {
    const t = setInterval(() => this.sweep(Date.now()), Math.max(50, Math.min(this.windowMs, 10_000)));
    t.unref();
    return t;
  }

  /** Ends the windows that are over: logs their counts; stops the timer when none is open. */
  private sweep(now: number): void {
    for (const [id, e] of this.entries) {
      if (e.until > now) continue;
      this.summarize(e);
      this.entries.delete(id);
    }
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private summarize(e: Entry): void {
    if (e.suppressed === 0) return;
    e.logger.warn({ [this.keyField]: e.key, ...e.last, reason: e.reason, suppressed: e.suppressed, window_ms: this.windowMs }, `${e.msg} (repeats not logged)`);
  }
}
