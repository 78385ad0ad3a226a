/**
 * One detect frame through the object model: decode the JPEG once, then either
 *
 * - `regions` (default, Frigate's way): detect inside square regions around tracked
 *   objects and motion boxes ({@link frameRegions}), each cropped from the frame and
 *   scaled to the model's region size; detections a region cut at an inner edge get one
 *   more look in a region centred on them (at most {@link MAX_REFINES} per frame, Frigate's
 *   `process_frames` refining); then NMS and consolidation across regions
 *   ({@link reduceDetections}). No tracked object and no motion: no inference at all.
 * - `full_frame` (Vigil's earlier path): the whole frame stretched to the full-frame size.
 */
import sharp from 'sharp';
import type { Box } from '../protocol/tracked-object.ts';
import type { ObjectRuntime } from './object-runtime.ts';
import { calculateRegion, clippedBy, frameRegions, reduceDetections, REGION_MULTIPLIER, type FrameSize, type Region } from './regions.ts';
import type { RawDetection } from './types.ts';

/** Most extra regions per frame for objects cut by their region. */
export const MAX_REFINES = 2;
/** A cut detection below this score gets no second look (0–1). */
const REFINE_MIN_SCORE = 0.4;

/** What to detect in one frame. */
export interface FrameJob {
  jpeg: Buffer;
  mode: 'regions' | 'full_frame';
  /** Boxes of the objects tracked on this camera, px of the frame. */
  tracked: Box[];
  /** Motion boxes of this frame, px. */
  motion: Box[];
  /** Labels the camera tracks (only these get a second look when cut). */
  labels: string[];
}

/** What came out. Times in ms. */
export interface FrameDetections {
  detections: RawDetection[];
  width: number;
  height: number;
  /** Regions inferred (the full frame counts as one). */
  regions: Region[];
  inferences: number;
  /** Sum of model times. */
  inferenceMs: number;
  decodeMs: number;
}

/**
 * Detects objects in one frame with `runtime`.
 * @throws Error when the JPEG cannot be decoded or the model fails
 */
export async function detectFrame(runtime: ObjectRuntime, job: FrameJob): Promise<FrameDetections> {
  const t0 = performance.now();
  const { data, info } = await sharp(job.jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels, expected 3`);
  const frame: FrameSize = { width: info.width, height: info.height };
  const decodeMs = performance.now() - t0;
  const out: FrameDetections = { detections: [], width: frame.width, height: frame.height, regions: [], inferences: 0, inferenceMs: 0, decodeMs };

  if (job.mode === 'full_frame') {
    const r = await runtime.detect(data, frame.width, frame.height, 'full');
    out.detections = r.detections;
    out.regions = [[0, 0, frame.width, frame.height]];
    out.inferences = 1;
    out.inferenceMs = r.ms;
    return out;
  }

  const regions = frameRegions(frame, job.tracked, job.motion, runtime.regionSize);
  const found: Array<RawDetection & { clipped: boolean }> = [];
  const run = async (region: Region): Promise<Array<RawDetection & { clipped: boolean }>> => {
    const side = region[2] - region[0];
    const crop = cropRgb(data, frame.width, region);
    const r = await runtime.detect(crop, side, region[3] - region[1], 'region');
    out.inferences++;
    out.inferenceMs += r.ms;
    out.regions.push(region);
    return r.detections.map((d) => {
      const box: Box = [d.box[0] + region[0], d.box[1] + region[1], d.box[2] + region[0], d.box[3] + region[1]];
      return { label: d.label, score: d.score, box, clipped: clippedBy(box, region, frame) };
    });
  };
  for (const batch of await Promise.all(regions.map(run))) found.push(...batch);

  // A second look at objects cut by their region, in a region centred on them.
  const refine = found
    .filter((d) => d.clipped && d.score >= REFINE_MIN_SCORE && job.labels.includes(d.label))
    .sort((a, b) => b.score - a.score)
    .slice(0, MAX_REFINES)
    .map((d) => calculateRegion(frame, d.box, runtime.regionSize, REGION_MULTIPLIER))
    .filter((r) => !out.regions.some((done) => done.every((v, i) => v === r[i])));
  for (const batch of await Promise.all(refine.map(run))) found.push(...batch);

  out.detections = reduceDetections(found);
  return out;
}

/**
 * Copies `region` out of a packed RGB24 frame `width` px wide (rows copied whole).
 * @returns a new buffer of `(x2 - x1) * (y2 - y1) * 3` bytes
 */
export function cropRgb(rgb: Buffer, width: number, region: Region): Buffer {
  const [x1, y1, x2, y2] = region;
  const w = x2 - x1;
  const out = Buffer.allocUnsafe(w * (y2 - y1) * 3);
  for (let y = y1; y < y2; y++) rgb.copy(out, (y - y1) * w * 3, (y * width + x1) * 3, (y * width + x2) * 3);
  return out;
}
