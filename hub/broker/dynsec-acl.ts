/**
 * The exported ACL ({@link Acl.exportLines}) in the form of Mosquitto 2's dynamic security
 * plugin, and the plugin's own way of deciding with it — so what the hub writes can be held
 * to what the embedded broker decides without a broker (`test/acl-export.test.ts`).
 *
 * Mosquitto 2.0 (`plugins/dynamic-security/acl.c`, `sub_matches_sub.c`): a role keeps one
 * list per ACL type, each sorted by priority, highest first; the first ACL that matches
 * decides. Publishes (`publishClientSend`) and deliveries (`publishClientReceive`, checked
 * for every message sent to a client) match the topic as a subscription matches it
 * (`mosquitto_topic_matches_sub`); subscriptions are checked against `subscribeLiteral`
 * ACLs first (the filter exactly), then `subscribePattern` ones (the filter within the
 * pattern, a `+` in the filter matched only by `+` or `#`). Nothing matching: the broker's
 * `defaultACLAccess` decides (deny for publish and subscribe, allow for receive and
 * unsubscribe, unless changed).
 */
import { topicMatches } from '../../components/protocol/topics.ts';
import type { AclLine } from './acl.ts';

/** The plugin's ACL types (`README.md` of the plugin). */
export type DynsecAclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern';

/** One ACL of a dynamic-security role, as `createRole` / `modifyRole` / `listRoles` carry it. */
export interface DynsecAcl { acltype: DynsecAclType; topic: string; priority: number; allow: boolean }

/** Default ACL access of the plugin when it is initialised (`mosquitto_ctrl dynsec init`). */
export const DYNSEC_DEFAULTS = { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true } as const;

/**
 * The role ACLs of exported lines: each line's priority is its rank from the end (first
 * line highest), so the plugin's per-type priority order is the lines' order; an
 * `unsubscribePattern #` allow closes the list, so unsubscribing never depends on the
 * broker's defaults.
 */
export function toDynsecAcls(lines: readonly AclLine[]): DynsecAcl[] {
  const n = lines.length;
  const acls = lines.map((l, i): DynsecAcl => ({
    acltype: l.access === 'publish' ? 'publishClientSend' : l.access === 'receive' ? 'publishClientReceive' : l.literal ? 'subscribeLiteral' : 'subscribePattern',
    topic: l.pattern,
    priority: n - i,
    allow: l.allow,
  }));
  acls.push({ acltype: 'unsubscribePattern', topic: '#', priority: 0, allow: true });
  return acls;
}

/** True when both lists hold the same ACLs (type, topic, priority, allow), in any order. */
export function sameAcls(a: readonly DynsecAcl[], b: readonly DynsecAcl[]): boolean {
  const key = (x: DynsecAcl) => `${x.acltype}\u0000${x.topic}\u0000${x.priority}\u0000${x.allow}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * Is subscription filter `sub` within ACL pattern `acl`? Mosquitto 2.0's `sub_acl_check`
 * (`plugins/dynamic-security/sub_matches_sub.c`), level by level.
 */
export function subAclCheck(acl: string, sub: string): boolean {
  if (acl === '#') return true;
  const strip = (x: string): [string, boolean] => (x === '#' ? ['', true] : x.endsWith('/#') ? [x.slice(0, -2), true] : [x, false]);
  const [a, aHash] = strip(acl);
  const [s, sHash] = strip(sub);
  if (sHash && !aHash) return false;
  const al = a.split('/');
  const sl = s.split('/');
  if (al.length > sl.length) return false;
  if (sl.length > al.length && !aHash) return false;
  return sl.every((tok, i) => (i < al.length ? al[i] === '+' || al[i] === tok : aHash));
}

/**
 * What the plugin decides for one role's ACLs, as `acl.c` does: the first ACL of the
 * type, by priority, that matches.
 * @param access `publish` (a topic), `receive` (a topic) or `subscribe` (a filter)
 * @param defaults the broker's `defaultACLAccess`, for what no ACL matches
 */
export function dynsecDecides(acls: readonly DynsecAcl[], access: AclLine['access'], topicOrFilter: string, defaults: { publishClientSend: boolean; publishClientReceive: boolean; subscribe: boolean } = DYNSEC_DEFAULTS): boolean {
  const byPriority = (type: DynsecAclType) => acls.filter((a) => a.acltype === type).sort((x, y) => y.priority - x.priority);
  if (access === 'subscribe') {
    const lit = byPriority('subscribeLiteral').find((a) => a.topic === topicOrFilter);
    if (lit) return lit.allow;
    const pat = byPriority('subscribePattern').find((a) => subAclCheck(a.topic, topicOrFilter));
    return pat ? pat.allow : defaults.subscribe;
  }
  const type = access === 'publish' ? 'publishClientSend' : 'publishClientReceive';
  const hit = byPriority(type).find((a) => topicMatches(a.topic, topicOrFilter));
  if (hit) return hit.allow;
  // `$CONTROL/…` never falls through to the defaults (acl.c).
  return topicOrFilter.startsWith('$CONTROL') ? false : defaults[type];
}
