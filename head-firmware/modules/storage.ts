/** Recording storage (the seed's `rc_disk_storage`, `rc_storage`): size, free space, state, what to do when full. */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { feed, ro, rw, type Teardown } from './common.ts';

export const STORAGE_STATES = ['ok', 'low', 'full'] as const;
export type StorageState = (typeof STORAGE_STATES)[number];

/**
 * `full` below 2 % free, `low` below 10 %, else `ok` (our limits: the seed's "storage
 * full" handling gives none). A medium of size 0 (none inserted) is `full`.
 */
export function storageState(total: number, free: number): StorageState {
  if (total <= 0) return 'full';
  const f = free / total;
  return f < 0.02 ? 'full' : f < 0.1 ? 'low' : 'ok';
}

/**
 * Declares `storage.total_bytes`, `storage.free_bytes` (read-only, `null` until the first
 * reading), `storage.state` (read-only) and `storage.delete_oldest_when_full` (default on).
 */
export function declareStorage(store: StateStore, drivers: Pick<Drivers, 'storage'>): Teardown {
  const bytes = z.number().int().min(0).nullable();
  store.declare({
    key: 'storage.total_bytes', schema: bytes, default: null, ...ro('recording'), persist: false,
    description: 'Recording storage size, bytes', ha: { component: 'sensor', unit: 'B', device_class: 'data_size', entity_category: 'diagnostic' },
  });
  store.declare({
    key: 'storage.free_bytes', schema: bytes, default: null, ...ro('recording'), persist: false,
    description: 'Free recording storage, bytes',
    ha: { component: 'sensor', unit: 'B', device_class: 'data_size', state_class: 'measurement', entity_category: 'diagnostic' },
  });
  store.declare({
    key: 'storage.state', schema: z.enum(STORAGE_STATES), default: 'ok', ...ro('recording'), persist: false,
    description: 'Recording storage state', ha: { component: 'sensor', device_class: 'enum', options: [...STORAGE_STATES] },
  });
  store.declare({
    key: 'storage.delete_oldest_when_full', schema: z.boolean(), default: true, ...rw('recording'), persist: true,
    description: 'Delete the oldest recordings when the storage is full', ha: { component: 'switch', entity_category: 'config' },
  });
  return drivers.storage.watch((r) => {
    feed(store, 'storage.total_bytes', r.total_bytes);
    feed(store, 'storage.free_bytes', r.free_bytes);
    feed(store, 'storage.state', storageState(r.total_bytes, r.free_bytes));
  });
}
