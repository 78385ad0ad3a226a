/**
 * The camera wall's REST API (mount at `/api`, after `authenticate`):
 *
 * - `/layouts` — list (viewer+; cut to layouts whose cameras the caller sees), one, create
 *   (admin; regions or a preset with cells), replace (`PUT`), delete.
 * - `/kiosks/pairing` — a new kiosk takes a pairing ticket (anonymous) and polls it
 *   (`X-Pairing-Secret`); `/kiosks/pair` — an admin enters the code; `/kiosks` — list, one,
 *   delete (revokes the kiosk's credential), `/kiosks/:id/displays` — add a display.
 * - `/displays` — list and one (viewer+), `PATCH` (admin), `/:id/activate` (operator+, the
 *   REST twin of `vigil/display/<id>/layout/set`; answers the bundle without stream URLs),
 *   `/:id/bundle` (the display's own kiosk with its device credential as bearer, or an
 *   admin): the current bundle with fresh media tokens.
 *
 * Errors are the domain errors of {@link WallService}, mapped by `errors.ts`.
 */
import { Router, type Request } from 'express';
import type { AuthService } from '../auth/auth-service.ts';
import { hasRole, type Principal } from '../auth/principal.ts';
import { seesLayout, type WallService } from '../services/wall-service.ts';
import type { Bundle } from '../../components/protocol/layout.ts';
import { ApiError, route } from './errors.ts';
import { requireRole } from './auth.ts';

/**
 * The bundle without its stream URLs: their media tokens belong to the kiosk (and may open
 * cameras of priority-hot layouts the caller cannot see), so only the kiosk and admins get them.
 */
function withoutUrls(b: Bundle): Bundle {
  return { ...b, cells: b.cells.map((c) => (c.type === 'camera' ? { ...c, url: '' } : c)), warm: b.warm.map((w) => ({ ...w, url: '' })) };
}

/** True when `p` is the kiosk device that owns display `id`. */
function isDisplaysKiosk(p: Principal | undefined, id: string): boolean {
  return p?.kind === 'device' && p.deviceKind === 'kiosk' && (p.displays ?? []).includes(id);
}

export function wallRouter(wall: WallService, auth: AuthService): Router {
  const r = Router();
  const viewer = requireRole('viewer');
  const operator = requireRole('operator');
  const admin = requireRole('admin');
  const id = (req: Request) => String(req.params.id);
  const log = (req: Request, action: string, target: string, details?: Record<string, unknown>) =>
    auth.activity.record({ actor: req.principal!.name, ip: req.ip ?? null, action, target, details });

  // ---- layouts
  r.get('/layouts', viewer, route(async (req, res) => { res.json((await wall.layouts()).filter((l) => seesLayout(req.principal, l))); }));
  r.get('/layouts/:id', viewer, route(async (req, res) => {
    const l = await wall.layout(id(req));
    if (!seesLayout(req.principal, l)) throw new ApiError(404, 'not_found', `no layout ${id(req)}`);
    res.json(l);
  }));
  r.post('/layouts', admin, route(async (req, res) => {
    const l = await wall.saveLayout(req.body);
    await log(req, 'layout.create', `layout:${l.id}`);
    res.status(201).json(l);
  }));
  r.put('/layouts/:id', admin, route(async (req, res) => {
    const l = await wall.saveLayout(req.body, id(req));
    await log(req, 'layout.update', `layout:${l.id}`);
    res.json(l);
  }));
  r.delete('/layouts/:id', admin, route(async (req, res) => {
    await wall.deleteLayout(id(req));
    await log(req, 'layout.delete', `layout:${id(req)}`);
    res.status(204).end();
  }));

  // ---- pairing and kiosks
  r.post('/kiosks/pairing', route(async (req, res) => { res.status(201).set('Cache-Control', 'no-store').json(wall.startPairing(req.body)); }));
  r.get('/kiosks/pairing/:id', route(async (req, res) => {
    const secret = req.get('x-pairing-secret');
    if (!secret) throw new ApiError(401, 'unauthorized', 'send the ticket\'s poll_secret in X-Pairing-Secret');
    res.set('Cache-Control', 'no-store').json(wall.pollPairing(id(req), secret));
  }));
  r.post('/kiosks/pair', admin, route(async (req, res) => {
    const k = await wall.pair(req.body);
    await log(req, 'kiosk.pair', `kiosk:${k.id}`, { displays: k.displays.map((d) => d.id) });
    res.status(201).json(k);
  }));
  r.get('/kiosks', admin, route(async (_req, res) => { res.json(await wall.kiosks()); }));
  r.get('/kiosks/:id', admin, route(async (req, res) => { res.json(await wall.kiosk(id(req))); }));
  r.delete('/kiosks/:id', admin, route(async (req, res) => {
    await wall.deleteKiosk(id(req));
    await log(req, 'kiosk.delete', `kiosk:${id(req)}`);
    res.status(204).end();
  }));
  r.post('/kiosks/:id/displays', admin, route(async (req, res) => {
    const d = await wall.addDisplay(id(req), req.body);
    await log(req, 'display.create', `display:${d.id}`, { kiosk: id(req) });
    res.status(201).json(d);
  }));

  // ---- displays
  r.get('/displays', viewer, route(async (_req, res) => { res.json(await wall.displays()); }));
  r.get('/displays/:id', viewer, route(async (req, res) => { res.json(await wall.display(id(req))); }));
  r.patch('/displays/:id', admin, route(async (req, res) => {
    const d = await wall.updateDisplay(id(req), req.body);
    await log(req, 'display.update', `display:${d.id}`, req.body as Record<string, unknown>);
    res.json(d);
  }));
  r.post('/displays/:id/activate', operator, route(async (req, res) => {
    const b = await wall.activateFor(id(req), req.body, req.principal!);
    await log(req, 'display.activate', `display:${b.display}`, { layout: b.layout, seq: b.seq });
    res.json(withoutUrls(b));
  }));
  r.get('/displays/:id/bundle', route(async (req, res) => {
    const p = req.principal;
    if (!p) throw new ApiError(401, 'unauthorized', 'send the kiosk credential as a bearer token, or log in');
    if (!isDisplaysKiosk(p, id(req)) && !hasRole(p, 'admin')) throw new ApiError(404, 'not_found', `no display ${id(req)}`);
    const b = await wall.currentBundle(id(req));
    if (!b) throw new ApiError(404, 'no_layout', `display ${id(req)} shows no layout yet`);
    res.set('Cache-Control', 'no-store').json(b);
  }));
  return r;
}
