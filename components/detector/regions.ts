/**
 * Detection regions, after Frigate (`frigate/util/image.py` `calculate_region`,
 * `frigate/util/object.py` `get_cluster_candidates` / `get_cluster_region` /
 * `reduce_boxes` / `reduce_detections`, and `frigate/video.py` `process_frames`):
 * instead of shrinking the whole frame into the model's input, detect only inside square
 * regions around motion and tracked objects, each cropped from the detect frame and
 * scaled to the model's input size (a region is never smaller than that size, so small
 * objects keep their pixels). A frame with no motion and no tracked object has no region.
 *
 * Pure functions; boxes and regions are `[x1, y1, x2, y2]` in px of the detect frame.
 */
import type { Box } from '../protocol/tracked-object.ts';
import type { RawDetection } from './types.ts';

/** A square crop of the frame, px. */
export type Region = Box;

/** Frame size, px. */
export interface FrameSize {
  width: number;
  height: number;
}

/** How far around a box its region reaches (Frigate's `get_cluster_region` multiplier). */
export const REGION_MULTIPLIER = 1.35;
/** IoU above which two regions are merged into one (Frigate's `reduce_boxes(regions, 0.4)`). */
export const REGION_MERGE_IOU = 0.4;
/** A detection within this many px of an inner region edge is clipped (Frigate's `clipped`: 5 px). */
export const CLIP_MARGIN_PX = 5;
/** IoU above which NMS across regions drops the lower score (Frigate's `LABEL_NMS_DEFAULT`, 0.4; `NMSBoxes` 0.5 on the score). */
export const NMS_IOU = 0.4;
/** Share of a smaller box inside a bigger one of the same label above which it is dropped (Frigate's `LABEL_CONSOLIDATION_DEFAULT`, 0.9). */
export const CONSOLIDATION = 0.9;

/**
 * The square region around `box`: side = longest box side × `multiplier` (a multiple of 4),
 * at least `minSize`, centred on the box and shifted inside the frame (Frigate's
 * `calculate_region`). A side larger than the frame's shorter side is capped to it.
 */
export function calculateRegion(frame: FrameSize, box: Box, minSize: number, multiplier = REGION_MULTIPLIER): Region {
  const [x1, y1, x2, y2] = box;
  let size = Math.floor((Math.max(x2 - x1, y2 - y1) * multiplier) / 4) * 4;
  size = Math.min(Math.max(size, minSize), Math.min(frame.width, frame.height));
  const offset = (lo: number, hi: number, limit: number) => Math.min(Math.max(0, Math.round((lo + hi) / 2 - size / 2)), Math.max(0, limit - size));
  const x = offset(x1, x2, frame.width);
  const y = offset(y1, y2, frame.height);
  return [x, y, x + size, y + size];
}

/** Area of a box, px². */
export function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/** The intersection of two boxes, or null. */
export function intersection(a: Box, b: Box): Box | null {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[2], b[2]);
  const y2 = Math.min(a[3], b[3]);
  return x2 > x1 && y2 > y1 ? [x1, y1, x2, y2] : null;
}

/** Intersection over union, 0–1. */
export function iou(a: Box, b: Box): number {
  const i = intersection(a, b);
  if (!i) return 0;
  const ai = area(i);
  return ai / (area(a) + area(b) - ai);
}

const inside = (outer: Box, b: Box) => b[0] >= outer[0] && b[1] >= outer[1] && b[2] <= outer[2] && b[3] <= outer[3];

/**
 * Groups motion boxes that fit one region (Frigate's `get_cluster_candidates`): a box's
 * cluster boundary is where the box would still be ≥ 10 % of the region; another box
 * joins when it lies inside that boundary and, if the cluster's region grows beyond
 * `minSize`, every box stays ≥ 5 % of the region's area.
 * @returns clusters as lists of indexes into `boxes`
 */
export function clusterBoxes(frame: FrameSize, minSize: number, boxes: Box[]): number[][] {
  const used = new Set<number>();
  const clusters: number[][] = [];
  boxes.forEach((b, i) => {
    if (used.has(i)) return;
    const cluster = [i];
    used.add(i);
    const w = b[2] - b[0];
    const h = b[3] - b[1];
    const maxSize = Math.max(minSize, Math.floor(Math.sqrt((w * h) / 0.1)));
    const cx = b[0] + w / 2;
    const cy = b[1] + h / 2;
    const dx = Math.floor(maxSize - (w / 2) * 1.1);
    const dy = Math.floor(maxSize - (h / 2) * 1.1);
    const boundary: Box = [cx - dx, cy - dy, cx + dx, cy + dy];
    boxes.forEach((c, j) => {
      if (used.has(j) || !inside(boundary, c)) return;
      const candidate = [...cluster, j];
      const region = clusterRegion(frame, minSize, candidate.map((k) => boxes[k]!));
      const ok = region[2] - region[0] <= minSize || candidate.every((k) => area(boxes[k]!) / area(region) >= 0.05);
      if (ok) { cluster.push(j); used.add(j); }
    });
    clusters.push(cluster);
  });
  return clusters;
}

