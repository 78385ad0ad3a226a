/**
 * Authentication of the head's HTTP requests and WebSocket upgrades: one
 * {@link HeadAuth.authenticate} for both, with four schemes (the C Pro seed's "Basic,
 * Digest, Bearer, Session authentication"):
 *
 * - **Basic** (RFC 7617): `Authorization: Basic base64(user:password)`, UTF-8. The scrypt
 *   check costs ~0.3 s, so a verified name+password pair is remembered for
 *   {@link HeadAuthOptions.basicCacheMs} under an HMAC with a per-process key (the
 *   password itself is never kept); a password change or removal forgets it.
 * - **Digest** (RFC 7616): algorithms MD5, SHA-256 and their `-sess` forms, `qop=auth`
 *   only, `charset=UTF-8`, no `userhash`. Nonces are self-checking (issue time + random +
 *   HMAC with a per-process key), valid {@link HeadAuthOptions.nonceTtlMs}; a correct
 *   answer with an expired nonce gets `stale=true` (RFC 7616 §3.3: retry without asking
 *   the user). Each nonce's last nonce-count is remembered and a request must use a higher
 *   one (replay check, §3.4; out-of-order pipelined requests are refused too).
 * - **Bearer** (RFC 6750): the users' API tokens (`../users/user-db.ts`).
 * - **Session cookie**: {@link HeadAuth.login} (`POST /api/login`) sets an `HttpOnly`,
 *   `SameSite=Strict` cookie naming a server-side session (in memory: sessions end when the
 *   daemon restarts) that ends after {@link HeadAuthOptions.sessionIdleMs} without use,
 *   after {@link HeadAuthOptions.sessionMaxMs} in any case, at logout, and when the user's
 *   password changes or the user is removed.
 *
 * An `Authorization` header, when present, decides alone (a wrong one is not rescued by a
 * cookie). The role is read from the user database on every request, so a role change
 * applies at once.
 *
 * Failed password checks (Basic, Digest, login) are throttled per user+IP and per IP
 * (rate-limiter-flexible, in memory); while throttled, credentials are not even checked.
 * Passwords never reach the log.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';
import type { Logger } from 'pino';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Principal } from '../state/types.ts';
import type { HeadUser, UserDb } from '../users/user-db.ts';

/** A principal that is one of the head's users. */
export type UserPrincipal = Extract<Principal, { kind: 'user' }>;
/** How a request authenticated. */
export type AuthScheme = 'basic' | 'digest' | 'bearer' | 'session';

/** The outcome of {@link HeadAuth.check}. */
export type AuthCheck =
  | { principal: UserPrincipal; scheme: AuthScheme }
  | {
      principal: null;
      /** The scheme that was tried, if any. */
      scheme?: AuthScheme;
      /** Digest: the answer was right but the nonce expired (send `stale=true`). */
      stale?: boolean;
      /** Too many failures: seconds until a retry may succeed (answer 429). */
      retryAfterS?: number;
      /** Why, for debug logs and the 401 message (never says whether a user exists). */
      reason: string;
    };

/** The outcome of {@link HeadAuth.login}. */
export type LoginResult =
  | { ok: true; user: HeadUser; /** The `Set-Cookie` header value. */ cookie: string }
  | { ok: false; code: 'invalid_credentials' | 'throttled'; retryAfterS?: number };

export interface HeadAuthOptions {
  users: UserDb;
  logger?: Logger;
  /** Digest nonce lifetime, ms. Default 300 000 (5 min). */
  nonceTtlMs?: number;
  /** Most nonces whose nonce-count is tracked at once; older ones are forgotten (their next use is `stale`). Default 10 000. */
  maxNonces?: number;
  /** A session ends after this long without a request, ms. Default 1 800 000 (30 min). */
  sessionIdleMs?: number;
  /** …and this long after login in any case, ms. Default 43 200 000 (12 h). */
  sessionMaxMs?: number;
  /** Most sessions at once; the least recently used is dropped beyond. Default 1000. */
  maxSessions?: number;
  /** Session cookie name. Default `vigil_head_session`. */
  cookieName?: string;
  /** Mark the cookie `Secure` (serve over HTTPS). Default false. */
  secureCookies?: boolean;
  /** How long a verified Basic name+password is remembered, ms (0 = scrypt every request). Default 60 000. */
  basicCacheMs?: number;
  /** Failed password checks allowed per `windowS`: per user+IP (default 5) and per IP over all names (default 30); window default 60 s. */
  throttle?: { perUser?: number; perIp?: number; windowS?: number };
}

