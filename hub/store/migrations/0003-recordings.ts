/** Migration 3: recording segments and exports (event clips and user exports). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Recordings1763700000003 implements MigrationInterface {
  name = 'Recordings1763700000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE recordings (
      id TEXT PRIMARY KEY NOT NULL,
      camera TEXT NOT NULL,
      path TEXT NOT NULL UNIQUE,
      start_time DOUBLE PRECISION NOT NULL,
      end_time DOUBLE PRECISION NOT NULL,
      duration DOUBLE PRECISION NOT NULL,
      bytes BIGINT NOT NULL,
      motion BOOLEAN NOT NULL DEFAULT FALSE,
      objects BOOLEAN NOT NULL DEFAULT FALSE)`);
    await q.query('CREATE INDEX idx_recordings_camera_start ON recordings (camera, start_time)');
    await q.query('CREATE INDEX idx_recordings_start ON recordings (start_time)');
    await q.query(`CREATE TABLE exports (
      id TEXT PRIMARY KEY NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('clip','export')),
      camera TEXT NOT NULL,
      event_id TEXT,
      start_time DOUBLE PRECISION NOT NULL,
      end_time DOUBLE PRECISION NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed')),
      progress DOUBLE PRECISION NOT NULL DEFAULT 0,
      path TEXT,
      bytes BIGINT,
      error TEXT,
      created_by TEXT,
      created_at BIGINT NOT NULL)`);
    await q.query('CREATE INDEX idx_exports_camera ON exports (camera, start_time)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE exports');
    await q.query('DROP TABLE recordings');
  }
}
