/**
 * Cheap motion detection on small greyscale frames, after Frigate's
 * `frigate/motion/improved_motion.py`: downscale, blur-free running-average background,
 * per-pixel absolute difference against a threshold, masked pixels ignored, and
 * motion when the changed fraction exceeds `min_area`.
 */
import { pointInPolygon } from '../protocol/geometry.ts';

/** Motion settings (see `camera-config.ts` `motion`). */
export interface MotionSettings {
  /** Per-pixel luma difference, 0–255. */
  threshold: number;
  /** Fraction of unmasked pixels that must change, 0–1. */
  min_area: number;
}

/** Width of the greyscale frame motion is computed on, px. */
export const MOTION_WIDTH = 160;

/** Detects motion on successive RGB24 frames of one camera. */
export class MotionDetector {
  private background?: Float32Array;
  private mask?: Uint8Array; // 1 = counted
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
   * @returns `{ motion, changed }` — `changed` is the changed fraction of unmasked pixels, 0–1.
   */
  update(rgb: Buffer, width: number, height: number): { motion: boolean; changed: number } {
    this.prepare(width, height);
    const grey = this.downscale(rgb, width);
    const bg = this.background!;
    let changed = 0;
    const first = !this.initialized;
    const t = this.settings.threshold;
    for (let i = 0; i < grey.length; i++) {
      if (!first && this.mask![i] && Math.abs(grey[i]! - bg[i]!) > t) changed++;
      bg[i] = first ? grey[i]! : bg[i]! * (1 - this.alpha) + grey[i]! * this.alpha;
    }
    this.initialized = true;
    const fraction = this.counted ? changed / this.counted : 0;
    return { motion: fraction >= this.settings.min_area && changed > 0, changed: fraction };
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