/** The session cookie's default name. */
export const SESSION_COOKIE = 'vigil_head_session';
const MAX_HEADER = 8192;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Digest algorithms (RFC 7616 §3.3 and the IANA "HTTP Digest Hash Algorithms" registry). */
const DIGEST_ALGORITHMS: Record<string, { hash: 'md5' | 'sha256'; db: 'MD5' | 'SHA-256'; sess: boolean }> = {
  'md5': { hash: 'md5', db: 'MD5', sess: false },
  'md5-sess': { hash: 'md5', db: 'MD5', sess: true },
  'sha-256': { hash: 'sha256', db: 'SHA-256', sess: false },
  'sha-256-sess': { hash: 'sha256', db: 'SHA-256', sess: true },
};

interface Session { user: string; created: number; lastSeen: number }

/**
 * Parses the auth-param list of an `Authorization` header (RFC 7235 §2.1:
 * `token BWS "=" BWS ( token / quoted-string )`, comma-separated, quoted-pairs unescaped).
 * Names are lowercased. Written here because the npm parsers at hand are regex-based and
 * mishandle escapes or refuse RFC 7616's parameters.
 * @returns the parameters, or null when malformed or a name repeats.
 */
export function parseAuthParams(s: string): Map<string, string> | null {
  const out = new Map<string, string>();
  const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  let i = 0;
  const ws = () => { while (s[i] === ' ' || s[i] === '\t') i++; };
  while (i < s.length) {
    ws();
    if (s[i] === ',') { i++; continue; }
    if (i >= s.length) break;
    TOKEN.lastIndex = i;
    const name = TOKEN.exec(s)?.[0];
    if (!name) return null;
    i += name.length;
    ws();
    if (s[i] !== '=') return null;
    i++;
    ws();
    let value = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return null;
        const c = s[i++]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i >= s.length) return null;
          value += s[i++];
        } else value += c;
      }
    } else {
      TOKEN.lastIndex = i;
      const t = TOKEN.exec(s)?.[0];
      if (!t) return null;
      value = t;
      i += t.length;
    }
    const key = name.toLowerCase();
    if (out.has(key)) return null;
    out.set(key, value);
    ws();
    if (i < s.length && s[i] !== ',') return null;
  }
  return out;
}

/** `"…"` with `"` and `\` escaped (RFC 7230 quoted-string). */
const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

