/**
 * Converts the COCO CenterNet object detector that `@vladmandic/human` ships
 * (`models/centernet.json` + `centernet.bin`, a TensorFlow.js graph model) to ONNX, so it
 * can run on onnxruntime-node. Pure TypeScript: no Python, no tf2onnx.
 *
 * **Where the weights come from.** The model is MB3-CenterNet by 610265158
 * (https://github.com/610265158/mobilenetv3_centernet): CenterNet ("Objects as Points",
 * Zhou et al. 2019) with a MobileNetV3-large backbone, trained on MS COCO (80 classes),
 * 512×512 input. Vladimir Mandic converted it to a TF.js graph model with float16-quantized
 * weights and ships it in the `@vladmandic/human` npm package (MIT licence), from which this
 * converter reads it (`node_modules/@vladmandic/human/models/`); nothing is downloaded.
 * Licence: human's package is MIT; the upstream repository publishes no licence file (its
 * issue #10, "Missing license file", is open); its README names Google's MobileNetV3-large
 * ImageNet checkpoint (tensorflow/models, Apache-2.0) as the pretrained backbone. So the
 * weights' terms are not stated by their author: we rely on human's redistribution of them.
 *
 * **What the ONNX graph is.** Opset 14, NCHW, float32:
 * - input `images`: `[1, 3, height, width]`, RGB, 0–255, not normalised (human feeds the
 *   graph the frame resized to 512×512 with TF's bilinear resize, cast to float, nothing
 *   else). `height`/`width` are dynamic and must be multiples of 32 (e.g. 320, 416, 512).
 * - output `peaks`: `[1, 80, height/4, width/4]`: the sigmoid class heatmap
 *   (`tower_0/keypoints`) with every value that is not the maximum of its 3×3 neighbourhood
 *   set to 0 (the graph's own `MaxPool` → `Equal` → `Cast` → `Mul` peak mask).
 * - output `wh`: `[1, 4, height/4, width/4]`: per cell, the distances in input px from the
 *   cell centre (`4·x`, `4·y`) to the box's left, top, right and bottom (`tower_0/wh`).
 *
 * The graph is cut there: its TopK/Gather tail hard-codes the 128×128 heatmap, so the top-100
 * selection, box decoding, NMS and label mapping are done in TypeScript
 * (`centernet-decode.ts`), exactly as human's `src/object/centernet.ts` does.
 *
 * Op mapping (TF → ONNX): `_FusedConv2D`/`Conv2D` → `Conv` (HWIO → OIHW filters; fused
 * `BiasAdd` → Conv bias, fused `Relu` → `Relu`); `(Fused)DepthwiseConv2dNative` → grouped
 * `Conv` (`[h, w, c, m]` → `[c·m, 1, h, w]`, `group = c`); `SAME` padding → explicit pads
 * (`k − s` split begin ≤ end, TF's rule for sizes divisible by the stride); `Relu6` →
 * `Clip(0, 6)`; `Mean` over H, W with `keep_dims` → `GlobalAveragePool`; `ResizeBilinear`
 * (`align_corners = half_pixel_centers = false`) to a constant size that is twice its
 * input → `Resize` linear, `asymmetric`, scales `[1, 1, 2, 2]` (so every input size works);
 * `ConcatV2` on channels → `Concat` axis 1; MobileNetV3's hard-swish
 * (`Mul(Mul(c, x), Relu6(Add(x, 3)))`) → `Mul(HardSwish(x), 6c)` (~20 % faster on
 * onnxruntime, same values up to float32 rounding); other `Mul`/`Add` with scalar constants
 * → the same op with a scalar initializer; `Sigmoid`, `Relu`, `Identity` as is. Weights are
 * the float16 values dequantized to float32, as TF.js does.
 *
 * CLI: `npx tsx components/detector/onnx/convert-centernet.ts <out.onnx>` writes the model;
 * `… --cache [--force]` (re)writes the cached copy the loader uses when it is missing or
 * stale (always with `--force`; see `centernet-onnx-cache.ts`).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OnnxGraphBuilder, OnnxType, type OnnxAttr } from './onnx-builder.ts';
import { readTfjsGraphModel, type TfAttr, type TfGraphModel, type TfNode, type TfWeight } from './tfjs-graph.ts';

const require = createRequire(import.meta.url);

/**
 * Version of this converter's output. Bump it whenever the ONNX it writes changes, so cached
 * copies are re-converted.
 */
