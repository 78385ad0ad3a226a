/**
 * Where the converted CenterNet `.onnx` lives: `node_modules/.cache/vigil/centernet.onnx`
 * (the `node_modules` that holds `@vladmandic/human`; `.cache/<name>` is the usual npm
 * convention, and `node_modules/` is gitignored), next to `centernet.onnx.json`, which
 * records what it was made from: `{ converterVersion, sourceSha256, bytes }`.
 *
 * The file is (re)written by `npm start` / `npm test` (`scripts/ensure-deps.mjs` runs
 * `convert-centernet.ts --cache`) and, as a fallback, by the loader on first use when it is
 * missing or stale: a different {@link CONVERTER_VERSION} or a different source model (e.g.
 * after upgrading `@vladmandic/human`). Files are written to a temporary name and renamed,
 * so concurrent processes never read a half-written model. Nothing is downloaded.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CONVERTER_VERSION, centernetModelJsonPath, convertCenternet } from './convert-centernet.ts';

const require = createRequire(import.meta.url);

/** Contents of the `.onnx.json` sidecar. */
export interface CenternetOnnxMeta {
  converterVersion: number;
  /** SHA-256 (hex) of the source model.json followed by its `.bin` shards. */
  sourceSha256: string;
  /** Size of the `.onnx` file, bytes. */
  bytes: number;
}

/** Result of {@link ensureCenternetOnnx}. */
export interface CenternetOnnxFile {
  /** Path of the up-to-date `.onnx`, or `null` when it could not be written (then use {@link bytes}). */
  path: string | null;
  /** The model's bytes, set when it was converted by this call. */
  bytes?: Uint8Array;
  /** True if this call converted the model. */
  converted: boolean;
}

/** Options of {@link ensureCenternetOnnx}. */
export interface EnsureCenternetOnnxOptions {
  /** Where to keep the `.onnx`; default {@link centernetOnnxPath}. */
  path?: string;
  /** Convert even if the cached copy looks current; default false. */
  force?: boolean;
}

/** Default cache path: `<node_modules>/.cache/vigil/centernet.onnx`. */
export function centernetOnnxPath(): string {
  const humanEntry = require.resolve('@vladmandic/human');
  const parts = humanEntry.split(path.sep);
  const nm = parts.lastIndexOf('node_modules');
  const nodeModules = nm >= 0 ? parts.slice(0, nm + 1).join(path.sep) : path.join(process.cwd(), 'node_modules');
  return path.join(nodeModules, '.cache', 'vigil', 'centernet.onnx');
}

/**
 * SHA-256 (hex) of the source model: model.json's bytes followed by its weight shards' bytes
 * (the same digest `readTfjsGraphModel` computes).
 * @throws Error if a file cannot be read.
 */
export async function centernetSourceSha256(modelJson = centernetModelJsonPath()): Promise<string> {
  const jsonBytes = await readFile(modelJson);
  const json = JSON.parse(jsonBytes.toString('utf8')) as { weightsManifest?: Array<{ paths: string[] }> };
  const hash = createHash('sha256').update(jsonBytes);
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) hash.update(await readFile(path.join(path.dirname(modelJson), p)));
  }
  return hash.digest('hex');
}

/** Reads the sidecar if it describes an existing `.onnx` of the recorded size; else null. */
export async function readCenternetOnnxMeta(onnxPath = centernetOnnxPath()): Promise<CenternetOnnxMeta | null> {
  try {
    const meta = JSON.parse(await readFile(`${onnxPath}.json`, 'utf8')) as CenternetOnnxMeta;
    const st = await stat(onnxPath);
    if (st.size !== meta.bytes) return null;
    return meta;
  } catch {
    return null;
  }
}

/**
 * Makes sure an up-to-date converted CenterNet exists (see the file header) and says where.
 * When the cache cannot be written (read-only `node_modules`), returns the converted bytes
 * with `path: null` instead of failing.
 * @throws Error if the source model cannot be read or converted.
 */
export async function ensureCenternetOnnx(opts: EnsureCenternetOnnxOptions = {}): Promise<CenternetOnnxFile> {
  const file = opts.path ?? centernetOnnxPath();
  if (!opts.force) {
    const [meta, source] = await Promise.all([readCenternetOnnxMeta(file), centernetSourceSha256()]);
    if (meta && meta.converterVersion === CONVERTER_VERSION && meta.sourceSha256 === source) return { path: file, converted: false };
  }
  const converted = await convertCenternet();
  const meta: CenternetOnnxMeta = { converterVersion: converted.converterVersion, sourceSha256: converted.sourceSha256, bytes: converted.onnx.length };
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeAtomic(file, converted.onnx);
    await writeAtomic(`${file}.json`, Buffer.from(JSON.stringify(meta, null, 2) + '\n'));
    return { path: file, bytes: converted.onnx, converted: true };
  } catch {
    return { path: null, bytes: converted.onnx, converted: true };
  }
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
