/** Migration 4: drops the `settings` key/value table of migration 1, which nothing used. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DropSettings1763700000004 implements MigrationInterface {
  name = 'DropSettings1763700000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS settings');
  }

  /** Recreates the table as migration 1 made it (empty: its rows are not kept). */
  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)');
  }
}
