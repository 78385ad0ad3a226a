/** Factory reset button (the seed's `resetSystem`). */
import { z } from 'zod';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type LifecycleHooks, type Teardown } from './common.ts';

/**
 * Declares `system.factory_reset`: writing `true` calls `hooks.factoryReset()` (which
 * typically runs `store.factoryReset(FACTORY_RESET_KEEP)` and restarts; a failing hook
 * refuses the write).
 */
export function declareFactoryReset(store: StateStore, hooks: Pick<LifecycleHooks, 'factoryReset'>): Teardown {
  store.declare({
    key: 'system.factory_reset', schema: z.boolean(), default: false, ...rw('system'), persist: false, momentary: true,
    description: 'Reset every setting to its factory default (tag categories are kept)', ha: { component: 'button', entity_category: 'config' },
  });
  store.observe<boolean>('system.factory_reset', async (press) => {
    if (press) await hooks.factoryReset();
  });
  return noop;
}
