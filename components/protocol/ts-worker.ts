/**
 * Starts a `worker_threads` worker from a module that sits next to the caller, whether the
 * code runs as TypeScript (tsx, vitest) or compiled by `tsc`:
 * - from `.ts` sources: an eval'd bootstrap imports tsx's `tsx/esm/api`, calls `register()`,
 *   then imports the `.ts` worker (tsx's `--import` hook registers on the main thread only
 *   on Node 20, so a plain `new Worker(x.ts)` fails with "Unknown file extension");
 * - compiled: `new Worker(<name>.js)` directly.
 * Used by the detector's inference, ONNX, OCR and face workers and the camera's JPEG encoder.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const require = createRequire(import.meta.url);
let tsxApiUrl: string | undefined;

/** File URL of tsx's `tsx/esm/api` ESM entry, read from tsx's `exports` map. */
function tsxEsmApiUrl(): string {
  if (tsxApiUrl) return tsxApiUrl;
  const pkgFile = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, unknown> };
  const spec = pkg.exports?.['./esm/api'] as { import?: string | { default?: string } } | undefined;
  const entry = typeof spec?.import === 'string' ? spec.import : spec?.import?.default;
  if (!entry) throw new Error('tsx/package.json has no "./esm/api" import entry');
  tsxApiUrl = pathToFileURL(path.join(path.dirname(pkgFile), entry)).href;
  return tsxApiUrl;
}

/**
 * Spawns the worker module `<baseName>.ts` / `<baseName>.js` found next to `callerUrl`
 * (pass `import.meta.url`), matching the caller's own extension.
 * @throws Error if running from `.ts` and tsx cannot be resolved.
 */
export function spawnSiblingWorker(callerUrl: string, baseName: string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const self = new URL(callerUrl);
  const isTs = /\.[cm]?ts$/.test(self.pathname);
  if (!isTs) return new Worker(new URL(`./${baseName}.js`, self), { execArgv: [], ...options });
  const target = new URL(`./${baseName}.ts`, self).href;
  let api: string;
  try {
    api = tsxEsmApiUrl();
  } catch (err) {
    throw new Error(`running from TypeScript sources needs tsx to start the ${baseName} worker: ${(err as Error).message}`);
  }
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(code, { execArgv: [], ...options, eval: true });
}
