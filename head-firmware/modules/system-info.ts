/** System information (the seed's `rc_system_info`). */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { feed, ro, type Teardown } from './common.ts';

export const systemInfoSchema = z.object({
  hostname: z.string(),
  arch: z.string(),
  cpus: z.number().int().min(1),
  memory_bytes: z.number().int().min(0),
  uptime_s: z.number().min(0),
}).strict();

/** Declares `system.info` (read-only: host name, CPU architecture, CPU count, RAM in bytes, uptime in s), refreshed by the driver. */
export function declareSystemInfo(store: StateStore, drivers: Pick<Drivers, 'system'>): Teardown {
  store.declare({
    key: 'system.info', schema: systemInfoSchema, default: drivers.system.info(), ...ro('system'), persist: false,
    description: 'System information (host name, architecture, CPUs, memory, uptime)',
  });
  return drivers.system.watchInfo((info) => feed(store, 'system.info', info));
}
