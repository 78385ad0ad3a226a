/**
 * Machine credentials:
 * - API keys `vgl_<id>_<secret>` for `X-API-Key` (and MQTT passwords), scoped
 *   read/control/admin and optionally to cameras, with last-used time, revocable;
 * - device credentials `vgd_<id>_<secret>` for cameras, kiosks, camera heads, the HA
 *   integration and components running as their own process, used as MQTT passwords
 *   with the device id as username.
 * Only SHA-256 of the 256-bit secret part is stored (fast hashing is enough for random
 * secrets; OWASP's slow hashes are for human passwords); comparison is constant-time.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ApiKeyEntity, DeviceEntity, type ApiKeyRow, type DeviceRow } from '../store/security-entities.ts';
import { NotFound } from '../errors.ts';
import type { ApiScope, DeviceKind } from './principal.ts';
import { ChangeFeed, fingerprint } from './changes.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** An API key as listed (never the secret). */
export interface PublicApiKey { id: string; name: string; scope: ApiScope; cameras: string[] | null; created_at: number; last_used_at: number | null; revoked_at: number | null }
export interface PublicDevice { id: string; kind: DeviceKind; displays: string[]; created_at: number; last_seen_at: number | null; revoked_at: number | null }

/** Splits `vgl_<id>_<secret>` / `vgd_<id>_<secret>`. */
function parse(prefix: 'vgl' | 'vgd', key: string): { id: string; secret: string } | null {
  const m = new RegExp(`^${prefix}_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]{20,})$`).exec(key.trim());
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** A revoked credential: an API key or a device, by id. */
export interface Revocation { kind: 'apikey' | 'device'; id: string }

export class CredentialStore {
  /** last_used_at is written at most once a minute per key. */
  private readonly lastWrite = new Map<string, number>();
  private readonly revokedListeners = new Set<(r: Revocation) => void>();
  /** Every key and device created, changed, revoked or verified, with the clear secret when there is one (`changes.ts`). */
  readonly changes = new ChangeFeed();

  /**
   * Calls `listener` after each revocation (the broker drops the revoked principal's
   * connected clients at once). @returns a function that removes the listener
   */
  onRevoked(listener: (r: Revocation) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  private revoked(r: Revocation): void {
    for (const l of this.revokedListeners) l(r);
  }

  constructor(private readonly ds: DataSource) {}
  private get keys() { return this.ds.getRepository(ApiKeyEntity); }
  private get devices() { return this.ds.getRepository(DeviceEntity); }

  /** Creates an API key. @returns the listing and the full key (shown once). */
  async createKey(input: { name: string; scope: ApiScope; cameras?: string[] | null; createdBy: string }): Promise<{ key: string; api_key: PublicApiKey }> {
    const id = randomUUID().slice(0, 8);
    const secret = randomBytes(32).toString('base64url');
    const row: ApiKeyRow = { id, name: input.name, key_hash: sha256(secret), scope: input.scope, cameras: input.cameras ? JSON.stringify(input.cameras) : null, created_by: input.createdBy, created_at: Date.now(), last_used_at: null, revoked_at: null };
    await this.keys.insert(row);
    await this.changes.emit({ kind: 'apikey', id, op: 'write', secret: `vgl_${id}_${secret}`, fingerprint: fingerprint(row.key_hash) });
    return { key: `vgl_${id}_${secret}`, api_key: keyToPublic(row) };
  }

  async listKeys(): Promise<PublicApiKey[]> { return (await this.keys.find({ order: { created_at: 'DESC' } })).map(keyToPublic); }

  /** Revokes a key. @throws NotFound */
  async revokeKey(id: string): Promise<void> {
    if (!(await this.keys.update({ id }, { revoked_at: Date.now() })).affected) throw new NotFound(`no API key ${id}`);
    this.revoked({ kind: 'apikey', id });
    await this.changes.emit({ kind: 'apikey', id, op: 'remove' });
  }

  /** A key by id, unless revoked (media tokens minted by a key are owned by it). */
  async keyById(id: string): Promise<ApiKeyRow | null> {
    const row = await this.keys.findOneBy({ id });
    return row && !row.revoked_at ? row : null;
  }

  /** Resolves a presented key; null when malformed, unknown, wrong or revoked. Updates last_used_at. */
  async verifyKey(key: string): Promise<ApiKeyRow | null> {
    const p = parse('vgl', key);
    if (!p) return null;
    const row = await this.keys.findOneBy({ id: p.id });
    if (!row || row.revoked_at || !sameHash(row.key_hash, sha256(p.secret))) return null;
    void this.changes.emit({ kind: 'apikey', id: row.id, op: 'seen', secret: key.trim(), fingerprint: fingerprint(row.key_hash) });
    const now = Date.now();
    if (now - (this.lastWrite.get(row.id) ?? 0) > 60_000) {
      this.lastWrite.set(row.id, now);
      row.last_used_at = now;
      await this.keys.update({ id: row.id }, { last_used_at: now });
    }
    return row;
  }

  /** Creates (or re-keys) a device credential. @returns the listing and the secret (shown once). */
  async createDevice(input: { id: string; kind: DeviceKind; displays?: string[] }): Promise<{ password: string; device: PublicDevice }> {
    const secret = randomBytes(32).toString('base64url');
    const row: DeviceRow = { id: input.id, kind: input.kind, secret_hash: sha256(secret), displays: JSON.stringify(input.displays ?? []), created_at: Date.now(), last_seen_at: null, revoked_at: null };
    await this.devices.save(row);
    await this.changes.emit({ kind: 'device', id: input.id, op: 'write', secret: `vgd_${input.id}_${secret}`, fingerprint: fingerprint(row.secret_hash) });
    return { password: `vgd_${input.id}_${secret}`, device: deviceToPublic(row) };
  }

  async listDevices(): Promise<PublicDevice[]> { return (await this.devices.find({ order: { id: 'ASC' } })).map(deviceToPublic); }

  /** Revokes a device. @throws NotFound */
  async revokeDevice(id: string): Promise<void> {
    if (!(await this.devices.update({ id }, { revoked_at: Date.now() })).affected) throw new NotFound(`no device ${id}`);
    this.revoked({ kind: 'device', id });
    await this.changes.emit({ kind: 'device', id, op: 'remove' });
  }

  /** A device row (revoked ones too), or null. */
  async deviceById(id: string): Promise<DeviceRow | null> {
    return this.devices.findOneBy({ id });
  }

  /** Replaces the displays a kiosk device may read. @throws NotFound */
  async setDeviceDisplays(id: string, displays: string[]): Promise<void> {
    if (!(await this.devices.update({ id }, { displays: JSON.stringify(displays) })).affected) throw new NotFound(`no device ${id}`);
    await this.changes.emit({ kind: 'device', id, op: 'write' });
  }

  /** Resolves a whole device credential `vgd_<id>_<secret>` (HTTP `Authorization: Bearer`); null when invalid or revoked. */
  async verifyDeviceToken(token: string): Promise<DeviceRow | null> {
    const p = parse('vgd', token);
    return p ? this.verifyDevice(p.id, token) : null;
  }

  /** Resolves device credentials; null unless `username` is the device id and the secret matches. */
  async verifyDevice(username: string, password: string): Promise<DeviceRow | null> {
    const p = parse('vgd', password);
    if (!p || p.id !== username) return null;
    const row = await this.devices.findOneBy({ id: p.id });
    if (!row || row.revoked_at || !sameHash(row.secret_hash, sha256(p.secret))) return null;
    void this.changes.emit({ kind: 'device', id: row.id, op: 'seen', secret: password, fingerprint: fingerprint(row.secret_hash) });
    await this.devices.update({ id: row.id }, { last_seen_at: Date.now() });
    return row;
  }
}

function keyToPublic(r: ApiKeyRow): PublicApiKey {
  return { id: r.id, name: r.name, scope: r.scope, cameras: r.cameras ? (JSON.parse(r.cameras) as string[]) : null, created_at: r.created_at, last_used_at: r.last_used_at, revoked_at: r.revoked_at };
}
function deviceToPublic(r: DeviceRow): PublicDevice {
  return { id: r.id, kind: r.kind, displays: JSON.parse(r.displays) as string[], created_at: r.created_at, last_seen_at: r.last_seen_at, revoked_at: r.revoked_at };
}
