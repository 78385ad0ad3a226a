/**
 * Starts a real hub for a test: temp data dir, random ports, demo off, logs captured
 * (JSON lines) so tests can search them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { configSchema, type VigilConfig } from '../../hub/config/schema.ts';
import { createLogger } from '../../hub/log.ts';
import { Hub } from '../../hub/hub.ts';

export interface TestHub {
  hub: Hub;
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  mqttUrl: string;
  dataDir: string;
  /** Every log line so far. */
  logs: () => string;
  stop: () => Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Starts a hub; `overrides` are merged into a test config (ports 0, 127.0.0.1, demo off, 2 workers). */
export async function startTestHub(overrides: DeepPartial<VigilConfig> & Record<string, unknown> = {}, opts: { dataDir?: string } = {}): Promise<TestHub> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-test-'));
  const base = {
    data_dir: dataDir,
    http: { port: 0, host: '127.0.0.1' },
    mqtt: { port: 0, host: '127.0.0.1' },
    demo: { mode: 'off' },
    detector: { workers: 2 },
    log: { level: 'debug' },
  };
  const config = configSchema.parse(merge(base, overrides));
  const sink = new PassThrough();
  let captured = '';
  sink.on('data', (c: Buffer) => { captured += c.toString(); });
  const hub = new Hub(config, createLogger({ level: 'debug', destination: sink }));
  await hub.start();
  return {
    hub,
    baseUrl: `http://127.0.0.1:${hub.httpPort}`,
    mqttUrl: hub.mqttUrl,
    dataDir,
    logs: () => captured,
    stop: async () => {
      await hub.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' ? merge(out[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** JSON fetch against the hub: `{status, body}`. */
export async function api(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}
