/**
 * HTTP authentication and authorization.
 *
 * A request's principal comes from, in order: the `vigil_session` cookie (HttpOnly,
 * SameSite=Strict), `Authorization: Bearer <access token>`, or `X-API-Key`. Cookie
 * sessions must send `X-CSRF-Token` equal to the `vigil_csrf` cookie on every unsafe
 * method (double-submit cookie, OWASP CSRF Cheat Sheet). Media routes also accept a
 * 5-minute media token in `?token=`, and nothing else from the URL.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookie } from 'cookie';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthService } from '../auth/auth-service.ts';
import { canSeeCamera, hasRole, type Principal, type Role } from '../auth/principal.ts';
import type { IssuedSession } from '../auth/sessions.ts';
import { REFRESH_TTL_MS } from '../auth/sessions.ts';
import { ApiError } from './errors.ts';

export const SESSION_COOKIE = 'vigil_session';
export const REFRESH_COOKIE = 'vigil_refresh';
export const CSRF_COOKIE = 'vigil_csrf';

declare module 'express-serve-static-core' {
  interface Request {
    /** The authenticated caller, if any (set by {@link authenticate}). */
    principal?: Principal;
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The principal of a request from its session cookie, bearer token or `X-API-Key`
 * (in that order); undefined when none is valid. Works on raw Node requests too (the
 * rules engine's Express 4 app and WebSocket upgrades).
 */
export async function principalOf(auth: AuthService, req: IncomingMessage & { cookies?: Record<string, string> }): Promise<Principal | undefined> {
  const cookies = req.cookies ?? (req.headers.cookie ? parseCookie(req.headers.cookie) : {});
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const apiKey = req.headers['x-api-key'];
  let p: Principal | null = null;
  if (cookies[SESSION_COOKIE]) p = await auth.fromAccessToken(cookies[SESSION_COOKIE], true);
  if (!p && bearer) p = bearer.startsWith('vgd_') ? await auth.fromDeviceToken(bearer) : await auth.fromAccessToken(bearer, false);
  if (!p && typeof apiKey === 'string') p = await auth.fromApiKey(apiKey);
  return p ?? undefined;
}

/** Resolves the principal of every request (never rejects by itself; see {@link requireRole}). */
export function authenticate(auth: AuthService): RequestHandler {
  return (req, _res, next) => {
    void (async () => {
      const cookies = (req.cookies ?? {}) as Record<string, string>;
      req.principal = await principalOf(auth, req);
      if (req.principal?.viaCookie && !SAFE.has(req.method)) {
        const sent = req.get('x-csrf-token') ?? '';
        const expected = cookies[CSRF_COOKIE] ?? '';
        if (!expected || sent.length !== expected.length || !timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) {
          throw new ApiError(403, 'csrf_failed', 'missing or wrong X-CSRF-Token header for a cookie session');
        }
      }
    })().then(() => next(), next);
  };
}

/** 401 without a principal, 403 below `role`. */
export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    if (!req.principal) return next(new ApiError(401, 'unauthorized', 'log in, or send a bearer token or X-API-Key'));
    if (!hasRole(req.principal, role)) return next(new ApiError(403, 'forbidden', `needs the ${role} role`));
    next();
  };
}

/** @throws ApiError 404 when `p` may not see `camera` (not 403: do not confirm it exists). */
export function assertCamera(p: Principal | undefined, camera: string): void {
  if (!canSeeCamera(p, camera)) throw new ApiError(404, 'not_found', `no camera ${camera}`);
}

/**
 * A media token (`?token=`) judged for `camera` (and, for event files, `eventId`): it must
 * be valid and unexpired, scoped to that camera or that event, and its owner (a user, an
 * API key or a kiosk device, looked up now: a revoked key's or kiosk's tokens stop) must
 * still see the camera (a kiosk's tokens are minted only for its bundles' cameras).
 */
async function mediaTokenVerdict(auth: AuthService, token: string | null | undefined, camera: string, eventId?: string): Promise<'ok' | 'unauthenticated' | 'not_found'> {
  if (!token) return 'unauthenticated';
  const claims = await auth.signer.verifyMedia(token);
  if (!claims) return 'unauthenticated';
  const owner = await auth.mediaOwner(claims.sub);
  const scoped = claims.cam === camera || (eventId !== undefined && claims.evt === eventId);
  // A kiosk's tokens are minted by the hub for the cameras of its displays' bundles (wall-service.ts).
  const ownerSees = owner && (canSeeCamera(owner, camera) || (owner.kind === 'device' && owner.deviceKind === 'kiosk'));
  return scoped && ownerSees ? 'ok' : 'not_found';
}

/**
 * For media routes: a session/API key principal that can see `camera`, or a media token
 * (`?token=`) scoped to that camera or to event `eventId`.
 * @throws ApiError 401 (nothing presented, or a bad/expired token) / 404 (not this camera or file)
 */
export async function authorizeMedia(auth: AuthService, req: Request, camera: string, eventId?: string): Promise<void> {
  if (req.principal) return assertCamera(req.principal, camera);
  const token = typeof req.query.token === 'string' ? req.query.token : undefined;
  const v = await mediaTokenVerdict(auth, token, camera, eventId);
  if (v === 'unauthenticated') throw new ApiError(401, token ? 'invalid_token' : 'unauthorized', token ? 'media token is invalid or expired' : 'log in or pass a media token (?token=)');
  if (v === 'not_found') throw new ApiError(404, 'not_found', 'this media token does not open that file');
}

/**
 * The same decision as {@link authorizeMedia} as a verdict, for raw requests (the live
 * WebSocket upgrade) and routes that answer themselves.
 */
export async function mediaVerdict(auth: AuthService, req: IncomingMessage & { principal?: Principal }, camera: string): Promise<'ok' | 'unauthenticated' | 'not_found'> {
  const p = req.principal ?? (await principalOf(auth, req));
  if (p) return canSeeCamera(p, camera) ? 'ok' : 'not_found';
  return mediaTokenVerdict(auth, new URL(req.url ?? '/', 'http://x').searchParams.get('token'), camera);
}

/** Sets the session, refresh and CSRF cookies and answers with the tokens. */
export function sendSession(res: Response, s: IssuedSession, secure: boolean, csrf: string, body: Record<string, unknown> = {}): void {
  const base = { httpOnly: true, sameSite: 'strict' as const, secure };
  res.cookie(SESSION_COOKIE, s.access_token, { ...base, path: '/', maxAge: s.expires_in * 1000 });
  res.cookie(REFRESH_COOKIE, s.refresh_token, { ...base, path: '/api/auth', maxAge: REFRESH_TTL_MS });
  res.cookie(CSRF_COOKIE, csrf, { httpOnly: false, sameSite: 'strict', secure, path: '/', maxAge: REFRESH_TTL_MS });
  res.set('Cache-Control', 'no-store').json({ ...body, access_token: s.access_token, refresh_token: s.refresh_token, expires_in: s.expires_in, csrf_token: csrf, token_type: 'Bearer' });
}

/** Clears the session cookies. */
export function clearSession(res: Response): void {
  for (const [name, path] of [[SESSION_COOKIE, '/'], [REFRESH_COOKIE, '/api/auth'], [CSRF_COOKIE, '/']] as const) res.clearCookie(name, { path });
}

export type { NextFunction };
