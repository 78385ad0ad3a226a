/**
 * Starts a real hub for a test: temp data dir, random ports, demo off, logs captured
 * (JSON lines) so tests can search them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { applyEnv } from '../../components/protocol/config/load.ts';
import { configSchema, type VigilConfig } from '../../components/protocol/config/schema.ts';
import { createLogger } from '../../components/protocol/log.ts';
import { Hub, type HubOptions } from '../../hub/hub.ts';

export interface TestHub {
  hub: Hub;
  /** Bearer token of the test admin (`admin` / {@link ADMIN_PASSWORD}), unless started with `noAdmin`. */
  adminToken?: string;
  /** MQTT credentials of a `component` device, for test clients of the embedded broker. */
  mqttCreds?: { username: string; password: string };
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  mqttUrl: string;
  dataDir: string;
  /** Every log line so far. */
  logs: () => string;
  stop: () => Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export const ADMIN_PASSWORD = 'test-admin-password';
/** baseUrl → admin token, and mqttUrl → credentials, used by default by {@link api} and `MqttRecorder`. */
export const defaultTokens = new Map<string, string>();
export const defaultMqttCreds = new Map<string, { username: string; password: string }>();

/**
 * Starts a hub; `overrides` are merged into a test config (ports 0, 127.0.0.1, demo off,
 * 2 workers, generous login limits, rules and Home Assistant discovery off). Unless
 * `noAdmin`, an admin user `admin` is created and logged in, and a `component` device
 * credential is made for MQTT test clients.
 */
export async function startTestHub(
  overrides: DeepPartial<VigilConfig> & Record<string, unknown> = {},
  opts: { dataDir?: string; noAdmin?: boolean; configFile?: string; hub?: Omit<HubOptions, 'configFile'> } = {},
): Promise<TestHub> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-test-'));
  const base = {
    data_dir: dataDir,
    http: { port: 0, host: '127.0.0.1' },
    mqtt: { port: 0, host: '127.0.0.1' },
    demo: { mode: 'off' },
    detector: { workers: 2 },
    log: { level: 'debug' },
    auth: { login_limits: { per_second: 1000, per_minute: 1000, per_hour: 10000 } },
    rules: { enabled: false },
    // Home Assistant discovery adds retained configs and periodic stats: tests that want them turn it on.
    homeassistant: { enabled: false },
    // The test machine's shared disk may be fuller than the defaults allow: only size caps set by a test apply.
    recordings: { max_percent: 100, min_free_gb: 0 },
  };
  // `configFile`: its keys over the test defaults, `overrides` over both, then `hub.env` as the loader applies it.
  const fromFile = opts.configFile && existsSync(opts.configFile) ? (parseYaml(readFileSync(opts.configFile, 'utf8')) ?? {}) as Record<string, unknown> : {};
  const envIssues: string[] = [];
  const config = configSchema.parse(applyEnv(merge(merge(base, fromFile), overrides), opts.hub?.env ?? {}, envIssues));
  if (envIssues.length) throw new Error(envIssues.join('; '));
  const sink = new PassThrough();
  let captured = '';
  sink.on('data', (c: Buffer) => { captured += c.toString(); });
  const hub = new Hub(config, createLogger({ level: 'debug', destination: sink, tail: 1000 }), { env: {}, ...opts.hub, configFile: opts.configFile });
  await hub.start();
  const baseUrl = `http://127.0.0.1:${hub.httpPort}`;
  let adminToken: string | undefined;
  let mqttCreds: { username: string; password: string } | undefined;
  if (!opts.noAdmin) {
    const auth = hub.auth!;
    const admin = (await auth.users.byName('admin')) ?? (await auth.users.byId((await auth.users.create({ username: 'admin', password: ADMIN_PASSWORD, role: 'admin' })).id));
    adminToken = (await auth.sessions.open(admin!.id, '127.0.0.1')).access_token;
    defaultTokens.set(baseUrl, adminToken);
    if (!config.mqtt.url) {
      const dev = await auth.credentials.createDevice({ id: 'test-client', kind: 'component' });
      mqttCreds = { username: 'test-client', password: dev.password };
      defaultMqttCreds.set(hub.mqttUrl, mqttCreds);
      defaultMqttCreds.set(`ws://127.0.0.1:${hub.httpPort}/mqtt`, mqttCreds);
    }
  }
  return {
    hub,
    adminToken,
    mqttCreds,
    baseUrl,
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

/**
 * JSON fetch against the hub: `{status, body, headers}`. Authenticated as the test admin
 * by default; `auth` chooses another bearer token, an API key (`{ apiKey }`), extra
 * headers, or `null` for an anonymous request.
 */
export async function api(baseUrl: string, method: string, path: string, body?: unknown, auth?: { token?: string; apiKey?: string; headers?: Record<string, string> } | null): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (auth === undefined && defaultTokens.has(baseUrl)) headers.authorization = `Bearer ${defaultTokens.get(baseUrl)}`;
  if (auth?.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth?.apiKey) headers['x-api-key'] = auth.apiKey;
  Object.assign(headers, auth?.headers ?? {});
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}
