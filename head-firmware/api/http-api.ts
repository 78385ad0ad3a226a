/**
 * The camera head's HTTP API (express 5), the C Pro seed's `httpapi.nim`: the state
 * (read, write, key descriptions), the head's users and their API tokens, login/logout for
 * the session cookie, and a health check. Every route but `GET /api/health` and
 * `POST /api/login` needs a principal from `auth.ts` (Basic, Digest, Bearer or the session
 * cookie); a request without one gets 401 with the Digest (SHA-256, MD5) and Basic
 * challenges, or 429 with `Retry-After` while its failures are throttled.
 *
 * Routes (JSON in and out; every error is `{error: {code, message, field?}}`):
 * - `GET /api/health` → `{status: 'ok', uptime_s}` (no auth).
 * - `POST /api/login` `{username, password}` → `{user: {name, role}}` + `Set-Cookie`
 *   (401 `invalid_credentials`, no challenge, so browsers show no login box; 429 `throttled`).
 * - `POST /api/logout` → 204, clears the cookie (no auth needed).
 * - `GET /api/me` → `{name, role, scheme}`; `POST /api/me/password`
 *   `{current_password, password}` → 204 (ends the user's sessions).
 * - `GET /api/info` → the `info` given to {@link createHttpApi}.
 * - `GET /api/state` → `{key: value}` of every key the principal may read.
 * - `GET /api/state/:key` → `{key, value}` (404 `unknown_key`, 403 `forbidden`).
 * - `PUT /api/state/:key` `{value}` → the store's `SetResult` `{ok: true, key, value, changed}`;
 *   refused: 400 `invalid` (message: the schema's reason, field `value` or `value.<path>`),
 *   403 `forbidden` / `read_only`, 404 `unknown_key`, 409 `rejected` (the hardware refused).
 * - `GET /api/keys` → `[{key, description, read, write, persist, momentary, writable,
 *   default, schema, ha?}]` for the keys the principal may read (`schema`: JSON Schema from
 *   zod's `z.toJSONSchema`, input side; null when not representable).
 * - `users_rw` only: `GET /api/users`, `POST /api/users` `{name, role, password}` → 201,
 *   `GET|PATCH|DELETE /api/users/:name` (`PATCH` `{role?, password?}`), `GET|POST
 *   /api/users/:name/tokens` (`POST` `{label?, ttl_s?}` → 201 `{token, …}`: the only time the
 *   token is shown), `DELETE /api/users/:name/tokens/:id`.
 *
 * A write (not GET/HEAD/OPTIONS) authenticated by the session cookie whose `Origin` names
 * another host is refused (403): `SameSite=Strict` keeps other sites out, this keeps out
 * other origins of the same site (another port of the same address).
 *
 * Bad JSON bodies get 400 `invalid_json`; nothing a client sends can crash the process.
 */
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { principalPermissions } from '../state/permissions.ts';
import type { StateStore } from '../state/store.ts';
import type { KeySpec, Principal, SetResult } from '../state/types.ts';
import { checkPassword, checkRole, UserDbError, type HeadUser, type UserDb } from '../users/user-db.ts';
import { clientIp, HeadAuth, sameOrigin, type AuthScheme, type UserPrincipal } from './auth.ts';

export interface HttpApiDeps {
  store: StateStore;
  users: UserDb;
  /**
   * The authenticator. Pass the same one to `attachWsApi` so a session cookie works on both;
   * default: a new `HeadAuth` over `users` (then read it back from `app.locals.auth`).
   */
  auth?: HeadAuth;
  logger?: Logger;
  /** What `GET /api/info` answers (the head's name, model, version …), or a function giving it. */
  info?: Record<string, unknown> | (() => Record<string, unknown>);
  /** Largest request body, bytes. Default 65 536. */
  bodyLimitBytes?: number;
}

/** An HTTP failure with its status and the JSON error's code and field. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/** HTTP status of each refused `SetResult` code. */
export const SET_STATUS: Record<Extract<SetResult, { ok: false }>['code'], number> = {
  invalid: 400,
  forbidden: 403,
  read_only: 403,
  unknown_key: 404,
  rejected: 409,
};

const USER_ERROR_STATUS: Record<UserDbError['code'], number> = { invalid: 400, conflict: 409, not_found: 404 };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);


/** The principal the auth middleware put on the response. */
function principalOf(res: Response): UserPrincipal {
  return res.locals.principal as UserPrincipal;
}

/** Whether `p` holds `users_rw`. */
function canManageUsers(p: Principal): boolean {
  return principalPermissions(p).includes('users_rw');
}

const publicUser = (u: HeadUser) => ({ name: u.name, role: u.role, created_at: u.created_at, updated_at: u.updated_at });

