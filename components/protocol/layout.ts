/**
 * Camera-wall layouts, displays and the compiled bundle a kiosk renders — the BetterFrame
 * model on Vigil's bus. Pure (zod only): the hub, the kiosk client and the web UI import it.
 *
 * - A **layout** carries its regions directly on a 12×12 grid (no separate template
 *   entity: BetterFrame's later schema), each region bound to a cell: `camera` (stream
 *   `main` / `sub` / `auto`), `web` (a URL in an iframe) or `html` (custom HTML in a
 *   sandboxed iframe), or left empty. Per layout: `priority` (`hot` layouts keep their
 *   streams warm on every kiosk all the time), `cooling_timeout_seconds`, and
 *   `preload_camera_ids` (kept warm while the layout is active).
 * - A **display** belongs to a kiosk (`kiosk_id`) and has a real resolution in px.
 * - A **bundle** is a layout compiled for one display: pixel rectangles, the stream each
 *   cell plays with its URL, and the warm set hints. The hub publishes it retained on
 *   `vigil/display/<id>/layout/state`.
 */
import { z } from 'zod';
import { cameraName } from './camera-config.ts';

/** Grid size every layout uses (BetterFrame's normalized grid). */
export const GRID = 12;
/** Most cells one layout may have (BetterFrame's goal: 32 cameras on one screen). */
export const MAX_CELLS = 32;
/**
 * Cells smaller than this fraction of the display play the sub stream when their stream
 * is `auto` (BetterFrame: "cells under 20 % of total display area default to sub-stream").
 */
export const SUB_STREAM_BELOW = 0.2;

/** An id of a layout, display or kiosk: a lower-case slug (it appears in topics). */
export const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lower-case slug (a-z, 0-9, _ and -), at most 64 characters');

/** Which stream of a camera a cell plays: `main` (full resolution), `sub` (small), `auto` (by cell size). */
export const streamChoice = z.enum(['main', 'sub', 'auto']);
export type StreamChoice = z.infer<typeof streamChoice>;

/** What a region shows. */
export const cellSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('camera'), camera: cameraName, stream: streamChoice.default('auto') }).strict(),
  z.object({
    type: z.literal('web'),
    url: z.string().refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'must be an http:// or https:// URL'),
  }).strict(),
  z.object({ type: z.literal('html'), html: z.string().max(100_000, 'at most 100 000 characters') }).strict(),
]);
export type CellSpec = z.infer<typeof cellSpec>;

/** A named rectangle on the grid, in grid units (0–12), with what it shows (none = empty). */
export const region = z
  .object({
    name: z.string().min(1).max(64),
    x: z.number().int().min(0).max(GRID - 1),
    y: z.number().int().min(0).max(GRID - 1),
    w: z.number().int().min(1).max(GRID),
    h: z.number().int().min(1).max(GRID),
    cell: cellSpec.optional(),
  })
  .strict()
  .refine((r) => r.x + r.w <= GRID && r.y + r.h <= GRID, { message: `must fit the ${GRID}×${GRID} grid`, path: ['w'] });
export type Region = z.infer<typeof region>;

const LAYOUT_FIELDS = {
  name: z.string().min(1).max(128),
  regions: z.array(region).min(1, 'a layout needs at least one region').max(MAX_CELLS, `at most ${MAX_CELLS} cells`),
  priority: z.enum(['hot', 'normal']).default('normal'),
  /** Seconds a stream stays warm ("cooling") after it leaves the warm set. */
  cooling_timeout_seconds: z.number().min(0).max(86_400).default(30),
  /** Cameras kept warm (their `main` and `sub` stream as the cells would pick) while this layout is active. */
  preload_camera_ids: z.array(cameraName).max(MAX_CELLS).default([]),
};

/** Region names are unique and regions do not overlap. */
function checkRegions(regions: Region[], ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  regions.forEach((r, i) => {
    if (names.has(r.name)) ctx.addIssue({ code: 'custom', message: `duplicate region name "${r.name}"`, path: ['regions', i, 'name'] });
    names.add(r.name);
    for (let j = 0; j < i; j++) {
      const o = regions[j]!;
      if (r.x < o.x + o.w && o.x < r.x + r.w && r.y < o.y + o.h && o.y < r.y + r.h) {
        ctx.addIssue({ code: 'custom', message: `region "${r.name}" overlaps "${o.name}"`, path: ['regions', i] });
      }
    }
  });
}

