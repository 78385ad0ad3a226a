/** Migration 5: the camera wall — kiosks, their displays, and layouts (regions kept as JSON). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Wall1763700000005 implements MigrationInterface {
  name = 'Wall1763700000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE kiosks (
      id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, device_id TEXT NOT NULL, created_at BIGINT NOT NULL)`);
    await q.query(`CREATE TABLE layouts (
      id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`);
    await q.query(`CREATE TABLE displays (
      id TEXT PRIMARY KEY NOT NULL, kiosk_id TEXT NOT NULL REFERENCES kiosks(id) ON DELETE CASCADE, name TEXT NOT NULL,
      width INTEGER NOT NULL, height INTEGER NOT NULL, layout_id TEXT REFERENCES layouts(id) ON DELETE SET NULL, seq INTEGER NOT NULL DEFAULT 0)`);
    await q.query('CREATE INDEX displays_kiosk ON displays (kiosk_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE displays');
    await q.query('DROP TABLE layouts');
    await q.query('DROP TABLE kiosks');
  }
}
