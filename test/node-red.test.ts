/**
 * The embedded rules engine (Node-RED 4.1) on a plain HTTP server routed the way the hub
 * does it: Node-RED's paths to the engine's Express 4 handler, the rest to an Express 5
 * app. Admin checks on the editor, its API and its comms WebSocket; `http in` endpoints
 * open; the default flow on a real broker (aedes, with credentials); start/stop several
 * times in one process.
 */
import type { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import express from 'express';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../components/protocol/log.ts';
import { RulesEngine, type RulesAccess } from '../hub/rules/node-red.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

const FLOWS_DIR = resolve(fileURLToPath(new URL('../flows', import.meta.url)));
const MQTT_USER = 'rules';
const MQTT_PASSWORD = 'rules-secret';

/** `x-test-role: admin | viewer` — anything else is not logged in. */
async function authorize(req: IncomingMessage): Promise<RulesAccess> {
  const role = req.headers['x-test-role'];
  return role === 'admin' ? 'ok' : role === 'viewer' ? 'forbidden' : 'unauthenticated';
}

interface Broker { url: string; close: () => Promise<void> }

/** aedes on a random port that only accepts {@link MQTT_USER}. */
async function startBroker(): Promise<Broker> {
  const aedes = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      const ok = username === MQTT_USER && password?.toString() === MQTT_PASSWORD;
      if (ok) return done(null, true);
      const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
      done(err, false);
    },
  });
  const tcp: NetServer = createNetServer((s) => aedes.handle(s));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

interface Site { server: Server; engine: RulesEngine; baseUrl: string; wsUrl: string; logs: () => string; stop: () => Promise<void> }

/** An HTTP server with an Express 5 app and the rules engine, dispatched as hub.ts should. */
async function startSite(userDir: string, mqttOpts: { url: string; username?: string; password?: string }): Promise<Site> {
  const sink = new PassThrough();
  let captured = '';
  sink.on('data', (c: Buffer) => { captured += c.toString(); });
  const logger = createLogger({ level: 'debug', destination: sink });
  const app = express();
  app.get('/api/ping', (_req, res) => { res.json({ pong: true }); });
  let engine: RulesEngine | undefined;
  const server = createHttpServer((req, res) => {
    if (engine?.handles(req.url)) engine.handler(req, res);
    else app(req, res);
  });
  engine = new RulesEngine({ server, userDir, flowsDir: FLOWS_DIR, mqtt: mqttOpts, logger, authorize });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await engine.start();
  const port = (server.address() as AddressInfo).port;
  const e = engine;
  return {
    server, engine: e, baseUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, logs: () => captured,
    stop: async () => {
      await e.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function call(site: Site, method: string, path: string, opts: { role?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.role ? { 'x-test-role': opts.role } : {}), ...(opts.headers ?? {}) };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${site.baseUrl}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), redirect: 'manual' });
  const text = await res.text();
  let body: any = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body, text, headers: res.headers };
}

/** Opens a WebSocket; resolves with it when open, or with the HTTP status of the refusal. */
function openWs(url: string, headers: Record<string, string>): Promise<{ ws?: WebSocket; status?: number; body?: string; error?: string }> {
  return new Promise((done) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => done({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => { ws.terminate(); done({ status: res.statusCode, body }); });
    });
    ws.once('error', (err) => done({ error: err.message }));
  });
}

async function waitUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const event = (type: string, camera: string) => JSON.stringify({ type, before: { id: `1-${camera}`, camera, label: 'person' }, after: { id: `1-${camera}`, camera, label: 'person' } });

const HTTP_FLOW = [
  { id: 'a11ce00000000001', type: 'tab', label: 'Webhook test', disabled: false, info: '' },
  { id: 'a11ce00000000002', type: 'http in', z: 'a11ce00000000001', name: '', url: '/hello', method: 'get', upload: false, swaggerDoc: '', x: 100, y: 40, wires: [['a11ce00000000003']] },
  { id: 'a11ce00000000003', type: 'change', z: 'a11ce00000000001', name: '', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"hello": req.query.name}', tot: 'jsonata' }], x: 300, y: 40, wires: [['a11ce00000000004']] },
  { id: 'a11ce00000000004', type: 'http response', z: 'a11ce00000000001', name: '', statusCode: '', headers: {}, x: 500, y: 40, wires: [] },
];

