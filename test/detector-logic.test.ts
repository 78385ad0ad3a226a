import { describe, expect, it } from 'vitest';
import { cameraConfig, type CameraConfig, type CameraConfigInput } from '../components/protocol/camera-config.ts';
import { EventLifecycle, type FrameResult } from '../components/detector/event-lifecycle.ts';
import {
  areaLimitPx,
  bottomCentre,
  boxArea,
  iou,
  normalizedToPx,
  pointInPolygon,
} from '../components/protocol/geometry.ts';
import { passesFilter } from '../components/detector/object-filter.ts';
import { computeScore, ObjectTracker } from '../components/detector/tracker.ts';
import type { Box, EventMessage } from '../components/protocol/tracked-object.ts';
import type { RawDetection } from '../components/detector/types.ts';
import { initialZoneState, updateZones } from '../components/detector/zones.ts';

const T0 = 1_700_000_000;
/** 4 fps: 0.25 s steps are exact in binary floating point. */
const DT = 0.25;
const SIZE = { width: 640, height: 480 };

function cam(over: Partial<CameraConfigInput> = {}): CameraConfig {
  return cameraConfig.parse({
    name: 'front',
    paths: { detect: 'rtsp://cam.local/stream' },
    detect: { width: 640, height: 480, fps: 4, max_disappeared: 2, stationary_after: 3 },
    objects: {
      track: ['person', 'car'],
      filters: { person: { min_score: 0.5, threshold: 0.7, min_area: 0.01, max_area: 50_000 } },
    },
    ...over,
  });
}