export const CONVERTER_VERSION = 2;

/** ONNX opset the converter writes. */
export const CENTERNET_OPSET = 14;

/** Stride of the heatmap relative to the input, px (tower_0/mul_3…6 in the TF graph). */
export const CENTERNET_STRIDE = 4;

/** Number of classes in the heatmap (COCO). */
export const CENTERNET_CLASSES = 80;

export { CENTERNET_SIZE_MULTIPLE } from './frame-checks.ts';

/** Path of human's `models/centernet.json` in `node_modules`. */
export function centernetModelJsonPath(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models', 'centernet.json');
}

/** Result of {@link convertCenternet}. */
export interface ConvertedCenternet {
  /** The `.onnx` file's bytes (~8 MB: float32 weights). Same source → same bytes. */
  onnx: Uint8Array;
  /** SHA-256 (hex) of the source model.json followed by its weight shards. */
  sourceSha256: string;
  /** {@link CONVERTER_VERSION} that wrote it. */
  converterVersion: number;
  /** Number of ONNX nodes. */
  nodes: number;
}

/** Options of {@link convertCenternet}. */
export interface ConvertCenternetOptions {
  /** The TF.js model.json to convert; default human's `models/centernet.json`. */
  modelJson?: string;
}

/** Name of the TF graph's input placeholder and the tensors the ONNX graph ends at. */
const TF_INPUT = 'tower_0/images';
const TF_HEATMAP = 'tower_0/keypoints';
const TF_WH = 'tower_0/wh';
/** Input size the TF graph was frozen for (used only to derive resize scales and pads). */
const TF_INPUT_SIZE = 512;

/**
 * Converts the CenterNet TF.js graph model to ONNX (see the file header for the graph).
 * @throws Error if the model cannot be read, or holds an op/attribute this converter does
 *   not map (the message names the node).
 */
export async function convertCenternet(opts: ConvertCenternetOptions = {}): Promise<ConvertedCenternet> {
  const model = await readTfjsGraphModel(opts.modelJson ?? centernetModelJsonPath());
  const conv = new Converter(model);
  const heatmap = conv.value(TF_HEATMAP);
  const wh = conv.value(TF_WH);
  const b = conv.builder;

  // Peak mask, as the TF graph's tail does: keep a heatmap value only where it equals its 3×3 max.
  const pooled = b.node('MaxPool', [heatmap], ['peaks/maxpool'], { kernel_shape: { ints: [3, 3] }, strides: { ints: [1, 1] }, pads: { ints: [1, 1, 1, 1] } })[0]!;
  const isPeak = b.node('Equal', [heatmap, pooled], ['peaks/equal'])[0]!;
  const mask = b.node('Cast', [isPeak], ['peaks/mask'], { to: { i: OnnxType.FLOAT } })[0]!;
  b.node('Mul', [heatmap, mask], ['peaks']);
  b.node('Identity', [wh], ['wh']);

  b.input('images', OnnxType.FLOAT, [1, 3, 'height', 'width']);
  b.output('peaks', OnnxType.FLOAT, [1, CENTERNET_CLASSES, 'height_div_4', 'width_div_4']);
  b.output('wh', OnnxType.FLOAT, [1, 4, 'height_div_4', 'width_div_4']);

  const onnx = b.encode({
    opset: CENTERNET_OPSET,
    producerName: 'vigil convert-centernet',
    producerVersion: String(CONVERTER_VERSION),
    docString:
      'MB3-CenterNet (https://github.com/610265158/mobilenetv3_centernet, COCO, 80 classes) converted from the TF.js graph model ' +
      'shipped by @vladmandic/human. Input images [1,3,H,W] RGB 0-255 float32, H and W multiples of 32. Outputs: peaks ' +
      '[1,80,H/4,W/4] (sigmoid heatmap, non-3x3-maxima zeroed), wh [1,4,H/4,W/4] (px to left/top/right/bottom from 4*(x,y)).',
    meta: {
      source: '@vladmandic/human models/centernet.json',
      source_sha256: model.sha256,
      source_generated_by: model.generatedBy ?? '',
      source_converted_by: model.convertedBy ?? '',
      converter_version: String(CONVERTER_VERSION),
      input_layout: 'NCHW RGB 0-255',
      stride: String(CENTERNET_STRIDE),
    },
  });
  return { onnx, sourceSha256: model.sha256, converterVersion: CONVERTER_VERSION, nodes: b.nodeCount };
}

