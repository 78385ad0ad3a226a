/**
 * The camera head's HTTP and WebSocket APIs with their authentication, against a real HTTP
 * server on 127.0.0.1 (random port), a real StateStore on a temp SQLite file with a few
 * declared test keys, and real users in a temp `users.db` (real scrypt).
 *
 * Digest answers are computed here from RFC 7616 §3.4.1 (checked first against the RFC's
 * own §3.9.1 example), independently of `head-firmware/api/auth.ts`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { createLogger } from '../components/protocol/log.ts';
import { HeadAuth } from '../head-firmware/api/auth.ts';
import { createHttpApi } from '../head-firmware/api/http-api.ts';
import { attachWsApi, type WsApi } from '../head-firmware/api/ws-api.ts';
import { StateDb } from '../head-firmware/state/state-db.ts';
import { StateStore } from '../head-firmware/state/store.ts';
import { UserDb } from '../head-firmware/users/user-db.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PW = { admin: 'admin-password-1', vera: 'viewer-password-1', otto: 'operator-password-1', tess: 'throttle-password-1', uli: 'unicode-pässwörd-1' };
const NONCE_TTL_MS = 2500;

// ---- a Digest client written from RFC 7616 ----

type Algo = 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess';
const H = (algo: Algo, s: string) => createHash(algo.startsWith('MD5') ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');

/** RFC 7616 §3.4.1: response = KD(H(A1), nonce:nc:cnonce:qop:H(A2)); A1 for -sess is H(user:realm:pw):nonce:cnonce. */
function digestResponse(a: { algo: Algo; user: string; realm: string; password: string; method: string; uri: string; nonce: string; nc: string; cnonce: string; qop: string }): string {
  let ha1 = H(a.algo, `${a.user}:${a.realm}:${a.password}`);
  if (a.algo.endsWith('-sess')) ha1 = H(a.algo, `${ha1}:${a.nonce}:${a.cnonce}`);
  const ha2 = H(a.algo, `${a.method}:${a.uri}`);
  return H(a.algo, `${ha1}:${a.nonce}:${a.nc}:${a.cnonce}:${a.qop}:${ha2}`);
}

interface Challenge { scheme: string; params: Record<string, string> }
function parseChallenge(v: string): Challenge {
  const scheme = v.slice(0, v.indexOf(' '));
  const params: Record<string, string> = {};
  for (const m of v.slice(scheme.length).matchAll(/([a-zA-Z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return { scheme, params };
}

function digestAuthorization(ch: Challenge, o: { algo: Algo; user: string; password: string; method: string; uri: string; nc?: number; cnonce?: string; realm?: string }): string {
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? randomBytes(12).toString('hex');
  const realm = o.realm ?? ch.params.realm!;
  const response = digestResponse({ algo: o.algo, user: o.user, realm, password: o.password, method: o.method, uri: o.uri, nonce: ch.params.nonce!, nc, cnonce, qop: 'auth' });
  return `Digest username="${o.user}", realm="${realm}", uri="${o.uri}", algorithm=${o.algo}, nonce="${ch.params.nonce}", nc=${nc}, cnonce="${cnonce}", qop=auth, response="${response}", opaque="${ch.params.opaque}"`;
}

// ---- the server under test ----

let dir: string;
let server: Server;
let port: number;
let store: StateStore;
let users: UserDb;
let auth: HeadAuth;
let wsApi: WsApi;
const logLines: string[] = [];
let tokens: Record<'vera' | 'otto' | 'admin', string>;

interface Res { status: number; headers: Record<string, string[]>; body: any; text: string }
function req(method: string, path: string, o: { headers?: Record<string, string>; body?: unknown; raw?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const r = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
        resolve({ status: res.statusCode!, headers: res.headersDistinct as Record<string, string[]>, body, text });
      });
    });
    r.on('error', reject);
    r.end(payload);
  });
}
const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`, 'utf8').toString('base64')}` });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function challengeFor(method: string, path: string): Promise<{ sha: Challenge; md5: Challenge; all: Challenge[] }> {
  const r = await req(method, path);
  expect(r.status).toBe(401);
  const all = r.headers['www-authenticate']!.map(parseChallenge);
  return { sha: all.find((c) => c.scheme === 'Digest' && c.params.algorithm === 'SHA-256')!, md5: all.find((c) => c.scheme === 'Digest' && c.params.algorithm === 'MD5')!, all };
}

