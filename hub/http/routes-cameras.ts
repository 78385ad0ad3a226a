/** `/api/cameras` — CRUD of cameras (the seed's devices), and each camera's latest frame. */
import { Router } from 'express';
import type { CameraService } from '../services/camera-service.ts';
import type { SystemStatus } from '../services/system-status.ts';
import { ApiError, route } from './errors.ts';

export function camerasRouter(cameras: CameraService, status: SystemStatus): Router {
  const r = Router();
  r.get('/', route(async (_req, res) => { res.json(await cameras.list()); }));
  r.post('/', route(async (req, res) => { res.status(201).json(await cameras.create(req.body)); }));
  r.get('/:name', route(async (req, res) => { res.json(await cameras.get(String(req.params.name))); }));
  r.put('/:name', route(async (req, res) => { res.json(await cameras.update(String(req.params.name), req.body, false)); }));
  r.patch('/:name', route(async (req, res) => { res.json(await cameras.update(String(req.params.name), req.body, true)); }));
  r.delete('/:name', route(async (req, res) => { await cameras.delete(String(req.params.name)); res.status(204).end(); }));
  r.get('/:name/latest.jpg', route(async (req, res) => {
    const name = String(req.params.name);
    await cameras.get(name); // 404 for unknown cameras
    const snap = status.cameras.get(name)?.snapshot;
    if (!snap) throw new ApiError(404, 'no_frame', `no frame from camera ${name} yet`);
    res.type('image/jpeg').set('Cache-Control', 'no-store').send(snap.jpeg);
  }));
  return r;
}
