/**
 * The MQTT ACL as pure functions of a {@link Principal} and a topic or filter.
 *
 * | principal | publish | subscribe |
 * |---|---|---|
 * | internal (the hub's own components) | all | all |
 * | device `component` (a camera/detector process elsewhere) | all but `homeassistant/#` | all but `homeassistant/#` |
 * | device `ha` (the Home Assistant integration) | `homeassistant/#`, `…/set`, `…/ptz`, `…/relay/+/set`, `vigil/head/+/state/+/set`, `vigil/event/trigger`, `vigil/display/+/layout/set`, `vigil/bridge/request/#` | `homeassistant/#`, `vigil/#` |
 * | device `head` `<id>` | `vigil/head/<id>/#` | `vigil/head/<id>/#` |
 * | device `kiosk` `<id>` | `vigil/kiosk/<id>/#` | its displays' `vigil/display/<d>/#`, `vigil/kiosk/<id>/#`, hub availability |
 * | device `camera` `<id>` | `vigil/camera/<id>/#` but `config` and `…/set` | `vigil/camera/<id>/#` |
 * | admin (user or key) | `vigil/#` but `vigil/camera/+/config` and `vigil/faces/#` (and, limited to cameras, nothing under another camera) | `vigil/#` |
 * | operator | `vigil/camera/<granted>/+/set`, `…/<granted>/ptz`, `…/<granted>/relay/+/set`, `vigil/head/<head>/state/+/set` (camera `head_<head>` granted), `vigil/event/trigger`, `vigil/display/+/layout/set`, `vigil/bridge/request/#` | `vigil/#` |
 * | viewer | `vigil/bridge/request/#` | `vigil/#` |
 * | anonymous (only if allowed, only from loopback) | nothing | `vigil/display/#`, hub availability |
 *
 * `homeassistant/#` belongs to the HA integration device only. Users limited to some
 * cameras may not subscribe to a filter naming another camera (`vigil/camera/<cam>/…`,
 * `vigil/recorder/<cam>/…`), and what they receive through wildcards is filtered per
 * message ({@link canReceive}).
 *
 * Management requests (`vigil/bridge/request/#`) are handed to the bridge by the broker
 * policy with their publisher's principal and delivered to nobody; the bridge checks each
 * operation's role (`hub/bridge/roles.ts`), which also decides who reads its answers.
 *
 * The same table, as ordered pattern lines for an external broker that reads no payload
 * (Mosquitto's dynamic security plugin, kept in step by `dynsec-sync.ts`), is
 * {@link Acl.exportLines}.
 */
import { headCameraName } from '../../components/protocol/head-info.ts';
import { filterWithin, type TopicArea, type Topics } from '../../components/protocol/topics.ts';
import { canSeeCamera, hasRole, type Principal } from '../auth/principal.ts';
import { BRIDGE_OP_ROLES, bridgeOpRole } from '../bridge/roles.ts';

/**
 * One line of an exported ACL ({@link Acl.exportLines}); the first line whose pattern
 * matches decides. `publish` (client → broker) and `receive` (broker → client, per
 * message) match a topic (MQTT §4.7); `subscribe` matches a filter lying within the
 * pattern ({@link filterWithin}) or, when `literal`, a filter written exactly so.
 */
export interface AclLine { access: 'publish' | 'subscribe' | 'receive'; pattern: string; allow: boolean; literal?: boolean }

/** What the hub knows of its cameras, for the exported lines of principals limited to cameras. */
export interface KnownCameras {
  /** Every camera the hub has. */
  cameras: readonly string[];
  /** zone → the cameras defining it (what the policy learns from camera configs). */
  zones: ReadonlyMap<string, readonly string[]>;
}

const within = (x: string, patterns: string[]): boolean => patterns.some((p) => filterWithin(x, p));

/** The `camera` field of a JSON payload, or '' (which no limited principal sees). */
function payloadCamera(payload: Buffer): string {
  try {
    const c = (JSON.parse(payload.toString()) as { camera?: unknown } | null)?.camera;
    return typeof c === 'string' ? c : '';
  } catch {
    return '';
  }
}

/** The ACL of one topic layout; every pattern comes from {@link Topics}. */
export class Acl {
  constructor(private readonly t: Topics) {}

