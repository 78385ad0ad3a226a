/**
 * The one typed topic builder. Nothing else in Vigil concatenates topic strings:
 * every publisher and subscriber asks this module (see `docs/mqtt.md`).
 *
 * Topic segments taken from users (camera, zone, label names) are checked: MQTT
 * wildcards (`+`, `#`), `/` and empty segments are refused with an Error.
 */

/** Features of a camera switchable over `vigil/camera/<cam>/<feature>/set`. */
export const CAMERA_FEATURES = ['detect', 'motion', 'snapshots', 'motion_threshold', 'motion_min_area'] as const;
export type CameraFeature = (typeof CAMERA_FEATURES)[number];

function seg(value: string, what: string): string {
  if (!value || /[+#/\u0000]/.test(value)) throw new Error(`invalid ${what} for a topic segment: ${JSON.stringify(value)}`);
  return value;
}

/** Builds and parses Vigil's topics under one prefix (default `vigil`). */
export class Topics {
  constructor(readonly prefix = 'vigil') {
    seg(prefix, 'prefix');
  }

  /** `vigil/hub/availability` — `online`/`offline`, retained, the hub's last will. */
  hubAvailability(): string { return `${this.prefix}/hub/availability`; }
  /** `vigil/hub/state` — retained JSON of the hub's components (`/api/system` in short). */
  hubState(): string { return `${this.prefix}/hub/state`; }
  /** `vigil/component/<id>/availability` — a component process's last will. */
  componentAvailability(id: string): string { return `${this.prefix}/component/${seg(id, 'component id')}/availability`; }
  /** `vigil/component/<id>/state` — retained JSON counters of a component. */
  componentState(id: string): string { return `${this.prefix}/component/${seg(id, 'component id')}/state`; }

  /** `vigil/camera/<cam>/config` — retained JSON {@link CameraConfig}; empty payload = removed. */
  cameraConfig(cam: string): string { return `${this.camera(cam)}/config`; }
  /** `vigil/camera/<cam>/availability` — `online`/`offline`, retained. */
  cameraAvailability(cam: string): string { return `${this.camera(cam)}/availability`; }
  /** `vigil/camera/<cam>/state` — retained JSON counters: fps, restarts, last_error … */
  cameraState(cam: string): string { return `${this.camera(cam)}/state`; }
  /** `vigil/camera/<cam>/motion` — `ON`/`OFF`, retained. */
  cameraMotion(cam: string): string { return `${this.camera(cam)}/motion`; }
  /** `vigil/camera/<cam>/snapshot` — latest frame as JPEG, low rate. */
  cameraSnapshot(cam: string): string { return `${this.camera(cam)}/snapshot`; }
  /** `vigil/camera/<cam>/frame` — detect frames (binary, see `frame-codec.ts`), QoS 0, for the detector. */
  cameraFrame(cam: string): string { return `${this.camera(cam)}/frame`; }
  /** `vigil/camera/<cam>/<label>` — live count of tracked objects, retained (`all` too). */
  cameraCount(cam: string, label: string): string { return `${this.camera(cam)}/${seg(label, 'label')}`; }
  /** `vigil/camera/<cam>/<label>/snapshot` — best snapshot (JPEG) of the newest object. */
  cameraLabelSnapshot(cam: string, label: string): string { return `${this.cameraCount(cam, label)}/snapshot`; }
  /** `vigil/camera/<cam>/<feature>/set` — command. */
  cameraFeatureSet(cam: string, feature: CameraFeature): string { return `${this.camera(cam)}/${feature}/set`; }
  /** `vigil/camera/<cam>/<feature>/state` — retained state of a feature. */
  cameraFeatureState(cam: string, feature: CameraFeature): string { return `${this.camera(cam)}/${feature}/state`; }

  /** `vigil/zone/<zone>/<label>` — count per zone, retained. */
  zoneCount(zone: string, label: string): string { return `${this.prefix}/zone/${seg(zone, 'zone')}/${seg(label, 'label')}`; }

  /** `vigil/events` — JSON {@link EventMessage}. */
  events(): string { return `${this.prefix}/events`; }
  /** `vigil/events/<id>/snapshot` and `…/crop` — the event's best snapshot (box drawn) and the object crop, JPEG, QoS 1. */
  eventImage(id: string, kind: 'snapshot' | 'crop'): string { return `${this.prefix}/events/${seg(id, 'event id')}/${kind}`; }

  /** `vigil/recorder/<cam>/segment` — JSON of a finished recording segment (`{id, camera, path, start_time, end_time, duration, bytes}`). */
  recorderSegment(cam: string): string { return `${this.prefix}/recorder/${seg(cam, 'camera')}/segment`; }
  /** `vigil/recorder/<cam>/state` — retained JSON: recording status, last segment time, restarts. */
  recorderState(cam: string): string { return `${this.prefix}/recorder/${seg(cam, 'camera')}/state`; }
  /** `vigil/recorder/export/<id>` — JSON progress of an export or event clip job (`{id, status, progress 0–1, …}`). */
  recorderExport(id: string): string { return `${this.prefix}/recorder/export/${seg(id, 'export id')}`; }
  /** `vigil/hub/storage` — retained JSON of recording storage (`{status: ok|low|full, used_bytes, free_bytes, …}`). */
  hubStorage(): string { return `${this.prefix}/hub/storage`; }

  /** `vigil/bridge/response/<op>` — answers to commands (`status: ok/error`). */
  bridgeResponse(op: string): string { return `${this.prefix}/bridge/response/${seg(op, 'operation')}`; }

  // ---- subscriptions (wildcards) -------------------------------------------------
  /** Filters for subscriptions. */
  readonly sub = {
    cameraConfigs: (): string => `${this.prefix}/camera/+/config`,
    cameraFrames: (): string => `${this.prefix}/camera/+/frame`,
    cameraAvailability: (): string => `${this.prefix}/camera/+/availability`,
    cameraStates: (): string => `${this.prefix}/camera/+/state`,
    cameraSets: (): string => `${this.prefix}/camera/+/+/set`,
    /** `vigil/camera/+/<leaf>` for one leaf of every camera (`state`, `motion`, `all` …). */
    cameraLeaf: (leaf: string): string => `${this.prefix}/camera/+/${seg(leaf, 'leaf')}`,
    componentStates: (): string => `${this.prefix}/component/+/state`,
    componentAvailability: (): string => `${this.prefix}/component/+/availability`,
    eventImages: (): string => `${this.prefix}/events/+/+`,
    recorderSegments: (): string => `${this.prefix}/recorder/+/segment`,
  };

  // ---- parsing ---------------------------------------------------------------------
  /**
   * Parses a concrete topic back into its parts. Returns `null` for topics outside
   * the known shapes.
   */
  parse(topic: string): ParsedTopic | null {
    if (!topic.startsWith(`${this.prefix}/`)) return null;
    const p = topic.slice(this.prefix.length + 1).split('/');
    if (p[0] === 'camera' && p.length >= 3 && p[1]) {
      const cam = p[1];
      if (p.length === 3) {
        const k = p[2]!;
        if (['config', 'availability', 'state', 'motion', 'snapshot', 'frame'].includes(k)) return { kind: `camera.${k}` as CameraTopicKind, camera: cam };
        return { kind: 'camera.count', camera: cam, label: k };
      }
      if (p.length === 4 && p[3] === 'set') return { kind: 'camera.set', camera: cam, feature: p[2]! };
      if (p.length === 4 && p[3] === 'snapshot') return { kind: 'camera.labelSnapshot', camera: cam, label: p[2]! };
    }
    if (p[0] === 'events' && p.length === 3 && (p[2] === 'snapshot' || p[2] === 'crop')) return { kind: 'event.image', id: p[1]!, image: p[2] };
    if (p[0] === 'component' && p.length === 3 && p[1]) return { kind: p[2] === 'state' ? 'component.state' : 'component.availability', component: p[1] };
    if (p[0] === 'recorder' && p.length === 3 && p[1] && p[1] !== 'export' && p[2] === 'segment') return { kind: 'recorder.segment', camera: p[1] };
    return null;
  }

  private camera(cam: string): string { return `${this.prefix}/camera/${seg(cam, 'camera')}`; }
}

type CameraTopicKind = 'camera.config' | 'camera.availability' | 'camera.state' | 'camera.motion' | 'camera.snapshot' | 'camera.frame';
/** Result of {@link Topics.parse}. */
export type ParsedTopic =
  | { kind: CameraTopicKind; camera: string }
  | { kind: 'camera.count' | 'camera.labelSnapshot'; camera: string; label: string }
  | { kind: 'camera.set'; camera: string; feature: string }
  | { kind: 'event.image'; id: string; image: 'snapshot' | 'crop' }
  | { kind: 'component.state' | 'component.availability'; component: string }
  | { kind: 'recorder.segment'; camera: string };