/** Maps TF nodes to ONNX nodes on demand (depth-first from the outputs: topological order). */
class Converter {
  readonly builder = new OnnxGraphBuilder('centernet');
  /** TF tensor name → ONNX value name. */
  private readonly values = new Map<string, string>();
  /** TF tensor name → spatial size [h, w] at the 512 px input the graph was frozen for. */
  private readonly spatial = new Map<string, [number, number]>();
  private readonly visiting = new Set<string>();

  constructor(private readonly model: TfGraphModel) {}

  /** ONNX value of a TF tensor, converting its producers first. */
  value(tensor: string): string {
    const name = tensor.replace(/:0$/, '');
    const known = this.values.get(name);
    if (known) return known;
    if (name.includes(':')) throw new Error(`node output ${name} is not supported (only first outputs)`);
    const node = this.model.nodes.get(name);
    if (!node) throw new Error(`TF graph has no node ${name}`);
    if (this.visiting.has(name)) throw new Error(`TF graph has a cycle through ${name}`);
    this.visiting.add(name);
    const out = this.convert(node);
    this.visiting.delete(name);
    this.values.set(name, out);
    return out;
  }

  private weight(name: string, node: TfNode): TfWeight {
    const w = this.model.weights.get(name);
    if (!w) throw new Error(`${node.name} (${node.op}): input ${name} is not a constant`);
    return w;
  }

  private size(tensor: string): [number, number] {
    const s = this.spatial.get(tensor.replace(/:0$/, ''));
    if (!s) throw new Error(`no known spatial size for ${tensor}`);
    return s;
  }