/** A WebSocket client that keeps every message. */
class WsClient {
  readonly messages: any[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.messages.push(JSON.parse(d.toString())));
  }
  static open(headers: Record<string, string>): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers });
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_r, res) => reject(Object.assign(new Error(`upgrade refused ${res.statusCode}`), { status: res.statusCode, headers: res.headersDistinct })));
      ws.once('error', reject);
    });
  }
  send(m: unknown): void { this.ws.send(typeof m === 'string' ? m : JSON.stringify(m)); }
  async waitFor(pred: (m: any) => boolean, timeoutMs = 3000): Promise<any> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (Date.now() > end) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      await sleep(5);
    }
  }
  async call(m: Record<string, unknown>): Promise<any> {
    this.send(m);
    return this.waitFor((x) => x.id === m.id && 'ok' in x);
  }
  close(): void { this.ws.close(); }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'head-api-'));
  const logger = createLogger({ level: 'debug', destination: new Writable({ write(c, _e, cb) { logLines.push(String(c)); cb(); } }) });
  store = new StateStore({ db: new StateDb(dir), logger });
  store.declare({ key: 'light.on', schema: z.boolean(), default: false, read: ['light_r'], write: ['light_rw'], persist: true, description: 'The light' });
  store.declare({ key: 'image.brightness', schema: z.number().int().min(0).max(100), default: 50, read: ['camera_r'], write: ['camera_rw'], persist: true, description: 'Brightness, %' });
  store.declare({ key: 'system.uptime', schema: z.number().nonnegative(), default: 0, read: ['system_r'], write: [], persist: false, description: 'Uptime, s' });
  store.declare({ key: 'admin.note', schema: z.string().max(60_000), default: '', read: ['users_rw'], write: ['users_rw'], persist: false, description: 'Admins only' });
  await store.load();
  users = new UserDb({ dataDir: dir, logger });
  expect(await users.ensureAdmin(PW.admin)).toEqual({ created: true });
  await users.add('vera', 'viewer', PW.vera);
  await users.add('otto', 'operator', PW.otto);
  await users.add('tess', 'viewer', PW.tess);
  await users.add('uli', 'viewer', PW.uli);
  tokens = { vera: users.createToken('vera').token, otto: users.createToken('otto').token, admin: users.createToken('admin').token };
  auth = new HeadAuth({ users, logger, nonceTtlMs: NONCE_TTL_MS, throttle: { perUser: 5, perIp: 1000 } });
  const app = createHttpApi({ store, users, auth, logger, info: { name: 'head-test', model: 'C Pro' } });
  server = createServer(app);
  wsApi = attachWsApi(server, { store, auth, logger, maxBufferedBytes: 256 * 1024 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  wsApi?.close();
  auth?.close();
  await new Promise((r) => server?.close(r));
  await store?.close();
  users?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the Digest client of this test', () => {
  it('reproduces RFC 7616 §3.9.1 (MD5 and SHA-256)', () => {
    const a = { user: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', qop: 'auth' };
    expect(digestResponse({ ...a, algo: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse({ ...a, algo: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });
});

describe('head HTTP authentication', () => {
  it('answers /api/health without credentials', async () => {
    const r = await req('GET', '/api/health');
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
  });

  it('answers 401 with Digest SHA-256, Digest MD5 and Basic challenges', async () => {
    const r = await req('GET', '/api/state');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthenticated');
    const ch = r.headers['www-authenticate']!.map(parseChallenge);
    expect(ch.map((c) => `${c.scheme}/${c.params.algorithm ?? ''}`)).toEqual(['Digest/SHA-256', 'Digest/MD5', 'Basic/']);
    for (const c of ch) expect(c.params.realm).toBe(users.realm);
    expect(ch[0]!.params.qop).toBe('auth');
    expect(ch[0]!.params.nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(ch[0]!.params.opaque).toBeTruthy();
    expect(ch[0]!.params.stale).toBeUndefined();
  });

  it('Basic: right credentials pass, a wrong password or an unknown user do not', async () => {
    const ok = await req('GET', '/api/me', { headers: basic('vera', PW.vera) });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ name: 'vera', role: 'viewer', scheme: 'basic' });
    expect((await req('GET', '/api/me', { headers: basic('uli', PW.uli) })).body.name).toBe('uli'); // UTF-8 password
    expect((await req('GET', '/api/me', { headers: basic('vera', 'wrong-password') })).status).toBe(401);
    expect((await req('GET', '/api/me', { headers: basic('nobody', PW.vera) })).status).toBe(401);
    expect((await req('GET', '/api/me', { headers: { authorization: 'Basic !!!not-base64' } })).status).toBe(401);
    expect((await req('GET', '/api/me', { headers: { authorization: 'Negotiate abc' } })).status).toBe(401);
  });

  it('Bearer: a user token passes; an unknown or revoked one does not', async () => {
    const ok = await req('GET', '/api/me', { headers: bearer(tokens.otto) });
    expect(ok.body).toEqual({ name: 'otto', role: 'operator', scheme: 'bearer' });
    expect((await req('GET', '/api/me', { headers: bearer(`${tokens.otto.slice(0, -2)}xx`) })).status).toBe(401);
    const made = await req('POST', '/api/users/vera/tokens', { headers: bearer(tokens.admin), body: { label: 'script' } });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^vht_[A-Za-z0-9_-]{43}$/);
    expect((await req('GET', '/api/me', { headers: bearer(made.body.token) })).body.name).toBe('vera');
    const listed = await req('GET', '/api/users/vera/tokens', { headers: bearer(tokens.admin) });
    expect(listed.body.map((t: { label: string }) => t.label)).toContain('script');
    expect(JSON.stringify(listed.body)).not.toContain(made.body.token);
    expect((await req('DELETE', `/api/users/vera/tokens/${made.body.id}`, { headers: bearer(tokens.admin) })).status).toBe(204);
    expect((await req('GET', '/api/me', { headers: bearer(made.body.token) })).status).toBe(401);
  });

  for (const algo of ['SHA-256', 'MD5', 'SHA-256-sess', 'MD5-sess'] as const) {
    it(`Digest ${algo}: a right answer passes, a wrong password does not`, async () => {
      const { sha, md5 } = await challengeFor('GET', '/api/me');
      const ch = algo.startsWith('SHA') ? sha : md5;
      const ok = await req('GET', '/api/me', { headers: { authorization: digestAuthorization(ch, { algo, user: 'otto', password: PW.otto, method: 'GET', uri: '/api/me' }) } });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ name: 'otto', role: 'operator', scheme: 'digest' });
      const bad = await req('GET', '/api/me', { headers: { authorization: digestAuthorization(ch, { algo, user: 'otto', password: 'not-the-password', method: 'GET', uri: '/api/me', nc: 2 }) } });
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']!.some((v) => /stale=true/.test(v))).toBe(false);
    });
  }

  it('Digest: a replayed nonce-count is refused, the next count passes; method and uri are bound', async () => {
    const { sha } = await challengeFor('GET', '/api/state');
    const h1 = digestAuthorization(sha, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/state', nc: 1 });
    expect((await req('GET', '/api/state', { headers: { authorization: h1 } })).status).toBe(200);
    expect((await req('GET', '/api/state', { headers: { authorization: h1 } })).status).toBe(401); // the same request replayed
    const again1 = digestAuthorization(sha, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/state', nc: 1 });
    expect((await req('GET', '/api/state', { headers: { authorization: again1 } })).status).toBe(401); // nc 1 with a new cnonce
    const h2 = digestAuthorization(sha, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/state', nc: 2 });
    expect((await req('GET', '/api/state', { headers: { authorization: h2 } })).status).toBe(200);
    // An answer for GET /api/state does not open another path, nor another method.
    const h3 = digestAuthorization(sha, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/state', nc: 3 });
    expect((await req('GET', '/api/keys', { headers: { authorization: h3 } })).status).toBe(401);
    const h4 = digestAuthorization(sha, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/me', nc: 4 });
    expect((await req('DELETE', '/api/me', { headers: { authorization: h4 } })).status).toBe(401);
    // A nonce the head never issued, and another realm.
    const forged = { ...sha, params: { ...sha.params, nonce: randomBytes(36).toString('base64url') } };
    expect((await req('GET', '/api/me', { headers: { authorization: digestAuthorization(forged, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/me' }) } })).status).toBe(401);
    expect((await req('GET', '/api/me', { headers: { authorization: digestAuthorization(sha, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/me', nc: 9, realm: 'other' }) } })).status).toBe(401);
  });

  it('Digest: an expired nonce with a right answer gets stale=true, and the new nonce works', async () => {
    const { md5 } = await challengeFor('GET', '/api/me');
    await sleep(NONCE_TTL_MS + 300);
    const stale = await req('GET', '/api/me', { headers: { authorization: digestAuthorization(md5, { algo: 'MD5', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/me' }) } });
    expect(stale.status).toBe(401);
    const fresh = stale.headers['www-authenticate']!.map(parseChallenge);
    expect(fresh.filter((c) => c.scheme === 'Digest').every((c) => c.params.stale === 'true')).toBe(true);
    const next = fresh.find((c) => c.params.algorithm === 'MD5')!;
    expect(next.params.nonce).not.toBe(md5.params.nonce);
    const ok = await req('GET', '/api/me', { headers: { authorization: digestAuthorization(next, { algo: 'MD5', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/me' }) } });
    expect(ok.status).toBe(200);
    // A wrong password with an expired nonce is not "stale": the client must ask the user.
    await sleep(NONCE_TTL_MS + 300);
    const wrong = await req('GET', '/api/me', { headers: { authorization: digestAuthorization(next, { algo: 'MD5', user: 'vera', password: 'nope-nope-nope', method: 'GET', uri: '/api/me', nc: 2 }) } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']!.some((v) => /stale=true/.test(v))).toBe(false);
  });

  it('session: login sets an HttpOnly SameSite=Strict cookie; logout ends the session', async () => {
    const bad = await req('POST', '/api/login', { body: { username: 'otto', password: 'wrong-password' } });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('invalid_credentials');
    const r = await req('POST', '/api/login', { body: { username: 'otto', password: PW.otto } });
    expect(r.status).toBe(200);
    expect(r.body.user).toEqual({ name: 'otto', role: 'operator' });
    const setCookie = r.headers['set-cookie']![0]!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = setCookie.split(';')[0]!;
    const me = await req('GET', '/api/me', { headers: { cookie } });
    expect(me.body).toEqual({ name: 'otto', role: 'operator', scheme: 'session' });
    // Writes with the cookie: from this origin yes, from another origin (another port) no.
    expect((await req('PUT', '/api/state/light.on', { headers: { cookie, origin: `http://127.0.0.1:${port}` }, body: { value: true } })).status).toBe(200);
    const cross = await req('PUT', '/api/state/light.on', { headers: { cookie, origin: `http://127.0.0.1:${port + 1}` }, body: { value: false } });
    expect(cross.status).toBe(403);
    expect(store.get('light.on')).toBe(true);
    expect((await req('GET', '/api/me', { headers: { cookie: `${cookie}x` } })).status).toBe(401);
    const out = await req('POST', '/api/logout', { headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers['set-cookie']![0]).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await req('GET', '/api/me', { headers: { cookie } })).status).toBe(401);
  });

  it('session: a password change ends the user’s sessions', async () => {
    await users.add('pat', 'viewer', 'pat-password-1');
    const r = await req('POST', '/api/login', { body: { username: 'pat', password: 'pat-password-1' } });
    const cookie = r.headers['set-cookie']![0]!.split(';')[0]!;
    expect((await req('GET', '/api/me', { headers: { cookie } })).status).toBe(200);
    const changed = await req('POST', '/api/me/password', { headers: { cookie }, body: { current_password: 'pat-password-1', password: 'pat-password-2' } });
    expect(changed.status).toBe(204);
    expect((await req('GET', '/api/me', { headers: { cookie } })).status).toBe(401);
    expect((await req('GET', '/api/me', { headers: basic('pat', 'pat-password-1') })).status).toBe(401);
    expect((await req('GET', '/api/me', { headers: basic('pat', 'pat-password-2') })).status).toBe(200);
    users.remove('pat');
  });

  it('throttles failed password checks per user+IP (429 with Retry-After), even for the right password', async () => {
    for (let i = 0; i < 5; i++) expect((await req('GET', '/api/me', { headers: basic('tess', `wrong-${i}-password`) })).status).toBe(401);
    const r = await req('GET', '/api/me', { headers: basic('tess', PW.tess) });
    expect(r.status).toBe(429);
    expect(Number(r.headers['retry-after']![0])).toBeGreaterThan(0);
    expect((await req('POST', '/api/login', { body: { username: 'tess', password: PW.tess } })).status).toBe(429);
    // Another user from the same IP is not affected.
    expect((await req('GET', '/api/me', { headers: basic('vera', PW.vera) })).status).toBe(200);
  });
});

describe('head HTTP state API', () => {
  it('GET /api/state shows what the principal may read', async () => {
    const v = await req('GET', '/api/state', { headers: bearer(tokens.vera) });
    expect(Object.keys(v.body).sort()).toEqual(['image.brightness', 'light.on', 'system.uptime']);
    const a = await req('GET', '/api/state', { headers: bearer(tokens.admin) });
    expect(Object.keys(a.body)).toContain('admin.note');
    expect((await req('GET', '/api/state/admin.note', { headers: bearer(tokens.vera) })).status).toBe(403);
    expect((await req('GET', '/api/state/light.on', { headers: bearer(tokens.vera) })).body).toEqual({ key: 'light.on', value: store.get('light.on') });
    expect((await req('GET', '/api/state/no.such', { headers: bearer(tokens.vera) })).status).toBe(404);
  });

  it('PUT: a viewer cannot write a camera_rw key (403), an operator can; read-only and unknown keys are refused', async () => {
    const before = store.get('image.brightness');
    const v = await req('PUT', '/api/state/image.brightness', { headers: bearer(tokens.vera), body: { value: 70 } });
    expect(v.status).toBe(403);
    expect(v.body.error.code).toBe('forbidden');
    expect(store.get('image.brightness')).toBe(before);
    const o = await req('PUT', '/api/state/image.brightness', { headers: bearer(tokens.otto), body: { value: 70 } });
    expect(o.status).toBe(200);
    expect(o.body).toEqual({ ok: true, key: 'image.brightness', value: 70, changed: true });
    expect((await req('GET', '/api/state/image.brightness', { headers: bearer(tokens.vera) })).body.value).toBe(70);
    const ro = await req('PUT', '/api/state/system.uptime', { headers: bearer(tokens.admin), body: { value: 5 } });
    expect(ro.status).toBe(403);
    expect(ro.body.error.code).toBe('read_only');
    const unknown = await req('PUT', '/api/state/no.such', { headers: bearer(tokens.admin), body: { value: 5 } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_key');
  });

  it('PUT: an invalid value is 400 with the reason, and the old value stays', async () => {
    const before = store.get('image.brightness');
    const r = await req('PUT', '/api/state/image.brightness', { headers: bearer(tokens.otto), body: { value: 150 } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid');
    expect(r.body.error.message).toMatch(/100/);
    expect(r.body.error.field).toBe('value');
    const wrongType = await req('PUT', '/api/state/light.on', { headers: bearer(tokens.otto), body: { value: 'yes' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.message).toMatch(/boolean/i);
    expect((await req('GET', '/api/state/image.brightness', { headers: bearer(tokens.otto) })).body.value).toBe(before);
  });

  it('bad bodies are 400 JSON errors, never a crash', async () => {
    const h = bearer(tokens.otto);
    const broken = await req('PUT', '/api/state/light.on', { headers: h, raw: '{"value": tru' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_json');
    expect((await req('PUT', '/api/state/light.on', { headers: h, body: [true] })).status).toBe(400);
    expect((await req('PUT', '/api/state/light.on', { headers: h, body: { val: true } })).body.error.field).toBe('value');
    expect((await req('PUT', '/api/state/light.on', { headers: h })).status).toBe(400);
    expect((await req('PUT', '/api/state/light.on', { headers: h, raw: `{"value":"${'x'.repeat(70_000)}"}` })).status).toBe(413);
    expect((await req('POST', '/api/login', { raw: 'nope' })).status).toBe(400);
    expect((await req('GET', '/api/nothing-here', { headers: h })).body.error.code).toBe('not_found');
    expect((await req('GET', '/api/health')).status).toBe(200);
  });

  it('GET /api/keys describes the readable keys with a JSON Schema', async () => {
    const r = await req('GET', '/api/keys', { headers: bearer(tokens.vera) });
    expect(r.status).toBe(200);
    const keys = r.body as { key: string; writable: boolean; schema: { type: string; maximum?: number }; read: string[]; persist: boolean; description: string }[];
    expect(keys.map((k) => k.key)).not.toContain('admin.note');
    const b = keys.find((k) => k.key === 'image.brightness')!;
    expect(b).toMatchObject({ read: ['camera_r'], persist: true, description: 'Brightness, %', writable: false });
    expect(b.schema.type).toBe('integer');
    expect(b.schema.maximum).toBe(100);
    const o = await req('GET', '/api/keys', { headers: bearer(tokens.otto) });
    expect(o.body.find((k: { key: string }) => k.key === 'image.brightness').writable).toBe(true);
  });
});

describe('head HTTP users API', () => {
  it('is for users_rw only; admins add, change and remove users; the last admin stays', async () => {
    expect((await req('GET', '/api/users', { headers: bearer(tokens.otto) })).status).toBe(403);
    const list = await req('GET', '/api/users', { headers: bearer(tokens.admin) });
    expect(list.body.map((u: { name: string }) => u.name)).toEqual(expect.arrayContaining(['admin', 'otto', 'vera']));
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt|ha1|password/i);
    const add = await req('POST', '/api/users', { headers: bearer(tokens.admin), body: { name: 'nina', role: 'viewer', password: 'nina-password-1' } });
    expect(add.status).toBe(201);
    expect((await req('POST', '/api/users', { headers: bearer(tokens.admin), body: { name: 'nina', role: 'viewer', password: 'nina-password-1' } })).status).toBe(409);
    const badRole = await req('POST', '/api/users', { headers: bearer(tokens.admin), body: { name: 'x', role: 'root', password: 'whatever-123' } });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.field).toBe('role');
    expect((await req('POST', '/api/users', { headers: bearer(tokens.admin), body: { name: 'bad:name', role: 'viewer', password: 'whatever-123' } })).body.error.field).toBe('name');
    expect((await req('POST', '/api/users', { headers: bearer(tokens.admin), body: { name: 'short', role: 'viewer', password: 'short' } })).body.error.field).toBe('password');
    // The new role applies at once (roles are read on every request).
    expect((await req('PUT', '/api/state/light.on', { headers: basic('nina', 'nina-password-1'), body: { value: true } })).status).toBe(403);
    expect((await req('PATCH', '/api/users/nina', { headers: bearer(tokens.admin), body: { role: 'operator' } })).body.role).toBe('operator');
    expect((await req('PUT', '/api/state/light.on', { headers: basic('nina', 'nina-password-1'), body: { value: true } })).status).toBe(200);
    expect((await req('DELETE', '/api/users/nina', { headers: bearer(tokens.admin) })).status).toBe(204);
    expect((await req('GET', '/api/me', { headers: basic('nina', 'nina-password-1') })).status).toBe(401);
    expect((await req('DELETE', '/api/users/nina', { headers: bearer(tokens.admin) })).status).toBe(404);
    const last = await req('DELETE', '/api/users/admin', { headers: bearer(tokens.admin) });
    expect(last.status).toBe(409);
    expect((await req('PATCH', '/api/users/admin', { headers: bearer(tokens.admin), body: { role: 'viewer' } })).status).toBe(409);
  });
});

describe('head WebSocket API', () => {
  it('subscribe → current values first; a change made over HTTP is pushed', async () => {
    const c = await WsClient.open(bearer(tokens.otto));
    try {
      const sub = await c.call({ id: 1, op: 'subscribe' });
      expect(sub.ok).toBe(true);
      expect(sub.values).toEqual(store.readable({ kind: 'user', name: 'otto', role: 'operator' }));
      const target = store.get('image.brightness') === 33 ? 34 : 33;
      const t0 = Date.now();
      const put = await req('PUT', '/api/state/image.brightness', { headers: bearer(tokens.otto), body: { value: target } });
      expect(put.status).toBe(200);
      const change = await c.waitFor((m) => m.op === 'change' && m.key === 'image.brightness' && m.value === target, 2000);
      expect(change.at).toBeGreaterThanOrEqual(t0);
      expect(c.messages.indexOf(sub)).toBeLessThan(c.messages.indexOf(change));
    } finally {
      c.close();
    }
  });

  it('authenticates the upgrade with each scheme and refuses without credentials', async () => {
    const refused = await WsClient.open({}).catch((e: { status: number; headers: Record<string, string[]> }) => e);
    expect((refused as { status: number }).status).toBe(401);
    expect((refused as { headers: Record<string, string[]> }).headers['www-authenticate']!.length).toBe(3);
    const wrong = await WsClient.open(basic('vera', 'not-her-password')).catch((e: { status: number }) => e);
    expect((wrong as { status: number }).status).toBe(401);
    const cross = await WsClient.open({ ...bearer(tokens.vera), origin: 'http://evil.example' }).catch((e: { status: number }) => e);
    expect((cross as { status: number }).status).toBe(403);

    const login = await req('POST', '/api/login', { body: { username: 'vera', password: PW.vera } });
    const cookie = login.headers['set-cookie']![0]!.split(';')[0]!;
    const { sha } = await challengeFor('GET', '/api/ws');
    const digest = digestAuthorization(sha, { algo: 'SHA-256', user: 'vera', password: PW.vera, method: 'GET', uri: '/api/ws' });
    for (const headers of [basic('vera', PW.vera), bearer(tokens.vera), { cookie, origin: `http://127.0.0.1:${port}` }, { authorization: digest }]) {
      const c = await WsClient.open(headers);
      const r = await c.call({ id: 'g', op: 'get', key: 'light.on' });
      expect(r).toEqual({ id: 'g', ok: true, op: 'get', key: 'light.on', value: store.get('light.on') });
      c.close();
    }
  });

  it('a viewer’s socket never receives keys it cannot read', async () => {
    const viewer = await WsClient.open(bearer(tokens.vera));
    const admin = await WsClient.open(bearer(tokens.admin));
    try {
      expect(Object.keys((await viewer.call({ id: 1, op: 'subscribe' })).values)).not.toContain('admin.note');
      await admin.call({ id: 1, op: 'subscribe' });
      const denied = await viewer.call({ id: 2, op: 'subscribe', keys: ['admin.note'] });
      expect(denied).toMatchObject({ id: 2, ok: false, error: { code: 'forbidden', field: 'keys.0' } });
      expect((await viewer.call({ id: 3, op: 'get', key: 'admin.note' })).error.code).toBe('forbidden');
      expect((await req('PUT', '/api/state/admin.note', { headers: bearer(tokens.admin), body: { value: 'for admins' } })).status).toBe(200);
      await admin.waitFor((m) => m.op === 'change' && m.key === 'admin.note');
      // A later change the viewer may read arrives; nothing about admin.note came before it.
      const next = !store.get('light.on');
      expect((await req('PUT', '/api/state/light.on', { headers: bearer(tokens.otto), body: { value: next } })).status).toBe(200);
      await viewer.waitFor((m) => m.op === 'change' && m.key === 'light.on' && m.value === next);
      expect(viewer.messages.filter((m) => m.op === 'change').map((m) => m.key)).not.toContain('admin.note');
      expect(JSON.stringify(viewer.messages)).not.toContain('for admins');
    } finally {
      viewer.close();
      admin.close();
    }
  });

  it('sets over the socket with permission checks; explicit subscriptions get only their keys', async () => {
    const c = await WsClient.open(bearer(tokens.otto));
    try {
      const sub = await c.call({ id: 's', op: 'subscribe', keys: ['light.on'] });
      expect(sub).toEqual({ id: 's', ok: true, op: 'subscribe', keys: ['light.on'], values: { 'light.on': store.get('light.on') } });
      const next = !store.get('light.on');
      const set = await c.call({ id: 'x', op: 'set', key: 'light.on', value: next });
      expect(set).toEqual({ id: 'x', ok: true, op: 'set', key: 'light.on', value: next, changed: true });
      await c.waitFor((m) => m.op === 'change' && m.key === 'light.on' && m.value === next);
      expect((await c.call({ id: 'b', op: 'set', key: 'image.brightness', value: 12 })).ok).toBe(true);
      expect((await c.call({ id: 'n', op: 'set', key: 'admin.note', value: 'x' })).error.code).toBe('forbidden');
      await sleep(100);
      expect(c.messages.some((m) => m.op === 'change' && m.key === 'image.brightness')).toBe(false);
      await c.call({ id: 'u', op: 'unsubscribe' });
      await c.call({ id: 'y', op: 'set', key: 'light.on', value: !next });
      await sleep(100);
      expect(c.messages.filter((m) => m.op === 'change' && m.key === 'light.on').length).toBe(1);
    } finally {
      c.close();
    }
  });

  it('bad messages get error replies; the socket stays open', async () => {
    const c = await WsClient.open(bearer(tokens.otto));
    try {
      const cases: [unknown, string, string?][] = [
        ['not json', 'bad_request'],
        ['[1,2]', 'bad_request'],
        ['null', 'bad_request'],
        [{ id: 1, op: 'explode' }, 'bad_request', 'op'],
        [{ id: 2 }, 'bad_request', 'op'],
        [{ id: 3, op: 'get', key: 'no.such' }, 'unknown_key', 'key'],
        [{ id: 4, op: 'get', key: 42 }, 'bad_request', 'key'],
        [{ id: 5, op: 'set', key: 'image.brightness', value: 1000 }, 'invalid', 'value'],
        [{ id: 6, op: 'set', key: 'image.brightness' }, 'bad_request', 'value'],
        [{ id: 7, op: 'subscribe', keys: 'light.on' }, 'bad_request', 'keys'],
        [{ id: 8, op: 'subscribe', keys: ['light.on', 'no.such'] }, 'unknown_key', 'keys.1'],
        [{ id: 9, op: 'set', key: 'system.uptime', value: 1 }, 'read_only', 'key'],
        [{ id: { nested: true }, op: 'get', key: 'light.on' }, 'bad_request', 'id'],
      ];
      for (const [msg, code, field] of cases) {
        const before = c.messages.length;
        c.send(msg);
        const r = await c.waitFor((m) => c.messages.indexOf(m) >= before && m.ok === false);
        expect(r.error.code, JSON.stringify(msg)).toBe(code);
        if (field) expect(r.error.field, JSON.stringify(msg)).toBe(field);
        if (typeof msg === 'object' && typeof (msg as { id: unknown }).id === 'number') expect(r.id).toBe((msg as { id: number }).id);
      }
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      await c.waitFor((m) => m.ok === false && /JSON text/.test(m.error.message));
      expect(store.get('image.brightness')).not.toBe(1000);
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      expect((await c.call({ id: 'last', op: 'get', key: 'light.on' })).ok).toBe(true);
    } finally {
      c.close();
    }
  });

  it('closes a user’s sockets when the user is removed', async () => {
    await users.add('rita', 'viewer', 'rita-password-1');
    const c = await WsClient.open(basic('rita', 'rita-password-1'));
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    users.remove('rita');
    expect(await closed).toBe(4001);
  });

  it('drops a client that stops reading instead of buffering without bound', async () => {
    // A raw client: handshake by hand, subscribe, then never read again.
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const key = randomBytes(16).toString('base64');
    sock.write(`GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${tokens.admin}\r\n\r\n`);
    const head = await new Promise<string>((r) => sock.once('data', (d: Buffer) => r(d.toString('latin1'))));
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    const payload = Buffer.from(JSON.stringify({ id: 1, op: 'subscribe', keys: ['admin.note'] }));
    const mask = randomBytes(4);
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
    sock.write(frame);
    await sleep(100);
    sock.pause();
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('error', () => {});
    const droppedBefore = wsApi.dropped();
    const clientsBefore = wsApi.clients();
    const big = 'x'.repeat(50_000);
    for (let i = 0; i < 600 && wsApi.dropped() === droppedBefore; i++) {
      await store.set('admin.note', `${i}${big}`, { kind: 'system' });
      if (i % 20 === 0) await sleep(1);
    }
    expect(wsApi.dropped()).toBe(droppedBefore + 1);
    expect(wsApi.clients()).toBe(clientsBefore - 1);
    sock.resume();
    await closed;
  });
});

describe('head users at first start', () => {
  it('creates admin with a random password logged once; no default password', async () => {
    const d = mkdtempSync(join(tmpdir(), 'head-users-'));
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
    const db = new UserDb({ dataDir: d, logger });
    try {
      const r = await db.ensureAdmin();
      expect(r.created).toBe(true);
      expect(r.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(lines.filter((l) => l.includes(r.password!)).length).toBe(1);
      expect(await db.verifyPassword('admin', r.password!)).toMatchObject({ name: 'admin', role: 'admin' });
      expect(await db.verifyPassword('admin', 'admin')).toBeNull();
      expect(await db.ensureAdmin()).toEqual({ created: false });
    } finally {
      db.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('logs', () => {
  it('never contain a password or a token', () => {
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(PW), 'pat-password-1', 'pat-password-2', 'nina-password-1', 'rita-password-1', ...Object.values(tokens)]) expect(all).not.toContain(secret);
  });
});
