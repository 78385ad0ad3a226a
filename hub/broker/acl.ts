/**
 * The MQTT ACL as pure functions of a {@link Principal} and a topic or filter.
 *
 * | principal | publish | subscribe |
 * |---|---|---|
 * | internal (the hub's own components) | all | all |
 * | device `component` (a camera/detector process elsewhere) | all but `homeassistant/#` | all but `homeassistant/#` |
 * | device `ha` (the Home Assistant integration) | `homeassistant/#`, `…/set`, `vigil/event/trigger` | `homeassistant/#`, `vigil/#` |
 * | device `head` `<id>` | `vigil/head/<id>/#` | `vigil/head/<id>/#` |
 * | device `kiosk` `<id>` | `vigil/kiosk/<id>/#` | its displays' `vigil/display/<d>/#`, `vigil/kiosk/<id>/#`, hub availability |
 * | device `camera` `<id>` | `vigil/camera/<id>/#` but `config` and `…/set` | `vigil/camera/<id>/#` |
 * | admin (user or key) | `vigil/#` but `vigil/camera/+/config` | `vigil/#` |
 * | operator | `vigil/camera/<granted>/+/set`, `vigil/event/trigger`, `vigil/display/+/layout/set` | `vigil/#` |
 * | viewer | nothing | `vigil/#` |
 * | anonymous (only if allowed, only from loopback) | nothing | `vigil/display/#`, hub availability |
 *
 * `homeassistant/#` belongs to the HA integration device only. Users limited to some
 * cameras may not subscribe to a filter naming another camera, and what they receive
 * through wildcards is filtered per message ({@link canReceive}).
 */
import { canSeeCamera, hasRole, type Principal } from '../auth/principal.ts';

/** True when every topic matched by `filter` is matched by ACL `pattern` (both may hold `+`/`#`). */
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
  return f.length === p.length;
}

const any = (x: string, patterns: string[]) => patterns.some((p) => filterWithin(x, p));

export class Acl {
  constructor(private readonly prefix: string) {}

  /** May `p` publish to `topic`? */
  canPublish(p: Principal, topic: string): boolean {
    const v = this.prefix;
    if (topic.startsWith('$')) return false;
    if (p.kind === 'internal') return true;
    if (p.kind === 'device') {
      const id = p.id;
      switch (p.deviceKind) {
        case 'component': return !any(topic, ['homeassistant/#']);
        case 'ha': return any(topic, ['homeassistant/#', `${v}/camera/+/+/set`, `${v}/event/trigger`]);
        case 'head': return any(topic, [`${v}/head/${id}/#`]);
        case 'kiosk': return any(topic, [`${v}/kiosk/${id}/#`]);
        case 'camera': return any(topic, [`${v}/camera/${id}/#`]) && !any(topic, [`${v}/camera/${id}/config`, `${v}/camera/${id}/+/set`]);
        default: return false;
      }
    }
    if (any(topic, ['homeassistant/#'])) return false;
    if (hasRole(p, 'admin')) return any(topic, [`${v}/#`]) && !any(topic, [`${v}/camera/+/config`]);
    if (hasRole(p, 'operator')) {
      const set = /^[^/]+\/camera\/([^/]+)\/[^/]+\/set$/.exec(topic);
      if (set && topic.startsWith(`${v}/`)) return canSeeCamera(p, set[1]!);
      return any(topic, [`${v}/event/trigger`, `${v}/display/+/layout/set`]);
    }
    return false;
  }

  /** May `p` subscribe to `filter`? */
  canSubscribe(p: Principal, filter: string): boolean {
    const v = this.prefix;
    if (filter.startsWith('$')) return false;
    if (p.kind === 'internal') return true;
    if (p.kind === 'anonymous') return any(filter, [`${v}/display/#`, `${v}/hub/availability`]);
    if (p.kind === 'device') {
      const id = p.id;
      switch (p.deviceKind) {
        case 'component': return !filterWithin('homeassistant/#', filter) && !any(filter, ['homeassistant/#']);
        case 'ha': return any(filter, ['homeassistant/#', `${v}/#`]);
        case 'head': return any(filter, [`${v}/head/${id}/#`]);
        case 'kiosk': return any(filter, [...(p.displays ?? []).map((d) => `${v}/display/${d}/#`), `${v}/kiosk/${id}/#`, `${v}/hub/availability`]);
        case 'camera': return any(filter, [`${v}/camera/${id}/#`]);
        default: return false;
      }
    }
    if (!hasRole(p, 'viewer') || !any(filter, [`${v}/#`])) return false;
    const cam = /^[^/]+\/camera\/([^/+#]+)(\/|$)/.exec(filter);
    return !cam || canSeeCamera(p, cam[1]!);
  }

  /**
   * Per-message filter for what `p` receives (aedes `authorizeForward`): camera topics
   * of cameras it cannot see, events of such cameras, zone counts touching them, camera
   * configs (credentials, sealed), event images and component internals for limited
   * principals, and bridge traffic for non-admins are dropped.
   * @param zoneCameras zone → cameras that define it.
   */
  canReceive(p: Principal, topic: string, payload: Buffer, zoneCameras: (zone: string) => string[]): boolean {
    const v = this.prefix;
    // homeassistant/… reaches only the HA integration, whatever wildcard matched it (`+/sensor/#`…).
    if (topic.startsWith('homeassistant/')) return p.kind === 'internal' || (p.kind === 'device' && p.deviceKind === 'ha');
    if (p.kind === 'internal' || (p.kind === 'device' && (p.deviceKind === 'component'))) return true;
    const parts = topic.split('/');
    if (parts[0] !== v) return true; // homeassistant/… was authorized at subscribe time
    const kind = parts[1];
    if (kind === 'camera') {
      if (parts[3] === 'config') return false;
      return p.kind === 'device' ? p.deviceKind === 'ha' || (p.deviceKind === 'camera' && parts[2] === p.id) : canSeeCamera(p, parts[2]!);
    }
    if (p.kind === 'device' && p.deviceKind === 'ha') return true;
    if (p.kind === 'device' || p.kind === 'anonymous') return kind === 'display' || kind === 'kiosk' || kind === 'head' || (kind === 'hub' && parts[2] === 'availability');
    const limited = p.cameras !== null;
    if (kind === 'events') {
      if (parts.length > 2) return !limited; // vigil/events/<id>/snapshot|crop carry no camera
      try { return canSeeCamera(p, String((JSON.parse(payload.toString()) as { after?: { camera?: unknown } }).after?.camera)); } catch { return false; }
    }
    if (kind === 'zone') {
      const cams = zoneCameras(parts[2] ?? '');
      return cams.length > 0 ? cams.every((c) => canSeeCamera(p, c)) : !limited;
    }
    if (kind === 'component') return !limited;
    if (kind === 'bridge') return hasRole(p, 'admin');
    return true;
  }
}