function body(req: Request): Record<string, unknown> {
  const b: unknown = req.body;
  if (b === undefined) throw new HttpError(400, 'invalid_json', 'expected a JSON object body (Content-Type: application/json)');
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new HttpError(400, 'invalid_json', 'expected a JSON object body');
  return b as Record<string, unknown>;
}

/**
 * The JSON Schema of a key's zod schema (zod 4 `z.toJSONSchema`, input side, draft 2020-12),
 * or null when it cannot be represented.
 */
function jsonSchemaOf(spec: KeySpec): unknown {
  try {
    return z.toJSONSchema(spec.schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return null;
  }
}

/**
 * Creates the head's express app (routes above). Serve it with `http.createServer(app)`
 * and attach `attachWsApi` to the same server for `/api/ws`.
 * @returns the app; `app.locals.auth` is the {@link HeadAuth} it uses.
 */
export function createHttpApi(deps: HttpApiDeps): Express {
  const { store, users } = deps;
  const log = deps.logger;
  const auth = deps.auth ?? new HeadAuth({ users, logger: log });
  const schemas = new Map<string, unknown>();
  const started = Date.now();

  const app = express();
  app.locals.auth = auth;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    next();
  });
  app.use(express.json({ limit: deps.bodyLimitBytes ?? 65_536 }));

  app.get('/api/health', (_req, res) => {
    res.json({ status: 'ok', uptime_s: Math.round((Date.now() - started) / 1000) });
  });

  app.post('/api/login', async (req, res) => {
    const b = body(req);
    const r = await auth.login(b.username, b.password, clientIp(req));
    if (r.ok) {
      res.set('Set-Cookie', r.cookie).json({ user: { name: r.user.name, role: r.user.role } });
      return;
    }
    if (r.code === 'throttled') {
      res.set('Retry-After', String(r.retryAfterS ?? 60));
      throw new HttpError(429, 'throttled', `too many failed logins: retry in ${r.retryAfterS ?? 60} s`);
    }
    throw new HttpError(401, 'invalid_credentials', 'wrong user name or password');
  });

  app.post('/api/logout', (req, res) => {
    res.set('Set-Cookie', auth.logout(req)).status(204).end();
  });

  // Everything else under /api needs a principal.
  app.use('/api', async (req: Request, res: Response, next: NextFunction) => {
    const r = await auth.check(req);
    if (r.principal) {
      // The cookie is ambient: a page of another origin on the same site (another port of the
      // same host) could still send it. Writes with a cookie must come from this origin.
      if (r.scheme === 'session' && !SAFE_METHODS.has(req.method) && !sameOrigin(req)) {
        throw new HttpError(403, 'forbidden', 'cross-origin request with a session cookie');
      }
      res.locals.principal = r.principal;
      res.locals.scheme = r.scheme;
      next();
      return;
    }
    if (r.retryAfterS) {
      res.set('Retry-After', String(r.retryAfterS));
      throw new HttpError(429, 'throttled', `too many failed attempts: retry in ${r.retryAfterS} s`);
    }
    log?.debug({ path: req.path, scheme: r.scheme, reason: r.reason, ip: clientIp(req) }, 'head http: unauthenticated');
    res.set('WWW-Authenticate', auth.challenges(r.stale));
    throw new HttpError(401, 'unauthenticated', r.stale ? 'stale nonce: retry with the new one' : 'authentication required');
  });

  app.get('/api/me', (_req, res) => {
    const p = principalOf(res);
    res.json({ name: p.name, role: p.role, scheme: res.locals.scheme as AuthScheme });
  });

  app.post('/api/me/password', async (req, res) => {
    const p = principalOf(res);
    const b = body(req);
    const r = await auth.verifyPassword(p.name, b.current_password, clientIp(req), 'password change');
    if (r && 'retryAfterS' in r) {
      res.set('Retry-After', String(r.retryAfterS));
      throw new HttpError(429, 'throttled', `too many failed attempts: retry in ${r.retryAfterS} s`);
    }
    if (!r) throw new HttpError(403, 'forbidden', 'current_password is wrong', 'current_password');
    await users.setPassword(p.name, b.password as string);
    res.set('Set-Cookie', auth.logout(req)).status(204).end();
  });

  app.get('/api/info', (_req, res) => {
    const info = typeof deps.info === 'function' ? deps.info() : (deps.info ?? {});
    res.json(info);
  });

  app.get('/api/state', (_req, res) => {
    res.json(store.readable(principalOf(res)));
  });

  app.get('/api/state/:key', (req, res) => {
    const key = req.params.key as string;
    if (!store.spec(key)) throw new HttpError(404, 'unknown_key', `no state key "${key}"`);
    if (!store.canRead(principalOf(res), key)) throw new HttpError(403, 'forbidden', `may not read "${key}"`);
    res.json({ key, value: store.get(key) });
  });

  app.put('/api/state/:key', async (req, res) => {
    const key = req.params.key as string;
    const b = body(req);
    if (!('value' in b)) throw new HttpError(400, 'invalid', 'expected {"value": …}', 'value');
    const r = await store.set(key, b.value, principalOf(res));
    if (r.ok) {
      res.json(r);
      return;
    }
    const field = r.code === 'invalid' ? ['value', ...(r.path ?? [])].join('.') : undefined;
    throw new HttpError(SET_STATUS[r.code], r.code, r.reason, field);
  });

  app.get('/api/keys', (_req, res) => {
    const p = principalOf(res);
    const out = [];
    for (const key of store.keys()) {
      const spec = store.spec(key);
      if (!spec || !store.canRead(p, key)) continue;
      if (!schemas.has(key)) schemas.set(key, jsonSchemaOf(spec));
      out.push({
        key,
        description: spec.description,
        read: spec.read,
        write: spec.write,
        persist: spec.persist,
        momentary: spec.momentary ?? false,
        writable: store.canWrite(p, key),
        default: spec.default,
        schema: schemas.get(key),
        ...(spec.ha ? { ha: spec.ha } : {}),
      });
    }
    res.json(out);
  });

  // Users and tokens: users_rw only.
  const admin = express.Router();
  admin.use((_req, res, next) => {
    if (!canManageUsers(principalOf(res))) throw new HttpError(403, 'forbidden', 'needs users_rw');
    next();
  });
  const userOr404 = (name: string) => {
    const u = users.get(name);
    if (!u) throw new HttpError(404, 'not_found', `no user ${name}`, 'name');
    return u;
  };
  admin.get('/', (_req, res) => {
    res.json(users.list().map(publicUser));
  });
  admin.post('/', async (req, res) => {
    const b = body(req);
    const u = await users.add(b.name as string, checkRole(b.role), b.password as string);
    log?.info({ by: principalOf(res).name, user: u.name, role: u.role }, 'head http: user added');
    res.status(201).json(publicUser(u));
  });
  admin.get('/:name', (req, res) => {
    res.json(publicUser(userOr404(req.params.name as string)));
  });
  admin.patch('/:name', async (req, res) => {
    const name = req.params.name as string;
    userOr404(name);
    const b = body(req);
    if (b.role === undefined && b.password === undefined) throw new HttpError(400, 'invalid', 'give role and/or password');
    // Validate both first, then the role (may refuse: last admin), then the password: no half-done change.
    if (b.role !== undefined) checkRole(b.role);
    if (b.password !== undefined) checkPassword(b.password);
    if (b.role !== undefined) users.setRole(name, b.role as HeadUser['role']);
    if (b.password !== undefined) await users.setPassword(name, b.password as string);
    res.json(publicUser(userOr404(name)));
  });
  admin.delete('/:name', (req, res) => {
    users.remove(req.params.name as string);
    res.status(204).end();
  });
  admin.get('/:name/tokens', (req, res) => {
    res.json(users.tokens(req.params.name as string));
  });
  admin.post('/:name/tokens', (req, res) => {
    const b = req.body === undefined ? {} : body(req);
    if (b.ttl_s !== undefined && typeof b.ttl_s !== 'number') throw new HttpError(400, 'invalid', 'ttl_s must be a number of seconds', 'ttl_s');
    const { token, info } = users.createToken(req.params.name as string, {
      ...(b.label !== undefined ? { label: b.label as string } : {}),
      ...(b.ttl_s !== undefined ? { ttlMs: (b.ttl_s as number) * 1000 } : {}),
    });
    res.status(201).json({ ...info, token });
  });
  admin.delete('/:name/tokens/:id', (req, res) => {
    if (!users.revokeToken(req.params.name as string, req.params.id as string)) throw new HttpError(404, 'not_found', 'no such token', 'id');
    res.status(204).end();
  });
  app.use('/api/users', admin);

  app.use('/api', (req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(log));
  return app;
}

/** The one error middleware: JSON `{error: {code, message, field?}}`; 5xx are logged (never the body). */
function errorHandler(log?: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err instanceof UserDbError) e = new HttpError(USER_ERROR_STATUS[err.code], err.code, err.message, err.field);
    else if (isBodyParserError(err)) {
      e = err.type === 'entity.too.large'
        ? new HttpError(413, 'payload_too_large', 'request body too large')
        : new HttpError(err.status ?? 400, 'invalid_json', `request body: ${err.message}`);
    } else {
      log?.error({ err: (err as Error)?.stack ?? String(err), method: req.method, path: req.path }, 'head http: request failed');
      e = new HttpError(500, 'internal_error', 'internal error');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } });
  };
}

function isBodyParserError(err: unknown): err is { status?: number; type: string; message: string } {
  return typeof err === 'object' && err !== null && 'type' in err && typeof (err as { type: unknown }).type === 'string' && 'status' in err;
}
