/** What the state modules share: permissions per area, the head's own principal, feeding driver readings into the store. */
import type { StateStore } from '../state/store.ts';
import type { Permission, Principal } from '../state/types.ts';

/** Stops what a module started (driver watches); no-op for modules that start nothing. Idempotent. */
export type Teardown = () => void;

export const noop: Teardown = () => {};

/** The head itself: drivers and start-up write as `system`. */
export const SYSTEM: Principal = Object.freeze({ kind: 'system' });

/** Lifecycle actions the buttons trigger (given by the head's main). */
export interface LifecycleHooks {
  /** Restart the head. Should schedule the restart and return (the write's reply goes out first). */
  restart(): void | Promise<void>;
  /**
   * Factory reset: typically `await store.factoryReset(FACTORY_RESET_KEEP)` (tag-categories.ts),
   * clear network configuration, then schedule a restart.
   */
  factoryReset(): void | Promise<void>;
}

type Area = 'system' | 'camera' | 'light' | 'recording';

/** Read with `<area>_r`, write with `<area>_rw`. */
export const rw = (area: Area): { read: Permission[]; write: Permission[] } => ({ read: [`${area}_r`], write: [`${area}_rw`] });

/** Read with `<area>_r`; only the head writes it. */
export const ro = (area: Area): { read: Permission[]; write: Permission[] } => ({ read: [`${area}_r`], write: [] });

/**
 * Writes `value` to `key` as the head itself (a driver reading); a refused reading
 * (out of the schema's range: a broken sensor) is logged and dropped.
 */
export function feed(store: StateStore, key: string, value: unknown): void {
  void store.set(key, value, SYSTEM).then((r) => {
    if (!r.ok) store.log.warn({ key, code: r.code, reason: r.reason }, 'head state: driver reading refused');
  });
}

/** Runs every teardown once, in reverse order. */
export function all(...stops: Teardown[]): Teardown {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const s of stops.reverse()) s();
  };
}
