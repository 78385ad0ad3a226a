/** Entities of the security model (migration 0002). Times are Unix ms. */
import { EntitySchema } from 'typeorm';

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: 'admin' | 'operator' | 'viewer';
  /** JSON `string[]` of granted cameras; null = every camera. */
  cameras: string | null;
  /** Sealed TOTP secret (`secrets.ts`), set while enabling or enabled. */
  totp_secret: string | null;
  totp_enabled: boolean;
  /** JSON `string[]` of SHA-256 hashes of unused recovery codes. */
  recovery_codes: string;
  created_at: number;
  last_login_at: number | null;
}

export interface SessionRow {
  id: string;
  user_id: string;
  /** SHA-256 of the current refresh token (rotated on every refresh). */
  refresh_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  ip: string | null;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  /** SHA-256 of the key's secret part (the secret has 256 bits of entropy). */
  key_hash: string;
  scope: 'read' | 'control' | 'admin';
  cameras: string | null;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface DeviceRow {
  id: string;
  kind: 'camera' | 'kiosk' | 'head' | 'component' | 'ha';
  secret_hash: string;
  /** JSON `string[]`: displays a kiosk may read. */
  displays: string;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
}

export interface ActivityRow {
  id?: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  outcome: string;
  /** JSON, secrets redacted. */
  details: string;
}

const t = (type: 'text' | 'bigint' | 'boolean', nullable = false) => ({ type, nullable });

export const UserEntity = new EntitySchema<UserRow>({
  name: 'User', tableName: 'users',
  columns: {
    id: { type: 'text', primary: true }, username: t('text'), password_hash: t('text'), role: t('text'), cameras: t('text', true),
    totp_secret: t('text', true), totp_enabled: t('boolean'), recovery_codes: t('text'), created_at: t('bigint'), last_login_at: t('bigint', true),
  },
});
export const SessionEntity = new EntitySchema<SessionRow>({
  name: 'Session', tableName: 'sessions',
  columns: {
    id: { type: 'text', primary: true }, user_id: t('text'), refresh_hash: t('text'), created_at: t('bigint'), expires_at: t('bigint'),
    revoked_at: t('bigint', true), ip: t('text', true),
  },
});
export const ApiKeyEntity = new EntitySchema<ApiKeyRow>({
  name: 'ApiKey', tableName: 'api_keys',
  columns: {
    id: { type: 'text', primary: true }, name: t('text'), key_hash: t('text'), scope: t('text'), cameras: t('text', true), created_by: t('text', true),
    created_at: t('bigint'), last_used_at: t('bigint', true), revoked_at: t('bigint', true),
  },
});
export const DeviceEntity = new EntitySchema<DeviceRow>({
  name: 'Device', tableName: 'devices',
  columns: {
    id: { type: 'text', primary: true }, kind: t('text'), secret_hash: t('text'), displays: t('text'), created_at: t('bigint'),
    last_seen_at: t('bigint', true), revoked_at: t('bigint', true),
  },
});
export const ActivityEntity = new EntitySchema<ActivityRow>({
  name: 'Activity', tableName: 'activity',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' }, ts: t('bigint'), actor: t('text'), action: t('text'), target: t('text', true),
    ip: t('text', true), outcome: t('text'), details: t('text'),
  },
});

export const securityEntities = [UserEntity, SessionEntity, ApiKeyEntity, DeviceEntity, ActivityEntity];
