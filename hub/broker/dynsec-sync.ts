/**
 * Keeps Mosquitto 2's dynamic security plugin in step with Vigil's principals
 * (`mqtt.url` + `mqtt.dynamic_security: true`), so an external broker enforces the same
 * ACL as the embedded one:
 *
 * - **Roles** from the one ACL table ({@link Acl.exportLines}): `vigil-admin`,
 *   `vigil-operator`, `vigil-viewer` for users and keys of every camera, `vigil-component`
 *   and `vigil-ha` for those device kinds, `vigil-hub` for the hub's own account, and one
 *   role per principal whose lines name its own things (`vigil-user-<id>` /
 *   `vigil-key-<id>` for users and keys limited to cameras, `vigil-device-<id>` for
 *   cameras, kiosks and heads).
 * - **Clients**: a user is its username, an API key `vgl_<id>` (the key up to its second
 *   `_`), a device its id; the password is the user's password, the whole key, the device's
 *   `vgd_…` password. Mosquitto hashes it itself (PBKDF2-SHA512), Vigil keeps only its
 *   own hashes, so the clear secret is sent when it exists: when it is set (a user created,
 *   a password changed, a key or device made) or verified (a login on the web UI, a key
 *   used on the REST API). A client whose secret the hub has not seen since it changed
 *   (the CLI writes the database directly) gets a random password until then, and is
 *   listed under `awaiting_password`; so does a user with TOTP, always (MQTT cannot ask
 *   for the second factor, as on the embedded broker: such users connect with a key).
 * - **Marks**: managed clients have `textname` `vigil:<kind>:<id>` and `textdescription`
 *   `fp:<16 hex>` (a one-way fingerprint of the stored hash, `changes.ts`, telling whether
 *   Mosquitto holds the current secret) or `fp:unset`; managed roles `textname`
 *   `vigil:role`. Clients and roles without the mark are never touched.
 * - **When**: a full reconcile (list, diff, fix, remove what is gone) at start, after every
 *   change announced by the stores (awaited by them, so `DELETE /api/api-keys/:id` returns
 *   once Mosquitto has dropped the key: `deleteClient` also kicks its connections), on
 *   every reconnect and every minute (the CLI's changes, a broker that lost its file).
 *   Camera configs on the bus (`vigil/camera/+/config`) tell which cameras and zones the
 *   limited principals' roles must name.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Topics } from '../../components/protocol/topics.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { PrincipalChange } from '../auth/changes.ts';
import { fingerprint } from '../auth/changes.ts';
import type { Principal } from '../auth/principal.ts';
import type { Acl, KnownCameras } from './acl.ts';
import { DynsecUnavailable, type DynsecAnswer, type DynsecClient, type DynsecCommand } from './dynsec-client.ts';
import { sameAcls, toDynsecAcls, type DynsecAcl } from './dynsec-acl.ts';

/** `textname` of the roles the hub manages. */
export const ROLE_MARK = 'vigil:role';
/** `textname` prefix of the clients the hub manages. */
export const CLIENT_MARK = 'vigil:';
/** The hub's own account's role: everything (it runs bridge requests, publishes configs). */
export const HUB_ROLE = 'vigil-hub';
/** Full reconcile period, ms: picks up the CLI's changes and a broker that lost its file. */
export const RECONCILE_EVERY_MS = 60_000;
/** Camera configs arriving within this many ms are taken in by one reconcile. */
const CAMERA_DEBOUNCE_MS = 100;

/** The MQTT username of an API key on Mosquitto: `vgl_<id>`, the key up to its second `_`. */
export const keyUsername = (id: string): string => `vgl_${id}`;

/** Where the sync stands (`/api/system` `components.dynamic_security`). */
export interface DynsecStatus {
  status: 'running' | 'failed' | 'stopped';
  /** Why the last reconcile failed (with what to do). */
  error?: string;
  /** Managed clients and roles after the last reconcile. */
  clients: number;
  roles: number;
  /** Principals whose Mosquitto password the hub has not had since it changed (names as in the activity log). */
  awaiting_password: string[];
  /** Usernames Vigil could not take: held by a client it does not manage, or by two principals. */
  conflicts: string[];
  last_sync_at: number | null;
  /** How long the last reconcile took, ms. */
  last_sync_ms: number | null;
}

