/**
 * Users: accounts with a role and optional per-camera grants, scrypt passwords,
 * optional TOTP (RFC 6238 via otplib) with ten single-use recovery codes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { generate as totpGenerate, generateSecret, generateURI, verify as totpVerify } from 'otplib';
import { UserEntity, type UserRow } from '../store/security-entities.ts';
import { dialectOf, equalsNoCase } from '../store/dialect.ts';
import { Conflict, InvalidInput, NotFound } from '../errors.ts';
import { dummyVerify, hashPassword, verifyPassword } from './passwords.ts';
import type { Role } from './principal.ts';
import { ChangeFeed, fingerprint } from './changes.ts';
import type { SecretBox } from '../../components/protocol/secret-box.ts';

/** How late a TOTP code may arrive, s: one 30-s step (RFC 6238 §5.2). */
const TOTP_DELAY_S = 30;

/** A user as the API shows it: no hash, no TOTP secret, no recovery codes. */
export interface PublicUser {
  id: string;
  username: string;
  role: Role;
  cameras: string[] | null;
  totp_enabled: boolean;
  created_at: number;
  last_login_at: number | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** Minimum password length (NIST SP 800-63B asks for at least 8). */
export const MIN_PASSWORD = 8;

export class UserStore {
  /** Every create, change, deletion and password login, with the clear password when there is one (`changes.ts`). */
  readonly changes = new ChangeFeed();

  constructor(private readonly ds: DataSource, private readonly box: SecretBox) {}

  private get repo() { return this.ds.getRepository(UserEntity); }

  async count(): Promise<number> { return this.repo.count(); }
  /** Every user, by name without case (as SQLite's `COLLATE NOCASE` column sorts; PostgreSQL alike). */
  async list(): Promise<PublicUser[]> {
    return (await this.repo.createQueryBuilder('u').orderBy('lower(u.username)', 'ASC').addOrderBy('u.username', 'ASC').getMany()).map(toPublic);
  }
  async byId(id: string): Promise<UserRow | null> { return this.repo.findOneBy({ id }); }
  /** The user named `username`, ignoring (ASCII) case, as the unique index on names does. */
  async byName(username: string): Promise<UserRow | null> {
    return this.repo.createQueryBuilder('u').where(equalsNoCase(dialectOf(this.ds), 'u.username', 'u'), { u: username }).getOne();
  }

  /** Creates a user. @throws InvalidInput (weak password), Conflict (name taken). */
  async create(input: { username: string; password: string; role: Role; cameras?: string[] | null }): Promise<PublicUser> {
    if (input.password.length < MIN_PASSWORD) throw new InvalidInput(`password: at least ${MIN_PASSWORD} characters`, 'password');
    if (await this.byName(input.username)) throw new Conflict(`user ${input.username} exists`, 'username');
    const row: UserRow = {
      id: randomUUID(), username: input.username, password_hash: await hashPassword(input.password), role: input.role,
      cameras: input.cameras ? JSON.stringify(input.cameras) : null, totp_secret: null, totp_enabled: false, recovery_codes: '[]',
      created_at: Date.now(), last_login_at: null,
    };
    await this.repo.insert(row);
    await this.changes.emit({ kind: 'user', id: row.id, op: 'write', secret: input.password, fingerprint: fingerprint(row.password_hash) });
    return toPublic(row);
  }

  /** Changes role, grants or password. @throws NotFound, InvalidInput. */
  async update(id: string, changes: { role?: Role; cameras?: string[] | null; password?: string }): Promise<PublicUser> {
    const u = await this.byId(id);
    if (!u) throw new NotFound(`no user ${id}`);
    if (changes.role) u.role = changes.role;
    if (changes.cameras !== undefined) u.cameras = changes.cameras ? JSON.stringify(changes.cameras) : null;
    if (changes.password !== undefined) {
      if (changes.password.length < MIN_PASSWORD) throw new InvalidInput(`password: at least ${MIN_PASSWORD} characters`, 'password');
      u.password_hash = await hashPassword(changes.password);
    }
    await this.repo.save(u);
    await this.changes.emit({ kind: 'user', id, op: 'write', ...(changes.password !== undefined ? { secret: changes.password, fingerprint: fingerprint(u.password_hash) } : {}) });
    return toPublic(u);
  }

