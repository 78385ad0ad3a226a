/**
 * One camera's event lifecycle: filter → track → zones → `new`/`update`/`end` messages,
 * live counts and best-snapshot candidates. Pure: time comes in as Unix seconds.
 *
 * Sources: `frigate/camera/state.py` (`CameraState.update`: publish on significant
 * update or every 5 s when the thumbnail improved), `frigate/track/object_processing.py`
 * (`update`/`end` handlers: `type` is `new` while the last published state was a false
 * positive, `end` only for true positives; label and zone counts exclude false
 * positives, `…/active` also excludes stationary objects), `frigate/track/tracked_object.py`
 * (`update` significance rules, `is_better_thumbnail` in `frigate/util/object.py`).
 */
import { isDeepStrictEqual } from 'node:util';
import type { CameraConfig } from '../protocol/camera-config.ts';
import { boxArea, boxRatio, iou } from '../protocol/geometry.ts';
import { passesFilter } from './object-filter.ts';
import { ObjectTracker, type Track } from './tracker.ts';
import type { Box, EventMessage, TrackedObjectState } from '../protocol/tracked-object.ts';
import type { RawDetection } from './types.ts';
import { initialZoneState, updateZones, type ObjectZoneState } from './zones.ts';

/** Seconds after the last publish before a non-significant change is published (Frigate: 5). */
export const UPDATE_INTERVAL = 5;
/** Seconds after which an `update` is published even with nothing new (Frigate: 60). */
export const KEEPALIVE_INTERVAL = 60;
/** IoU (0–1) between the published box and the current one below which the box "moved notably". */
export const MOVED_IOU = 0.6;
/** A best snapshot improves on a score this much higher (0–1; `is_better_thumbnail`: 0.05). */
export const BEST_SCORE_MARGIN = 0.05;
/** …or on an area this many times larger at a score no more than the margin lower (Frigate: 1.1). */
export const BEST_AREA_FACTOR = 1.1;

/** A best-snapshot candidate: the frame of this `processFrame` call should be kept for `id`. */
export interface BestUpdate {
  id: string;
  /** Detection score on this frame, 0–1. */
  score: number;
  /** Box on this frame, px. */
  box: Box;
}

/** The outcome of one frame (or of {@link EventLifecycle.expire}/{@link EventLifecycle.endAll}). */
export interface FrameResult {
  /** Messages for `vigil/events`, oldest object first, `end`s last. */
  messages: EventMessage[];
  /** label → live true-positive objects (stationary included); every tracked label and `all`, zeros included. */
  counts: Map<string, number>;
  /** Like `counts` but without stationary objects (Frigate's `<camera>/<label>/active`). */
  activeCounts: Map<string, number>;
  /** zone → label → live true-positive objects with the zone in `current_zones`; every zone, its labels and `all`. */
  zoneCounts: Map<string, Map<string, number>>;
  /** Objects whose best snapshot was set or improved on this frame. */
  best: BestUpdate[];
}

/** Options for {@link EventLifecycle}. */
export interface EventLifecycleOptions {
  /** Random source in [0, 1) for track ids; defaults to `Math.random`. */
  random?: () => number;
}

interface Best {
  score: number;
  area: number;
  box: Box;
}

interface ObjectRecord {
  zones: ObjectZoneState;
  best: Best | null;
  /** The state at creation: `before` of the `new` message (Frigate's initial `previous`). */
  initial: TrackedObjectState;
  /** Latest computed state. */
  state: TrackedObjectState;
  /** `after` of the last published message; null until `new`. */
  published: TrackedObjectState | null;
  publishedAt: number;
  bestSincePublish: boolean;
  /** What enrichment found (sub_label, recognized plate): kept on every later state. */
  attributes: EnrichedAttributes;
}

/** What enrichers add to an object's state (Frigate 0.16's names). */
export interface EnrichedAttributes {
  /** `[name, score]`: a known face or a known plate's name. */
  sub_label?: [string, number];
  /** The plate text as read, and its OCR score 0–1. */
  recognized_license_plate?: string;
  recognized_license_plate_score?: number;
}

/**
 * Turns a camera's detections into Frigate-style event messages.
 *
 * An object publishes nothing while `false_positive`; its first true-positive frame
 * sends `new` (`before` = its state at creation), later frames send `update` per the
 * rules in {@link EventLifecycle.processFrame}, and removal sends `end` with
 * `end_time`. `has_snapshot` is true from the first true-positive frame; `has_clip`
 * is always false (recording is not this module's business).
 */
export class EventLifecycle {
  private readonly tracker: ObjectTracker;
  private readonly records = new Map<string, ObjectRecord>();

