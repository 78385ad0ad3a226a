/**
 * The hub's authentication façade: users, sessions, API keys, device credentials,
 * media tokens, the first-admin setup token, login throttling and the activity log,
 * and the mapping of every credential to a {@link Principal}.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomicSync } from '../../components/protocol/atomic-write.ts';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { ApiKeyRow, DeviceRow, UserRow } from '../store/security-entities.ts';
import { Conflict, Forbidden } from '../errors.ts';
import { ActivityLog } from './activity.ts';
import { CredentialStore } from './credentials.ts';
import { scopeRole, type Principal, type Role } from './principal.ts';
import type { HubKeys } from './secrets.ts';
import { SessionStore } from './sessions.ts';
import { LoginThrottle, type ThrottleLimits } from './throttle.ts';
import { TokenSigner } from './tokens.ts';
import { UserStore } from './users.ts';

/** A compact JWS (`header.payload.signature`, base64url) as the hub's access tokens are: `eyJ…`. */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** What a session's access token looks like as an MQTT password (only {@link AuthService.fromMqtt} says whether it is one). */
export const SESSION_TOKEN_SHAPE = JWT_SHAPE;

export class AuthService {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly credentials: CredentialStore;
  readonly signer: TokenSigner;
  readonly activity: ActivityLog;
  readonly throttle: LoginThrottle;
  private setupToken?: string;

  constructor(ds: DataSource, keys: HubKeys, private readonly dataDir: string, throttle: ThrottleLimits, private readonly logger: Logger) {
    this.signer = new TokenSigner(keys.jwtSecret);
    this.users = new UserStore(ds, keys.box);
    this.sessions = new SessionStore(ds, this.signer);
    this.credentials = new CredentialStore(ds);
    this.activity = new ActivityLog(ds);
    this.throttle = new LoginThrottle(throttle);
  }

  private get setupFile(): string { return join(this.dataDir, 'setup-token'); }

  /**
   * With no user yet, makes (or reuses) the one-time setup token: written to
   * `<data_dir>/setup-token` (mode 0600) and printed once on the console, like Home
   * Assistant's onboarding. It creates the first admin through `POST /api/auth/setup`.
   */
  async prepareSetup(): Promise<string | undefined> {
    if ((await this.users.count()) > 0) {
      if (existsSync(this.setupFile)) rmSync(this.setupFile);
      return undefined;
    }
    this.setupToken = existsSync(this.setupFile) ? readFileSync(this.setupFile, 'utf8').trim() : randomBytes(18).toString('base64url');
    writeFileAtomicSync(this.setupFile, `${this.setupToken}\n`, { mode: 0o600 });
    process.stdout.write(`\n  Vigil has no user yet. Create the first admin at http://<host>:<port>/ with this one-time setup token:\n\n      ${this.setupToken}\n\n  (also in ${this.setupFile}; or run: npm run vigil -- user add <name> --role admin)\n\n`);
    this.logger.warn({ file: this.setupFile }, 'no user yet: setup token printed on the console and written to the data directory');
    return this.setupToken;
  }

  /** True while no user exists. */
  async setupRequired(): Promise<boolean> { return (await this.users.count()) === 0; }

  /** Creates the first admin with the setup token. @throws Forbidden (wrong token), Conflict (already set up). */
  async completeSetup(token: string, username: string, password: string): Promise<UserRow> {
    if (!(await this.setupRequired())) throw new Conflict('the first admin exists; log in instead', undefined, 'already_set_up');
    const expected = this.setupToken ?? '';
    const ok = expected.length > 0 && token.length === expected.length && timingSafeEqual(Buffer.from(token), Buffer.from(expected));
    if (!ok) throw new Forbidden('setup token is wrong');
    const u = await this.users.create({ username, password, role: 'admin' });
    this.setupToken = undefined;
    if (existsSync(this.setupFile)) rmSync(this.setupFile);
    return (await this.users.byId(u.id))!;
  }

