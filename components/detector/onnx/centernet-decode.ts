/**
 * Turns the ONNX CenterNet's outputs (`peaks`, `wh`; see `convert-centernet.ts`) into
 * detections, reproducing what `@vladmandic/human` does with the TF.js graph's tail and in
 * its `src/object/centernet.ts`:
 * 1. the graph's `TopKV2` (k = 100) over the peak-masked heatmap flattened in NHWC order
 *    (index = cell · 80 + class; ties: lower index first);
 * 2. the graph's box decode: cell (x, y), `x1 = 4x − wh₀`, `y1 = 4y − wh₁`, `x2 = 4x + wh₂`,
 *    `y2 = 4y + wh₃` in input px, float32 arithmetic;
 * 3. human's class-agnostic NMS: `tf.image.nonMaxSuppressionAsync(boxes, scores, maxDetected,
 *    iouThreshold, minScore)` — TF.js's greedy `nonMaxSuppressionV3Impl`: candidates with
 *    score > `minScore`, by score descending (ties: lower index first), a candidate is
 *    dropped when its IoU with an already selected box is ≥ `iouThreshold`;
 * 4. human's result mapping: score truncated to 2 decimals (`Math.trunc(100·s) / 100`), label
 *    `labels[class]`, `boxRaw` = box / model input size;
 * 5. Vigil's `model.ts` mapping of `boxRaw` to integer px of the frame (rounded, clamped;
 *    empty boxes dropped).
 * Only candidates with a score > `minScore` can survive step 3, so step 1 keeps just those
 * (then the 100 best), which selects the same boxes without sorting every heatmap cell.
 */
import type { Box } from '../../protocol/tracked-object.ts';
import type { RawDetection } from '../types.ts';

/**
 * The 80 COCO labels in the model's class order (class index 0 = `person`), as listed in
 * `@vladmandic/human` `src/object/labels.ts`.
 */
export const COCO_LABELS: readonly string[] = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

/** Candidates the TF graph keeps before NMS (`tower_0/TopKV2/k`). */
export const CENTERNET_TOP_K = 100;

/** Options of {@link decodeCenternet}. */
export interface CenternetDecodeOptions {
  /** Keep scores > this, 0–1 (human's `object.minConfidence`). */
  minScore: number;
  /** At most this many detections (human's `object.maxDetected`). */
  maxDetected: number;
  /** NMS drops a box whose IoU with a kept one is ≥ this, 0–1 (human's `object.iouThreshold`). */
  iouThreshold: number;
}

/** Shapes of one inference: the model's outputs and the frame they map back to. */
export interface CenternetOutputs {
  /** `[80, gridH, gridW]` peak-masked heatmap, 0–1 (the batch dim dropped). */
  peaks: Float32Array;
  /** `[4, gridH, gridW]` distances, input px. */
  wh: Float32Array;
  gridW: number;
  gridH: number;
  /** Model input size, px. */
  inputW: number;
  inputH: number;
  /** Heatmap stride, px (4). */
  stride: number;
  /** Size of the frame the boxes are mapped to, px. */
  frameW: number;
  frameH: number;
}

const f32 = Math.fround;

/**
 * Decodes one inference (see the file header for the exact steps and their sources).
 * @returns detections in NMS selection order (best first): COCO label, score 0–1 (2 decimals),
 *   box `[x_min, y_min, x_max, y_max]` in integer px of the frame, clamped to it.
 * @throws RangeError if the output arrays do not match the grid size.
 */