/** A layout as stored and served (`/api/layouts`). */
export const layout = z.object({ id: slug, ...LAYOUT_FIELDS }).strict().superRefine((l, ctx) => checkRegions(l.regions, ctx));
export type Layout = z.infer<typeof layout>;

/** The body of `POST /api/layouts`: regions, or a `preset` (with `cells` bound in the preset's region order). */
export const layoutInput = z
  .object({
    id: slug,
    name: LAYOUT_FIELDS.name,
    regions: LAYOUT_FIELDS.regions.optional(),
    preset: z.enum(['fullscreen', '2x2', '1+3', '3x3', '1+7', '4x4']).optional(),
    /** With a preset: what each region shows, in the preset's order (missing = empty). */
    cells: z.array(cellSpec.nullable()).max(MAX_CELLS).optional(),
    priority: LAYOUT_FIELDS.priority,
    cooling_timeout_seconds: LAYOUT_FIELDS.cooling_timeout_seconds,
    preload_camera_ids: LAYOUT_FIELDS.preload_camera_ids,
  })
  .strict()
  .refine((l) => (l.regions ? !l.preset : !!l.preset), { message: 'give either regions or a preset', path: ['regions'] });
export type LayoutInput = z.infer<typeof layoutInput>;

/** A layout preset's name. */
export type PresetName = NonNullable<LayoutInput['preset']>;

/** Equal tiles: `n`×`n` regions named `r1`… row by row. */
function tiles(n: number): Omit<Region, 'cell'>[] {
  const size = GRID / n;
  const out: Omit<Region, 'cell'>[] = [];
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) out.push({ name: `r${out.length + 1}`, x: i * size, y: j * size, w: size, h: size });
  return out;
}

/**
 * The regions of a preset on the 12×12 grid: `fullscreen`; `2x2`, `3x3`, `4x4` equal
 * tiles; `1+3` (one 8×12 region left, three 4×4 right); `1+7` (BetterFrame's
 * "1 big + 7 small": one 9×9, three 3×3 down the right, four 3×3 along the bottom).
 * Names: `main` for the big region, `r1`… for the others, in reading order.
 */
