/**
 * The one typed topic builder. Nothing else in Vigil concatenates topic strings or
 * builds topic regexes: every publisher, subscriber and the broker's ACL ask this module
 * (see `docs/mqtt.md`).
 *
 * Topic segments taken from users (camera, zone, label names) are checked: MQTT
 * wildcards (`+`, `#`), `/` and empty segments are refused with an Error.
 *
 * This file is pure (no Node APIs): the kiosk's browser code imports it too.
 */

/** Features of a camera switchable over `vigil/camera/<cam>/<feature>/set`. */
export const CAMERA_FEATURES = ['detect', 'record', 'motion', 'snapshots', 'motion_threshold', 'motion_min_area'] as const;
export type CameraFeature = (typeof CAMERA_FEATURES)[number];

function seg(value: string, what: string): string {
  if (!value || /[+#/\u0000]/.test(value)) throw new Error(`invalid ${what} for a topic segment: ${JSON.stringify(value)}`);
  return value;
}

/** Builds and parses Vigil's topics under one prefix (default `vigil`). */
export class Topics {
  /**
   * @param prefix first segment of every Vigil topic (`mqtt.prefix`)
   * @param discoveryPrefix Home Assistant's discovery prefix (HA's default `homeassistant`)
   * @throws Error when either is not a valid topic segment
   */
  constructor(readonly prefix = 'vigil', discoveryPrefix = 'homeassistant') {
    seg(prefix, 'prefix');
    this.haPrefix = seg(discoveryPrefix, 'discovery prefix');
  }

  private haPrefix: string;

  /** Home Assistant's discovery prefix (`homeassistant.discovery_prefix`). */
  get discoveryPrefix(): string { return this.haPrefix; }

  /**
   * Changes the discovery prefix (the hub's settings, applied live): every topic, filter
   * and ACL decision built from this object follows.
   * @throws Error when it is not a valid topic segment
   */
  setDiscoveryPrefix(discoveryPrefix: string): void {
    this.haPrefix = seg(discoveryPrefix, 'discovery prefix');
  }

  /** `vigil/hub/availability` — `online`/`offline`, retained, the hub's last will. */
  hubAvailability(): string { return `${this.prefix}/hub/availability`; }
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
  /**
   * `vigil/camera/<cam>/live/<media>` — live media of a camera while someone demands it
   * (`live-wire.ts`), QoS 0, not retained: `main`/`sub` carry whole fMP4 units (init
   * segment, then fragments with keyframe flags), `jpeg` the detect frames as JPEG.
   */
  cameraLive(cam: string, media: LiveMedia): string {
    if (!(LIVE_MEDIA as readonly string[]).includes(media)) throw new Error(`invalid live media for a topic segment: ${JSON.stringify(media)}`);
    return `${this.camera(cam)}/live/${media}`;
  }
  /** `vigil/camera/<cam>/live/demand` — JSON lease asking the camera's process to publish a live medium (`live-wire.ts` `LiveDemand`), QoS 1, not retained. */
  cameraLiveDemand(cam: string): string { return `${this.camera(cam)}/live/demand`; }
  /** `vigil/camera/<cam>/<label>` — live count of tracked objects, retained (`all` too). */
  cameraCount(cam: string, label: string): string { return `${this.camera(cam)}/${seg(label, 'label')}`; }
  /** `vigil/camera/<cam>/<label>/active` — count of tracked objects that are not stationary, retained (Frigate's `…/<label>/active`). */
  cameraActiveCount(cam: string, label: string): string { return `${this.cameraCount(cam, label)}/active`; }
  /** `vigil/camera/<cam>/<label>/snapshot` — best snapshot (JPEG) of the newest object. */
  cameraLabelSnapshot(cam: string, label: string): string { return `${this.cameraCount(cam, label)}/snapshot`; }
  /** `vigil/camera/<cam>/<feature>/state` — retained state of a feature. */
  cameraFeatureState(cam: string, feature: CameraFeature): string { return `${this.camera(cam)}/${feature}/state`; }
  /** `vigil/camera/<cam>/<feature>/set` — command that changes a feature (`ON`/`OFF` or a number); answered on `…/state`. */
  cameraFeatureSet(cam: string, feature: CameraFeature): string { return `${this.camera(cam)}/${feature}/set`; }
  /** `vigil/camera/<cam>/<label>/event` — JSON `{event_type: new|end, …}` when an object with that label appears or ends (Home Assistant `event` entities), not retained. */
  cameraLabelEvent(cam: string, label: string): string { return `${this.cameraCount(cam, label)}/event`; }

  /** `vigil/camera/<cam>/ptz` — PTZ command, Frigate's payloads (`preset_<name>`, `MOVE_LEFT` …, `ZOOM_IN`, `STOP`; `rules.ts` `parsePtz`). */
  cameraPtz(cam: string): string { return `${this.camera(cam)}/ptz`; }
  /** `vigil/camera/<cam>/relay/<token>/set` — switch an ONVIF relay output (light, siren): `ON` / `OFF`. */
  cameraRelaySet(cam: string, relay: string): string { return `${this.camera(cam)}/relay/${seg(relay, 'relay token')}/set`; }
  /** `vigil/camera/<cam>/relay/<token>/state` — the relay output's state, `ON` / `OFF`, retained. */
  cameraRelayState(cam: string, relay: string): string { return `${this.camera(cam)}/relay/${seg(relay, 'relay token')}/state`; }
  /** `vigil/onvif/<cam>/event` — a camera's ONVIF PullPoint event, normalized (`rules.ts` `TriggerEvent`). */
  onvifEvent(cam: string): string { return `${this.prefix}/onvif/${seg(cam, 'camera')}/event`; }

  /** `vigil/zone/<zone>/<label>` — count per zone, retained. */
  zoneCount(zone: string, label: string): string { return `${this.prefix}/zone/${seg(zone, 'zone')}/${seg(label, 'label')}`; }

  /** `vigil/events` — JSON {@link EventMessage}. */
  events(): string { return `${this.prefix}/events`; }
  /**
   * `vigil/tracked_object_update` — what enrichment found in a tracked object, JSON, QoS 1,
   * not retained (Frigate's `frigate/tracked_object_update`): `{type: "face", id, name, score,
   * camera, timestamp}` or `{type: "lpr", id, name, plate, score, camera, timestamp}`.
   */
  trackedObjectUpdate(): string { return `${this.prefix}/tracked_object_update`; }
  /** `vigil/events/<id>/snapshot` and `…/crop` — the event's best snapshot (box drawn) and the object crop, JPEG, QoS 1. */
  eventImage(id: string, kind: 'snapshot' | 'crop'): string { return `${this.prefix}/events/${seg(id, 'event id')}/${kind}`; }

  /** `vigil/faces/library/<name>/<id>` — an enrolled face image, JPEG, retained, published by the hub; empty = removed (`faces.ts`). */
  faceLibrary(name: string, id: string): string { return `${this.prefix}/faces/library/${seg(name, 'face name')}/${seg(id, 'face image id')}`; }
  /** `vigil/faces/descriptor/<name>/<id>` — a detector's outcome for that image, JSON `FaceDescriptorMessage`, retained. */
  faceDescriptor(name: string, id: string): string { return `${this.prefix}/faces/descriptor/${seg(name, 'face name')}/${seg(id, 'face image id')}`; }
  /** `vigil/faces/unknown/<cam>/<id>` — a face a detector could not name, JPEG, QoS 1, not retained; the hub keeps it for enrolment. */
  faceUnknown(cam: string, id: string): string { return `${this.prefix}/faces/unknown/${seg(cam, 'camera')}/${seg(id, 'unknown face id')}`; }

  /** `vigil/recorder/<cam>/segment` — JSON of a finished recording segment (`{id, camera, path, start_time, end_time, duration, bytes}`). */
  recorderSegment(cam: string): string { return `${this.prefix}/recorder/${seg(cam, 'camera')}/segment`; }
  /** `vigil/recorder/export/<id>` — JSON progress of an export or event clip job (`{id, status, progress 0–1, …}`). */
  recorderExport(id: string): string { return `${this.prefix}/recorder/export/${seg(id, 'export id')}`; }
  /** `vigil/hub/stats` — retained JSON of the hub's health figures for dashboards and Home Assistant (CPU %, memory, storage, inference ms, events today). */
  hubStats(): string { return `${this.prefix}/hub/stats`; }
  /** `vigil/hub/storage` — retained JSON of recording storage (`{status: ok|low|full, used_bytes, free_bytes, …}`). */
  hubStorage(): string { return `${this.prefix}/hub/storage`; }

  /** `vigil/event/trigger` — synthetic events into the rules engine (JSON `{camera, topic, property_op?, data? | payload?}`, `rules.ts`). */
  eventTrigger(): string { return `${this.prefix}/event/trigger`; }
  /** `vigil/display/<display>/layout/set` — activate a layout on a display. */
  displayLayoutSet(display: string): string { return `${this.display(display)}/layout/set`; }
  /** `vigil/display/<display>/layout/state` — the compiled bundle the display shows, retained (`components/protocol/layout.ts` `Bundle`). */
  displayLayoutState(display: string): string { return `${this.display(display)}/layout/state`; }
  /** `vigil/display/<display>/layout/error` — why a `…/layout/set` was refused (`LayoutError`); nothing changed. */
  displayLayoutError(display: string): string { return `${this.display(display)}/layout/error`; }
  /** `vigil/kiosk/<kiosk>/availability` — `online` / `offline`, retained; the kiosk's last will. */
  kioskAvailability(kiosk: string): string { return `${this.prefix}/kiosk/${seg(kiosk, 'kiosk id')}/availability`; }
  /** `vigil/kiosk/<kiosk>/state` — what the kiosk shows (`KioskState`), retained. */
  kioskState(kiosk: string): string { return `${this.prefix}/kiosk/${seg(kiosk, 'kiosk id')}/state`; }

  /** `vigil/head/<head>/info` — retained JSON about a camera head (`HeadInfo`: its stream, its state keys); the hub registers the head from it. */
  headInfo(head: string): string { return `${this.head(head)}/info`; }
  /** `vigil/head/<head>/availability` — `online` / `offline`, retained; the head's last will. */
  headAvailability(head: string): string { return `${this.head(head)}/availability`; }
  /** `vigil/head/<head>/state/<key>` — one key of the head's observable state, JSON, retained (`key` like `light.level`). */
  headState(head: string, key: string): string { return `${this.head(head)}/state/${seg(key, 'state key')}`; }
  /** `vigil/head/<head>/state/<key>/set` — a write to one key (JSON value), permission-checked by the head. */
  headStateSet(head: string, key: string): string { return `${this.headState(head, key)}/set`; }
  /** `vigil/head/<head>/response` — why a `…/set` was refused (`{key, code, reason}`), not retained; the value did not change. */
  headResponse(head: string): string { return `${this.head(head)}/response`; }

  /** `vigil/bridge/response/<op>` — answers to commands (`status: ok/error`). */
  bridgeResponse(op: string): string { return `${this.prefix}/bridge/response/${op.split('/').map((x) => seg(x, 'operation')).join('/')}`; }
  /**
   * `vigil/bridge/request/<op>` — management requests in Zigbee2MQTT's form (JSON with a
   * `transaction`); `op` may have levels (`camera/add`), each a valid segment.
   */
  bridgeRequest(op: string): string { return `${this.prefix}/bridge/request/${op.split('/').map((x) => seg(x, 'operation')).join('/')}`; }
  /** `vigil/bridge/info` — retained JSON about the hub (version, cameras, config summary). */
  bridgeInfo(): string { return `${this.prefix}/bridge/info`; }
  /** `vigil/bridge/state` — retained JSON `{state: online|offline}`. */
  bridgeState(): string { return `${this.prefix}/bridge/state`; }

  /** `homeassistant/<component>/<node>/<object>/config` — a Home Assistant MQTT discovery config, retained. */
  haDiscovery(component: string, node: string, object: string): string {
    return `${this.discoveryPrefix}/${seg(component, 'HA component')}/${seg(node, 'HA node id')}/${seg(object, 'HA object id')}/config`;
  }
  /** `homeassistant/status` — Home Assistant's birth (`online`) and last will (`offline`). */
  haStatus(): string { return `${this.discoveryPrefix}/status`; }

  // ---- subscriptions and ACL patterns (wildcards) -----------------------------------
  /** Filters for subscriptions, and the patterns of the broker's ACL. */
  readonly sub = {
    /** `vigil/#` — every Vigil topic. */
    all: (): string => `${this.prefix}/#`,
    /** `homeassistant/#` — Home Assistant discovery (the HA integration's alone). */
    discovery: (): string => `${this.discoveryPrefix}/#`,
    /** `vigil/camera/<cam>/#` — everything of one camera. */
    camera: (cam: string): string => `${this.camera(cam)}/#`,
    /** `vigil/camera/+/+/state` — every camera's feature states. */
    cameraFeatureStates: (): string => `${this.prefix}/camera/+/+/state`,
    /** `homeassistant/+/<node>/+/config` — the discovery configs published under one node id. */
    haDiscoveryOf: (node: string): string => `${this.discoveryPrefix}/+/${seg(node, 'HA node id')}/+/config`,
    /** `vigil/camera/<cam>/+/set` — every command of one camera. */
    cameraSetsOf: (cam: string): string => `${this.camera(cam)}/+/set`,
    cameraConfigs: (): string => `${this.prefix}/camera/+/config`,
    cameraFrames: (): string => `${this.prefix}/camera/+/frame`,
    /** `vigil/camera/+/live/demand` — live demands for every camera (the camera component's). */
    cameraLiveDemands: (): string => `${this.prefix}/camera/+/live/demand`,
    cameraAvailability: (): string => `${this.prefix}/camera/+/availability`,
    cameraSets: (): string => `${this.prefix}/camera/+/+/set`,
    cameraPtzs: (): string => `${this.prefix}/camera/+/ptz`,
    cameraRelaySets: (): string => `${this.prefix}/camera/+/relay/+/set`,
    /** `vigil/camera/<cam>/relay/+/set` — relay commands of one camera. */
    cameraRelaySetsOf: (cam: string): string => `${this.camera(cam)}/relay/+/set`,
    /** `vigil/bridge/request/#` — every management request. */
    bridgeRequests: (): string => `${this.prefix}/bridge/request/#`,
    /** `vigil/onvif/+/event` — every camera's ONVIF events. */
    onvifEvents: (): string => `${this.prefix}/onvif/+/event`,
    /** `vigil/display/#` — every display. */
    displays: (): string => `${this.prefix}/display/#`,
    /** `vigil/display/<display>/#` — one display. */
    display: (display: string): string => `${this.display(display)}/#`,
    /** `vigil/display/+/layout/set` — layout commands of every display. */
    displayLayoutSets: (): string => `${this.prefix}/display/+/layout/set`,
    /** `vigil/display/+/layout/state` — every display's bundle. */
    displayLayoutStates: (): string => `${this.prefix}/display/+/layout/state`,
    /** `vigil/kiosk/<kiosk>/#` — one kiosk's own topics. */
    kiosk: (kiosk: string): string => `${this.prefix}/kiosk/${seg(kiosk, 'kiosk id')}/#`,
    /** `vigil/head/<head>/#` — one camera head's topics. */
    head: (head: string): string => `${this.prefix}/head/${seg(head, 'head id')}/#`,
    /** `vigil/head/+/info` — every head's registration. */
    headInfos: (): string => `${this.prefix}/head/+/info`,
    /** `vigil/head/+/availability`. */
    headAvailabilities: (): string => `${this.prefix}/head/+/availability`,
    /** `vigil/head/<head>/state/+/set` — writes to one head's keys (the head subscribes). */
    headStateSets: (head: string): string => `${this.prefix}/head/${seg(head, 'head id')}/state/+/set`,
    /** `vigil/head/+/state/+/set` — writes to every head's keys (the ACL rule for operators and Home Assistant). */
    allHeadStateSets: (): string => `${this.prefix}/head/+/state/+/set`,
    /** `vigil/camera/+/<leaf>` for one leaf of every camera (`state`, `motion`, `all` …). */
    cameraLeaf: (leaf: string): string => `${this.prefix}/camera/+/${seg(leaf, 'leaf')}`,
    /** `vigil/camera/+/<label>/active` — every camera's count of moving (not stationary) objects of `label` (`all` for any). */
    cameraActiveCounts: (label: string): string => `${this.prefix}/camera/+/${seg(label, 'label')}/active`,
    componentStates: (): string => `${this.prefix}/component/+/state`,
    componentAvailability: (): string => `${this.prefix}/component/+/availability`,
    eventImages: (): string => `${this.prefix}/events/+/+`,
    recorderSegments: (): string => `${this.prefix}/recorder/+/segment`,
    /** `vigil/faces/#` — everything about known faces. */
    faces: (): string => `${this.prefix}/faces/#`,
    faceLibrary: (): string => `${this.prefix}/faces/library/+/+`,
    faceDescriptors: (): string => `${this.prefix}/faces/descriptor/+/+`,
    faceUnknowns: (): string => `${this.prefix}/faces/unknown/+/+`,
    /**
     * `vigil/<area>/#`, `vigil/<area>/<level>/…/#` — everything under one ACL area
     * ({@link Topics.area}: `camera`, `zone`, `events` …) or one id in it; a level may be `+`.
     * @throws Error when a level is not a valid segment nor `+`
     */
    area: (area: string, ...levels: string[]): string =>
      [this.prefix, seg(area, 'area'), ...levels.map((l) => (l === '+' ? l : seg(l, 'topic level'))), '#'].join('/'),
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
        if (['config', 'availability', 'state', 'motion', 'snapshot', 'frame', 'ptz'].includes(k)) return { kind: `camera.${k}` as CameraTopicKind, camera: cam };
        return { kind: 'camera.count', camera: cam, label: k };
      }
      if (p.length === 4 && p[2] === 'live') {
        if (p[3] === 'demand') return { kind: 'camera.liveDemand', camera: cam };
        if ((LIVE_MEDIA as readonly string[]).includes(p[3]!)) return { kind: 'camera.live', camera: cam, media: p[3] as LiveMedia };
      }
      if (p.length === 4 && p[3] === 'set') return { kind: 'camera.set', camera: cam, feature: p[2]! };
      if (p.length === 4 && p[3] === 'state') return { kind: 'camera.featureState', camera: cam, feature: p[2]! };
      if (p.length === 4 && p[3] === 'snapshot') return { kind: 'camera.labelSnapshot', camera: cam, label: p[2]! };
      if (p.length === 4 && p[3] === 'active') return { kind: 'camera.activeCount', camera: cam, label: p[2]! };
      if (p.length === 4 && p[3] === 'event') return { kind: 'camera.labelEvent', camera: cam, label: p[2]! };
      if (p.length === 5 && p[2] === 'relay' && p[3] && (p[4] === 'set' || p[4] === 'state')) return { kind: p[4] === 'set' ? 'camera.relaySet' : 'camera.relayState', camera: cam, relay: p[3] };
    }
    if (p[0] === 'events' && p.length === 1) return { kind: 'events' };
    if (p[0] === 'tracked_object_update' && p.length === 1) return { kind: 'trackedObjectUpdate' };
    if (p[0] === 'zone' && p.length === 3 && p[1] && p[2]) return { kind: 'zone.count', zone: p[1], label: p[2] };
    if (p[0] === 'events' && p.length === 3 && (p[2] === 'snapshot' || p[2] === 'crop')) return { kind: 'event.image', id: p[1]!, image: p[2] };
    if (p[0] === 'component' && p.length === 3 && p[1] && (p[2] === 'state' || p[2] === 'availability')) return { kind: p[2] === 'state' ? 'component.state' : 'component.availability', component: p[1] };
    if (p[0] === 'recorder' && p.length === 3 && p[1] && p[1] !== 'export' && p[2] === 'segment') return { kind: 'recorder.segment', camera: p[1] };
    if (p[0] === 'onvif' && p.length === 3 && p[1] && p[2] === 'event') return { kind: 'onvif.event', camera: p[1] };
    if (p[0] === 'event' && p.length === 2 && p[1] === 'trigger') return { kind: 'event.trigger' };
    if (p[0] === 'bridge' && p.length >= 3 && p[1] === 'request' && p.slice(2).every(Boolean)) return { kind: 'bridge.request', op: p.slice(2).join('/') };
    if (p[0] === 'display' && p.length === 4 && p[1] && p[2] === 'layout' && p[3] === 'set') return { kind: 'display.layoutSet', display: p[1] };
    if (p[0] === 'head' && p[1]) {
      if (p.length === 3 && (p[2] === 'info' || p[2] === 'availability' || p[2] === 'response')) return { kind: `head.${p[2]}`, head: p[1] };
      if (p.length === 4 && p[2] === 'state' && p[3]) return { kind: 'head.state', head: p[1], key: p[3] };
      if (p.length === 5 && p[2] === 'state' && p[3] && p[4] === 'set') return { kind: 'head.stateSet', head: p[1], key: p[3] };
    }
    if (p[0] === 'faces' && p.length === 4 && p[2] && p[3]) {
      if (p[1] === 'library' || p[1] === 'descriptor') return { kind: p[1] === 'library' ? 'face.library' : 'face.descriptor', name: p[2], id: p[3] };
      if (p[1] === 'unknown') return { kind: 'face.unknown', camera: p[2], id: p[3] };
    }
    return null;
  }

  /**
   * The namespace of a topic or filter under the prefix: `vigil/camera/door/motion` →
   * `{area: 'camera', id: 'door', rest: ['motion']}`; `id` is the second segment as written
   * (it may be a wildcard in a filter). `homeassistant/…` gives `{area: 'discovery'}`.
   * Returns `null` outside Vigil's prefix and the discovery prefix.
   */
  area(topicOrFilter: string): TopicArea | null {
    const p = topicOrFilter.split('/');
    if (p[0] === this.discoveryPrefix && p.length > 1) return { area: 'discovery', id: p[1], rest: p.slice(2) };
    if (p[0] !== this.prefix || p.length < 2) return null;
    return { area: p[1]!, id: p[2], rest: p.slice(3) };
  }

  /** The camera a topic or filter names explicitly (`vigil/camera/<cam>/…` with no wildcard there), else undefined. */
  cameraOf(topicOrFilter: string): string | undefined {
    const a = this.area(topicOrFilter);
    return a?.area === 'camera' && a.id && !WILDCARD.test(a.id) ? a.id : undefined;
  }

  private camera(cam: string): string { return `${this.prefix}/camera/${seg(cam, 'camera')}`; }
  private display(display: string): string { return `${this.prefix}/display/${seg(display, 'display id')}`; }
  private head(head: string): string { return `${this.prefix}/head/${seg(head, 'head id')}`; }
}

