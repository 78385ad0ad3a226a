/** The head's sensors (the seed's `rc_head_sensors`, `rc_fpga_temp`): housing temperature and pressure, FPGA temperature. */
import { z } from 'zod';
import type { Drivers } from '../drivers/types.ts';
import type { StateStore } from '../state/store.ts';
import { feed, ro, type Teardown } from './common.ts';

/**
 * Declares `sensors.temperature_c`, `sensors.pressure_hpa`, `sensors.fpga_temperature_c`
 * (read-only, `camera_r`, `null` until the first reading). The schemas accept what the
 * sensors can measure (−40…125 °C, 300…1100 hPa: the ranges of common digital sensors such
 * as the BME280's pressure range); a reading outside is a broken sensor and is dropped.
 */
export function declareHeadSensors(store: StateStore, drivers: Pick<Drivers, 'sensors'>): Teardown {
  const temp = z.number().min(-40).max(125).nullable();
  store.declare({
    key: 'sensors.temperature_c', schema: temp, default: null, ...ro('camera'), persist: false,
    description: 'Temperature inside the head, °C',
    ha: { component: 'sensor', unit: '°C', device_class: 'temperature', state_class: 'measurement', entity_category: 'diagnostic' },
  });
  store.declare({
    key: 'sensors.pressure_hpa', schema: z.number().min(300).max(1100).nullable(), default: null, ...ro('camera'), persist: false,
    description: 'Pressure inside the head, hPa',
    ha: { component: 'sensor', unit: 'hPa', device_class: 'pressure', state_class: 'measurement', entity_category: 'diagnostic' },
  });
  store.declare({
    key: 'sensors.fpga_temperature_c', schema: temp, default: null, ...ro('camera'), persist: false,
    description: 'FPGA temperature, °C',
    ha: { component: 'sensor', unit: '°C', device_class: 'temperature', state_class: 'measurement', entity_category: 'diagnostic' },
  });
  return drivers.sensors.watch((r) => {
    feed(store, 'sensors.temperature_c', r.temperature_c);
    feed(store, 'sensors.pressure_hpa', r.pressure_hpa);
    feed(store, 'sensors.fpga_temperature_c', r.fpga_temperature_c);
  });
}
