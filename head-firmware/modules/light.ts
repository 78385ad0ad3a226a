/** The light (the seed's `rc_light`): on/off and level, applied as a PWM duty cycle on channel 0. */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

/** Declares `light.on` and `light.level`; the light's PWM duty is `light.level` while on, 0 while off. */
export function declareLight(store: StateStore, drivers: Pick<Drivers, 'light'>): Teardown {
  store.declare({
    key: 'light.on', schema: z.boolean(), default: false, ...rw('light'), persist: true,
    description: 'Light on or off', ha: { component: 'switch', device_class: 'switch' },
  });
  store.declare({
    key: 'light.level', schema: z.number().int().min(0).max(100), default: 100, ...rw('light'), persist: true,
    description: 'Light brightness while on, %', ha: { component: 'number', unit: '%', min: 0, max: 100, step: 1 },
  });
  store.observe<boolean>('light.on', (on) => drivers.light.setLevel(0, on ? (store.get('light.level') as number) : 0));
  store.observe<number>('light.level', (level) => {
    if (store.get('light.on') === true) return drivers.light.setLevel(0, level);
  });
  return noop;
}
