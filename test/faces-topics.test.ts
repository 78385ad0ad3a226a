/**
 * The known-faces topics (`components/protocol/topics.ts`), their names and messages
 * (`components/protocol/faces.ts`), and the broker's ACL for them (`hub/broker/acl.ts`):
 * the hub and detectors own `vigil/faces/#`; readers get the library, and unknown faces
 * only of cameras they see.
 */
import { describe, expect, it } from 'vitest';
import { Topics } from '../components/protocol/topics.ts';
import { faceDescriptorMessage, faceImageId, faceName, unknownFaceId } from '../components/protocol/faces.ts';
import { Acl } from '../hub/broker/acl.ts';
import type { DeviceKind, Principal, Role } from '../hub/auth/principal.ts';

const t = new Topics('cams');
const acl = new Acl(new Topics());
const user = (role: Role, cameras: string[] | null = null): Principal => ({ kind: 'user', id: role, name: role, role, cameras });
const device = (deviceKind: DeviceKind, id = 'd1'): Principal => ({ kind: 'device', id, name: id, role: null, cameras: null, deviceKind });
const none = () => [];
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);

describe('face topics', () => {
  it('builds, parses and refuses wildcards', () => {
    expect(t.faceLibrary('alice', 'abc123')).toBe('cams/faces/library/alice/abc123');
    expect(t.faceDescriptor('alice', 'abc123')).toBe('cams/faces/descriptor/alice/abc123');
    expect(t.faceUnknown('door', '1700000000000-deadbeef')).toBe('cams/faces/unknown/door/1700000000000-deadbeef');
    expect([t.sub.faces(), t.sub.faceLibrary(), t.sub.faceDescriptors(), t.sub.faceUnknowns()])
      .toEqual(['cams/faces/#', 'cams/faces/library/+/+', 'cams/faces/descriptor/+/+', 'cams/faces/unknown/+/+']);
    expect(t.parse(t.faceLibrary('alice', 'abc123'))).toEqual({ kind: 'face.library', name: 'alice', id: 'abc123' });
    expect(t.parse(t.faceDescriptor('alice', 'abc123'))).toEqual({ kind: 'face.descriptor', name: 'alice', id: 'abc123' });
    expect(t.parse(t.faceUnknown('door', '1700000000000-deadbeef'))).toEqual({ kind: 'face.unknown', camera: 'door', id: '1700000000000-deadbeef' });
    for (const bad of ['cams/faces/library/alice', 'cams/faces/other/a/b', 'cams/faces/library//x', 'cams/faces/unknown/door/x/y']) expect(t.parse(bad), bad).toBeNull();
    expect(() => t.faceLibrary('a/b', 'x')).toThrow(/face name/);
    expect(() => t.faceUnknown('+', 'x')).toThrow(/camera/);
    expect(t.area(t.faceUnknown('door', 'x'))).toEqual({ area: 'faces', id: 'unknown', rest: ['door', 'x'] });
  });

  it('names, ids and descriptor messages are checked', () => {
    for (const ok of ['alice', 'bob-2', 'a_b', '0']) expect(faceName.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['Alice', 'a b', '-a', '', 'unknown', 'a/b', 'a+', 'x'.repeat(65)]) expect(faceName.safeParse(bad).success, bad).toBe(false);
    expect(faceImageId.safeParse('mbc1x2a3f4').success).toBe(true);
    expect(faceImageId.safeParse('ABC123').success).toBe(false);
    expect(unknownFaceId.safeParse('1700000000000-deadbeef').success).toBe(true);
    expect(unknownFaceId.safeParse('1700000000-deadbeef').success).toBe(false);
    const base = { model: 'm', sha256: 'a'.repeat(64), detector: 'd', time: 1 };
    expect(faceDescriptorMessage.safeParse({ ...base, ok: true, descriptor: [0.1, 0.2] }).success).toBe(true);
    expect(faceDescriptorMessage.safeParse({ ...base, ok: false, error: 'why' }).success).toBe(false);
    expect(faceDescriptorMessage.safeParse({ ...base, sha256: 'x', ok: true }).success).toBe(false);
  });
});

describe('face topics in the ACL', () => {
  const lib = 'vigil/faces/library/alice/abc123';
  const desc = 'vigil/faces/descriptor/alice/abc123';
  const unk = 'vigil/faces/unknown/front/1700000000000-deadbeef';

  it('only the hub (internal) and component devices publish under vigil/faces/', () => {
    for (const topic of [lib, desc, unk]) {
      expect(acl.canPublish({ kind: 'internal', id: 'hub', name: 'hub', role: null, cameras: null }, topic), topic).toBe(true);
      expect(acl.canPublish(device('component'), topic), topic).toBe(true);
      for (const p of [user('admin'), user('operator'), user('viewer'), device('camera', 'front'), device('ha'), device('kiosk')]) {
        expect(acl.canPublish(p, topic), `${p.role ?? p.deviceKind} ${topic}`).toBe(false);
      }
    }
  });

  it('viewers read the library and unknown faces of their cameras only', () => {
    const all = user('viewer');
    const front = user('viewer', ['front']);
    const back = user('viewer', ['back']);
    for (const p of [all, front, back]) {
      expect(acl.canSubscribe(p, 'vigil/faces/#')).toBe(true);
      expect(acl.canReceive(p, lib, jpeg, none)).toBe(true);
      expect(acl.canReceive(p, desc, Buffer.from('{}'), none)).toBe(true);
    }
    expect(acl.canReceive(all, unk, jpeg, none)).toBe(true);
    expect(acl.canReceive(front, unk, jpeg, none)).toBe(true);
    expect(acl.canReceive(back, unk, jpeg, none)).toBe(false);
    // A filter naming another camera's unknown faces is refused outright.
    expect(acl.canSubscribe(back, 'vigil/faces/unknown/front/#')).toBe(false);
    expect(acl.canSubscribe(back, 'vigil/faces/unknown/back/#')).toBe(true);
    expect(acl.canSubscribe(back, 'vigil/faces/unknown/+/+')).toBe(true);
  });

  it('kiosks, heads and camera devices receive nothing of it', () => {
    for (const p of [device('kiosk'), device('head'), device('camera', 'front')]) {
      for (const topic of [lib, desc, unk]) expect(acl.canReceive(p, topic, jpeg, none), `${p.deviceKind} ${topic}`).toBe(false);
    }
  });
});
