/**
 * Pure helpers of the zones and masks editor: the draft shapes, normalized points (0–1,
 * origin top-left, as `components/protocol/camera-config.ts` stores them), defaults for new
 * shapes, and which shape and input an API error's `field` (`zones.1.coordinates.0.1`) names.
 */
import type { MaskConfig, ZoneConfig } from '../../../components/protocol/camera-config.ts';

/** A point `[x, y]`, each 0–1 of the frame's width / height. */
export type Pt = [number, number];
/** Which list a shape is in (the config's key). */
export type Kind = 'zones' | 'masks';
export type ZoneDraft = ZoneConfig;
export type MaskDraft = MaskConfig;

/** Rounds to 4 decimals (0.1 px on a 1000 px frame) and clamps to 0–1. */
export function norm(v: number): number {
  return Math.round(Math.min(1, Math.max(0, v)) * 10_000) / 10_000;
}

/**
 * The normalized point under a pointer event, from the element's on-screen box.
 * @param box the overlay's `getBoundingClientRect()` (CSS px)
 */
export function pointAt(box: { left: number; top: number; width: number; height: number }, clientX: number, clientY: number): Pt {
  return [norm((clientX - box.left) / box.width), norm((clientY - box.top) / box.height)];
}

/** The mean of the vertices (where a shape's name is written). */
export function centre(points: readonly Pt[]): Pt {
  const n = points.length || 1;
  return [points.reduce((s, p) => s + p[0], 0) / n, points.reduce((s, p) => s + p[1], 0) / n];
}

/** The points with one more at the middle of the closing edge (last → first), appended. */
export function withPoint(points: readonly Pt[]): Pt[] {
  const a = points[points.length - 1];
  const b = points[0];
  if (!a || !b) return [...points, [0.5, 0.5]];
  return [...points, [norm((a[0] + b[0]) / 2), norm((a[1] + b[1]) / 2)]];
}

/** A centred rectangle covering half the width and height: the start of a shape made without a pointer. */
export const RECTANGLE: readonly Pt[] = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]];

/** `<prefix>_<n>` with the least n ≥ 1 not among `taken`. */
export function freeName(prefix: string, taken: readonly string[]): string {
  for (let n = 1; ; n++) if (!taken.includes(`${prefix}_${n}`)) return `${prefix}_${n}`;
}

/** A new zone with the schema's defaults (every tracked label, the object's own threshold, inertia 3, no dwell). */
export function newZone(name: string, coordinates: Pt[]): ZoneDraft {
  return { name, coordinates, objects: [], threshold: 0, inertia: 3, loitering_time: 0 };
}

/** A new mask with the schema's default `applies_to: both`. */
export function newMask(name: string, coordinates: Pt[]): MaskDraft {
  return { name, coordinates, applies_to: 'both' };
}

/** Where an API error belongs: a shape and its input (`name`, `objects`, `coordinates` …; `item` for the shape as a whole). */
export interface ErrorPlace { kind: Kind; index: number; input: string }

/**
 * Reads an API error's dotted `field`: `zones.1.coordinates.0.1` → zone 1, input
 * `coordinates`; `masks.0` → mask 0, `item`.
 * @returns undefined when the field names no single shape (show it at the form)
 */
export function errorPlace(field: string | undefined): ErrorPlace | undefined {
  const m = /^(zones|masks)\.(\d+)(?:\.([a-z_]+))?/.exec(field ?? '');
  if (!m) return undefined;
  return { kind: m[1] as Kind, index: Number(m[2]), input: m[3] ?? 'item' };
}

/** Indexes of zones whose name another zone before it has (names must differ: events list them). */
export function duplicateNames(zones: readonly { name: string }[]): number[] {
  return zones.flatMap((z, i) => (zones.findIndex((o) => o.name === z.name) < i ? [i] : []));
}
