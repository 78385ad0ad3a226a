/** Auto-rotate (the seed's `rc_auto_rotate`): keep the picture upright as the head turns. */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

/** Declares `rotation.auto`. */
export function declareAutoRotate(store: StateStore, drivers: Pick<Drivers, 'rotation'>): Teardown {
  store.declare({
    key: 'rotation.auto', schema: z.boolean(), default: false, ...rw('camera'), persist: true,
    description: 'Keep the picture upright automatically', ha: { component: 'switch', entity_category: 'config' },
  });
  store.observe<boolean>('rotation.auto', (on) => drivers.rotation.setAutoRotate(on));
  return noop;
}
