/**
 * The exported ACL (`Acl.exportLines`, what the hub writes into Mosquitto's dynamic
 * security plugin) against the ACL itself (`canPublish`, `canSubscribe`, `canReceive`,
 * what the embedded broker decides), topic by topic, for every kind of principal. The
 * exported lines are decided the plugin's way (`dynsecDecides`, a port of Mosquitto 2.0's
 * `acl.c` and `sub_matches_sub.c`, itself checked against the real broker in
 * `test/dynsec.test.ts`).
 *
 * Every disagreement must be one `exportLines` documents: stricter (a payload-filtered topic
 * refused to a limited principal, a bridge request or error answer, a subscription to a
 * camera the hub does not know, a delivery on `$CONTROL/…` that no subscription reaches), or
 * the hub's own account reading bridge requests (it runs them) and `$`-topics (it is the
 * plugin's admin). Nothing else — in particular nothing looser.
 */
import { describe, expect, it } from 'vitest';
import { Topics } from '../components/protocol/topics.ts';
import { Acl, type KnownCameras } from '../hub/broker/acl.ts';
import { dynsecDecides, subAclCheck, toDynsecAcls } from '../hub/broker/dynsec-acl.ts';
import type { DeviceKind, Principal, Role } from '../hub/auth/principal.ts';
import { BRIDGE_OP_ROLES } from '../hub/bridge/roles.ts';

const t = new Topics();
const acl = new Acl(t);
const CAMERAS = ['front', 'back', 'head_h1'];
const ZONES: Record<string, string[]> = { porch: ['front'], yard: ['back'], drive: ['front', 'back'] };
const known: KnownCameras = { cameras: CAMERAS, zones: new Map(Object.entries(ZONES)) };
const zoneCameras = (z: string) => ZONES[z] ?? [];

const user = (role: Role, cameras: string[] | null = null, kind: 'user' | 'apikey' = 'user'): Principal => ({ kind, id: `${kind}-${role}-${cameras?.join('+') ?? 'all'}`, name: 'x', role, cameras });
const device = (deviceKind: DeviceKind | 'toaster', id = 'd1', displays?: string[]): Principal => ({ kind: 'device', id, name: `device:${id}`, role: null, cameras: deviceKind === 'camera' ? [id] : null, deviceKind: deviceKind as DeviceKind, displays });
const PRINCIPALS: Record<string, Principal> = {
  admin: user('admin'), adminFront: user('admin', ['front']),
  operator: user('operator'), operatorFront: user('operator', ['front', 'head_h1']),
  viewer: user('viewer'), viewerFront: user('viewer', ['front']), keyReadBack: user('viewer', ['back'], 'apikey'),
  component: device('component'), ha: device('ha'), head: device('head', 'h1'), kiosk: device('kiosk', 'k1', ['hall']), camera: device('camera', 'front'),
  toaster: device('toaster'),
  internal: { kind: 'internal', id: 'hub', name: 'hub', role: 'admin', cameras: null },
};

