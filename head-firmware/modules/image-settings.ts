/** Image settings (the seed's `rc_image_settings`): brightness, contrast, saturation, white balance. */
import { z } from 'zod';
import { WHITE_BALANCE, type Drivers, type ImageSettings } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { noop, rw, type Teardown } from './common.ts';

const PERCENT = z.number().int().min(0).max(100);

/** Declares `image.brightness`, `image.contrast`, `image.saturation` (0–100 % of each control's range, default 50) and `image.white_balance`. */
export function declareImageSettings(store: StateStore, drivers: Pick<Drivers, 'camera'>): Teardown {
  const percent = (name: 'brightness' | 'contrast' | 'saturation', label: string) => {
    store.declare({
      key: `image.${name}`, schema: PERCENT, default: 50, ...rw('camera'), persist: true,
      description: `Image ${label}, %`, ha: { component: 'number', unit: '%', min: 0, max: 100, step: 1, entity_category: 'config' },
    });
    store.observe<number>(`image.${name}`, (v) => drivers.camera.setImage(name, v));
  };
  percent('brightness', 'brightness');
  percent('contrast', 'contrast');
  percent('saturation', 'colour saturation');
  store.declare({
    key: 'image.white_balance', schema: z.enum(WHITE_BALANCE), default: 'auto', ...rw('camera'), persist: true,
    description: 'White balance', ha: { component: 'select', options: [...WHITE_BALANCE], entity_category: 'config' },
  });
  store.observe<ImageSettings['white_balance']>('image.white_balance', (v) => drivers.camera.setImage('white_balance', v));
  return noop;
}
