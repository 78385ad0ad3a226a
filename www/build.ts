/**
 * Builds the admin web UI with vite (`www/vite.config.ts`) into `www/dist/`: `index.html`
 * and hashed files under `assets/`. Run as a script by `npm run build:www` (and by
 * scripts/ensure-deps.mjs when `www/dist` is missing or older than the sources); tests call
 * {@link buildWww} so they serve the sources under test.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Where the built UI goes (the hub serves it at `/`): `www/dist`, or `$VIGIL_WWW_DIST` (hub/http/web-ui.ts reads it too). */
export const WWW_DIST = process.env.VIGIL_WWW_DIST || join(HERE, 'dist');

/**
 * Runs `vite build` with the project's config.
 * @throws vite's error (file:line of the problem) when the sources do not build
 */
export async function buildWww(): Promise<void> {
  // Production builds of the dependencies (lit's dev build warns in the console): vite picks the
  // `development` export condition whenever NODE_ENV is not `production` (vitest sets `test`).
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(HERE, 'vite.config.ts'), logLevel: 'warn', mode: 'production', build: { outDir: WWW_DIST, emptyOutDir: true } });
  } finally {
    if (env === undefined) delete process.env.NODE_ENV; else process.env.NODE_ENV = env;
  }
}

const mtime = (p: string): number => (existsSync(p) ? statSync(p).mtimeMs : 0);
const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true })
  .reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : mtime(join(dir, e.name))), 0);

/**
 * True when `www/dist/index.html` is missing or older than `www/src`, `www/index.html`,
 * `www/vite.config.ts` or `package-lock.json` (the rule scripts/ensure-deps.mjs applies).
 */
export function wwwStale(): boolean {
  const built = mtime(join(WWW_DIST, 'index.html'));
  return built < Math.max(newest(join(HERE, 'src')), mtime(join(HERE, 'index.html')), mtime(join(HERE, 'vite.config.ts')), mtime(join(HERE, '..', 'package-lock.json')));
}

/** Builds when stale (or always with `force`). @returns whether it built */
export async function ensureWwwBuilt(force = false): Promise<boolean> {
  if (!force && !wwwStale()) return false;
  await buildWww();
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWww();
  console.log(`web UI built into ${WWW_DIST}`);
}
