/**
 * Cheap motion detection on small greyscale frames, after Frigate's
 * `frigate/motion/improved_motion.py`: downscale, blur-free running-average background,
 * per-pixel absolute difference against a threshold, masked pixels ignored, and
 * motion when the changed fraction exceeds `min_area`. The changed pixels, dilated once
 * with a 3×3 kernel, are grouped into 8-connected components whose bounding boxes are
 * the motion boxes (Frigate's `cv2.dilate` + `findContours` + `boundingRect`, with its
 * `contour_area` floor) that the detector turns into regions.
 */
import { pointInPolygon } from '../protocol/geometry.ts';
import type { Box } from '../protocol/tracked-object.ts';

/** Smallest motion component kept, in pixels of the motion frame (Frigate's `contour_area` default, 10). */
export const MIN_CONTOUR_AREA = 10;
/** Most motion boxes reported per frame (the largest ones). */
export const MAX_MOTION_BOXES = 32;

/** Motion settings (see `camera-config.ts` `motion`). */
export interface MotionSettings {
  /** Per-pixel luma difference, 0–255. */
  threshold: number;
  /** Fraction of unmasked pixels that must change, 0–1. */
  min_area: number;
}

/** What {@link MotionDetector.update} finds in one frame. */
export interface MotionResult {
  /** The changed fraction exceeded `min_area`. */
  motion: boolean;
  /** Changed fraction of the unmasked pixels, 0–1. */
  changed: number;
  /** Motion boxes in px of the given frame (`[x1, y1, x2, y2]`), largest first; empty without motion. */
  boxes: Box[];
}

/** Width of the greyscale frame motion is computed on, px. */
export const MOTION_WIDTH = 160;

/** Detects motion on successive RGB24 frames of one camera. */
export class MotionDetector {
  private background?: Float32Array;
  private mask?: Uint8Array; // 1 = counted
  private diff?: Uint8Array; // 1 = changed this frame
  private dilated?: Uint8Array; // scratch: dilated change map, 2 = visited
  private stack?: Int32Array; // scratch: flood-fill stack
  private counted = 0;
  private w = 0;
  private h = 0;
  private step = 1;

  /**
   * @param settings threshold and min_area; may be changed later through {@link configure}.
   * @param maskPolygons motion masks, normalized 0–1 polygons.
   * @param alpha background learning rate per frame (0–1), Frigate uses 0.2 at 5 fps.
   */
  constructor(private settings: MotionSettings, private maskPolygons: Array<Array<[number, number]>> = [], private readonly alpha = 0.2) {}

  /** Changes threshold/min_area without losing the background. */
  configure(settings: MotionSettings): void { this.settings = settings; }

  /**
   * Feeds one frame.
   * @param rgb packed RGB24, `width`×`height` px.
   * @returns `{ motion, changed, boxes }` — `changed` is the changed fraction of unmasked
   *   pixels, 0–1; `boxes` the motion boxes in px of the given frame (`[x1, y1, x2, y2]`),
   *   largest first, at most {@link MAX_MOTION_BOXES}; empty without motion.
   */
  update(rgb: Buffer, width: number, height: number): MotionResult {
    this.prepare(width, height);
    const grey = this.downscale(rgb, width);
    const bg = this.background!;
    const diff = this.diff!;
    let changed = 0;
    const first = !this.initialized;
    const t = this.settings.threshold;
    for (let i = 0; i < grey.length; i++) {
      const on = !first && this.mask![i] === 1 && Math.abs(grey[i]! - bg[i]!) > t;
      diff[i] = on ? 1 : 0;
      if (on) changed++;
      bg[i] = first ? grey[i]! : bg[i]! * (1 - this.alpha) + grey[i]! * this.alpha;
    }
    this.initialized = true;
    const fraction = this.counted ? changed / this.counted : 0;
    const motion = fraction >= this.settings.min_area && changed > 0;
    return { motion, changed: fraction, boxes: motion ? this.components(width, height) : [] };
  }

  /** Bounding boxes of the 8-connected components of the dilated change map, px of the frame. */
  private components(width: number, height: number): Box[] {
    const { w, h } = this;
    const src = this.diff!;
    const dil = this.dilated!;
    dil.fill(0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!src[y * w + x]) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < w) dil[yy * w + xx] = 1;
          }
        }
      }
    }
    const stack = this.stack!;
    const found: Array<{ box: Box; area: number }> = [];
    const sx = width / w;
    const sy = height / h;
    for (let start = 0; start < dil.length; start++) {
      if (dil[start] !== 1) continue;
      let top = 0;
      stack[top++] = start;
      dil[start] = 2;
      let area = 0;
      let x1 = w, y1 = h, x2 = 0, y2 = 0;
      while (top > 0) {
        const i = stack[--top]!;
        const x = i % w;
        const y = (i - x) / w;
        area++;
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        if (y > y2) y2 = y;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= w) continue;
            const j = yy * w + xx;
            if (dil[j] === 1) { dil[j] = 2; stack[top++] = j; }
          }
        }
      }
      if (area < MIN_CONTOUR_AREA) continue;
      found.push({
        area,
        box: [Math.floor(x1 * sx), Math.floor(y1 * sy), Math.min(width, Math.ceil((x2 + 1) * sx)), Math.min(height, Math.ceil((y2 + 1) * sy))],
      });
    }
    found.sort((a, b) => b.area - a.area);
    return found.slice(0, MAX_MOTION_BOXES).map((f) => f.box);
  }

  private initialized = false;

  private prepare(width: number, height: number): void {
    if (this.w && this.step && this.w === Math.floor(width / this.step) && this.h === Math.floor(height / this.step) && this.background) return;
    this.step = Math.max(1, Math.floor(width / MOTION_WIDTH));
    this.w = Math.floor(width / this.step);
    this.h = Math.floor(height / this.step);
    this.background = new Float32Array(this.w * this.h);
    this.initialized = false;
    this.mask = new Uint8Array(this.w * this.h);
    this.diff = new Uint8Array(this.w * this.h);
    this.dilated = new Uint8Array(this.w * this.h);
    this.stack = new Int32Array(this.w * this.h);
    this.counted = 0;
    for (let y = 0; y < this.h; y++) {
      for (let x = 0; x < this.w; x++) {
        const p: [number, number] = [(x + 0.5) / this.w, (y + 0.5) / this.h];
        const masked = this.maskPolygons.some((poly) => pointInPolygon(p, poly));
        if (!masked) { this.mask[y * this.w + x] = 1; this.counted++; }
      }
    }
  }

  private downscale(rgb: Buffer, width: number): Uint8Array {
    const out = new Uint8Array(this.w * this.h);
    const s = this.step;
    for (let y = 0; y < this.h; y++) {
      const row = y * s * width;
      for (let x = 0; x < this.w; x++) {
        const o = (row + x * s) * 3;
        // ITU-R BT.601 luma
        out[y * this.w + x] = (rgb[o]! * 299 + rgb[o + 1]! * 587 + rgb[o + 2]! * 114) / 1000;
      }
    }
    return out;
  }
}
