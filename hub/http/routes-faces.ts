/**
 * `/api/faces` — known faces (mount at `/api`, after `authenticate`): the enrolled images
 * per person and the unknown faces the detectors saw. Reads are viewer+ (unknown faces only
 * of granted cameras, else 404), writes admin. Enrolling answers 201 once a detector found a
 * face in the image, 400 `no_face` when it found none (the image is not kept), 202 when no
 * detector answered in time (the image is kept, `ok: null`). See {@link FaceService}.
 *
 * Images come as the body (`image/jpeg`, `image/png`, `image/webp`) or as the multipart
 * field `file` (parsed by multer, in memory), at most {@link MAX_UPLOAD_BYTES}.
 */
import { readFile } from 'node:fs/promises';
import express, { Router, type Request, type RequestHandler } from 'express';
import multer from 'multer';
import type { AuthService } from '../auth/auth-service.ts';
import { canSeeCamera } from '../auth/principal.ts';
import type { EnrolOutcome, FaceService } from '../services/faces.ts';
import { assertCamera, requireRole } from './auth.ts';
import { ApiError, route } from './errors.ts';

/** Largest image accepted, bytes. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

/** Reads the image of a request into `req.body` (a Buffer): raw image body or multipart `file`. */
function imageBody(): RequestHandler {
  const raw = express.raw({ type: IMAGE_TYPES, limit: MAX_UPLOAD_BYTES });
  const multipart = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } }).single('file');
  return (req, res, next) => {
    if (req.is('multipart/form-data')) {
      multipart(req, res, (err?: unknown) => {
        if (err instanceof multer.MulterError) {
          return next(err.code === 'LIMIT_FILE_SIZE'
            ? new ApiError(413, 'payload_too_large', `image larger than ${MAX_UPLOAD_BYTES} bytes`, 'file')
            : new ApiError(400, 'invalid_multipart', `${err.message}${err.field ? ` (${err.field})` : ''}: send one image in the field "file"`, 'file'));
        }
        if (err) return next(new ApiError(400, 'invalid_multipart', `multipart body: ${(err as Error).message}`, 'file'));
        if (!req.file) return next(new ApiError(400, 'validation_failed', 'multipart body has no "file" field', 'file'));
        req.body = req.file.buffer;
        next();
      });
      return;
    }
    if (!req.is(IMAGE_TYPES)) return next(new ApiError(400, 'invalid_image', `send the image as image/jpeg, image/png or image/webp, or as multipart/form-data with the field "file" (got ${req.get('content-type') ?? 'no content type'})`, 'image'));
    raw(req, res, next);
  };
}

/** The answer to an enrolment: 201 described, 202 pending. */
function enrolled(res: express.Response, o: EnrolOutcome): void {
  res.status(o.status === 'described' ? 201 : 202).json({ name: o.name, ...o.image });
}

export function facesRouter(faces: FaceService, auth: AuthService): Router {
  const r = Router();
  const viewer = requireRole('viewer');
  const admin = requireRole('admin');
  const param = (req: Request, k: string) => String(req.params[k]);
  const log = (req: Request, action: string, target: string) => auth.activity.record({ actor: req.principal!.name, ip: req.ip ?? null, action, target });

  r.get('/faces', viewer, (_req, res) => { res.json(faces.list()); });

  // Unknown faces first: `unknown` is no name (it is reserved).
  r.get('/faces/unknown', viewer, (req, res) => { res.json(faces.listUnknown((c) => canSeeCamera(req.principal, c))); });
  r.get('/faces/unknown/:id.jpg', viewer, route(async (req, res) => {
    const u = faces.unknownFace(param(req, 'id'));
    assertCamera(req.principal, u.camera);
    res.type('image/jpeg').set('Cache-Control', 'private, max-age=3600').send(await readFile(u.file));
  }));
  r.post('/faces/unknown/:id/enrol', admin, route(async (req, res) => {
    const u = faces.unknownFace(param(req, 'id'));
    assertCamera(req.principal, u.camera);
    const o = await faces.enrolUnknown(u.id, req.body);
    await log(req, 'face.enrol', `face:${o.name}/${o.image.id}`);
    enrolled(res, o);
  }));
  r.delete('/faces/unknown/:id', admin, route(async (req, res) => {
    const u = faces.unknownFace(param(req, 'id'));
    assertCamera(req.principal, u.camera);
    await faces.deleteUnknown(u.id);
    await log(req, 'face.unknown.delete', `unknown-face:${u.id}`);
    res.status(204).end();
  }));

  r.get('/faces/:name/:id.jpg', viewer, route(async (req, res) => {
    const file = faces.imageFile(param(req, 'name'), param(req, 'id'));
    res.type('image/jpeg').set('Cache-Control', 'private, max-age=3600').send(await readFile(file));
  }));
  r.post('/faces/:name', admin, imageBody(), route(async (req, res) => {
    const o = await faces.enrol(param(req, 'name'), req.body as Buffer);
    await log(req, 'face.enrol', `face:${o.name}/${o.image.id}`);
    enrolled(res, o);
  }));
  r.delete('/faces/:name', admin, route(async (req, res) => {
    await faces.deleteName(param(req, 'name'));
    await log(req, 'face.delete', `face:${param(req, 'name')}`);
    res.status(204).end();
  }));
  r.delete('/faces/:name/:id', admin, route(async (req, res) => {
    await faces.deleteImage(param(req, 'name'), param(req, 'id'));
    await log(req, 'face.delete', `face:${param(req, 'name')}/${param(req, 'id')}`);
    res.status(204).end();
  }));
  return r;
}
