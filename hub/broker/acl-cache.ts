/**
 * Remembered ACL decisions for the embedded broker's per-message hooks.
 *
 * A CPU profile of the hub under `bench/broker.ts` showed the ACL's topic splitting
 * ({@link Topics.area}, `filterWithin`, {@link Topics.parse}) at ~13 % of the broker's
 * busy time: every PUBLISH re-derived `canPublish` and `isBridgeRequest`, every delivery
 * `canReceive`, although the answers depend on nothing but the principal and the topic.
 * This module keeps those answers:
 *
 * - {@link AclDecisions.canPublish}: per principal and topic ({@link Acl.canPublish} is a
 *   pure function of both and of the topic layout);
 * - {@link AclDecisions.canReceive}: per principal and topic for principals whose
 *   {@link Acl.canReceive} answer reads neither the payload nor the learnt zones — the
 *   hub's own components (`internal`), devices and anonymous clients; users and API keys
 *   (viewer, operator, admin; their answer may depend on the payload: an event's camera, a
 *   bridge response's status) are asked every time;
 * - {@link AclDecisions.isBridgeRequest}: per topic.
 *
 * Principals are immutable and made per connection, so a principal's decisions go with
 * it (a `WeakMap` keyed by the principal object). Each table holds at most
 * `maxTopics` topics and is emptied when full (a client publishing to endless distinct
 * topics costs memory no longer than that). A change of the Home Assistant discovery
 * prefix ({@link Topics.setDiscoveryPrefix}, applied live) forgets everything.
 */
import type { Topics } from '../../components/protocol/topics.ts';
import type { Principal } from '../auth/principal.ts';
import type { Acl } from './acl.ts';

/** Default largest number of topics remembered per table. */
export const DEFAULT_MAX_TOPICS = 4096;

/** True when {@link Acl.canReceive}'s answer for `p` depends on the topic alone (see the module comment). */
export function receiveIsTopicOnly(p: Principal): boolean {
  return p.kind === 'internal' || p.kind === 'device' || p.kind === 'anonymous';
}

/** The decisions of one {@link Acl}, remembered. */
export class AclDecisions {
  private publish = new WeakMap<Principal, Map<string, boolean>>();
  private receive = new WeakMap<Principal, Map<string, boolean>>();
  private readonly bridge = new Map<string, boolean>();
  private discoveryPrefix: string;

  /**
   * @param acl the rules
   * @param topics the layout `acl` was made with (its discovery prefix is watched)
   * @param maxTopics most topics per table (per principal, or for bridge requests); ≥ 1
   */
  constructor(private readonly acl: Acl, private readonly topics: Topics, private readonly maxTopics = DEFAULT_MAX_TOPICS) {
    this.discoveryPrefix = topics.discoveryPrefix;
  }

  /** {@link Acl.canPublish}, remembered per principal and topic. */
  canPublish(p: Principal, topic: string): boolean {
    this.checkLayout();
    const m = this.table(this.publish, p);
    let v = m.get(topic);
    if (v === undefined) {
      v = this.acl.canPublish(p, topic);
      this.remember(m, topic, v);
    }
    return v;
  }

  /**
   * {@link Acl.canReceive}: remembered per principal and topic when {@link receiveIsTopicOnly},
   * else asked every time with the payload and the zones.
   */
  canReceive(p: Principal, topic: string, payload: Buffer, zoneCameras: (zone: string) => string[]): boolean {
    if (!receiveIsTopicOnly(p)) return this.acl.canReceive(p, topic, payload, zoneCameras);
    this.checkLayout();
    const m = this.table(this.receive, p);
    let v = m.get(topic);
    if (v === undefined) {
      v = this.acl.canReceive(p, topic, payload, zoneCameras);
      this.remember(m, topic, v);
    }
    return v;
  }

  /** {@link Acl.isBridgeRequest}, remembered per topic. */
  isBridgeRequest(topic: string): boolean {
    this.checkLayout();
    let v = this.bridge.get(topic);
    if (v === undefined) {
      v = this.acl.isBridgeRequest(topic);
      this.remember(this.bridge, topic, v);
    }
    return v;
  }

  /** Forgets every decision (the next ones are asked of the {@link Acl} again). */
  clear(): void {
    this.publish = new WeakMap();
    this.receive = new WeakMap();
    this.bridge.clear();
  }

  private checkLayout(): void {
    if (this.topics.discoveryPrefix === this.discoveryPrefix) return;
    this.discoveryPrefix = this.topics.discoveryPrefix;
    this.clear();
  }

  private table(tables: WeakMap<Principal, Map<string, boolean>>, p: Principal): Map<string, boolean> {
    let m = tables.get(p);
    if (!m) {
      m = new Map();
      tables.set(p, m);
    }
    return m;
  }

  private remember(m: Map<string, boolean>, topic: string, v: boolean): void {
    if (m.size >= this.maxTopics) m.clear();
    m.set(topic, v);
  }
}