/** A relayed MQTT-over-WebSocket connection of a session (`ws-relay.ts`), with its own client. */
interface SessionClient { username: string; secret: string; fp: string; sessionId: string; userId: string }

/** A wanted client: one principal. */
interface Wanted {
  key: string;
  username: string;
  textname: string;
  principal: Principal;
  /** Fingerprint of the stored hash; null when the principal gets no usable MQTT password (TOTP users). */
  fp: string | null;
  role: string;
}

/** A client as `listClients` (verbose) answers. */
interface ActualClient { username: string; textname?: string; textdescription?: string; roles?: Array<{ rolename: string }>; disabled?: boolean }
/** A role as `listRoles` (verbose) answers. */
interface ActualRole { rolename: string; textname?: string; acls?: DynsecAcl[] }

/** What the sync is made of. */
export interface DynsecSyncOptions {
  client: DynsecClient;
  auth: AuthService;
  acl: Acl;
  topics: Topics;
  /** The hub's own account (`mqtt.username`), the plugin's admin: given {@link HUB_ROLE}, never managed otherwise. */
  hubUsername: string;
  logger: Logger;
  /** Cameras (and their zones) the hub has at start, before their configs come back on the bus. */
  seedCameras?: () => Promise<Array<{ name: string; zones?: Array<{ name: string }> }>>;
  /** Full reconcile period, ms; default {@link RECONCILE_EVERY_MS}. */
  reconcileEveryMs?: number;
}

/** Mirrors users, API keys and devices into Mosquitto's dynamic security plugin. */
export class DynsecSync {
  private readonly cameraZones = new Map<string, string[]>();
  /** Clear secrets announced by the stores, until a reconcile has sent them: principal key → secret and the fingerprint it belongs to. */
  private readonly pending = new Map<string, { secret: string; fp: string }>();
  /** principal key → its client's `textdescription` after the last reconcile (`fp:…`), or `nopw`. */
  private readonly current = new Map<string, string>();
  /** Clients of relayed session connections, by username. */
  private readonly sessionClients = new Map<string, SessionClient>();
  private state: DynsecStatus = { status: 'stopped', clients: 0, roles: 0, awaiting_password: [], conflicts: [], last_sync_at: null, last_sync_ms: null };
  private chain: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private cameraTimer?: NodeJS.Timeout;
  private readonly offs: Array<() => void> = [];
  private lastLoggedError?: string;
  private stopped = false;

  constructor(private readonly o: DynsecSyncOptions) {}

  /**
   * Connects as the plugin's admin, gives the hub's own account {@link HUB_ROLE}, and runs
   * the first reconcile. The hub refuses to start when this fails: Vigil would otherwise
   * show keys as revoked that the broker still accepts.
   * @throws DynsecUnavailable with the reason and what to do (plugin not loaded: the
   *   mosquitto.conf lines; account not the plugin's admin; no broker)
   */
  async start(): Promise<void> {
    const { o } = this;
    try {
      await o.client.connect();
      for (const cam of (await o.seedCameras?.()) ?? []) this.cameraZones.set(cam.name, (cam.zones ?? []).map((z) => z.name));
      const defaults = await this.command({ command: 'getDefaultACLAccess' });
      const acls = (defaults.data as { acls?: Array<{ acltype: string; allow: boolean }> } | undefined)?.acls ?? [];
      const open = acls.filter((a) => a.allow && (a.acltype === 'publishClientSend' || a.acltype === 'subscribe')).map((a) => a.acltype);
      if (open.length) o.logger.warn({ open }, 'dynamic security: defaultACLAccess allows these where no ACL matches (Vigil\'s roles end in "deny #", so this reaches only $-topics and clients that are not Vigil\'s); mosquitto_ctrl dynsec setDefaultACLAccess publishClientSend deny (subscribe deny) closes it');
      await this.ensureHubRole();
      await this.sync();
    } catch (err) {
      this.state = { ...this.state, status: 'failed', error: (err as Error).message };
      await o.client.close();
      throw err;
    }
    this.offs.push(
      o.auth.sessions.onRevoked((r) => this.onSessionRevoked('sessionId' in r ? { sessionId: r.sessionId } : { userId: r.userId })),
      o.auth.users.changes.on((c) => this.onChange(c)),
      o.auth.credentials.changes.on((c) => this.onChange(c)),
      o.client.onReconnect(() => { void this.ensureHubRole().then(() => this.sync()).catch((err: Error) => this.failed(err)); }),
    );
    await o.client.watch(o.topics.sub.cameraConfigs(), (topic, payload) => this.onCameraConfig(topic, payload));
    this.timer = setInterval(() => { void this.sync().catch((err: Error) => this.failed(err)); }, o.reconcileEveryMs ?? RECONCILE_EVERY_MS);
    this.timer.unref();
  }