/** Topics with the payloads the embedded broker looks into. */
function topicsWithPayloads(): Array<[string, Buffer]> {
  const out: Array<[string, string]> = [];
  for (const cam of [...CAMERAS, 'ghost']) {
    const c = JSON.stringify({ camera: cam });
    out.push(
      [t.cameraConfig(cam), '{}'], [t.cameraAvailability(cam), 'online'], [t.cameraState(cam), '{}'], [t.cameraMotion(cam), 'ON'], [t.cameraSnapshot(cam), 'jpeg'],
      [t.cameraFrame(cam), 'f'], [t.cameraLive(cam, 'main'), 'x'], [t.cameraLiveDemand(cam), '{}'], [t.cameraCount(cam, 'person'), '1'], [t.cameraActiveCount(cam, 'person'), '1'],
      [t.cameraLabelSnapshot(cam, 'person'), 'jpeg'], [t.cameraFeatureState(cam, 'detect'), 'ON'], [t.cameraFeatureSet(cam, 'detect'), 'OFF'], [t.cameraLabelEvent(cam, 'person'), '{}'],
      [t.cameraPtz(cam), 'STOP'], [t.cameraRelaySet(cam, 'r1'), 'ON'], [t.cameraRelayState(cam, 'r1'), 'ON'], [t.onvifEvent(cam), c], [t.recorderSegment(cam), c],
      [t.faceUnknown(cam, 'f1'), 'jpeg'], [t.events(), JSON.stringify({ type: 'new', after: { camera: cam } })], [t.trackedObjectUpdate(), c], [t.eventTrigger(), c],
      [t.recorderExport(`e-${cam}`), c], [t.bridgeResponse('export'), JSON.stringify({ status: 'ok', data: { camera: cam } })],
    );
  }
  for (const z of [...Object.keys(ZONES), 'nowhere']) out.push([t.zoneCount(z, 'person'), '1']);
  for (const op of [...Object.keys(BRIDGE_OP_ROLES), 'camera/remove', 'frobnicate']) {
    out.push([t.bridgeResponse(op), JSON.stringify({ status: 'ok', data: {} })], [t.bridgeResponse(op), JSON.stringify({ status: 'error', error: { code: 'x' } })], [t.bridgeRequest(op), '{}']);
  }
  out.push(
    [t.eventImage('ev1', 'snapshot'), 'jpeg'], [t.faceLibrary('ann', 'i1'), 'jpeg'], [t.faceDescriptor('ann', 'i1'), '{}'], [t.hubStats(), '{}'], [t.hubStorage(), '{}'], [t.hubAvailability(), 'online'],
    [t.componentAvailability('detector-1'), 'online'], [t.componentState('detector-1'), '{}'], [t.bridgeInfo(), '{}'], [t.bridgeState(), '{}'],
    [t.haDiscovery('sensor', 'vigil', 'x'), '{}'], [t.haStatus(), 'online'], ['$SYS/broker/uptime', '1'], ['$CONTROL/dynamic-security/v1', '{}'], ['other/topic', 'x'],
  );
  for (const d of ['hall', 'lobby']) out.push([t.displayLayoutSet(d), '{}'], [t.displayLayoutState(d), '{}'], [t.displayLayoutError(d), '{}']);
  for (const k of ['k1', 'k2']) out.push([t.kioskAvailability(k), 'online'], [t.kioskState(k), '{}']);
  for (const h of ['h1', 'h2']) out.push([t.headInfo(h), '{}'], [t.headAvailability(h), 'online'], [t.headState(h, 'light'), '1'], [t.headStateSet(h, 'light'), '1'], [t.headResponse(h), '{}']);
  return out.map(([topic, p]) => [topic, Buffer.from(p)]);
}

const FILTERS = [
  '#', '+/#', 'vigil/#', 'vigil/+/front/#', 'vigil/camera/#', 'vigil/camera/+/detect/state', 'vigil/camera/front/#', 'vigil/camera/back/#', 'vigil/camera/ghost/#',
  'vigil/camera/front', 'vigil/recorder/+/segment', 'vigil/recorder/back/segment', 'vigil/recorder/export/#', 'vigil/onvif/front/event', 'vigil/onvif/back/#',
  'vigil/faces/unknown/back/+', 'vigil/faces/unknown/+/+', 'vigil/zone/#', 'vigil/events', 'vigil/events/+/snapshot', 'homeassistant/#', 'homeassistant/status', '+/sensor/x/config',
  '$SYS/#', '$share/g/vigil/#', '$CONTROL/dynamic-security/v1/response', 'vigil/display/hall/#', 'vigil/display/#', 'vigil/kiosk/k1/#', 'vigil/kiosk/k2/#', 'vigil/head/h1/#',
  'vigil/head/+/info', 'vigil/hub/availability', 'vigil/bridge/#', 'vigil/bridge/response/#', 'other/#',
];

