/**
 * Timing of a layout switch: from the moment the bundle arrived until every camera cell of
 * it has a decoded frame and the page has painted once since ( `painted_ms` of
 * `KioskState.last_switch`).
 */
import type { StreamPlayer } from './stream-player.ts';

/** One activation as the kiosk saw it (the `last_switch` of `KioskState`). */
export interface SwitchRecord {
  layout: string;
  seq: number;
  /** When the bundle arrived, Unix ms. */
  received_at: number;
  /** ms from arrival until every camera cell showed a decoded frame; null until then (or never, if a stream is down). */
  painted_ms: number | null;
}

/** Resolves on the next animation frame (the paint that shows what was just styled). */
export function nextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

/**
 * Waits until each of `players` has a decoded frame, then for the next paint.
 * @param since `performance.now()` when the bundle arrived
 * @returns ms from `since` to that paint (0 or more; a layout without cameras gives the next paint)
 */
export async function measurePaint(players: StreamPlayer[], since: number): Promise<number> {
  await Promise.all(players.map((p) => p.whenFrame()));
  await nextPaint();
  return Math.max(0, Math.round(performance.now() - since));
}
