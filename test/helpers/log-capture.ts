/**
 * A real pino logger (`components/protocol/log.ts`, JSON lines) whose output the test
 * reads back: for asserting what a component logged, and how often.
 */
import { PassThrough } from 'node:stream';
import { createLogger } from '../../components/protocol/log.ts';

/** One parsed log line: pino's fields plus whatever the call added. */
export interface LogLine { level: number; msg: string; [field: string]: unknown }

/**
 * @param bindings fields on every line (a child logger), e.g. `{ module: 'svc' }`
 * @returns the logger (level `debug`) and `lines()`, every line written so far, parsed
 */
export function captureLog<L extends LogLine = LogLine>(bindings: Record<string, string> = {}): { logger: ReturnType<typeof createLogger>; lines: () => L[] } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (c: Buffer) => { text += c.toString(); });
  const root = createLogger({ level: 'debug', destination: sink });
  return { logger: Object.keys(bindings).length ? root.child(bindings) : root, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as L) };
}
