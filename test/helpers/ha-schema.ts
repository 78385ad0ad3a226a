/**
 * A checker for Home Assistant MQTT discovery payloads, written from Home Assistant's
 * documentation (home-assistant.io `source/_integrations/<platform>.mqtt.markdown`, the
 * `{% configuration %}` blocks, and `mqtt.markdown`'s discovery section) and the
 * abbreviation tables of `homeassistant/components/mqtt/abbreviations.py`.
 *
 * Home Assistant's discovery schemas drop unknown keys silently (`extra=REMOVE_EXTRA`), so
 * a typo never shows there: this checker reports it, with missing required keys, wrong
 * types, bad enumerations, topics outside the publisher's prefix, and the device, origin
 * and availability blocks. Abbreviated keys are expanded first (and a key given both ways
 * is an error). Only single-component discovery is covered (`platform` belongs to device
 * discovery and is refused here).
 */

/** The platforms the checker knows. */
export const HA_PLATFORMS = ['camera', 'image', 'binary_sensor', 'sensor', 'switch', 'number', 'select', 'button', 'event', 'device_automation'] as const;
/** One of {@link HA_PLATFORMS}. */
export type HaPlatform = (typeof HA_PLATFORMS)[number];

type KeyType = 'string' | 'string?' | 'boolean' | 'number' | 'integer' | 'template' | 'topic' | 'strings' | 'icon' | 'any';
interface KeySpec { type: KeyType; required?: boolean; oneOf?: readonly string[] }
type Keys = Record<string, KeySpec>;

/** Entity abbreviations (`abbreviations.py` `ABBREVIATIONS`, the subset of the platforms above plus the common ones). */
export const ABBREVIATIONS: Record<string, string> = {
  act_t: 'action_topic', atype: 'automation_type', avty: 'availability', avty_mode: 'availability_mode', avty_t: 'availability_topic',
  avty_tpl: 'availability_template', cmd_t: 'command_topic', cmd_tpl: 'command_template', cont_type: 'content_type',
  def_ent_id: 'default_entity_id', dev: 'device', dev_cla: 'device_class', e: 'encoding', en: 'enabled_by_default',
  ent_cat: 'entity_category', ent_pic: 'entity_picture', evt_typ: 'event_types', exp_aft: 'expire_after', frc_upd: 'force_update',
  ic: 'icon', img_e: 'image_encoding', img_t: 'image_topic', json_attr_t: 'json_attributes_topic', json_attr_tpl: 'json_attributes_template',
  lrst_val_tpl: 'last_reset_value_template', max: 'max', min: 'min', mode: 'mode', name: 'name', o: 'origin', obj_id: 'object_id',
  off_dly: 'off_delay', ops: 'options', opt: 'optimistic', pl: 'payload', pl_avail: 'payload_available', pl_not_avail: 'payload_not_available',
  pl_off: 'payload_off', pl_on: 'payload_on', pl_prs: 'payload_press', pl_rst: 'payload_reset', qos: 'qos', ret: 'retain',
  stat_cla: 'state_class', stat_off: 'state_off', stat_on: 'state_on', stat_t: 'state_topic', step: 'step', stype: 'subtype',
  sug_dsp_prc: 'suggested_display_precision', t: 'topic', uniq_id: 'unique_id', unit_of_meas: 'unit_of_measurement',
  url_t: 'url_topic', url_tpl: 'url_template', val_tpl: 'value_template', p: 'platform',
};
/** Device block abbreviations (`DEVICE_ABBREVIATIONS`). */
export const DEVICE_ABBREVIATIONS: Record<string, string> = {
  cns: 'connections', cu: 'configuration_url', ids: 'identifiers', name: 'name', mf: 'manufacturer', mdl: 'model', mdl_id: 'model_id',
  hw: 'hw_version', sw: 'sw_version', sa: 'suggested_area', sn: 'serial_number',
};
/** Origin block abbreviations (`ORIGIN_ABBREVIATIONS`). */
export const ORIGIN_ABBREVIATIONS: Record<string, string> = { name: 'name', sw: 'sw_version', url: 'support_url' };

