/**
 * The store: TypeORM over better-sqlite3, WAL journal, foreign keys on, migrations run
 * at open (`synchronize` is never used).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { entities } from './entities.ts';
import { Initial1763700000001 } from './migrations/0001-initial.ts';
import { Security1763700000002 } from './migrations/0002-security.ts';
import { securityEntities } from './security-entities.ts';
import { Recordings1763700000003 } from './migrations/0003-recordings.ts';
import { DropSettings1763700000004 } from './migrations/0004-drop-settings.ts';
import { Wall1763700000005 } from './migrations/0005-wall.ts';
import { Rules1763700000006 } from './migrations/0006-rules.ts';
import { RuleEntity } from './rules-repo.ts';
import { ExportEntity, RecordingEntity } from './recordings-repo.ts';
import { wallEntities } from './wall-repo.ts';

/** Every migration, in order. */
export const migrations = [Initial1763700000001, Security1763700000002, Recordings1763700000003, DropSettings1763700000004, Wall1763700000005, Rules1763700000006];

/**
 * Opens (creating if needed) the SQLite database at `file` and runs pending migrations.
 * @throws when the file cannot be opened or a migration fails (the migration is rolled back).
 */
export async function openStore(file: string): Promise<DataSource> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 }); // holds the keys, hashes and sealed secrets
  const ds = new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: [...entities, ...securityEntities, RecordingEntity, ExportEntity, ...wallEntities, RuleEntity],
    migrations,
    migrationsRun: false,
    synchronize: false,
    enableWAL: true,
    prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
    },
  });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}
