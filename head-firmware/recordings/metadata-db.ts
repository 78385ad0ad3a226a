/**
 * The head's recording metadata (the C Pro seed's `metadata_store.nim`): one SQLite file,
 * `<dataDir>/recordings.db` (better-sqlite3, WAL), with
 * - `recordings(id, path, started_at, ended_at, bytes, duration_s, category_id)`,
 * - `tags(id, recording_id, at_s, label, category_id)` — points of interest in a recording,
 * - `categories(id, name, color)`.
 *
 * Batched writes (the seed's "Metadata writes: batch commits every 5 seconds"): recording
 * and tag writes are queued in memory and committed together in one transaction every
 * `flushIntervalMs` (5 s), on `flush()` and on `close()` — one fsync-free WAL commit for a
 * burst of writes instead of one per row, which spares the head's SD card. Reads go through
 * the queue: a row queued a moment ago is returned by `get`/`list`/`tags` like a committed
 * one, a queued deletion hides it. What is lost on a crash: the writes of the last
 * interval at most (the recording files themselves stay; `recoverPartialRecordings` and a
 * rescan can re-add them). Category writes are rare settings: they commit at once.
 *
 * Times are Unix ms; `duration_s` and `at_s` are seconds.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** One recording file. */
export interface RecordingRow {
  id: number;
  /** The file, as given to {@link MetadataDb.addRecording} (the recorder gives absolute paths). */
  path: string;
  /** Unix ms of the first frame. */
  started_at: number;
  /** Unix ms of the last frame; null while unknown. */
  ended_at: number | null;
  bytes: number;
  duration_s: number;
  category_id: number | null;
}

/** What {@link MetadataDb.addRecording} takes (a recorder's `RecordedFile` fits). */
export interface NewRecording {
  path: string;
  started_at: number;
  ended_at?: number | null;
  bytes: number;
  duration_s: number;
  category_id?: number | null;
}

/** A point in a recording. */
export interface TagRow {
  id: number;
  recording_id: number;
  /** Offset from the recording's start, s. */
  at_s: number;
  label: string;
  category_id: number | null;
}

export interface CategoryRow {
  id: number;
  name: string;
  /** `#rrggbb`. */
  color: string;
}

/** Filters of {@link MetadataDb.list}. */
export interface RecordingQuery {
  /** Recordings started at or after / before this Unix ms. */
  from?: number;
  to?: number;
  category_id?: number;
  /** Default 100, at most 10 000. */
  limit?: number;
  offset?: number;
  /** By `started_at` (then id): `desc` (newest first, default) or `asc` (oldest first). */
  order?: 'asc' | 'desc';
}