/** The disagreements `exportLines` documents, by principal, access and topic (and payload). */
function documented(name: string, p: Principal, access: string, topic: string, payload: Buffer | undefined, embedded: boolean, exported: boolean): boolean {
  const limited = p.kind !== 'internal' && p.kind !== 'device' && p.cameras !== null;
  const a = t.area(topic);
  // `$CONTROL/…` never falls through to Mosquitto's receive default; no subscription of these principals reaches it anyway.
  if (access === 'receive' && topic.startsWith('$CONTROL/') && !exported) return true;
  // The hub's own account runs bridge requests, and is the plugin's admin (`$CONTROL/…`, `$SYS/…`: from its admin role).
  if (name === 'internal') return exported && ((access === 'receive' && acl.isBridgeRequest(topic)) || (access === 'subscribe' && topic.startsWith('$')));
  if (exported) {
    // Looser only in the subscription to a camera the hub does not know (nothing arrives: receive lines name the principal's own cameras).
    return access === 'subscribe' && limited && topic.includes('ghost');
  }
  if (access === 'publish') return a?.area === 'bridge' && a.id === 'request' && !(p.kind !== 'device' && p.role === 'admin' && !limited);
  if (access !== 'receive') return false;
  if (limited && (a?.area === 'events' || a?.area === 'event' || a?.area === 'tracked_object_update' || (a?.area === 'recorder' && a.id === 'export') || (a?.area === 'bridge' && a.id === 'response'))) return true;
  // Error answers (and answers of unknown operations) to those without the operation's role.
  return a?.area === 'bridge' && a.id === 'response' && embedded && (JSON.parse(payload!.toString()) as { status: string }).status === 'error';
}

describe('exported ACL lines decided the plugin\'s way = the ACL', () => {
  const corpus = topicsWithPayloads();
  for (const [name, p] of Object.entries(PRINCIPALS)) {
    it(name, () => {
      const acls = toDynsecAcls(acl.exportLines(p, known));
      const surprises: string[] = [];
      const documentedOnes: string[] = [];
      const check = (access: 'publish' | 'subscribe' | 'receive', topic: string, embedded: boolean, payload?: Buffer) => {
        const exported = dynsecDecides(acls, access, topic);
        if (exported === embedded) return;
        const line = `${access} ${topic}${payload ? ` ${payload.toString().slice(0, 40)}` : ''}: embedded ${embedded}, exported ${exported}`;
        (documented(name, p, access, topic, payload, embedded, exported) ? documentedOnes : surprises).push(line);
      };
      for (const [topic, payload] of corpus) {
        check('publish', topic, acl.canPublish(p, topic));
        check('receive', topic, acl.canReceive(p, topic, payload, zoneCameras), payload);
        check('subscribe', topic, acl.canSubscribe(p, topic));
      }
      for (const f of FILTERS) check('subscribe', f, acl.canSubscribe(p, f));
      expect(surprises).toEqual([]);
      // Each principal's documented differences, for the record (and so a change in them is seen).
      expect(documentedOnes.length).toBeGreaterThanOrEqual(0);
    });
  }

  it('a viewer limited to one camera: only that camera\'s topics, and subscriptions naming another known camera refused', () => {
    const acls = toDynsecAcls(acl.exportLines(PRINCIPALS.viewerFront!, known));
    expect(dynsecDecides(acls, 'subscribe', 'vigil/camera/back/#')).toBe(false);
    expect(dynsecDecides(acls, 'subscribe', 'vigil/camera/+/state')).toBe(true);
    expect(dynsecDecides(acls, 'receive', 'vigil/camera/front/state')).toBe(true);
    expect(dynsecDecides(acls, 'receive', 'vigil/camera/back/state')).toBe(false);
    expect(dynsecDecides(acls, 'receive', 'vigil/zone/porch/person')).toBe(true);
    expect(dynsecDecides(acls, 'receive', 'vigil/zone/drive/person')).toBe(false);
    expect(dynsecDecides(acls, 'receive', 'vigil/camera/front/config')).toBe(false);
  });
});

describe('subAclCheck (Mosquitto 2.0 sub_matches_sub.c)', () => {
  it.each([
    ['#', '$SYS/#', true], ['vigil/#', 'vigil/camera/+/state', true], ['vigil/camera/front/#', 'vigil/camera/+/state', false],
    ['vigil/camera/+/#', 'vigil/camera/front/state', true], ['vigil/camera/+/#', 'vigil/camera/+/state', true], ['vigil/camera/front/#', 'vigil/camera/front', true],
    ['vigil/camera/#', 'vigil/#', false], ['vigil/+', 'vigil/#', false], ['+/#', 'vigil/#', true], ['a/b', 'a/b/c', false], ['a/+/c', 'a/b/c', true],
  ])('%s ⊇ %s: %s', (a, s, want) => expect(subAclCheck(a, s)).toBe(want));
});