const DEVICE_KEYS: Keys = {
  configuration_url: { type: 'string' }, connections: { type: 'any' }, hw_version: { type: 'string' }, identifiers: { type: 'any' },
  manufacturer: { type: 'string' }, model: { type: 'string' }, model_id: { type: 'string' }, name: { type: 'string' },
  serial_number: { type: 'string' }, suggested_area: { type: 'string' }, sw_version: { type: 'string' }, via_device: { type: 'string' },
};
const ORIGIN_KEYS: Keys = { name: { type: 'string', required: true }, sw_version: { type: 'string' }, support_url: { type: 'string' } };
const AVAILABILITY_KEYS: Keys = { topic: { type: 'topic', required: true }, payload_available: { type: 'string' }, payload_not_available: { type: 'string' }, value_template: { type: 'template' } };

/** Keys every MQTT entity takes (availability, device, naming, encoding, discovery's `origin` and `~`). */
const ENTITY_COMMON: Keys = {
  availability: { type: 'any' }, availability_mode: { type: 'string', oneOf: ['all', 'any', 'latest'] }, availability_template: { type: 'template' },
  availability_topic: { type: 'topic' }, payload_available: { type: 'string' }, payload_not_available: { type: 'string' },
  device: { type: 'any' }, origin: { type: 'any' }, '~': { type: 'string' },
  enabled_by_default: { type: 'boolean' }, encoding: { type: 'string' }, entity_category: { type: 'string', oneOf: ['config', 'diagnostic'] },
  entity_picture: { type: 'string' }, icon: { type: 'icon' }, json_attributes_template: { type: 'template' }, json_attributes_topic: { type: 'topic' },
  name: { type: 'string?' }, object_id: { type: 'string' }, default_entity_id: { type: 'string' }, qos: { type: 'integer', oneOf: ['0', '1', '2'] },
  unique_id: { type: 'string' },
};
const COMMAND: Keys = { command_topic: { type: 'topic', required: true }, command_template: { type: 'template' }, retain: { type: 'boolean' } };

/** Device classes per platform (the `device_class` lists of each integration's docs). */
export const DEVICE_CLASSES: Partial<Record<HaPlatform, readonly string[]>> = {
  binary_sensor: ['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat', 'light', 'lock',
    'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke', 'sound',
    'tamper', 'update', 'vibration', 'window'],
  sensor: ['absolute_humidity', 'apparent_power', 'aqi', 'area', 'atmospheric_pressure', 'battery', 'blood_glucose_concentration', 'carbon_dioxide',
    'carbon_monoxide', 'conductivity', 'current', 'data_rate', 'data_size', 'date', 'distance', 'duration', 'energy', 'energy_distance',
    'energy_storage', 'enum', 'frequency', 'gas', 'humidity', 'illuminance', 'irradiance', 'moisture', 'monetary', 'nitrogen_dioxide',
    'nitrogen_monoxide', 'nitrous_oxide', 'ozone', 'ph', 'pm1', 'pm10', 'pm25', 'power', 'power_factor', 'precipitation', 'precipitation_intensity',
    'pressure', 'reactive_energy', 'reactive_power', 'signal_strength', 'sound_pressure', 'speed', 'sulphur_dioxide', 'temperature', 'timestamp',
    'volatile_organic_compounds', 'volatile_organic_compounds_parts', 'voltage', 'volume', 'volume_flow_rate', 'volume_storage', 'water', 'weight',
    'wind_direction', 'wind_speed'],
  switch: ['outlet', 'switch'],
  button: ['identify', 'restart', 'update'],
  event: ['button', 'doorbell', 'motion'],
};

