/**
 * The head's embedded persistent store: one SQLite file, `<dataDir>/state.db`, with one
 * row per persisted key (the C Pro seed keeps these in LevelDB; better-sqlite3 is what
 * Vigil already ships).
 *
 * Durability. The database runs in WAL mode and every `set` is its own transaction,
 * committed synchronously (better-sqlite3 is synchronous), so when `set` returns the row
 * is in the WAL file — written to the OS, not only in this process's memory.
 * - `durability: 'process'` (default) → `synchronous = NORMAL`: the commit does not
 *   fsync. A killed process (`kill -9`, a crash, the OOM killer) loses nothing: the kernel
 *   owns the written pages and the next open replays the WAL. A power cut can lose the
 *   commits since the last checkpoint (never corrupts: SQLite, "WAL mode" and
 *   "PRAGMA synchronous" docs). Chosen for the head because its persisted keys are user
 *   settings written from sliders and toggles (bursts of tens of writes a second), an
 *   fsync per write would wear the SD card and cost milliseconds each, and a setting made
 *   in the last seconds before a power cut is an acceptable loss.
 * - `durability: 'power'` → `synchronous = FULL`: the WAL is fsynced at every commit,
 *   so a value also survives a power cut once `set` returns, at one fsync per write.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** How hard a committed write is pushed to disk (see the module comment). */
export type Durability = 'process' | 'power';

export interface StateDbOptions {
  /** Default `process` (WAL + `synchronous = NORMAL`). */
  durability?: Durability;
}

/** One stored row. `updated_at`: Unix ms. */
export interface StoredRow {
  key: string;
  value: unknown;
  updated_at: number;
}

/** The key/value table of the head's persisted state (values as JSON text). */
export class StateDb {
  /** The database file. */
  readonly file: string;
  readonly durability: Durability;
  private readonly db: Database.Database;
  private readonly stmtGet: Database.Statement<[string], { value: string }>;
  private readonly stmtSet: Database.Statement<[string, string, number]>;
  private readonly stmtDelete: Database.Statement<[string]>;
  private readonly stmtAll: Database.Statement<[], { key: string; value: string; updated_at: number }>;
  private readonly stmtClearExcept: Database.Statement<[string]>;

  /**
   * Opens (creating it and `dataDir` if needed) `<dataDir>/state.db`.
   * @throws when the directory cannot be created or the file is not a SQLite database.
   */
  constructor(dataDir: string, opts: StateDbOptions = {}) {
    this.durability = opts.durability ?? 'process';
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, 'state.db');
    this.db = new Database(this.file);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${this.durability === 'power' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('busy_timeout = 2000');
      this.db.exec(`CREATE TABLE IF NOT EXISTS state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL, -- JSON
        updated_at INTEGER
      )`);
    } catch (err) {
      this.db.close();
      throw new Error(`state database ${this.file} cannot be opened: ${(err as Error).message}`);
    }
    this.stmtGet = this.db.prepare('SELECT value FROM state WHERE key = ?');
    this.stmtSet = this.db.prepare(
      'INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.stmtDelete = this.db.prepare('DELETE FROM state WHERE key = ?');
    this.stmtAll = this.db.prepare('SELECT key, value, updated_at FROM state ORDER BY key');
    this.stmtClearExcept = this.db.prepare('DELETE FROM state WHERE key NOT IN (SELECT value FROM json_each(?))');
  }

  /**
   * The stored value of `key`, or `undefined` when none is stored (JSON has no
   * `undefined`, so a stored `null` comes back as `null`).
   * @throws when the stored text is not JSON (the file was edited by hand).
   */
  get(key: string): unknown {
    const row = this.stmtGet.get(key);
    return row === undefined ? undefined : parseStored(key, row.value);
  }

  /**
   * Stores `value` (as JSON) under `key`; committed when this returns.
   * @throws when `value` has no JSON form (`undefined`, a function, a BigInt, a cycle) or the disk refuses the write.
   */
  set(key: string, value: unknown): void {
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`state "${key}": value has no JSON form`);
    this.stmtSet.run(key, text, Date.now());
  }

  /** Removes `key`; `true` when a row was there. */
  delete(key: string): boolean {
    return this.stmtDelete.run(key).changes > 0;
  }

  /**
   * Every stored row, by key.
   * @throws when a stored text is not JSON.
   */
  all(): StoredRow[] {
    return this.stmtAll.all().map((r) => ({ key: r.key, value: parseStored(r.key, r.value), updated_at: r.updated_at }));
  }

  /** Deletes every row whose key is not in `keep`, in one transaction; returns how many went. */
  clearExcept(keep: readonly string[]): number {
    return this.stmtClearExcept.run(JSON.stringify([...keep])).changes;
  }

  /** Closes the file (checkpointing the WAL into it). Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

function parseStored(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`state "${key}": stored value is not JSON (${(err as Error).message})`);
  }
}