  /** Stops listening and closes the admin connection (Mosquitto keeps what it has). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.cameraTimer);
    for (const off of this.offs.splice(0)) off();
    await this.chain.catch(() => undefined);
    await this.o.client.close();
    this.state = { ...this.state, status: 'stopped' };
  }

  /** Where the sync stands. */
  status(): DynsecStatus {
    return { ...this.state, awaiting_password: [...this.state.awaiting_password], conflicts: [...this.state.conflicts] };
  }

  /**
   * Runs a full reconcile (queued after the one running; joins one queued and not started).
   * @throws DynsecUnavailable when the plugin does not answer (also shown by {@link status})
   */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.chain.then(() => { this.queued = undefined; return this.stopped ? undefined : this.reconcile(); });
    this.queued = run;
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * A Mosquitto client for one relayed connection of a session (`ws-relay.ts`): username
   * `vigil-ws-<random>`, a random password, the role of the session's user; deleted by
   * {@link closeSession}, or when the session ends or the user goes.
   * @throws Error when `p` is not a user's session, or Mosquitto did not take the client
   */
  async openSession(p: Principal): Promise<{ username: string; password: string }> {
    if (p.kind !== 'user' || !p.sessionId) throw new Error('not a session');
    const username = `vigil-ws-${randomBytes(6).toString('hex')}`;
    const secret = randomSecret();
    this.sessionClients.set(username, { username, secret, fp: fingerprint(secret), sessionId: p.sessionId, userId: p.id });
    await this.sync();
    if (!this.current.has(`session:${username}`)) {
      this.sessionClients.delete(username);
      throw new Error(`no Mosquitto client for ${p.name}'s session`);
    }
    return { username, password: secret };
  }

  /** Deletes the client of a relayed connection that closed. */
  async closeSession(username: string): Promise<void> {
    if (this.sessionClients.delete(username)) await this.sync();
  }

  private onSessionRevoked(r: { sessionId: string } | { userId: string }): void {
    let gone = false;
    for (const s of this.sessionClients.values()) {
      if ('sessionId' in r ? s.sessionId !== r.sessionId : s.userId !== r.userId) continue;
      this.sessionClients.delete(s.username);
      gone = true;
    }
    if (gone) void this.sync().catch((err: Error) => this.failed(err));
  }

  private onChange(c: PrincipalChange): Promise<void> | undefined {
    const key = `${c.kind}:${c.id}`;
    if (c.op === 'seen') {
      const now = this.current.get(key);
      // Nothing to do when Mosquitto holds this very secret, the principal gets none (TOTP), or has no client (a conflict).
      if (!c.secret || !c.fingerprint || now === undefined || now === `fp:${c.fingerprint}` || now === 'nopw') return undefined;
      this.pending.set(key, { secret: c.secret, fp: c.fingerprint });
      void this.sync().catch((err: Error) => this.failed(err));
      return undefined;
    }
    if (c.secret && c.fingerprint) this.pending.set(key, { secret: c.secret, fp: c.fingerprint });
    return this.sync().catch((err: Error) => this.failed(err));
  }

