/**
 * Broker policy: every authentication and ACL decision of the embedded broker, in one
 * module, as aedes hooks (`authenticate`, `authorizePublish`, `authorizeSubscribe`,
 * `authorizeForward`; aedes `aedes.js`). The rules themselves are in `acl.ts`.
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

/** Username of Vigil's in-process components. */
export const INTERNAL_USER = '$vigil-internal';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

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
}

export class BrokerPolicy {
  /** Password of {@link INTERNAL_USER}, fresh every start, never written anywhere. */
  readonly internalSecret = randomBytes(24).toString('base64url');
  readonly acl: Acl;
  private readonly principals = new WeakMap<Client, Principal>();
  /** Connected clients that logged in with an API key, a device credential or a session's access token, to drop them when it is revoked. */
  private readonly credentialed = new Set<Client>();
  private unlisten?: () => void;
  /** zone → cameras defining it, learnt from the camera configs the hub publishes. */
  private readonly zones = new Map<string, Set<string>>();
  /**
   * Receives every authorized publish on `vigil/bridge/request/#` (clients only, never a
   * will the broker publishes on its own), which is then delivered to no subscriber and
   * never retained. Unset: such requests are dropped with a warning.
   */
  onBridgeRequest?: BridgeRequestHandler;

  constructor(private readonly opts: BrokerPolicyOptions) {
    this.acl = new Acl(opts.topics);
    const offKeys = opts.auth?.credentials.onRevoked((r) => this.drop(r));
    const offSessions = opts.auth?.sessions.onRevoked((r) => this.dropSessions(r));
    this.unlisten = () => { offKeys?.(); offSessions?.(); };
  }

  /** Forgets a disconnected client (aedes `clientDisconnect`). */
  forget(client: Client): void {
    this.credentialed.delete(client);
  }

  /** Stops listening for revocations. */
  close(): void {
    this.unlisten?.();
    this.credentialed.clear();
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
    if (username === undefined && password === undefined) {
      return this.opts.allowAnonymous && remote !== undefined && LOOPBACK.test(remote) ? { kind: 'anonymous', id: 'anonymous', name: 'anonymous', role: null, cameras: [] } : null;
    }
    if (!this.opts.auth || !password) return null;
    return this.opts.auth.fromMqtt(username ?? '', password.toString());
  }

  /** The aedes hooks. */
  hooks(): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'> {
    const log = this.opts.logger;
    return {
      authenticate: (client, username, password, done) => {
        this.authenticate(username, password, remoteOf(client)).then((p) => {
          if (!p) {
            log.warn({ clientId: client.id, username, remote: remoteOf(client) }, 'mqtt login refused');
            void this.opts.auth?.activity.record({ actor: username ?? 'anonymous', action: 'mqtt.connect', ip: remoteOf(client) ?? null, outcome: 'denied' });
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
        if (!p || !this.acl.canPublish(p, packet.topic)) {
          log.warn({ clientId: client?.id, principal: p?.name, topic: packet.topic }, 'mqtt publish refused');
          cb(new Error('publish not authorized'));
          return;
        }
        if (this.acl.isBridgeRequest(packet.topic)) {
          packet.retain = false;
          const handler = client ? this.onBridgeRequest : undefined;
          if (handler) handler(p, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload)), remoteOf(client!) ?? null);
          else log.warn({ clientId: client?.id, principal: p.name, topic: packet.topic }, 'bridge request dropped: no handler');
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
        log.warn({ clientId: client.id, principal: p?.name, topic: sub.topic }, 'mqtt subscribe refused');
        cb(null, null); // SUBACK 0x80 for this filter, connection kept
      },
      authorizeForward: (client: Client, packet: AedesPublishPacket) => {
        const p = this.principals.get(client);
        if (!p) return null;
        return this.acl.canReceive(p, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload)), (z) => [...(this.zones.get(z) ?? [])]) ? packet : null;
      },
    };
  }

  /** Learns zone → camera from the camera configs passing through. */
  private observe(packet: PublishPacket): void {
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
