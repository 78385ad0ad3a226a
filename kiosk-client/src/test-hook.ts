/**
 * `window.__vigilKiosk`: a small read-only window into the kiosk for tests and benchmarks
 * (playwright's `page.evaluate`). Nothing in the kiosk depends on it.
 *
 * - `phase`: `'pairing' | 'connecting' | 'online' | 'offline'`
 * - `state()`: the {@link KioskState} the kiosk would publish now (cell `fps`/`dropped`
 *   measured since the previous `state()` call), or null while not paired
 * - `lastSwitch`: the latest {@link SwitchRecord} (`painted_ms` null until painted), or null
 * - `onSwitchPainted(cb)`: calls `cb(record)` each time a switch has painted; returns an
 *   unsubscribe function
 * - `players()`: every player that is not cold, by key: warmth, status, `readyState`,
 *   decoded/dropped frame counters, `currentTime` (s) and the cell it is shown in (or null)
 * - `cellVideo(name)`: the `<video>` shown in camera cell `name`, or null
 */
import type { KioskState, Warmth } from '../../components/protocol/layout.ts';
import { CellMeter } from './kiosk-state.ts';
import type { KioskSession } from './kiosk-session.ts';
import type { PlayerStatus } from './stream-player.ts';
import type { SwitchRecord } from './switch-timer.ts';

/** The kiosk's phase as the hook reports it. */
export type KioskPhase = 'pairing' | 'connecting' | 'online' | 'offline';

/** One player as {@link VigilKioskHook.players} reports it. */
export interface PlayerInfo {
  warmth: Warmth;
  status: PlayerStatus;
  readyState: number;
  frames: number;
  dropped: number;
  currentTime: number;
  cell: string | null;
  lastError: string | null;
}

/** The shape of `window.__vigilKiosk`. */
export interface VigilKioskHook {
  readonly phase: KioskPhase;
  state(): KioskState | null;
  readonly lastSwitch: SwitchRecord | null;
  onSwitchPainted(cb: (s: SwitchRecord) => void): () => void;
  players(): Record<string, PlayerInfo>;
  cellVideo(name: string): HTMLVideoElement | null;
}

declare global {
  interface Window { __vigilKiosk?: VigilKioskHook }
}

/** Installs `window.__vigilKiosk` over what `current()` returns; `painted` feeds `onSwitchPainted`. */
export function installHook(current: () => { phase: KioskPhase; session: KioskSession | null }): { painted: (s: SwitchRecord) => void } {
  const listeners = new Set<(s: SwitchRecord) => void>();
  const meter = new CellMeter();
  window.__vigilKiosk = {
    get phase() { return current().phase; },
    state: () => current().session?.state(meter) ?? null,
    get lastSwitch() { return current().session?.wall.lastSwitch ?? null; },
    onSwitchPainted(cb) { listeners.add(cb); return () => listeners.delete(cb); },
    players() {
      const wall = current().session?.wall;
      if (!wall) return {};
      const warmth = wall.warmthSnapshot();
      const out: Record<string, PlayerInfo> = {};
      for (const [key, p] of wall.players().entries()) {
        const f = p.frames();
        out[key] = {
          warmth: warmth[key] ?? 'cold', status: p.status, readyState: p.video.readyState, frames: f.total, dropped: f.dropped,
          currentTime: p.video.currentTime, cell: p.element.dataset.cell ?? null, lastError: p.lastError,
        };
      }
      return out;
    },
    cellVideo(name) {
      const wall = current().session?.wall;
      const key = wall?.cellPlayer(name);
      return (key && wall?.players().get(key)?.video) || null;
    },
  };
  return { painted: (s) => { for (const cb of listeners) cb(s); } };
}
