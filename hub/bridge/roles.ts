/**
 * Who may run which management operation over `vigil/bridge/request/<op>`, and so who
 * may read its answers: one table for the bridge's handler (`operations.ts`) and the
 * broker's per-message filter of `vigil/bridge/response/<op>` (`hub/broker/acl.ts`).
 *
 * The roles are those of the REST twins: camera CRUD and the config are for admins;
 * layouts, synthetic events and exports for operators (within their cameras); health for
 * every role. `set`, `ptz` and `relay` are not bridge operations but the answers to
 * refused `…/set`, `…/ptz` and `…/relay/+/set` commands, which operators send.
 *
 * Devices have no role: the Home Assistant device acts as an operator of every camera
 * (what its ACL already lets it do on `…/set` and `…/layout/set`), a `component` device
 * (Vigil's own processes and the embedded Node-RED) as an admin, like the hub's own clients.
 */
import type { Principal, Role } from '../auth/principal.ts';

/** Role needed by each operation (and to receive its successful answers). */
export const BRIDGE_OP_ROLES: Readonly<Record<string, Role>> = {
  'camera/add': 'admin',
  'camera/update': 'admin',
  'camera/remove': 'admin',
  'config/get': 'admin',
  'layout/activate': 'operator',
  'event/trigger': 'operator',
  export: 'operator',
  health: 'viewer',
  set: 'operator',
  ptz: 'operator',
  relay: 'operator',
};

/** The role `op` needs; `admin` for operations not in {@link BRIDGE_OP_ROLES}. */
export function bridgeOpRole(op: string): Role {
  return Object.hasOwn(BRIDGE_OP_ROLES, op) ? BRIDGE_OP_ROLES[op]! : 'admin';
}

/**
 * The principal a bridge request runs as: users, API keys and the hub's own clients as
 * they are; the `ha` device as an operator and a `component` device as an admin, both of
 * every camera; other devices and anonymous clients keep no role (every operation is
 * refused).
 */
export function actingPrincipal(p: Principal): Principal {
  if (p.kind !== 'device') return p;
  if (p.deviceKind === 'ha') return { ...p, role: 'operator', cameras: null };
  if (p.deviceKind === 'component') return { ...p, role: 'admin', cameras: null };
  return p;
}
