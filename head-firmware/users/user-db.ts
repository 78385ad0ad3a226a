/**
 * The camera head's users and API tokens, in SQLite (better-sqlite3): `<dataDir>/users.db`,
 * or two tables in a database handle the caller already has open.
 *
 * Each user has a name, a role (`viewer` / `operator` / `admin`, see
 * `../state/permissions.ts`), and three forms of the password:
 * - a scrypt hash (`components/protocol/passwords.ts`, shared with the hub) for Basic auth
 *   and the login form;
 * - the HTTP Digest HA1 for MD5 and for SHA-256: `H(username:realm:password)` (RFC 7616
 *   §3.4.2). Digest proves knowledge of the password by hashing HA1 with a server nonce,
 *   so the server must hold HA1 itself: it cannot be computed from a scrypt hash. HA1 is
 *   password-equivalent for this realm (whoever reads it can answer Digest challenges) and
 *   a fast hash (no brute-force resistance), so the database file must be kept private
 *   (the file is created mode 0600). HA1 is bound to the realm: after a realm change it
 *   is recomputed at the user's next password login (Basic or the form).
 *
 * API tokens (HTTP `Authorization: Bearer`): 32 random bytes, shown once at creation
 * (`vht_<base64url>`), stored as their SHA-256 only.
 *
 * Errors: methods that change users throw {@link UserDbError} (`invalid`, `conflict`,
 * `not_found`) with the offending field, never a raw SQLite error for bad input.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { dummyVerify, hashPassword, verifyPassword } from '../../components/protocol/passwords.ts';
import { ROLES, type Role } from '../state/types.ts';

/** The Digest realm when none is configured. */
export const DEFAULT_REALM = 'vigil-head';
/** User names: 1–64 characters of `A-Z a-z 0-9 _ . -`, starting with a letter or digit (no `:`, which Basic auth splits on). */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Password length bounds, characters (NIST SP 800-63B: at least 8). */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
/** A token's `last_used_at` is written at most this often, ms (spares a write per request). */
const TOKEN_TOUCH_MS = 60_000;

/** A user as the API shows it (never any form of the password). */
export interface HeadUser {
  name: string;
  role: Role;
  /** Unix ms. */
  created_at: number;
  /** Unix ms of the last change of role or password. */
  updated_at: number;
}

/** An API token's record (never the token itself). */
export interface HeadToken {
  /** 16 hex characters; names the token for listing and revocation. */
  id: string;
  user: string;
  label: string;
  /** Unix ms. */
  created_at: number;
  /** Unix ms, or null for a token that never expires. */
  expires_at: number | null;
  /** Unix ms (updated at most once a minute), or null when never used. */
  last_used_at: number | null;
}

/** The Digest hash algorithms (RFC 7616 §3.3; the `-sess` variants use the same HA1). */
export type DigestHash = 'MD5' | 'SHA-256';

/** What changed about a user, for listeners that hold sessions or sockets. */
export interface UserChange {
  name: string;
  what: 'added' | 'removed' | 'role' | 'password';
}

export class UserDbError extends Error {
  /**
   * @param code `invalid` (bad input), `conflict` (exists already / last admin), `not_found`
   * @param field the input field at fault, when there is one
   */
  constructor(readonly code: 'invalid' | 'conflict' | 'not_found', message: string, readonly field?: string) {
    super(message);
    this.name = 'UserDbError';
  }
}

export interface UserDbOptions {
  /** An open database to add the tables to (the caller closes it). */
  db?: Database.Database;
  /** Else the directory of `users.db` (created if missing). One of `db` and `dataDir` is required. */
  dataDir?: string;
  /** The Digest realm HA1 is computed for. Default {@link DEFAULT_REALM}. */
  realm?: string;
  logger?: Logger;
}

interface UserRow {
  name: string;
  role: string;
  password_hash: string;
  digest_realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  created_at: number;
  updated_at: number;
}

interface TokenRow {
  id: string;
  user: string;
  token_sha256: string;
  label: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

const hex = (algo: 'md5' | 'sha256', s: string) => createHash(algo).update(s, 'utf8').digest('hex');
const sha256 = (s: string) => hex('sha256', s);

/** `H(username:realm:password)` as lowercase hex (RFC 7616 §3.4.2), the string hashed as UTF-8. */
export function digestHa1(algorithm: DigestHash, name: string, realm: string, password: string): string {
  return hex(algorithm === 'MD5' ? 'md5' : 'sha256', `${name}:${realm}:${password}`);
}

/** @throws UserDbError `invalid` (field `name`) unless `name` matches {@link USER_NAME}. */
export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    throw new UserDbError('invalid', 'name must be 1–64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit', 'name');
  }
  return name;
}