  private onCameraConfig(topic: string, payload: Buffer): void {
    const parsed = this.o.topics.parse(topic);
    if (parsed?.kind !== 'camera.config') return;
    let zones: string[] | undefined;
    if (payload.length) {
      try {
        const cfg = JSON.parse(payload.toString()) as { zones?: Array<{ name?: unknown }> };
        zones = (cfg.zones ?? []).map((z) => z.name).filter((n): n is string => typeof n === 'string');
      } catch { return; } // not JSON: the components refuse it too
    }
    const before = JSON.stringify(this.cameraZones.get(parsed.camera) ?? null);
    if (zones) this.cameraZones.set(parsed.camera, zones); else this.cameraZones.delete(parsed.camera);
    if (JSON.stringify(zones ?? null) === before) return;
    clearTimeout(this.cameraTimer);
    this.cameraTimer = setTimeout(() => { void this.sync().catch((err: Error) => this.failed(err)); }, CAMERA_DEBOUNCE_MS);
  }

  private failed(err: Error): void {
    this.state = { ...this.state, status: 'failed', error: err.message };
    if (err.message !== this.lastLoggedError) this.o.logger.error({ err: err.message }, 'dynamic security: Mosquitto is not in step with Vigil\'s users, keys and devices');
    this.lastLoggedError = err.message;
  }

  /** One command; its error becomes an Error. */
  private async command(c: DynsecCommand): Promise<DynsecAnswer> {
    const [a] = await this.o.client.send([c]);
    if (!a) throw new DynsecUnavailable('not_loaded', 'no answer');
    if (a.error) throw new Error(`dynamic security ${c.command}: ${a.error}`);
    return a;
  }

  private hubAcls(): DynsecAcl[] {
    return toDynsecAcls(this.o.acl.exportLines({ kind: 'internal', id: 'hub', name: 'hub', role: 'admin', cameras: null }, this.known()));
  }

  /** Gives the hub's own account {@link HUB_ROLE} (the plugin then drops and lets it back in). */
  private async ensureHubRole(): Promise<void> {
    const { o } = this;
    const [self, role] = await o.client.send([{ command: 'getClient', username: o.hubUsername }, { command: 'getRole', rolename: HUB_ROLE }]);
    if (!self || self.error) throw new DynsecUnavailable('not_admin', `${o.hubUsername} (mqtt.username) is not a client of the dynamic security plugin (${self?.error ?? 'no answer'}): make it with mosquitto_ctrl dynsec init`);
    const roles = ((self.data as { client?: ActualClient } | undefined)?.client?.roles ?? []).map((r) => r.rolename);
    if (roles.includes(HUB_ROLE)) return;
    if (role?.error) await this.command({ command: 'createRole', rolename: HUB_ROLE, textname: ROLE_MARK, acls: this.hubAcls() });
    o.logger.info({ username: o.hubUsername, role: HUB_ROLE }, 'dynamic security: giving the hub\'s account its role (the broker reconnects it once)');
    await o.client.sendAndReconnect([{ command: 'addClientRole', username: o.hubUsername, rolename: HUB_ROLE, priority: 10 }]);
  }

  private known(): KnownCameras {
    const zones = new Map<string, string[]>();
    for (const [cam, zs] of this.cameraZones) for (const z of zs) zones.set(z, [...(zones.get(z) ?? []), cam]);
    return { cameras: [...this.cameraZones.keys()], zones };
  }

