/**
 * The kiosk's pure parts: BetterFrame's warmth model (kiosk-client/src/warmth.ts) on a
 * hand-driven clock, and the wall plan (player keys per cell, visible/warm lists, URLs)
 * with the scaling of bundle rectangles to the window (kiosk-client/src/wall-plan.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Bundle, BundleCell } from '../components/protocol/layout.ts';
import { WarmthModel } from '../kiosk-client/src/warmth.ts';
import { fitScale, planWall, scaleRect } from '../kiosk-client/src/wall-plan.ts';

/** A model on a clock the test moves (ms). */
function model(): { m: WarmthModel; at: (ms: number) => void } {
  let now = 0;
  return { m: new WarmthModel(() => now), at: (ms) => { now = ms; } };
}

describe('WarmthModel', () => {
  it('starts exactly the streams that were cold, hot for visible and warm for the warm list', () => {
    const { m } = model();
    expect(m.activate(['a/main', 'b/sub'], ['c/main'], 30)).toEqual({ start: ['a/main', 'b/sub', 'c/main'], stop: [] });
    expect(m.snapshot()).toEqual({ 'a/main': 'hot', 'b/sub': 'hot', 'c/main': 'warm' });
    expect(m.state('zzz/main')).toBe('cold');
  });

  it('promotes a warm (preloaded) stream to hot without starting it, and the left layout\'s streams cool', () => {
    const { m, at } = model();
    m.activate(['a/main'], ['b/main'], 30); // layout A shows a, preloads b
    at(1_000);
    expect(m.activate(['b/main'], [], 30)).toEqual({ start: [], stop: [] }); // switch to B: b was warm
    expect(m.snapshot()).toEqual({ 'b/main': 'hot', 'a/main': 'cooling' });
  });

  it('turns a cooling stream cold after the cooling timeout of the layout being left, not the new one', () => {
    const { m, at } = model();
    m.activate(['a/main'], [], 5); // A: 5 s
    at(10_000);
    m.activate(['b/main'], [], 600); // B: 10 min — a cools for A's 5 s
    at(14_999);
    expect(m.tick()).toEqual({ start: [], stop: [] });
    expect(m.state('a/main')).toBe('cooling');
    at(15_000);
    expect(m.tick()).toEqual({ start: [], stop: ['a/main'] });
    expect(m.state('a/main')).toBe('cold');
    expect(m.tick()).toEqual({ start: [], stop: [] }); // stopped once
  });

  it('keeps a cooling stream\'s deadline across further switches', () => {
    const { m, at } = model();
    m.activate(['a/main'], [], 10);
    m.activate(['b/main'], [], 10); // t=0: a cools until 10 s
    at(6_000);
    expect(m.activate(['c/main'], [], 10)).toEqual({ start: ['c/main'], stop: [] }); // b cools until 16 s; a keeps 10 s
    expect(m.snapshot()).toEqual({ 'c/main': 'hot', 'a/main': 'cooling', 'b/main': 'cooling' });
    at(10_000);
    expect(m.tick().stop).toEqual(['a/main']);
    at(15_999);
    expect(m.tick().stop).toEqual([]);
    at(16_000);
    expect(m.tick().stop).toEqual(['b/main']);
  });

  it('brings a cooling stream back to hot without a restart', () => {
    const { m, at } = model();
    m.activate(['a/main'], [], 30);
    m.activate(['b/main'], [], 30);
    at(2_000);
    expect(m.activate(['a/main'], [], 30)).toEqual({ start: [], stop: [] });
    expect(m.snapshot()).toEqual({ 'a/main': 'hot', 'b/main': 'cooling' });
    at(31_999);
    expect(m.tick().stop).toEqual([]); // b: left at 2 s, cools 30 s
    at(32_000);
    expect(m.tick().stop).toEqual(['b/main']);
    expect(m.state('a/main')).toBe('hot'); // its old cooling deadline (30 s) no longer applies
  });

  it('keeps the streams of priority-hot layouts warm across every switch', () => {
    const { m, at } = model();
    const hot = ['door/sub', 'yard/sub'];
    expect(m.activate(['a/main'], hot, 1).start).toEqual(['a/main', 'door/sub', 'yard/sub']);
    for (let i = 1; i <= 5; i++) {
      at(i * 10_000);
      const ch = m.activate([`cam${i}/main`], hot, 1);
      expect(ch.start).toEqual([`cam${i}/main`]); // never restarted
      expect(ch.stop).not.toContain('door/sub');
      expect(m.state('door/sub')).toBe('warm');
      expect(m.state('yard/sub')).toBe('warm');
    }
    // Shown by the hot layout itself: hot; warm again afterwards, never cooling.
    m.activate(['door/sub', 'yard/sub'], [], 1);
    expect(m.activate(['x/main'], hot, 1)).toEqual({ start: ['x/main'], stop: [] });
    expect(m.state('door/sub')).toBe('warm');
  });

  it('cools a preloaded stream when the next layout does not preload it', () => {
    const { m, at } = model();
    m.activate(['a/main'], ['b/main'], 3);
    at(1_000);
    expect(m.activate(['c/main'], [], 3)).toEqual({ start: ['c/main'], stop: [] });
    expect(m.snapshot()).toEqual({ 'c/main': 'hot', 'a/main': 'cooling', 'b/main': 'cooling' });
    at(4_000);
    expect(m.tick()).toEqual({ start: [], stop: ['a/main', 'b/main'] });
  });

  it('with a zero timeout stops what leaves the set in the same activation', () => {
    const { m, at } = model();
    m.activate(['a/main'], [], 0);
    at(500);
    expect(m.activate(['b/main'], [], 0)).toEqual({ start: ['b/main'], stop: ['a/main'] });
    expect(m.snapshot()).toEqual({ 'b/main': 'hot' });
  });
});

