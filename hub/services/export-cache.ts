/**
 * Range files: the MP4s behind `GET /cameras/:name/recordings.mp4`, made like an export
 * (concat + `-c copy`, cut as `export-plan.ts` plans) but kept in `exports/.cache/` under
 * a key of camera, range and the segments found, reused while they are asked for, and
 * deleted {@link CACHE_MAX_AGE_S} after their last use.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import type { Logger } from 'pino';
import { replaceFileAtomic } from '../../components/protocol/atomic-write.ts';
import { NotFound } from '../errors.ts';
import type { RecordingsRepo } from '../store/recordings-repo.ts';
import { checkRange, planCut } from './export-plan.ts';
import { existingSegments, segmentFile } from './export-sources.ts';
import { concatSegments } from './ffmpeg-job.ts';
import { safeJoin } from './safe-path.ts';

/** Range files unused this long are deleted, seconds. */
export const CACHE_MAX_AGE_S = 3600;
/** How often the cache is swept by itself, ms. */
const SWEEP_EVERY_MS = 10 * 60_000;
/** A range request sweeps too when the last sweep is older than this, ms. */
const SWEEP_ON_USE_MS = 60_000;

/** A range file: absolute path and size in bytes, and the wall-clock range it covers (Unix seconds). */
export interface RangeFile {
  path: string;
  bytes: number;
  start: number;
  end: number;
}

/** Construction options of {@link RangeFileCache}. */
export interface RangeFileCacheOptions {
  repo: RecordingsRepo;
  /** The recordings root; segment paths are relative to it. */
  root: string;
  /** The cache directory (`<root>/exports/.cache`). */
  dir: string;
  logger: Logger;
  /** ffmpeg binary; default `ffmpegPath()`. */
  ffmpegPath?: string;
}

/** The range-file cache; see the module doc. */
export class RangeFileCache {
  private readonly building = new Map<string, Promise<{ path: string; bytes: number }>>();
  private timer?: NodeJS.Timeout;
  private lastSweep = 0;

  constructor(private readonly opts: RangeFileCacheOptions) {}

  /** The cache directory. */
  get dir(): string { return this.opts.dir; }

  /** Creates the directory, sweeps once and then every 10 minutes (until {@link stop}). */
  async start(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    clearInterval(this.timer);
    this.timer = setInterval(() => { void this.sweep().catch(() => undefined); }, SWEEP_EVERY_MS);
    this.timer.unref();
    void this.sweep().catch(() => undefined);
  }

  /** Stops the periodic sweep (files stay). */
  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * One MP4 of `camera` for `[start, end]` (Unix seconds): concat + `-c copy` into
   * `<dir>/<camera>-<key>.mp4`, keyed by camera, range and the segments found (so a range
   * still being recorded is rebuilt once it grew). Concurrent calls for one key share one
   * ffmpeg run; a cached file is touched so it lives another {@link CACHE_MAX_AGE_S}.
   * @returns the file and the range it covers (see `CutPlan`)
   * @throws InvalidInput `validation_failed` on a bad range (see `checkRange`);
   *   NotFound `no_recordings` when no segment file overlaps it; FfmpegError when ffmpeg fails
   */
  async get(camera: string, start: number, end: number): Promise<RangeFile> {
    checkRange(start, end);
    if (Date.now() - this.lastSweep > SWEEP_ON_USE_MS) void this.sweep().catch(() => undefined);
    const { repo, root, logger } = this.opts;
    const segs = await existingSegments(repo, root, logger, camera, start, end);
    const plan = planCut(segs, start, end);
    if (!plan) throw new NotFound(`no recordings of ${camera} between ${start} and ${end}`, 'no_recordings');
    const key = createHash('sha256').update(JSON.stringify([camera, start, end, segs.map((s) => [s.id, s.end_time])])).digest('hex').slice(0, 32);
    const file = safeJoin(this.opts.dir, `${camera}-${key}.mp4`);
    let job = this.building.get(key);
    if (!job) {
      job = this.build(file, segs.map((s) => segmentFile(root, s)), plan.ss, plan.t).finally(() => this.building.delete(key));
      this.building.set(key, job);
    }
    return { ...(await job), start: plan.start, end: plan.end };
  }

  /** The cached `file` (touched), else a new one from `files` cut to `[ss, ss + t]` (seconds), through a temporary file. */
  private async build(file: string, files: string[], ss: number, t: number): Promise<{ path: string; bytes: number }> {
    try {
      const st = await stat(file);
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined);
      return { path: file, bytes: st.size };
    } catch { /* not cached */ }
    await mkdir(this.opts.dir, { recursive: true });
    // A unique temporary file renamed into place (removed on failure): see atomic-write.ts.
    await replaceFileAtomic(file, (tmp) => concatSegments({ ffmpeg: this.opts.ffmpegPath, files, listFile: `${tmp}.ffconcat`, out: tmp, ss, t, faststart: true }));
    return { path: file, bytes: (await stat(file)).size };
  }

  /**
   * Deletes files not used (modified or touched) for `maxAgeS` seconds, leftover temporary
   * files included.
   * @param maxAgeS seconds; default {@link CACHE_MAX_AGE_S}
   * @returns how many files were deleted
   */
  async sweep(maxAgeS = CACHE_MAX_AGE_S): Promise<number> {
    this.lastSweep = Date.now();
    let names: string[];
    try { names = await readdir(this.opts.dir); } catch { return 0; }
    let n = 0;
    for (const name of names) {
      const p = safeJoin(this.opts.dir, name);
      try {
        const st = await stat(p);
        if (Date.now() - st.mtimeMs > maxAgeS * 1000) { await rm(p, { force: true }); n++; }
      } catch { /* gone meanwhile */ }
    }
    return n;
  }
}
