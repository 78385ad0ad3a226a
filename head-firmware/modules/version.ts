/** Firmware version (the seed's `rc_version`). */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, ro, type Teardown } from './common.ts';

/** Declares `system.version` (read-only). */
export function declareVersion(store: StateStore, drivers: Pick<Drivers, 'system'>): Teardown {
  store.declare({
    key: 'system.version', schema: z.string().min(1).max(64), default: drivers.system.version(), ...ro('system'), persist: false,
    description: 'Firmware version', ha: { component: 'sensor', entity_category: 'diagnostic' },
  });
  return noop;
}