  /** @param cam the camera's defaulted config. */
  constructor(
    private readonly cam: CameraConfig,
    opts: EventLifecycleOptions = {},
  ) {
    this.tracker = new ObjectTracker(cam, opts.random ? { random: opts.random } : {});
  }

  /** Latest state of every live true-positive object, oldest first. */
  get objects(): TrackedObjectState[] {
    return this.tracker.active.flatMap((t) => {
      const r = this.records.get(t.id);
      return r && !r.state.false_positive ? [r.state] : [];
    });
  }

  /** Every alive track (false-positive candidates and missed ones too): box in px and whether it is stationary — where the next frame's regions go. */
  get trackedBoxes(): Array<{ box: Box; stationary: boolean }> {
    return this.tracker.active.map((t) => ({ box: t.box, stationary: t.stationary }));
  }

  /**
   * Process one detect frame.
   *
   * Detections are filtered ({@link passesFilter}), tracked ({@link ObjectTracker}) and
   * each live object is evaluated against the zones ({@link updateZones}, using its
   * last box on frames it was missed, as Frigate does). A true-positive object sends:
   * - `new` on its first true-positive frame;
   * - `update` immediately when (vs. the last published state) `current_zones` or
   *   `entered_zones`, `stationary`, `loitering` or `position_changes` changed
   *   (Frigate's `significant_change`, plus loitering);
   * - `update` when more than {@link UPDATE_INTERVAL} s passed since the last publish
   *   and since then the best snapshot improved, `top_score` changed, or the box moved
   *   notably (IoU with the published box < {@link MOVED_IOU});
   * - `update` when more than {@link KEEPALIVE_INTERVAL} s passed since the last publish;
   * - `end` when the tracker drops it (unseen > `detect.max_disappeared` s).
   *
   * A best snapshot is set on the first true-positive frame and improves on a frame
   * where the object was seen with score > best + {@link BEST_SCORE_MARGIN}, or
   * area > best × {@link BEST_AREA_FACTOR} at score ≥ best − {@link BEST_SCORE_MARGIN}.
   *
   * @param detections raw model output, boxes px of `frameSize`
   * @param frameTime capture time, Unix seconds
   * @param frameSize detect frame size, px
   * @param looked the parts of the frame the model looked at (regions, px); omitted = the whole
   *   frame. An object whose box centre lies outside all of them is neither seen nor missed.
   */
  processFrame(detections: RawDetection[], frameTime: number, frameSize: { width: number; height: number }, looked?: Box[]): FrameResult {
    const kept = detections.filter((d) => passesFilter(d, this.cam, frameSize.width, frameSize.height));
    const up = this.tracker.update(kept, frameTime, frameSize, looked);
    const messages: EventMessage[] = [];
    const best: BestUpdate[] = [];

    for (const t of up.tracks) {
      const isNew = !this.records.has(t.id);
      const zones = updateZones(this.records.get(t.id)?.zones ?? initialZoneState(), t, this.cam.zones, frameSize, frameTime);
      const rec: ObjectRecord = this.records.get(t.id) ?? {
        zones,
        best: null,
        initial: this.toState(t, initialZoneState(), false),
        state: this.toState(t, zones, false),
        published: null,
        publishedAt: frameTime,
        bestSincePublish: false,
        attributes: {},
      };
      if (isNew) this.records.set(t.id, rec);
      rec.zones = zones;

      if (!t.false_positive && (t.seen || rec.best === null)) {
        const area = boxArea(t.box);
        if (isBetter(rec.best, t.score, area)) {
          rec.best = { score: t.score, area, box: [...t.box] };
          rec.bestSincePublish = true;
          best.push({ id: t.id, score: t.score, box: [...t.box] });
        }
      }
      rec.state = { ...this.toState(t, zones, rec.best !== null), ...rec.attributes };
      if (t.false_positive) continue;

      const p = rec.published;
      if (p === null) {
        messages.push({ type: 'new', before: rec.initial, after: rec.state });
      } else if (this.shouldPublish(rec, p, rec.state, frameTime)) {
        messages.push({ type: 'update', before: p, after: rec.state });
      } else continue;
      rec.published = rec.state;
      rec.publishedAt = frameTime;
      rec.bestSincePublish = false;
    }

    messages.push(...this.endMessages(up.removed));
    return { messages, ...this.counts(), best };
  }