  /** Every principal that should have a client, one per username (users, then devices, then keys). */
  private async wanted(conflicts: string[]): Promise<Wanted[]> {
    const { auth, hubUsername } = this.o;
    const out: Wanted[] = [];
    const taken = new Set<string>([hubUsername]);
    const add = (w: Wanted): void => {
      if (taken.has(w.username)) { conflicts.push(`${w.username} (${w.principal.name})`); return; }
      taken.add(w.username);
      out.push(w);
    };
    for (const pu of await auth.users.list()) {
      const u = await auth.users.byId(pu.id);
      if (!u) continue;
      const p = auth.userPrincipal(u);
      add({ key: `user:${u.id}`, username: u.username, textname: `${CLIENT_MARK}user:${u.id}`, principal: p, fp: u.totp_enabled ? null : fingerprint(u.password_hash), role: roleOf(p) });
    }
    for (const pd of await auth.credentials.listDevices()) {
      if (pd.revoked_at) continue;
      const d = await auth.credentials.deviceById(pd.id);
      if (!d || d.revoked_at) continue;
      const p = auth.devicePrincipal(d);
      add({ key: `device:${d.id}`, username: d.id, textname: `${CLIENT_MARK}device:${d.id}`, principal: p, fp: fingerprint(d.secret_hash), role: roleOf(p) });
    }
    for (const pk of await auth.credentials.listKeys()) {
      if (pk.revoked_at) continue;
      const k = await auth.credentials.keyById(pk.id);
      if (!k) continue;
      const p = auth.keyPrincipal(k);
      add({ key: `apikey:${k.id}`, username: keyUsername(k.id), textname: `${CLIENT_MARK}apikey:${k.id}`, principal: p, fp: fingerprint(k.key_hash), role: roleOf(p) });
    }
    // Relayed session connections: as long as the session lives, with its user's rights as they are now.
    for (const s of [...this.sessionClients.values()]) {
      const u = await auth.users.byId(s.userId);
      if (!u || !(await auth.sessions.isLive(s.sessionId, s.userId))) { this.sessionClients.delete(s.username); continue; }
      const p = auth.userPrincipal(u, { sessionId: s.sessionId });
      const key = `session:${s.username}`;
      this.pending.set(key, { secret: s.secret, fp: s.fp });
      add({ key, username: s.username, textname: `${CLIENT_MARK}session:${s.sessionId}`, principal: p, fp: s.fp, role: roleOf(p) });
    }
    return out;
  }

