/** The rotating disc (the seed's `rc_disc_rotation`): motor speed and the disc's angle. */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { feed, ro, rw, type Teardown } from './common.ts';

/**
 * Declares `rotation.disc_speed` (−100…100 % of full speed, sign = direction; not persisted:
 * the disc never starts turning by itself after a restart) and `rotation.disc_position`
 * (0 ≤ deg < 360, read-only, from the driver).
 */
export function declareDiscRotation(store: StateStore, drivers: Pick<Drivers, 'rotation'>): Teardown {
  store.declare({
    key: 'rotation.disc_speed', schema: z.number().int().min(-100).max(100), default: 0, ...rw('camera'), persist: false,
    description: 'Disc rotation speed, % of full speed (negative: the other way, 0: stopped)',
    ha: { component: 'number', unit: '%', min: -100, max: 100, step: 1 },
  });
  store.declare({
    key: 'rotation.disc_position', schema: z.number().min(0).lt(360), default: 0, ...ro('camera'), persist: false,
    description: 'Disc angle, degrees', ha: { component: 'sensor', unit: '°', state_class: 'measurement' },
  });
  store.observe<number>('rotation.disc_speed', (speed) => drivers.rotation.setDiscSpeed(speed));
  return drivers.rotation.watchPosition((deg) => feed(store, 'rotation.disc_position', deg));
}
