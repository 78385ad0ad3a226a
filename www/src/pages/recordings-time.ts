/**
 * The arithmetic of the Recordings page, without DOM: local days, local date-time inputs
 * with seconds, runs of recorded segments, and the map between a range file's playback
 * position and wall-clock time.
 *
 * Range files (`GET /api/cameras/:name/recordings.mp4?start&end`, hub/services/export-plan.ts
 * `planCut`) lay the segments overlapping the range end to end: a gap between two segments
 * takes no time in the file. {@link wallAt} and {@link positionOf} walk the same segments
 * the same way, so the playhead shows the wall-clock time of the frame on screen.
 * All times are Unix seconds; durations are seconds.
 */

/** What the page needs of a `GET /api/recordings` row (hub/store/recordings-repo.ts `RecordingRow`). */
export interface Segment {
  id: string;
  start_time: number;
  end_time: number;
  /** Seconds; 0 or less means "use end − start". */
  duration: number;
  bytes?: number;
  /** Motion was seen during the segment. */
  motion?: boolean;
  /** A tracked object (event) overlapped the segment. */
  objects?: boolean;
}

/** A time range, Unix seconds (`start < end`). */
export interface Span { start: number; end: number }

/** Length of the playback windows the page asks for, seconds (5 min: a cached range file per window). */
export const WINDOW_S = 300;
/** Two segments closer than this are one run on the timeline, seconds (segment starts are rounded to keyframes). */
export const JOIN_S = 2;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * The local day `YYYY-MM-DD` as `[start, end)`: local midnight to the next local midnight
 * (23 or 25 h on daylight-saving days).
 * @returns null when `day` is not a valid date
 */
export function dayBounds(day: string): Span | null {
  const m = DAY_RE.exec(day);
  if (!m) return null;
  const y = Number(m[1]), mo = Number(m[2]) - 1, d = Number(m[3]);
  const start = new Date(y, mo, d);
  if (start.getFullYear() !== y || start.getMonth() !== mo || start.getDate() !== d) return null;
  return { start: start.getTime() / 1000, end: new Date(y, mo, d + 1).getTime() / 1000 };
}

/** The local day (`YYYY-MM-DD`) of a Unix time. */
export function dayOf(unixS: number): string {
  const d = new Date(unixS * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** `day` moved by `n` days (local calendar). @returns `day` unchanged when it is not a date */
export function shiftDay(day: string, n: number): string {
  const b = dayBounds(day);
  if (!b) return day;
  const d = new Date(b.start * 1000);
  return dayOf(new Date(d.getFullYear(), d.getMonth(), d.getDate() + n).getTime() / 1000);
}

/** A Unix time as an `<input type="datetime-local" step="1">` value, local time with seconds. */
export function toLocalSeconds(unixS: number): string {
  const d = new Date(Math.floor(unixS) * 1000);
  return `${dayOf(unixS)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** An `<input type="datetime-local">` value (with or without seconds) as Unix seconds; null when empty or invalid. */
export function fromLocalSeconds(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(v.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const t = new Date(y, mo - 1, d, h, mi, s);
  if (t.getMonth() !== mo - 1 || t.getDate() !== d) return null;
  return t.getTime() / 1000;
}

/** Local clock time `HH:MM:SS` (24 h) of a Unix time; `HH:MM` with `short`. */
export function clock(unixS: number, short = false): string {
  const d = new Date(unixS * 1000);
  return short ? `${pad(d.getHours())}:${pad(d.getMinutes())}` : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A segment's length, seconds: `duration` when positive, else `end − start` (as the hub's `segmentDuration`). */
export function segmentDuration(s: Segment): number {
  return s.duration > 0 ? s.duration : Math.max(0, s.end_time - s.start_time);
}

/**
 * Runs of segments (sorted by start) that match `keep`, adjacent ones (gap ≤ {@link JOIN_S})
 * merged: what the timeline draws as one bar.
 */
export function runs(segs: Segment[], keep: (s: Segment) => boolean = () => true): Span[] {
  const out: Span[] = [];
  for (const s of segs) {
    if (!keep(s)) continue;
    const last = out[out.length - 1];
    if (last && s.start_time - last.end <= JOIN_S) last.end = Math.max(last.end, s.end_time);
    else out.push({ start: s.start_time, end: s.end_time });
  }
  return out;
}

/** The segments overlapping `[start, end)`, oldest first (as the hub's `RecordingsRepo.overlapping`). */
export function overlapping(segs: Segment[], start: number, end: number): Segment[] {
  return segs.filter((s) => s.end_time > start && s.start_time < end).sort((a, b) => a.start_time - b.start_time);
}

/**
 * `t` itself when a segment covers it, else the start of the first segment after it.
 * @returns null when nothing is recorded at or after `t`
 */
export function nextRecorded(segs: Segment[], t: number): number | null {
  let best: number | null = null;
  for (const s of segs) {
    if (s.start_time <= t && t < s.end_time) return t;
    if (s.start_time > t && (best === null || s.start_time < best)) best = s.start_time;
  }
  return best;
}

/** Whether a segment covers `t`. */
export function isRecorded(segs: Segment[], t: number): boolean {
  return segs.some((s) => s.start_time <= t && t < s.end_time);
}

/** The playback window holding `t`: `[k·WINDOW_S, (k+1)·WINDOW_S)` — fixed, so the hub's range-file cache is reused. */
export function windowAt(t: number, size = WINDOW_S): Span {
  const start = Math.floor(t / size) * size;
  return { start, end: start + size };
}

/** Where the range file of `[start, end)` begins in its first segment (the `-ss` of hub/services/export-plan.ts `planCut`). */
function firstOffset(segs: Segment[], start: number): number {
  const first = segs[0];
  return first ? Math.min(Math.max(0, start - first.start_time), segmentDuration(first)) : 0;
}

/**
 * The wall-clock time shown at `position` s into the range file of `range`.
 * @param segs the segments overlapping `range`, oldest first ({@link overlapping})
 * @returns Unix seconds; past the end, the last segment's end; `range.start` when there is no segment
 */
export function wallAt(segs: Segment[], range: Span, position: number): number {
  if (!segs.length) return range.start + position;
  let q = firstOffset(segs, range.start) + Math.max(0, position);
  for (const s of segs) {
    const d = segmentDuration(s);
    if (q < d) return Math.min(s.start_time + q, range.end);
    q -= d;
  }
  const last = segs[segs.length - 1]!;
  return Math.min(last.start_time + segmentDuration(last), range.end);
}

/**
 * The position (s) in the range file of `range` that shows wall-clock time `t`; a `t` in a
 * gap maps to the start of the next segment.
 * @param segs the segments overlapping `range`, oldest first ({@link overlapping})
 */
export function positionOf(segs: Segment[], range: Span, t: number): number {
  let q = 0;
  for (const s of segs) {
    const d = segmentDuration(s);
    if (t < s.start_time) break;
    if (t < s.start_time + d) { q += t - s.start_time; break; }
    q += d;
  }
  return Math.max(0, q - firstOffset(segs, range.start));
}
