/**
 * Builds the kiosk page: {@link buildKioskBundle} bundles `src/main.ts` (lit, mqtt's browser
 * build, the protocol modules) into one minified ES module with esbuild, and
 * {@link KIOSK_HTML} is the page shell. Run as a script (`npm run build:kiosk`, also run by
 * scripts/ensure-deps.mjs when stale) it writes:
 *
 * - `kiosk-client/dist/kiosk.js`  → served at `/kiosk/kiosk.js` (`text/javascript`)
 * - `kiosk-client/dist/index.html` → served at `/kiosk` (`text/html`)
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Where `npm run build:kiosk` writes the page. */
export const KIOSK_DIST = join(HERE, 'dist');
/** URL path of the bundle that {@link KIOSK_HTML} loads. */
export const KIOSK_SCRIPT_PATH = '/kiosk/kiosk.js';

/**
 * The page shell: full-screen black, one `<vigil-kiosk>`, the bundle as a module script
 * from {@link KIOSK_SCRIPT_PATH}. No inline script (the hub's CSP is `script-src 'self'`);
 * the one `<style>` needs `style-src 'unsafe-inline'`, which the hub's CSP allows.
 */
export const KIOSK_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Vigil camera wall</title>
<link rel="icon" href="data:,">
<style>html,body{margin:0;width:100%;height:100%;overflow:hidden;background:#000;color:#eee;cursor:none}</style>
<script type="module" src="${KIOSK_SCRIPT_PATH}"></script>
</head><body><vigil-kiosk></vigil-kiosk></body></html>
`;

/**
 * Keeps zod's English messages only: `zod` re-exports every locale (`z.locales`, ~260 KB
 * minified) although it uses English unless told otherwise, and the kiosk never does.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /[\\/]locales[\\/]index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: join(args.resolveDir, args.path), namespace: 'zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path), loader: 'js' }));
  },
};

/**
 * Bundles the kiosk's browser code.
 * @returns the JavaScript of one ES module (minified, browser platform, ES2022, no source map)
 * @throws esbuild's error (with file:line of every problem) when the code does not build
 */
export async function buildKioskBundle(): Promise<string> {
  const r = await build({
    entryPoints: [join(HERE, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    write: false,
    legalComments: 'none',
    tsconfig: join(HERE, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    plugins: [zodEnglishOnly],
  });
  return r.outputFiles[0]!.text;
}

/** Writes `file` atomically (a reader never sees half a file). */
function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * Builds and writes `dist/kiosk.js` and `dist/index.html` under `dir`.
 * @returns the two paths written
 */
export async function writeKioskDist(dir = KIOSK_DIST): Promise<{ script: string; html: string }> {
  const js = await buildKioskBundle();
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'kiosk.js'), html = join(dir, 'index.html');
  writeAtomic(script, js);
  writeAtomic(html, KIOSK_HTML);
  return { script, html };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = Date.now();
  writeKioskDist().then(
    ({ script }) => console.log(`kiosk: wrote ${script} and index.html in ${Date.now() - t} ms`),
    (e: unknown) => { console.error(`kiosk build failed: ${(e as Error).message}`); process.exit(1); },
  );
}
