/** Restart button (the seed's `rc_restart`). */
import { z } from 'zod';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type LifecycleHooks, type Teardown } from './common.ts';

/** Declares `system.restart`: writing `true` calls `hooks.restart()` (a failing hook refuses the write). */
export function declareRestart(store: StateStore, hooks: Pick<LifecycleHooks, 'restart'>): Teardown {
  store.declare({
    key: 'system.restart', schema: z.boolean(), default: false, ...rw('system'), persist: false, momentary: true,
    description: 'Restart the head', ha: { component: 'button', device_class: 'restart', entity_category: 'config' },
  });
  store.observe<boolean>('system.restart', async (press) => {
    if (press) await hooks.restart();
  });
  return noop;
}
