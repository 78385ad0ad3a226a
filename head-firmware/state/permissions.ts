/**
 * Who may read and write which key of the head's state: roles → permissions, and the
 * checks the store and the APIs use. After the C Pro seed's "9 permission types with
 * role-based access" (`permissionRead` / `permissionWrite` sets per observable).
 */
import { PERMISSIONS, ROLES, type KeySpec, type Permission, type Principal, type Role } from './types.ts';

/**
 * What each role holds.
 * - `viewer`: every `_r` (sees everything but the user list, changes nothing);
 * - `operator`: every `_r` plus `camera_rw`, `light_rw`, `recording_rw` (drives the head,
 *   not its system, network or users);
 * - `admin`: all nine.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = Object.freeze({
  viewer: Object.freeze(['system_r', 'camera_r', 'light_r', 'recording_r'] as Permission[]),
  operator: Object.freeze(['system_r', 'camera_r', 'light_r', 'recording_r', 'camera_rw', 'light_rw', 'recording_rw'] as Permission[]),
  admin: Object.freeze([...PERMISSIONS]),
});

const NONE: readonly Permission[] = Object.freeze([]);

/**
 * The permissions a principal holds: `system` (the head itself) holds all nine, a user or
 * an MQTT client those of its role. A principal of an unknown kind or role (bad input from
 * an API) holds none — never throws.
 */
export function principalPermissions(p: Principal): readonly Permission[] {
  if (!p || typeof p !== 'object') return NONE;
  if (p.kind === 'system') return PERMISSIONS;
  if ((p.kind === 'user' || p.kind === 'mqtt') && (ROLES as readonly string[]).includes(p.role)) return ROLE_PERMISSIONS[p.role];
  return NONE;
}

/** Whether `held` grants `wanted`: held directly, or `wanted` is an `_r` whose `_rw` is held. */
function grants(held: readonly Permission[], wanted: Permission): boolean {
  if (held.includes(wanted)) return true;
  return wanted.endsWith('_r') && held.includes(`${wanted}w` as Permission);
}

/** Whether `p` may read the key of `spec`: `system` always; others when they hold one of `spec.read` (a `_rw` implies its `_r`). */
export function canRead(p: Principal, spec: Pick<KeySpec, 'read'>): boolean {
  if (p?.kind === 'system') return true;
  const held = principalPermissions(p);
  return spec.read.some((w) => grants(held, w));
}

/** Whether `p` may write the key of `spec`: `system` always; others when they hold one of `spec.write` (never for a read-only key, `write: []`). */
export function canWrite(p: Principal, spec: Pick<KeySpec, 'write'>): boolean {
  if (p?.kind === 'system') return true;
  const held = principalPermissions(p);
  return spec.write.some((w) => held.includes(w));
}
