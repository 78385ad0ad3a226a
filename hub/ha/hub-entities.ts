/**
 * The hub's Home Assistant device: its health figures, read from the retained
 * `vigil/hub/stats` JSON ({@link HubStatsPayload}). Pure.
 */
import { device, entity, type DeviceScope, type Discovery, type HaContext } from './discovery.ts';
import type { HubStatsPayload } from './hub-stats.ts';

/** The hub's device scope: every other Vigil device is reached `via_device` it. */
export function hubScope(ctx: HaContext): DeviceScope {
  const name = ctx.topics.prefix === 'vigil' ? 'Vigil hub' : `Vigil hub (${ctx.topics.prefix})`;
  return { ctx, device: device(ctx, 'hub', name, 'Vigil hub', null), stem: 'hub', availability: [ctx.topics.hubAvailability()] };
}

/** A sensor on one field of the stats JSON. */
function stat(scope: DeviceScope, field: keyof HubStatsPayload, name: string, extra: Record<string, unknown>): Discovery {
  return entity(scope, 'sensor', field, name, {
    state_topic: scope.ctx.topics.hubStats(),
    // A null figure (not known yet) renders `None`: Home Assistant shows unknown.
    value_template: `{{ value_json.${field} }}`,
    ...extra,
  });
}

/** The hub's sensors: CPU %, memory (MiB), storage used %, detector inference ms, events today. */
export function hubEntities(ctx: HaContext): Discovery[] {
  const scope = hubScope(ctx);
  const measured = { state_class: 'measurement', entity_category: 'diagnostic' };
  return [
    stat(scope, 'cpu_percent', 'CPU', { unit_of_measurement: '%', suggested_display_precision: 1, ...measured }),
    stat(scope, 'memory_mib', 'Memory', { unit_of_measurement: 'MiB', device_class: 'data_size', suggested_display_precision: 0, ...measured }),
    stat(scope, 'storage_used_percent', 'Storage used', { unit_of_measurement: '%', suggested_display_precision: 1, ...measured }),
    stat(scope, 'inference_ms', 'Detector inference', { unit_of_measurement: 'ms', device_class: 'duration', suggested_display_precision: 1, ...measured }),
    stat(scope, 'events_today', 'Events today', { state_class: 'total_increasing' }),
  ];
}
