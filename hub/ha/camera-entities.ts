/**
 * A camera's Home Assistant device (pure): the latest frame, motion, per tracked label an
 * occupancy, a count, the best snapshot and detection events, the feature switches, the
 * motion threshold and a test-event button. Zones get a device each ({@link zoneEntities}).
 */
import type { CameraConfig } from '../../components/protocol/camera-config.ts';
import type { CameraFeature } from '../../components/protocol/topics.ts';
import {
  device, entity, labelPresence, titleOf, topicLabels,
  type DeviceScope, type Discovery, type HaContext,
} from './discovery.ts';

/** What the camera configs must tell: name, kind of device, tracked labels and zones. */
export type HaCamera = Pick<CameraConfig, 'name' | 'device_type' | 'objects' | 'zones'>;

/** `event_type`s of `vigil/camera/<cam>/<label>/event` (`event-relay.ts`). */
export const DETECTION_EVENT_TYPES = ['new', 'end'] as const;

const MODELS: Record<HaCamera['device_type'], string> = { camera: 'Camera', camera_speaker: 'Camera with speaker', doorbell: 'Doorbell' };

/** Switch key → the feature it sets, and its name. */
const SWITCHES: Array<{ key: string; feature: CameraFeature; name: string }> = [
  { key: 'detect', feature: 'detect', name: 'Detect' },
  { key: 'record', feature: 'record', name: 'Recordings' },
  { key: 'snapshots', feature: 'snapshots', name: 'Snapshots' },
  { key: 'motion_detection', feature: 'motion', name: 'Motion detection' },
];

/** A switch or number on a camera feature: `…/<feature>/set` → `…/<feature>/state`. */
function featureControl(scope: DeviceScope, cam: string, feature: CameraFeature): Record<string, unknown> {
  const t = scope.ctx.topics;
  return { command_topic: t.cameraFeatureSet(cam, feature), state_topic: t.cameraFeatureState(cam, feature), entity_category: 'config' };
}

/** Every config of one camera's device. */
export function cameraEntities(ctx: HaContext, cam: HaCamera): Discovery[] {
  const t = ctx.topics;
  const c = cam.name;
  const dev = device(ctx, c, titleOf(c), MODELS[cam.device_type]);
  // What the camera itself reports needs it online; its settings are the hub's and work while it is offline.
  const sensing: DeviceScope = { ctx, device: dev, stem: c, availability: [t.hubAvailability(), t.cameraAvailability(c)] };
  const control: DeviceScope = { ...sensing, availability: [t.hubAvailability()] };
  const labels = topicLabels(cam.objects.track);
  const out: Discovery[] = [
    entity(sensing, 'camera', 'camera', null, { topic: t.cameraSnapshot(c) }),
    entity(sensing, 'binary_sensor', 'motion', 'Motion', { state_topic: t.cameraMotion(c), device_class: 'motion', payload_on: 'ON', payload_off: 'OFF' }),
  ];
  for (const label of [...labels, 'all']) out.push(...labelPresence(sensing, label, t.cameraCount(c, label)));
  for (const label of labels) {
    out.push(
      entity(sensing, 'image', `${label}_snapshot`, `${titleOf(label)} snapshot`, { image_topic: t.cameraLabelSnapshot(c, label), content_type: 'image/jpeg' }),
      entity(sensing, 'event', `${label}_event`, `${titleOf(label)} detected`, { state_topic: t.cameraLabelEvent(c, label), event_types: [...DETECTION_EVENT_TYPES], device_class: 'motion' }),
    );
  }
  for (const s of SWITCHES) {
    out.push(entity(control, 'switch', s.key, s.name, { ...featureControl(control, c, s.feature), payload_on: 'ON', payload_off: 'OFF', state_on: 'ON', state_off: 'OFF' }));
  }
  out.push(
    entity(control, 'number', 'motion_threshold', 'Motion threshold', { ...featureControl(control, c, 'motion_threshold'), min: 1, max: 255, step: 1, mode: 'box' }),
    entity(control, 'button', 'test_event', 'Test event', {
      command_topic: t.eventTrigger(),
      payload_press: JSON.stringify({ camera: c, topic: 'homeassistant/test', payload: { source: 'home_assistant' } }),
      entity_category: 'diagnostic',
    }),
  );
  return out;
}

/** One zone as the cameras that define it see it: the labels it counts and where it is. */
export interface HaZone {
  name: string;
  /** Labels counted in the zone (its `objects`, else its cameras' tracked labels). */
  labels: string[];
  /** Cameras that define a zone of that name. */
  cameras: string[];
}

/** The zones of `cameras`, merged by name (a zone name may be defined by several cameras). */
export function zonesOf(cameras: HaCamera[]): HaZone[] {
  const zones = new Map<string, HaZone>();
  for (const cam of cameras) {
    for (const z of cam.zones) {
      const zone = zones.get(z.name) ?? { name: z.name, labels: [], cameras: [] };
      zone.labels = topicLabels([...zone.labels, ...(z.objects.length ? z.objects : cam.objects.track)]);
      zone.cameras.push(cam.name);
      zones.set(z.name, zone);
    }
  }
  return [...zones.values()];
}

/** A zone's device (via its camera when one camera defines it): occupancy and count per label and `all`. */
export function zoneEntities(ctx: HaContext, zone: HaZone): Discovery[] {
  const t = ctx.topics;
  const via = zone.cameras.length === 1 ? zone.cameras[0]! : 'hub';
  const scope: DeviceScope = { ctx, device: device(ctx, `zone_${zone.name}`, `${titleOf(zone.name)} zone`, 'Zone', via), stem: `zone_${zone.name}`, availability: [t.hubAvailability()] };
  return [...zone.labels, 'all'].flatMap((label) => labelPresence(scope, label, t.zoneCount(zone.name, label)));
}