const safeEqualHex = (a: string, b: string) => {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Whether the request's `Origin` header (if any) names the same host as `Host` (cross-origin writes and WebSocket upgrades are refused). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** The client's IP address (the head trusts no proxy headers). */
export function clientIp(req: IncomingMessage): string {
  return req.socket?.remoteAddress ?? 'unknown';
}

/** Authentication for the head's HTTP API and WebSocket. One instance per server (it holds sessions and nonces). */
export class HeadAuth {
  readonly users: UserDb;
  readonly realm: string;
  readonly cookieName: string;
  private readonly logger?: Logger;
  private readonly key = randomBytes(32);
  private readonly opaque = randomBytes(16).toString('base64url');
  private readonly nonceTtlMs: number;
  private readonly maxNonces: number;
  /** Used nonces → last nonce-count. */
  private readonly nonceCounts = new Map<string, { issued: number; nc: number }>();
  /** Nonces issued at or before this (ms) and not in {@link nonceCounts} were forgotten: treated as stale. */
  private forgottenBefore = 0;
  private readonly sessions = new Map<string, Session>();
  private readonly sessionIdleMs: number;
  private readonly sessionMaxMs: number;
  private readonly maxSessions: number;
  private readonly secureCookies: boolean;
  private readonly basicCacheMs: number;
  private readonly basicCache = new Map<string, { name: string; updated_at: number; expires: number }>();
  private readonly perUser: RateLimiterMemory;
  private readonly perIp: RateLimiterMemory;
  private readonly limits: { perUser: number; perIp: number };
  private readonly sweeper: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(opts: HeadAuthOptions) {
    this.users = opts.users;
    this.realm = opts.users.realm;
    this.logger = opts.logger;
    this.cookieName = opts.cookieName ?? SESSION_COOKIE;
    this.nonceTtlMs = opts.nonceTtlMs ?? 300_000;
    this.maxNonces = opts.maxNonces ?? 10_000;
    this.sessionIdleMs = opts.sessionIdleMs ?? 1_800_000;
    this.sessionMaxMs = opts.sessionMaxMs ?? 43_200_000;
    this.maxSessions = opts.maxSessions ?? 1000;
    this.secureCookies = opts.secureCookies ?? false;
    this.basicCacheMs = opts.basicCacheMs ?? 60_000;
    const windowS = opts.throttle?.windowS ?? 60;
    this.limits = { perUser: opts.throttle?.perUser ?? 5, perIp: opts.throttle?.perIp ?? 30 };
    this.perUser = new RateLimiterMemory({ keyPrefix: 'head_login_user', points: this.limits.perUser, duration: windowS });
    this.perIp = new RateLimiterMemory({ keyPrefix: 'head_login_ip', points: this.limits.perIp, duration: windowS });
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
    this.unsubscribe = this.users.onChange((c) => {
      if (c.what === 'password' || c.what === 'removed') this.forgetUser(c.name);
    });
  }

  /** The principal of a request or upgrade, or null (see {@link check} for why). */
  async authenticate(req: IncomingMessage): Promise<UserPrincipal | null> {
    return (await this.check(req)).principal;
  }

  /**
   * Authenticates a request (HTTP or WebSocket upgrade) by its `Authorization` header, or
   * else its session cookie. Never throws for bad input.
   */
  async check(req: IncomingMessage): Promise<AuthCheck> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      if (header.length > MAX_HEADER) return { principal: null, reason: 'authorization header too long' };
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]+([\s\S]*))?$/.exec(header.trim());
      if (!m) return { principal: null, reason: 'malformed authorization header' };
      const scheme = m[1]!.toLowerCase();
      const rest = (m[2] ?? '').trim();
      if (scheme === 'basic') return this.basic(req, rest);
      if (scheme === 'digest') return this.digest(req, rest);
      if (scheme === 'bearer') return this.bearer(rest);
      return { principal: null, reason: `unsupported scheme ${m[1]}` };
    }
    const sid = this.sessionId(req);
    if (sid !== undefined) return this.session(sid);
    return { principal: null, reason: 'no credentials' };
  }

  /**
   * The `WWW-Authenticate` values of a 401: Digest with SHA-256, Digest with MD5 (one fresh
   * nonce for both, SHA-256 first as the preferred, RFC 7616 §3.7), then Basic.
   * @param stale add `stale=true` to the Digest challenges.
   */
  challenges(stale = false): string[] {
    const nonce = this.newNonce();
    const digest = (algorithm: string) =>
      `Digest realm=${quote(this.realm)}, qop="auth", algorithm=${algorithm}, nonce=${quote(nonce)}, opaque=${quote(this.opaque)}, charset=UTF-8${stale ? ', stale=true' : ''}`;
    return [digest('SHA-256'), digest('MD5'), `Basic realm=${quote(this.realm)}, charset="UTF-8"`];
  }

  /**
   * Logs in with a name and password (throttled like Basic). On success opens a session.
   * @param ip the client's address, for throttling.
   * @returns the user and the `Set-Cookie` value, or why not (wrong credentials and unknown
   *   names look the same).
   */
  async login(username: unknown, password: unknown, ip: string): Promise<LoginResult> {
    const r = await this.verifyPassword(username, password, ip, 'login');
    if (r === null) return { ok: false, code: 'invalid_credentials' };
    if ('retryAfterS' in r) return { ok: false, code: 'throttled', retryAfterS: r.retryAfterS };
    const user = r.user;
    const sid = randomBytes(32).toString('base64url');
    const now = Date.now();
    this.sessions.set(sha256(sid), { user: user.name, created: now, lastSeen: now });
    while (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    this.logger?.info({ user: user.name, ip }, 'head login');
    return {
      ok: true,
      user,
      cookie: serializeCookie(this.cookieName, sid, { httpOnly: true, sameSite: 'strict', path: '/', secure: this.secureCookies }),
    };
  }

  /**
   * Checks a name and password (scrypt) under the failure throttle: while `name`@`ip` or
   * `ip` is throttled the password is not checked; a wrong one counts a failure.
   * @param scheme for the log line of a failure.
   * @returns the user, `{retryAfterS}` while throttled, or null (wrong or unknown — alike).
   */
  async verifyPassword(name: unknown, password: unknown, ip: string, scheme = 'password'): Promise<{ user: HeadUser } | { retryAfterS: number } | null> {
    if (typeof name !== 'string' || typeof password !== 'string' || name.length > 64) return null;
    const wait = await this.throttled(name, ip);
    if (wait) return { retryAfterS: wait };
    const user = await this.users.verifyPassword(name, password);
    if (!user) {
      await this.failed(name, ip, scheme);
      return null;
    }
    await this.succeeded(name, ip);
    return { user };
  }

  /**
   * Ends the request's session, if it has one.
   * @returns the `Set-Cookie` value that clears the cookie.
   */
  logout(req: IncomingMessage): string {
    const sid = this.sessionId(req);
    if (sid !== undefined) this.sessions.delete(sha256(sid));
    return serializeCookie(this.cookieName, '', { httpOnly: true, sameSite: 'strict', path: '/', secure: this.secureCookies, expires: new Date(0) });
  }

  /** Whether the request carries a session cookie (for the WebSocket's Origin check). */
  hasSessionCookie(req: IncomingMessage): boolean {
    return this.sessionId(req) !== undefined;
  }

  /** Number of live sessions. */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** Stops the sweeper and forgets sessions and nonces. */
  close(): void {
    clearInterval(this.sweeper);
    this.unsubscribe();
    this.sessions.clear();
    this.nonceCounts.clear();
    this.basicCache.clear();
  }

  private sessionId(req: IncomingMessage): string | undefined {
    const raw = req.headers.cookie;
    if (!raw || raw.length > MAX_HEADER) return undefined;
    try {
      const v = parseCookie(raw)[this.cookieName];
      return v ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private principal(u: HeadUser): UserPrincipal {
    return { kind: 'user', name: u.name, role: u.role };
  }

  private async basic(req: IncomingMessage, token: string): Promise<AuthCheck> {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return { principal: null, scheme: 'basic', reason: 'malformed Basic credentials' };
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) return { principal: null, scheme: 'basic', reason: 'malformed Basic credentials' };
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const ip = clientIp(req);
    const cacheKey = createHmac('sha256', this.key).update(`${name}\0${password}`).digest('base64url');
    const cached = this.basicCache.get(cacheKey);
    if (cached && cached.expires > Date.now()) {
      const u = this.users.get(name);
      if (u && u.updated_at === cached.updated_at) return { principal: this.principal(u), scheme: 'basic' };
      this.basicCache.delete(cacheKey);
    }
    const r = await this.verifyPassword(name, password, ip, 'basic');
    if (r === null) return { principal: null, scheme: 'basic', reason: 'wrong user name or password' };
    if ('retryAfterS' in r) return { principal: null, scheme: 'basic', retryAfterS: r.retryAfterS, reason: 'too many failed attempts' };
    const user = r.user;
    if (this.basicCacheMs > 0) {
      this.basicCache.set(cacheKey, { name: user.name, updated_at: user.updated_at, expires: Date.now() + this.basicCacheMs });
      if (this.basicCache.size > 1000) this.basicCache.delete(this.basicCache.keys().next().value!);
    }
    return { principal: this.principal(user), scheme: 'basic' };
  }

  private bearer(token: string): AuthCheck {
    const user = token ? this.users.verifyToken(token) : null;
    return user ? { principal: this.principal(user), scheme: 'bearer' } : { principal: null, scheme: 'bearer', reason: 'unknown or expired token' };
  }

  private session(sid: string): AuthCheck {
    const key = sha256(sid);
    const s = this.sessions.get(key);
    const now = Date.now();
    if (!s) return { principal: null, scheme: 'session', reason: 'no such session' };
    if (now - s.lastSeen > this.sessionIdleMs || now - s.created > this.sessionMaxMs) {
      this.sessions.delete(key);
      return { principal: null, scheme: 'session', reason: 'session expired' };
    }
    const user = this.users.get(s.user);
    if (!user) {
      this.sessions.delete(key);
      return { principal: null, scheme: 'session', reason: 'no such session' };
    }
    s.lastSeen = now;
    // Most recently used last, so the eviction in login() drops the least recently used.
    this.sessions.delete(key);
    this.sessions.set(key, s);
    return { principal: this.principal(user), scheme: 'session' };
  }

  private async digest(req: IncomingMessage, rest: string): Promise<AuthCheck> {
    const fail = (reason: string, extra: Partial<Extract<AuthCheck, { principal: null }>> = {}): AuthCheck => ({ principal: null, scheme: 'digest', reason, ...extra });
    const p = parseAuthParams(rest);
    if (!p) return fail('malformed Digest parameters');
    const get = (k: string) => p.get(k);
    const [username, realm, nonce, uri, response, qop, nc, cnonce] = ['username', 'realm', 'nonce', 'uri', 'response', 'qop', 'nc', 'cnonce'].map(get);
    if (!username || !realm || !nonce || !uri || !response || !qop || !nc || !cnonce) return fail('missing Digest parameters');
    if (get('userhash')?.toLowerCase() === 'true') return fail('userhash is not supported');
    const alg = DIGEST_ALGORITHMS[(get('algorithm') ?? 'MD5').toLowerCase()];
    if (!alg) return fail('unsupported Digest algorithm');
    if (realm !== this.realm) return fail('wrong realm');
    if (qop !== 'auth') return fail('unsupported qop');
    if (get('opaque') !== this.opaque) return fail('wrong opaque');
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) return fail('malformed nc');
    if (!this.uriMatches(req, uri)) return fail('uri does not match the request');
    const state = this.nonceState(nonce);
    if (state === 'bad') return fail('unknown nonce');
    const ip = clientIp(req);
    const wait = await this.throttled(username, ip);
    if (wait) return fail('too many failed attempts', { retryAfterS: wait });
    const found = this.users.digestHa1(username, alg.db);
    const H = (s: string) => createHash(alg.hash).update(s, 'utf8').digest('hex');
    // Unknown users are checked against a random HA1, so the work (and timing) is the same.
    let ha1 = found?.ha1 ?? H(randomBytes(16).toString('hex'));
    if (alg.sess) ha1 = H(`${ha1}:${nonce}:${cnonce}`);
    const ha2 = H(`${req.method ?? 'GET'}:${uri}`);
    const expected = H(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    if (!found || !safeEqualHex(expected, response)) {
      await this.failed(username, ip, 'digest');
      return fail('wrong user name or password');
    }
    if (state === 'stale') return fail('stale nonce', { stale: true });
    const count = parseInt(nc, 16);
    const seen = this.nonceCounts.get(nonce);
    if (seen && count <= seen.nc) {
      this.logger?.info({ user: username, ip }, 'head auth: Digest nonce-count replayed');
      return fail('nonce count replayed');
    }
    if (seen) seen.nc = count;
    else this.trackNonce(nonce, state.issued, count);
    await this.succeeded(username, ip);
    return { principal: this.principal(found.user), scheme: 'digest' };
  }

  /** Whether the Digest `uri` names this request's target (origin-form, or an absolute URI with the same path and query). */
  private uriMatches(req: IncomingMessage, uri: string): boolean {
    const target = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    if (uri === target) return true;
    try {
      const u = new URL(uri);
      return u.pathname + u.search === target;
    } catch {
      return false;
    }
  }

  /** A new nonce: base64url of issue time (8 bytes, ms) | 12 random bytes | HMAC-SHA-256 of both (first 16 bytes). */
  private newNonce(): string {
    const body = Buffer.alloc(20);
    body.writeBigUInt64BE(BigInt(Date.now()), 0);
    randomBytes(12).copy(body, 8);
    const mac = createHmac('sha256', this.key).update(body).digest().subarray(0, 16);
    return Buffer.concat([body, mac]).toString('base64url');
  }

  /** `bad` (not ours / malformed), `stale` (ours but expired or forgotten), else its issue time. */
  private nonceState(nonce: string): 'bad' | 'stale' | { issued: number } {
    if (nonce.length !== 48 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return 'bad';
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 36) return 'bad';
    const mac = createHmac('sha256', this.key).update(raw.subarray(0, 20)).digest().subarray(0, 16);
    if (!timingSafeEqual(mac, raw.subarray(20))) return 'bad';
    const issued = Number(raw.readBigUInt64BE(0));
    if (Date.now() - issued > this.nonceTtlMs) return 'stale';
    if (issued <= this.forgottenBefore && !this.nonceCounts.has(nonce)) return 'stale';
    return { issued };
  }

  private trackNonce(nonce: string, issued: number, nc: number): void {
    this.nonceCounts.set(nonce, { issued, nc });
    while (this.nonceCounts.size > this.maxNonces) {
      const [oldest, v] = this.nonceCounts.entries().next().value!;
      this.nonceCounts.delete(oldest);
      // A forgotten nonce could be replayed from nc 1 again: refuse it (and older unused ones) as stale.
      this.forgottenBefore = Math.max(this.forgottenBefore, v.issued);
    }
  }

  /** Seconds to wait when `name`@`ip` or `ip` has used up its failures, else 0. */
  private async throttled(name: string, ip: string): Promise<number> {
    const [u, i] = await Promise.all([this.perUser.get(`${name}@${ip}`), this.perIp.get(ip)]);
    let wait = 0;
    if (u && u.consumedPoints >= this.limits.perUser) wait = Math.max(wait, Math.ceil(u.msBeforeNext / 1000));
    if (i && i.consumedPoints >= this.limits.perIp) wait = Math.max(wait, Math.ceil(i.msBeforeNext / 1000));
    if (wait) this.logger?.warn({ user: name, ip }, 'head auth: throttled');
    return wait;
  }

  private async failed(name: string, ip: string, scheme: string): Promise<void> {
    this.logger?.info({ user: name, ip, scheme }, 'head auth: failed');
    await Promise.all([this.perUser.penalty(`${name}@${ip}`, 1), this.perIp.penalty(ip, 1)]);
  }

  private async succeeded(name: string, ip: string): Promise<void> {
    await this.perUser.delete(`${name}@${ip}`);
  }

  private forgetUser(name: string): void {
    for (const [k, s] of this.sessions) if (s.user === name) this.sessions.delete(k);
    for (const [k, c] of this.basicCache) if (c.name === name) this.basicCache.delete(k);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, s] of this.sessions) if (now - s.lastSeen > this.sessionIdleMs || now - s.created > this.sessionMaxMs) this.sessions.delete(k);
    for (const [k, n] of this.nonceCounts) if (now - n.issued > this.nonceTtlMs) this.nonceCounts.delete(k);
    for (const [k, c] of this.basicCache) if (c.expires <= now) this.basicCache.delete(k);
  }
}
