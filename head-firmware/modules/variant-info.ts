/** The build variant and its feature flags (the seed's factory configuration), read-only. */
import { z } from 'zod';
import type { StateStore } from '../state/store.ts';
import { VARIANTS, type ResolvedVariant } from '../variants.ts';
import { noop, ro, type Teardown } from './common.ts';

/** Declares `system.variant`, `system.branding`, `system.watermark` and `system.factory_test` from the resolved variant. */
export function declareVariantInfo(store: StateStore, variant: ResolvedVariant): Teardown {
  store.declare({
    key: 'system.variant', schema: z.enum(VARIANTS), default: variant.variant, ...ro('system'), persist: false,
    description: 'Firmware variant', ha: { component: 'sensor', entity_category: 'diagnostic' },
  });
  store.declare({
    key: 'system.branding', schema: z.string().min(1).max(64), default: variant.branding, ...ro('system'), persist: false,
    description: 'Product name shown to users',
  });
  store.declare({
    key: 'system.watermark', schema: z.boolean(), default: variant.watermark, ...ro('system'), persist: false,
    description: 'The picture carries a demo watermark', ha: { component: 'binary_sensor', entity_category: 'diagnostic' },
  });
  store.declare({
    key: 'system.factory_test', schema: z.boolean(), default: variant.factory_test, ...ro('system'), persist: false,
    description: 'Factory test mode', ha: { component: 'binary_sensor', entity_category: 'diagnostic' },
  });
  return noop;
}
