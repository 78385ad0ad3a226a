/**
 * Pure helpers that turn a {@link Bundle} into what the page does with it: which player
 * (stream key) each camera cell shows, the visible and warm key lists for the
 * {@link WarmthModel}, the URL of every key, and the scaling of the bundle's pixel
 * rectangles to the window. No DOM: unit-tested under Node (test/kiosk-warmth.test.ts).
 */
import { streamKey, type Bundle, type Rect } from '../../components/protocol/layout.ts';

/** What a bundle asks of the player pool. */
export interface WallPlan {
  /** Cell name → player key, for camera cells. */
  cellPlayers: Map<string, string>;
  /** Player keys the layout shows, in cell order (become hot). */
  visible: string[];
  /** Player keys to keep decoding off-screen (the bundle's `warm`, minus visible ones). */
  warm: string[];
  /** Player key → stream URL (relative to the page, media token included). */
  urls: Map<string, string>;
}

/**
 * Plans a bundle: each camera cell gets the player keyed by its stream key
 * (`camera/stream`); when a layout shows the same stream again, the extra cells get their
 * own players under suffixed keys (`cam/sub#2`, `cam/sub#3`…), since one `<video>` can be
 * in one place only.
 */
export function planWall(bundle: Pick<Bundle, 'cells' | 'warm'>): WallPlan {
  const cellPlayers = new Map<string, string>();
  const urls = new Map<string, string>();
  const seen = new Map<string, number>();
  const visible: string[] = [];
  for (const c of bundle.cells) {
    if (c.type !== 'camera') continue;
    const base = streamKey(c);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const key = n === 1 ? base : `${base}#${n}`;
    cellPlayers.set(c.name, key);
    urls.set(key, c.url);
    visible.push(key);
  }
  const warm: string[] = [];
  for (const w of bundle.warm) {
    const key = streamKey(w);
    if (seen.has(key) || urls.has(key)) continue;
    urls.set(key, w.url);
    warm.push(key);
  }
  return { cellPlayers, visible, warm, urls };
}

/** Horizontal and vertical scale from display px to window (CSS) px. */
export interface Scale { sx: number; sy: number }

/**
 * The scale that maps a `display` of `width`×`height` px onto a `view` (the window's
 * inner size, CSS px): 1:1 when they match, else each axis stretched so the wall fills
 * the window (videos keep their own aspect inside their cells).
 * @throws RangeError when a size is not positive.
 */
export function fitScale(display: { width: number; height: number }, view: { width: number; height: number }): Scale {
  if (!(display.width > 0 && display.height > 0 && view.width > 0 && view.height > 0)) {
    throw new RangeError(`sizes must be positive: display ${display.width}×${display.height}, view ${view.width}×${view.height}`);
  }
  return { sx: view.width / display.width, sy: view.height / display.height };
}

/**
 * A display-px rectangle in window px. Edges (not sizes) are rounded, so cells that share
 * an edge on the display still share it on screen, with no gap and no overlap.
 */
export function scaleRect(r: Rect, s: Scale): Rect {
  const x0 = Math.round(r.x * s.sx), x1 = Math.round((r.x + r.w) * s.sx);
  const y0 = Math.round(r.y * s.sy), y1 = Math.round((r.y + r.h) * s.sy);
  return { x: x0, y: y0, w: Math.max(1, x1 - x0), h: Math.max(1, y1 - y0) };
}