describe('embedded Node-RED', () => {
  let broker: Broker;
  let site: Site;
  let userDir: string;
  const root = mkdtempSync(join(tmpdir(), 'vigil-rules-'));

  beforeAll(async () => {
    broker = await startBroker();
    userDir = join(root, 'first', 'node-red');
    site = await startSite(userDir, { url: broker.url, username: MQTT_USER, password: MQTT_PASSWORD });
  });
  afterAll(async () => {
    await site?.stop();
    await broker?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the editor to admins only (401 without a session, 403 for a viewer)', async () => {
    const none = await call(site, 'GET', '/rules/');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const viewer = await call(site, 'GET', '/rules/', { role: 'viewer' });
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe('forbidden');
    const admin = await call(site, 'GET', '/rules/', { role: 'admin' });
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-type')).toMatch(/text\/html/);
    expect(admin.text).toContain('<title>Vigil rules</title>');
    expect(admin.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    // Without the trailing slash Node-RED redirects (relative asset URLs) — after the check.
    expect((await call(site, 'GET', '/rules')).status).toBe(401);
    const bare = await call(site, 'GET', '/rules', { role: 'admin' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/rules/');
    // Assets and the admin API are behind the same check.
    expect((await call(site, 'GET', '/rules/settings')).status).toBe(401);
    expect((await call(site, 'GET', '/rules/red/red.min.js', { role: 'viewer' })).status).toBe(403);
  });

  it('lists the default flow through the admin API; refuses deploys by viewers and cross-origin', async () => {
    const flows = await call(site, 'GET', '/rules/flows', { role: 'admin' });
    expect(flows.status).toBe(200);
    const types = (flows.body as Array<{ type: string; broker?: string }>).map((n) => n.type);
    expect(types).toEqual(expect.arrayContaining(['tab', 'mqtt-broker', 'mqtt in', 'switch', 'change', 'mqtt out']));
    const broker = (flows.body as Array<Record<string, unknown>>).find((n) => n.type === 'mqtt-broker')!;
    expect(broker.broker).toBe('${VIGIL_MQTT_URL}');
    expect(broker.protocolVersion).toBe('4');
    expect(broker.credentials).toBeUndefined();
    expect((await call(site, 'POST', '/rules/flows', { role: 'viewer', body: [] })).status).toBe(403);
    expect((await call(site, 'POST', '/rules/flows', { body: [] })).status).toBe(401);
    const csrf = await call(site, 'POST', '/rules/flows', { role: 'admin', body: [], headers: { origin: 'http://evil.example' } });
    expect(csrf.status).toBe(403);
    expect(csrf.body.error.message).toMatch(/cross-origin/);
    // Still the default flow: nothing above was deployed.
    expect((await call(site, 'GET', '/rules/flows', { role: 'admin' })).body).toHaveLength(flows.body.length);
  });

  it('stores the credential secret (0600) and the broker credentials encrypted', () => {
    const secretFile = join(userDir, '.credential-secret');
    expect(readFileSync(secretFile, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(readFileSync(join(userDir, 'flows_cred.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(creds)).toEqual(['$']);
    const stored = JSON.parse(readFileSync(join(userDir, 'flows.json'), 'utf8')) as Array<Record<string, unknown>>;
    expect(stored.filter((n) => 'credentials' in n)).toEqual([]);
  });

  it('refuses the comms WebSocket without an admin session, accepts it for an admin', async () => {
    const none = await openWs(`${site.wsUrl}/rules/comms`, {});
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body!)).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await openWs(`${site.wsUrl}/rules/comms`, { 'x-test-role': 'viewer' })).status).toBe(403);
    expect((await openWs(`${site.wsUrl}/rules/comms`, { 'x-test-role': 'admin', origin: 'http://evil.example' })).status).toBe(403);
    const admin = await openWs(`${site.wsUrl}/rules/comms`, { 'x-test-role': 'admin', origin: site.baseUrl });
    expect(admin.ws).toBeDefined();
    // The editor's protocol works: node statuses are retained comms messages.
    const ws = admin.ws!;
    const statuses = new Promise<Array<{ topic: string }>>((res) => ws.on('message', (d: Buffer) => res(JSON.parse(d.toString()) as Array<{ topic: string }>)));
    ws.send(JSON.stringify({ subscribe: 'status/#' }));
    expect((await statuses).some((m) => m.topic.startsWith('status/'))).toBe(true);
    expect(site.engine.status()).toMatchObject({ state: 'running', flows: 'started', websockets: 1 });
    ws.close();
  });

  it('runs the default flow: a new event on vigil/events is republished to vigil/rules/notification', async () => {
    const rec = await MqttRecorder.connect(broker.url, ['vigil/rules/notification'], { username: MQTT_USER, password: MQTT_PASSWORD });
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, username: MQTT_USER, password: MQTT_PASSWORD });
    try {
      // Node-RED's mqtt nodes connect and subscribe asynchronously after start: repeat until it arrives.
      await waitUntil(async () => {
        await pub.publishAsync('vigil/events', event('new', 'warmup'), { qos: 1 });
        return rec.on('vigil/rules/notification').length > 0 ? true : undefined;
      }, 20_000, 'the first notification');
      await pub.publishAsync('vigil/events', event('update', 'garden'), { qos: 1 });
      await pub.publishAsync('vigil/events', event('new', 'porch'), { qos: 1 });
      const m = await rec.waitFor((x) => JSON.parse(x.payload.toString()).camera === 'porch', 5000, 'porch notification');
      expect(m.retain).toBe(false);
      expect(JSON.parse(m.payload.toString())).toEqual({ camera: 'porch', topic: 'vigil/event/new', payload: JSON.parse(event('new', 'porch')) });
      expect(rec.on('vigil/rules/notification').map((x) => JSON.parse(x.payload.toString()).camera)).not.toContain('garden');
    } finally {
      await pub.endAsync(true);
      await rec.close();
    }
  });

  it('serves http-in nodes (Express 4 sub-app) on /rules/api without the admin check; /api stays Express 5', async () => {
    const current = (await call(site, 'GET', '/rules/flows', { role: 'admin' })).body as unknown[];
    const deploy = await call(site, 'POST', '/rules/flows', { role: 'admin', body: [...current, ...HTTP_FLOW], headers: { 'Node-RED-Deployment-Type': 'full', origin: site.baseUrl } });
    expect(deploy.status).toBeLessThan(300);
    const hello = await waitUntil(async () => {
      const r = await call(site, 'GET', '/rules/api/hello?name=vigil');
      return r.status === 200 ? r : undefined;
    }, 10_000, 'the http-in endpoint');
    expect(hello.body).toEqual({ hello: 'vigil' });
    const missing = await call(site, 'GET', '/rules/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const ping = await call(site, 'GET', '/api/ping');
    expect(ping.status).toBe(200);
    expect(ping.body.pong).toBe(true);
    // Not Node-RED's: a lookalike prefix goes to the Express 5 app.
    expect(site.engine.handles('/rulesets')).toBe(false);
    expect((await call(site, 'GET', '/rulesets')).status).toBe(404);
  });

  it('refuses a second engine while one runs (Node-RED is a per-process singleton)', async () => {
    const other = new RulesEngine({ server: createHttpServer(), userDir: join(root, 'other'), flowsDir: FLOWS_DIR, mqtt: { url: broker.url }, logger: createLogger({ level: 'silent' }), authorize });
    await expect(other.start()).rejects.toThrow(/another RulesEngine/);
    await other.stop();
  });

  it('stops (even with an editor WebSocket open) and starts again in the same process, on another server and user dir', async () => {
    const open = await openWs(`${site.wsUrl}/rules/comms`, { 'x-test-role': 'admin' });
    expect(open.ws).toBeDefined();
    const closed = new Promise<void>((r) => open.ws!.once('close', () => r()));
    await site.stop();
    await closed;
    expect(site.engine.status().state).toBe('stopped');
    expect(process.env.VIGIL_MQTT_URL).toBeUndefined();
    // What RED.stop() leaves behind is cleaned: no upgrade listener, no multiplayer listeners on RED.events.
    expect(site.server.listenerCount('upgrade')).toBe(0);
    const redEvents = (createRequire(import.meta.url)('node-red') as { events: EventEmitter }).events;
    const leftovers = () => redEvents.eventNames().filter((n) => String(n).startsWith('comms:')).map((n) => redEvents.listenerCount(n));
    expect(leftovers().every((c) => c === 0)).toBe(true);

    // Second engine: fresh user dir, wrong MQTT password — it must only log.
    const second = await startSite(join(root, 'second'), { url: broker.url, username: MQTT_USER, password: 'wrong' });
    try {
      const flows = await call(second, 'GET', '/rules/flows', { role: 'admin' });
      expect(flows.status).toBe(200);
      expect((flows.body as Array<{ type: string }>).some((n) => n.type === 'mqtt-broker')).toBe(true);
      expect((flows.body as Array<{ id: string }>).some((n) => n.id === 'a11ce00000000002')).toBe(false);
      expect((await openWs(`${second.wsUrl}/rules/comms`, {})).status).toBe(401);
      const ws = await openWs(`${second.wsUrl}/rules/comms`, { 'x-test-role': 'admin' });
      expect(ws.ws).toBeDefined();
      ws.ws!.close();
      await waitUntil(async () => (/mqtt-broker[\s\S]*(refused|failed|Not authorized|Bad username)/i.test(second.logs()) ? true : undefined), 15_000, 'an mqtt login failure in the logs');
      expect((await call(second, 'GET', '/api/ping')).status).toBe(200);
    } finally {
      await second.stop();
    }

    // Third: back on the first user dir — the webhook flow deployed earlier is still there and served.
    site = await startSite(userDir, { url: broker.url, username: MQTT_USER, password: MQTT_PASSWORD });
    expect(leftovers().every((c) => c <= 1)).toBe(true);
    const hello = await waitUntil(async () => {
      const r = await call(site, 'GET', '/rules/api/hello?name=again');
      return r.status === 200 ? r : undefined;
    }, 10_000, 'the http-in endpoint after a restart');
    expect(hello.body).toEqual({ hello: 'again' });
    expect((await call(site, 'GET', '/rules/', {})).status).toBe(401);
  });
});
