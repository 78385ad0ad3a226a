/**
 * How to start a `worker_threads` worker of this folder, both from TypeScript sources (tsx,
 * vitest) and from `tsc` output — the technique of `inference-pool.ts`'s `workerEntry`:
 * - compiled (`.js`): `new Worker(<name>.js URL)`;
 * - sources (`.ts`): an eval'd bootstrap that imports tsx's `tsx/esm/api`, calls
 *   `register()` inside the worker and then imports `<name>.ts` (on Node 20, `--import tsx`
 *   registers its hooks on the main thread only, so a worker started that way cannot load `.ts`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
let tsxApiUrl: string | undefined;

/**
 * `new Worker(target, { eval })` arguments for worker file `name` (without extension) beside this file.
 * @throws Error when running from sources and tsx cannot be resolved
 */
export function workerEntry(name: string): { target: URL | string; eval: boolean } {
  const self = new URL(import.meta.url);
  if (!/\.[cm]?ts$/.test(self.pathname)) return { target: new URL(`./${name}.js`, self), eval: false };
  const worker = new URL(`./${name}.ts`, self).href;
  const api = tsxEsmApiUrl();
  return { target: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`, eval: true };
}

/** File URL of tsx's `tsx/esm/api` ESM entry, from tsx's own `exports` map. */
function tsxEsmApiUrl(): string {
  if (tsxApiUrl) return tsxApiUrl;
  try {
    const pkgFile = require.resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, unknown> };
    const spec = pkg.exports?.['./esm/api'] as { import?: string | { default?: string } } | undefined;
    const entry = typeof spec?.import === 'string' ? spec.import : spec?.import?.default;
    if (!entry) throw new Error('tsx/package.json has no "./esm/api" import entry');
    tsxApiUrl = pathToFileURL(path.join(path.dirname(pkgFile), entry)).href;
    return tsxApiUrl;
  } catch (err) {
    throw new Error(`the face worker runs from TypeScript sources and needs tsx: ${err instanceof Error ? err.message : String(err)}`);
  }
}