  /**
   * Records what an enricher found on a live object (a known face's or plate's name as
   * `sub_label`, the plate text) and, when it changes a published object's state, returns
   * the `update` message to publish now (Frigate publishes an update when a sub label is set).
   * @returns the message, or null (unknown or ended object, nothing changed, not published yet)
   */
  enrich(id: string, attrs: EnrichedAttributes): EventMessage | null {
    const rec = this.records.get(id);
    if (!rec) return null;
    const next = { ...rec.attributes, ...attrs };
    if (isDeepStrictEqual(next, rec.attributes)) return null;
    rec.attributes = next;
    rec.state = { ...rec.state, ...next };
    if (!rec.published) return null;
    const msg: EventMessage = { type: 'update', before: rec.published, after: rec.state };
    rec.published = rec.state;
    return msg;
  }

  /**
   * End objects unseen for more than `detect.max_disappeared` s at `now` (Unix
   * seconds), for when no frames arrive (camera offline). `best` is empty.
   */
  expire(now: number): FrameResult {
    return { messages: this.endMessages(this.tracker.expire(now)), ...this.counts(), best: [] };
  }

  /**
   * Ends no object for being unseen before `until` (Unix seconds): see
   * {@link ObjectTracker.holdUntil} (the detector's broker connection was down, so no frames came).
   */
  holdUntil(until: number): void {
    this.tracker.holdUntil(until);
  }

  /** End every object at `now` (Unix seconds): `end` messages and all-zero counts. */
  endAll(now: number): FrameResult {
    return { messages: this.endMessages(this.tracker.endAll(now)), ...this.counts(), best: [] };
  }

  private shouldPublish(rec: ObjectRecord, p: TrackedObjectState, s: TrackedObjectState, now: number): boolean {
    if (!sameSet(p.current_zones, s.current_zones) || p.entered_zones.length !== s.entered_zones.length) return true;
    if (p.stationary !== s.stationary || p.loitering !== s.loitering || p.position_changes !== s.position_changes) return true;
    const since = now - rec.publishedAt;
    if (since > KEEPALIVE_INTERVAL) return true;
    return since > UPDATE_INTERVAL && (rec.bestSincePublish || p.top_score !== s.top_score || iou(p.box, s.box) < MOVED_IOU);
  }

  private endMessages(removed: readonly Track[]): EventMessage[] {
    const out: EventMessage[] = [];
    for (const t of removed) {
      const rec = this.records.get(t.id);
      this.records.delete(t.id);
      if (!rec?.published) continue;
      const after = { ...this.toState(t, rec.zones, rec.best !== null), ...rec.attributes };
      out.push({ type: 'end', before: rec.published, after });
    }
    return out;
  }

  private counts(): Pick<FrameResult, 'counts' | 'activeCounts' | 'zoneCounts'> {
    const live = this.objects;
    const labels = [...new Set([...this.cam.objects.track, ...live.map((o) => o.label)])];
    const tally = (objs: TrackedObjectState[], ls: readonly string[]) => {
      const m = new Map<string, number>(ls.map((l) => [l, 0]));
      for (const o of objs) m.set(o.label, (m.get(o.label) ?? 0) + 1);
      m.set('all', objs.length);
      return m;
    };
    const zoneCounts = new Map<string, Map<string, number>>();
    for (const z of this.cam.zones) {
      const zl = z.objects.length > 0 ? z.objects : labels;
      zoneCounts.set(z.name, tally(live.filter((o) => o.current_zones.includes(z.name)), zl));
    }
    return {
      counts: tally(live, labels),
      activeCounts: tally(live.filter((o) => !o.stationary), labels),
      zoneCounts,
    };
  }

  private toState(t: Track, zones: ObjectZoneState, hasSnapshot: boolean): TrackedObjectState {
    return {
      id: t.id,
      camera: this.cam.name,
      frame_time: t.frame_time,
      label: t.label,
      sub_label: null,
      score: t.score,
      top_score: t.top_score,
      false_positive: t.false_positive,
      start_time: t.start_time,
      end_time: t.end_time,
      box: [...t.box],
      area: boxArea(t.box),
      ratio: boxRatio(t.box),
      current_zones: [...zones.current_zones],
      entered_zones: [...zones.entered_zones],
      loitering: zones.loitering,
      has_snapshot: hasSnapshot,
      has_clip: false,
      stationary: t.stationary,
      motionless_count: t.motionless_count,
      position_changes: t.position_changes,
    };
  }
}

/** Whether a detection (score 0–1, area px²) beats the current best snapshot (`is_better_thumbnail`). */
function isBetter(best: Best | null, score: number, area: number): boolean {
  if (best === null) return true;
  if (score > best.score + BEST_SCORE_MARGIN) return true;
  return area > best.area * BEST_AREA_FACTOR && score >= best.score - BEST_SCORE_MARGIN;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
