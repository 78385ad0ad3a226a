/** Picture-in-picture (the seed's `rc_pip`): a second view as an inset in one corner. */
import { z } from 'zod';
import { PIP_POSITIONS, type Drivers, type PipPosition } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

/** Declares `pip.enabled` (default off) and `pip.position` (a corner, default bottom right). */
export function declarePip(store: StateStore, drivers: Pick<Drivers, 'camera'>): Teardown {
  store.declare({
    key: 'pip.enabled', schema: z.boolean(), default: false, ...rw('camera'), persist: true,
    description: 'Picture-in-picture on or off', ha: { component: 'switch' },
  });
  store.declare({
    key: 'pip.position', schema: z.enum(PIP_POSITIONS), default: 'bottom_right', ...rw('camera'), persist: true,
    description: 'Picture-in-picture corner', ha: { component: 'select', options: [...PIP_POSITIONS], entity_category: 'config' },
  });
  store.observe<boolean>('pip.enabled', (on) => drivers.camera.setPip(on, store.get('pip.position') as PipPosition));
  store.observe<PipPosition>('pip.position', (pos) => drivers.camera.setPip(store.get('pip.enabled') as boolean, pos));
  return noop;
}
