/**
 * One detect frame through the object model: decode the JPEG once, then either
 *
 * - `regions` (Frigate's way): detect inside square regions around moving tracked objects
 *   and motion boxes ({@link frameRegions}), each cropped from the frame and scaled to the
 *   model's region size; detections a region cut at an inner edge get one more look in a
 *   region centred on them (at most {@link MAX_REFINES} per frame, Frigate's
 *   `process_frames` refining); then NMS and consolidation across regions
 *   ({@link reduceDetections}). No moving tracked object and no motion: no inference at all.
 *   Stationary objects get no region unless motion touches them (Frigate's
 *   `stationary_object_ids`); they are confirmed by the scans.
 *   The regions never cost more than {@link FrameJob.maxCost} full-frame passes (model input
 *   pixels, {@link ObjectRuntime.inputPixels}: a region costs 320², a 640×480 frame 512×384): a busier frame
 *   (a crowd, foliage in the wind) is inferred whole instead.
 * - `full_frame`: the whole frame stretched to the full-frame size.
 *
 * A `scan` frame is inferred whole in either mode (the detector scans each camera's first
 * frame and then one every `detect.interval_without_motion` s: Frigate's start-up scan,
 * which finds what never moved — a parked car).
 */
import sharp from 'sharp';
import type { Box } from '../protocol/tracked-object.ts';
import type { ObjectRuntime } from './object-runtime.ts';
import { calculateRegion, clippedBy, frameRegions, intersection, reduceDetections, REGION_MULTIPLIER, type FrameSize, type Region } from './regions.ts';
import type { RawDetection } from './types.ts';

/** Most extra regions per frame for objects cut by their region. */
export const MAX_REFINES = 2;
/** A cut detection below this score gets no second look (0–1). */
const REFINE_MIN_SCORE = 0.4;

/** A tracked object as the region planner sees it. */
export interface TrackedBox {
  /** Latest box, px of the frame. */
  box: Box;
  /** Kept still for `detect.stationary_after` s: no region of its own. */
  stationary: boolean;
}

/** What to detect in one frame. */
export interface FrameJob {
  jpeg: Buffer;
  mode: 'regions' | 'full_frame';
  /** The objects tracked on this camera. */
  tracked: TrackedBox[];
  /** Motion boxes of this frame, px. */
  motion: Box[];
  /** Labels the camera tracks (only these get a second look when cut). */
  labels: string[];
  /** Infer the whole frame whatever the mode; default false. */
  scan?: boolean;
  /** `regions`: most model work per frame, in full-frame passes; default 1 (`Infinity`: no cap). */
  maxCost?: number;
  /** The frame's size as its header says, px: lets a frame without regions skip the JPEG decode. */
  size?: FrameSize;
}

/** What came out. Times in ms. */
export interface FrameDetections {
  detections: RawDetection[];
  width: number;
  height: number;
  /** Regions inferred (the full frame counts as one): what was looked at. */
  regions: Region[];
  inferences: number;
  /** Sum of model times. */
  inferenceMs: number;
  decodeMs: number;
  /** Why the whole frame was inferred in `regions` mode: a scan, or the regions would have cost more. */
  whole?: 'scan' | 'cost';
}

/** Slack on the scan interval, ms: the camera's still-frame timer and the frame clock are not in step. */
const SCAN_SLACK_MS = 500;

/**
 * Whether a frame captured at `ts` (ms) should be a scan: the camera's first frame (`lastScanTs`
 * undefined), then one every `intervalS` s (`detect.interval_without_motion`: the camera sends a
 * frame that often when nothing moves, so those frames are the scans).
 */
export function scanDue(lastScanTs: number | undefined, ts: number, intervalS: number): boolean {
  return lastScanTs === undefined || ts - lastScanTs >= intervalS * 1000 - SCAN_SLACK_MS;
}

/**
 * Detects objects in one frame with `runtime`.
 * @throws Error when the JPEG cannot be decoded or the model fails
 */
export async function detectFrame(runtime: ObjectRuntime, job: FrameJob): Promise<FrameDetections> {
  const plan = (frame: FrameSize): Region[] => {
    const moving = job.tracked.filter((t) => !t.stationary || job.motion.some((m) => intersection(m, t.box) !== null));
    return frameRegions(frame, moving.map((t) => t.box), job.motion, runtime.regionSize);
  };
  const planned = job.mode === 'regions' && !job.scan && job.size ? plan(job.size) : undefined;
  if (planned?.length === 0) return { detections: [], width: job.size!.width, height: job.size!.height, regions: [], inferences: 0, inferenceMs: 0, decodeMs: 0 };

  const t0 = performance.now();
  const { data, info } = await sharp(job.jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels, expected 3`);
  const frame: FrameSize = { width: info.width, height: info.height };
  const decodeMs = performance.now() - t0;
  const out: FrameDetections = { detections: [], width: frame.width, height: frame.height, regions: [], inferences: 0, inferenceMs: 0, decodeMs };

  const whole = async (): Promise<FrameDetections> => {
    const r = await runtime.detect(data, frame.width, frame.height, 'full');
    out.detections = r.detections;
    out.regions = [[0, 0, frame.width, frame.height]];
    out.inferences = 1;
    out.inferenceMs = r.ms;
    return out;
  };
  if (job.mode === 'full_frame') return whole();
  if (job.scan) { out.whole = 'scan'; return whole(); }

  const sameSize = job.size && job.size.width === frame.width && job.size.height === frame.height;
  const regions = planned && sameSize ? planned : plan(frame);
  const budget = (job.maxCost ?? 1) * runtime.inputPixels('full', frame.width, frame.height);
  const regionCost = runtime.inputPixels('region', runtime.regionSize, runtime.regionSize);
  if (regions.length * regionCost > budget) { out.whole = 'cost'; return whole(); }

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

  // A second look at objects cut by their region, in a region centred on them, within the budget.
  const spare = Math.floor(budget / regionCost) - regions.length;
  const refine = found
    .filter((d) => d.clipped && d.score >= REFINE_MIN_SCORE && job.labels.includes(d.label))
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.min(MAX_REFINES, Math.max(0, spare)))
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
