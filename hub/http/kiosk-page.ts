/**
 * Serves the kiosk camera-wall page at `/kiosk` from the kiosk client's built files
 * (`kiosk-client/dist/index.html` and `kiosk.js`, made by `npm run build:kiosk`, which
 * `npm start` and `npm test` run when the sources are newer). The hub reads the files; it
 * never imports the client (docs/architecture.md, "Layers").
 *
 * The page has its own CSP: scripts only from this origin, as everywhere, but `web` cells
 * may frame any http(s) page (`frame-src http: https:`) and `html` cells are `srcdoc`
 * iframes sandboxed without scripts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import express, { type Router } from 'express';
import helmet from 'helmet';

/** Where the built kiosk client is: next to the sources, or two levels up from `dist/hub/http`. */
export function kioskDistDir(): string | undefined {
  const candidates = ['../../kiosk-client/dist', '../../../kiosk-client/dist'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((d) => existsSync(join(d, 'kiosk.js')));
}

/**
 * `GET /kiosk` (the page; `?display=<id>` picks a display) and `GET /kiosk/kiosk.js`.
 * Answers 503 JSON when the client has not been built.
 */
export function kioskRouter(): Router {
  const r = express.Router();
  r.use(helmet.contentSecurityPolicy({
    directives: {
      defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:', 'blob:'],
      connectSrc: ["'self'", 'ws:', 'wss:'], mediaSrc: ["'self'", 'blob:'], frameSrc: ['http:', 'https:', "'self'"],
      frameAncestors: ["'none'"], objectSrc: ["'none'"], upgradeInsecureRequests: null,
    },
  }));
  r.use((_req, res, next) => {
    if (kioskDistDir()) return next();
    res.status(503).json({ error: { code: 'not_built', message: 'the kiosk client is not built: run npm run build:kiosk' } });
  });
  r.get('/', (_req, res) => { res.set('Cache-Control', 'no-cache').sendFile(join(kioskDistDir()!, 'index.html')); });
  r.get('/kiosk.js', (_req, res) => { res.set('Cache-Control', 'no-cache').type('text/javascript').sendFile(join(kioskDistDir()!, 'kiosk.js')); });
  return r;
}
