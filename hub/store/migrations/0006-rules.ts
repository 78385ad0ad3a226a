/** Migration 6: the simple rules of `/api/rules` (each rule's body as JSON). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Rules1763700000006 implements MigrationInterface {
  name = 'Rules1763700000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE rules (
      id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE rules');
  }
}