  private convert(node: TfNode): string {
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^'));
    const b = this.builder;
    const out = node.name;
    switch (node.op) {
      case 'Placeholder': {
        if (node.name !== TF_INPUT) throw new Error(`unexpected graph input ${node.name}`);
        this.spatial.set(out, [TF_INPUT_SIZE, TF_INPUT_SIZE]);
        return 'images';
      }
      case 'Identity': {
        const v = this.value(inputs[0]!);
        this.spatial.set(out, this.size(inputs[0]!));
        return v;
      }
      case '_FusedConv2D':
      case 'Conv2D':
      case 'FusedDepthwiseConv2dNative':
      case 'DepthwiseConv2dNative':
        return this.conv(node, inputs);
      case 'Relu':
      case 'Sigmoid': {
        const x = this.value(inputs[0]!);
        this.spatial.set(out, this.size(inputs[0]!));
        return b.node(node.op, [x], [out])[0]!;
      }
      case 'Relu6': {
        const x = this.value(inputs[0]!);
        this.spatial.set(out, this.size(inputs[0]!));
        return b.node('Clip', [x, this.scalar('const/zero', 0), this.scalar('const/six', 6)], [out])[0]!;
      }
      case 'Mul':
        return this.hardSwish(node, inputs) ?? this.binary(node, inputs);
      case 'Add':
      case 'Sub':
        return this.binary(node, inputs);
      case 'Mean': {
        const axes = Array.from(this.weight(inputs[1]!, node).data);
        if (!attrBool(node, 'keep_dims') || axes.length !== 2 || axes[0] !== 1 || axes[1] !== 2) {
          throw new Error(`${node.name}: only Mean over axes [1, 2] with keep_dims is supported (got [${axes.join(',')}])`);
        }
        const x = this.value(inputs[0]!);
        this.spatial.set(out, [1, 1]);
        return b.node('GlobalAveragePool', [x], [out])[0]!;
      }
      case 'ResizeBilinear': {
        if (attrBool(node, 'align_corners') || attrBool(node, 'half_pixel_centers')) {
          throw new Error(`${node.name}: only align_corners = half_pixel_centers = false is supported`);
        }
        const x = this.value(inputs[0]!);
        const [h, w] = this.size(inputs[0]!);
        const target = Array.from(this.weight(inputs[1]!, node).data);
        const sy = target[0]! / h;
        const sx = target[1]! / w;
        if (!Number.isInteger(sy) || !Number.isInteger(sx) || sy < 1 || sx < 1) {
          throw new Error(`${node.name}: resize ${h}x${w} → ${target.join('x')} is not an integer upscale`);
        }
        this.spatial.set(out, [target[0]!, target[1]!]);
        const scales = this.floatConst(`${out}/scales`, [4], [1, 1, sy, sx]);
        return b.node('Resize', [x, '', scales], [out], {
          mode: { s: 'linear' },
          coordinate_transformation_mode: { s: 'asymmetric' },
        })[0]!;
      }
      case 'ConcatV2': {
        const axisName = inputs[inputs.length - 1]!;
        const axis = this.weight(axisName, node).data[0];
        if (axis !== 3 && axis !== -1) throw new Error(`${node.name}: only channel concat is supported (axis ${axis})`);
        const parts = inputs.slice(0, -1);
        const xs = parts.map((p) => this.value(p));
        this.spatial.set(out, this.size(parts[0]!));
        return b.node('Concat', xs, [out], { axis: { i: 1 } })[0]!;
      }
      default:
        throw new Error(`${node.name}: TF op ${node.op} is not supported by this converter`);
    }
  }

  private conv(node: TfNode, inputs: string[]): string {
    const depthwise = node.op.includes('Depthwise');
    const format = attrString(node, 'data_format') ?? 'NHWC';
    if (format !== 'NHWC') throw new Error(`${node.name}: data_format ${format} is not supported`);
    const strides = attrInts(node, 'strides') ?? [1, 1, 1, 1];
    const dilations = attrInts(node, 'dilations') ?? [1, 1, 1, 1];
    if (strides[0] !== 1 || strides[3] !== 1 || dilations.some((d) => d !== 1)) {
      throw new Error(`${node.name}: strides [${strides.join(',')}] / dilations [${dilations.join(',')}] are not supported`);
    }
    const padding = attrString(node, 'padding');
    const fused = (attrStrings(node, 'fused_ops') ?? []).slice();
    const filter = this.weight(inputs[1]!, node);
    if (filter.shape.length !== 4) throw new Error(`${node.name}: filter must be 4-D`);
    const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];

