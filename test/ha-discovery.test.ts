/**
 * Home Assistant MQTT discovery against a real hub and real brokers: every config the hub
 * publishes passes the checker written from Home Assistant's docs (test/helpers/ha-schema.ts);
 * a switch and the display select work when Home Assistant's device credential uses their
 * command topics; Home Assistant's birth gets the hub's states back (and only the missing
 * configs); removals publish empty retained configs; leftovers are cleared; and after a
 * Mosquitto restart (no persistence) every config and state comes back by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder, type Recorded } from './helpers/mqtt-recorder.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { checkDiscovery, checkDiscoverySet, parseDiscoveryTopic, type CheckOptions } from './helpers/ha-schema.ts';
import { Topics } from '../components/protocol/topics.ts';

const VTEST = pathToFileURL('/usr/share/doc/opencv-doc/examples/data/vtest.avi').toString();
const BASE_URL = 'http://vigil.test:8080/';
const topics = new Topics('vigil', 'homeassistant');
const now = (): number => Date.now();

/** A camera on the looping demo footage: online within seconds, nothing recorded. */
const camera = (name: string, extra: Record<string, unknown> = {}) => ({ name, paths: { detect: VTEST }, detect: { width: 320, fps: 2 }, ...extra });

/** The checker's options: topics under `vigil/`, each a shape the hub really uses for that key. */
const CHECK: CheckOptions = {
  prefix: 'vigil',
  discoveryPrefix: 'homeassistant',
  isOwnTopic: (topic, key) => {
    const p = topics.parse(topic);
    const area = topics.area(topic)?.area;
    if (key === 'command_topic') return p?.kind === 'camera.set' || p?.kind === 'event.trigger' || p?.kind === 'display.layoutSet';
    if (key === 'topic' && topic.endsWith('/availability')) return true; // availability entries
    if (p) return ['camera.snapshot', 'camera.motion', 'camera.count', 'camera.labelSnapshot', 'camera.labelEvent', 'camera.featureState', 'zone.count'].includes(p.kind);
    return topic === topics.hubStats() || (area === 'display' && topic.endsWith('/layout/state')) || (area === 'kiosk' && topic.endsWith('/availability'));
  },
};

/** Topic → last payload of every discovery message a recorder saw (the broker's current retained set). */
function configsOf(rec: MqttRecorder, since = 0): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of rec.messages) if (m.at >= since && m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config')) out.set(m.topic, m.payload.toString());
  return out;
}
const live = (configs: Map<string, string>): Map<string, string> => new Map([...configs].filter(([, p]) => p !== ''));
const objectOf = (topic: string): string => parseDiscoveryTopic(topic, 'homeassistant')!.object;
/** The (live) config of one object id, parsed. */
function configOf(configs: Map<string, string>, component: string, object: string): any {
  const p = configs.get(topics.haDiscovery(component, 'vigil', object));
  return p ? JSON.parse(p) : undefined;
}

async function connectAs(url: string, creds: { username?: string; password?: string }): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...creds });
}

const PORCH_OBJECTS = [
  'camera/porch_camera', 'binary_sensor/porch_motion',
  'binary_sensor/porch_person_occupancy', 'binary_sensor/porch_car_occupancy', 'binary_sensor/porch_all_occupancy',
  'sensor/porch_person_count', 'sensor/porch_car_count', 'sensor/porch_all_count',
  'image/porch_person_snapshot', 'image/porch_car_snapshot', 'event/porch_person_event', 'event/porch_car_event',
  'switch/porch_detect', 'switch/porch_record', 'switch/porch_snapshots', 'switch/porch_motion_detection',
  'number/porch_motion_threshold', 'button/porch_test_event',
];
const ZONE_OBJECTS = ['binary_sensor/zone_driveway_person_occupancy', 'sensor/zone_driveway_person_count', 'binary_sensor/zone_driveway_all_occupancy', 'sensor/zone_driveway_all_count'];
const HUB_OBJECTS = ['sensor/hub_cpu_percent', 'sensor/hub_memory_mib', 'sensor/hub_storage_used_percent', 'sensor/hub_inference_ms', 'sensor/hub_events_today'];
const WALL_OBJECTS = ['binary_sensor/kiosk_hall_connected', 'select/display_hall-hdmi-0_layout', 'sensor/display_hall-hdmi-0_current_layout'];
const names = (configs: Map<string, string>): string[] => [...live(configs).keys()].map((t) => `${parseDiscoveryTopic(t, 'homeassistant')!.component}/${objectOf(t)}`);