  /** List, diff, fix, remove what is gone. */
  private async reconcile(): Promise<void> {
    const { o } = this;
    const started = Date.now();
    const conflicts: string[] = [];
    const wanted = await this.wanted(conflicts);
    const known = this.known();
    const roles = new Map<string, DynsecAcl[]>([[HUB_ROLE, this.hubAcls()]]);
    const usable: Wanted[] = [];
    for (const w of wanted) {
      if (!roles.has(w.role)) {
        try { roles.set(w.role, toDynsecAcls(o.acl.exportLines(w.principal, known))); } catch (err) {
          conflicts.push(`${w.username} (${w.principal.name}: ${(err as Error).message})`);
          continue;
        }
      }
      usable.push(w);
    }
    const [listedClients, listedRoles] = await o.client.send([{ command: 'listClients', verbose: true, count: -1, offset: 0 }, { command: 'listRoles', verbose: true, count: -1, offset: 0 }]);
    if (!listedClients || listedClients.error || !listedRoles || listedRoles.error) throw new Error(`dynamic security: listing failed (${listedClients?.error ?? listedRoles?.error ?? 'no answer'})`);
    const actualClients = new Map(((listedClients.data as { clients?: ActualClient[] }).clients ?? []).map((c) => [c.username, c]));
    const actualRoles = new Map(((listedRoles.data as { roles?: ActualRole[] }).roles ?? []).map((r) => [r.rolename, r]));

    const first: DynsecCommand[] = [];
    const then: DynsecCommand[] = [];
    const last: DynsecCommand[] = [];
    const badRoles = new Set<string>();
    for (const [name, acls] of roles) {
      const a = actualRoles.get(name);
      if (!a) first.push({ command: 'createRole', rolename: name, textname: ROLE_MARK, acls });
      else if (a.textname !== ROLE_MARK) { badRoles.add(name); conflicts.push(`role ${name} (not Vigil's)`); }
      else if (!sameAcls(a.acls ?? [], acls)) first.push({ command: 'modifyRole', rolename: name, acls });
    }
    const awaiting: string[] = [];
    const sent: string[] = [];
    const now = new Map<string, string>();
    for (const w of usable) {
      if (badRoles.has(w.role)) continue;
      const a = actualClients.get(w.username);
      if (a && !a.textname?.startsWith(CLIENT_MARK)) { conflicts.push(`${w.username} (${w.principal.name}: a client Vigil does not manage)`); continue; }
      const p = this.pending.get(w.key);
      const secret = w.fp !== null && p?.fp === w.fp ? p.secret : undefined;
      const good = w.fp === null ? null : `fp:${w.fp}`;
      const desc = secret ? good! : a && a.textname === w.textname && a.textdescription === good && good ? good : 'fp:unset';
      if (!a || a.textname !== w.textname) {
        if (a) then.push({ command: 'deleteClient', username: w.username });
        then.push({ command: 'createClient', username: w.username, password: secret ?? randomSecret(), textname: w.textname, textdescription: desc, roles: [{ rolename: w.role }] });
      } else {
        const change: Record<string, unknown> = {};
        const haveRoles = (a.roles ?? []).map((r) => r.rolename);
        if (haveRoles.length !== 1 || haveRoles[0] !== w.role) change.roles = [{ rolename: w.role }];
        if (secret && a.textdescription !== good) Object.assign(change, { password: secret, textdescription: good });
        // A secret that changed behind the hub's back: the old one must stop working.
        else if (desc === 'fp:unset' && a.textdescription !== 'fp:unset') Object.assign(change, { password: randomSecret(), textdescription: 'fp:unset' });
        if (Object.keys(change).length) then.push({ command: 'modifyClient', username: w.username, ...change });
      }
      if (secret) sent.push(w.key);
      now.set(w.key, w.fp === null ? 'nopw' : desc);
      if (desc === 'fp:unset' && w.fp !== null) awaiting.push(w.principal.name);
    }
    const keep = new Set(usable.map((w) => w.username));
    for (const a of actualClients.values()) {
      if (a.textname?.startsWith(CLIENT_MARK) && !keep.has(a.username) && a.username !== o.hubUsername) then.push({ command: 'deleteClient', username: a.username });
    }
    for (const a of actualRoles.values()) if (a.textname === ROLE_MARK && !roles.has(a.rolename)) last.push({ command: 'deleteRole', rolename: a.rolename });

    const commands = [...first, ...then, ...last];
    const answers = await o.client.send(commands);
    for (const [i, a] of answers.entries()) {
      if (a?.error) o.logger.warn({ command: commands[i]!.command, username: commands[i]!.username, rolename: commands[i]!.rolename, err: a.error }, 'dynamic security: command refused');
    }
    for (const k of sent) this.pending.delete(k);
    // Secrets of principals now gone, or of a hash already replaced, are of no more use.
    for (const [k, p] of this.pending) if (!usable.some((w) => w.key === k && w.fp === p.fp)) this.pending.delete(k);
    this.current.clear();
    for (const [k, v] of now) this.current.set(k, v);
    if (commands.length) o.logger.info({ changes: commands.map((c) => `${c.command} ${String(c.username ?? c.rolename ?? '')}`) }, 'dynamic security: Mosquitto brought in step');
    if (this.state.status === 'failed') o.logger.info('dynamic security: Mosquitto in step again');
    this.lastLoggedError = undefined;
    this.state = {
      status: 'running', clients: usable.length, roles: roles.size, awaiting_password: awaiting.sort(), conflicts: conflicts.sort(),
      last_sync_at: Date.now(), last_sync_ms: Date.now() - started,
    };
  }
}

/** The role of a principal: shared by role or kind where its lines name nothing of its own. */
export function roleOf(p: Principal): string {
  if (p.kind === 'device') return p.deviceKind === 'component' || p.deviceKind === 'ha' ? `vigil-${p.deviceKind}` : `vigil-device-${p.id}`;
  if (p.cameras === null && p.role) return `vigil-${p.role}`;
  return `vigil-${p.kind === 'apikey' ? 'key' : 'user'}-${p.id}`;
}

/** A password nobody knows: the client exists (with its role) but nobody logs in until the real one comes. */
function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}
