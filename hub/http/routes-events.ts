/** `/api/events` — events with filters and pagination, one event, and its snapshot JPEG. */
import { Router } from 'express';
import { z } from 'zod';
import type { EventStore } from '../services/event-store.ts';
import type { EventTriggers } from '../services/event-triggers.ts';
import type { ExportService } from '../services/exports.ts';
import type { EventsRepo } from '../store/events-repo.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { visibleCameras } from '../auth/principal.ts';
import { assertCamera, authorizeMedia, requireRole } from './auth.ts';
import { invalidFromZod } from '../errors.ts';
import { ApiError, route } from './errors.ts';

const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
/** Query of `GET /api/events` (Frigate's names `cameras`/`labels`/`zones` accepted too). Times: Unix seconds. */
export const eventsQuery = z
  .object({
    camera: list.optional(), cameras: list.optional(),
    label: list.optional(), labels: list.optional(),
    zone: z.string().optional(), zones: z.string().optional(),
    after: z.coerce.number().optional(),
    before: z.coerce.number().optional(),
    in_progress: z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

/**
 * Builds `/api/events` (mount after `authenticate`): `POST /trigger` (operator+; a synthetic
 * event into the rules engine, 202 with the normalized event), `GET /` (viewer+; {@link eventsQuery},
 * `X-Total-Count`, cut to the principal's cameras), `GET /:id` (viewer+, 404 for cameras not
 * granted), `DELETE /:id` (admin, as Frigate's: the row, its snapshot and crop, its event clip;
 * 409 `conflict` while the event is in progress; 204), `GET /:id/snapshot.jpg` and `/:id/thumbnail.jpg` (session, key or media token).
 * Events are `EventRecord`s with `has_clip` from the event clips (see `events-repo.ts`).
 * @throws nothing itself: failures reach the error middleware as `ApiError` / domain errors
 */
export function eventsRouter(repo: EventsRepo, store: EventStore, auth: AuthService, triggers: EventTriggers, clips: Pick<ExportService, 'deleteClipsOf'>): Router {
  const r = Router();
  // Synthetic events into the rules engine (operators), published on vigil/event/trigger.
  r.post('/trigger', requireRole('operator'), route(async (req, res) => {
    const body = req.body as { camera?: unknown } | undefined;
    if (typeof body?.camera === 'string') assertCamera(req.principal, body.camera);
    const event = await triggers.fire(req.body);
    await auth.activity.record({ actor: req.principal!.name, ip: req.ip ?? null, action: 'event.trigger', target: `camera:${event.camera}`, details: { topic: event.topic } });
    res.status(202).json(event);
  }));
  r.get('/', requireRole('viewer'), route(async (req, res) => {
    const q = eventsQuery.safeParse(req.query);
    if (!q.success) throw invalidFromZod(q.error, 'query');
    const { camera, cameras, label, labels, zone, zones, ...rest } = q.data;
    if (rest.after !== undefined && rest.before !== undefined && rest.after > rest.before) throw new ApiError(400, 'validation_failed', 'after must not be later than before', 'query.after');
    // A principal limited to some cameras only ever sees those (an empty intersection matches nothing).
    const cams = visibleCameras(req.principal!, camera ?? cameras);
    const { total, events } = await repo.query({ ...rest, camera: cams, label: label ?? labels, zone: zone ?? zones });
    res.set('X-Total-Count', String(total)).json(events);
  }));
  r.get('/:id', requireRole('viewer'), route(async (req, res) => {
    const e = await repo.get(String(req.params.id));
    if (!e) throw new ApiError(404, 'not_found', `no event ${req.params.id}`);
    assertCamera(req.principal, e.camera);
    res.json(e);
  }));
  r.delete('/:id', requireRole('admin'), route(async (req, res) => {
    const e = await repo.get(String(req.params.id));
    if (!e) throw new ApiError(404, 'not_found', `no event ${req.params.id}`);
    assertCamera(req.principal, e.camera);
    if (e.end_time === null) throw new ApiError(409, 'conflict', `event ${e.id} is still in progress; delete it once it has ended`);
    await repo.delete(e.id);
    await store.deleteImages(e.camera, e.id);
    const n = await clips.deleteClipsOf(e.id);
    await auth.activity.record({ actor: req.principal!.name, ip: req.ip ?? null, action: 'event.delete', target: `event:${e.id}`, details: { camera: e.camera, label: e.label, clips: n } });
    res.status(204).end();
  }));
  const image = (kind: 'snapshot' | 'crop') => route(async (req, res) => {
    if (!req.principal && typeof req.query.token !== 'string') throw new ApiError(401, 'unauthorized', 'log in or pass a media token (?token=)');
    const e = await repo.get(String(req.params.id));
    if (!e) throw new ApiError(404, 'not_found', `no event ${req.params.id}`);
    await authorizeMedia(auth, req, e.camera, e.id);
    const jpeg = await store.readImage(e.camera, e.id, req.query.crop === '1' ? 'crop' : kind);
    if (!jpeg) throw new ApiError(404, 'no_snapshot', `event ${e.id} has no ${kind}`);
    res.type('image/jpeg').send(jpeg);
  });
  r.get('/:id/snapshot.jpg', image('snapshot'));
  r.get('/:id/thumbnail.jpg', image('crop'));
  return r;
}
