/** Digital zoom (the seed's `rc_zoom`). */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

/** Declares `zoom.level` (factor 1.0–8.0, default 1.0). */
export function declareZoom(store: StateStore, drivers: Pick<Drivers, 'camera'>): Teardown {
  store.declare({
    key: 'zoom.level', schema: z.number().min(1).max(8), default: 1, ...rw('camera'), persist: true,
    description: 'Zoom factor', ha: { component: 'number', unit: '×', min: 1, max: 8, step: 0.1 },
  });
  store.observe<number>('zoom.level', (level) => drivers.camera.setZoom(level));
  return noop;
}
