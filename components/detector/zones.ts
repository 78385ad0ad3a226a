/**
 * Zone presence of one tracked object: inertia, loitering, `current_zones` and
 * `entered_zones`, after the zone loop of `frigate/track/tracked_object.py`
 * (`TrackedObject.update`) and `zone_filtered` (`frigate/util/object.py`/`tracked_object.py`).
 */
import type { ZoneConfig } from '../protocol/camera-config.ts';
import { bottomCentre, normalizedToPx, pointInPolygon } from '../protocol/geometry.ts';
import type { Box } from '../protocol/tracked-object.ts';

/** One object's standing in one zone. */
export interface ZonePresence {
  /** Hysteresis counter, 0 … `inertia`: +1 per frame counted inside, −1 per frame outside. */
  readonly presence: number;
  /** True once `presence` reached `inertia`, until it falls back to 0. */
  readonly inside: boolean;
  /** Frame time (Unix seconds) `inside` became true; null while outside. */
  readonly entered_at: number | null;
}

/** One object's zone state; a new object starts from {@link initialZoneState}. */
export interface ObjectZoneState {
  /** Per zone name. Zones whose `objects` exclude the label never appear. */
  readonly zones: Readonly<Record<string, ZonePresence>>;
  /** Zones the object is in now (inside, and loitered where `loitering_time` > 0), config order. */
  readonly current_zones: readonly string[];
  /** Every zone ever in `current_zones`, in order of first entry. */
  readonly entered_zones: readonly string[];
  /** True while the object is in a zone with `loitering_time` > 0 for at least that time. */
  readonly loitering: boolean;
}

/** What zones look at of an object on one frame. */
export interface ZoneSubject {
  label: string;
  /** Box in px of the frame of size `frameSize`. */
  box: Box;
  /** Frigate's computed (median) score, 0–1. */
  computed_score: number;
}

/** The zone state of an object that has not been evaluated yet. */
export function initialZoneState(): ObjectZoneState {
  return { zones: {}, current_zones: [], entered_zones: [], loitering: false };
}

/**
 * Evaluate an object against the camera's zones for one frame; returns a new state.
 *
 * Per zone (Frigate's rules, with the differences noted):
 * - skipped when `zone.objects` is non-empty and lacks the label;
 * - the object counts inside on this frame when its bottom-centre (px) is inside the
 *   zone polygon (normalized coordinates scaled to `frameSize`, edges inclusive) and,
 *   unless it is already inside (Frigate: "if the object passed the filters once, dont
 *   apply again"), its `computed_score` ≥ `zone.threshold` (0 = no zone-specific
 *   threshold: the object's own `threshold` already gates publication);
 * - enters when the counter reaches `inertia` (inside +1 / outside −1, as Frigate's
 *   `zone_presence`); leaves when `inertia` net frames outside bring it back to 0.
 *   (Frigate leaves on the first frame outside; this hysteresis is Vigil's.)
 * - a zone with `loitering_time` > 0 joins `current_zones`/`entered_zones` only after
 *   the object has been inside it for `loitering_time` seconds (Frigate counts
 *   `loitering_time × fps` frames); leaving resets that dwell.
 *
 * @param frameSize detect frame size, px
 * @param frameTime capture time, Unix seconds
 */
export function updateZones(
  prev: ObjectZoneState,
  obj: ZoneSubject,
  zones: readonly ZoneConfig[],
  frameSize: { width: number; height: number },
  frameTime: number,
): ObjectZoneState {
  const pt = bottomCentre(obj.box);
  const next: Record<string, ZonePresence> = {};
  const current: string[] = [];
  let loitering = false;
  for (const zone of zones) {
    if (zone.objects.length > 0 && !zone.objects.includes(obj.label)) continue;
    const was = prev.zones[zone.name] ?? { presence: 0, inside: false, entered_at: null };
    const geometric = pointInPolygon(pt, normalizedToPx(zone.coordinates, frameSize.width, frameSize.height));
    const counted = geometric && (was.inside || obj.computed_score >= zone.threshold);
    let { presence, inside, entered_at } = was;
    if (counted) {
      presence = Math.min(presence + 1, zone.inertia);
      if (!inside && presence >= zone.inertia) {
        inside = true;
        entered_at = frameTime;
      }
    } else {
      presence = Math.max(presence - 1, 0);
      if (inside && presence === 0) {
        inside = false;
        entered_at = null;
      }
    }
    next[zone.name] = { presence, inside, entered_at };
    if (!inside) continue;
    const loitered = zone.loitering_time === 0 || frameTime - (entered_at ?? frameTime) >= zone.loitering_time;
    if (!loitered) continue;
    current.push(zone.name);
    if (zone.loitering_time > 0) loitering = true;
  }
  const entered = [...prev.entered_zones];
  for (const z of current) if (!entered.includes(z)) entered.push(z);
  return { zones: next, current_zones: current, entered_zones: entered, loitering };
}
