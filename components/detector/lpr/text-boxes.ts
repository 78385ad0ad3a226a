/**
 * Text boxes from PaddleOCR's text detection model (DBNet, "Real-time Scene Text Detection
 * with Differentiable Binarization", Liao et al. 2020): the model outputs a probability map
 * (one value 0–1 per input pixel) and this turns it into rotated rectangles, as PaddleOCR's
 * `DBPostProcess` (`ppocr/postprocess/db_postprocess.py`) and Frigate's
 * `LicensePlateProcessingMixin._boxes_from_bitmap` do with OpenCV (`findContours`,
 * `minAreaRect`, pyclipper's unclip), here in plain TypeScript:
 *
 * 1. binarize the map at `thresh` (PaddleOCR's `det_db_thresh`, 0.3);
 * 2. 8-connected components of the binary map (OpenCV's outer contours);
 * 3. each component's minimum-area rectangle (convex hull + rotating calipers);
 * 4. drop components whose short side is < `minSize` px or whose mean probability is
 *    < `boxThresh` (`det_db_box_thresh`, 0.6);
 * 5. "unclip": grow the rectangle by `d = area × unclipRatio / perimeter` on every side
 *    (`det_db_unclip_ratio`, 1.5) — DBNet's shrunk text kernels back to full text size.
 *
 * Pure functions, no I/O: they run wherever the OCR runs (the OCR worker thread).
 */

/** A point, px. */
export type Point = [x: number, y: number];

/**
 * A rotated rectangle, px. `width` runs along `angle` (radians, in (−π/4, π/4]: the side
 * nearest to horizontal), `height` across it.
 */
export interface RotatedRect {
  cx: number;
  cy: number;
  width: number;
  height: number;
  angle: number;
}

/** A text box found by {@link textBoxes}: its rectangle (px of the map's source image) and mean probability 0–1. */
export interface TextBox {
  rect: RotatedRect;
  score: number;
}

/** Options of {@link textBoxes}. Defaults are PaddleOCR's (`tools/infer/utility.py`). */
export interface TextBoxOptions {
  /** Probability above which a pixel is text, 0–1; default 0.3. */
  thresh?: number;
  /** Minimum mean probability of a box, 0–1; default 0.6. */
  boxThresh?: number;
  /** Unclip ratio; default 1.5. */
  unclipRatio?: number;
  /** Minimum short side of a box, px of the map, before unclipping (+2 after); default 3. */
  minSize?: number;
  /** At most this many components are looked at (largest first); default 1000. */
  maxCandidates?: number;
}

/**
 * Finds text boxes in a DBNet probability map.
 * @param prob the map, row-major, `mapWidth * mapHeight` values 0–1.
 * @param mapWidth map width, px (the model input's width).
 * @param mapHeight map height, px.
 * @param scaleX factor from map px to the source image's px (source width / map width).
 * @param scaleY the same for y.
 * @returns boxes in source px, unordered.
 * @throws RangeError when `prob` does not hold `mapWidth * mapHeight` values.
 */
export function textBoxes(
  prob: Float32Array,
  mapWidth: number,
  mapHeight: number,
  scaleX = 1,
  scaleY = 1,
  opts: TextBoxOptions = {},
): TextBox[] {
  if (prob.length !== mapWidth * mapHeight) {
    throw new RangeError(`probability map has ${prob.length} values, expected ${mapWidth}x${mapHeight}`);
  }
  const thresh = opts.thresh ?? 0.3;
  const boxThresh = opts.boxThresh ?? 0.6;
  const unclipRatio = opts.unclipRatio ?? 1.5;
  const minSize = opts.minSize ?? 3;
  const maxCandidates = opts.maxCandidates ?? 1000;

  const components = connectedComponents(prob, mapWidth, mapHeight, thresh)
    .sort((a, b) => b.pixels - a.pixels)
    .slice(0, maxCandidates);
  const out: TextBox[] = [];
  for (const c of components) {
    const score = c.probSum / c.pixels;
    if (score < boxThresh) continue;
    const rect = minAreaRect(c.points);
    if (Math.min(rect.width, rect.height) < minSize) continue;
    const d = (rect.width * rect.height * unclipRatio) / (2 * (rect.width + rect.height));
    const grown = { ...rect, width: rect.width + 2 * d, height: rect.height + 2 * d };
    if (Math.min(grown.width, grown.height) < minSize + 2) continue;
    out.push({ rect: scaleRect(grown, scaleX, scaleY), score });
  }
  return out;
}