  /** The principal of a user row. */
  userPrincipal(u: UserRow, extra: Partial<Principal> = {}): Principal {
    return { kind: 'user', id: u.id, name: u.username, role: u.role as Role, cameras: u.cameras ? (JSON.parse(u.cameras) as string[]) : null, ...extra };
  }

  /** Resolves a session access token (cookie or bearer); null when invalid, expired, revoked or the user is gone. */
  async fromAccessToken(token: string, viaCookie: boolean): Promise<Principal | null> {
    const claims = await this.signer.verifyAccess(token);
    if (!claims || !(await this.sessions.isLive(claims.sid, claims.sub))) return null;
    const u = await this.users.byId(claims.sub);
    return u ? this.userPrincipal(u, { sessionId: claims.sid, viaCookie }) : null;
  }

  /** The owner of a media token's subject (a user id, or `key:<id>`); null when gone or revoked. */
  async mediaOwner(sub: string): Promise<Principal | null> {
    if (sub.startsWith('dev:')) {
      const d = await this.credentials.deviceById(sub.slice(4));
      return d && !d.revoked_at ? this.devicePrincipal(d) : null;
    }
    if (sub.startsWith('key:')) {
      const k = await this.credentials.keyById(sub.slice(4));
      return k ? this.keyPrincipal(k) : null;
    }
    const u = await this.users.byId(sub);
    return u ? this.userPrincipal(u) : null;
  }

  /**
   * Resolves a device credential sent as `Authorization: Bearer vgd_…` (a kiosk fetching
   * its display's bundle); null when unknown or revoked. Devices have no role: only routes
   * made for their kind accept them.
   */
  async fromDeviceToken(token: string): Promise<Principal | null> {
    const d = await this.credentials.verifyDeviceToken(token);
    return d ? this.devicePrincipal(d) : null;
  }

  /** The principal of a device row. A camera device sees its own camera; a kiosk its displays. */
  devicePrincipal(d: DeviceRow): Principal {
    return { kind: 'device', id: d.id, name: `device:${d.id}`, role: null, cameras: d.kind === 'camera' ? [d.id] : null, deviceKind: d.kind, displays: JSON.parse(d.displays) as string[] };
  }

  /** Resolves an `X-API-Key`; null when unknown or revoked. */
  async fromApiKey(key: string): Promise<Principal | null> {
    const k = await this.credentials.verifyKey(key);
    return k ? this.keyPrincipal(k) : null;
  }

  /** The principal of an API key row. */
  keyPrincipal(k: ApiKeyRow): Principal {
    return { kind: 'apikey', id: k.id, name: `key:${k.name}`, role: scopeRole(k.scope), cameras: k.cameras ? (JSON.parse(k.cameras) as string[]) : null };
  }

  /**
   * Resolves MQTT CONNECT credentials: a device (`username` = device id, password
   * `vgd_…`), an API key as password (`vgl_…`, any username), or a user's username and
   * password (TOTP cannot be asked over MQTT: such users need an API key), or a user's
   * name with the access token of one of its live sessions as password (the JWT that
   * login and refresh answer with: the web UI's MQTT-over-WebSocket connection, with
   * exactly the user's rights; TOTP was asked at login). A token that is expired,
   * tampered, of a revoked session or of another user is refused. The token is checked at
   * CONNECT only: a connection outlives the token's 15 minutes, and a reconnect needs a
   * fresh one.
   */
  async fromMqtt(username: string, password: string): Promise<Principal | null> {
    if (password.startsWith('vgd_')) {
      const d = await this.credentials.verifyDevice(username, password);
      return d ? this.devicePrincipal(d) : null;
    }
    if (password.startsWith('vgl_')) return this.fromApiKey(password);
    if (JWT_SHAPE.test(password)) {
      // A session token: never also tried as a password (a password of this shape is not a plausible one).
      const p = await this.fromAccessToken(password, false);
      return p && p.name === username ? p : null;
    }
    const u = await this.users.verifyLogin(username, password);
    return u && u !== 'totp_required' ? this.userPrincipal(u) : null;
  }
}
