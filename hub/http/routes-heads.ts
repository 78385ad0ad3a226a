/**
 * `/api/heads` — the camera heads the hub has heard of (mount at `/api`, after
 * `authenticate`): viewer+; a user limited to some cameras sees a head only when they may see
 * its camera. `GET /api/heads` → `[HeadView]`, `GET /api/heads/:id` → `HeadView` or 404. The
 * head's own API (`info.http`) is where its state is written; over MQTT, `…/state/<key>/set`.
 */
import { Router } from 'express';
import { canSeeCamera } from '../auth/principal.ts';
import type { HeadService, HeadView } from '../heads/head-service.ts';
import { requireRole } from './auth.ts';
import { ApiError, route } from './errors.ts';
import type { Principal } from '../auth/principal.ts';

const visible = (p: Principal | undefined, h: HeadView) => p?.cameras === null || (h.camera !== null && canSeeCamera(p, h.camera));

/** The router. */
export function headsRouter(heads: HeadService): Router {
  const r = Router();
  const viewer = requireRole('viewer');
  r.get('/heads', viewer, route(async (req, res) => { res.json(heads.list().filter((h) => visible(req.principal, h))); }));
  r.get('/heads/:id', viewer, route(async (req, res) => {
    const h = heads.get(String(req.params.id));
    if (!h || !visible(req.principal, h)) throw new ApiError(404, 'not_found', `no head ${String(req.params.id)}`);
    res.json(h);
  }));
  return r;
}
