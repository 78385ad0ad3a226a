/**
 * Migration 1: cameras, zones, masks, events, settings. Portable SQL (hub/store/dialect.ts):
 * Unix-ms times are `BIGINT`, Unix-s times and scores `DOUBLE PRECISION`.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ddl, dialectOf } from '../dialect.ts';

export class Initial1763700000001 implements MigrationInterface {
  name = 'Initial1763700000001';

  async up(q: QueryRunner): Promise<void> {
    const d = ddl(dialectOf(q.connection));
    await q.query(`CREATE TABLE cameras (
      name TEXT PRIMARY KEY NOT NULL,
      enabled BOOLEAN NOT NULL DEFAULT TRUE,
      device_type TEXT NOT NULL CHECK (device_type IN ('camera','camera_speaker','doorbell')),
      connection_method TEXT NOT NULL CHECK (connection_method IN ('direct','bridge')),
      paths TEXT NOT NULL,
      username TEXT,
      password TEXT,
      settings TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL)`);
    await q.query(`CREATE TABLE zones (
      ${d.autoId},
      camera TEXT NOT NULL REFERENCES cameras(name) ON DELETE CASCADE,
      name TEXT NOT NULL,
      coordinates TEXT NOT NULL,
      objects TEXT NOT NULL DEFAULT '[]',
      threshold DOUBLE PRECISION NOT NULL DEFAULT 0,
      inertia INTEGER NOT NULL DEFAULT 3,
      loitering_time DOUBLE PRECISION NOT NULL DEFAULT 0,
      position INTEGER NOT NULL DEFAULT 0,
      UNIQUE (camera, name))`);
    await q.query(`CREATE TABLE masks (
      ${d.autoId},
      camera TEXT NOT NULL REFERENCES cameras(name) ON DELETE CASCADE,
      name TEXT NOT NULL,
      coordinates TEXT NOT NULL,
      applies_to TEXT NOT NULL CHECK (applies_to IN ('motion','objects','both')),
      position INTEGER NOT NULL DEFAULT 0)`);
    await q.query(`CREATE TABLE events (
      id TEXT PRIMARY KEY NOT NULL,
      camera TEXT NOT NULL,
      label TEXT NOT NULL,
      sub_label TEXT,
      score DOUBLE PRECISION NOT NULL,
      top_score DOUBLE PRECISION NOT NULL,
      box TEXT NOT NULL,
      area DOUBLE PRECISION NOT NULL,
      zones TEXT NOT NULL DEFAULT '[]',
      start_time DOUBLE PRECISION NOT NULL,
      end_time DOUBLE PRECISION,
      has_snapshot BOOLEAN NOT NULL DEFAULT FALSE,
      false_positive BOOLEAN NOT NULL DEFAULT FALSE,
      data TEXT NOT NULL)`);
    await q.query('CREATE INDEX idx_events_camera_start ON events (camera, start_time)');
    await q.query('CREATE INDEX idx_events_label_start ON events (label, start_time)');
    await q.query('CREATE INDEX idx_events_start ON events (start_time)');
    await q.query('CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['settings', 'events', 'masks', 'zones', 'cameras']) await q.query(`DROP TABLE ${t}`);
  }
}
