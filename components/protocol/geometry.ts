/**
 * Plane geometry of the protocol (camera masks, detector zones and boxes): boxes, polygons and the distances the tracker uses.
 *
 * All functions are pure. Boxes are {@link Box} `[x_min, y_min, x_max, y_max]` in px of
 * the detect frame (origin top-left, y down). Points are `[x, y]`.
 */
import type { Box } from './tracked-object.ts';

/** A point `[x, y]`; px unless a function says otherwise. */
export type Point = [number, number];

/**
 * Whether `pt` lies inside polygon `poly` (even–odd ray casting).
 *
 * Unit-agnostic: `pt` and `poly` must be in the same units (callers convert the
 * config's normalized 0–1 polygons with {@link normalizedToPx} and test px points).
 * A point on an edge or vertex counts as inside, as with OpenCV's
 * `cv2.pointPolygonTest(contour, pt, False) >= 0` used by Frigate
 * (`frigate/track/tracked_object.py`, zone check). Polygons with fewer than 3 points
 * contain nothing.
 */
export function pointInPolygon(pt: Point, poly: ReadonlyArray<readonly [number, number]>): boolean {
  const n = poly.length;
  if (n < 3) return false;
  const [x, y] = pt;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (onSegment(x, y, xi, yi, xj, yj)) return true;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function onSegment(x: number, y: number, x1: number, y1: number, x2: number, y2: number): boolean {
  const cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1);
  const scale = Math.max(1e-12, Math.abs(x2 - x1) + Math.abs(y2 - y1));
  if (Math.abs(cross) > 1e-9 * scale) return false;
  return x >= Math.min(x1, x2) && x <= Math.max(x1, x2) && y >= Math.min(y1, y2) && y <= Math.max(y1, y2);
}

/**
 * The bottom-centre of a box, px: `[(x_min + x_max) / 2, y_max]` — the point Frigate
 * tests against zones and object masks (`tracked_object.py` `bottom_center`,
 * `frigate/track/object_processing`/`video.py` `filtered`).
 */
export function bottomCentre(box: Box): Point {
  return [(box[0] + box[2]) / 2, box[3]];
}

/** The centre of a box, px. */
export function centre(box: Box): Point {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
}

/** Box area, px²: `(x_max - x_min) * (y_max - y_min)`, 0 for degenerate boxes. */
export function boxArea(box: Box): number {
  return Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
}

/** Box width / height (Frigate's `ratio`); 0 when the height is 0. */
export function boxRatio(box: Box): number {
  const h = box[3] - box[1];
  return h > 0 ? (box[2] - box[0]) / h : 0;
}

/**
 * Intersection over union of two boxes, 0–1 (`frigate/util/object.py`
 * `intersection_over_union`; continuous coordinates here, without Frigate's
 * inclusive-pixel `+ 1`). 0 when either box has no area.
 */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Scale a normalized polygon (0–1, origin top-left, as stored in the camera config)
 * to px of a `width` × `height` frame.
 */
export function normalizedToPx(
  poly: ReadonlyArray<readonly [number, number]>,
  width: number,
  height: number,
): Point[] {
  return poly.map(([x, y]) => [x * width, y * height]);
}

/**
 * An area limit in px². Frigate's rule (`frigate/config/camera/objects.py`
 * `FilterConfig.min_area`/`max_area`): a value ≤ 1 is a fraction of the frame area,
 * anything larger is already px².
 *
 * @param value configured `min_area`/`max_area`
 * @param frameArea frame width × height, px²
 */
export function areaLimitPx(value: number, frameArea: number): number {
  return value <= 1 ? value * frameArea : value;
}

/**
 * Frigate's tracker distance (`frigate/track/norfair_tracker.py` `distance`): the
 * bottom-centre displacement relative to the estimate's width/height, combined with
 * the relative change of width and height, as one Euclidean norm (unitless; 0 = same
 * box, ~1 = moved by one box width or doubled in size).
 *
 * @param estimate where the track is expected to be, px
 * @param detection the candidate detection, px
 */
export function frigateDistance(estimate: Box, detection: Box): number {
  const ew = Math.max(1e-6, estimate[2] - estimate[0]);
  const eh = Math.max(1e-6, estimate[3] - estimate[1]);
  const dw = Math.max(1e-6, detection[2] - detection[0]);
  const dh = Math.max(1e-6, detection[3] - detection[1]);
  const [ex, ey] = bottomCentre(estimate);
  const [dx, dy] = bottomCentre(detection);
  const relX = (dx - ex) / ew;
  const relY = (dy - ey) / eh;
  const wRatio = Math.max(ew, dw) / Math.min(ew, dw) - 1;
  const hRatio = Math.max(eh, dh) / Math.min(eh, dh) - 1;
  return Math.hypot(relX, relY, wRatio, hRatio);
}