  /** May `p` publish to `topic`? */
  canPublish(p: Principal, topic: string): boolean {
    const { t } = this;
    const s = t.sub;
    if (topic.startsWith('$')) return false;
    if (p.kind === 'internal') return true;
    if (p.kind === 'device') {
      const id = p.id;
      switch (p.deviceKind) {
        case 'component': return !within(topic, [s.discovery()]);
        case 'ha': return within(topic, [s.discovery(), s.cameraSets(), s.cameraPtzs(), s.cameraRelaySets(), t.eventTrigger(), s.displayLayoutSets(), s.bridgeRequests(), s.allHeadStateSets()]);
        case 'head': return within(topic, [s.head(id)]);
        case 'kiosk': return within(topic, [s.kiosk(id)]);
        case 'camera': return within(topic, [s.camera(id)]) && !within(topic, [t.cameraConfig(id), s.cameraSetsOf(id)]);
        default: return false;
      }
    }
    if (within(topic, [s.discovery()])) return false;
    // An admin limited to cameras may not publish under a camera it cannot see (as operators may not `…/set`).
    const named = this.cameraNamed(topic);
    // Known faces are the hub's (library) and the detectors' (descriptors, unknown crops): admins go through /api/faces.
    if (hasRole(p, 'admin')) return within(topic, [s.all()]) && !within(topic, [s.cameraConfigs(), s.faces()]) && (!named || canSeeCamera(p, named));
    if (hasRole(p, 'operator')) {
      const set = t.parse(topic);
      if (set?.kind === 'camera.set' || set?.kind === 'camera.ptz' || set?.kind === 'camera.relaySet') return canSeeCamera(p, set.camera);
      // A head's state writes: its camera's operators (the head checks its own permissions too).
      if (set?.kind === 'head.stateSet') return canSeeCamera(p, headCameraName(set.head));
      return within(topic, [t.eventTrigger(), s.displayLayoutSets(), s.bridgeRequests()]);
    }
    return hasRole(p, 'viewer') && within(topic, [s.bridgeRequests()]);
  }

  /** Is `topic` a management request (`vigil/bridge/request/…`)? Such publishes go to the bridge, never to subscribers. */
  isBridgeRequest(topic: string): boolean {
    const a = this.t.area(topic);
    return a?.area === 'bridge' && a.id === 'request';
  }

  /** May `p` subscribe to `filter`? */
  canSubscribe(p: Principal, filter: string): boolean {
    const { t } = this;
    const s = t.sub;
    if (filter.startsWith('$')) return false;
    if (p.kind === 'internal') return true;
    if (p.kind === 'anonymous') return within(filter, [s.displays(), t.hubAvailability()]);
    if (p.kind === 'device') {
      const id = p.id;
      switch (p.deviceKind) {
        // Nor a filter wide enough to take in discovery (`#`, `+/#`).
        case 'component': return !filterWithin(s.discovery(), filter) && !within(filter, [s.discovery()]);
        case 'ha': return within(filter, [s.discovery(), s.all()]);
        case 'head': return within(filter, [s.head(id)]);
        case 'kiosk': return within(filter, [...(p.displays ?? []).map((d) => s.display(d)), s.kiosk(id), t.hubAvailability()]);
        case 'camera': return within(filter, [s.camera(id)]);
        default: return false;
      }
    }
    if (!hasRole(p, 'viewer') || !within(filter, [s.all()])) return false;
    const cam = this.cameraNamed(filter);
    return !cam || canSeeCamera(p, cam);
  }