/** Units Home Assistant accepts for the sensor device classes whose units it fixes (the ones a camera hub uses). */
export const DEVICE_CLASS_UNITS: Record<string, readonly string[]> = {
  duration: ['d', 'h', 'min', 's', 'ms', 'µs'],
  data_size: ['bit', 'kbit', 'Mbit', 'Gbit', 'B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'],
  temperature: ['°C', '°F', 'K'],
  humidity: ['%'],
  battery: ['%'],
};

/** Per platform: its own keys (on top of {@link ENTITY_COMMON}, except device triggers). */
const PLATFORM_KEYS: Record<HaPlatform, Keys> = {
  camera: { topic: { type: 'topic', required: true }, image_encoding: { type: 'string', oneOf: ['b64'] } },
  image: {
    image_topic: { type: 'topic' }, url_topic: { type: 'topic' }, url_template: { type: 'template' },
    content_type: { type: 'string' }, image_encoding: { type: 'string', oneOf: ['b64'] },
  },
  binary_sensor: {
    state_topic: { type: 'topic', required: true }, device_class: { type: 'string?' }, expire_after: { type: 'integer' }, force_update: { type: 'boolean' },
    off_delay: { type: 'integer' }, payload_on: { type: 'string' }, payload_off: { type: 'string' }, value_template: { type: 'template' },
  },
  sensor: {
    state_topic: { type: 'topic', required: true }, device_class: { type: 'string?' }, expire_after: { type: 'integer' }, force_update: { type: 'boolean' },
    last_reset_value_template: { type: 'template' }, options: { type: 'strings' }, suggested_display_precision: { type: 'integer' },
    state_class: { type: 'string', oneOf: ['measurement', 'measurement_angle', 'total', 'total_increasing'] },
    unit_of_measurement: { type: 'string?' }, value_template: { type: 'template' },
  },
  switch: {
    ...COMMAND, state_topic: { type: 'topic' }, device_class: { type: 'string?' }, optimistic: { type: 'boolean' },
    payload_on: { type: 'string' }, payload_off: { type: 'string' }, state_on: { type: 'string' }, state_off: { type: 'string' }, value_template: { type: 'template' },
  },
  number: {
    ...COMMAND, state_topic: { type: 'topic' }, device_class: { type: 'string?' }, min: { type: 'number' }, max: { type: 'number' }, step: { type: 'number' },
    mode: { type: 'string', oneOf: ['auto', 'box', 'slider'] }, optimistic: { type: 'boolean' }, payload_reset: { type: 'string' },
    unit_of_measurement: { type: 'string?' }, value_template: { type: 'template' },
  },
  select: { ...COMMAND, state_topic: { type: 'topic' }, options: { type: 'strings', required: true }, optimistic: { type: 'boolean' }, value_template: { type: 'template' } },
  button: { ...COMMAND, device_class: { type: 'string?' }, payload_press: { type: 'string' } },
  event: { state_topic: { type: 'topic', required: true }, event_types: { type: 'strings', required: true }, device_class: { type: 'string?' }, value_template: { type: 'template' } },
  device_automation: {
    automation_type: { type: 'string', required: true, oneOf: ['trigger'] }, topic: { type: 'topic', required: true }, type: { type: 'string', required: true },
    subtype: { type: 'string', required: true }, payload: { type: 'string' }, qos: { type: 'integer' }, value_template: { type: 'template' },
    device: { type: 'any' }, origin: { type: 'any' }, '~': { type: 'string' },
  },
};

/** What the topics in a payload must look like. */
export interface CheckOptions {
  /** The publisher's topic prefix (`vigil`): every topic in a payload must be under it. */
  prefix: string;
  /** Home Assistant's discovery prefix (`homeassistant`). */
  discoveryPrefix: string;
  /** A finer test of each topic (`role`: the key it stands in, e.g. `state_topic`); true = fine. */
  isOwnTopic?: (topic: string, key: string) => boolean;
}

