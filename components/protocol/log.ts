/**
 * Structured logging (pino). JSON lines when stdout is not a terminal or
 * `VIGIL_LOG_FORMAT=json`; pino-pretty on a console. Level from `VIGIL_LOG_LEVEL` or config.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * `text` with the `user:password@` (or `user@`) of every URL in it replaced by
 * `[redacted]@` — for free text that may quote a URL: ffmpeg messages, activity details.
 */
export function redactCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1[redacted]@');
}

/**
 * The URL with any `user:password@` removed, for logs and API output (camera, broker and
 * webhook URLs alike). Unparseable text becomes `[invalid url]`: it may hold a secret.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) { u.username = ''; u.password = ''; }
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}

/** pino's level numbers by name (`info` = 30 …). */
export const LOG_LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const LEVEL_NAMES = Object.fromEntries(Object.entries(LOG_LEVELS).map(([k, v]) => [v, k])) as Record<number, string>;

/** One line of a {@link LogTail} as `/api/system/logs` answers it. */
export interface LogLine {
  /** Position in the tail, increasing from 1 (`after` of the next poll). */
  seq: number;
  /** Unix ms. */
  time: number;
  level: string;
  msg: string;
  /** The child logger's `module`, `component` or `bus` binding. */
  module?: string;
  /** The error's message (first line of a stack). */
  err?: string;
  /** The line's other fields (already redacted by the logger), each value at most 200 characters of JSON. */
  context?: Record<string, unknown>;
}

/** Longest line a {@link LogTail} keeps whole, characters (a stack trace or a large object is shortened). */
export const MAX_TAIL_LINE = 4096;

const OWN_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err', 'module', 'component', 'bus']);

/**
 * The last `capacity` lines a logger wrote, as written (redaction applied), for the web UI's
 * logs tail. A line is kept as its JSON text and parsed only when asked for.
 */
export class LogTail {
  private readonly lines: { seq: number; level: number; raw: string }[] = [];
  private seq = 0;

  /** @param capacity lines kept; older ones are dropped. */
  constructor(readonly capacity = 1000) {}

  /** Takes one serialized pino line (JSON); one longer than {@link MAX_TAIL_LINE} characters is kept shortened. */
  push(raw: string): void {
    // pino writes `{"level":<n>,` first.
    const level = Number(/^\{"level":(\d+)/.exec(raw)?.[1] ?? 30);
    if (raw.length > MAX_TAIL_LINE) {
      const l = parseLine(0, level, raw);
      raw = JSON.stringify({ level, time: l.time, msg: l.msg.slice(0, 1000), module: l.module, err: l.err, truncated: true });
    }
    this.lines.push({ seq: ++this.seq, level, raw });
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** Sequence number of the newest line (0: none yet). */
  get last(): number { return this.seq; }

  /**
   * Lines after `after` (a `seq`) at or above `level`, oldest first, at most `limit` — the
   * newest ones when more match (a first poll shows the latest lines).
   * @param q.level a level name (`warn` …); default every level
   * @returns the lines and `next`, the `after` of the next poll
   */
  query(q: { after?: number; level?: string; limit?: number } = {}): { lines: LogLine[]; next: number } {
    const min = q.level ? LOG_LEVELS[q.level] ?? 0 : 0;
    const after = q.after ?? 0;
    const picked = this.lines.filter((l) => l.seq > after && l.level >= min);
    const out = picked.slice(-Math.max(1, q.limit ?? 200)).map((l) => parseLine(l.seq, l.level, l.raw));
    return { lines: out, next: this.seq };
  }
}

function parseLine(seq: number, level: number, raw: string): LogLine {
  let o: Record<string, unknown> = {};
  try { o = JSON.parse(raw) as Record<string, unknown>; } catch { o = { msg: raw.trim() }; }
  const line: LogLine = { seq, time: typeof o.time === 'number' ? o.time : 0, level: LEVEL_NAMES[level] ?? String(level), msg: typeof o.msg === 'string' ? o.msg : '' };
  const mod = o.module ?? o.component ?? o.bus;
  if (typeof mod === 'string') line.module = mod;
  if (o.err !== undefined) {
    const e = o.err as { message?: unknown } | string;
    line.err = (typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : JSON.stringify(e)).split('\n')[0]!.slice(0, 500);
  }
  const ctx = Object.entries(o).filter(([k]) => !OWN_FIELDS.has(k));
  if (ctx.length) line.context = Object.fromEntries(ctx.map(([k, v]) => { const j = JSON.stringify(v) ?? ''; return [k, j.length > 200 ? `${j.slice(0, 199)}…` : v]; }));
  return line;
}

const tails = new WeakMap<Logger, LogTail>();

/** The {@link LogTail} of a logger made by {@link createLogger} with `tail`, if any. */
export function logTailOf(logger: Logger): LogTail | undefined {
  return tails.get(logger);
}

/**
 * Creates the root logger.
 * @param opts.level pino level name (`info`, `debug` …)
 * @param opts.pretty force pretty output on or off; default: pretty when stdout is a TTY.
 * @param opts.destination optional stream to write to (tests capture logs with it).
 * @param opts.tail keep the last this many lines (JSON, redacted) in a {@link LogTail}
 *   ({@link logTailOf}); the output itself is unchanged. Default 0: none.
 */
export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream; tail?: number } = {}): Logger {
  const level = opts.level ?? process.env.VIGIL_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? (process.env.VIGIL_LOG_FORMAT !== 'json' && Boolean(process.stdout.isTTY));
  const redact = { paths: ['password', '*.password', '*.*.password', 'authorization', '*.authorization'], censor: '[redacted]' };
  const tail = opts.tail ? new LogTail(opts.tail) : undefined;
  // pino hands every serialized line to this hook before any stream or transport (pretty printing happens in its worker).
  const hooks = tail ? { hooks: { streamWrite: (s: string): string => { tail.push(s); return s; } } } : {};
  let logger: Logger;
  if (opts.destination) logger = pino({ level, redact, ...hooks }, opts.destination as pino.DestinationStream);
  else if (pretty) {
    logger = pino({ level, redact, ...hooks, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  } else logger = pino({ level, redact, ...hooks });
  if (tail) tails.set(logger, tail);
  return logger;
}

/** A logger that drops everything (for library use without a host). */
export const silentLogger: Logger = pino({ level: 'silent' });