const WILDCARD = /[+#]/;

/** Live media of a camera on `vigil/camera/<cam>/live/<media>`: the `main` and `sub` fMP4 streams, and `jpeg` frames. */
export const LIVE_MEDIA = ['main', 'sub', 'jpeg'] as const;
export type LiveMedia = (typeof LIVE_MEDIA)[number];

/** Result of {@link Topics.area}. */
export interface TopicArea {
  /** `camera`, `events`, `zone`, `display`, `kiosk`, `head`, `hub`, `component`, `bridge`, `recorder` … or `discovery`. */
  area: string;
  /** The segment after the area (camera, zone, display … id, or the event id), if any. */
  id?: string;
  /** The segments after `id`. */
  rest: string[];
}

/** MQTT filter match (`+` one level, `#` the rest), per MQTT 3.1.1 §4.7. */
export function topicMatches(filter: string, topic: string): boolean {
  // §4.7.2: a filter starting with a wildcard does not match a topic starting with `$`.
  if (topic.startsWith('$') && (filter.startsWith('#') || filter.startsWith('+'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * True when every topic matched by `filter` is matched by `pattern` (both may hold
 * `+`/`#`): the ACL's test that a subscription stays inside what a principal may read.
 */
export function filterWithin(filter: string, pattern: string): boolean {
  const f = filter.split('/');
  const p = pattern.split('/');
  for (let i = 0; i < f.length; i++) {
    const pi = p[i];
    if (pi === '#') return true;
    if (pi === undefined) return false;
    const fi = f[i]!;
    if (fi === '#') return false;
    if (pi === '+') continue;
    if (fi === '+' || fi !== pi) return false;
  }
  // `a/b/#` takes in its parent level `a/b` too (§4.7.1.2).
  return f.length === p.length || (f.length === p.length - 1 && p[p.length - 1] === '#');
}

type CameraTopicKind = 'camera.config' | 'camera.availability' | 'camera.state' | 'camera.motion' | 'camera.snapshot' | 'camera.frame' | 'camera.ptz';
/** Result of {@link Topics.parse}. */
export type ParsedTopic =
  | { kind: CameraTopicKind; camera: string }
  | { kind: 'camera.count' | 'camera.labelSnapshot' | 'camera.activeCount' | 'camera.labelEvent'; camera: string; label: string }
  | { kind: 'camera.set' | 'camera.featureState'; camera: string; feature: string }
  | { kind: 'camera.live'; camera: string; media: LiveMedia }
  | { kind: 'camera.liveDemand'; camera: string }
  | { kind: 'events' }
  | { kind: 'trackedObjectUpdate' }
  | { kind: 'zone.count'; zone: string; label: string }
  | { kind: 'event.image'; id: string; image: 'snapshot' | 'crop' }
  | { kind: 'component.state' | 'component.availability'; component: string }
  | { kind: 'recorder.segment'; camera: string }
  | { kind: 'camera.relaySet' | 'camera.relayState'; camera: string; relay: string }
  | { kind: 'onvif.event'; camera: string }
  | { kind: 'event.trigger' }
  | { kind: 'bridge.request'; op: string }
  | { kind: 'display.layoutSet'; display: string }
  | { kind: 'face.library' | 'face.descriptor'; name: string; id: string }
  | { kind: 'face.unknown'; camera: string; id: string }
  | { kind: 'head.info' | 'head.availability' | 'head.response'; head: string }
  | { kind: 'head.state' | 'head.stateSet'; head: string; key: string };