/** @throws UserDbError `invalid` (field `role`) unless `role` is one of {@link ROLES}. */
export function checkRole(role: unknown): Role {
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new UserDbError('invalid', `role must be one of ${ROLES.join(', ')}`, 'role');
  return role as Role;
}

/** @throws UserDbError `invalid` (field `password`) unless a string of {@link PASSWORD_MIN}–{@link PASSWORD_MAX} characters. */
export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || [...password].length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new UserDbError('invalid', `password must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`, 'password');
  }
  return password;
}

/** The head's users and tokens. Synchronous SQLite except where scrypt runs (async). */
export class UserDb {
  /** The Digest realm. */
  readonly realm: string;
  private readonly db: Database.Database;
  private readonly owned: boolean;
  private readonly logger?: Logger;
  private readonly listeners = new Set<(c: UserChange) => void>();
  private readonly q: ReturnType<typeof prepare>;

  /** @throws when the database cannot be opened or neither `db` nor `dataDir` is given. */
  constructor(opts: UserDbOptions) {
    this.realm = opts.realm ?? DEFAULT_REALM;
    this.logger = opts.logger;
    if (opts.db) {
      this.db = opts.db;
      this.owned = false;
    } else if (opts.dataDir) {
      mkdirSync(opts.dataDir, { recursive: true });
      const file = path.join(opts.dataDir, 'users.db');
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      try { chmodSync(file, 0o600); } catch { /* not ours to chmod: leave it */ }
      this.owned = true;
    } else {
      throw new Error('UserDb: give db or dataDir');
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS head_users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        digest_realm TEXT NOT NULL,
        ha1_md5 TEXT NOT NULL,
        ha1_sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS head_tokens (
        id TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        token_sha256 TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS head_tokens_user ON head_tokens(user);
    `);
    this.q = prepare(this.db);
  }

  /** Number of users. */
  count(): number {
    return this.q.count.get()!.n;
  }

  /** Every user, by name. */
  list(): HeadUser[] {
    return this.q.all.all().map(toUser);
  }

  /** One user, or undefined. Non-strings and malformed names are simply not found. */
  get(name: string): HeadUser | undefined {
    if (typeof name !== 'string' || !USER_NAME.test(name)) return undefined;
    const row = this.q.one.get(name);
    return row ? toUser(row) : undefined;
  }

  /**
   * Adds a user (one scrypt hash, ~0.3 s).
   * @throws UserDbError `invalid` for a bad name, role or password; `conflict` when the name exists.
   */
  async add(name: string, role: Role, password: string): Promise<HeadUser> {
    checkUserName(name);
    checkRole(role);
    checkPassword(password);
    if (this.q.one.get(name)) throw new UserDbError('conflict', `user ${name} exists`, 'name');
    const secrets = await this.secrets(name, password);
    const now = Date.now();
    try {
      this.q.insert.run({ name, role, ...secrets, created_at: now, updated_at: now });
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new UserDbError('conflict', `user ${name} exists`, 'name');
      throw err;
    }
    this.logger?.info({ user: name, role }, 'head user added');
    this.emit({ name, what: 'added' });
    return this.get(name)!;
  }

  /**
   * Removes a user and their tokens.
   * @throws UserDbError `not_found`; `conflict` when it is the last admin.
   */
  remove(name: string): void {
    const row = this.row(name);
    if (row.role === 'admin' && this.q.admins.get()!.n <= 1) throw new UserDbError('conflict', 'cannot remove the last admin', 'name');
    this.db.transaction(() => {
      this.q.removeTokensOf.run(name);
      this.q.remove.run(name);
    })();
    this.logger?.info({ user: name }, 'head user removed');
    this.emit({ name, what: 'removed' });
  }

  /**
   * Changes a user's role.
   * @throws UserDbError `not_found`, `invalid` role, `conflict` when demoting the last admin.
   */
  setRole(name: string, role: Role): HeadUser {
    const row = this.row(name);
    checkRole(role);
    if (row.role === role) return toUser(row);
    if (row.role === 'admin' && this.q.admins.get()!.n <= 1) throw new UserDbError('conflict', 'cannot demote the last admin', 'role');
    this.q.setRole.run(role, Date.now(), name);
    this.logger?.info({ user: name, role }, 'head user role changed');
    this.emit({ name, what: 'role' });
    return this.get(name)!;
  }

  /**
   * Sets a user's password (scrypt hash and both Digest HA1s). Listeners are told
   * (`password`): sessions and sockets of the user should end.
   * @throws UserDbError `not_found`, `invalid` password.
   */
  async setPassword(name: string, password: string): Promise<void> {
    this.row(name);
    checkPassword(password);
    const secrets = await this.secrets(name, password);
    const r = this.q.setPassword.run({ name, ...secrets, updated_at: Date.now() });
    if (r.changes === 0) throw new UserDbError('not_found', `no user ${name}`, 'name');
    this.logger?.info({ user: name }, 'head user password changed');
    this.emit({ name, what: 'password' });
  }

  /**
   * Checks a password (scrypt; unknown names cost the same time). On success, refreshes the
   * Digest HA1s when they were computed for another realm.
   * @returns the user, or null for an unknown name or a wrong password.
   */
  async verifyPassword(name: string, password: string): Promise<HeadUser | null> {
    if (typeof password !== 'string' || password.length > PASSWORD_MAX) return null;
    const row = typeof name === 'string' && USER_NAME.test(name) ? this.q.one.get(name) : undefined;
    if (!row) return dummyVerify(password).then(() => null);
    if (!(await verifyPassword(password, row.password_hash))) return null;
    if (row.digest_realm !== this.realm) {
      this.q.setHa1.run({ name, digest_realm: this.realm, ha1_md5: digestHa1('MD5', name, this.realm, password), ha1_sha256: digestHa1('SHA-256', name, this.realm, password) });
    }
    return toUser(row);
  }

  /**
   * The stored Digest HA1 of a user for this realm, lowercase hex.
   * @returns null for an unknown user or an HA1 of another realm (see the module comment).
   */
  digestHa1(name: string, algorithm: DigestHash): { user: HeadUser; ha1: string } | null {
    const row = typeof name === 'string' && USER_NAME.test(name) ? this.q.one.get(name) : undefined;
    if (!row || row.digest_realm !== this.realm) return null;
    return { user: toUser(row), ha1: algorithm === 'MD5' ? row.ha1_md5 : row.ha1_sha256 };
  }

  /**
   * Creates an API token for a user.
   * @param opts.label free text up to 100 characters (default empty)
   * @param opts.ttlMs lifetime, ms (default: never expires)
   * @returns the token (`vht_` + 43 base64url characters: shown this once, stored only as SHA-256) and its record.
   * @throws UserDbError `not_found`, `invalid` label or ttl.
   */
  createToken(name: string, opts: { label?: string; ttlMs?: number } = {}): { token: string; info: HeadToken } {
    this.row(name);
    const label = opts.label ?? '';
    if (typeof label !== 'string' || label.length > 100) throw new UserDbError('invalid', 'label must be a string of at most 100 characters', 'label');
    if (opts.ttlMs !== undefined && !(Number.isFinite(opts.ttlMs) && opts.ttlMs > 0)) throw new UserDbError('invalid', 'ttl must be a positive number', 'ttl_s');
    const token = `vht_${randomBytes(32).toString('base64url')}`;
    const now = Date.now();
    const row = { id: randomBytes(8).toString('hex'), user: name, token_sha256: sha256(token), label, created_at: now, expires_at: opts.ttlMs ? now + Math.round(opts.ttlMs) : null };
    this.q.insertToken.run(row);
    this.logger?.info({ user: name, token: row.id }, 'head API token created');
    return { token, info: { id: row.id, user: name, label, created_at: now, expires_at: row.expires_at, last_used_at: null } };
  }

  /** A user's tokens (records only). @throws UserDbError `not_found`. */
  tokens(name: string): HeadToken[] {
    this.row(name);
    return this.q.tokensOf.all(name).map(toToken);
  }

  /** Revokes one of a user's tokens. @returns false when the user has no such token. */
  revokeToken(name: string, id: string): boolean {
    if (typeof id !== 'string') return false;
    const ok = this.q.revokeToken.run(id, name).changes > 0;
    if (ok) this.logger?.info({ user: name, token: id }, 'head API token revoked');
    return ok;
  }

  /**
   * The user a Bearer token belongs to (a SHA-256 lookup: the token has 256 random bits, so
   * the lookup leaks nothing useful through timing).
   * @returns null for an unknown, revoked or expired token.
   */
  verifyToken(token: string): HeadUser | null {
    if (typeof token !== 'string' || token.length > 200) return null;
    const row = this.q.tokenByHash.get(sha256(token));
    const now = Date.now();
    if (!row || (row.expires_at !== null && row.expires_at <= now)) return null;
    const user = this.q.one.get(row.user);
    if (!user) return null;
    if (row.last_used_at === null || now - row.last_used_at > TOKEN_TOUCH_MS) this.q.touchToken.run(now, row.id);
    return toUser(user);
  }

  /**
   * First start: with no user at all, creates `admin` (role admin) with `password`, or with
   * a random one (18 random bytes, base64url: 24 characters) that is written to the log
   * once, at warn level — there is no default password. Does nothing when a user exists.
   * @returns `created` and, when random, the password (for a console that is not the log).
   * @throws UserDbError `invalid` when the configured password is too short.
   */
  async ensureAdmin(password?: string): Promise<{ created: boolean; password?: string }> {
    if (this.count() > 0) return { created: false };
    const random = password === undefined || password === '';
    const pw = random ? randomBytes(18).toString('base64url') : password;
    await this.add('admin', 'admin', pw);
    if (random) {
      // The one place a password reaches the log: the first start's random admin password (like the hub's setup token).
      this.logger?.warn(`first start: created user "admin" with the one-time password ${pw} — log in and change it (PATCH /api/users/admin)`);
      return { created: true, password: pw };
    }
    this.logger?.info('first start: created user "admin" with the configured password');
    return { created: true };
  }

  /** Calls `listener` after every change of a user. @returns a function that unsubscribes. */
  onChange(listener: (c: UserChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the database when this object opened it. */
  close(): void {
    this.listeners.clear();
    if (this.owned && this.db.open) this.db.close();
  }

  private row(name: string): UserRow {
    const row = typeof name === 'string' && USER_NAME.test(name) ? this.q.one.get(name) : undefined;
    if (!row) throw new UserDbError('not_found', `no user ${String(name)}`, 'name');
    return row;
  }

  private async secrets(name: string, password: string) {
    return {
      password_hash: await hashPassword(password),
      digest_realm: this.realm,
      ha1_md5: digestHa1('MD5', name, this.realm, password),
      ha1_sha256: digestHa1('SHA-256', name, this.realm, password),
    };
  }

  private emit(c: UserChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.logger?.warn({ err: (err as Error).message }, 'user change listener failed');
      }
    }
  }
}

/** The prepared statements. */
function prepare(db: Database.Database) {
  return {
    count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM head_users'),
    admins: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM head_users WHERE role = 'admin'"),
    all: db.prepare<[], UserRow>('SELECT * FROM head_users ORDER BY name'),
    one: db.prepare<[string], UserRow>('SELECT * FROM head_users WHERE name = ?'),
    insert: db.prepare('INSERT INTO head_users (name, role, password_hash, digest_realm, ha1_md5, ha1_sha256, created_at, updated_at) VALUES (@name, @role, @password_hash, @digest_realm, @ha1_md5, @ha1_sha256, @created_at, @updated_at)'),
    setPassword: db.prepare('UPDATE head_users SET password_hash = @password_hash, digest_realm = @digest_realm, ha1_md5 = @ha1_md5, ha1_sha256 = @ha1_sha256, updated_at = @updated_at WHERE name = @name'),
    setHa1: db.prepare('UPDATE head_users SET digest_realm = @digest_realm, ha1_md5 = @ha1_md5, ha1_sha256 = @ha1_sha256 WHERE name = @name'),
    setRole: db.prepare('UPDATE head_users SET role = ?, updated_at = ? WHERE name = ?'),
    remove: db.prepare('DELETE FROM head_users WHERE name = ?'),
    removeTokensOf: db.prepare('DELETE FROM head_tokens WHERE user = ?'),
    insertToken: db.prepare('INSERT INTO head_tokens (id, user, token_sha256, label, created_at, expires_at, last_used_at) VALUES (@id, @user, @token_sha256, @label, @created_at, @expires_at, NULL)'),
    tokenByHash: db.prepare<[string], TokenRow>('SELECT * FROM head_tokens WHERE token_sha256 = ?'),
    tokensOf: db.prepare<[string], TokenRow>('SELECT * FROM head_tokens WHERE user = ? ORDER BY created_at'),
    touchToken: db.prepare('UPDATE head_tokens SET last_used_at = ? WHERE id = ?'),
    revokeToken: db.prepare('DELETE FROM head_tokens WHERE id = ? AND user = ?'),
  };
}

function toUser(r: UserRow): HeadUser {
  return { name: r.name, role: r.role as Role, created_at: r.created_at, updated_at: r.updated_at };
}

function toToken(r: TokenRow): HeadToken {
  return { id: r.id, user: r.user, label: r.label, created_at: r.created_at, expires_at: r.expires_at, last_used_at: r.last_used_at };
}
