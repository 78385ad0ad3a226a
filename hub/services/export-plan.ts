/**
 * The pure part of exports: which part of a run of recording segments a time range is,
 * once ffmpeg's concat demuxer has laid the segments end to end, and which ranges may be
 * asked for at all. No I/O; times are Unix seconds, durations seconds.
 *
 * The concat timeline starts at 0 at the first segment's start and runs through each
 * segment's duration in turn, so a gap between two segments takes no time on it: a range
 * across a gap comes out shorter than its wall-clock span.
 */
import { cameraName } from '../../components/protocol/camera-config.ts';
import { InvalidInput } from '../errors.ts';
import type { RecordingRow } from '../store/recordings-repo.ts';

/** Longest range one export, clip or range file may span, seconds (24 h). */
export const MAX_RANGE_S = 24 * 3600;

/** A range of segments laid out on the concat timeline. Seconds. */
export interface CutPlan {
  /** Offset of the first output frame from the first segment's start (`-ss`), seconds. */
  ss: number;
  /** Output duration (`-t`), seconds: the range's length minus the gaps inside it. */
  t: number;
  /** Wall-clock start the output covers, Unix seconds (≥ the first segment's start). */
  start: number;
  /** Wall-clock end the output covers, Unix seconds (≤ the last segment's end; gaps inside are skipped). */
  end: number;
}

/** Duration of a segment row, seconds: its `duration` when positive, else `end_time − start_time` (never negative). */
export function segmentDuration(s: Pick<RecordingRow, 'duration' | 'start_time' | 'end_time'>): number {
  return s.duration > 0 ? s.duration : Math.max(0, s.end_time - s.start_time);
}

/**
 * Lays `segments` end to end, as the concat demuxer does, and finds where `[start, end]`
 * (Unix seconds) falls on that timeline.
 *
 * Example: segments `[100, 105]` and `[110, 115]` (a 5 s gap), range `[102, 112]` →
 * `{ss: 2, t: 5, start: 102, end: 112}` (3 s of the first segment, 2 s of the second).
 * A range starting in a gap starts at the next segment; one ending after the last
 * segment ends with it.
 * @param segments rows overlapping the range, oldest first (as `RecordingsRepo.overlapping` returns them)
 * @returns the plan, or null when the segments cover nothing (≤ 50 ms) of the range
 */
export function planCut(segments: RecordingRow[], start: number, end: number): CutPlan | null {
  const first = segments[0];
  if (!first) return null;
  const firstDur = segmentDuration(first);
  const ss = Math.min(Math.max(0, start - first.start_time), firstDur);
  let cum = 0;
  let endPos: number | undefined;
  let wallEnd = first.start_time;
  for (const s of segments) {
    const d = segmentDuration(s);
    wallEnd = s.start_time + Math.min(d, Math.max(0, end - s.start_time));
    if (end <= s.start_time + d) { endPos = cum + Math.max(0, end - s.start_time); break; }
    cum += d;
  }
  endPos ??= cum;
  const t = endPos - ss;
  if (!(t > 0.05)) return null;
  return { ss, t, start: first.start_time + ss, end: Math.max(first.start_time + ss, Math.min(end, wallEnd)) };
}

/**
 * Checks a range (Unix seconds) may be exported.
 * @throws InvalidInput `validation_failed` with field `start` when `start` is not finite or negative,
 *   with field `end` when `end` is not finite, not later than `start`, or more than {@link MAX_RANGE_S} after it
 */
export function checkRange(start: number, end: number): void {
  if (!Number.isFinite(start) || start < 0) throw new InvalidInput('start: must be Unix seconds', 'start');
  if (!Number.isFinite(end) || end <= start) throw new InvalidInput('end: must be later than start', 'end');
  if (end - start > MAX_RANGE_S) throw new InvalidInput(`end: a range is at most ${MAX_RANGE_S} s`, 'end');
}

/**
 * Checks what an export or clip job is asked for: a camera name and a range (see {@link checkRange}).
 * @param req `{camera, start, end}`, times Unix seconds
 * @throws InvalidInput `validation_failed` with field `camera` on a bad camera name, else as {@link checkRange}
 */
export function checkExportRequest(req: { camera: string; start: number; end: number }): void {
  if (!cameraName.safeParse(req.camera).success) throw new InvalidInput('camera: not a camera name', 'camera');
  checkRange(req.start, req.end);
}
