/**
 * The camera wall's model as the web UI handles it: the shapes `/api/layouts`,
 * `/api/kiosks` and `/api/displays` answer, the bundle on `vigil/display/<id>/layout/state`
 * and the kiosk's report on `vigil/kiosk/<id>/state` (docs/kiosk.md), plus the pure grid
 * geometry the layouts editor needs: presets, overlap and fit checks, free-space search,
 * and the API's field errors split per field.
 *
 * The shapes and the presets mirror `components/protocol/layout.ts` (the schema the hub
 * checks with). That module is not imported here because it builds zod schemas at load
 * time, which would put zod into the web UI's bundle for a dozen lines of geometry;
 * `test/web-ui-wall.test.ts` checks that {@link presetRegions} gives exactly the
 * protocol's regions for every preset. Pure (no DOM): Node imports it too.
 */

/** Grid size of every layout (BetterFrame's normalized 12×12 grid). */
export const GRID = 12;
/** Most regions one layout may have. */
export const MAX_CELLS = 32;

/** Which stream a camera cell plays: `auto` picks sub for cells under 20 % of the display. */
export type StreamChoice = 'main' | 'sub' | 'auto';

/** What a region shows (none = an empty cell). */
export type Cell =
  | { type: 'camera'; camera: string; stream?: StreamChoice }
  | { type: 'web'; url: string }
  | { type: 'html'; html: string };

/** A named rectangle on the grid in grid units (x, y 0–11; w, h 1–12), with what it shows. */
export interface Region { name: string; x: number; y: number; w: number; h: number; cell?: Cell }

/** A layout as `GET /api/layouts` answers it. */
export interface Layout {
  id: string;
  name: string;
  regions: Region[];
  priority: 'hot' | 'normal';
  /** Seconds a stream stays warm after it leaves the warm set. */
  cooling_timeout_seconds: number;
  preload_camera_ids: string[];
}

/** A display (`GET /api/displays`): one screen of a kiosk, real size in px. */
export interface Display { id: string; kiosk_id: string; name: string; width: number; height: number; layout_id: string | null }

/** A kiosk (`GET /api/kiosks`, admins) with its displays; `created_at` Unix ms. */
export interface Kiosk { id: string; name: string; created_at: number; displays: Display[] }

/** A pixel rectangle on a display. */
export interface Rect { x: number; y: number; w: number; h: number }

/** One cell of a compiled bundle (stream URLs are left out: the page never plays them). */
export interface BundleCell { type: 'camera' | 'web' | 'html' | 'empty'; name: string; rect: Rect; camera?: string; stream?: string; url?: string }

/** `vigil/display/<id>/layout/state` (retained): the layout compiled for a display; `issued_at` Unix ms. */
export interface Bundle { display: string; layout: string; name: string; seq: number; issued_at: number; width: number; height: number; cells: BundleCell[] }

/** What a kiosk reports about one display in `vigil/kiosk/<id>/state`. */
export interface KioskDisplayState {
  layout: string | null;
  seq: number | null;
  width: number;
  height: number;
  /** Per cell: frames/s and dropped frames since the previous report. */
  cells: Record<string, { fps: number; dropped: number; stream?: string }>;
  /** The latest switch: when its bundle arrived (Unix ms) and ms until every camera cell painted (null: not yet). */
  last_switch: { layout: string; seq: number; received_at: number; painted_ms: number | null } | null;
}

/** `vigil/kiosk/<id>/state` (retained): per display what it shows, and each open stream's warmth. */
export interface KioskState { kiosk: string; displays: Record<string, KioskDisplayState>; streams: Record<string, 'hot' | 'warm' | 'cooling' | 'cold'>; user_agent?: string }

/** The presets `POST /api/layouts` accepts, with a label for buttons. */
export const PRESETS = [
  { id: 'fullscreen', label: 'Fullscreen' },
  { id: '2x2', label: '2×2' },
  { id: '1+3', label: '1 + 3' },
  { id: '3x3', label: '3×3' },
  { id: '1+7', label: '1 + 7' },
  { id: '4x4', label: '4×4' },
] as const;

/** A preset's id. */
export type PresetName = typeof PRESETS[number]['id'];

function tiles(n: number): Region[] {
  const size = GRID / n;
  const out: Region[] = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) out.push({ name: `r${out.length + 1}`, x: i * size, y: j * size, w: size, h: size });
  return out;
}

/**
 * The regions of a preset (the same as the hub's `presetRegions`): `fullscreen` one 12×12
 * `main`; `2x2`, `3x3`, `4x4` equal tiles `r1`… row by row; `1+3` an 8×12 `main` and three
 * 4×4 down the right; `1+7` (BetterFrame's 1 big + 7 small) a 9×9 `main`, three 3×3 down
 * the right and four 3×3 along the bottom.
 */
