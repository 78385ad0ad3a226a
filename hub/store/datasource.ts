/**
 * The store: TypeORM over better-sqlite3 (WAL journal, foreign keys on) by default, or
 * over PostgreSQL (`pg`) when `store.url` names one. Both run the same migrations at
 * open (`synchronize` is never used); what differs between the two is in `dialect.ts`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { redactUrl } from '../../components/protocol/log.ts';
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

const allEntities = [...entities, ...securityEntities, RecordingEntity, ExportEntity, ...wallEntities, RuleEntity];

/** Key of the PostgreSQL advisory lock held while migrations run, so two hubs starting on one database never migrate at once. */
const MIGRATION_LOCK = 0x76696769; // "vigi"
/** How long a new PostgreSQL connection may take, ms. */
const PG_CONNECT_TIMEOUT_MS = 10_000;

/** True for a `postgres://` / `postgresql://` location. */
export function isPostgres(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** Where the hub's store is: `store.url` (PostgreSQL) when set, else the SQLite file `<data_dir>/vigil.db`. */
export function storeLocation(config: { data_dir: string; store?: { url?: string } }): string {
  return config.store?.url ?? join(config.data_dir, 'vigil.db');
}

/** A location for logs and messages: `sqlite <file>`, or the PostgreSQL URL without its credentials. */
export function describeStore(location: string): string {
  return isPostgres(location) ? redactUrl(location) : `sqlite ${location}`;
}

/**
 * Opens the store and runs pending migrations: a `postgres://user:pass@host:port/db` URL
 * opens PostgreSQL, anything else is the path of a SQLite file (created with its directory,
 * mode 0700, if needed).
 * @param opts.logger where PostgreSQL pool errors (a dropped idle connection) are logged
 * @throws when the database cannot be opened or reached (the message names it without
 *   credentials), or a migration fails (that migration is rolled back)
 */
export async function openStore(location: string, opts: { logger?: Logger } = {}): Promise<DataSource> {
  return isPostgres(location) ? openPostgres(location, opts.logger) : openSqlite(location);
}

async function openSqlite(file: string): Promise<DataSource> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 }); // holds the keys, hashes and sealed secrets
  const ds = new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: allEntities,
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

async function openPostgres(url: string, logger?: Logger): Promise<DataSource> {
  const ds = new DataSource({
    type: 'postgres',
    url,
    entities: allEntities,
    migrations,
    migrationsRun: false,
    synchronize: false,
    // int8 (BIGINT columns: Unix-ms times, byte counts; and count(*)) as JS numbers, not strings. All stay below 2^53.
    parseInt8: true,
    connectTimeoutMS: PG_CONNECT_TIMEOUT_MS,
    applicationName: 'vigil',
    // An idle pooled connection dropped by the server (restart, network): the pool forgets it, the next query reconnects.
    poolErrorHandler: (err: Error) => logger?.warn({ err: err.message }, 'PostgreSQL connection lost; reconnecting on the next query'),
  });
  try {
    await ds.initialize();
  } catch (err) {
    throw new Error(`cannot open the PostgreSQL store ${redactUrl(url)}: ${(err as Error).message}`);
  }
  try {
    const lock = ds.createQueryRunner();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      await lock.release();
    }
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  }
  return ds;
}
