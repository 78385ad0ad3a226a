/**
 * Home Assistant MQTT discovery: the shape every config shares (pure, no I/O).
 *
 * A config goes retained to `homeassistant/<component>/<node>/<object>/config`
 * ({@link Topics.haDiscovery}), with the node id = Vigil's topic prefix (`vigil`), so the
 * hub finds its own configs with one filter (`homeassistant/+/vigil/+/config`) and never
 * reads other integrations' ones. Each config carries:
 *
 * - `unique_id` `<prefix>_<object>` — stable across restarts (`vigil_porch_motion`);
 * - a `device` block (identifiers, name, manufacturer "Vigil", model, sw_version,
 *   configuration_url, `via_device` the hub, suggested_area when known);
 * - an `origin` block (name, sw_version, support_url);
 * - an `availability` list (the hub, and the device where it has its own topic) with
 *   `availability_mode: all`.
 *
 * Full keys, not abbreviations: the payloads are small and stay readable on the bus.
 */
import type { Topics } from '../../components/protocol/topics.ts';

/** The Home Assistant MQTT platforms Vigil publishes discovery configs for. */
export type HaComponent = 'camera' | 'image' | 'binary_sensor' | 'sensor' | 'switch' | 'number' | 'select' | 'button' | 'event';

/** One discovery config: its platform, its object id (unique under the node) and its payload. */
export interface Discovery {
  component: HaComponent;
  /** `[a-zA-Z0-9_-]+`, unique among the hub's configs; `unique_id` is `<prefix>_<objectId>`. */
  objectId: string;
  config: Record<string, unknown>;
}

/** What every config builder needs. */
export interface HaContext {
  topics: Topics;
  /** Vigil's version (`sw_version` of devices and origin). */
  version: string;
  /** The hub's page (`configuration_url`, origin `support_url`), ending in `/`. */
  baseUrl: string;
}

/** A device block of Home Assistant's device registry. */
export interface HaDevice {
  identifiers: string[];
  name: string;
  manufacturer: 'Vigil';
  model: string;
  sw_version: string;
  configuration_url: string;
  via_device?: string;
  suggested_area?: string;
}

/** The configs of one device share its block, an id stem and availability topics. */
export interface DeviceScope {
  ctx: HaContext;
  device: HaDevice;
  /** Object ids of this device's entities start with it (`porch`, `zone_yard`, `hub`). */
  stem: string;
  /** Availability topics (`online`/`offline`), the hub's first; all must say `online`. */
  availability: string[];
}

/** Home Assistant's discovery object ids: `[a-zA-Z0-9_-]`; anything else becomes `_` (`traffic light` → `traffic_light`). */
export function objectIdOf(text: string): string {
  return text.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** `person` → `Person`, `traffic light` → `Traffic light`, `front_door` → `Front door`. */
export function titleOf(text: string): string {
  const t = text.replace(/[_-]+/g, ' ').trim();
  return t ? t[0]!.toUpperCase() + t.slice(1) : text;
}

/** The registry identifier of a Vigil device: `<prefix>_<stem>` (`vigil_hub`, `vigil_porch`, `vigil_zone_yard`). */
export function deviceId(ctx: HaContext, stem: string): string {
  return `${ctx.topics.prefix}_${objectIdOf(stem)}`;
}

/**
 * A device block.
 * @param stem the device's id stem ({@link deviceId})
 * @param via the stem of the device it is reached through (default the hub; `null` for the hub itself)
 */
export function device(ctx: HaContext, stem: string, name: string, model: string, via: string | null = 'hub', area?: string): HaDevice {
  return {
    identifiers: [deviceId(ctx, stem)],
    name,
    manufacturer: 'Vigil',
    model,
    sw_version: ctx.version,
    configuration_url: ctx.baseUrl,
    ...(via ? { via_device: deviceId(ctx, via) } : {}),
    ...(area ? { suggested_area: area } : {}),
  };
}

/**
 * One entity's config: the common keys (name, unique_id, device, origin, availability)
 * and the platform's own `fields`.
 * @param key the entity's key within its device (`motion`, `person_count`); the object id is `<stem>_<key>`
 * @param name the entity's name; `null` = the device's name alone
 */
export function entity(scope: DeviceScope, component: HaComponent, key: string, name: string | null, fields: Record<string, unknown>): Discovery {
  const { ctx } = scope;
  const objectId = objectIdOf(`${scope.stem}_${key}`);
  return {
    component,
    objectId,
    config: {
      name,
      unique_id: `${ctx.topics.prefix}_${objectId}`,
      device: scope.device,
      origin: { name: 'Vigil', sw_version: ctx.version, support_url: ctx.baseUrl },
      availability: scope.availability.map((topic) => ({ topic })),
      availability_mode: 'all',
      ...fields,
    },
  };
}

/** Renders `ON` while a retained count topic says more than 0. */
export const OCCUPIED_TEMPLATE = "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}";

/** Labels that can stand in a topic segment (and so in Vigil's topics), in order, without duplicates. */
export function topicLabels(labels: Iterable<string>): string[] {
  return [...new Set(labels)].filter((l) => l.length > 0 && !/[+#/\u0000]/.test(l));
}

/**
 * A label's occupancy (`binary_sensor`, on while its count is above 0) and count (`sensor`)
 * on a retained count topic: cameras (`vigil/camera/<cam>/<label>`) and zones (`vigil/zone/<zone>/<label>`).
 */
export function labelPresence(scope: DeviceScope, label: string, countTopic: string): Discovery[] {
  const title = titleOf(label);
  return [
    entity(scope, 'binary_sensor', `${label}_occupancy`, `${title} occupancy`, { state_topic: countTopic, device_class: 'occupancy', value_template: OCCUPIED_TEMPLATE }),
    entity(scope, 'sensor', `${label}_count`, `${title} count`, { state_topic: countTopic, state_class: 'measurement' }),
  ];
}
