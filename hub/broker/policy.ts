/**
 * Broker policy: every authentication and ACL decision of the embedded broker, in one
 * module, as aedes hooks (`preConnect`, `authenticate`, `authorizePublish`,
 * `authorizeSubscribe`, `authorizeForward`; aedes `aedes.js`). The rules themselves are in
 * `acl.ts`. Refusals answer as Mosquitto 2 does (MQTT 3.1.1): a zero-length client id with
 * clean session 0 gets CONNACK 0x02; a refused PUBLISH is acknowledged and dropped (the
 * connection stays); a refused subscription gets 0x80 in its SUBACK. Each is logged once
 * per client and reason per window (`refusal-log.ts`).
 *
 * Every client authenticates (Mosquitto 2's default): users (username + password),
 * API keys (any username, the key as password), device credentials (device id +
 * `vgd_…`), and Vigil's own components with an internal credential made fresh at every
 * start. Anonymous clients only when `mqtt.allow_anonymous` is set, and only from
 * loopback (the seed's kiosk-on-loopback case).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { AedesOptions, AedesPublishPacket, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/auth-service.ts';
import type { Principal } from '../auth/principal.ts';
import type { Revocation } from '../auth/credentials.ts';
import type { SessionRevocation } from '../auth/sessions.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { Acl } from './acl.ts';
import { AclDecisions } from './acl-cache.ts';
import { RefusalLog } from './refusal-log.ts';

/** Username of Vigil's in-process components. */
export const INTERNAL_USER = '$vigil-internal';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * Where a refused client PUBLISH goes once acknowledged: a `$SYS` topic, which no client
 * may subscribe to (the ACL refuses `$` filters) and which aedes never delivers to filters
 * starting with a wildcard (MQTT 3.1.1 §4.7.2), nor queues for offline sessions.
 */
const DROPPED_TOPIC = '$SYS/vigil/dropped';
const EMPTY = Buffer.alloc(0);

/**
 * Takes a management request published on `vigil/bridge/request/<op>` (see `hub/bridge/`)
 * with the publisher's principal and address; must not throw (it answers on the bus).
 */
export type BridgeRequestHandler = (principal: Principal, topic: string, payload: Buffer, ip: string | null) => void;

export interface BrokerPolicyOptions {
  /** The hub's topic layout: ACL patterns and the camera configs the policy learns zones from. */
  topics: Topics;
  allowAnonymous: boolean;
  /** Absent in unit tests of the broker alone: then only internal and anonymous clients exist. */
  auth?: AuthService;
  logger: Logger;
  /** Window in which repeated refusals of one client for one reason are counted, not logged, ms (default 60 000; {@link RefusalLog}). */
  refusalWindowMs?: number;
  /**
   * Hold every login but the hub's own ({@link INTERNAL_USER}) until
   * {@link BrokerPolicy.admitClients}: the client's CONNACK waits (a client that gives up
   * after its connect timeout retries). The hub's broker listens before the hub's services
   * subscribe; a component reconnecting in between would flush the QoS 1 messages it kept
   * while the broker was down (event updates and ends) to no subscriber. Default false.
   */
  holdLogins?: boolean;
}

export class BrokerPolicy {
  /** Password of {@link INTERNAL_USER}, fresh every start, never written anywhere. */
  readonly internalSecret = randomBytes(24).toString('base64url');
  readonly acl: Acl;
  /** {@link acl}'s per-message answers, remembered per principal and topic (`acl-cache.ts`). */
  private readonly decisions: AclDecisions;
  /** Every refusal (login, client id, publish, subscribe, oversize packet), logged once per client and reason per window. */
  readonly refusals: RefusalLog;
  private readonly principals = new WeakMap<Client, Principal>();
  /** Connected clients that logged in with an API key, a device credential or a session's access token, to drop them when it is revoked. */
  private readonly credentialed = new Set<Client>();
  private unlisten?: () => void;
  /** zone → cameras defining it, learnt from the camera configs the hub publishes. */
  private readonly zones = new Map<string, Set<string>>();
  /** Connections whose CONNECT had a client id MQTT 3.1.1 refuses (§3.1.3.1): answered CONNACK 0x02 by `authenticate`. */
  private readonly badClientIds = new WeakMap<Client, { clean: boolean; protocolVersion: number }>();
  /**
   * Receives every authorized publish on `vigil/bridge/request/#` (clients only, never a
   * will the broker publishes on its own), which is then delivered to no subscriber and
   * never retained. Unset: such requests are dropped with a warning.
   */
  onBridgeRequest?: BridgeRequestHandler;
  /** Settles once logins are admitted: at once, or with `holdLogins` at {@link admitClients}. */
  private readonly admitted: Promise<void>;
  private admit: () => void = () => undefined;

