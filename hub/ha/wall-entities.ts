/**
 * The camera wall in Home Assistant (pure): each kiosk a device with its connectivity,
 * each display a device (via its kiosk) with a `select` of the stored layouts and a
 * sensor of the layout it shows.
 */
import type { Display, Layout } from '../../components/protocol/layout.ts';
import { device, entity, type DeviceScope, type Discovery, type HaContext } from './discovery.ts';

/** A kiosk and its displays, as the wall lists them. */
export interface HaKiosk {
  id: string;
  name: string;
  displays: Array<Pick<Display, 'id' | 'name'>>;
}

/** The layout id in a retained bundle; `None` (unknown) while the display shows nothing or was cleared. */
const LAYOUT_ID_TEMPLATE = "{{ value_json.layout if value_json is defined and value_json.layout is defined else 'None' }}";
/** The layout's name in a retained bundle. */
const LAYOUT_NAME_TEMPLATE = "{{ value_json.name if value_json is defined and value_json.name is defined else 'None' }}";
/** A few bundle fields as attributes — never the cells: their URLs carry the kiosk's media tokens. */
const LAYOUT_ATTRIBUTES_TEMPLATE = "{% if value_json is defined %}{{ {'layout': value_json.layout, 'seq': value_json.seq, 'issued_at': value_json.issued_at} | tojson }}{% else %}{}{% endif %}";

/** A kiosk's device: `binary_sensor` connectivity from `vigil/kiosk/<id>/availability`. */
export function kioskEntities(ctx: HaContext, kiosk: HaKiosk): Discovery[] {
  const t = ctx.topics;
  const scope: DeviceScope = { ctx, device: device(ctx, `kiosk_${kiosk.id}`, kiosk.name, 'Kiosk'), stem: `kiosk_${kiosk.id}`, availability: [t.hubAvailability()] };
  return [
    entity(scope, 'binary_sensor', 'connected', 'Connected', {
      state_topic: t.kioskAvailability(kiosk.id), payload_on: 'online', payload_off: 'offline', device_class: 'connectivity', entity_category: 'diagnostic',
    }),
  ];
}

/**
 * A display's device (via its kiosk): a `select` of the stored layouts (ids, sorted;
 * none while no layout is stored) whose command activates one, and the current layout's name.
 */
export function displayEntities(ctx: HaContext, kiosk: HaKiosk, display: Pick<Display, 'id' | 'name'>, layouts: Array<Pick<Layout, 'id'>>): Discovery[] {
  const t = ctx.topics;
  const stem = `display_${display.id}`;
  const scope: DeviceScope = { ctx, device: device(ctx, stem, `${kiosk.name} ${display.name}`, 'Display', `kiosk_${kiosk.id}`), stem, availability: [t.hubAvailability()] };
  const state = t.displayLayoutState(display.id);
  const out: Discovery[] = [];
  const options = layouts.map((l) => l.id).sort();
  if (options.length) {
    out.push(entity(scope, 'select', 'layout', 'Layout', { command_topic: t.displayLayoutSet(display.id), state_topic: state, value_template: LAYOUT_ID_TEMPLATE, options }));
  }
  out.push(entity(scope, 'sensor', 'current_layout', 'Current layout', {
    state_topic: state, value_template: LAYOUT_NAME_TEMPLATE, json_attributes_topic: state, json_attributes_template: LAYOUT_ATTRIBUTES_TEMPLATE,
  }));
  return out;
}
