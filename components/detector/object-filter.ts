/**
 * Per-detection filtering before tracking, after Frigate's `filtered()`
 * (`frigate/video.py` / `frigate/object_detection`): tracked label, `min_score`,
 * `min_area`/`max_area` and object masks.
 */
import { filterFor, type CameraConfig } from '../protocol/camera-config.ts';
import { areaLimitPx, bottomCentre, boxArea, normalizedToPx, pointInPolygon } from '../protocol/geometry.ts';
import type { RawDetection } from './types.ts';

/**
 * Whether a raw detection is kept for tracking. Rules, in Frigate's order:
 *
 * 1. `det.label` is in `cam.objects.track`;
 * 2. box area (px²) ≥ `min_area` and ≤ `max_area` of the label's filter, each limit
 *    read with {@link areaLimitPx} (≤ 1 = fraction of `frameW × frameH`);
 * 3. `det.score` (0–1) ≥ the filter's `min_score`;
 * 4. the box's bottom-centre (clamped into the frame, as Frigate clamps its mask
 *    lookup) is not inside any mask whose `applies_to` is `objects` or `both`.
 *
 * The label's filter comes from {@link filterFor} (defaults for unconfigured labels).
 * `threshold` is not applied here: it gates the track's median score
 * (see `tracker.ts`).
 *
 * @param det detection with its box in px of the `frameW` × `frameH` detect frame
 */
export function passesFilter(det: RawDetection, cam: CameraConfig, frameW: number, frameH: number): boolean {
  if (!cam.objects.track.includes(det.label)) return false;
  const f = filterFor(cam, det.label);
  const frameArea = frameW * frameH;
  const area = boxArea(det.box);
  if (area < areaLimitPx(f.min_area, frameArea)) return false;
  if (area > areaLimitPx(f.max_area, frameArea)) return false;
  if (det.score < f.min_score) return false;
  const [bx, by] = bottomCentre(det.box);
  const pt: [number, number] = [Math.min(Math.max(bx, 0), frameW), Math.min(Math.max(by, 0), frameH)];
  for (const mask of cam.masks) {
    if (mask.applies_to === 'motion') continue;
    if (pointInPolygon(pt, normalizedToPx(mask.coordinates, frameW, frameH))) return false;
  }
  return true;
}