interface Component {
  pixels: number;
  probSum: number;
  /** Corners of each row's leftmost and rightmost pixel: enough for the convex hull. */
  points: Point[];
}

/** 8-connected components of `prob > thresh` (iterative flood fill, one pass over the map). */
function connectedComponents(prob: Float32Array, w: number, h: number, thresh: number): Component[] {
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const rowMin = new Int32Array(h);
  const rowMax = new Int32Array(h);
  const out: Component[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || !(prob[start]! > thresh)) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let pixels = 0;
    let probSum = 0;
    let yMin = h;
    let yMax = -1;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % w;
      const y = (i - x) / w;
      pixels++;
      probSum += prob[i]!;
      if (y < yMin) { for (let r = y; r < yMin; r++) { rowMin[r] = w; rowMax[r] = -1; } yMin = y; }
      if (y > yMax) { for (let r = Math.max(yMax + 1, yMin); r <= y; r++) { rowMin[r] = w; rowMax[r] = -1; } yMax = y; }
      if (x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= w) continue;
          const j = ny * w + nx;
          if (seen[j] || !(prob[j]! > thresh)) continue;
          seen[j] = 1;
          stack[top++] = j;
        }
      }
    }
    const points: Point[] = [];
    for (let y = yMin; y <= yMax; y++) {
      if (rowMax[y]! < 0) continue;
      // Pixel corners, so a component's rectangle spans its pixels (not their centres).
      points.push([rowMin[y]!, y], [rowMin[y]!, y + 1], [rowMax[y]! + 1, y], [rowMax[y]! + 1, y + 1]);
    }
    out.push({ pixels, probSum, points });
  }
  return out;
}

/** Convex hull, counter-clockwise in image coordinates (Andrew's monotone chain). */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length <= 2) return pts;
  const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/**
 * The minimum-area rectangle around points (OpenCV's `minAreaRect`): the best rectangle has
 * a side on a convex hull edge (Freeman & Shapira 1975), so each hull edge direction is tried.
 * @returns the rectangle with `width` along the side nearest to horizontal.
 * @throws RangeError for no points.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  if (points.length === 0) throw new RangeError('minAreaRect needs at least one point');
  const hull = convexHull(points);
  let best: RotatedRect | null = null;
  let bestArea = Infinity;
  const n = hull.length;
  for (let i = 0; i < Math.max(1, n); i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % n]!;
    let angle = Math.atan2(b[1] - a[1], b[0] - a[0]);
    if (n < 2 || (a[0] === b[0] && a[1] === b[1])) angle = 0;
    const ux = Math.cos(angle);
    const uy = Math.sin(angle);
    let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, width: maxU - minU, height: maxV - minV, angle };
    }
  }
  return normalizeRect(best!);
}

/** The same rectangle with `angle` in (−π/4, π/4] (width along the side nearest to horizontal). */
export function normalizeRect(r: RotatedRect): RotatedRect {
  let { width, height, angle } = r;
  angle = Math.atan2(Math.sin(angle), Math.cos(angle)); // (−π, π]
  if (angle > Math.PI / 2) angle -= Math.PI;
  else if (angle <= -Math.PI / 2) angle += Math.PI; // (−π/2, π/2]
  if (angle > Math.PI / 4) { angle -= Math.PI / 2; [width, height] = [height, width]; }
  else if (angle <= -Math.PI / 4) { angle += Math.PI / 2; [width, height] = [height, width]; }
  return { cx: r.cx, cy: r.cy, width, height, angle };
}

