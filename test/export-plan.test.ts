/**
 * The export cut planner (`hub/services/export-plan.ts`): where a wall-clock range falls on
 * ffmpeg's concat timeline of recording segments, and which ranges and requests are refused
 * (domain errors with their codes and fields).
 */
import { describe, expect, it } from 'vitest';
import { DomainError, InvalidInput } from '../hub/errors.ts';
import { checkExportRequest, checkRange, MAX_RANGE_S, planCut, segmentDuration } from '../hub/services/export-plan.ts';
import type { RecordingRow } from '../hub/store/recordings-repo.ts';

/** A segment row of `cam1` from `start` for `duration` seconds (`duration` 0: only start/end known). */
function seg(start: number, end: number, duration = end - start): RecordingRow {
  return { id: `cam1:${start.toFixed(3)}`, camera: 'cam1', path: `cam1/${start}.mp4`, start_time: start, end_time: end, duration, bytes: 1000, motion: false, objects: false };
}

/** The error `fn` throws (fails when it throws nothing). */
function thrown(fn: () => void): DomainError {
  try { fn(); } catch (err) { return err as DomainError; }
  throw new Error('expected a throw');
}

describe('segmentDuration', () => {
  it('uses duration, else end − start, never negative', () => {
    expect(segmentDuration(seg(100, 105))).toBe(5);
    expect(segmentDuration(seg(100, 105, 4.8))).toBe(4.8);
    expect(segmentDuration(seg(100, 106.5, 0))).toBe(6.5);
    expect(segmentDuration(seg(100, 99, 0))).toBe(0);
  });
});

describe('planCut', () => {
  const a = seg(1000, 1005);
  const b = seg(1005, 1010);

  it('cuts a range inside one segment', () => {
    expect(planCut([a], 1001, 1003.5)).toEqual({ ss: 1, t: 2.5, start: 1001, end: 1003.5 });
  });

  it('cuts a range across two contiguous segments', () => {
    const p = planCut([a, b], 1002.5, 1007.5)!;
    expect(p.ss).toBeCloseTo(2.5, 9);
    expect(p.t).toBeCloseTo(5, 9);
    expect(p.start).toBe(1002.5);
    expect(p.end).toBe(1007.5);
  });

  it('skips a gap between segments: the output is shorter than the wall-clock span', () => {
    const late = seg(1010, 1015);
    // 3 s of the first segment (1002–1005), nothing for the gap 1005–1010, 2 s of the second (1010–1012).
    expect(planCut([a, late], 1002, 1012)).toEqual({ ss: 2, t: 5, start: 1002, end: 1012 });
  });

  it('starts a range that begins in a gap at the next segment', () => {
    const late = seg(1010, 1015);
    expect(planCut([late], 1007, 1012)).toEqual({ ss: 0, t: 2, start: 1010, end: 1012 });
  });

  it('ends a range that runs past the recordings with the last segment', () => {
    expect(planCut([a, b], 1003, 1020)).toEqual({ ss: 3, t: 7, start: 1003, end: 1010 });
  });

  it('uses end − start when a row has no duration', () => {
    expect(planCut([seg(1000, 1004, 0), seg(1004, 1008, 0)], 1001, 1006)).toEqual({ ss: 1, t: 5, start: 1001, end: 1006 });
  });

  it('returns null when nothing of the range is recorded', () => {
    expect(planCut([], 1000, 1010)).toBeNull();
    // Past the end of the only segment.
    expect(planCut([a], 1005, 1008)).toBeNull();
    // 50 ms or less is nothing.
    expect(planCut([a], 1004.96, 1006)).toBeNull();
  });
});

describe('checkRange / checkExportRequest', () => {
  it('accepts a range up to MAX_RANGE_S', () => {
    expect(MAX_RANGE_S).toBe(86_400);
    expect(() => checkRange(0, MAX_RANGE_S)).not.toThrow();
    expect(() => checkExportRequest({ camera: 'cam1', start: 1000, end: 1001 })).not.toThrow();
  });

  it('refuses bad ranges with validation_failed and the field', () => {
    const cases: Array<[number, number, string, string]> = [
      [Number.NaN, 10, 'start', 'start: must be Unix seconds'],
      [-1, 10, 'start', 'start: must be Unix seconds'],
      [10, Number.POSITIVE_INFINITY, 'end', 'end: must be later than start'],
      [10, 10, 'end', 'end: must be later than start'],
      [10, 5, 'end', 'end: must be later than start'],
      [0, MAX_RANGE_S + 1, 'end', 'end: a range is at most 86400 s'],
    ];
    for (const [start, end, field, message] of cases) {
      const e = thrown(() => checkRange(start, end));
      expect(e, `${start}–${end}`).toBeInstanceOf(InvalidInput);
      expect({ kind: e.kind, code: e.code, field: e.field, message: e.message }).toEqual({ kind: 'invalid', code: 'validation_failed', field, message });
    }
  });

  it('refuses a bad camera name before the range', () => {
    for (const camera of ['../x', 'Cam 1', '']) {
      const e = thrown(() => checkExportRequest({ camera, start: 10, end: 5 }));
      expect({ kind: e.kind, code: e.code, field: e.field, message: e.message }).toEqual({ kind: 'invalid', code: 'validation_failed', field: 'camera', message: 'camera: not a camera name' });
    }
    expect(thrown(() => checkExportRequest({ camera: 'cam1', start: 10, end: 5 })).field).toBe('end');
  });
});