    const x = this.value(inputs[0]!);
    const [h, w] = this.size(inputs[0]!);
    const [sh, sw] = [strides[1]!, strides[2]!];
    let pads: number[];
    let oh: number;
    let ow: number;
    if (padding === 'SAME') {
      if (h % sh !== 0 || w % sw !== 0) throw new Error(`${node.name}: SAME padding on a size not divisible by the stride`);
      const ph = Math.max(kh - sh, 0);
      const pw = Math.max(kw - sw, 0);
      pads = [Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)];
      [oh, ow] = [h / sh, w / sw];
    } else if (padding === 'VALID') {
      pads = [0, 0, 0, 0];
      [oh, ow] = [Math.floor((h - kh) / sh) + 1, Math.floor((w - kw) / sw) + 1];
    } else {
      throw new Error(`${node.name}: padding ${String(padding)} is not supported`);
    }

    let weights: Float32Array;
    let dims: number[];
    let group = 1;
    const src = filter.data as Float32Array;
    if (depthwise) {
      // TF [kh, kw, c, m] → ONNX [c·m, 1, kh, kw]; output channel c·m + j as in TF.
      const mult = cout;
      weights = new Float32Array(src.length);
      for (let c = 0; c < cin; c++)
        for (let j = 0; j < mult; j++)
          for (let y = 0; y < kh; y++)
            for (let xx = 0; xx < kw; xx++) weights[((c * mult + j) * kh + y) * kw + xx] = src[((y * kw + xx) * cin + c) * mult + j]!;
      dims = [cin * mult, 1, kh, kw];
      group = cin;
    } else {
      // TF HWIO → ONNX OIHW.
      weights = new Float32Array(src.length);
      for (let o = 0; o < cout; o++)
        for (let i = 0; i < cin; i++)
          for (let y = 0; y < kh; y++)
            for (let xx = 0; xx < kw; xx++) weights[((o * cin + i) * kh + y) * kw + xx] = src[((y * kw + xx) * cin + i) * cout + o]!;
      dims = [cout, cin, kh, kw];
    }
    const convInputs = [x, this.builder.floatInitializer(`${node.name}/W`, dims, weights)];

    const isFused = node.op.startsWith('_Fused') || node.op.startsWith('Fused');
    if (isFused) {
      if (fused[0] !== 'BiasAdd' || inputs.length !== 3) {
        throw new Error(`${node.name}: fused ops [${fused.join(',')}] are not supported (need BiasAdd first)`);
      }
      fused.shift();
      const bias = this.weight(inputs[2]!, node);
      convInputs.push(this.builder.floatInitializer(`${node.name}/B`, [bias.data.length], bias.data));
    } else if (inputs.length !== 2) {
      throw new Error(`${node.name}: unexpected inputs for ${node.op}`);
    }
    const attrs: Record<string, OnnxAttr> = {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [sh, sw] },
      pads: { ints: pads },
      dilations: { ints: [1, 1] },
      group: { i: group },
    };
    const out = node.name;
    this.spatial.set(out, [oh, ow]);
    if (fused.length === 0) return this.builder.node('Conv', convInputs, [out], attrs)[0]!;
    if (fused.length > 1) throw new Error(`${node.name}: fused ops [${fused.join(',')}] are not supported`);
    const pre = this.builder.node('Conv', convInputs, [`${out}/conv`], attrs)[0]!;
    if (fused[0] === 'Relu') return this.builder.node('Relu', [pre], [out])[0]!;
    if (fused[0] === 'Relu6') return this.builder.node('Clip', [pre, this.scalar('const/zero', 0), this.scalar('const/six', 6)], [out])[0]!;
    throw new Error(`${node.name}: fused activation ${fused[0]} is not supported`);
  }

  /**
   * MobileNetV3's hard-swish as frozen by TF: `Mul(Mul(c, x), Relu6(Add(x, 3)))` with
   * c = 1/6 rounded to float16 (0.1666259765625). Emitted as `Mul(HardSwish(x), 6c)`:
   * HardSwish(x) = x · clip(x/6 + 0.5, 0, 1), so 6c · HardSwish(x) = c · x · clip(x + 3, 0, 6)
   * up to float32 rounding; two element-wise passes instead of four.
   * @returns the output, or undefined if `node` is not that pattern.
   */
  private hardSwish(node: TfNode, inputs: string[]): string | undefined {
    const nodes = inputs.map((i) => this.model.nodes.get(i.replace(/:0$/, '')));
    const scaled = nodes.find((n) => n?.op === 'Mul');
    const relu6 = nodes.find((n) => n?.op === 'Relu6');
    if (!scaled || !relu6 || inputs.length !== 2) return undefined;
    const add = this.model.nodes.get((relu6.input?.[0] ?? '').replace(/:0$/, ''));
    if (add?.op !== 'Add' || add.input?.length !== 2 || scaled.input?.length !== 2) return undefined;
    const constOf = (names: string[]): { c: number; x: string } | undefined => {
      const [a, b] = names.map((n) => n.replace(/:0$/, ''));
      const wa = this.model.weights.get(a!);
      const wb = this.model.weights.get(b!);
      if (wa && !wb && wa.data.length === 1) return { c: wa.data[0]!, x: b! };
      if (wb && !wa && wb.data.length === 1) return { c: wb.data[0]!, x: a! };
      return undefined;
    };
    const mul = constOf(scaled.input);
    const plus = constOf(add.input);
    if (!mul || !plus || plus.c !== 3 || mul.x !== plus.x || Math.abs(mul.c - 1 / 6) > 1e-3) return undefined;
    const x = this.value(mul.x);
    this.spatial.set(node.name, this.size(mul.x));
    const hs = this.builder.node('HardSwish', [x], [`${node.name}/hardswish`])[0]!;
    return this.builder.node('Mul', [hs, this.scalar(`${node.name}/scale`, 6 * mul.c)], [node.name])[0]!;
  }

  private binary(node: TfNode, inputs: string[]): string {
    if (inputs.length !== 2) throw new Error(`${node.name}: ${node.op} needs 2 inputs`);
    const operands = inputs.map((name) => {
      const w = this.model.weights.get(name.replace(/:0$/, ''));
      if (!w) return { value: this.value(name), size: this.size(name) };
      if (w.dtype !== 'float32') throw new Error(`${node.name}: non-float constant ${name}`);
      if (w.data.length === 1) return { value: this.floatConst(name, [], [w.data[0]!]), size: null };
      if (w.shape.length === 1) return { value: this.floatConst(name, [w.data.length, 1, 1], Array.from(w.data)), size: null }; // per-channel
      throw new Error(`${node.name}: constant operand of shape [${w.shape.join(',')}] is not supported`);
    });
    // Broadcast: the larger spatial size wins (squeeze-excite multiplies [1, 1] by [h, w]).
    const sizes = operands.flatMap((o) => (o.size ? [o.size] : []));
    if (sizes.length === 0) throw new Error(`${node.name}: both operands are constants`);
    const size = sizes.reduce((a, s) => (s[0] * s[1] > a[0] * a[1] ? s : a));
    this.spatial.set(node.name, size);
    return this.builder.node(node.op, operands.map((o) => o.value), [node.name])[0]!;
  }

  private floatConst(name: string, dims: number[], data: number[]): string {
    if (this.builder.hasInitializer(name)) return name;
    return this.builder.floatInitializer(name, dims, data);
  }

  private scalar(name: string, v: number): string {
    return this.floatConst(name, [], [v]);
  }
}

