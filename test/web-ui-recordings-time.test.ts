/**
 * The Recordings page's time arithmetic (www/src/pages/recordings-time.ts) against the
 * hub's own cut planning (hub/services/export-plan.ts `planCut`, which makes the range
 * files the page plays): the page's map from a range file's position to wall-clock time
 * must start where the hub's file starts and end where it ends, gaps included. Also local
 * days across a daylight-saving change (TZ set to Europe/Berlin for that case) and the
 * `datetime-local` round trip.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { planCut } from '../hub/services/export-plan.ts';
import type { RecordingRow } from '../hub/store/recordings-repo.ts';
import {
  dayBounds, fromLocalSeconds, nextRecorded, overlapping, positionOf, runs, shiftDay, toLocalSeconds, wallAt, windowAt,
} from '../www/src/pages/recordings-time.ts';

/** Segments of `lens` seconds from `t0`, with `gaps[i]` seconds before segment i (0 when missing). */
function layout(t0: number, lens: number[], gaps: number[] = []): RecordingRow[] {
  let t = t0;
  return lens.map((d, i) => {
    t += gaps[i] ?? 0;
    const row: RecordingRow = { id: `cam:${t}`, camera: 'cam', path: `p${i}`, start_time: t, end_time: t + d, duration: d, bytes: 1, motion: i % 2 === 0, objects: false };
    t += d;
    return row;
  });
}

describe('range files: position ⇄ wall clock as the hub cuts them', () => {
  // Segments of 10, 9.6 and 10.4 s with a 7 s gap before the third; ranges inside, across the gap, from a gap.
  const segs = layout(1_800_000_003.2, [10, 9.6, 10.4, 10], [0, 0, 7, 0]);
  const ranges: [number, number][] = [[1_800_000_000, 1_800_000_300], [1_800_000_005, 1_800_000_020], [1_800_000_020, 1_800_000_040], [1_800_000_024, 1_800_000_031], [1_800_000_010.5, 1_800_000_045]];
  for (const [start, end] of ranges) {
    it(`[${start - 1_800_000_000}, ${end - 1_800_000_000}]`, () => {
      const mine = overlapping(segs, start, end);
      const plan = planCut(mine as RecordingRow[], start, end)!;
      expect(plan).not.toBeNull();
      const range = { start, end };
      // Position 0 shows the plan's first wall-clock second; the file's end (t) its last.
      expect(wallAt(mine, range, 0)).toBeCloseTo(plan.start, 6);
      expect(wallAt(mine, range, plan.t)).toBeCloseTo(plan.end, 6);
      expect(positionOf(mine, range, plan.start)).toBeCloseTo(0, 6);
      expect(positionOf(mine, range, plan.end)).toBeCloseTo(plan.t, 6);
      // Round trips inside recorded time, every 0.7 s of the file.
      for (let p = 0; p < plan.t; p += 0.7) expect(positionOf(mine, range, wallAt(mine, range, p))).toBeCloseTo(p, 6);
    });
  }

  it('maps a time in a gap to the next segment', () => {
    const gapTime = segs[1]!.end_time + 3;
    const range = windowAt(gapTime);
    const mine = overlapping(segs, range.start, range.end);
    expect(wallAt(mine, range, positionOf(mine, range, gapTime))).toBeCloseTo(segs[2]!.start_time, 6);
    expect(nextRecorded(segs, gapTime)).toBe(segs[2]!.start_time);
    expect(nextRecorded(segs, segs[0]!.start_time + 1)).toBe(segs[0]!.start_time + 1);
    expect(nextRecorded(segs, segs[3]!.end_time)).toBeNull();
  });

  it('merges adjacent segments into runs and keeps the gap', () => {
    expect(runs(segs)).toEqual([{ start: segs[0]!.start_time, end: segs[1]!.end_time }, { start: segs[2]!.start_time, end: segs[3]!.end_time }]);
    expect(runs(segs, (s) => s.motion === true)).toHaveLength(2); // segments 0 and 2: not adjacent
  });

  it('uses fixed 5-minute windows', () => {
    const w = windowAt(1_800_000_123.4);
    expect(w.end - w.start).toBe(300);
    expect(w.start % 300).toBe(0);
    expect(w.start).toBeLessThanOrEqual(1_800_000_123.4);
    expect(windowAt(w.start + 299.9)).toEqual(w);
  });
});

describe('local days', () => {
  const tz = process.env.TZ;
  afterEach(() => { if (tz === undefined) delete process.env.TZ; else process.env.TZ = tz; });

  it('has 23 h on the spring daylight-saving day and 25 h in autumn (Europe/Berlin)', () => {
    process.env.TZ = 'Europe/Berlin';
    const spring = dayBounds('2026-03-29')!;
    expect(spring.end - spring.start).toBe(23 * 3600);
    expect(new Date(spring.start * 1000).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    const autumn = dayBounds('2026-10-25')!;
    expect(autumn.end - autumn.start).toBe(25 * 3600);
    expect(shiftDay('2026-03-29', 1)).toBe('2026-03-30');
    expect(shiftDay('2026-03-01', -1)).toBe('2026-02-28');
    expect(shiftDay('2026-12-31', 1)).toBe('2027-01-01');
  });

  it('refuses what is not a date', () => {
    for (const d of ['', '2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', 'today']) expect(dayBounds(d)).toBeNull();
  });

  it('round-trips datetime-local values with seconds', () => {
    process.env.TZ = 'America/New_York';
    const t = Date.UTC(2026, 6, 4, 16, 5, 9) / 1000;
    expect(toLocalSeconds(t)).toBe('2026-07-04T12:05:09');
    expect(fromLocalSeconds('2026-07-04T12:05:09')).toBe(t);
    expect(fromLocalSeconds('2026-07-04T12:05')).toBe(t - 9);
    expect(fromLocalSeconds('2026-02-30T10:00:00')).toBeNull();
    expect(fromLocalSeconds('nonsense')).toBeNull();
  });
});
