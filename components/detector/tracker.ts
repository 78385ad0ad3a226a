/**
 * Multi-object tracker for one camera: matches filtered detections to tracks, keeps
 * each track's score history (false-positive gate) and stationary state.
 *
 * Sources: matching replaces Frigate's norfair tracker (`frigate/track/norfair_tracker.py`)
 * with constant-velocity prediction + greedy IoU and a fallback on norfair's
 * `distance`; score history and `top_score` follow `frigate/track/tracked_object.py`
 * (`update`, `compute_score`, `_is_false_positive`); stationary/position logic follows
 * the centroid tracker's `update_position` (`frigate/track/centroid_tracker.py`), with
 * frame counts converted to seconds.
 */
import { filterFor, type CameraConfig } from '../protocol/camera-config.ts';
import { centre, frigateDistance, iou } from '../protocol/geometry.ts';
import type { Box } from '../protocol/tracked-object.ts';
import type { RawDetection } from './types.ts';

/** Minimum IoU (0–1) between a track's predicted box and a detection to match them. */
export const MATCH_IOU = 0.2;
/** Maximum {@link frigateDistance} for the fallback match of boxes that do not overlap. */
export const MATCH_MAX_DISTANCE = 1.0;
/** Scores kept per track (`tracked_object.py`: last 10). */
export const SCORE_HISTORY = 10;
/** IoU (0–1) with the track's position box below which the object has moved (`update_position`: 0.6). */
export const STATIONARY_IOU = 0.6;
/** Boxes averaged into a track's position box (`update_position`: 10). */
export const POSITION_HISTORY = 10;

/** One tracked object as the tracker sees it. Times are Unix seconds, boxes px, scores 0–1. */
export interface Track {
  /** `${start frame time .toFixed(6)}-${6 random [a-z0-9]}` (Frigate's id form). */
  readonly id: string;
  readonly label: string;
  /** Frame time of the first detection. */
  readonly start_time: number;
  /** Frame time of the latest matched detection. */
  readonly last_seen: number;
  /** Frame time of the latest frame processed (seen or missed). */
  readonly frame_time: number;
  /** True when the latest processed frame matched a detection. */
  readonly seen: boolean;
  /** Score of the latest matched detection. */
  readonly score: number;
  /** Box of the latest matched detection, px. */
  readonly box: Box;
  /** Last {@link SCORE_HISTORY} scores; a missed frame adds 0 (as Frigate). */
  readonly score_history: readonly number[];
  /** Median of `score_history`, zero-padded to 3 entries (`compute_score`). */
  readonly computed_score: number;
  /** Highest `computed_score` so far. */
  readonly top_score: number;
  /** True until `computed_score` ≥ the label's `threshold`; once false, stays false. */
  readonly false_positive: boolean;
  /** Matched frames since the position last changed. */
  readonly motionless_count: number;
  /** Position changes: the first one, then only moves out of a stationary state (Frigate's rule). */
  readonly position_changes: number;
  /** True once the position has held for `detect.stationary_after` seconds. */
  readonly stationary: boolean;
  /** Set when the track is removed. */
  readonly end_time: number | null;
}

/** What one {@link ObjectTracker.update} did. Every array holds live {@link Track} objects. */
export interface TrackerUpdate {
  /** The frame time passed in, Unix seconds. */
  frame_time: number;
  /** Every track alive after this frame (seen or missed), oldest first. */
  tracks: Track[];
  /** Tracks started on this frame (also in `tracks`). */
  created: Track[];
  /** Existing tracks matched on this frame (also in `tracks`). */
  updated: Track[];
  /** Alive tracks not matched on this frame where the model looked (also in `tracks`); held tracks (outside every region) are in `tracks` only. */
  missed: Track[];
  /** Tracks removed on this frame (unseen > `detect.max_disappeared` s), `end_time` = frame time. */
  removed: Track[];
}

