/**
 * Builds Vigil's Node-RED nodes: {@link buildNodes} bundles `src/index.ts` (the nodes,
 * components/protocol, zod, mqtt.js) with esbuild into one CommonJS file, `lib/vigil.js`,
 * and writes one small `<name>.js` per node listed in `package.json` (`"node-red".nodes`)
 * that exports that node's module function from it, next to the hand-written
 * `<name>.html`. Node-RED loads the folder as a package (`nodesDir`, or
 * `npm install /path/to/flows/nodes`), and skips `lib/` when it scans files.
 *
 * Run as a script (`npm run build:nodes`, also run by scripts/ensure-deps.mjs when stale).
 * The built files are not committed (.gitignore).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** `flows/nodes`, where the built files go by default. */
export const NODES_DIR = dirname(fileURLToPath(import.meta.url));
/** The shared bundle, relative to the output folder. */
export const LIB_FILE = 'lib/vigil.js';

/** The node files `package.json` declares: type → file (`vigil-hub.js` …). */
export function declaredNodes(dir = NODES_DIR): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { 'node-red'?: { nodes?: Record<string, string> } };
  return pkg['node-red']?.nodes ?? {};
}

/**
 * Bundles the nodes.
 * @returns the JavaScript of `lib/vigil.js` (CommonJS, Node 20, not minified: stack traces stay readable)
 * @throws esbuild's error (with file:line of every problem) when the code does not build
 */
export async function bundleNodes(): Promise<string> {
  const r = await build({
    entryPoints: [join(NODES_DIR, 'src', 'index.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    legalComments: 'none',
    tsconfig: join(NODES_DIR, 'tsconfig.json'),
    logLevel: 'silent',
    banner: { js: '// Vigil\'s Node-RED nodes, built by flows/nodes/build.mts from flows/nodes/src — do not edit.' },
  });
  return r.outputFiles[0]!.text;
}

/** Writes `file` atomically (a Node-RED loading meanwhile never sees half a file). */
function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * Builds and writes `lib/vigil.js` and one `<name>.js` per declared node under `outDir`.
 * @returns the paths written
 * @throws Error when a declared node has no source (`src/<name>.ts`) or no `.html`
 */
export async function buildNodes(outDir = NODES_DIR): Promise<string[]> {
  const files = Object.values(declaredNodes());
  for (const f of files) {
    const name = f.replace(/\.js$/, '');
    if (!existsSync(join(NODES_DIR, 'src', `${name}.ts`))) throw new Error(`package.json lists ${f}, but src/${name}.ts does not exist`);
    if (!existsSync(join(NODES_DIR, `${name}.html`))) throw new Error(`package.json lists ${f}, but ${name}.html does not exist`);
  }
  const lib = await bundleNodes();
  mkdirSync(join(outDir, 'lib'), { recursive: true });
  const written = [join(outDir, LIB_FILE)];
  writeAtomic(written[0]!, lib);
  for (const f of files) {
    const name = f.replace(/\.js$/, '');
    const out = join(outDir, f);
    writeAtomic(out, `// Built by flows/nodes/build.mts from src/${name}.ts — do not edit.\nmodule.exports = require('./${LIB_FILE}').nodes[${JSON.stringify(name)}];\n`);
    written.push(out);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = Date.now();
  buildNodes().then(
    (files) => console.log(`nodes: wrote ${files.length} files to ${NODES_DIR} in ${Date.now() - t} ms`),
    (e: unknown) => { console.error(`nodes build failed: ${(e as Error).message}`); process.exit(1); },
  );
}
