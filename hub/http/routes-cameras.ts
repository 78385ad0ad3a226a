/** `/api/cameras` — CRUD of cameras (the seed's devices), a connection test of a stream URL, feature control, and each camera's latest frame. */
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuthService } from '../auth/auth-service.ts';
import { canSeeCamera } from '../auth/principal.ts';
import type { CameraService } from '../services/camera-service.ts';
import type { SystemStatus } from '../services/system-status.ts';
import { invalidFromZod, parseWith } from '../errors.ts';
import { probeStream, streamProbeInput } from '../services/stream-probe.ts';
import { ApiError, route } from './errors.ts';
import { assertCamera, authorizeMedia, requireRole } from './auth.ts';

const features = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export function camerasRouter(cameras: CameraService, status: SystemStatus, auth: AuthService): Router {
  const r = Router();
  const viewer = requireRole('viewer');
  const admin = requireRole('admin');
  const who = (req: Request) => ({ actor: req.principal!.name, ip: req.ip ?? null });
  const name = (req: Request) => String(req.params.name);

  r.get('/', viewer, route(async (req, res) => { res.json((await cameras.list()).filter((c) => canSeeCamera(req.principal, c.name))); }));
  r.post('/', admin, route(async (req, res) => {
    const cam = await cameras.create(req.body);
    await auth.activity.record({ ...who(req), action: 'camera.create', target: `camera:${cam.name}`, details: req.body as Record<string, unknown> });
    res.status(201).json(cam);
  }));
  // Before any `/:name` route: a connection test of a stream URL (ffprobe), nothing stored.
  r.post('/probe', admin, route(async (req, res) => {
    const body = parseWith(streamProbeInput, req.body ?? {});
    const source = cameras.checkSource(body.url, body.username, body.password);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    res.json(await probeStream({ ...source, timeoutMs: body.timeout_ms, signal: gone.signal }));
  }));
  r.get('/:name', viewer, route(async (req, res) => {
    assertCamera(req.principal, name(req));
    res.json(await cameras.get(name(req)));
  }));
  for (const [method, merge] of [['put', false], ['patch', true]] as const) {
    r[method]('/:name', admin, route(async (req, res) => {
      const cam = await cameras.update(name(req), req.body, merge);
      await auth.activity.record({ ...who(req), action: 'camera.update', target: `camera:${cam.name}`, details: req.body as Record<string, unknown> });
      res.json(cam);
    }));
  }
  r.delete('/:name', admin, route(async (req, res) => {
    await cameras.delete(name(req));
    await auth.activity.record({ ...who(req), action: 'camera.delete', target: `camera:${name(req)}` });
    res.status(204).end();
  }));
  // Operators switch features (detect, motion, snapshots, thresholds), as on `…/<feature>/set`.
  r.post('/:name/features', requireRole('operator'), route(async (req, res) => {
    assertCamera(req.principal, name(req));
    const body = features.safeParse(req.body);
    if (!body.success) throw invalidFromZod(body.error);
    const out: Record<string, string> = {};
    for (const [feature, value] of Object.entries(body.data)) {
      const text = typeof value === 'boolean' ? (value ? 'ON' : 'OFF') : String(value);
      try {
        out[feature] = await cameras.setFeature(name(req), feature, text);
      } catch (err) {
        throw new ApiError(/^no camera/.test((err as Error).message) ? 404 : 400, 'validation_failed', (err as Error).message, feature);
      }
    }
    await auth.activity.record({ ...who(req), action: 'camera.features', target: `camera:${name(req)}`, details: out });
    res.json(out);
  }));
  r.get('/:name/latest.jpg', route(async (req, res) => {
    await authorizeMedia(auth, req, name(req));
    await cameras.get(name(req)); // 404 for unknown cameras
    const snap = status.cameras.get(name(req))?.snapshot;
    if (!snap) throw new ApiError(404, 'no_frame', `no frame from camera ${name(req)} yet`);
    res.type('image/jpeg').set('Cache-Control', 'no-store').send(snap.jpeg);
  }));
  return r;
}
