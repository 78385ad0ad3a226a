/**
 * Who is asking, and what they may do — one model for REST, MQTT and media.
 *
 * Roles (Frigate's admin/viewer plus an operator between them):
 * - `viewer`: reads its cameras' data (lists, events, snapshots, live, MQTT state);
 * - `operator`: a viewer that also controls cameras (`…/set`, feature changes);
 * - `admin`: everything, including users, keys, devices, cameras and the rules editor.
 * API keys map scopes to roles: `read` → viewer, `control` → operator, `admin` → admin.
 * `cameras` limits a principal to those cameras everywhere (null = all cameras).
 */

export type Role = 'admin' | 'operator' | 'viewer';
export type ApiScope = 'read' | 'control' | 'admin';
export type DeviceKind = 'camera' | 'kiosk' | 'head' | 'component' | 'ha';

export interface Principal {
  kind: 'user' | 'apikey' | 'device' | 'internal' | 'anonymous';
  /** Stable id (user id, key id, device id). */
  id: string;
  /** Human name for logs and the activity log (username, key name, device id). */
  name: string;
  /** Null for devices and anonymous clients: they have their own ACL by kind. */
  role: Role | null;
  /** Granted cameras; null = all. */
  cameras: string[] | null;
  deviceKind?: DeviceKind;
  /** Displays a kiosk device may read. */
  displays?: string[];
  /** Session id, for cookie/bearer sessions (logout revokes it). */
  sessionId?: string;
  /** True when authenticated by a session cookie (CSRF applies). */
  viaCookie?: boolean;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** The role an API key scope grants. */
export const scopeRole = (s: ApiScope): Role => (s === 'read' ? 'viewer' : s === 'control' ? 'operator' : 'admin');

/** True when `p` has at least `role`. Internal principals have every role. */
export function hasRole(p: Principal | undefined, role: Role): boolean {
  if (!p) return false;
  if (p.kind === 'internal') return true;
  return p.role !== null && RANK[p.role] >= RANK[role];
}

/** True when `p` may see `camera`. */
export function canSeeCamera(p: Principal | undefined, camera: string): boolean {
  if (!p) return false;
  if (p.kind === 'internal') return true;
  if (p.role === null) return false;
  return p.cameras === null || p.cameras.includes(camera);
}

/**
 * The cameras a list query of `p` may cover: `requested` cut down to `p`'s grants.
 * Shapes: `null` = every camera (no filter); `string[]` = only those (`[]` = none, the
 * list is empty).
 *
 * - internal principals, or grants of every camera (`cameras: null`): `requested ?? null`;
 * - a principal limited to some cameras: `requested ∩ granted` when cameras were asked
 *   for, else the granted cameras;
 * - a non-internal principal without a role (devices, anonymous): `[]`, as {@link canSeeCamera}.
 * @param requested the cameras asked for (e.g. `?camera=a,b`); undefined = all
 */
export function visibleCameras(p: Principal, requested?: string[]): string[] | null {
  if (p.kind === 'internal') return requested ?? null;
  if (p.role === null) return [];
  const granted = p.cameras;
  if (!granted) return requested ?? null;
  return requested ? requested.filter((c) => granted.includes(c)) : granted;
}