/** The parts of a discovery topic, or undefined when it is not one. */
export function parseDiscoveryTopic(topic: string, discoveryPrefix: string): { component: string; node?: string; object: string } | undefined {
  const m = new RegExp(`^${discoveryPrefix}/(\\w+)/(?:([a-zA-Z0-9_-]+)/)?([a-zA-Z0-9_-]+)/config$`).exec(topic);
  return m ? { component: m[1]!, node: m[2], object: m[3]! } : undefined;
}

/**
 * Problems of one discovery message (empty: fine). An empty payload is a removal and fine.
 * @param topic its topic, `<discovery prefix>/<platform>/[<node>/]<object>/config`
 */
export function checkDiscovery(topic: string, payload: string | Buffer, opts: CheckOptions): string[] {
  const problems: string[] = [];
  const where = (msg: string) => problems.push(`${topic}: ${msg}`);
  const parts = parseDiscoveryTopic(topic, opts.discoveryPrefix);
  if (!parts) { where('not a discovery topic (<prefix>/<platform>/[<node>/]<object>/config, ids [a-zA-Z0-9_-])'); return problems; }
  const platform = parts.component as HaPlatform;
  if (!HA_PLATFORMS.includes(platform)) { where(`unknown or unchecked platform ${parts.component}`); return problems; }
  const text = payload.toString();
  if (text === '') return problems;
  let raw: unknown;
  try { raw = JSON.parse(text); } catch { where('payload is not JSON'); return problems; }
  if (!isObject(raw)) { where('payload is not a JSON object'); return problems; }

  const config = expand(raw, ABBREVIATIONS, where, '');
  const base = typeof config['~'] === 'string' ? config['~'] : undefined;
  const keys: Keys = platform === 'device_automation' ? PLATFORM_KEYS.device_automation : { ...ENTITY_COMMON, ...PLATFORM_KEYS[platform] };
  checkKeys(config, keys, '', where, opts, base);

  // Blocks.
  if (config.device !== undefined) checkDevice(config.device, where);
  if (config.origin !== undefined) {
    if (!isObject(config.origin)) where('origin: must be an object');
    else checkKeys(expand(config.origin, ORIGIN_ABBREVIATIONS, where, 'origin.'), ORIGIN_KEYS, 'origin.', where, opts, base);
  }
  if (config.availability !== undefined) {
    if (config.availability_topic !== undefined) where('availability and availability_topic must not be used together');
    if (!Array.isArray(config.availability) || config.availability.length === 0) where('availability: must be a non-empty list');
    else config.availability.forEach((a, i) => {
      if (!isObject(a)) where(`availability.${i}: must be an object`);
      else checkKeys(expand(a, ABBREVIATIONS, where, `availability.${i}.`), AVAILABILITY_KEYS, `availability.${i}.`, where, opts, base);
    });
  }

  // What Home Assistant's schemas and entity model add.
  if (platform !== 'device_automation') {
    if (config.device !== undefined && config.unique_id === undefined) where('device: only works with a unique_id');
  } else if (config.device === undefined) where('device: required for a device trigger');
  const dc = config.device_class;
  const classes = DEVICE_CLASSES[platform];
  if (typeof dc === 'string' && classes && !classes.includes(dc)) where(`device_class: ${dc} is not a ${platform} device class`);
  if (typeof dc === 'string' && DEVICE_CLASS_UNITS[dc] && !DEVICE_CLASS_UNITS[dc].includes(String(config.unit_of_measurement))) {
    where(`unit_of_measurement: ${String(config.unit_of_measurement)} is not a unit of device class ${dc}`);
  }
  if ((platform === 'sensor' || platform === 'binary_sensor') && config.entity_category === 'config') where('entity_category: config is not allowed for sensors');
  if (platform === 'image' && (config.image_topic === undefined) === (config.url_topic === undefined)) where('image: exactly one of image_topic and url_topic');
  if (platform === 'image' && config.url_template !== undefined && config.url_topic === undefined) where('url_template: needs url_topic');
  if (platform === 'image' && config.content_type !== undefined && config.url_topic !== undefined) where('content_type: not with url_topic');
  if (platform === 'number') {
    const min = typeof config.min === 'number' ? config.min : 1;
    const max = typeof config.max === 'number' ? config.max : 100;
    if (!(max > min)) where(`number: max (${max}) must be above min (${min})`);
    if (typeof config.step === 'number' && config.step < 0.001) where('step: at least 0.001');
  }
  for (const k of ['options', 'event_types'] as const) {
    if (Array.isArray(config[k]) && (config[k] as unknown[]).length === 0 && (platform === 'select' || k === 'event_types')) where(`${k}: must not be empty`);
  }
  if (platform === 'sensor' && config.options !== undefined && config.device_class !== 'enum') where('options: only with device_class enum');
  if (platform === 'sensor' && config.state_class !== undefined && typeof config.device_class === 'string' && ['date', 'enum', 'timestamp'].includes(config.device_class)) {
    where(`state_class: not allowed with device_class ${config.device_class}`);
  }
  return problems;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object with abbreviated keys written out; a key given both ways is a problem. */
function expand(obj: Record<string, unknown>, abbreviations: Record<string, string>, where: (m: string) => void, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const full = abbreviations[k] ?? k;
    if (full in out) where(`${path}${full}: given twice (${k} and its other spelling)`);
    out[full] = v;
  }
  return out;
}