  constructor(private readonly opts: BrokerPolicyOptions) {
    this.admitted = opts.holdLogins ? new Promise<void>((resolve) => { this.admit = resolve; }) : Promise.resolve();
    this.acl = new Acl(opts.topics);
    this.decisions = new AclDecisions(this.acl, opts.topics);
    this.refusals = new RefusalLog({ logger: opts.logger, windowMs: opts.refusalWindowMs });
    const offKeys = opts.auth?.credentials.onRevoked((r) => this.drop(r));
    const offSessions = opts.auth?.sessions.onRevoked((r) => this.dropSessions(r));
    this.unlisten = () => { offKeys?.(); offSessions?.(); };
  }

  /** Lets the logins held by `holdLogins` through, and every later one (the hub's services have subscribed). Idempotent. */
  admitClients(): void {
    this.admit();
  }

  /** Forgets a disconnected client (aedes `clientDisconnect`). */
  forget(client: Client): void {
    this.credentialed.delete(client);
  }

  /** Stops listening for revocations. */
  close(): void {
    this.unlisten?.();
    this.credentialed.clear();
    this.refusals.close();
  }

  /**
   * Logs a packet larger than `mqtt.max_packet_size` (once per client per window); the
   * broker closes its connection (`packet-size.ts`).
   * @param size the whole packet, bytes (undefined: a WebSocket message over the limit, size not known); `max` the limit, bytes
   */
  packetTooLarge(client: Client, size: number | undefined, max: number): void {
    const remote = remoteOf(client);
    this.refusals.refuse(client.id ?? `${remote ?? '?'}|`, 'packet-too-large', { clientId: client.id ?? undefined, remote, size, max }, 'mqtt packet too large: connection closed');
  }

  /** Disconnects every client logged in with the revoked API key or device credential. */
  private drop(r: Revocation): void {
    for (const client of this.credentialed) {
      const p = this.principals.get(client);
      if (!p || p.kind !== r.kind || p.id !== r.id) continue;
      this.opts.logger.info({ clientId: client.id, principal: p.name }, 'mqtt client dropped: its credential was revoked');
      this.credentialed.delete(client);
      client.close();
    }
  }

  /** Disconnects every client logged in with the access token of a revoked session (a logout), or of any session of a user whose sessions were all revoked. */
  private dropSessions(r: SessionRevocation): void {
    for (const client of this.credentialed) {
      const p = this.principals.get(client);
      if (!p?.sessionId || p.kind !== 'user') continue;
      if ('sessionId' in r ? p.sessionId !== r.sessionId : p.id !== r.userId) continue;
      this.opts.logger.info({ clientId: client.id, principal: p.name }, 'mqtt client dropped: its session ended');
      this.credentialed.delete(client);
      client.close();
    }
  }

  /** Resolves CONNECT credentials; null when refused. */
  async authenticate(username: string | undefined, password: Buffer | undefined, remote: string | undefined): Promise<Principal | null> {
    if (username === INTERNAL_USER) {
      return password && safeEqual(password.toString(), this.internalSecret) ? { kind: 'internal', id: 'internal', name: 'internal', role: 'admin', cameras: null } : null;
    }
    await this.admitted;
    if (username === undefined && password === undefined) {
      return this.opts.allowAnonymous && remote !== undefined && LOOPBACK.test(remote) ? { kind: 'anonymous', id: 'anonymous', name: 'anonymous', role: null, cameras: [] } : null;
    }
    if (!this.opts.auth || !password) return null;
    return this.opts.auth.fromMqtt(username ?? '', password.toString());
  }