/** Corners of a rectangle: top-left, top-right, bottom-right, bottom-left (image coordinates, y down). */
export function rectCorners(r: RotatedRect): [Point, Point, Point, Point] {
  const ux = Math.cos(r.angle), uy = Math.sin(r.angle);
  const hw = r.width / 2, hh = r.height / 2;
  const at = (u: number, v: number): Point => [r.cx + u * ux - v * uy, r.cy + u * uy + v * ux];
  return [at(-hw, -hh), at(hw, -hh), at(hw, hh), at(-hw, hh)];
}

/** Axis-aligned bounds `[x_min, y_min, x_max, y_max]` of a rectangle. */
export function rectBounds(r: RotatedRect): [number, number, number, number] {
  const c = rectCorners(r);
  const xs = c.map((p) => p[0]);
  const ys = c.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** Scales a rectangle by independent x/y factors (exact for axis-aligned boxes, close for small angles). */
function scaleRect(r: RotatedRect, sx: number, sy: number): RotatedRect {
  if (sx === 1 && sy === 1) return r;
  const ux = Math.cos(r.angle), uy = Math.sin(r.angle);
  const wx = r.width * ux * sx, wy = r.width * uy * sy;
  const hx = -r.height * uy * sx, hy = r.height * ux * sy;
  return normalizeRect({ cx: r.cx * sx, cy: r.cy * sy, width: Math.hypot(wx, wy), height: Math.hypot(hx, hy), angle: Math.atan2(wy, wx) });
}

/**
 * Joins boxes that are parts of one text line (a plate read as "LTZ" + "1298"), after
 * Frigate's `_merge_nearby_boxes`: two nearly horizontal boxes (|angle| < 10°) of similar
 * height (ratio ≥ 0.6) that overlap vertically by at least half the smaller height and are at
 * most `maxGapFactor` × that height apart horizontally become their axis-aligned union; the
 * score is the width-weighted mean. Frigate sets the gap from the plate's width (it works on
 * plate crops); on a vehicle crop the text height is the only scale at hand.
 */
export function mergeLineBoxes(boxes: readonly TextBox[], maxGapFactor = 0.5): TextBox[] {
  const flat = (b: TextBox): boolean => Math.abs(b.rect.angle) < (10 * Math.PI) / 180;
  const rest = boxes.filter((b) => !flat(b));
  const todo = boxes.filter(flat).sort((a, b) => rectBounds(a.rect)[0] - rectBounds(b.rect)[0]);
  const merged: TextBox[] = [];
  for (const box of todo) {
    const [x0, y0, x1, y1] = rectBounds(box.rect);
    const target = merged.find((m) => {
      const [mx0, my0, mx1, my1] = rectBounds(m.rect);
      const hA = my1 - my0, hB = y1 - y0;
      const minH = Math.min(hA, hB);
      const overlap = Math.min(my1, y1) - Math.max(my0, y0);
      const gap = x0 - mx1;
      return Math.min(hA, hB) / Math.max(hA, hB) >= 0.6 && overlap >= minH / 2 && gap <= maxGapFactor * minH && x1 > mx0;
    });
    if (!target) { merged.push({ rect: { ...box.rect }, score: box.score }); continue; }
    const [mx0, my0, mx1, my1] = rectBounds(target.rect);
    const nx0 = Math.min(mx0, x0), ny0 = Math.min(my0, y0), nx1 = Math.max(mx1, x1), ny1 = Math.max(my1, y1);
    const wA = mx1 - mx0, wB = x1 - x0;
    target.score = (target.score * wA + box.score * wB) / (wA + wB);
    target.rect = { cx: (nx0 + nx1) / 2, cy: (ny0 + ny1) / 2, width: nx1 - nx0, height: ny1 - ny0, angle: 0 };
  }
  return [...merged, ...rest];
}