export function presetRegions(preset: PresetName): Omit<Region, 'cell'>[] {
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

/**
 * Turns a `POST /api/layouts` body into a layout: a preset's regions get `cells` in order.
 * @throws z.ZodError (via `layout.parse`) when the result is not a valid layout.
 */
export function layoutFromInput(input: LayoutInput): Layout {
  const regions: Region[] = input.regions ?? presetRegions(input.preset!).map((r, i) => {
    const cell = input.cells?.[i];
    return cell ? { ...r, cell } : r;
  });
  return layout.parse({ id: input.id, name: input.name, regions, priority: input.priority, cooling_timeout_seconds: input.cooling_timeout_seconds, preload_camera_ids: input.preload_camera_ids });
}

/** A display: one screen of a kiosk, with its real resolution (px). */
export const display = z
  .object({
    id: slug,
    kiosk_id: slug,
    name: z.string().min(1).max(64),
    width: z.number().int().min(64).max(16_384),
    height: z.number().int().min(64).max(16_384),
    /** The layout last activated on it, if any. */
    layout_id: slug.nullable(),
  })
  .strict();
export type Display = z.infer<typeof display>;

/** A concrete stream of a camera. */
export interface StreamKey { camera: string; stream: 'main' | 'sub' }

/** `camera/stream`, the key a kiosk keys its players by. */
export const streamKey = (s: StreamKey): string => `${s.camera}/${s.stream}`;

/** Pixel rectangle on the display (origin top-left). */
export const rect = z.object({ x: z.number().int(), y: z.number().int(), w: z.number().int().min(1), h: z.number().int().min(1) }).strict();
export type Rect = z.infer<typeof rect>;

const streamRef = z.object({ camera: cameraName, stream: z.enum(['main', 'sub']), url: z.string() }).strict();
/** A stream with the URL to play it (media token included). */
export type StreamRef = z.infer<typeof streamRef>;

/** One cell of a compiled bundle. */
export const bundleCell = z.discriminatedUnion('type', [
  z.object({ type: z.literal('camera'), name: z.string(), rect, camera: cameraName, stream: z.enum(['main', 'sub']), url: z.string() }).strict(),
  z.object({ type: z.literal('web'), name: z.string(), rect, url: z.string() }).strict(),
  z.object({ type: z.literal('html'), name: z.string(), rect, html: z.string() }).strict(),
  z.object({ type: z.literal('empty'), name: z.string(), rect }).strict(),
]);
export type BundleCell = z.infer<typeof bundleCell>;

/**
 * What `vigil/display/<id>/layout/state` carries (retained): the layout compiled for the
 * display. `warm` lists the streams the kiosk keeps decoding off-screen besides the
 * visible ones: this layout's preload list and the streams of every priority-hot layout.
 * `seq` grows with every activation; `issued_at` is Unix ms.
 */
export const bundle = z
  .object({
    display: slug,
    layout: slug,
    name: z.string(),
    seq: z.number().int().min(0),
    issued_at: z.number(),
    width: z.number().int(),
    height: z.number().int(),
    cooling_timeout_seconds: z.number(),
    cells: z.array(bundleCell).max(MAX_CELLS),
    warm: z.array(streamRef),
  })
  .strict();
export type Bundle = z.infer<typeof bundle>;

/**
 * A request on `vigil/display/<id>/layout/set`: a layout id as plain text or JSON string,
 * `{layout: "<id>"}`, or `{layout: {…a whole layout…}}` (shown once, not stored).
 * `transaction` is echoed in the error response.
 */
export const layoutSetRequest = z.union([
  slug.transform((id) => ({ layout: id as string | Layout, transaction: undefined as string | undefined })),
  z.object({ layout: z.union([slug, layout]), transaction: z.string().max(128).optional() }).strict(),
]);
export type LayoutSetRequest = z.output<typeof layoutSetRequest>;

/** Parses a `…/layout/set` payload (text or JSON). @returns the request, or the reason it is invalid (`path: message`). */
export function parseLayoutSet(payload: string): { ok: true; request: LayoutSetRequest } | { ok: false; error: string; field?: string; transaction?: string } {
  const text = payload.trim();
  let raw: unknown = text;
  if (text.startsWith('{') || text.startsWith('"')) {
    try { raw = JSON.parse(text); } catch { return { ok: false, error: 'payload: not valid JSON' }; }
  }
  const r = layoutSetRequest.safeParse(raw);
  if (r.success) return { ok: true, request: r.data };
  const issue = r.error.issues[0]!;
  const path = issue.path.join('.');
  // Echo a well-formed transaction even when the rest is refused, so the sender can match the error.
  const t = (raw as { transaction?: unknown } | null)?.transaction;
  const transaction = typeof t === 'string' && t.length <= 128 ? t : undefined;
  return { ok: false, error: path ? `${path}: ${issue.message}` : issue.message, field: path || undefined, transaction };
}

/** `vigil/display/<id>/layout/error`: why a `…/layout/set` was refused (nothing changed). */
export interface LayoutError {
  error: { code: string; message: string; field?: string };
  transaction?: string;
}

/** Per-cell playback figures a kiosk reports. */
export const cellStats = z.object({ fps: z.number(), dropped: z.number().int(), stream: z.string().optional() }).strict();

/** Warmth of one stream on a kiosk (BetterFrame's model). */
export const warmth = z.enum(['hot', 'warm', 'cooling', 'cold']);
export type Warmth = z.infer<typeof warmth>;

/**
 * `vigil/kiosk/<id>/state` (retained): what the kiosk shows. `streams` maps `camera/stream`
 * to its warmth; `cells` maps a cell name to its playback figures; `last_switch` is the
 * latest activation: when its bundle arrived (Unix ms) and how long until every cell
 * showed a frame (ms).
 */
export const kioskState = z
  .object({
    kiosk: slug,
    displays: z.record(z.string(), z.object({
      layout: slug.nullable(),
      seq: z.number().int().nullable(),
      width: z.number().int(),
      height: z.number().int(),
      cells: z.record(z.string(), cellStats),
      last_switch: z.object({ layout: slug, seq: z.number().int(), received_at: z.number(), painted_ms: z.number().nullable() }).strict().nullable(),
    }).strict()),
    streams: z.record(z.string(), warmth),
    user_agent: z.string().optional(),
  })
  .strict();
export type KioskState = z.infer<typeof kioskState>;
