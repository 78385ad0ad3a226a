/** Migration 2: users, sessions, API keys, device credentials, activity log. */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl, dialectOf } from '../dialect.ts';

export class Security1763700000002 implements MigrationInterface {
  name = 'Security1763700000002';

  async up(q: QueryRunner): Promise<void> {
    const d = ddl(dialectOf(q.connection));
    await q.query(`CREATE TABLE users (
      id TEXT PRIMARY KEY NOT NULL,
      username TEXT NOT NULL ${d.uniqueNoCase},
      password_hash TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('admin','operator','viewer')),
      cameras TEXT,
      totp_secret TEXT,
      totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
      recovery_codes TEXT NOT NULL DEFAULT '[]',
      created_at BIGINT NOT NULL,
      last_login_at BIGINT)`);
    for (const s of d.uniqueNoCaseIndex('users', 'username')) await q.query(s);
    await q.query(`CREATE TABLE sessions (
      id TEXT PRIMARY KEY NOT NULL,
      user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      refresh_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      revoked_at BIGINT,
      ip TEXT)`);
    await q.query('CREATE INDEX idx_sessions_user ON sessions (user_id)');
    await q.query(`CREATE TABLE api_keys (
      id TEXT PRIMARY KEY NOT NULL,
      name TEXT NOT NULL,
      key_hash TEXT NOT NULL,
      scope TEXT NOT NULL CHECK (scope IN ('read','control','admin')),
      cameras TEXT,
      created_by TEXT,
      created_at BIGINT NOT NULL,
      last_used_at BIGINT,
      revoked_at BIGINT)`);
    await q.query(`CREATE TABLE devices (
      id TEXT PRIMARY KEY NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('camera','kiosk','head','component','ha')),
      secret_hash TEXT NOT NULL,
      displays TEXT NOT NULL DEFAULT '[]',
      created_at BIGINT NOT NULL,
      last_seen_at BIGINT,
      revoked_at BIGINT)`);
    await q.query(`CREATE TABLE activity (
      ${d.autoId},
      ts BIGINT NOT NULL,
      actor TEXT NOT NULL,
      action TEXT NOT NULL,
      target TEXT,
      ip TEXT,
      outcome TEXT NOT NULL,
      details TEXT NOT NULL DEFAULT '{}')`);
    await q.query('CREATE INDEX idx_activity_ts ON activity (ts)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['activity', 'devices', 'api_keys', 'sessions', 'users']) await q.query(`DROP TABLE ${t}`);
  }
}