/** The region around a group of boxes (their bounding box, Frigate's `get_cluster_region`). */
export function clusterRegion(frame: FrameSize, minSize: number, boxes: Box[]): Region {
  const bound: Box = [
    Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])),
    Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3])),
  ];
  return calculateRegion(frame, bound, minSize, REGION_MULTIPLIER);
}

/**
 * Merges boxes whose IoU with a growing cluster exceeds `threshold` into their bounding box
 * (Frigate's `reduce_boxes`).
 */
export function reduceBoxes(boxes: Box[], threshold: number): Box[] {
  const clusters: Box[] = [];
  for (const b of boxes) {
    let matched = false;
    for (const c of clusters) {
      if (iou(b, c) > threshold) {
        matched = true;
        c[0] = Math.min(c[0], b[0]); c[1] = Math.min(c[1], b[1]);
        c[2] = Math.max(c[2], b[2]); c[3] = Math.max(c[3], b[3]);
      }
    }
    if (!matched) clusters.push([...b] as Box);
  }
  return clusters;
}

/**
 * The regions of one frame (Frigate's `process_frames`): one around each tracked object,
 * heavily overlapping ones merged; then motion boxes not already inside a region,
 * clustered, one region per cluster. No tracked object and no motion box: no region.
 * @param tracked boxes of the tracked objects (their latest boxes), px
 * @param motion motion boxes of this frame, px
 * @param minSize smallest region side, px: the model's input size
 */
export function frameRegions(frame: FrameSize, tracked: Box[], motion: Box[], minSize: number): Region[] {
  const objectRegions = tracked.map((b) => calculateRegion(frame, b, minSize, REGION_MULTIPLIER));
  const regions = reduceBoxes(objectRegions, REGION_MERGE_IOU).map((b) => calculateRegion(frame, b, minSize, 1));
  const standalone = motion.filter((m) => !regions.some((r) => inside(r, m)));
  if (standalone.length) {
    for (const cluster of clusterBoxes(frame, minSize, standalone)) regions.push(clusterRegion(frame, minSize, cluster.map((i) => standalone[i]!)));
  }
  return regions;
}

/**
 * True when `box` touches an edge of `region` that is not an edge of the frame (the object
 * is probably cut by the crop: Frigate's `clipped`).
 */
export function clippedBy(box: Box, region: Region, frame: FrameSize): boolean {
  const m = CLIP_MARGIN_PX;
  return (region[0] > 0 && box[0] - region[0] <= m)
    || (region[1] > 0 && box[1] - region[1] <= m)
    || (region[2] < frame.width && region[2] - box[2] <= m)
    || (region[3] < frame.height && region[3] - box[3] <= m);
}

/**
 * Detections of several regions made into one list (Frigate's `reduce_detections`): per
 * label, greedy NMS at {@link NMS_IOU} (a clipped detection counts with score 0.6 at most,
 * so a whole view of the object wins), then a smaller box that lies ≥ {@link CONSOLIDATION}
 * inside a bigger one of the same label is dropped (unless it is < 5 % of the bigger one:
 * a car in the street behind a parked car).
 * @param detections detections in frame px, with whether their region clipped them
 */
export function reduceDetections(detections: Array<RawDetection & { clipped?: boolean }>): RawDetection[] {
  const byLabel = new Map<string, Array<RawDetection & { clipped?: boolean }>>();
  for (const d of detections) byLabel.set(d.label, [...(byLabel.get(d.label) ?? []), d]);
  const out: RawDetection[] = [];
  for (const group of byLabel.values()) {
    const rank = (d: RawDetection & { clipped?: boolean }) => (d.clipped ? Math.min(0.6, d.score) : d.score);
    const sorted = [...group].sort((a, b) => rank(b) - rank(a));
    const kept: RawDetection[] = [];
    for (const d of sorted) if (!kept.some((k) => iou(k.box, d.box) > NMS_IOU)) kept.push(d);
    const byArea = [...kept].sort((a, b) => area(a.box) - area(b.box));
    byArea.forEach((d, i) => {
      const covered = byArea.slice(i + 1).some((big) => {
        if (area(d.box) / area(big.box) < 0.05) return false;
        const x = intersection(d.box, big.box);
        return x !== null && area(x) / area(d.box) > CONSOLIDATION;
      });
      if (!covered) out.push({ label: d.label, score: d.score, box: d.box });
    });
  }
  return out;
}
