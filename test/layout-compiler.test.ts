/**
 * The pure core of the camera wall: presets on the 12×12 grid, grid regions to pixel
 * rectangles at a display's resolution, the 20 % main/sub rule with the per-cell choice
 * winning, and the warm set hints (preload and priority-hot layouts).
 */
import { describe, expect, it } from 'vitest';
import { GRID, layoutFromInput, layoutInput, presetRegions, type Layout, type PresetName } from '../components/protocol/layout.ts';
import { cellStream, compileLayout, preloadStreams, regionRect } from '../hub/services/layout-compiler.ts';

const PRESETS: PresetName[] = ['fullscreen', '2x2', '1+3', '3x3', '1+7', '4x4'];

const mk = (body: Record<string, unknown>): Layout => layoutFromInput(layoutInput.parse(body));
const ctx = (layouts: Layout[] = [], resolve?: (s: { camera: string; stream: 'main' | 'sub' }) => { camera: string; stream: 'main' | 'sub' }) => ({
  seq: 7, now: 1_700_000_000_000, layouts, resolve,
  streamUrl: (s: { camera: string; stream: string }) => `/live/${s.camera}/${s.stream}`,
});

describe('presets', () => {
  it.each(PRESETS)('%s tiles the whole grid with no overlap', (p) => {
    const regions = presetRegions(p);
    const covered = new Set<string>();
    for (const r of regions) {
      for (let x = r.x; x < r.x + r.w; x++) for (let y = r.y; y < r.y + r.h; y++) {
        expect(covered.has(`${x},${y}`), `${p}: ${x},${y} twice`).toBe(false);
        covered.add(`${x},${y}`);
      }
    }
    expect(covered.size).toBe(GRID * GRID);
    expect(new Set(regions.map((r) => r.name)).size).toBe(regions.length);
  });

  it('has the counts the names promise', () => {
    expect(PRESETS.map((p) => presetRegions(p).length)).toEqual([1, 4, 4, 9, 8, 16]);
    expect(presetRegions('1+7')[0]).toEqual({ name: 'main', x: 0, y: 0, w: 9, h: 9 });
  });
});

describe('regionRect', () => {
  it('maps grid units to pixels at the display resolution, edges shared without gaps', () => {
    expect(regionRect({ x: 0, y: 0, w: 12, h: 12 }, 1920, 1080)).toEqual({ x: 0, y: 0, w: 1920, h: 1080 });
    expect(regionRect({ x: 6, y: 6, w: 6, h: 6 }, 1920, 1080)).toEqual({ x: 960, y: 540, w: 960, h: 540 });
    // 1366 px / 12 is not whole: neighbours still meet exactly.
    const a = regionRect({ x: 0, y: 0, w: 5, h: 12 }, 1366, 768);
    const b = regionRect({ x: 5, y: 0, w: 7, h: 12 }, 1366, 768);
    expect(a.x + a.w).toBe(b.x);
    expect(a.w + b.w).toBe(1366);
  });
});

describe('cellStream', () => {
  it('picks sub below 20 % of the display, main from 20 % on, and a choice always wins', () => {
    // 4×6 = 24 cells of 144: 16.7 % → sub; 5×6 = 30: 20.8 % → main.
    expect(cellStream({ name: 'a', x: 0, y: 0, w: 4, h: 6 }, 'auto')).toBe('sub');
    expect(cellStream({ name: 'a', x: 0, y: 0, w: 5, h: 6 }, 'auto')).toBe('main');
    expect(cellStream({ name: 'a', x: 0, y: 0, w: 6, h: 6 }, 'auto')).toBe('main'); // 25 %: a 2×2 tile
    expect(cellStream({ name: 'a', x: 0, y: 0, w: 4, h: 4 }, 'auto')).toBe('sub'); // 11 %: a 3×3 tile
    expect(cellStream({ name: 'a', x: 0, y: 0, w: 1, h: 1 }, 'main')).toBe('main');
    expect(cellStream({ name: 'a', x: 0, y: 0, w: 12, h: 12 }, 'sub')).toBe('sub');
  });
});

describe('compileLayout', () => {
  const nine = mk({ id: 'nine', name: 'Nine', preset: '3x3', cells: [{ type: 'camera', camera: 'a' }, { type: 'web', url: 'https://ha.local/' }, { type: 'html', html: '<b>x</b>' }, { type: 'camera', camera: 'b', stream: 'main' }], preload_camera_ids: ['c'], cooling_timeout_seconds: 12 });

  it('compiles every region: camera cells get their stream and URL, others their content, the rest empty', () => {
    const b = compileLayout(nine, { id: 'd1', width: 1200, height: 900 }, ctx());
    expect(b).toMatchObject({ display: 'd1', layout: 'nine', name: 'Nine', seq: 7, issued_at: 1_700_000_000_000, width: 1200, height: 900, cooling_timeout_seconds: 12 });
    expect(b.cells).toHaveLength(9);
    expect(b.cells[0]).toEqual({ type: 'camera', name: 'r1', rect: { x: 0, y: 0, w: 400, h: 300 }, camera: 'a', stream: 'sub', url: '/live/a/sub' });
    expect(b.cells[1]).toEqual({ type: 'web', name: 'r2', rect: { x: 400, y: 0, w: 400, h: 300 }, url: 'https://ha.local/' });
    expect(b.cells[2]).toEqual({ type: 'html', name: 'r3', rect: { x: 800, y: 0, w: 400, h: 300 }, html: '<b>x</b>' });
    expect(b.cells[3]).toMatchObject({ camera: 'b', stream: 'main', url: '/live/b/main' });
    expect(b.cells.slice(4).every((c) => c.type === 'empty')).toBe(true);
  });

  it('warms the preloaded cameras and every priority-hot layout, never what is already shown, each once', () => {
    const hot = mk({ id: 'hot', name: 'Hot', priority: 'hot', preset: '2x2', cells: [{ type: 'camera', camera: 'a' }, { type: 'camera', camera: 'd' }, { type: 'camera', camera: 'd' }] });
    const big = mk({ id: 'big', name: 'Big', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'c' }] });
    const b = compileLayout(nine, { id: 'd1', width: 1200, height: 900 }, ctx([nine, hot, big]));
    // c is preloaded: its stream as `big` plays it (main). hot shows a/main (not shown here: nine shows a/sub) and d/main.
    expect(b.warm.map((w) => `${w.camera}/${w.stream}`)).toEqual(['c/main', 'a/main', 'd/main']);
    expect(b.warm[0]!.url).toBe('/live/c/main');
    // The hot layout itself, when active, does not warm its own streams.
    expect(compileLayout(hot, { id: 'd1', width: 1200, height: 900 }, ctx([nine, hot, big])).warm).toEqual([]);
  });

  it('plays what `resolve` says (a camera without a sub stream plays main, once)', () => {
    const onlyMain = (s: { camera: string; stream: 'main' | 'sub' }) => ({ camera: s.camera, stream: 'main' as const });
    const b = compileLayout(nine, { id: 'd1', width: 1200, height: 900 }, ctx([], onlyMain));
    expect(b.cells[0]).toMatchObject({ camera: 'a', stream: 'main', url: '/live/a/main' });
    expect(preloadStreams('z', [nine], onlyMain)).toEqual([{ camera: 'z', stream: 'main' }]);
    expect(preloadStreams('a', [nine])).toEqual([{ camera: 'a', stream: 'sub' }]);
  });
});
