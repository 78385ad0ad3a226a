/**
 * Serves the admin web UI (`www/dist/`, built by `npm run build:www`, which `npm start` and
 * `npm test` run when the sources are newer) at `/`. The hub reads the files; it never
 * imports the client (docs/architecture.md, "Layers").
 *
 * - `/assets/*` — vite's content-hashed files: `Cache-Control: public, max-age=31536000, immutable`;
 *   a missing one is a JSON 404 (never the page).
 * - every other GET/HEAD that no route of the hub took (`/`, `/events`, `/events/<id>` …) —
 *   `index.html` with `Cache-Control: no-cache`, so deep links work and a new build is seen
 *   at once. Paths the hub owns (`/api`, `/mqtt`, `/live…`, `/kiosk…`, `/rules…`,
 *   `/player…`, `/vendor`, `/status`, `/app.js`) never fall back to the page, nor do
 *   paths with a file extension (a missing file is a 404, not HTML).
 * - With no build, `503 {"error":{"code":"not_built",…}}`, as the kiosk page does.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

/**
 * Where the built UI is: `$VIGIL_WWW_DIST` when set (a build elsewhere, e.g. one per test
 * run), else next to the sources, or two levels up from `dist/hub/http`.
 */
export function webUiDistDir(): string | undefined {
  if (process.env.VIGIL_WWW_DIST) return existsSync(join(process.env.VIGIL_WWW_DIST, 'index.html')) ? process.env.VIGIL_WWW_DIST : undefined;
  const candidates = ['../../www/dist', '../../../www/dist'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

/** Path prefixes the hub answers itself: the page is never their fallback. */
export const RESERVED_PREFIXES = ['/api', '/mqtt', '/live', '/kiosk', '/rules', '/player', '/vendor', '/status', '/app.js'];

/** True when `path` is under one of {@link RESERVED_PREFIXES} (`/live.html`, `/rules/x`, `/api`). */
export function isReserved(path: string): boolean {
  // `/api` is only `/api` and `/api/…`: the page `/api-keys` (API keys and devices) is the web UI's.
  return RESERVED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || (p !== '/api' && path.startsWith(p) && /^[.\-_]/.test(path.slice(p.length))));
}

/** One year, the longest `max-age` caches honour (RFC 9111 advice; hashed names never change content). */
const HASHED_MAX_AGE_S = 31_536_000;

/** The router; mount it last, after every route of the hub, and before the error handler. */
export function webUiRouter(): Router {
  const r = express.Router();
  const notBuilt = (res: express.Response) => res.status(503).json({ error: { code: 'not_built', message: 'the web UI is not built: run npm run build:www' } });
  r.use('/assets', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const dir = webUiDistDir();
    if (!dir) return notBuilt(res);
    express.static(join(dir, 'assets'), {
      index: false, redirect: false, fallthrough: false, dotfiles: 'ignore',
      setHeaders: (res) => { res.setHeader('Cache-Control', `public, max-age=${HASHED_MAX_AGE_S}, immutable`); },
    })(req, res, (err?: unknown) => {
      const status = (err as { status?: number } | undefined)?.status;
      if (status === 404 || status === 403) res.status(404).json({ error: { code: 'not_found', message: 'no such file' } });
      else next(err);
    });
  });
  r.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isReserved(req.path) || /\.[A-Za-z0-9]+$/.test(req.path)) return next();
    const dir = webUiDistDir();
    if (!dir) return notBuilt(res);
    res.set('Cache-Control', 'no-cache').sendFile(join(dir, 'index.html'));
  });
  return r;
}
