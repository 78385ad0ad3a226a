/**
 * ONVIF look-ups for admins (mount at `/api`, after `authenticate`):
 * `POST /onvif/discover` (WS-Discovery), `POST /onvif/probe` (log in and read a device),
 * `POST /cameras/onvif` (create a camera from a device). Errors are {@link OnvifService}'s
 * domain errors: a refused device login is a 400 on `password` (the caller is logged in to
 * Vigil; the device said no), an unreachable or non-ONVIF URL a 400 on `url`.
 */
import { Router } from 'express';
import type { AuthService } from '../auth/auth-service.ts';
import type { OnvifService } from '../onvif/onvif-service.ts';
import { requireRole } from './auth.ts';
import { route } from './errors.ts';

/** The router; `auth` records camera creations in the activity log (without credentials). */
export function onvifRouter(onvif: OnvifService, auth: AuthService): Router {
  const r = Router();
  const admin = requireRole('admin');
  r.post('/onvif/discover', admin, route(async (req, res) => { res.json(await onvif.discover(req.body)); }));
  r.post('/onvif/probe', admin, route(async (req, res) => { res.json(await onvif.probe(req.body)); }));
  r.post('/cameras/onvif', admin, route(async (req, res) => {
    const cam = await onvif.addCamera(req.body);
    // Credentials stay out of the activity log.
    await auth.activity.record({ actor: req.principal!.name, ip: req.ip ?? null, action: 'camera.create', target: `camera:${cam.name}`, details: { onvif: cam.onvif?.url } });
    res.status(201).json(cam);
  }));
  return r;
}