export function presetRegions(preset: PresetName): Region[] {
  switch (preset) {
    case 'fullscreen': return [{ name: 'main', x: 0, y: 0, w: GRID, h: GRID }];
    case '2x2': return tiles(2);
    case '3x3': return tiles(3);
    case '4x4': return tiles(4);
    case '1+3': return [{ name: 'main', x: 0, y: 0, w: 8, h: 12 }, ...[0, 1, 2].map((k) => ({ name: `r${k + 1}`, x: 8, y: k * 4, w: 4, h: 4 }))];
    case '1+7': return [
      { name: 'main', x: 0, y: 0, w: 9, h: 9 },
      ...[0, 1, 2].map((k) => ({ name: `r${k + 1}`, x: 9, y: k * 3, w: 3, h: 3 })),
      ...[0, 1, 2, 3].map((k) => ({ name: `r${k + 4}`, x: k * 3, y: 9, w: 3, h: 3 })),
    ];
  }
}

/** A rectangle in grid units. */
export type Box = Pick<Region, 'x' | 'y' | 'w' | 'h'>;

/** Whether two grid rectangles share at least one cell. */
export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Whether a rectangle lies inside the grid with whole cells (x, y ≥ 0; w, h ≥ 1; right and bottom edges ≤ 12). */
export function fits(r: Box): boolean {
  return [r.x, r.y, r.w, r.h].every(Number.isInteger) && r.x >= 0 && r.y >= 0 && r.w >= 1 && r.h >= 1 && r.x + r.w <= GRID && r.y + r.h <= GRID;
}

/** The index of the first region of `regions` (other than index `skip`) that `box` overlaps, or -1. */
export function overlapIndex(regions: readonly Box[], box: Box, skip = -1): number {
  return regions.findIndex((r, i) => i !== skip && overlaps(r, box));
}

/** Indices of regions that overlap an earlier region (what the hub refuses as `regions.<i>`). */
export function overlapping(regions: readonly Box[]): Set<number> {
  const out = new Set<number>();
  regions.forEach((r, i) => { for (let j = 0; j < i; j++) if (overlaps(r, regions[j]!)) out.add(i); });
  return out;
}

/** The rectangle spanned by two grid cells (inclusive), e.g. from a drag's start and current cell. */
export function spanBox(a: { x: number; y: number }, b: { x: number; y: number }): Box {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, w: Math.abs(a.x - b.x) + 1, h: Math.abs(a.y - b.y) + 1 };
}

/** `n` clamped to [lo, hi]. */
export const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

/**
 * Where a new region fits: the largest square (from `prefer` down to 1×1) at the first free
 * place in reading order, or null when no cell is free.
 */
export function freeSpot(regions: readonly Box[], prefer = 3): Box | null {
  for (let s = prefer; s >= 1; s--) {
    for (let y = 0; y + s <= GRID; y++) {
      for (let x = 0; x + s <= GRID; x++) {
        const b = { x, y, w: s, h: s };
        if (overlapIndex(regions, b) < 0) return b;
      }
    }
  }
  return null;
}

/** The first name `r<n>` not used by `regions`. */
export function nextRegionName(regions: readonly Pick<Region, 'name'>[]): string {
  const taken = new Set(regions.map((r) => r.name));
  for (let n = 1; ; n++) if (!taken.has(`r${n}`)) return `r${n}`;
}

/** A layout id from a name: lower case, a-z 0-9 and `-`, at most 64 characters (the API's slug rule). */
export function slugify(name: string): string {
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
}

/**
 * The field errors of an API answer: the hub joins every problem as `path: message; …`
 * (hub/errors.ts `invalidFromZod`) and names the first in `field`. @returns path → message
 * (the message without its path); the whole message under `field` (or `''`) when it does not
 * have that shape
 */
export function fieldErrors(message: string, field?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of message.split('; ')) {
    const m = /^([A-Za-z0-9_.]+): (.+)$/s.exec(part);
    if (m && !(m[1]! in out)) out[m[1]!] = m[2]!;
  }
  if (!Object.keys(out).length) out[field ?? ''] = message;
  else if (field && !(field in out)) out[field] = message;
  return out;
}

/** A short text of what a cell shows (`front (main)`, `web page`, `HTML`, `empty`). */
export function cellText(c: Cell | undefined | null): string {
  if (!c) return 'empty';
  if (c.type === 'camera') return c.stream && c.stream !== 'auto' ? `${c.camera} (${c.stream})` : c.camera;
  return c.type === 'web' ? 'web page' : 'HTML';
}
