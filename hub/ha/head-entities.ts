/**
 * Camera heads in Home Assistant (pure): each head a device (via the hub) with one entity per
 * state key that carries a Home Assistant hint in the head's `info` — switches, numbers and
 * selects write `vigil/head/<id>/state/<key>/set` (when the head's MQTT role may write the
 * key; otherwise they are shown read-only as sensors), sensors and binary sensors read
 * `vigil/head/<id>/state/<key>` (JSON values), buttons press with `true`. Availability: the
 * hub's and the head's own (its last will).
 */
import type { HeadInfo, HeadKeyInfo } from '../../components/protocol/head-info.ts';
import { device, entity, titleOf, type DeviceScope, type Discovery, type HaContext } from './discovery.ts';

/** A head as the discovery plan needs it. */
export type HaHead = Pick<HeadInfo, 'id' | 'name' | 'model' | 'keys'>;

/** JSON values on the state topics: strings come quoted, so sensors render `value_json`. */
const JSON_VALUE = '{{ value_json }}';

/** The entities of one head. */
export function headEntities(ctx: HaContext, head: HaHead): Discovery[] {
  const t = ctx.topics;
  const stem = `head_${head.id}`;
  const scope: DeviceScope = { ctx, device: device(ctx, stem, head.name, head.model || 'Camera head'), stem, availability: [t.hubAvailability(), t.headAvailability(head.id)] };
  return head.keys.flatMap((k) => keyEntity(scope, head.id, k) ?? []);
}

function keyEntity(scope: DeviceScope, id: string, k: HeadKeyInfo): Discovery | null {
  const hint = k.ha;
  if (!hint) return null;
  const t = scope.ctx.topics;
  const state = t.headState(id, k.key);
  const command = t.headStateSet(id, k.key);
  const key = k.key.replace(/\./g, '_');
  const name = titleOf(key); // `light.level` → `Light level`
  const common = {
    ...(hint.entity_category ? { entity_category: hint.entity_category } : {}),
    ...(hint.device_class ? { device_class: hint.device_class } : {}),
  };
  // Home Assistant allows `config` only on entities that can be set: read-only ones are `diagnostic`.
  const readOnly = { ...common, ...(hint.entity_category ? { entity_category: 'diagnostic' } : {}) };
  const sensor = () => entity(scope, 'sensor', key, name, {
    state_topic: state, value_template: JSON_VALUE, ...readOnly,
    ...(hint.unit ? { unit_of_measurement: hint.unit } : {}), ...(hint.state_class ? { state_class: hint.state_class } : {}),
  });
  switch (hint.component) {
    case 'switch':
      return k.writable
        ? entity(scope, 'switch', key, name, { state_topic: state, command_topic: command, payload_on: 'true', payload_off: 'false', state_on: 'true', state_off: 'false', ...common })
        : entity(scope, 'binary_sensor', key, name, { state_topic: state, payload_on: 'true', payload_off: 'false', ...readOnly });
    case 'binary_sensor':
      return entity(scope, 'binary_sensor', key, name, { state_topic: state, payload_on: 'true', payload_off: 'false', ...readOnly });
    case 'number':
      return k.writable
        ? entity(scope, 'number', key, name, {
          state_topic: state, command_topic: command, ...common,
          ...(hint.min !== undefined ? { min: hint.min } : {}), ...(hint.max !== undefined ? { max: hint.max } : {}), ...(hint.step !== undefined ? { step: hint.step } : {}),
          ...(hint.unit ? { unit_of_measurement: hint.unit } : {}),
        })
        : sensor();
    case 'select':
      return k.writable && hint.options?.length
        ? entity(scope, 'select', key, name, { state_topic: state, command_topic: command, value_template: JSON_VALUE, options: hint.options, ...common })
        : sensor();
    case 'button':
      return k.writable ? entity(scope, 'button', key, name, { command_topic: command, payload_press: 'true', ...common }) : null;
    case 'sensor':
    case 'text':
      return sensor();
  }
}