/** A deterministic random source (LCG). */
function seeded(seed = 42): () => number {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

const person = (box: Box, score = 0.9): RawDetection => ({ label: 'person', score, box });

/** Run frames `i = 0…` through a lifecycle; returns each frame's result. */
function run(lc: EventLifecycle, frames: RawDetection[][], start = 0): FrameResult[] {
  return frames.map((dets, i) => lc.processFrame(dets, T0 + (start + i) * DT, SIZE));
}

const walk = (i: number): Box => [20 + 12 * i, 300, 80 + 12 * i, 450];
const types = (ms: EventMessage[]) => ms.map((m) => m.type);

describe('geometry', () => {
  it('tests points, boxes and area limits', () => {
    const sq: Array<[number, number]> = [[0, 0], [10, 0], [10, 10], [0, 10]];
    expect(pointInPolygon([5, 5], sq)).toBe(true);
    expect(pointInPolygon([10, 5], sq)).toBe(true); // edge counts (cv2.pointPolygonTest >= 0)
    expect(pointInPolygon([11, 5], sq)).toBe(false);
    expect(pointInPolygon([5, 5], [[0, 0], [10, 0]])).toBe(false);
    expect(bottomCentre([10, 20, 30, 60])).toEqual([20, 60]);
    expect(boxArea([0, 0, 10, 20])).toBe(200);
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(normalizedToPx([[0.5, 0.25]], 640, 480)).toEqual([[320, 120]]);
    expect(areaLimitPx(0.01, 307_200)).toBeCloseTo(3072);
    expect(areaLimitPx(5000, 307_200)).toBe(5000);
  });

  it('computes the median score zero-padded to 3 (compute_score)', () => {
    expect(computeScore([0.9])).toBe(0);
    expect(computeScore([0.9, 0.8])).toBe(0.8);
    expect(computeScore([0.9, 0.8, 0.7, 0.6])).toBeCloseTo(0.75);
  });
});

describe('object filter', () => {
  const c = cam({ masks: [{ name: 'm', coordinates: [[0, 0], [0.25, 0], [0.25, 1], [0, 1]], applies_to: 'objects' }] });
  it('applies label, min_score, area and mask rules', () => {
    expect(passesFilter(person([300, 300, 360, 450]), c, 640, 480)).toBe(true);
    expect(passesFilter({ label: 'dog', score: 0.9, box: [300, 300, 360, 450] }, c, 640, 480)).toBe(false);
    expect(passesFilter(person([300, 300, 360, 450], 0.45), c, 640, 480)).toBe(false); // min_score
    expect(passesFilter(person([300, 400, 340, 450]), c, 640, 480)).toBe(false); // 2000 px² < 1% of frame
    expect(passesFilter(person([300, 200, 600, 450]), c, 640, 480)).toBe(false); // 75000 px² > 50000
    expect(passesFilter(person([60, 300, 120, 450]), c, 640, 480)).toBe(false); // bottom-centre x=90 in mask
    expect(passesFilter(person([130, 300, 190, 450]), c, 640, 480)).toBe(false); // x=160 on the mask edge counts as inside
    expect(passesFilter(person([140, 300, 200, 450]), c, 640, 480)).toBe(true); // x=170, right of the mask
    // A box reaching below the frame is clamped to the frame for the mask test.
    expect(passesFilter(person([60, 300, 120, 500]), c, 640, 480)).toBe(false);
  });
});

describe('event lifecycle', () => {
  const porch = { name: 'porch', coordinates: [[0.4, 0], [0.6, 0], [0.6, 1], [0.4, 1]] as Array<[number, number]>, inertia: 3 };

  it('walks a person through a zone: new, updates, end; counts; zone inertia', () => {
    const lc = new EventLifecycle(cam({ zones: [porch] }), { random: seeded() });
    const frames = Array.from({ length: 46 }, (_, i) => [person(walk(i))]);
    const res = run(lc, frames);
    const all = res.flatMap((r) => r.messages);

    // frame 0: history [0.9] → median of [0.9, 0, 0] = 0 → false positive, nothing published.
    expect(res[0]!.messages).toEqual([]);
    expect(res[0]!.counts.get('person')).toBe(0);
    expect(types(res[1]!.messages)).toEqual(['new']);
    const id = res[1]!.messages[0]!.after.id;
    expect(id).toMatch(/^1700000000\.000000-[a-z0-9]{6}$/);
    expect(res[1]!.messages[0]!.before.false_positive).toBe(true);
    expect(res[1]!.messages[0]!.after).toMatchObject({ false_positive: false, has_snapshot: true, has_clip: false, camera: 'front' });
    expect(res[1]!.counts.get('person')).toBe(1);
    expect(res[1]!.counts.get('all')).toBe(1);
    expect(res[1]!.counts.get('car')).toBe(0);
    expect(res[1]!.best.map((b) => b.id)).toEqual([id]);
    expect(all.every((m) => m.after.id === id)).toBe(true);
    expect(types(all).filter((t) => t === 'new')).toHaveLength(1);

    // Bottom-centre x = 50 + 12 i is inside the zone (256–384 px) for i = 18…27: enters after
    // 3 frames inside (i = 20), leaves after 3 frames outside (i = 30).
    const inZone = res.map((r, i) => (r.zoneCounts.get('porch')?.get('person') === 1 ? i : -1)).filter((i) => i >= 0);
    expect(inZone[0]).toBe(20);
    expect(inZone.at(-1)).toBe(29);
    expect(res[20]!.zoneCounts.get('porch')?.get('all')).toBe(1);
    const zoneUpdates = res.map((r, i) => (r.messages.some((m) => m.type === 'update' && !sameZones(m)) ? i : -1)).filter((i) => i >= 0);
    expect(zoneUpdates).toEqual([20, 30]);
    const entered = res[20]!.messages[0]!;
    expect(entered.before.current_zones).toEqual([]);
    expect(entered.after.current_zones).toEqual(['porch']);
    expect(res[30]!.messages[0]!.after).toMatchObject({ current_zones: [], entered_zones: ['porch'] });

    const updates = types(all).filter((t) => t === 'update');
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(updates.length).toBeLessThan(12); // not one per frame

    // Then nothing: the event ends once unseen for more than max_disappeared (2 s = 8 frames).
    const tail = run(lc, Array.from({ length: 12 }, () => []), 46);
    const endAt = tail.findIndex((r) => r.messages.some((m) => m.type === 'end'));
    expect(endAt).toBe(8); // 46 + 8 → 2.25 s after the last detection at frame 45
    const end = tail[endAt]!.messages;
    expect(types(end)).toEqual(['end']);
    expect(end[0]!.after.end_time).toBe(T0 + 54 * DT);
    expect(end[0]!.after.entered_zones).toEqual(['porch']);
    expect(tail[endAt - 1]!.counts.get('person')).toBe(1);
    expect(tail[endAt]!.counts.get('person')).toBe(0);
    expect(tail[endAt]!.counts.get('all')).toBe(0);
    // (An `update` may come first: > 5 s after the last publish, the box has moved.)
    expect(types(tail.flatMap((r) => r.messages)).filter((t) => t !== 'update')).toEqual(['end']);
    expect(end[0]!.before).toEqual(all.concat(tail.flatMap((r) => r.messages)).filter((m) => m.type === 'update').at(-1)!.after);
  });

  it('does not end the event on a flicker (one missing frame)', () => {
    const lc = new EventLifecycle(cam(), { random: seeded() });
    const frames = Array.from({ length: 20 }, (_, i) => (i === 10 ? [] : [person(walk(i))]));
    const res = run(lc, frames);
    const all = res.flatMap((r) => r.messages);
    expect(types(all).filter((t) => t !== 'update')).toEqual(['new']);
    expect(new Set(all.map((m) => m.after.id)).size).toBe(1);
    expect(res[10]!.counts.get('person')).toBe(1);
    expect(lc.objects).toHaveLength(1);
  });

  it('keeps distinct, stable ids for two people crossing', () => {
    const lc = new EventLifecycle(cam(), { random: seeded(7) });
    const a = (i: number): Box => [20 + 15 * i, 300, 80 + 15 * i, 450];
    const b = (i: number): Box => [560 - 15 * i, 310, 620 - 15 * i, 450];
    const res = run(lc, Array.from({ length: 37 }, (_, i) => [person(a(i)), person(b(i), 0.85)]));
    expect(res.at(-1)!.counts.get('person')).toBe(2);
    const objs = lc.objects;
    expect(objs).toHaveLength(2);
    expect(objs[0]!.id).not.toBe(objs[1]!.id);
    // Each id kept its own trajectory: the one that started on the left ends on the right.
    const left = objs.find((o) => o.box[1] === 300)!;
    const right = objs.find((o) => o.box[1] === 310)!;
    expect(left.box).toEqual(a(36));
    expect(right.box).toEqual(b(36));
    const news = res.flatMap((r) => r.messages).filter((m) => m.type === 'new');
    expect(news).toHaveLength(2);
    expect(new Set(res.flatMap((r) => r.messages).map((m) => m.after.id))).toEqual(new Set([left.id, right.id]));
    for (const m of res.flatMap((r) => r.messages)) {
      const traj = m.after.id === left.id ? a : b;
      expect(m.after.box[1]).toBe(traj(0)[1]);
    }
  });

  it('marks an object stationary after stationary_after seconds', () => {
    const lc = new EventLifecycle(cam(), { random: seeded() });
    const jitter = (i: number): Box => [300 + (i % 2), 300, 360 + (i % 2), 450];
    const res = run(lc, Array.from({ length: 20 }, (_, i) => [person(jitter(i))]));
    const st = res.map((r) => r.activeCounts.get('person'));
    // still since frame 0; stationary once 3 s (12 frames) have passed.
    const firstStationary = res.findIndex((r) => r.activeCounts.get('person') === 0 && r.counts.get('person') === 1);
    expect(firstStationary).toBe(12);
    expect(st[11]).toBe(1);
    // `all/active` follows: the only object, stationary, is counted in `all` but not in `all/active`.
    expect(res[11]!.activeCounts.get('all')).toBe(1);
    expect(res[12]!.activeCounts.get('all')).toBe(0);
    expect(res[12]!.counts.get('all')).toBe(1);
    // Every tracked label appears, zero included (`car` is tracked by default in cam()).
    expect([...res[12]!.activeCounts.keys()].sort()).toEqual([...res[12]!.counts.keys()].sort());
    const upd = res[12]!.messages;
    expect(types(upd)).toEqual(['update']);
    expect(upd[0]!.before.stationary).toBe(false);
    expect(upd[0]!.after.stationary).toBe(true);
    expect(upd[0]!.after.motionless_count).toBe(12);
    expect(upd[0]!.after.position_changes).toBe(0);
    // It walks off: active again, the first position change.
    const moved = run(lc, [[person([330, 300, 390, 450])]], 20)[0]!;
    expect(moved.messages[0]!.after).toMatchObject({ stationary: false, position_changes: 1, motionless_count: 0 });
    expect(moved.activeCounts.get('person')).toBe(1);
  });

  it('loiters: a loitering zone counts only after loitering_time', () => {
    const door = { name: 'door', coordinates: [[0.4, 0], [0.6, 0], [0.6, 1], [0.4, 1]] as Array<[number, number]>, inertia: 2, loitering_time: 2 };
    const lc = new EventLifecycle(cam({ zones: [door] }), { random: seeded() });
    const res = run(lc, Array.from({ length: 14 }, (_, i) => [person([290 + (i % 2), 300, 350 + (i % 2), 450])]));
    // Inside from frame 0; enters at frame 1 (inertia 2); loiters 2 s later (frame 9).
    expect(lc.objects[0]!.loitering).toBe(true);
    const loiterAt = res.findIndex((r) => r.zoneCounts.get('door')?.get('person') === 1);
    expect(loiterAt).toBe(9);
    const m = res[9]!.messages.find((x) => x.type === 'update')!;
    expect(m.before).toMatchObject({ loitering: false, current_zones: [], entered_zones: [] });
    expect(m.after).toMatchObject({ loitering: true, current_zones: ['door'], entered_zones: ['door'] });
  });

  it('zone threshold keeps low-scoring objects out of the zone', () => {
    const strict = { ...porch, name: 'strict', threshold: 0.95 };
    const lc = new EventLifecycle(cam({ zones: [porch, strict] }), { random: seeded() });
    const res = run(lc, Array.from({ length: 6 }, () => [person([290, 300, 350, 450])]));
    expect(res.at(-1)!.zoneCounts.get('porch')?.get('person')).toBe(1);
    expect(res.at(-1)!.zoneCounts.get('strict')?.get('person')).toBe(0);
    expect(lc.objects[0]!.entered_zones).toEqual(['porch']);
  });

  it('drops objects in an object mask, not in a motion mask', () => {
    const coordinates: Array<[number, number]> = [[0, 0], [0.25, 0], [0.25, 1], [0, 1]];
    const frames = Array.from({ length: 6 }, () => [person([60, 300, 120, 450])]);
    const masked = new EventLifecycle(cam({ masks: [{ name: 'tree', coordinates, applies_to: 'objects' }] }));
    const r1 = run(masked, frames);
    expect(r1.flatMap((r) => r.messages)).toEqual([]);
    expect(r1.at(-1)!.counts.get('all')).toBe(0);
    const motionOnly = new EventLifecycle(cam({ masks: [{ name: 'tree', coordinates, applies_to: 'motion' }] }));
    expect(types(run(motionOnly, frames).flatMap((r) => r.messages))).toEqual(['new']);
  });

  it('applies min_score, threshold and area filters', () => {
    const lowScore = new EventLifecycle(cam());
    expect(run(lowScore, Array.from({ length: 6 }, () => [person([300, 300, 360, 450], 0.45)])).flatMap((r) => r.messages)).toEqual([]);

    // 0.6 passes min_score (0.5) but its median never reaches threshold (0.7): a false positive.
    const belowThreshold = new EventLifecycle(cam());
    const r = run(belowThreshold, Array.from({ length: 12 }, () => [person([300, 300, 360, 450], 0.6)]));
    expect(r.flatMap((x) => x.messages)).toEqual([]);
    expect(r.at(-1)!.counts.get('person')).toBe(0);
    expect(belowThreshold.objects).toEqual([]);

    const tooSmall = new EventLifecycle(cam());
    expect(run(tooSmall, Array.from({ length: 6 }, () => [person([300, 400, 340, 450])])).flatMap((x) => x.messages)).toEqual([]);
    const tooBig = new EventLifecycle(cam());
    expect(run(tooBig, Array.from({ length: 6 }, () => [person([100, 100, 600, 450])])).flatMap((x) => x.messages)).toEqual([]);
  });

  it('expire() ends objects when frames stop; endAll() ends everything with zero counts', () => {
    const lc = new EventLifecycle(cam({ zones: [porch] }), { random: seeded() });
    run(lc, Array.from({ length: 5 }, () => [person([290, 300, 350, 450])]));
    const last = T0 + 4 * DT;
    expect(lc.expire(last + 2).messages).toEqual([]);
    const ex = lc.expire(last + 2.5);
    expect(types(ex.messages)).toEqual(['end']);
    expect(ex.messages[0]!.after.end_time).toBe(last + 2.5);
    expect(ex.counts.get('person')).toBe(0);
    expect(ex.activeCounts.get('person')).toBe(0);
    expect(ex.activeCounts.get('all')).toBe(0);

    run(lc, Array.from({ length: 5 }, () => [person([290, 300, 350, 450]), { label: 'car', score: 0.9, box: [400, 200, 600, 350] as Box }]), 100);
    const end = lc.endAll(T0 + 200);
    expect(types(end.messages)).toEqual(['end', 'end']);
    expect(end.messages.every((m) => m.after.end_time === T0 + 200)).toBe(true);
    expect([...end.counts.values()].every((v) => v === 0)).toBe(true);
    expect(end.activeCounts.size).toBeGreaterThanOrEqual(3); // person, car, all
    expect([...end.activeCounts.values()].every((v) => v === 0)).toBe(true);
    expect(end.zoneCounts.get('porch')?.get('all')).toBe(0);
    expect(lc.objects).toEqual([]);
  });
});

describe('tracker and zones in isolation', () => {
  it('creates ids from the frame time and removes tracks after max_disappeared', () => {
    const tr = new ObjectTracker(cam(), { random: seeded() });
    const u0 = tr.update([person([0, 0, 60, 150])], T0, SIZE);
    expect(u0.created).toHaveLength(1);
    expect(u0.created[0]!.id.startsWith('1700000000.000000-')).toBe(true);
    expect(tr.update([], T0 + 2, SIZE).missed).toHaveLength(1);
    const u2 = tr.update([], T0 + 2.25, SIZE);
    expect(u2.removed.map((t) => t.end_time)).toEqual([T0 + 2.25]);
    expect(tr.active).toEqual([]);
  });

  it('holds a track the model did not look at (outside every region) instead of missing it', () => {
    const tr = new ObjectTracker(cam(), { random: seeded() });
    const id = tr.update([person([0, 0, 60, 150])], T0, SIZE).created[0]!.id;
    // 10 s of frames whose regions lie elsewhere: held, not missed, never removed.
    for (let i = 1; i <= 40; i++) {
      const u = tr.update([], T0 + i * DT, SIZE, [[320, 160, 640, 480]]);
      expect(u.missed).toHaveLength(0);
      expect(u.removed).toHaveLength(0);
    }
    expect(tr.active.map((t) => [t.id, t.seen, t.last_seen])).toEqual([[id, false, T0 + 10]]);
    // A region over it that finds nothing: missed, then removed after max_disappeared (2 s).
    expect(tr.update([], T0 + 10.25, SIZE, [[0, 0, 320, 320]]).missed.map((t) => t.id)).toEqual([id]);
    expect(tr.update([], T0 + 12.5, SIZE, [[0, 0, 320, 320]]).removed.map((t) => t.id)).toEqual([id]);
  });

  it('matches small fast boxes by the distance fallback', () => {
    const tr = new ObjectTracker(cam(), { random: seeded() });
    const id = tr.update([person([100, 100, 110, 120])], T0, SIZE).created[0]!.id;
    // 8 px right: IoU 0.11 < MATCH_IOU, distance 0.8 box widths ≤ MATCH_MAX_DISTANCE.
    const u = tr.update([person([108, 100, 118, 120])], T0 + DT, SIZE);
    expect(u.created).toHaveLength(0);
    expect(u.updated[0]!.id).toBe(id);
    // Now moving at 32 px/s: the prediction lets a non-overlapping 10 px step match too.
    const u2 = tr.update([person([118, 100, 128, 120])], T0 + 2 * DT, SIZE);
    expect(u2.updated[0]?.id).toBe(id);
  });

  it('enters after inertia frames and leaves after inertia frames outside', () => {
    const zone = { name: 'z', coordinates: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]] as Array<[number, number]>, objects: [], threshold: 0, inertia: 2, loitering_time: 0 };
    const inBox: Box = [100, 100, 160, 200];
    const outBox: Box = [400, 100, 460, 200];
    let s = initialZoneState();
    const step = (box: Box, i: number) => (s = updateZones(s, { label: 'person', box, computed_score: 0.9 }, [zone], SIZE, T0 + i));
    expect(step(inBox, 0).current_zones).toEqual([]);
    expect(step(inBox, 1).current_zones).toEqual(['z']);
    expect(step(outBox, 2).current_zones).toEqual(['z']);
    expect(step(outBox, 3).current_zones).toEqual([]);
    expect(s.entered_zones).toEqual(['z']);
    const other = updateZones(initialZoneState(), { label: 'car', box: inBox, computed_score: 0.9 }, [{ ...zone, objects: ['person'], inertia: 1 }], SIZE, T0);
    expect(other.current_zones).toEqual([]);
  });
});

function sameZones(m: EventMessage): boolean {
  return m.before.current_zones.join() === m.after.current_zones.join();
}
