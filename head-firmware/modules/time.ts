/** Time (the seed's `rc_time`): time zone, NTP, the head's clock. */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { feed, ro, rw, type Teardown } from './common.ts';

/**
 * Whether `tz` is an IANA time zone name this runtime knows (`Europe/Berlin`, `UTC`,
 * `Etc/GMT+5`): a name (no bare offsets such as `+01:00`) that `Intl.DateTimeFormat` accepts.
 */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z.string().max(64).refine(isTimeZone, 'expected an IANA time zone, e.g. Europe/Berlin');

/** Declares `time.timezone` (default UTC), `time.ntp` (default on) and `time.now` (read-only ISO 8601, from the clock driver). */
export function declareTime(store: StateStore, drivers: Pick<Drivers, 'clock'>): Teardown {
  store.declare({
    key: 'time.timezone', schema: timeZoneSchema, default: 'UTC', ...rw('system'), persist: true,
    description: 'Time zone (IANA name)', ha: { component: 'text', entity_category: 'config' },
  });
  store.declare({
    key: 'time.ntp', schema: z.boolean(), default: true, ...rw('system'), persist: true,
    description: 'Set the clock by NTP', ha: { component: 'switch', entity_category: 'config' },
  });
  store.declare({
    key: 'time.now', schema: z.iso.datetime(), default: new Date().toISOString(), ...ro('system'), persist: false,
    description: 'The head\'s clock (UTC, ISO 8601)', ha: { component: 'sensor', device_class: 'timestamp', entity_category: 'diagnostic' },
  });
  store.observe<string>('time.timezone', (tz) => drivers.clock.setTimezone(tz));
  store.observe<boolean>('time.ntp', (on) => drivers.clock.setNtp(on));
  return drivers.clock.watch((now) => feed(store, 'time.now', now.toISOString()));
}