export function decodeCenternet(o: CenternetOutputs, opts: CenternetDecodeOptions): RawDetection[] {
  const cells = o.gridW * o.gridH;
  const classes = COCO_LABELS.length;
  if (o.peaks.length !== classes * cells) throw new RangeError(`peaks has ${o.peaks.length} values, expected ${classes * cells}`);
  if (o.wh.length !== 4 * cells) throw new RangeError(`wh has ${o.wh.length} values, expected ${4 * cells}`);

  // 1. Top-k candidates above the score threshold, NHWC flat index for tie order.
  const scores: number[] = [];
  const flat: number[] = [];
  const { peaks } = o;
  const thr = opts.minScore;
  for (let c = 0; c < classes; c++) {
    const base = c * cells;
    for (let p = 0; p < cells; p++) {
      const v = peaks[base + p]!;
      if (v > thr) {
        scores.push(v);
        flat.push(p * classes + c);
      }
    }
  }
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || flat[a]! - flat[b]!);
  const top = order.slice(0, CENTERNET_TOP_K);

  // 2. Box decode in input px (float32, as the graph computes it).
  const n = top.length;
  const boxes = new Float32Array(n * 4); // x1, y1, x2, y2
  const candScore = new Float32Array(n);
  const candClass = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = top[i]!;
    const idx = flat[k]!;
    const cls = idx % classes;
    const p = (idx - cls) / classes;
    const x = p % o.gridW;
    const y = (p - x) / o.gridW;
    const cx = f32(x * o.stride);
    const cy = f32(y * o.stride);
    boxes[i * 4] = f32(cx - o.wh[p]!);
    boxes[i * 4 + 1] = f32(cy - o.wh[cells + p]!);
    boxes[i * 4 + 2] = f32(cx + o.wh[2 * cells + p]!);
    boxes[i * 4 + 3] = f32(cy + o.wh[3 * cells + p]!);
    candScore[i] = scores[k]!;
    candClass[i] = cls;
  }

  // 3. Greedy NMS (candidates are already in score order, ties by index).
  const selected: number[] = [];
  for (let i = 0; i < n && selected.length < opts.maxDetected; i++) {
    if (!(candScore[i]! > thr)) continue;
    let keep = true;
    for (let j = selected.length - 1; j >= 0; j--) {
      if (iou(boxes, i, selected[j]!) >= opts.iouThreshold) {
        keep = false;
        break;
      }
    }
    if (keep) selected.push(i);
  }

  // 4–5. human's result mapping, then model.ts's px mapping.
  const out: RawDetection[] = [];
  for (const i of selected) {
    const x = boxes[i * 4]! / o.inputW;
    const y = boxes[i * 4 + 1]! / o.inputH;
    const w = boxes[i * 4 + 2]! / o.inputW - x;
    const h = boxes[i * 4 + 3]! / o.inputH - y;
    const box: Box = [
      clamp(Math.round(x * o.frameW), 0, o.frameW),
      clamp(Math.round(y * o.frameH), 0, o.frameH),
      clamp(Math.round((x + w) * o.frameW), 0, o.frameW),
      clamp(Math.round((y + h) * o.frameH), 0, o.frameH),
    ];
    if (box[2] <= box[0] || box[3] <= box[1]) continue;
    out.push({ label: COCO_LABELS[candClass[i]!]!, score: Math.trunc(100 * candScore[i]!) / 100, box });
  }
  return out;
}

/** IoU of boxes i and j (x1, y1, x2, y2), as TF.js's `intersectionOverUnion` computes it. */
function iou(b: Float32Array, i: number, j: number): number {
  const yminI = Math.min(b[i * 4 + 1]!, b[i * 4 + 3]!);
  const xminI = Math.min(b[i * 4]!, b[i * 4 + 2]!);
  const ymaxI = Math.max(b[i * 4 + 1]!, b[i * 4 + 3]!);
  const xmaxI = Math.max(b[i * 4]!, b[i * 4 + 2]!);
  const yminJ = Math.min(b[j * 4 + 1]!, b[j * 4 + 3]!);
  const xminJ = Math.min(b[j * 4]!, b[j * 4 + 2]!);
  const ymaxJ = Math.max(b[j * 4 + 1]!, b[j * 4 + 3]!);
  const xmaxJ = Math.max(b[j * 4]!, b[j * 4 + 2]!);
  const areaI = (ymaxI - yminI) * (xmaxI - xminI);
  const areaJ = (ymaxJ - yminJ) * (xmaxJ - xminJ);
  if (areaI <= 0 || areaJ <= 0) return 0;
  const ih = Math.max(Math.min(ymaxI, ymaxJ) - Math.max(yminI, yminJ), 0);
  const iw = Math.max(Math.min(xmaxI, xmaxJ) - Math.max(xminI, xminJ), 0);
  const inter = ih * iw;
  return inter / (areaI + areaJ - inter);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