function attrBool(node: TfNode, key: string): boolean {
  return node.attr?.[key]?.b === true;
}

function decode(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

function attrString(node: TfNode, key: string): string | undefined {
  const a: TfAttr | undefined = node.attr?.[key];
  return a?.s !== undefined ? decode(a.s) : undefined;
}

function attrStrings(node: TfNode, key: string): string[] | undefined {
  return node.attr?.[key]?.list?.s?.map(decode);
}

function attrInts(node: TfNode, key: string): number[] | undefined {
  return node.attr?.[key]?.list?.i?.map(Number);
}

async function cli(argv: string[]): Promise<void> {
  const { writeFile, mkdir } = await import('node:fs/promises');
  if (argv[0] === '--cache') {
    const { ensureCenternetOnnx } = await import('./centernet-onnx-cache.ts');
    const r = await ensureCenternetOnnx({ force: argv.includes('--force') });
    if (!r.path) throw new Error('cannot write the cached model (node_modules/.cache not writable?)');
    console.log(r.converted ? `converted CenterNet to ${r.path}` : `CenterNet ONNX is up to date: ${r.path}`);
    return;
  }
  const out = argv[0];
  if (!out || out.startsWith('-')) {
    console.error('usage: npx tsx components/detector/onnx/convert-centernet.ts <out.onnx> | --cache [--force]');
    process.exitCode = 2;
    return;
  }
  const t0 = performance.now();
  const r = await convertCenternet();
  await mkdir(path.dirname(path.resolve(out)), { recursive: true });
  await writeFile(out, r.onnx);
  console.log(
    `wrote ${out}: ${(r.onnx.length / 1024 / 1024).toFixed(1)} MB, ${r.nodes} nodes, source sha256 ${r.sourceSha256.slice(0, 16)}…, ` +
      `${Math.round(performance.now() - t0)} ms`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`convert-centernet failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