export interface MetadataDbOptions {
  /** Commit interval of the queue, ms (default 5 000). */
  flushIntervalMs?: number;
  /** A timed commit failed (disk full, I/O error): the queue is kept and retried at the next interval. */
  onError?: (err: Error) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS categories (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  color TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS recordings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  bytes INTEGER NOT NULL DEFAULT 0,
  duration_s REAL NOT NULL DEFAULT 0,
  category_id INTEGER REFERENCES categories(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS recordings_started_at ON recordings(started_at, id);
CREATE TABLE IF NOT EXISTS tags (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  at_s REAL NOT NULL,
  label TEXT NOT NULL,
  category_id INTEGER REFERENCES categories(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS tags_recording ON tags(recording_id, at_s);
`;

const MAX_LIMIT = 10_000;

function bad(msg: string): never {
  throw new Error(msg);
}

/** The recording metadata database. */
export class MetadataDb {
  /** The database file. */
  readonly file: string;
  private readonly db: Database.Database;
  private readonly timer: NodeJS.Timeout;
  /** Queued recording writes by id: the row's new state, or null for a deletion. */
  private readonly pendingRecordings = new Map<number, RecordingRow | null>();
  private readonly pendingTags = new Map<number, TagRow | null>();
  private nextRecordingId: number;
  private nextTagId: number;
  private closed = false;
  private readonly stmt: {
    getRecording: Database.Statement<[number], RecordingRow>;
    pathTaken: Database.Statement<[string, string], { id: number }>;
    getTag: Database.Statement<[number], TagRow>;
    getCategory: Database.Statement<[number], CategoryRow>;
    upsertRecording: Database.Statement<RecordingRow>;
    deleteRecording: Database.Statement<[number]>;
    upsertTag: Database.Statement<TagRow>;
    deleteTag: Database.Statement<[number]>;
    tagsOf: Database.Statement<[number, string], TagRow>;
  };

  /**
   * Opens (creating it and `dataDir` if needed) `<dataDir>/recordings.db`.
   * @throws when the directory cannot be created or the file is not a SQLite database.
   */
  constructor(dataDir: string, private readonly opts: MetadataDbOptions = {}) {
    const interval = opts.flushIntervalMs ?? 5000;
    if (!(Number.isFinite(interval) && interval > 0)) throw new Error(`flushIntervalMs must be a positive number, got ${String(opts.flushIntervalMs)}`);
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, 'recordings.db');
    this.db = new Database(this.file);
    try {
      this.db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit does not fsync; a killed process loses nothing committed (SQLite "WAL mode" docs).
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const next = (table: string): number => {
      const seq = (this.db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table) as { seq: number } | undefined)?.seq ?? 0;
      const max = (this.db.prepare(`SELECT coalesce(max(id), 0) AS m FROM ${table}`).get() as { m: number }).m;
      return Math.max(seq, max) + 1;
    };
    this.nextRecordingId = next('recordings');
    this.nextTagId = next('tags');
    this.stmt = {
      getRecording: this.db.prepare('SELECT * FROM recordings WHERE id = ?'),
      pathTaken: this.db.prepare('SELECT id FROM recordings WHERE path = ? AND id NOT IN (SELECT value FROM json_each(?))'),
      getTag: this.db.prepare('SELECT * FROM tags WHERE id = ?'),
      getCategory: this.db.prepare('SELECT * FROM categories WHERE id = ?'),
      upsertRecording: this.db.prepare(`INSERT INTO recordings (id, path, started_at, ended_at, bytes, duration_s, category_id)
        VALUES (@id, @path, @started_at, @ended_at, @bytes, @duration_s, @category_id)
        ON CONFLICT(id) DO UPDATE SET path = excluded.path, started_at = excluded.started_at, ended_at = excluded.ended_at,
          bytes = excluded.bytes, duration_s = excluded.duration_s, category_id = excluded.category_id`),
      deleteRecording: this.db.prepare('DELETE FROM recordings WHERE id = ?'),
      upsertTag: this.db.prepare(`INSERT INTO tags (id, recording_id, at_s, label, category_id) VALUES (@id, @recording_id, @at_s, @label, @category_id)
        ON CONFLICT(id) DO UPDATE SET recording_id = excluded.recording_id, at_s = excluded.at_s, label = excluded.label, category_id = excluded.category_id`),
      deleteTag: this.db.prepare('DELETE FROM tags WHERE id = ?'),
      tagsOf: this.db.prepare('SELECT * FROM tags WHERE recording_id = ? AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY at_s, id'),
    };
    this.timer = setInterval(() => {
      try {
        this.flush();
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    }, interval);
    this.timer.unref();
  }

  /** Writes waiting for the next commit (recordings + tags). */
  get pendingWrites(): number {
    return this.pendingRecordings.size + this.pendingTags.size;
  }

  /**
   * Commits every queued write in one transaction.
   * @returns how many queued writes were committed.
   * @throws the SQLite error (e.g. `SQLITE_FULL`): nothing of the batch is committed and the queue is kept.
   */
  flush(): number {
    this.assertOpen();
    const n = this.pendingWrites;
    if (!n) return 0;
    this.db.transaction(() => {
      for (const [id, row] of this.pendingRecordings) {
        if (row) this.stmt.upsertRecording.run(row);
        else this.stmt.deleteRecording.run(id); // tags go with it (ON DELETE CASCADE)
      }
      for (const [id, row] of this.pendingTags) {
        if (row) this.stmt.upsertTag.run(row);
        else this.stmt.deleteTag.run(id);
      }
    })();
    this.pendingRecordings.clear();
    this.pendingTags.clear();
    return n;
  }

  /**
   * Commits the queue and closes the database. Idempotent.
   * @throws the commit's SQLite error (the database is closed all the same; the queued writes are lost).
   */
  close(): void {
    if (this.closed) return;
    clearInterval(this.timer);
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  // ---- recordings ----

  /**
   * Queues a new recording.
   * @returns the row with its id (visible to reads at once).
   * @throws Error for an empty path, a path already recorded, negative or non-finite numbers, `ended_at` before `started_at`, or an unknown category.
   */
  addRecording(input: NewRecording): RecordingRow {
    this.assertOpen();
    const row: RecordingRow = {
      id: this.nextRecordingId,
      path: input.path,
      started_at: input.started_at,
      ended_at: input.ended_at ?? null,
      bytes: input.bytes,
      duration_s: input.duration_s,
      category_id: input.category_id ?? null,
    };
    this.validateRecording(row);
    this.nextRecordingId++;
    this.pendingRecordings.set(row.id, row);
    return { ...row };
  }

  /**
   * Queues a change of a recording (any field but `id`).
   * @returns the updated row.
   * @throws Error when there is no such recording or the result is invalid (see {@link addRecording}).
   */
  updateRecording(id: number, patch: Partial<Omit<RecordingRow, 'id'>>): RecordingRow {
    this.assertOpen();
    const cur = this.getRecording(id) ?? bad(`no recording ${id}`);
    const row: RecordingRow = { ...cur, ...patch, id };
    this.validateRecording(row);
    this.pendingRecordings.set(id, row);
    return { ...row };
  }

  /**
   * Queues the deletion of a recording and its tags (the file is the caller's).
   * @returns the deleted row, or null when there was none.
   */
  deleteRecording(id: number): RecordingRow | null {
    this.assertOpen();
    const cur = this.getRecording(id);
    if (!cur) return null;
    this.pendingRecordings.set(id, null);
    for (const [tid, t] of this.pendingTags) {
      if (t?.recording_id === id) this.pendingTags.delete(tid);
    }
    return cur;
  }

  /** One recording (queued writes included), or null. */
  getRecording(id: number): RecordingRow | null {
    this.assertOpen();
    if (this.pendingRecordings.has(id)) {
      const r = this.pendingRecordings.get(id);
      return r ? { ...r } : null;
    }
    return this.stmt.getRecording.get(id) ?? null;
  }

  /**
   * Recordings matching `q`, ordered by `started_at` then id (queued writes included).
   * @throws Error for a limit outside 1–10 000 or a negative offset.
   */
  list(q: RecordingQuery = {}): RecordingRow[] {
    this.assertOpen();
    const limit = q.limit ?? 100;
    const offset = q.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) bad(`limit must be an integer 1–${MAX_LIMIT}`);
    if (!Number.isInteger(offset) || offset < 0) bad('offset must be a non-negative integer');
    const desc = (q.order ?? 'desc') === 'desc';
    const { where, params } = this.where(q);
    // The committed rows not touched by the queue, then the queued ones, merged and cut.
    const committed = this.db
      .prepare(`SELECT * FROM recordings WHERE ${where} ORDER BY started_at ${desc ? 'DESC' : 'ASC'}, id ${desc ? 'DESC' : 'ASC'} LIMIT ?`)
      .all(...params, offset + limit) as RecordingRow[];
    const queued = [...this.pendingRecordings.values()].filter((r): r is RecordingRow => r !== null && this.matches(r, q));
    const cmp = (a: RecordingRow, b: RecordingRow): number => (a.started_at - b.started_at || a.id - b.id) * (desc ? -1 : 1);
    return [...committed, ...queued.map((r) => ({ ...r }))].sort(cmp).slice(offset, offset + limit);
  }

  /** How many recordings match `q`'s filters (limit/offset ignored). */
  count(q: Omit<RecordingQuery, 'limit' | 'offset' | 'order'> = {}): number {
    this.assertOpen();
    const { where, params } = this.where(q);
    const committed = (this.db.prepare(`SELECT count(*) AS n FROM recordings WHERE ${where}`).get(...params) as { n: number }).n;
    return committed + [...this.pendingRecordings.values()].filter((r) => r !== null && this.matches(r, q)).length;
  }

  /** Sum of `bytes` of every recording, bytes. */
  totalBytes(): number {
    this.assertOpen();
    const { where, params } = this.where({});
    const committed = (this.db.prepare(`SELECT coalesce(sum(bytes), 0) AS b FROM recordings WHERE ${where}`).get(...params) as { b: number }).b;
    return committed + [...this.pendingRecordings.values()].reduce((s, r) => s + (r?.bytes ?? 0), 0);
  }

  // ---- tags ----

  /**
   * Queues a tag on a recording.
   * @throws Error for an unknown recording or category, a negative or non-finite `at_s`, or a label that is empty or longer than 200 characters.
   */
  addTag(input: { recording_id: number; at_s: number; label: string; category_id?: number | null }): TagRow {
    this.assertOpen();
    const row: TagRow = { id: this.nextTagId, recording_id: input.recording_id, at_s: input.at_s, label: input.label, category_id: input.category_id ?? null };
    this.validateTag(row);
    this.nextTagId++;
    this.pendingTags.set(row.id, row);
    return { ...row };
  }

  /** Queues the deletion of a tag; returns it, or null when there was none. */
  deleteTag(id: number): TagRow | null {
    this.assertOpen();
    const cur = this.pendingTags.has(id) ? this.pendingTags.get(id) ?? null : this.stmt.getTag.get(id) ?? null;
    if (!cur || !this.getRecording(cur.recording_id)) return null;
    this.pendingTags.set(id, null);
    return { ...cur };
  }

  /** The tags of a recording by `at_s` (queued writes included); [] for an unknown recording. */
  tags(recordingId: number): TagRow[] {
    this.assertOpen();
    if (!this.getRecording(recordingId)) return [];
    const committed = this.stmt.tagsOf.all(recordingId, JSON.stringify([...this.pendingTags.keys()]));
    const queued = [...this.pendingTags.values()].filter((t): t is TagRow => t !== null && t.recording_id === recordingId).map((t) => ({ ...t }));
    return [...committed, ...queued].sort((a, b) => a.at_s - b.at_s || a.id - b.id);
  }

  // ---- categories (committed at once) ----

  /** Every category by name. */
  categories(): CategoryRow[] {
    this.assertOpen();
    return this.db.prepare('SELECT * FROM categories ORDER BY name, id').all() as CategoryRow[];
  }

  /**
   * Adds a category (committed at once, after the queue).
   * @throws Error for a name that is empty, longer than 64 characters or taken, or a color that is not `#rrggbb`.
   */
  addCategory(input: { name: string; color: string }): CategoryRow {
    this.assertOpen();
    this.validateCategory(input);
    this.flush();
    try {
      const r = this.db.prepare('INSERT INTO categories (name, color) VALUES (?, ?)').run(input.name, input.color.toLowerCase());
      return { id: Number(r.lastInsertRowid), name: input.name, color: input.color.toLowerCase() };
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') bad(`category ${JSON.stringify(input.name)} exists`);
      throw err;
    }
  }

  /**
   * Renames or recolors a category (committed at once).
   * @throws Error when there is no such category or the result is invalid (see {@link addCategory}).
   */
  updateCategory(id: number, patch: Partial<Omit<CategoryRow, 'id'>>): CategoryRow {
    this.assertOpen();
    const cur = this.stmt.getCategory.get(id) ?? bad(`no category ${id}`);
    const next = { ...cur, ...patch, id };
    this.validateCategory(next);
    this.flush();
    try {
      this.db.prepare('UPDATE categories SET name = ?, color = ? WHERE id = ?').run(next.name, next.color.toLowerCase(), id);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') bad(`category ${JSON.stringify(next.name)} exists`);
      throw err;
    }
    return { ...next, color: next.color.toLowerCase() };
  }

  /** Deletes a category (committed at once); its recordings and tags keep no category. Returns false when there was none. */
  deleteCategory(id: number): boolean {
    this.assertOpen();
    this.flush();
    return this.db.prepare('DELETE FROM categories WHERE id = ?').run(id).changes > 0;
  }

  // ---- internals ----

  private assertOpen(): void {
    if (this.closed) throw new Error('recordings database is closed');
  }

  private where(q: Pick<RecordingQuery, 'from' | 'to' | 'category_id'>): { where: string; params: unknown[] } {
    const parts = ['id NOT IN (SELECT value FROM json_each(?))'];
    const params: unknown[] = [JSON.stringify([...this.pendingRecordings.keys()])];
    if (q.from !== undefined) { parts.push('started_at >= ?'); params.push(q.from); }
    if (q.to !== undefined) { parts.push('started_at < ?'); params.push(q.to); }
    if (q.category_id !== undefined) { parts.push('category_id = ?'); params.push(q.category_id); }
    return { where: parts.join(' AND '), params };
  }

  private matches(r: RecordingRow, q: Pick<RecordingQuery, 'from' | 'to' | 'category_id'>): boolean {
    return (q.from === undefined || r.started_at >= q.from) && (q.to === undefined || r.started_at < q.to) && (q.category_id === undefined || r.category_id === q.category_id);
  }

  private validateRecording(r: RecordingRow): void {
    if (typeof r.path !== 'string' || !r.path || r.path.length > 4096 || r.path.includes('\u0000')) bad('recording path must be a non-empty string (≤ 4096 characters)');
    if (!Number.isSafeInteger(r.started_at) || r.started_at < 0) bad('started_at must be a non-negative integer (Unix ms)');
    if (r.ended_at !== null && (!Number.isSafeInteger(r.ended_at) || r.ended_at < r.started_at)) bad('ended_at must be null or an integer ≥ started_at (Unix ms)');
    if (!Number.isSafeInteger(r.bytes) || r.bytes < 0) bad('bytes must be a non-negative integer');
    if (typeof r.duration_s !== 'number' || !Number.isFinite(r.duration_s) || r.duration_s < 0) bad('duration_s must be a non-negative number');
    if (r.category_id !== null && !this.stmt.getCategory.get(r.category_id)) bad(`no category ${String(r.category_id)}`);
    // Paths are unique (the table says so too: checked here so that a commit never fails on it).
    for (const [id, p] of this.pendingRecordings) if (p && id !== r.id && p.path === r.path) bad(`recording path ${JSON.stringify(r.path)} exists`);
    if (this.stmt.pathTaken.get(r.path, JSON.stringify([...this.pendingRecordings.keys(), r.id]))) bad(`recording path ${JSON.stringify(r.path)} exists`);
  }

  private validateTag(t: TagRow): void {
    if (!Number.isInteger(t.recording_id) || !this.getRecording(t.recording_id)) bad(`no recording ${String(t.recording_id)}`);
    if (typeof t.at_s !== 'number' || !Number.isFinite(t.at_s) || t.at_s < 0) bad('at_s must be a non-negative number (s)');
    if (typeof t.label !== 'string' || !t.label.trim() || t.label.length > 200) bad('tag label must be 1–200 characters');
    if (t.category_id !== null && !this.stmt.getCategory.get(t.category_id)) bad(`no category ${String(t.category_id)}`);
  }

  private validateCategory(c: { name: string; color: string }): void {
    if (typeof c.name !== 'string' || !c.name.trim() || c.name.length > 64) bad('category name must be 1–64 characters');
    if (typeof c.color !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(c.color)) bad('category color must be #rrggbb');
  }
}