/** Options for {@link ObjectTracker}. */
export interface TrackerOptions {
  /** Random source in [0, 1) for id suffixes; defaults to `Math.random`. */
  random?: () => number;
}

interface Position {
  xmins: number[];
  ymins: number[];
  xmaxs: number[];
  ymaxs: number[];
  box: Box;
}

type MutableTrack = { -readonly [K in keyof Track]: Track[K] } & {
  score_history: number[];
  position: Position;
  /** Frame time the current position was established. */
  still_since: number;
  /** Centre velocity, px/s (mean of the last estimate and the newest step); null until seen twice. */
  velocity: [number, number] | null;
};

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Tracks the objects of one camera across frames.
 *
 * Feed it detections that passed `passesFilter` (`object-filter.ts`);
 * it does no filtering itself. Per label, each alive track's box is predicted to the
 * new frame time (constant velocity), then pairs are matched greedily, highest IoU
 * first (IoU ≥ {@link MATCH_IOU}); leftovers are matched greedily by smallest
 * {@link frigateDistance} (≤ {@link MATCH_MAX_DISTANCE}), which keeps small or fast
 * boxes that no longer overlap. Unmatched detections start tracks; unmatched tracks
 * are kept until unseen for more than `cam.detect.max_disappeared` seconds.
 */
export class ObjectTracker {
  private readonly tracks = new Map<string, MutableTrack>();
  private readonly random: () => number;
  /** Unix s until which no track is removed for being unseen ({@link ObjectTracker.holdUntil}). */
  private heldUntil = 0;

  /** @param cam the camera's defaulted config (`detect`, `objects.filters`). */
  constructor(
    private readonly cam: CameraConfig,
    opts: TrackerOptions = {},
  ) {
    this.random = opts.random ?? Math.random;
  }

  /** Alive tracks, oldest first. */
  get active(): Track[] {
    return [...this.tracks.values()];
  }

  /**
   * Removes no track for being unseen before `until` (Unix seconds): after a stretch in
   * which no frames could arrive (the detector's broker connection was down), every track
   * gets `detect.max_disappeared` seconds of new frames to be seen again instead of ending
   * on the first frame, or tick, after the gap. Later calls only extend the hold.
   */
  holdUntil(until: number): void {
    this.heldUntil = Math.max(this.heldUntil, until);
  }

