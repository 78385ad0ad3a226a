/**
 * Builds the retained `vigil/kiosk/<id>/state` message ({@link KioskState}): per display
 * the layout, seq and size, per camera cell the frame rate and dropped frames since the
 * previous report (from `getVideoPlaybackQuality()` deltas), the streams' warmth and the
 * last switch.
 */
import type { KioskState } from '../../components/protocol/layout.ts';
import type { FrameCounts } from './stream-player.ts';
import type { WallController } from './wall-controller.ts';

/** Per-cell frame rates from successive frame counters. */
export class CellMeter {
  private readonly prev = new Map<string, FrameCounts & { at: number; key: string }>();

  /**
   * Frame rate and dropped frames of `cell` since the previous call for it.
   * @param key the player key shown in the cell (counters restart when it changes)
   * @param now ms (`performance.now()`)
   * @returns fps (frames/s, 1 decimal; 0 on the first call) and dropped frames in the interval
   */
  measure(cell: string, key: string, counts: FrameCounts, now: number): { fps: number; dropped: number } {
    const p = this.prev.get(cell);
    this.prev.set(cell, { ...counts, at: now, key });
    if (!p || p.key !== key || now <= p.at || counts.total < p.total) return { fps: 0, dropped: 0 };
    const fps = ((counts.total - p.total) * 1000) / (now - p.at);
    return { fps: Math.round(fps * 10) / 10, dropped: Math.max(0, counts.dropped - p.dropped) };
  }

  /** Forgets cells not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const c of this.prev.keys()) if (!keep.has(c)) this.prev.delete(c);
  }
}

/**
 * The kiosk's state now.
 * @param kiosk the kiosk id; `display` the display this page shows
 * @param meter keeps the previous counters between reports (one per page)
 */
export function kioskState(kiosk: string, display: string, wall: WallController, meter: CellMeter): KioskState {
  const b = wall.bundle;
  const cells: KioskState['displays'][string]['cells'] = {};
  const now = performance.now();
  for (const c of b?.cells ?? []) {
    const key = wall.cellPlayer(c.name);
    const p = key === undefined ? undefined : wall.players().get(key);
    if (!key || !p) continue;
    cells[c.name] = { ...meter.measure(c.name, key, p.frames(), now), stream: key };
  }
  meter.retain(new Set(Object.keys(cells)));
  return {
    kiosk,
    displays: {
      [display]: {
        layout: b?.layout ?? null,
        seq: b?.seq ?? null,
        width: b?.width ?? innerWidth,
        height: b?.height ?? innerHeight,
        cells,
        last_switch: wall.lastSwitch ? { ...wall.lastSwitch } : null,
      },
    },
    streams: wall.warmthSnapshot(),
    user_agent: navigator.userAgent,
  };
}