const cam = (name: string, camera: string, stream: 'main' | 'sub'): BundleCell =>
  ({ type: 'camera', name, rect: { x: 0, y: 0, w: 10, h: 10 }, camera, stream, url: `/api/cameras/${camera}/live?stream=${stream}&token=${name}` });

describe('planWall', () => {
  it('keys camera cells by stream, suffixes repeats of a stream, skips other cells', () => {
    const cells: BundleCell[] = [
      cam('r1', 'door', 'sub'), { type: 'web', name: 'r2', rect: { x: 0, y: 0, w: 1, h: 1 }, url: 'http://x/' },
      cam('r3', 'door', 'sub'), cam('r4', 'door', 'main'), { type: 'empty', name: 'r5', rect: { x: 0, y: 0, w: 1, h: 1 } }, cam('r6', 'door', 'sub'),
    ];
    const p = planWall({ cells, warm: [] });
    expect([...p.cellPlayers]).toEqual([['r1', 'door/sub'], ['r3', 'door/sub#2'], ['r4', 'door/main'], ['r6', 'door/sub#3']]);
    expect(p.visible).toEqual(['door/sub', 'door/sub#2', 'door/main', 'door/sub#3']);
    expect(p.urls.get('door/sub#2')).toBe('/api/cameras/door/live?stream=sub&token=r3');
    expect(p.warm).toEqual([]);
  });

  it('lists warm streams not already visible, with their URLs', () => {
    const warm: Bundle['warm'] = [
      { camera: 'door', stream: 'sub', url: '/w/door-sub' }, { camera: 'yard', stream: 'main', url: '/w/yard-main' }, { camera: 'yard', stream: 'main', url: '/w/again' },
    ];
    const p = planWall({ cells: [cam('r1', 'door', 'sub')], warm });
    expect(p.visible).toEqual(['door/sub']);
    expect(p.warm).toEqual(['yard/main']);
    expect(p.urls.get('yard/main')).toBe('/w/yard-main');
    expect(p.urls.get('door/sub')).toBe('/api/cameras/door/live?stream=sub&token=r1'); // the cell's URL wins
  });
});

describe('fitScale / scaleRect', () => {
  it('is the identity when the window matches the display', () => {
    const s = fitScale({ width: 1920, height: 1080 }, { width: 1920, height: 1080 });
    expect(s).toEqual({ sx: 1, sy: 1 });
    expect(scaleRect({ x: 160, y: 90, w: 480, h: 270 }, s)).toEqual({ x: 160, y: 90, w: 480, h: 270 });
  });

  it('scales each axis to the window and keeps shared edges shared', () => {
    const s = fitScale({ width: 1920, height: 1080 }, { width: 1280, height: 800 });
    expect(s.sx).toBeCloseTo(2 / 3);
    expect(s.sy).toBeCloseTo(800 / 1080);
    // Twelve 160 px columns (1920/12) become 106.67 px: every edge lands where the next cell starts.
    const cols = Array.from({ length: 12 }, (_, i) => scaleRect({ x: i * 160, y: 0, w: 160, h: 1080 }, s));
    for (let i = 1; i < 12; i++) expect(cols[i]!.x).toBe(cols[i - 1]!.x + cols[i - 1]!.w);
    expect(cols[0]!.x).toBe(0);
    expect(cols[11]!.x + cols[11]!.w).toBe(1280);
    expect(cols.map((c) => c.w).sort()).toEqual(expect.arrayContaining([106, 107]));
    expect(scaleRect({ x: 0, y: 540, w: 1920, h: 540 }, s)).toEqual({ x: 0, y: 400, w: 1280, h: 400 });
  });

  it('never returns an empty rectangle, and refuses sizes that are not positive', () => {
    expect(scaleRect({ x: 5, y: 5, w: 1, h: 1 }, { sx: 0.1, sy: 0.1 })).toEqual({ x: 1, y: 1, w: 1, h: 1 });
    expect(() => fitScale({ width: 0, height: 1080 }, { width: 800, height: 600 })).toThrow(RangeError);
    expect(() => fitScale({ width: 1920, height: 1080 }, { width: 800, height: 0 })).toThrow(/positive/);
  });
});
