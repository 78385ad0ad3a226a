/**
 * Reads a TensorFlow.js *graph model* (`model.json` + its `.bin` weight shards) into plain
 * typed arrays, without TensorFlow.js: the graph's nodes as JSON and every weight decoded
 * to `float32` / `int32`.
 *
 * Format: https://www.tensorflow.org/js/guide/save_load (`format: "graph-model"`): the
 * `modelTopology` is a TensorFlow `GraphDef` in protobuf-JSON form; `weightsManifest`
 * lists the weights in the order their bytes follow each other across the shards. A weight
 * with `quantization: { dtype: 'float16' }` is stored as IEEE 754 half floats;
 * `uint8`/`uint16` quantization stores `round((v - min) / scale)` (dequantized as
 * `q * scale + min`, as tfjs-converter's `decodeWeights` does).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** One node of the graph (TensorFlow `NodeDef` as protobuf-JSON). */
export interface TfNode {
  name: string;
  op: string;
  /** Input tensor names: `node`, `node:1` (second output), `^node` (control dependency). */
  input?: string[];
  /** Attributes, protobuf-JSON (`s` values are base64). */
  attr?: Record<string, TfAttr>;
}

/** A `NodeDef` attribute value (only the shapes read by the converter). */
export interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: Array<string | number>; f?: number[] };
  shape?: { dim?: Array<{ size?: string | number }> };
}

/** A decoded weight. */
export interface TfWeight {
  name: string;
  /** Shape as stored by TensorFlow (NHWC layouts, HWIO conv filters). */
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** A TensorFlow.js graph model read from disk. */
export interface TfGraphModel {
  /** Nodes by name (`Const` nodes included; their values are in {@link weights}). */
  nodes: Map<string, TfNode>;
  /** Node names in file order. */
  order: string[];
  /** Decoded weights by name. */
  weights: Map<string, TfWeight>;
  /** `signature` of model.json (input/output names and shapes), if present. */
  signature: unknown;
  /** Lower-case hex SHA-256 over model.json's bytes followed by every shard's bytes. */
  sha256: string;
  /** `generatedBy` / `convertedBy` fields of model.json. */
  generatedBy?: string;
  convertedBy?: string;
}

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  modelTopology?: { node?: TfNode[] };
  weightsManifest?: Array<{ paths: string[]; weights: ManifestWeight[] }>;
}

/** Converts one IEEE 754 binary16 value (as its 16 bits) to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Reads a TF.js graph model.
 * @param modelJsonPath path of `model.json`; shards are read from its folder.
 * @throws Error if a file cannot be read, the JSON is not a graph model, a weight has an
 *   unsupported dtype/quantization, or the shards are shorter/longer than the manifest says.
 */
export async function readTfjsGraphModel(modelJsonPath: string): Promise<TfGraphModel> {
  const jsonBytes = await readFile(modelJsonPath);
  let json: ModelJson;
  try {
    json = JSON.parse(jsonBytes.toString('utf8')) as ModelJson;
  } catch (err) {
    throw new Error(`${modelJsonPath} is not JSON: ${(err as Error).message}`);
  }
  const nodeList = json.modelTopology?.node;
  if (json.format !== 'graph-model' || !Array.isArray(nodeList) || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${modelJsonPath} is not a TensorFlow.js graph model (format: ${String(json.format)})`);
  }
  const hash = createHash('sha256').update(jsonBytes);
  const dir = path.dirname(modelJsonPath);
  const weights = new Map<string, TfWeight>();
  for (const group of json.weightsManifest) {
    const shards: Buffer[] = [];
    for (const p of group.paths) shards.push(await readFile(path.join(dir, p)));
    for (const s of shards) hash.update(s);
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const spec of group.weights) {
      const { weight, size } = decodeWeight(spec, bytes, offset);
      weights.set(spec.name, weight);
      offset += size;
    }
    if (offset !== bytes.length) {
      throw new Error(`weights of ${modelJsonPath} take ${offset} bytes but its shards hold ${bytes.length}`);
    }
  }
  const nodes = new Map<string, TfNode>();
  for (const n of nodeList) nodes.set(n.name, n);
  return {
    nodes,
    order: nodeList.map((n) => n.name),
    weights,
    signature: json.signature,
    sha256: hash.digest('hex'),
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  };
}

function decodeWeight(spec: ManifestWeight, bytes: Buffer, offset: number): { weight: TfWeight; size: number } {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const need = (n: number): void => {
    if (offset + n > bytes.length) throw new Error(`weight ${spec.name} runs past the end of its shards`);
  };
  const q = spec.quantization;
  if (spec.dtype === 'float32' && !q) {
    need(count * 4);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(offset + i * 4);
    return { weight: { name: spec.name, shape: spec.shape, dtype: 'float32', data }, size: count * 4 };
  }
  if (spec.dtype === 'int32' && !q) {
    need(count * 4);
    const data = new Int32Array(count);
    for (let i = 0; i < count; i++) data[i] = bytes.readInt32LE(offset + i * 4);
    return { weight: { name: spec.name, shape: spec.shape, dtype: 'int32', data }, size: count * 4 };
  }
  if (spec.dtype === 'float32' && q?.dtype === 'float16') {
    need(count * 2);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = halfToFloat(bytes.readUInt16LE(offset + i * 2));
    return { weight: { name: spec.name, shape: spec.shape, dtype: 'float32', data }, size: count * 2 };
  }
  if (spec.dtype === 'float32' && (q?.dtype === 'uint8' || q?.dtype === 'uint16') && q.scale !== undefined && q.min !== undefined) {
    const width = q.dtype === 'uint8' ? 1 : 2;
    need(count * width);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = width === 1 ? bytes[offset + i]! : bytes.readUInt16LE(offset + i * 2);
      data[i] = v * q.scale + q.min;
    }
    return { weight: { name: spec.name, shape: spec.shape, dtype: 'float32', data }, size: count * width };
  }
  throw new Error(`weight ${spec.name}: unsupported dtype ${spec.dtype} / quantization ${JSON.stringify(q ?? null)}`);
}
