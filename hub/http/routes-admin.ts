/**
 * Admin resources: `/api/users`, `/api/api-keys`, `/api/devices`, `/api/activity`, and
 * `/api/media-tokens` (any role, for cameras it may see).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuthService } from '../auth/auth-service.ts';
import { ApiError, parseWith, route } from './errors.ts';
import { assertCamera, requireRole } from './auth.ts';
import type { EventsRepo } from '../store/events-repo.ts';
import { MEDIA_TTL_S } from '../auth/tokens.ts';

const camName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);
const role = z.enum(['admin', 'operator', 'viewer']);
const newUser = z.object({ username: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits and _ . @ - only'), password: z.string().min(1).max(1024), role, cameras: z.array(camName).nullable().optional() }).strict();
const userPatch = z.object({ role: role.optional(), cameras: z.array(camName).nullable().optional(), password: z.string().min(1).max(1024).optional() }).strict();
const newKey = z.object({ name: z.string().min(1).max(64), scope: z.enum(['read', 'control', 'admin']), cameras: z.array(camName).nullable().optional() }).strict();
const newDevice = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), kind: z.enum(['camera', 'kiosk', 'head', 'component', 'ha']), displays: z.array(camName).optional() }).strict();
const mediaReq = z.union([z.object({ camera: camName }).strict(), z.object({ event: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/) }).strict()]);
const activityQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0),
  actor: z.string().optional(), action: z.string().optional(), after: z.coerce.number().optional(), before: z.coerce.number().optional(),
}).strict();



export function adminRouter(auth: AuthService, events: EventsRepo): Router {
  const r = Router();
  const admin = requireRole('admin');
  const who = (req: Request) => ({ actor: req.principal!.name, ip: req.ip ?? null });

  r.get('/users', admin, route(async (_req, res) => { res.json(await auth.users.list()); }));
  r.post('/users', admin, route(async (req, res) => {
    const b = parseWith(newUser, req.body);
    const u = await auth.users.create(b);
    await auth.activity.record({ ...who(req), action: 'user.create', target: `user:${u.username}`, details: { role: u.role, cameras: u.cameras } });
    res.status(201).json(u);
  }));
  r.patch('/users/:id', admin, route(async (req, res) => {
    const b = parseWith(userPatch, req.body);
    const u = await auth.users.update(String(req.params.id), b);
    if (b.password !== undefined) await auth.sessions.revokeAll(u.id);
    await auth.activity.record({ ...who(req), action: 'user.update', target: `user:${u.username}`, details: b });
    res.json(u);
  }));
  r.delete('/users/:id', admin, route(async (req, res) => {
    const id = String(req.params.id);
    if (req.principal!.id === id) throw new ApiError(400, 'validation_failed', 'you cannot delete yourself');
    const u = await auth.users.byId(id);
    await auth.users.delete(id);
    await auth.activity.record({ ...who(req), action: 'user.delete', target: `user:${u?.username ?? id}` });
    res.status(204).end();
  }));

  r.get('/api-keys', admin, route(async (_req, res) => { res.json(await auth.credentials.listKeys()); }));
  r.post('/api-keys', admin, route(async (req, res) => {
    const b = parseWith(newKey, req.body);
    const out = await auth.credentials.createKey({ ...b, createdBy: req.principal!.name });
    await auth.activity.record({ ...who(req), action: 'api_key.create', target: `key:${b.name}`, details: { scope: b.scope, cameras: b.cameras ?? null } });
    res.status(201).set('Cache-Control', 'no-store').json({ ...out.api_key, key: out.key });
  }));
  r.delete('/api-keys/:id', admin, route(async (req, res) => {
    await auth.credentials.revokeKey(String(req.params.id));
    await auth.activity.record({ ...who(req), action: 'api_key.revoke', target: `key:${req.params.id}` });
    res.status(204).end();
  }));

  r.get('/devices', admin, route(async (_req, res) => { res.json(await auth.credentials.listDevices()); }));
  r.post('/devices', admin, route(async (req, res) => {
    const b = parseWith(newDevice, req.body);
    const out = await auth.credentials.createDevice(b);
    await auth.activity.record({ ...who(req), action: 'device.create', target: `device:${b.id}`, details: { kind: b.kind } });
    res.status(201).set('Cache-Control', 'no-store').json({ ...out.device, username: b.id, password: out.password });
  }));
  r.delete('/devices/:id', admin, route(async (req, res) => {
    await auth.credentials.revokeDevice(String(req.params.id));
    await auth.activity.record({ ...who(req), action: 'device.revoke', target: `device:${req.params.id}` });
    res.status(204).end();
  }));

  r.get('/activity', admin, route(async (req, res) => {
    const q = parseWith(activityQuery, req.query, 'query');
    const { total, entries } = await auth.activity.list(q);
    res.set('X-Total-Count', String(total)).json(entries);
  }));

  r.post('/media-tokens', requireRole('viewer'), route(async (req, res) => {
    const b = parseWith(mediaReq, req.body);
    const p = req.principal!;
    const sub = p.kind === 'user' ? p.id : `key:${p.id}`;
    let token: string;
    if ('camera' in b) {
      assertCamera(p, b.camera);
      token = await auth.signer.media({ sub, cam: b.camera });
    } else {
      const e = await events.get(b.event);
      if (!e) throw new ApiError(404, 'not_found', `no event ${b.event}`);
      assertCamera(p, e.camera);
      token = await auth.signer.media({ sub, evt: e.id });
    }
    res.status(201).set('Cache-Control', 'no-store').json({ token, expires_in: MEDIA_TTL_S });
  }));
  return r;
}