  /**
   * Process one frame.
   *
   * @param detections filtered detections, boxes in px of `frameSize`
   * @param frameTime capture time, Unix seconds; should not go backwards
   * @param frameSize detect frame size, px (used to clip predicted boxes)
   * @param looked where the model looked (regions, px); omitted = the whole frame. An
   *   unmatched track whose box centre lies outside every one of them is held: not missed,
   *   its `last_seen` moves to this frame (Frigate's `update_frame_times` for stationary
   *   objects outside the regions).
   */
  update(detections: RawDetection[], frameTime: number, frameSize: { width: number; height: number }, looked?: Box[]): TrackerUpdate {
    const created: Track[] = [];
    const updated: Track[] = [];
    const missed: Track[] = [];
    const removed: Track[] = [];
    const matchedTracks = new Set<string>();
    const matchedDets = new Set<number>();

    const labels = new Set<string>([...detections.map((d) => d.label)]);
    for (const label of labels) {
      const dets = detections.map((d, i) => ({ d, i })).filter(({ d }) => d.label === label);
      const cands = [...this.tracks.values()].filter((t) => t.label === label);
      const predicted = new Map(cands.map((t) => [t.id, this.predict(t, frameTime, frameSize)]));

      const byIou: Array<{ t: MutableTrack; i: number; v: number }> = [];
      for (const t of cands)
        for (const { d, i } of dets) {
          const v = iou(predicted.get(t.id)!, d.box);
          if (v >= MATCH_IOU) byIou.push({ t, i, v });
        }
      byIou.sort((a, b) => b.v - a.v);
      for (const { t, i } of byIou) {
        if (matchedTracks.has(t.id) || matchedDets.has(i)) continue;
        matchedTracks.add(t.id);
        matchedDets.add(i);
        this.observe(t, detections[i]!, frameTime);
        updated.push(t);
      }

      const byDist: Array<{ t: MutableTrack; i: number; v: number }> = [];
      for (const t of cands) {
        if (matchedTracks.has(t.id)) continue;
        for (const { d, i } of dets) {
          if (matchedDets.has(i)) continue;
          const v = frigateDistance(predicted.get(t.id)!, d.box);
          if (v <= MATCH_MAX_DISTANCE) byDist.push({ t, i, v });
        }
      }
      byDist.sort((a, b) => a.v - b.v);
      for (const { t, i } of byDist) {
        if (matchedTracks.has(t.id) || matchedDets.has(i)) continue;
        matchedTracks.add(t.id);
        matchedDets.add(i);
        this.observe(t, detections[i]!, frameTime);
        updated.push(t);
      }
    }

    for (const t of [...this.tracks.values()]) {
      if (matchedTracks.has(t.id)) continue;
      if (looked && !looked.some((r) => containsCentre(r, t.box))) {
        t.frame_time = frameTime;
        t.last_seen = frameTime;
        t.seen = false;
        continue;
      }
      if (frameTime - t.last_seen > this.cam.detect.max_disappeared && frameTime > this.heldUntil) {
        t.frame_time = frameTime;
        t.seen = false;
        removed.push(this.remove(t, frameTime));
      } else {
        this.miss(t, frameTime);
        missed.push(t);
      }
    }

    detections.forEach((d, i) => {
      if (!matchedDets.has(i)) created.push(this.create(d, frameTime));
    });

    return { frame_time: frameTime, tracks: this.active, created, updated, missed, removed };
  }

  /**
   * End tracks unseen for more than `detect.max_disappeared` seconds at `now` (Unix
   * seconds) — for when no frames arrive (nothing moves, or the camera stalled). Stationary
   * tracks are held instead (`last_seen` = now): the camera sends no frames while only they
   * are there, and motion or the next periodic frame confirms them (a camera that goes
   * offline ends them all through {@link endAll}). Returns the removed tracks with
   * `end_time = now`.
   */
  expire(now: number): Track[] {
    const out: Track[] = [];
    for (const t of [...this.tracks.values()]) {
      if (t.stationary) { t.last_seen = Math.max(t.last_seen, now); continue; }
      if (now - t.last_seen > this.cam.detect.max_disappeared && now > this.heldUntil) out.push(this.remove(t, now));
    }
    return out;
  }

  /** End every track at `now` (Unix seconds); returns them with `end_time = now`. */
  endAll(now: number): Track[] {
    return [...this.tracks.values()].map((t) => this.remove(t, now));
  }

  private remove(t: MutableTrack, now: number): Track {
    t.end_time = now;
    this.tracks.delete(t.id);
    return t;
  }

  private predict(t: MutableTrack, frameTime: number, size: { width: number; height: number }): Box {
    const dt = Math.min(Math.max(frameTime - t.last_seen, 0), this.cam.detect.max_disappeared);
    const [vx, vy] = t.velocity ?? [0, 0];
    const dx = vx * dt;
    const dy = vy * dt;
    const [x1, y1, x2, y2] = t.box;
    const clip = (v: number, max: number) => Math.min(Math.max(v, 0), max);
    return [clip(x1 + dx, size.width), clip(y1 + dy, size.height), clip(x2 + dx, size.width), clip(y2 + dy, size.height)];
  }