function checkKeys(obj: Record<string, unknown>, keys: Keys, path: string, where: (m: string) => void, opts: CheckOptions, base: string | undefined): void {
  for (const [k, spec] of Object.entries(keys)) if (spec.required && obj[k] === undefined) where(`${path}${k}: required`);
  for (const [k, v] of Object.entries(obj)) {
    const spec = keys[k];
    if (!spec) { where(`${path}${k}: unknown key`); continue; }
    const bad = typeProblem(v, spec.type);
    if (bad) { where(`${path}${k}: ${bad}`); continue; }
    if (spec.oneOf && !spec.oneOf.includes(String(v))) where(`${path}${k}: ${JSON.stringify(v)} is not one of ${spec.oneOf.join(', ')}`);
    if (spec.type === 'topic') {
      const topic = withBase(v as string, base);
      const p = topicProblem(topic, opts, k);
      if (p) where(`${path}${k}: ${p}`);
    }
  }
}

function typeProblem(v: unknown, type: KeyType): string | undefined {
  switch (type) {
    case 'any': return undefined;
    case 'string': return typeof v === 'string' ? undefined : 'must be a string';
    case 'string?': return typeof v === 'string' || v === null ? undefined : 'must be a string or null';
    case 'boolean': return typeof v === 'boolean' ? undefined : 'must be a boolean';
    case 'number': return typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number';
    case 'integer': return Number.isInteger(v) ? undefined : 'must be an integer';
    case 'strings': return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'must be a list of strings';
    case 'icon': return typeof v === 'string' && /^[a-z0-9-]+:[a-z0-9-]+$/.test(v) ? undefined : 'must be an icon (prefix:name)';
    case 'topic': return typeof v === 'string' && v.length > 0 ? undefined : 'must be a topic';
    case 'template': {
      if (typeof v !== 'string') return 'must be a template string';
      const open = (v.match(/\{\{|\{%/g) ?? []).length;
      const close = (v.match(/\}\}|%\}/g) ?? []).length;
      return open > 0 && open === close ? undefined : 'unbalanced or empty template';
    }
  }
}

function withBase(topic: string, base: string | undefined): string {
  if (!base) return topic;
  if (topic.startsWith('~')) return base + topic.slice(1);
  if (topic.endsWith('~')) return topic.slice(0, -1) + base;
  return topic;
}