  /** The aedes hooks. */
  hooks(): Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'> {
    const log = this.opts.logger;
    return {
      preConnect: (client, packet, done) => {
        // MQTT 3.1.1 §3.1.3.1 [MQTT-3.1.3-8]: a zero-length client id needs clean session 1,
        // else CONNACK 0x02 and close; MQTT 3.1 needs an id at all. As Mosquitto 2 does.
        if (!packet.clientId && (!packet.clean || packet.protocolVersion === 3)) this.badClientIds.set(client, { clean: packet.clean ?? false, protocolVersion: packet.protocolVersion ?? 4 });
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        const remote = remoteOf(client);
        const badId = this.badClientIds.get(client);
        if (badId) {
          this.refusals.refuse(`${remote ?? '?'}|${username ?? ''}`, 'client-id', { clientId: '', username, remote, clean: badId.clean, protocol_version: badId.protocolVersion }, 'mqtt client id rejected: zero-length (clean session 0, or MQTT 3.1)');
          const err = new Error('identifier rejected') as AuthenticateError;
          err.returnCode = 2;
          done(err, false);
          return;
        }
        this.authenticate(username, password, remote).then((p) => {
          if (!p) {
            // Once per address and user name per window, in the log and in the activity log.
            if (this.refusals.refuse(`${remote ?? '?'}|${username ?? ''}`, 'login', { clientId: client.id, username, remote }, 'mqtt login refused')) {
              void this.opts.auth?.activity.record({ actor: username ?? 'anonymous', action: 'mqtt.connect', ip: remote ?? null, outcome: 'denied' });
            }
            const err = new Error('bad username or password') as AuthenticateError;
            err.returnCode = username === undefined ? 5 : 4;
            done(err, false);
            return;
          }
          this.principals.set(client, p);
          if (p.kind === 'device' || p.kind === 'apikey' || p.sessionId) this.credentialed.add(client);
          done(null, true);
        }, (err: Error) => {
          log.error({ err: err.message }, 'mqtt authentication failed');
          const e = new Error('server unavailable') as AuthenticateError;
          e.returnCode = 3;
          done(e, false);
        });
      },
      authorizePublish: (client: Client | null, packet: PublishPacket, cb) => {
        const p = client ? this.principals.get(client) : { kind: 'internal' as const, id: 'broker', name: 'broker', role: 'admin' as const, cameras: null };
        if (!p || !this.decisions.canPublish(p, packet.topic)) {
          this.refusals.refuse(client?.id ?? 'broker', 'publish', { principal: p?.name, topic: packet.topic, qos: packet.qos }, 'mqtt publish refused');
          // A client's PUBLISH is acknowledged (QoS 1 PUBACK, QoS 2 PUBREC … PUBCOMP) and
          // dropped, never a disconnect: Mosquitto 2's answer (MQTT 5 adds reason 0x87). A
          // will (no `cmd`) is not published.
          if (client && packet.cmd === 'publish') {
            packet.topic = DROPPED_TOPIC;
            packet.payload = EMPTY;
            packet.retain = false;
            cb(null);
            return;
          }
          cb(new Error('publish not authorized'));
          return;
        }
        if (this.decisions.isBridgeRequest(packet.topic)) {
          packet.retain = false;
          const handler = client ? this.onBridgeRequest : undefined;
          if (handler) handler(p, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload)), remoteOf(client!) ?? null);
          else this.refusals.refuse(client?.id ?? 'broker', 'bridge-no-handler', { principal: p.name, topic: packet.topic }, 'bridge request dropped: no handler');
          cb(null);
          return;
        }
        this.observe(packet);
        if (p.kind !== 'internal' && packet.topic.endsWith('/set')) {
          void this.opts.auth?.activity.record({ actor: p.name, action: 'mqtt.set', target: packet.topic, ip: client ? remoteOf(client) ?? null : null, details: { payload: String(packet.payload).slice(0, 64) } });
        }
        cb(null);
      },
      authorizeSubscribe: (client: Client, sub: Subscription, cb) => {
        const p = this.principals.get(client);
        if (p && this.acl.canSubscribe(p, sub.topic)) return cb(null, sub);
        this.refusals.refuse(client.id, 'subscribe', { principal: p?.name, topic: sub.topic }, 'mqtt subscribe refused');
        cb(null, null); // SUBACK 0x80 for this filter (others of the SUBSCRIBE granted), connection kept
      },
      authorizeForward: (client: Client, packet: AedesPublishPacket) => {
        const p = this.principals.get(client);
        if (!p) return null;
        return this.decisions.canReceive(p, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload)), this.zoneCameras) ? packet : null;
      },
    };
  }

  /** zone → the cameras defining it (a copy), for {@link Acl.canReceive}. */
  private readonly zoneCameras = (zone: string): string[] => [...(this.zones.get(zone) ?? [])];

  /** Learns zone → camera from the camera configs passing through. */
  private observe(packet: PublishPacket): void {
    if (!packet.topic.endsWith('/config')) return; // every publish passes here: skip parsing the others
    const parsed = this.opts.topics.parse(packet.topic);
    if (parsed?.kind !== 'camera.config') return;
    const cam = parsed.camera;
    for (const cams of this.zones.values()) cams.delete(cam);
    try {
      const cfg = packet.payload.length ? (JSON.parse(packet.payload.toString()) as { zones?: Array<{ name?: string }> }) : { zones: [] };
      for (const z of cfg.zones ?? []) if (typeof z.name === 'string') this.zones.set(z.name, (this.zones.get(z.name) ?? new Set()).add(cam));
    } catch {
      // not JSON: the components will refuse it too
    }
  }
}

function remoteOf(client: Client): string | undefined {
  return client.req?.socket?.remoteAddress ?? (client.conn as Socket).remoteAddress;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