  private create(d: RawDetection, frameTime: number): Track {
    let suffix = '';
    for (let k = 0; k < 6; k++) suffix += ID_CHARS[Math.floor(this.random() * ID_CHARS.length) % ID_CHARS.length];
    const box: Box = [...d.box];
    const t: MutableTrack = {
      id: `${frameTime.toFixed(6)}-${suffix}`,
      label: d.label,
      start_time: frameTime,
      last_seen: frameTime,
      frame_time: frameTime,
      seen: true,
      score: d.score,
      box,
      score_history: [],
      computed_score: 0,
      top_score: 0,
      false_positive: true,
      motionless_count: 0,
      position_changes: 0,
      stationary: false,
      end_time: null,
      position: newPosition(box),
      still_since: frameTime,
      velocity: null,
    };
    this.tracks.set(t.id, t);
    this.score(t, d.score);
    return t;
  }

  private observe(t: MutableTrack, d: RawDetection, frameTime: number): void {
    const dt = frameTime - t.last_seen;
    if (dt > 0) {
      const [ox, oy] = centre(t.box);
      const [nx, ny] = centre(d.box);
      const v: [number, number] = [(nx - ox) / dt, (ny - oy) / dt];
      t.velocity = t.velocity ? [(t.velocity[0] + v[0]) / 2, (t.velocity[1] + v[1]) / 2] : v;
    }
    t.box = [...d.box];
    t.score = d.score;
    t.last_seen = frameTime;
    t.frame_time = frameTime;
    t.seen = true;
    this.score(t, d.score);
    this.updatePosition(t, frameTime);
  }

  private miss(t: MutableTrack, frameTime: number): void {
    t.frame_time = frameTime;
    t.seen = false;
    this.score(t, 0);
  }

  /** `tracked_object.py` `update` + `compute_score` + `_is_false_positive`. */
  private score(t: MutableTrack, s: number): void {
    t.score_history.push(s);
    if (t.score_history.length > SCORE_HISTORY) t.score_history.splice(0, t.score_history.length - SCORE_HISTORY);
    t.computed_score = computeScore(t.score_history);
    if (t.computed_score > t.top_score) t.top_score = t.computed_score;
    if (t.false_positive) t.false_positive = t.computed_score < filterFor(this.cam, t.label).threshold;
  }

  /** `update_position` (centroid tracker), with `stationary` after `stationary_after` seconds. */
  private updatePosition(t: MutableTrack, frameTime: number): void {
    const p = t.position;
    if (iou(p.box, t.box) < STATIONARY_IOU) {
      if (t.position_changes === 0 || t.stationary) t.position_changes += 1;
      t.position = newPosition(t.box);
      t.motionless_count = 0;
      t.still_since = frameTime;
      t.stationary = false;
      return;
    }
    if (p.xmins.length < POSITION_HISTORY) {
      p.xmins.push(t.box[0]);
      p.ymins.push(t.box[1]);
      p.xmaxs.push(t.box[2]);
      p.ymaxs.push(t.box[3]);
      p.box = [percentile(p.xmins, 15), percentile(p.ymins, 15), percentile(p.xmaxs, 85), percentile(p.ymaxs, 85)];
    }
    t.motionless_count += 1;
    t.stationary = frameTime - t.still_since >= this.cam.detect.stationary_after;
  }
}

function newPosition(box: Box): Position {
  return { xmins: [box[0]], ymins: [box[1]], xmaxs: [box[2]], ymaxs: [box[3]], box: [...box] };
}

/**
 * Frigate's computed score (`tracked_object.py` `compute_score`): the median of the
 * score history (0–1 each), padded with zeros to at least 3 entries.
 */
export function computeScore(history: readonly number[]): number {
  const s = [...history];
  while (s.length < 3) s.push(0);
  s.sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** numpy's default (linear) percentile of a non-empty array, `p` in 0–100. */
function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** True when the centre of `box` lies inside `region`. */
function containsCentre(region: Box, box: Box): boolean {
  const [cx, cy] = centre(box);
  return cx >= region[0] && cx <= region[2] && cy >= region[1] && cy <= region[3];
}