  /**
   * The camera a topic or filter names explicitly: `vigil/camera/<cam>/…` ({@link Topics.cameraOf})
   * or `vigil/recorder/<cam>/…` (not `recorder/export`); undefined for a wildcard there.
   */
  private cameraNamed(topicOrFilter: string): string | undefined {
    const cam = this.t.cameraOf(topicOrFilter);
    if (cam) return cam;
    const a = this.t.area(topicOrFilter);
    // vigil/faces/unknown/<cam>/… names its camera one level further down.
    if (a?.area === 'faces' && a.id === 'unknown' && a.rest[0] && !/[+#]/.test(a.rest[0])) return a.rest[0];
    return (a?.area === 'recorder' || a?.area === 'onvif') && a.id && a.id !== 'export' && !/[+#]/.test(a.id) ? a.id : undefined;
  }

  /**
   * Per-message filter for what `p` receives (aedes `authorizeForward`): camera topics
   * of cameras it cannot see, events of such cameras, zone counts touching them, camera
   * configs (credentials, sealed), recording segments and exports of such cameras, event
   * images, component internals and display bundles (their media tokens) for limited
   * principals, and bridge traffic as {@link canReceiveBridge} says are dropped; management
   * requests reach nobody.
   * @param zoneCameras zone → cameras that define it.
   */
  canReceive(p: Principal, topic: string, payload: Buffer, zoneCameras: (zone: string) => string[]): boolean {
    const a = this.t.area(topic);
    // homeassistant/… reaches only the HA integration, whatever wildcard matched it (`+/sensor/#`…).
    if (a?.area === 'discovery') return p.kind === 'internal' || (p.kind === 'device' && p.deviceKind === 'ha');
    if (this.isBridgeRequest(topic)) return false;
    if (p.kind === 'internal' || (p.kind === 'device' && (p.deviceKind === 'component'))) return true;
    if (!a) return true; // outside Vigil's topics: authorized at subscribe time
    const { area, id = '' } = a;
    if (area === 'camera') {
      if (this.t.parse(topic)?.kind === 'camera.config') return false;
      return p.kind === 'device' ? p.deviceKind === 'ha' || (p.deviceKind === 'camera' && id === p.id) : canSeeCamera(p, id);
    }
    if (p.kind === 'device' && p.deviceKind === 'ha') return true;
    if (p.kind === 'device' || p.kind === 'anonymous') return area === 'display' || area === 'kiosk' || area === 'head' || topic === this.t.hubAvailability();
    const limited = p.cameras !== null;
    if (area === 'events') {
      if (a.id !== undefined) return !limited; // vigil/events/<id>/snapshot|crop carry no camera
      try { return canSeeCamera(p, String((JSON.parse(payload.toString()) as { after?: { camera?: unknown } }).after?.camera)); } catch { return false; }
    }
    if (area === 'zone') {
      const cams = zoneCameras(id);
      return cams.length > 0 ? cams.every((c) => canSeeCamera(p, c)) : !limited;
    }
    if (area === 'component') return !limited;
    if (area === 'recorder') {
      // vigil/recorder/<cam>/segment names its camera; vigil/recorder/export/<id> carries it in the payload.
      if (id !== 'export') return canSeeCamera(p, id);
      return !limited || canSeeCamera(p, payloadCamera(payload));
    }
    if (area === 'onvif') return canSeeCamera(p, id);
    // vigil/faces/unknown/<cam>/<id> is a face seen by that camera; the library (viewer+ on REST too) is not a camera's.
    if (area === 'faces' && id === 'unknown') return canSeeCamera(p, a.rest[0] ?? '');
    // vigil/event/trigger and vigil/tracked_object_update carry their camera in the payload.
    if ((area === 'event' || area === 'tracked_object_update') && limited) return canSeeCamera(p, payloadCamera(payload));
    if (area === 'bridge') return this.canReceiveBridge(p, a, payload);
    // A display's bundle carries media tokens of the kiosk that may open any camera it shows.
    if (area === 'display' && limited) return a.rest.join('/') !== 'layout/state';
    return true;
  }

  /**
   * `vigil/bridge/…` for users and keys: `state` to every role; `info` (every camera, the
   * config summary) to admins of every camera; `response/<op>` — errors to every role,
   * answers to those holding the op's role ({@link bridgeOpRole}) — and, for principals
   * limited to cameras, only when every camera the response names is theirs.
   */
  private canReceiveBridge(p: Principal, a: TopicArea, payload: Buffer): boolean {
    if (!hasRole(p, 'viewer')) return false;
    if (a.id === 'state' && a.rest.length === 0) return true;
    if (a.id !== 'response') return hasRole(p, 'admin') && p.cameras === null;
    let r: { status?: unknown; data?: unknown } | null;
    try { r = JSON.parse(payload.toString()) as typeof r; } catch { return false; }
    const op = a.rest.join('/');
    if (r?.status !== 'error' && !hasRole(p, bridgeOpRole(op))) return false;
    return p.cameras === null || this.responseCameras(op, r?.data).every((c) => canSeeCamera(p, c));
  }

  /** Cameras a response's `data` names: its `camera`, a camera operation's `name`, a refused command's `topic`. */
  private responseCameras(op: string, data: unknown): string[] {
    if (!data || typeof data !== 'object') return [];
    const d = data as { camera?: unknown; name?: unknown; topic?: unknown };
    const topicCamera = typeof d.topic === 'string' ? this.cameraNamed(d.topic) : undefined;
    return [
      ...(typeof d.camera === 'string' ? [d.camera] : []),
      ...(op.startsWith('camera/') && typeof d.name === 'string' ? [d.name] : []),
      ...(topicCamera ? [topicCamera] : []),
    ];
  }

  /**
   * The ACL of `p` as ordered pattern lines, for a broker that matches topics but reads no
   * payload and knows no Vigil state: Mosquitto's dynamic security plugin, which the hub
   * keeps in step (`dynsec-sync.ts`). Every line is a branch of {@link canPublish},
   * {@link canSubscribe} or {@link canReceive} above with the same {@link Topics} patterns
   * (`test/acl-export.test.ts` holds them to those methods topic by topic). Where those read
   * a payload or learnt state, the lines deliver less, never more:
   * - principals limited to cameras receive no `vigil/events` (its camera is in the payload;
   *   `vigil/camera/<cam>/<label>/event` carries theirs), nor `vigil/event/#`,
   *   `vigil/tracked_object_update`, `vigil/recorder/export/#`, `vigil/bridge/response/#`;
   * - other users and keys receive the answers of the bridge operations whose role they hold
   *   ({@link BRIDGE_OP_ROLES}), not the error answers of the others;
   * - `vigil/bridge/request/#` is published only by admins of every camera and `component`
   *   devices: through an external broker the hub runs every request as an admin, since it
   *   cannot tell who sent it (`hub/bridge/bridge.ts`);
   * - a subscription naming a camera the hub does not know (yet) is granted to a limited
   *   principal, and brings nothing (its receive lines name its own cameras only).
   *
   * Looser in two corners only: a payload the embedded broker drops as malformed (a
   * `vigil/events` message that is not JSON) is delivered, and `+` matches an empty
   * topic level (`vigil/camera//detect/set` is an operator's, a topic no camera has).
   * Internal principals (the hub's own account) get everything, bridge requests included.
   * @param known the hub's cameras and zones (read for principals limited to cameras only)
   * @throws Error when a device id or a display is not a valid topic segment
   */
  exportLines(p: Principal, known: KnownCameras): AclLine[] {
    const { t } = this;
    const s = t.sub;
    const lines: AclLine[] = [];
    const add = (access: AclLine['access'], allow: boolean, patterns: string[], literal = false): void => {
      for (const pattern of patterns) lines.push({ access, pattern, allow, ...(literal ? { literal } : {}) });
    };
    const pub = (allow: boolean, ...x: string[]) => add('publish', allow, x);
    const sub = (allow: boolean, ...x: string[]) => add('subscribe', allow, x);
    const recv = (allow: boolean, ...x: string[]) => add('receive', allow, x);
    /** Camera-named patterns, skipping names that are no topic segment. */
    const each = (cams: Iterable<string>, f: (c: string) => string[]): string[] => [...cams].flatMap((c) => { try { return f(c); } catch { return []; } });

    if (p.kind === 'internal') {
      pub(true, '#'); sub(true, '#'); recv(true, '#');
      return lines;
    }
    // `$`-topics (the broker's own, `$share/…`): nobody but the hub.
    pub(false, '$SYS/#', '$CONTROL/#');
    sub(false, '$SYS/#', '$CONTROL/#', '$share/#');
    recv(false, s.bridgeRequests());
    /** What devices other than `component` and `ha`, and anonymous clients, receive. */
    const deviceReceive = (cam?: string): void => {
      recv(false, s.discovery());
      if (cam) { recv(false, s.cameraConfigs()); recv(true, s.camera(cam)); }
      recv(false, s.area('camera'));
      recv(true, s.displays(), s.area('kiosk'), s.area('head'), t.hubAvailability());
      recv(false, s.all());
    };

    if (p.kind === 'anonymous') {
      sub(true, s.displays(), t.hubAvailability());
      deviceReceive();
    } else if (p.kind === 'device') {
      const id = p.id;
      switch (p.deviceKind) {
        case 'component':
          pub(false, s.discovery()); pub(true, '#');
          add('subscribe', false, ['#', '+/#'], true); // filters wide enough to take in discovery
          sub(false, s.discovery()); sub(true, '#');
          recv(false, s.discovery());
          break;
        case 'ha':
          pub(true, s.discovery(), s.cameraSets(), s.cameraPtzs(), s.cameraRelaySets(), t.eventTrigger(), s.displayLayoutSets(), s.allHeadStateSets());
          pub(false, s.bridgeRequests()); // run as an admin through an external broker; HA acts as an operator
          sub(true, s.discovery(), s.all());
          recv(false, s.cameraConfigs());
          break;
        case 'head':
          pub(true, s.head(id)); sub(true, s.head(id)); deviceReceive();
          break;
        case 'kiosk':
          pub(true, s.kiosk(id)); sub(true, ...(p.displays ?? []).map((d) => s.display(d)), s.kiosk(id), t.hubAvailability()); deviceReceive();
          break;
        case 'camera':
          pub(false, t.cameraConfig(id), s.cameraSetsOf(id)); pub(true, s.camera(id)); sub(true, s.camera(id)); deviceReceive(id);
          break;
        default:
          deviceReceive();
          break;
      }
    } else if (hasRole(p, 'viewer')) {
      const mine = p.cameras;
      const cams = mine ?? [];
      const others = mine ? known.cameras.filter((c) => !mine.includes(c)) : [];
      // Publish (canPublish): never discovery; admins all of vigil/# but configs and faces; operators commands.
      pub(false, s.discovery());
      if (hasRole(p, 'admin')) {
        pub(false, s.cameraConfigs(), s.faces());
        pub(mine === null, s.bridgeRequests());
        if (mine) {
          // Nothing under a camera it cannot see (cameraNamed: camera/<c>, recorder/<c>, onvif/<c> but `export`).
          pub(true, s.area('recorder', 'export'), s.area('onvif', 'export'), ...each(cams, (c) => [s.camera(c), s.area('recorder', c), s.area('onvif', c)]));
          pub(false, s.area('camera', '+'), s.area('recorder', '+'), s.area('onvif', '+'));
        }
        pub(true, s.all());
      } else if (hasRole(p, 'operator')) {
        if (mine === null) pub(true, s.cameraSets(), s.cameraPtzs(), s.cameraRelaySets(), s.allHeadStateSets());
        else {
          pub(true, ...each(cams, (c) => [s.cameraSetsOf(c), t.cameraPtz(c), s.cameraRelaySetsOf(c)]));
          const headPrefix = headCameraName('');
          pub(true, ...each(cams.filter((c) => c.startsWith(headPrefix)), (c) => [s.headStateSets(c.slice(headPrefix.length))]));
        }
        pub(true, t.eventTrigger(), s.displayLayoutSets());
        pub(false, s.bridgeRequests()); // run as an admin through an external broker
      } else {
        pub(false, s.bridgeRequests()); // run as an admin through an external broker
      }
      // Subscribe (canSubscribe): within vigil/#, naming no camera it cannot see.
      if (mine) {
        const named = (c: string): string[] => [s.camera(c), s.area('faces', 'unknown', c), ...(c === 'export' ? [] : [s.area('recorder', c), s.area('onvif', c)])];
        sub(true, ...each(cams, named));
        sub(false, ...each(others, named));
      }
      sub(true, s.all());
      // Receive (canReceive), area by area.
      recv(false, s.discovery(), s.cameraConfigs());
      if (mine) {
        recv(true, ...each(cams, (c) => [s.camera(c)]));
        recv(false, s.area('camera'));
        recv(false, s.area('events'), s.area('event'), s.area('tracked_object_update'), s.area('component'), s.displayLayoutStates());
        const zones = [...known.zones].filter(([, zc]) => zc.length > 0 && zc.every((c) => mine.includes(c))).map(([z]) => z);
        recv(true, ...each(zones, (z) => [s.area('zone', z)]));
        recv(false, s.area('zone'));
        recv(false, s.area('recorder', 'export'));
        recv(true, ...each(cams, (c) => [s.area('recorder', c), s.area('onvif', c), s.area('faces', 'unknown', c)]));
        recv(false, s.area('recorder'), s.area('onvif'), s.area('faces', 'unknown'));
        recv(true, t.bridgeState());
        recv(false, s.area('bridge'));
      } else {
        recv(true, t.bridgeState());
        if (hasRole(p, 'admin')) recv(true, s.area('bridge'));
        else {
          recv(true, ...Object.keys(BRIDGE_OP_ROLES).filter((op) => hasRole(p, bridgeOpRole(op))).map((op) => t.bridgeResponse(op)));
          recv(false, s.area('bridge'));
        }
      }
    }
    // Whatever no line above allowed: refused; received when subscribed (canReceive's default).
    pub(false, '#');
    sub(false, '#');
    recv(true, '#');
    return lines;
  }
}
