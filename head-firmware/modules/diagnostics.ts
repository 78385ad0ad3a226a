/**
 * Sensor diagnostics (the seed's `rc_head_temp_diagnose`, `rc_pressure_diagnose`): each
 * head sensor's reading judged `ok` / `warning` / `critical`.
 *
 * Thresholds are ours (the seed names the checks, not their limits): head housing
 * warning from 50 °C, critical from 60 °C; FPGA warning from 80 °C, critical from 90 °C;
 * housing pressure warning more than 50 hPa off 1013.25 hPa (a leak or a blocked vent),
 * critical more than 100 hPa off.
 */
import { z } from 'zod';
import type { StateStore } from '../state/store.ts';
import { feed, ro, type Teardown } from './common.ts';

export const DIAGNOSTIC_LEVELS = ['unknown', 'ok', 'warning', 'critical'] as const;
export type DiagnosticLevel = (typeof DIAGNOSTIC_LEVELS)[number];

/** The level of a reading `x` against warning and critical limits (`x` ≥ limit). */
export function levelAbove(x: number | null, warning: number, critical: number): DiagnosticLevel {
  if (x === null) return 'unknown';
  return x >= critical ? 'critical' : x >= warning ? 'warning' : 'ok';
}

const CHECKS: { key: string; from: string; description: string; level: (x: number | null) => DiagnosticLevel }[] = [
  { key: 'diagnostics.head_temperature', from: 'sensors.temperature_c', description: 'Head temperature check', level: (x) => levelAbove(x, 50, 60) },
  { key: 'diagnostics.fpga_temperature', from: 'sensors.fpga_temperature_c', description: 'FPGA temperature check', level: (x) => levelAbove(x, 80, 90) },
  { key: 'diagnostics.pressure', from: 'sensors.pressure_hpa', description: 'Head pressure check', level: (x) => levelAbove(x === null ? null : Math.abs(x - 1013.25), 50, 100) },
];

/**
 * Declares `diagnostics.head_temperature`, `diagnostics.fpga_temperature`,
 * `diagnostics.pressure` (read-only, `camera_r`), kept up to date from the sensor keys.
 * @throws when the head sensors module is not declared before it.
 */
export function declareDiagnostics(store: StateStore): Teardown {
  for (const c of CHECKS) {
    if (!store.has(c.from)) throw new Error(`diagnostics need ${c.from}: enable the head_sensors module`);
    store.declare({
      key: c.key, schema: z.enum(DIAGNOSTIC_LEVELS), default: c.level(store.get(c.from) as number | null), ...ro('camera'), persist: false,
      description: c.description,
      ha: { component: 'sensor', device_class: 'enum', options: [...DIAGNOSTIC_LEVELS], entity_category: 'diagnostic' },
    });
  }
  return store.onChange((change) => {
    const c = CHECKS.find((x) => x.from === change.key);
    if (c) feed(store, c.key, c.level(change.value as number | null));
  });
}
