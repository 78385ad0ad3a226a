/**
 * Storage-full handling for the head's recordings (the C Pro seed's `handleStorageFull`:
 * 1. stop the active recording, 2. delete the oldest recordings if enabled, 3. notify,
 * 4. set the storage state to "full").
 *
 * The guard reads the free space of the data directory's file system (`fs.statfs`:
 * blocks available to unprivileged users × block size) every `intervalMs` and before each
 * recording starts (it is the recorder's `gate`). Below `minFreeBytes` the storage is
 * `full`: the active recording is stopped, then — with `deleteOldestWhenFull` — the oldest
 * recordings (file and row) are deleted until `lowFreeBytes` are free again (the gap
 * between the two thresholds keeps it from deleting one file per check); without it, or
 * with nothing left to delete, new recordings are refused. Between the thresholds it is
 * `low` (a warning); above `lowFreeBytes`, `ok`. Every change of state, deletion or
 * stopped recording is reported through `onState`.
 */
import { EventEmitter } from 'node:events';
import { readdir, rm, rmdir, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { MetadataDb, RecordingRow } from './metadata-db.ts';

export type StorageState = 'ok' | 'low' | 'full';

/** What `onState` and the `state` event carry. */
export interface StorageReport {
  state: StorageState;
  /** Free bytes for the head (not counting blocks reserved for root), and the file system's size. */
  free_bytes: number;
  total_bytes: number;
  min_free_bytes: number;
  low_free_bytes: number;
  /** Recordings deleted by this check (oldest first). */
  deleted: Array<Pick<RecordingRow, 'id' | 'path' | 'bytes' | 'started_at'>>;
  /** This check stopped the active recording. */
  stopped_recording: boolean;
  /** Unix ms of the check. */
  at: number;
}

/** The recorder as the guard sees it (`video/recorder.ts` `Recorder` fits). */
export interface GuardedRecorder {
  isRecording(): boolean;
  stop(): Promise<unknown>;
}

export interface StorageGuardOptions {
  /** The head's data directory (its file system is measured; relative recording paths resolve against it). */
  dataDir: string;
  db: MetadataDb;
  /** Below this many free bytes the storage is `full`. */
  minFreeBytes: number;
  /** Below this it is `low`; deletion frees up to it. Default 2 × `minFreeBytes`; must be ≥ `minFreeBytes`. */
  lowFreeBytes?: number;
  /** When full, delete the oldest recordings (the seed's `delete_oldest_when_full`); else refuse to record. */
  deleteOldestWhenFull: boolean;
  /** Check period, ms (default 10 000). */
  intervalMs?: number;
  /** Stopped when the storage is full. */
  recorder?: GuardedRecorder;
  onState?: (report: StorageReport) => void;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Watches the data directory's free space. Emits `state` ({@link StorageReport}) as
 * `onState` is called. Usable as the recorder's `gate` ({@link StorageGuard.ensureSpace}).
 *
 * ```ts
 * const guard = new StorageGuard({ dataDir, db, minFreeBytes: 200e6, lowFreeBytes: 1e9, deleteOldestWhenFull: true,
 *   recorder, onState: (r) => store.set('storage.state', r.state) });
 * guard.start();
 * ```
 */
export class StorageGuard extends EventEmitter {
  private timer?: NodeJS.Timeout;
  private chain: Promise<unknown> = Promise.resolve();
  private last?: StorageReport;
  private readonly min: number;
  private readonly low: number;

  /** @throws Error when a threshold is not a non-negative number or `lowFreeBytes` < `minFreeBytes`. */
  constructor(private readonly opts: StorageGuardOptions) {
    super();
    const min = opts.minFreeBytes;
    const low = opts.lowFreeBytes ?? min * 2;
    if (!(Number.isFinite(min) && min >= 0)) throw new Error(`minFreeBytes must be a non-negative number, got ${String(min)}`);
    if (!(Number.isFinite(low) && low >= min)) throw new Error(`lowFreeBytes must be a number ≥ minFreeBytes, got ${String(low)}`);
    const iv = opts.intervalMs ?? 10_000;
    if (!(Number.isFinite(iv) && iv > 0)) throw new Error(`intervalMs must be a positive number, got ${String(opts.intervalMs)}`);
    this.min = min;
    this.low = low;
  }

  /** The state of the last check (`ok` before any). */
  get state(): StorageState {
    return this.last?.state ?? 'ok';
  }

  /** The last report, if any. */
  get lastReport(): StorageReport | undefined {
    return this.last;
  }

  /** Checks now and then every `intervalMs` (idempotent). */
  start(): void {
    if (this.timer) return;
    const tick = (): void => { this.check().catch((err: Error) => this.opts.logger?.warn({ err: err.message }, 'storage check failed')); };
    this.timer = setInterval(tick, this.opts.intervalMs ?? 10_000);
    this.timer.unref();
    tick();
  }

  /** Stops the periodic checks; resolves once a running check has finished. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
  }

  /**
   * The recorder's gate: checks (deleting the oldest recordings when allowed).
   * @returns `ok: false` with the reason when the storage is still full.
   */
  async ensureSpace(): Promise<{ ok: boolean; reason?: string }> {
    const r = await this.check();
    if (r.state !== 'full') return { ok: true };
    return { ok: false, reason: `storage full: ${mb(r.free_bytes)} MB free, below ${mb(r.min_free_bytes)} MB${this.opts.deleteOldestWhenFull ? ' and no recording left to delete' : ' (deleting the oldest recordings is off)'}` };
  }

  /**
   * One check (checks run one at a time): measure, and when full stop the recording and
   * delete the oldest recordings as allowed.
   * @throws the `statfs` error when the data directory cannot be measured (e.g. it is gone).
   */
  check(): Promise<StorageReport> {
    const run = this.chain.then(() => this.checkNow(), () => this.checkNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async measure(): Promise<{ free: number; total: number }> {
    const s = await statfs(this.opts.dataDir);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  }

  private async checkNow(): Promise<StorageReport> {
    let { free, total } = await this.measure();
    const deleted: StorageReport['deleted'] = [];
    let stopped = false;
    if (free < this.min) {
      const rec = this.opts.recorder;
      if (rec?.isRecording()) {
        this.opts.logger?.warn({ free_bytes: free }, 'storage full: stopping the recording');
        try {
          await rec.stop();
        } catch (err) {
          this.opts.logger?.warn({ err: (err as Error).message }, 'could not stop the recording');
        }
        stopped = true;
        ({ free, total } = await this.measure());
      }
      if (this.opts.deleteOldestWhenFull && free < this.min) {
        ({ free, total } = await this.deleteOldest(deleted, free, total));
      }
    }
    const state: StorageState = free < this.min ? 'full' : free < this.low ? 'low' : 'ok';
    const report: StorageReport = { state, free_bytes: free, total_bytes: total, min_free_bytes: this.min, low_free_bytes: this.low, deleted, stopped_recording: stopped, at: Date.now() };
    const changed = state !== this.last?.state || deleted.length > 0 || stopped;
    this.last = report;
    if (changed) {
      if (state !== 'ok' || deleted.length) this.opts.logger?.warn({ state, free_bytes: free, deleted: deleted.length }, 'storage state');
      this.opts.onState?.(report);
      this.emit('state', report);
    }
    return report;
  }

  /** Deletes recordings oldest first until `lowFreeBytes` are free or none is left. */
  private async deleteOldest(deleted: StorageReport['deleted'], free: number, total: number): Promise<{ free: number; total: number }> {
    const db = this.opts.db;
    while (free < this.low) {
      const batch = db.list({ order: 'asc', limit: 20 });
      if (!batch.length) break;
      for (const r of batch) {
        const file = resolve(this.opts.dataDir, r.path);
        try {
          await rm(file, { force: true });
        } catch (err) {
          // Not removable (permissions, I/O error): keep the row so the file is not orphaned; try the next.
          this.opts.logger?.warn({ err: (err as Error).message, path: r.path }, 'could not delete a recording');
          continue;
        }
        db.deleteRecording(r.id);
        deleted.push({ id: r.id, path: r.path, bytes: r.bytes, started_at: r.started_at });
        await removeIfEmpty(dirname(file));
        ({ free, total } = await this.measure());
        if (free >= this.low) break;
      }
      if (deleted.length === 0 || batch.every((r) => !deleted.some((d) => d.id === r.id))) break; // nothing deletable
    }
    if (deleted.length) {
      try {
        db.flush();
      } catch (err) {
        // The disk is full: the deletions stay queued and commit at the next flush.
        this.opts.logger?.warn({ err: (err as Error).message }, 'could not commit the deletions yet');
      }
    }
    return { free, total };
  }
}

/** Removes a day folder left empty by a deletion. */
async function removeIfEmpty(dir: string): Promise<void> {
  try {
    if ((await readdir(dir)).length === 0) await rmdir(dir);
  } catch {
    // not empty, or gone
  }
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
