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

/**
 * Creates the root logger.
 * @param opts.level pino level name (`info`, `debug` …)
 * @param opts.pretty force pretty output on or off; default: pretty when stdout is a TTY.
 * @param opts.destination optional stream to write to (tests capture logs with it).
 */
export function createLogger(opts: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.VIGIL_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? (process.env.VIGIL_LOG_FORMAT !== 'json' && Boolean(process.stdout.isTTY));
  const redact = { paths: ['password', '*.password', '*.*.password', 'authorization', '*.authorization'], censor: '[redacted]' };
  if (opts.destination) return pino({ level, redact }, opts.destination as pino.DestinationStream);
  if (pretty) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino({ level, redact });
}

/** A logger that drops everything (for library use without a host). */
export const silentLogger: Logger = pino({ level: 'silent' });