  /** Deletes a user (its sessions go with it). @throws NotFound. */
  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete({ id })).affected) throw new NotFound(`no user ${id}`);
    await this.changes.emit({ kind: 'user', id, op: 'remove' });
  }

  /**
   * Checks username + password (+ TOTP or a recovery code when enabled).
   * @returns the user, `'totp_required'` when the password was right but the second factor is missing or wrong, or null.
   */
  async verifyLogin(username: string, password: string, otp?: string): Promise<UserRow | 'totp_required' | null> {
    const u = await this.byName(username);
    if (!u) return dummyVerify(password).then(() => null);
    if (!(await verifyPassword(password, u.password_hash))) return null;
    if (u.totp_enabled) {
      if (!otp || !(await this.checkSecondFactor(u, otp))) return 'totp_required';
    }
    u.last_login_at = Date.now();
    await this.repo.update({ id: u.id }, { last_login_at: u.last_login_at });
    void this.changes.emit({ kind: 'user', id: u.id, op: 'seen', secret: password, fingerprint: fingerprint(u.password_hash) });
    return u;
  }

  /** Starts TOTP enrolment: a new secret (sealed at rest) and its otpauth:// URI. */
  async totpSetup(id: string): Promise<{ secret: string; otpauth_url: string }> {
    const u = await this.byId(id);
    if (!u) throw new NotFound('no such user');
    if (u.totp_enabled) throw new Conflict('TOTP is already enabled');
    const secret = generateSecret();
    await this.repo.update({ id }, { totp_secret: this.box.seal(secret) });
    return { secret, otpauth_url: generateURI({ issuer: 'Vigil', label: u.username, secret }) };
  }

  /** Enables TOTP once a code from the authenticator verifies. @returns ten recovery codes, shown once. */
  async totpEnable(id: string, code: string): Promise<string[]> {
    const u = await this.byId(id);
    if (!u?.totp_secret) throw new InvalidInput('call /api/auth/totp/setup first', undefined, 'totp_not_started');
    if (!(await this.totpOk(u.totp_secret, code))) throw new InvalidInput('the code does not match', 'code', 'invalid_code');
    const codes = Array.from({ length: 10 }, () => randomBytes(5).toString('hex'));
    await this.repo.update({ id }, { totp_enabled: true, recovery_codes: JSON.stringify(codes.map(sha256)) });
    await this.changes.emit({ kind: 'user', id, op: 'write' });
    return codes;
  }

  /** Disables TOTP (needs the password again). */
  /**
   * A user's own password change: `current` must be right (else InvalidInput on field
   * `current_password`, code `invalid_credentials`); the new one is hashed as any.
   * @throws InvalidInput, NotFound
   */
  async changeOwnPassword(id: string, current: string, next: string): Promise<void> {
    const u = await this.byId(id);
    if (!u) throw new NotFound(`no user ${id}`);
    if (!(await verifyPassword(current, u.password_hash))) throw new InvalidInput('the current password is wrong', 'current_password', 'invalid_credentials');
    if (current === next) throw new InvalidInput('the new password is the current one', 'new_password');
    await this.update(id, { password: next });
  }

  async totpDisable(id: string, password: string): Promise<void> {
    const u = await this.byId(id);
    if (!u || !(await verifyPassword(password, u.password_hash))) throw new InvalidInput('password is wrong', 'password', 'invalid_credentials');
    await this.repo.update({ id }, { totp_enabled: false, totp_secret: null, recovery_codes: '[]' });
    await this.changes.emit({ kind: 'user', id, op: 'write', secret: password, fingerprint: fingerprint(u.password_hash) });
  }

  /** For tests and tools: the current TOTP code of a user with a secret. */
  async currentCode(id: string): Promise<string> {
    const u = await this.byId(id);
    if (!u?.totp_secret) throw new Error('no TOTP secret');
    return totpGenerate({ secret: this.box.open(u.totp_secret) });
  }

  /**
   * Verifies a TOTP code, accepting the previous 30-s step too (RFC 6238 §5.2 recommends
   * one step of allowed delay: a code typed at the end of its period still works).
   */
  private async totpOk(sealedSecret: string, code: string): Promise<boolean> {
    return (await totpVerify({ secret: this.box.open(sealedSecret), token: code, epochTolerance: [TOTP_DELAY_S, 0] })).valid;
  }

  private async checkSecondFactor(u: UserRow, otp: string): Promise<boolean> {
    const code = otp.trim();
    if (/^\d{6}$/.test(code)) return this.totpOk(u.totp_secret!, code);
    const left = JSON.parse(u.recovery_codes) as string[];
    const i = left.indexOf(sha256(code.toLowerCase()));
    if (i < 0) return false;
    left.splice(i, 1); // single use
    await this.repo.update({ id: u.id }, { recovery_codes: JSON.stringify(left) });
    return true;
  }
}

export function toPublic(u: UserRow): PublicUser {
  return {
    id: u.id, username: u.username, role: u.role, cameras: u.cameras ? (JSON.parse(u.cameras) as string[]) : null,
    totp_enabled: Boolean(u.totp_enabled), created_at: u.created_at, last_login_at: u.last_login_at,
  };
}
