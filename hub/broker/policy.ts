/**
 * Broker policy: every authentication and ACL decision of the embedded broker, in one
 * module, as aedes hooks (`authenticate`, `authorizePublish`, `authorizeSubscribe`;
 * aedes `aedes.js`). Issue #3 extends the principals (users, API keys, devices) and the
 * ACL here; the seams are {@link Principal} and {@link BrokerPolicy.canPublish}/`canSubscribe`.
 *
 * Today: configured `mqtt.users` log in with username/password (compared in constant time);
 * Vigil's own components use an internal credential generated per hub start; when no
 * users are configured, anonymous clients are allowed (Mosquitto 1.x behaviour;
 * Mosquitto 2 refuses them — issue #3 makes that the default).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';

/** Who a connected client is. */
export interface Principal {
  kind: 'internal' | 'user' | 'anonymous';
  name: string;
}

/** Username of Vigil's in-process components. */
export const INTERNAL_USER = '$vigil-internal';

const principals = new WeakMap<Client, Principal>();

export class BrokerPolicy {
  /** Password of {@link INTERNAL_USER}, fresh every start, never written anywhere. */
  readonly internalSecret = randomBytes(24).toString('base64url');

  constructor(private readonly users: Array<{ username: string; password: string }>, private readonly logger: Logger) {}

  /** Whether anonymous clients may connect. */
  get allowAnonymous(): boolean { return this.users.length === 0; }

  /** Resolves credentials to a principal, or null when refused. */
  authenticate(username: string | undefined, password: Buffer | undefined): Principal | null {
    if (username === INTERNAL_USER) return password && safeEqual(password.toString(), this.internalSecret) ? { kind: 'internal', name: INTERNAL_USER } : null;
    if (username !== undefined) {
      const u = this.users.find((x) => x.username === username);
      if (u && password && safeEqual(password.toString(), u.password)) return { kind: 'user', name: username };
      if (u || !this.allowAnonymous) return null;
    }
    return this.allowAnonymous ? { kind: 'anonymous', name: username ?? 'anonymous' } : null;
  }

  /** ACL for PUBLISH. Reserved `$SYS/` topics are refused to everyone but the broker. */
  canPublish(p: Principal, topic: string): boolean {
    if (topic.startsWith('$')) return false;
    void p;
    return true;
  }

  /** ACL for SUBSCRIBE. */
  canSubscribe(p: Principal, filter: string): boolean {
    void p; void filter;
    return true;
  }

  /** The aedes hooks. */
  hooks(): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
    return {
      authenticate: (client, username, password, done) => {
        const p = this.authenticate(username, password);
        if (!p) {
          this.logger.warn({ clientId: client.id, username }, 'mqtt login refused');
          const err = new Error('bad username or password') as AuthenticateError;
          err.returnCode = 4;
          done(err, false);
          return;
        }
        principals.set(client, p);
        done(null, true);
      },
      authorizePublish: (client: Client | null, packet: PublishPacket, cb) => {
        const p = client ? principals.get(client) : { kind: 'internal' as const, name: 'broker' };
        if (p && this.canPublish(p, packet.topic)) return cb(null);
        this.logger.warn({ clientId: client?.id, topic: packet.topic }, 'mqtt publish refused');
        cb(new Error('publish not authorized'));
      },
      authorizeSubscribe: (client: Client, sub: Subscription, cb) => {
        const p = principals.get(client);
        if (p && this.canSubscribe(p, sub.topic)) return cb(null, sub);
        this.logger.warn({ clientId: client.id, topic: sub.topic }, 'mqtt subscribe refused');
        cb(null, null); // SUBACK 0x80 for this filter, connection kept
      },
    };
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
