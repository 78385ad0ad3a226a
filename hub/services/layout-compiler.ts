/**
 * Compiles a layout for one display (BetterFrame's "templates compile to pixel rectangles
 * at the kiosk based on actual display resolution"): grid regions become pixel rectangles
 * at the display's resolution, each camera cell gets a concrete stream and the URL to play
 * it, and the warm set hints list what the kiosk keeps decoding off-screen. Pure.
 */
import {
  GRID, SUB_STREAM_BELOW, streamKey,
  type Bundle, type BundleCell, type Display, type Layout, type Rect, type Region, type StreamKey, type StreamRef,
} from '../../components/protocol/layout.ts';

/** What the compiler needs from the hub. */
export interface CompileContext {
  /** URL (media token included) a kiosk plays `stream` of `camera` from. */
  streamUrl: (s: StreamKey) => string;
  /** Every stored layout: priority-hot ones keep their streams warm on every display; all of them tell which streams of a preloaded camera to warm. */
  layouts: Layout[];
  /** Activation number for this display (grows by one per activation). */
  seq: number;
  /** Unix ms. */
  now: number;
  /**
   * The stream a cell's choice really plays (e.g. `sub` → `main` for a camera with one
   * stream, so the kiosk never runs two players for the same bytes). Default: as chosen.
   */
  resolve?: (s: StreamKey) => StreamKey;
}

/**
 * Pixel rectangle of a grid region on a `width`×`height` px display. Edges are rounded
 * from the grid lines, so neighbouring regions share an edge with no gap or overlap.
 */
export function regionRect(r: Pick<Region, 'x' | 'y' | 'w' | 'h'>, width: number, height: number): Rect {
  const x0 = Math.round((r.x * width) / GRID), x1 = Math.round(((r.x + r.w) * width) / GRID);
  const y0 = Math.round((r.y * height) / GRID), y1 = Math.round(((r.y + r.h) * height) / GRID);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/**
 * The stream a camera cell plays: its own choice, or for `auto` the sub stream when the
 * cell covers less than {@link SUB_STREAM_BELOW} (20 %) of the display, else main.
 */
export function cellStream(r: Region, choice: 'main' | 'sub' | 'auto'): 'main' | 'sub' {
  if (choice !== 'auto') return choice;
  return (r.w * r.h) / (GRID * GRID) < SUB_STREAM_BELOW ? 'sub' : 'main';
}

/** The concrete streams a layout's camera cells play (after `resolve`, see {@link CompileContext.resolve}). */
export function layoutStreams(l: Layout, resolve: (s: StreamKey) => StreamKey = (s) => s): StreamKey[] {
  return l.regions.flatMap((r) => (r.cell?.type === 'camera' ? [resolve({ camera: r.cell.camera, stream: cellStream(r, r.cell.stream) })] : []));
}

/**
 * The streams of a preloaded camera to keep warm: those the stored layouts' cells play for
 * it (so a switch to any of them finds its stream warm), or its main stream when no layout
 * shows it.
 */
export function preloadStreams(camera: string, layouts: Layout[], resolve: (s: StreamKey) => StreamKey = (s) => s): StreamKey[] {
  const used = layouts.flatMap((l) => layoutStreams(l, resolve)).filter((s) => s.camera === camera);
  return used.length ? used : [resolve({ camera, stream: 'main' })];
}

/**
 * `layout` compiled for `display`.
 * `warm` = the preload cameras' streams ({@link preloadStreams}) ∪ the streams of every
 * priority-hot layout, minus the streams this bundle shows, each once.
 */
export function compileLayout(layout: Layout, display: Pick<Display, 'id' | 'width' | 'height'>, ctx: CompileContext): Bundle {
  const resolve = ctx.resolve ?? ((s: StreamKey) => s);
  const cells: BundleCell[] = layout.regions.map((r): BundleCell => {
    const rect = regionRect(r, display.width, display.height);
    const c = r.cell;
    if (!c) return { type: 'empty', name: r.name, rect };
    if (c.type === 'web') return { type: 'web', name: r.name, rect, url: c.url };
    if (c.type === 'html') return { type: 'html', name: r.name, rect, html: c.html };
    const s = resolve({ camera: c.camera, stream: cellStream(r, c.stream) });
    return { type: 'camera', name: r.name, rect, camera: s.camera, stream: s.stream, url: ctx.streamUrl(s) };
  });
  const shown = new Set(layoutStreams(layout, resolve).map(streamKey));
  const warm = new Map<string, StreamRef>();
  const candidates: StreamKey[] = [
    ...layout.preload_camera_ids.flatMap((camera) => preloadStreams(camera, ctx.layouts, resolve)),
    ...ctx.layouts.filter((h) => h.priority === 'hot' && h.id !== layout.id).flatMap((h) => layoutStreams(h, resolve)),
  ];
  for (const s of candidates) {
    const k = streamKey(s);
    if (!shown.has(k) && !warm.has(k)) warm.set(k, { ...s, url: ctx.streamUrl(s) });
  }
  return {
    display: display.id, layout: layout.id, name: layout.name, seq: ctx.seq, issued_at: ctx.now,
    width: display.width, height: display.height, cooling_timeout_seconds: layout.cooling_timeout_seconds,
    cells, warm: [...warm.values()],
  };
}