describe('with the embedded broker', () => {
  let h: TestHub;
  let ha: { username: string; password: string };
  let rec: MqttRecorder;

  beforeAll(async () => {
    h = await startTestHub({ detector: { enabled: false }, homeassistant: { enabled: true, base_url: BASE_URL } });
    const dev = await h.hub.auth!.credentials.createDevice({ id: 'ha1', kind: 'ha' });
    ha = { username: 'ha1', password: dev.password };
    rec = await MqttRecorder.connect(h.mqttUrl, ['homeassistant/#', 'vigil/hub/#', 'vigil/camera/+/+/state', 'vigil/camera/+/+/event', 'vigil/display/#'], ha);
    expect((await api(h.baseUrl, 'POST', '/api/cameras', camera('porch', {
      objects: { track: ['person', 'car'] }, zones: [{ name: 'driveway', coordinates: [[0, 0.5], [1, 0.5], [1, 1]], objects: ['person'] }],
    }))).status).toBe(201);
    expect((await api(h.baseUrl, 'POST', '/api/cameras', camera('yard', { objects: { track: ['person'] } }))).status).toBe(201);
    for (const id of ['day', 'night']) expect((await api(h.baseUrl, 'POST', '/api/layouts', { id, name: `${id} view`, preset: 'fullscreen', cells: [{ type: 'camera', camera: 'porch' }] })).status).toBe(201);
    const ticket = (await api(h.baseUrl, 'POST', '/api/kiosks/pairing', {}, null)).body;
    expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: ticket.code, id: 'hall', name: 'Hall' })).status).toBe(201);
  });

  afterAll(async () => {
    await rec?.close();
    await h?.stop();
  });

  it('publishes a config for every entity, each one valid by Home Assistant\'s documented schema', async () => {
    const wanted = [...HUB_OBJECTS, ...PORCH_OBJECTS, ...ZONE_OBJECTS, ...WALL_OBJECTS, 'camera/yard_camera', 'event/yard_person_event'];
    await expect.poll(() => names(configsOf(rec)), { timeout: 10_000 }).toEqual(expect.arrayContaining(wanted));
    const configs = live(configsOf(rec));
    // Nothing more than the entities above and yard's (the same set as porch's, for one label, no zone).
    expect(configs.size).toBe(HUB_OBJECTS.length + PORCH_OBJECTS.length + ZONE_OBJECTS.length + WALL_OBJECTS.length + (PORCH_OBJECTS.length - 4));
    expect(checkDiscoverySet(configs, CHECK)).toEqual([]);
    for (const m of rec.messages.filter((x) => x.topic.startsWith('homeassistant/'))) {
      expect(m.qos, m.topic).toBe(1);
      expect(checkDiscovery(m.topic, m.payload, CHECK), m.topic).toEqual([]);
    }
    for (const [topic, payload] of configs) {
      const c = JSON.parse(payload);
      expect(c.unique_id, topic).toBe(`vigil_${objectOf(topic)}`);
      expect(c.origin).toEqual({ name: 'Vigil', sw_version: expect.any(String), support_url: BASE_URL });
      expect(c.availability_mode).toBe('all');
      expect(c.availability[0]).toEqual({ topic: 'vigil/hub/availability' });
      expect(c.device).toMatchObject({ manufacturer: 'Vigil', sw_version: c.origin.sw_version, configuration_url: BASE_URL });
      if (c.device.identifiers[0] !== 'vigil_hub') expect(c.device.via_device, topic).toMatch(/^vigil_/);
    }
    // The checker is not a rubber stamp.
    const motion = configOf(configs, 'binary_sensor', 'porch_motion');
    expect(checkDiscovery('homeassistant/binary_sensor/vigil/x/config', JSON.stringify({ ...motion, stat_t: 'vigil/camera/porch/motion' }), CHECK)).toEqual([expect.stringMatching(/state_topic: given twice/)]);
    expect(checkDiscovery('homeassistant/binary_sensor/vigil/x/config', JSON.stringify({ ...motion, state_topc: 'x', state_topic: 'other/motion', device: { name: 'x' } }), CHECK).sort()).toEqual([
      expect.stringMatching(/device: needs identifiers/), expect.stringMatching(/state_topc: unknown key/), expect.stringMatching(/state_topic: other\/motion is not under vigil/)]);
    expect(checkDiscovery('homeassistant/select/vigil/x/config', JSON.stringify({ name: 'x', options: [] }), CHECK)).toEqual([expect.stringMatching(/command_topic: required/), expect.stringMatching(/options: must not be empty/)]);

    // What each entity reads and commands.
    const porchDevice = configOf(configs, 'camera', 'porch_camera');
    expect(porchDevice).toMatchObject({ name: null, topic: 'vigil/camera/porch/snapshot', availability: [{ topic: 'vigil/hub/availability' }, { topic: 'vigil/camera/porch/availability' }] });
    expect(porchDevice.device).toEqual({ identifiers: ['vigil_porch'], name: 'Porch', manufacturer: 'Vigil', model: 'Camera', sw_version: expect.any(String), configuration_url: BASE_URL, via_device: 'vigil_hub' });
    expect(configOf(configs, 'binary_sensor', 'porch_person_occupancy')).toMatchObject({ state_topic: 'vigil/camera/porch/person', device_class: 'occupancy' });
    expect(configOf(configs, 'sensor', 'porch_all_count')).toMatchObject({ state_topic: 'vigil/camera/porch/all', state_class: 'measurement' });
    expect(configOf(configs, 'image', 'porch_car_snapshot')).toMatchObject({ image_topic: 'vigil/camera/porch/car/snapshot', content_type: 'image/jpeg' });
    expect(configOf(configs, 'event', 'porch_person_event')).toMatchObject({ state_topic: 'vigil/camera/porch/person/event', event_types: ['new', 'end'] });
    expect(configOf(configs, 'number', 'porch_motion_threshold')).toMatchObject({ command_topic: 'vigil/camera/porch/motion_threshold/set', state_topic: 'vigil/camera/porch/motion_threshold/state', min: 1, max: 255 });
    expect(configOf(configs, 'button', 'porch_test_event')).toMatchObject({ command_topic: 'vigil/event/trigger' });
    expect(configOf(configs, 'sensor', 'zone_driveway_person_count')).toMatchObject({ state_topic: 'vigil/zone/driveway/person', device: { via_device: 'vigil_porch' } });
    expect(configOf(configs, 'binary_sensor', 'kiosk_hall_connected')).toMatchObject({ state_topic: 'vigil/kiosk/hall/availability', payload_on: 'online', device_class: 'connectivity' });
    expect(configOf(configs, 'sensor', 'display_hall-hdmi-0_current_layout').device).toMatchObject({ name: 'Hall HDMI-0', via_device: 'vigil_kiosk_hall' });
    expect(configOf(configs, 'sensor', 'hub_memory_mib')).toMatchObject({ state_topic: 'vigil/hub/stats', unit_of_measurement: 'MiB', device_class: 'data_size' });
    // The hub publishes the figures its sensors read.
    const stats = JSON.parse(rec.on('vigil/hub/stats').at(-1)!.payload.toString());
    expect(stats).toMatchObject({ cpu_percent: expect.any(Number), memory_mib: expect.any(Number), events_today: 0, inference_ms: null });
    expect(stats.memory_mib).toBeGreaterThan(10);
  });

  it('a switch round-trips: OFF from the Home Assistant device turns detection off and the state follows', async () => {
    const sw = configOf(live(configsOf(rec)), 'switch', 'porch_detect');
    await rec.waitFor((m) => m.topic === sw.state_topic && m.payload.toString() === sw.state_on, 5_000, 'detect ON');
    const client = await connectAs(h.mqttUrl, ha);
    const sent = now();
    await client.publishAsync(sw.command_topic, sw.payload_off, { qos: 1 });
    await client.endAsync();
    await rec.waitFor((m) => m.topic === sw.state_topic && m.payload.toString() === sw.state_off && m.at >= sent, 5_000, 'detect state OFF');
    expect((await api(h.baseUrl, 'GET', '/api/cameras/porch')).body.detect.enabled).toBe(false);
  });

  it('the display select lists the stored layouts, activates one, and follows new layouts', async () => {
    const sel = configOf(live(configsOf(rec)), 'select', 'display_hall-hdmi-0_layout');
    expect(sel.options).toEqual(['day', 'night']);
    const client = await connectAs(h.mqttUrl, ha);
    await client.publishAsync(sel.command_topic, 'night', { qos: 1 });
    await client.endAsync();
    const state = await rec.waitFor((m) => m.topic === sel.state_topic && m.payload.length > 0, 5_000, 'bundle');
    expect(JSON.parse(state.payload.toString())).toMatchObject({ display: 'hall-hdmi-0', layout: 'night', name: 'night view' });
    expect((await api(h.baseUrl, 'GET', '/api/displays/hall-hdmi-0')).body.layout_id).toBe('night');

    expect((await api(h.baseUrl, 'POST', '/api/layouts', { id: 'away', name: 'Away', preset: '2x2' })).status).toBe(201);
    await expect.poll(() => configOf(live(configsOf(rec)), 'select', 'display_hall-hdmi-0_layout')?.options, { timeout: 5_000 }).toEqual(['away', 'day', 'night']);
  });

  it('relays detection events per camera and label', async () => {
    const client = await connectAs(h.mqttUrl, h.mqttCreds!);
    const t = Date.now() / 1000;
    const after = { id: `${t}-ha1`, camera: 'porch', label: 'person', sub_label: null, score: 0.8, top_score: 0.85, box: [1, 2, 30, 40], area: 1000, ratio: 1,
      current_zones: ['driveway'], entered_zones: ['driveway'], start_time: t, end_time: null, has_snapshot: true, has_clip: false, false_positive: false, frame_time: t };
    for (const type of ['new', 'update', 'end']) await client.publishAsync('vigil/events', JSON.stringify({ type, before: after, after: type === 'end' ? { ...after, end_time: t + 3 } : after }), { qos: 1 });
    await client.endAsync();
    await rec.waitFor((m) => m.topic === 'vigil/camera/porch/person/event' && JSON.parse(m.payload.toString()).event_type === 'end', 5_000, 'end event');
    const events = rec.on('vigil/camera/porch/person/event').map((m) => JSON.parse(m.payload.toString()));
    expect(events).toEqual([
      { event_type: 'new', id: after.id, camera: 'porch', label: 'person', score: 0.85, zones: ['driveway'], start_time: t, end_time: null, has_snapshot: true },
      expect.objectContaining({ event_type: 'end', end_time: t + 3 }),
    ]);
    expect(rec.on('vigil/camera/porch/person/event').every((m) => !m.retain && m.qos === 1)).toBe(true);
  });

  it('on Home Assistant\'s birth re-sends the hub\'s states, and configs only where the broker lacks them', async () => {
    // A detector elsewhere reports its inference time; the stats pick it up at the next figures.
    const component = await connectAs(h.mqttUrl, h.mqttCreds!);
    await component.publishAsync('vigil/component/detector-9/state', JSON.stringify({ inference_ms: 12.5, inferences: 40 }), { qos: 1, retain: true });
    await component.publishAsync('vigil/component/detector-9/availability', 'online', { qos: 1, retain: true });
    await component.endAsync();
    const client = await connectAs(h.mqttUrl, ha);
    const birth = now();
    await client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    const after = (pred: (m: Recorded) => boolean, what: string) => rec.waitFor((m) => m.at >= birth && pred(m), 10_000, what);
    await after((m) => m.topic === 'vigil/hub/availability' && m.payload.toString() === 'online', 'hub availability');
    await after((m) => m.topic === 'vigil/camera/porch/detect/state' && m.payload.toString() === 'OFF', 'porch detect state');
    await after((m) => m.topic === 'vigil/camera/yard/motion_threshold/state', 'yard threshold state');
    const stats = await after((m) => m.topic === 'vigil/hub/stats', 'stats');
    expect(JSON.parse(stats.payload.toString())).toMatchObject({ inference_ms: 12.5, events_today: 1 });
    // Every config was on the broker as wanted: none was sent again.
    expect(configsOf(rec, birth).size).toBe(0);

    // Home Assistant's UI cleared one config; the next birth brings back that one only.
    const cleared = topics.haDiscovery('switch', 'vigil', 'porch_record');
    const before = configsOf(rec).get(cleared)!;
    await client.publishAsync(cleared, '', { qos: 1, retain: true });
    await rec.waitFor((m) => m.topic === cleared && m.payload.length === 0, 5_000, 'cleared');
    const birth2 = now();
    await client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await rec.waitFor((m) => m.at >= birth2 && m.topic === 'vigil/hub/availability', 10_000, 'second birth handled');
    await expect.poll(() => [...configsOf(rec, birth2)], { timeout: 5_000 }).toEqual([[cleared, before]]);
    await client.endAsync();
  });

  it('clears a config under its node that it does not publish (a leftover)', async () => {
    const ghost = topics.haDiscovery('sensor', 'vigil', 'ghost_count');
    const client = await connectAs(h.mqttUrl, ha);
    await client.publishAsync(ghost, JSON.stringify({ name: 'Ghost', state_topic: 'vigil/camera/ghost/all' }), { qos: 1, retain: true });
    await client.endAsync();
    await rec.waitFor((m) => m.topic === ghost && m.payload.length === 0, 5_000, 'leftover cleared');
    const fresh = await MqttRecorder.connect(h.mqttUrl, [ghost], ha);
    await new Promise((r) => setTimeout(r, 300));
    expect(fresh.on(ghost)).toEqual([]);
    await fresh.close();
  });

  it('removing a camera, a zone or a kiosk publishes empty retained configs for each of their entities', async () => {
    const byDevice = (id: string) => [...live(configsOf(rec))].filter(([, p]) => JSON.parse(p).device.identifiers.includes(id)).map(([t]) => t);
    const yard = byDevice('vigil_yard');
    const zone = byDevice('vigil_zone_driveway');
    const wall = [...byDevice('vigil_kiosk_hall'), ...byDevice('vigil_display_hall-hdmi-0')];
    expect([yard.length, zone.length, wall.length]).toEqual([14, 4, 3]);
    const removed = now();
    expect((await api(h.baseUrl, 'DELETE', '/api/cameras/yard')).status).toBe(204);
    expect((await api(h.baseUrl, 'PATCH', '/api/cameras/porch', { zones: [] })).status).toBe(200);
    expect((await api(h.baseUrl, 'DELETE', '/api/kiosks/hall')).status).toBe(204);
    const emptied = () => [...configsOf(rec, removed)].filter(([, p]) => p === '').map(([t]) => t).sort();
    await expect.poll(emptied, { timeout: 5_000 }).toEqual([...yard, ...zone, ...wall].sort());
    // A subscriber arriving now gets none of them, and still every other config.
    const fresh = await MqttRecorder.connect(h.mqttUrl, ['homeassistant/#'], ha);
    await expect.poll(() => names(configsOf(fresh)).sort(), { timeout: 5_000 }).toEqual([...HUB_OBJECTS, ...PORCH_OBJECTS].sort());
    await fresh.close();
  });
});