function topicProblem(topic: string, opts: CheckOptions, key: string): string | undefined {
  if (/[+#]/.test(topic)) return `${topic} has a wildcard`;
  if (topic.split('/').some((s) => s === '')) return `${topic} has an empty level`;
  if (!topic.startsWith(`${opts.prefix}/`)) return `${topic} is not under ${opts.prefix}/`;
  if (opts.isOwnTopic && !opts.isOwnTopic(topic, key)) return `${topic} is not a topic the publisher uses for ${key}`;
  return undefined;
}

function checkDevice(dev: unknown, where: (m: string) => void): void {
  if (!isObject(dev)) { where('device: must be an object'); return; }
  const d = expand(dev, DEVICE_ABBREVIATIONS, where, 'device.');
  for (const [k, v] of Object.entries(d)) {
    const spec = DEVICE_KEYS[k];
    if (!spec) { where(`device.${k}: unknown key`); continue; }
    const bad = typeProblem(v, spec.type);
    if (bad) where(`device.${k}: ${bad}`);
  }
  const ids = d.identifiers;
  const idsOk = typeof ids === 'string' ? ids.length > 0 : Array.isArray(ids) && ids.length > 0 && ids.every((x) => typeof x === 'string' && x.length > 0);
  const cnsOk = Array.isArray(d.connections) && d.connections.length > 0
    && d.connections.every((c) => Array.isArray(c) && c.length === 2 && c.every((x) => typeof x === 'string'));
  if (ids !== undefined && !idsOk) where('device.identifiers: must be a string or a non-empty list of strings');
  if (d.connections !== undefined && !cnsOk) where('device.connections: must be a list of [type, id] pairs');
  if (!idsOk && !cnsOk) where('device: needs identifiers or connections');
  if (typeof d.configuration_url === 'string' && !/^(https?:\/\/|homeassistant:\/\/)\S+$/.test(d.configuration_url)) where('device.configuration_url: must be http(s):// or homeassistant://');
}

/**
 * Problems across a set of configs (topic → payload, removals left out): every
 * `unique_id` once per platform, one device block per identifier, and every `via_device`
 * naming a device of the set.
 */
export function checkDiscoverySet(configs: Map<string, string>, opts: CheckOptions): string[] {
  const problems: string[] = [];
  const uniqueIds = new Map<string, string>();
  const devices = new Map<string, string>();
  const vias: Array<[string, string]> = [];
  for (const [topic, payload] of configs) {
    problems.push(...checkDiscovery(topic, payload, opts));
    if (!payload) continue;
    const c = expandAll(JSON.parse(payload) as Record<string, unknown>);
    const platform = parseDiscoveryTopic(topic, opts.discoveryPrefix)?.component;
    const uid = `${platform}:${String(c.unique_id)}`;
    if (c.unique_id !== undefined && uniqueIds.has(uid)) problems.push(`${topic}: unique_id ${String(c.unique_id)} also in ${uniqueIds.get(uid)}`);
    uniqueIds.set(uid, topic);
    const dev = c.device as Record<string, unknown> | undefined;
    if (!dev) continue;
    const ids = ([] as unknown[]).concat(dev.identifiers ?? []).map(String);
    for (const id of ids) {
      const block = JSON.stringify(dev);
      if (devices.has(id) && devices.get(id) !== block) problems.push(`${topic}: device ${id} described differently elsewhere`);
      devices.set(id, block);
    }
    if (typeof dev.via_device === 'string') vias.push([topic, dev.via_device]);
  }
  for (const [topic, via] of vias) if (!devices.has(via)) problems.push(`${topic}: via_device ${via} is no device of these configs`);
  return problems;
}

function expandAll(raw: Record<string, unknown>): Record<string, unknown> {
  const c = Object.fromEntries(Object.entries(raw).map(([k, v]) => [ABBREVIATIONS[k] ?? k, v]));
  if (isObject(c.device)) c.device = Object.fromEntries(Object.entries(c.device).map(([k, v]) => [DEVICE_ABBREVIATIONS[k] ?? k, v]));
  return c;
}
