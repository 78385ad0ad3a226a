/** `/api/auth` — first-admin setup, login (with TOTP), refresh, logout, me, TOTP enrolment. */
import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuthService } from '../auth/auth-service.ts';
import { ApiError, parseWith, route } from './errors.ts';
import { clearSession, REFRESH_COOKIE, requireRole, sendSession } from './auth.ts';

const login = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024), totp: z.string().max(64).optional() }).strict();
const setup = z.object({ token: z.string().min(1).max(128), username: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits and _ . @ - only'), password: z.string().min(1).max(1024) }).strict();



export function authRouter(auth: AuthService, opts: { secureCookies: boolean }): Router {
  const r = Router();
  const ip = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
  const csrf = () => randomBytes(24).toString('base64url');

  r.get('/status', route(async (req, res) => {
    res.json({ setup_required: await auth.setupRequired(), authenticated: !!req.principal, user: req.principal ? { name: req.principal.name, role: req.principal.role } : null });
  }));

  r.post('/setup', route(async (req, res) => {
    const b = parseWith(setup, req.body);
    const wait = await auth.throttle.take(ip(req));
    if (wait !== null) throw tooMany(res, wait);
    const u = await auth.completeSetup(b.token, b.username, b.password).catch(async (err: unknown) => {
      await auth.activity.record({ actor: 'anonymous', action: 'auth.setup', ip: ip(req), outcome: 'denied' });
      throw err;
    });
    await auth.activity.record({ actor: u.username, action: 'auth.setup', target: `user:${u.username}`, ip: ip(req) });
    sendSession(res.status(201), await auth.sessions.open(u.id, ip(req)), opts.secureCookies, csrf(), { user: { id: u.id, username: u.username, role: u.role } });
  }));

  r.post('/login', route(async (req, res) => {
    const b = parseWith(login, req.body);
    const wait = await auth.throttle.take(ip(req));
    if (wait !== null) {
      await auth.activity.record({ actor: 'anonymous', action: 'auth.login', ip: ip(req), outcome: 'denied', details: { reason: 'throttled' } });
      throw tooMany(res, wait);
    }
    const u = await auth.users.verifyLogin(b.username, b.password, b.totp);
    if (u === null) {
      await auth.activity.record({ actor: 'anonymous', action: 'auth.login', ip: ip(req), outcome: 'failed', details: { username: b.username } });
      throw new ApiError(401, 'invalid_credentials', 'username or password is wrong');
    }
    if (u === 'totp_required') {
      await auth.activity.record({ actor: b.username, action: 'auth.login', ip: ip(req), outcome: 'failed', details: { reason: 'second factor' } });
      throw new ApiError(401, 'totp_required', 'a TOTP code (or a recovery code) is required', 'totp');
    }
    await auth.activity.record({ actor: u.username, action: 'auth.login', ip: ip(req) });
    sendSession(res, await auth.sessions.open(u.id, ip(req)), opts.secureCookies, csrf(), { user: { id: u.id, username: u.username, role: u.role } });
  }));

  r.post('/refresh', route(async (req, res) => {
    const token = (typeof req.body?.refresh_token === 'string' ? req.body.refresh_token : undefined) ?? (req.cookies as Record<string, string> | undefined)?.[REFRESH_COOKIE];
    const s = token ? await auth.sessions.refresh(token) : null;
    if (!s) throw new ApiError(401, 'invalid_token', 'refresh token is invalid, expired or revoked');
    sendSession(res, s, opts.secureCookies, csrf());
  }));

  r.post('/logout', requireRole('viewer'), route(async (req, res) => {
    const p = req.principal!;
    if (p.sessionId) await auth.sessions.revoke(p.sessionId);
    await auth.activity.record({ actor: p.name, action: 'auth.logout', ip: ip(req) });
    clearSession(res);
    res.status(204).end();
  }));

  r.get('/me', requireRole('viewer'), route(async (req, res) => {
    const p = req.principal!;
    // totp_enabled: users only (the account page shows whether two-factor sign-in is on).
    const totp = p.kind === 'user' ? { totp_enabled: Boolean((await auth.users.byId(p.id))?.totp_enabled) } : {};
    res.json({ kind: p.kind, id: p.id, name: p.name, role: p.role, cameras: p.cameras, ...totp });
  }));

  const userOnly = (req: Request) => {
    if (req.principal?.kind !== 'user') throw new ApiError(403, 'forbidden', 'passwords and TOTP belong to user accounts');
    return req.principal.id;
  };
  r.post('/totp/setup', requireRole('viewer'), route(async (req, res) => { res.json(await auth.users.totpSetup(userOnly(req))); }));
  r.post('/totp/enable', requireRole('viewer'), route(async (req, res) => {
    const { code } = parseWith(z.object({ code: z.string().regex(/^\d{6}$/, 'six digits') }).strict(), req.body);
    const codes = await auth.users.totpEnable(userOnly(req), code);
    await auth.activity.record({ actor: req.principal!.name, action: 'auth.totp.enable', ip: ip(req) });
    res.json({ recovery_codes: codes });
  }));
  // A user's own password change: the current password (throttled like a login), then every other session ends.
  r.post('/password', requireRole('viewer'), route(async (req, res) => {
    const id = userOnly(req);
    const b = parseWith(z.object({ current_password: z.string().min(1).max(1024), new_password: z.string().min(8, 'at least 8 characters').max(1024) }).strict(), req.body);
    const wait = await auth.throttle.take(ip(req));
    if (wait !== null) throw tooMany(res, wait);
    try {
      await auth.users.changeOwnPassword(id, b.current_password, b.new_password);
    } catch (err) {
      await auth.activity.record({ actor: req.principal!.name, action: 'auth.password', ip: ip(req), outcome: 'denied', details: { reason: (err as Error).message } });
      throw err;
    }
    const ended = await auth.sessions.revokeOthers(id, req.principal!.sessionId);
    await auth.activity.record({ actor: req.principal!.name, action: 'auth.password', ip: ip(req), details: { other_sessions_ended: ended } });
    res.json({ other_sessions_ended: ended });
  }));
  r.post('/totp/disable', requireRole('viewer'), route(async (req, res) => {
    const { password } = parseWith(z.object({ password: z.string().min(1) }).strict(), req.body);
    await auth.users.totpDisable(userOnly(req), password);
    await auth.activity.record({ actor: req.principal!.name, action: 'auth.totp.disable', ip: ip(req) });
    res.status(204).end();
  }));
  return r;
}

function tooMany(res: import('express').Response, waitS: number): ApiError {
  res.set('Retry-After', String(waitS));
  return new ApiError(429, 'too_many_attempts', `too many login attempts from this address; retry in ${waitS} s`);
}