describe('with Mosquitto restarted (no persistence)', () => {
  let broker: MosquittoBroker;
  let h: TestHub | undefined;
  let dataDir: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-ha-'));
  });

  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gets every config and state back by itself, and clears them all when discovery is turned off', async () => {
    const overrides = { mqtt: { url: broker.url }, detector: { enabled: false } };
    h = await startTestHub({ ...overrides, homeassistant: { enabled: true } }, { dataDir });
    expect((await api(h.baseUrl, 'POST', '/api/cameras', camera('gate', { objects: { track: ['person'] } }))).status).toBe(201);
    const filters = ['homeassistant/#', 'vigil/hub/availability', 'vigil/hub/stats', 'vigil/camera/gate/availability', 'vigil/camera/gate/detect/state'];
    const rec = await MqttRecorder.connect(broker.url, filters, {});
    await expect.poll(() => names(configsOf(rec)).length, { timeout: 10_000 }).toBe(HUB_OBJECTS.length + 14);
    await rec.waitFor((m) => m.topic === 'vigil/camera/gate/availability' && m.payload.toString() === 'online', 20_000, 'gate online');
    const before = live(configsOf(rec));
    await rec.close();

    await broker.stop();
    broker = await startMosquitto({ port: broker.port });
    // The hub's and the camera's clients reconnect and re-send their retained state…
    const reconnected = () => (h!.logs().match(/mqtt reconnected; re-sending retained state/g) ?? []).length;
    await expect.poll(reconnected, { timeout: 15_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    // … so a subscriber arriving now gets every config and state from the broker, retained.
    const after = await MqttRecorder.connect(broker.url, filters, {});
    await expect.poll(() => live(configsOf(after)), { timeout: 5_000 }).toEqual(before);
    for (const [topic, payload] of [['vigil/hub/availability', 'online'], ['vigil/camera/gate/availability', 'online'], ['vigil/camera/gate/detect/state', 'ON']]) {
      // 15 s: on a loaded machine the camera's ffmpeg may itself be restarting while the broker was away.
      await after.waitFor((m) => m.topic === topic && m.payload.toString() === payload && m.retain, 15_000, topic);
    }
    await after.waitFor((m) => m.topic === 'vigil/hub/stats' && m.retain, 5_000, 'retained stats');
    expect(after.messages.every((m) => m.retain)).toBe(true);
    expect(checkDiscoverySet(live(configsOf(after)), CHECK)).toEqual([]);

    // Discovery turned off: the next start clears every retained config of the hub's node.
    await h.stop();
    h = await startTestHub({ ...overrides, homeassistant: { enabled: false } }, { dataDir });
    await expect.poll(() => live(configsOf(after)).size, { timeout: 10_000 }).toBe(0);
    const fresh = await MqttRecorder.connect(broker.url, ['homeassistant/#'], {});
    await new Promise((r) => setTimeout(r, 300));
    expect(fresh.messages).toEqual([]);
    await fresh.close();
    await after.close();
  });
});
