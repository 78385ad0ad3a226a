/**
 * The retention sweeper. Each sweep (every `sweep_interval_s`, and after every new
 * segment):
 * 1. by age: a segment is kept `record.retain_days[class]` days, class being `objects`
 *    (an event overlapped it), `motion`, or `continuous`; in `motion` mode continuous
 *    segments keep 0 days, in `objects` mode only object segments are kept (Frigate's
 *    retain modes). Zero-day segments wait `ZERO_DAY_GRACE_S` so an event still running
 *    can flag them;
 * 2. by size: while all segments together exceed `max_size_gb`, the oldest go;
 * 3. by volume: while the volume is above `max_percent` used or has less than
 *    `min_free_gb` free, the oldest go — headroom, so writes never fail;
 * 4. event clips older than `clip_retain_days` go (exports are kept until deleted).
 * It publishes `vigil/hub/storage` (retained): `ok`, `low` (nothing left to delete and
 * still under the headroom) or `full` (a write failed for lack of space) with figures.
 */
import { mkdirSync } from 'node:fs';
import { statfs, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { CameraConfig } from '../../components/protocol/camera-config.ts';
import type { RecordingRow, RecordingsRepo } from '../store/recordings-repo.ts';
import { safeJoin } from './safe-path.ts';

/** Seconds a zero-day segment is kept so a running event can still flag it. */
export const ZERO_DAY_GRACE_S = 600;
const GB = 1e9;

export interface RetentionOptions {
  root: string;
  maxSizeGb?: number;
  maxPercent: number;
  minFreeGb: number;
  clipRetainDays: number;
  sweepIntervalS: number;
  /** Current config of a camera (null when it was removed: its segments keep the default days). */
  cameraConfig: (camera: string) => CameraConfig | undefined;
  /** Deletes event clips older than `days` (ExportService.sweepClips). */
  sweepClips?: (days: number) => Promise<number>;
}

/** The limits {@link RetentionSweeper.update} changes (`recordings.*` but `root`). */
export type RetentionLimits = Pick<RetentionOptions, 'maxSizeGb' | 'maxPercent' | 'minFreeGb' | 'clipRetainDays' | 'sweepIntervalS'>;

/** The retained `vigil/hub/storage` payload. Bytes; percent 0–100. */
export interface StorageState {
  status: 'ok' | 'low' | 'full';
  used_bytes: number;
  free_bytes: number;
  volume_bytes: number;
  used_percent: number;
  recordings_bytes: number;
  deleted_segments: number;
  message: string | null;
}

export class RetentionSweeper {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  private fullUntil = 0;
  private lastState = '';
  private fullAlerted = false;
  readonly stats = { sweeps: 0, deleted: 0, deleted_bytes: 0 };

  constructor(private readonly repo: RecordingsRepo, private readonly bus: Bus, private readonly topics: Topics, private readonly opts: RetentionOptions, private readonly logger: Logger) {}

  start(): void {
    mkdirSync(this.opts.root, { recursive: true });
    this.timer = setInterval(() => this.sweep(), this.opts.sweepIntervalS * 1000);
    this.timer.unref();
    this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** The limits in force (the `recordings.*` settings). */
  get limits(): RetentionLimits {
    const { maxSizeGb, maxPercent, minFreeGb, clipRetainDays, sweepIntervalS } = this.opts;
    return { maxSizeGb, maxPercent, minFreeGb, clipRetainDays, sweepIntervalS };
  }

  /**
   * Takes new limits (the settings page, applied live): the sweep interval restarts and a
   * sweep runs at once with them. `maxSizeGb: undefined` removes the size cap.
   */
  update(limits: RetentionLimits): void {
    const restart = limits.sweepIntervalS !== this.opts.sweepIntervalS;
    Object.assign(this.opts, limits);
    if (restart && this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.sweep(), this.opts.sweepIntervalS * 1000);
      this.timer.unref();
    }
    void this.sweep();
  }

  /** Reports a failed write for lack of space (ENOSPC): status `full` until space is freed. */
  reportFull(reason: string): void {
    this.fullUntil = Date.now() + 30_000;
    this.logger.error({ reason }, 'recording storage is full');
    this.sweep();
  }

  /** Runs a sweep now (coalesced with one that is running). */
  sweep(): Promise<void> {
    if (this.running) { this.again = true; return this.running; }
    this.running = this.sweepOnce().catch((err: Error) => this.logger.error({ err: err.message }, 'retention sweep failed')).finally(() => {
      this.running = null;
      if (this.again) { this.again = false; void this.sweep(); }
    });
    return this.running;
  }

  private async sweepOnce(): Promise<void> {
    this.stats.sweeps++;
    const now = Date.now() / 1000;
    let deleted = 0;
    const all = await this.repo.all();
    const expired = all.filter((r) => now - r.end_time > this.keepSeconds(r));
    deleted += await this.remove(expired);
    if (this.opts.maxSizeGb !== undefined) {
      let total = await this.repo.totalBytes();
      while (total > this.opts.maxSizeGb * GB) {
        const batch = await this.repo.oldest(20);
        if (!batch.length) break;
        const over = total - this.opts.maxSizeGb * GB;
        const pick: RecordingRow[] = [];
        let freed = 0;
        for (const r of batch) { if (freed >= over) break; pick.push(r); freed += r.bytes; }
        deleted += await this.remove(pick);
        total -= freed;
      }
    }
    let vol = await this.volume();
    // After a failed write, free at least two average segments beyond the headroom.
    const full = Date.now() < this.fullUntil;
    const avg = all.length ? all.reduce((a, r) => a + r.bytes, 0) / all.length : 0;
    const minFree = Math.max(this.opts.minFreeGb * GB, full ? 2 * avg : 0);
    while (vol && (vol.used_percent > this.opts.maxPercent || vol.free < minFree)) {
      const batch = await this.repo.oldest(10);
      if (!batch.length) break;
      deleted += await this.remove(batch);
      vol = await this.volume();
    }
    if (this.opts.sweepClips) await this.opts.sweepClips(this.opts.clipRetainDays);
    await this.publish(vol, deleted);
  }

  private keepSeconds(r: RecordingRow): number {
    const cfg = this.opts.cameraConfig(r.camera)?.record;
    const days = cfg?.retain_days ?? { continuous: 3, motion: 7, objects: 14 };
    const mode = cfg?.mode ?? 'continuous';
    const cls = r.objects ? 'objects' : r.motion ? 'motion' : 'continuous';
    let d = days[cls];
    if (mode === 'motion' && cls === 'continuous') d = 0;
    if (mode === 'objects' && cls !== 'objects') d = 0;
    return d > 0 ? d * 86400 : ZERO_DAY_GRACE_S;
  }

  private async remove(rows: RecordingRow[]): Promise<number> {
    if (!rows.length) return 0;
    for (const r of rows) {
      let file: string;
      try {
        file = safeJoin(this.opts.root, ...r.path.split('/'));
      } catch {
        this.logger.error({ path: r.path }, 'segment row points outside the recordings root; row dropped, nothing deleted');
        continue;
      }
      await rm(file, { force: true });
      // Drop emptied hour/day folders (never the camera folder).
      for (let d = dirname(file), i = 0; i < 2; d = dirname(d), i++) await rmdir(d).catch(() => undefined);
      this.stats.deleted_bytes += r.bytes;
    }
    await this.repo.delete(rows.map((r) => r.id));
    this.stats.deleted += rows.length;
    this.logger.info({ segments: rows.length, oldest: new Date(rows[0]!.start_time * 1000).toISOString() }, 'retention deleted segments');
    return rows.length;
  }

  private async volume(): Promise<{ used_percent: number; free: number; total: number } | null> {
    try {
      const s = await statfs(this.opts.root);
      const total = s.blocks * s.bsize;
      const free = s.bavail * s.bsize;
      return { total, free, used_percent: total ? ((total - free) / total) * 100 : 0 };
    } catch {
      return null;
    }
  }

  private async publish(vol: { used_percent: number; free: number; total: number } | null, deleted: number): Promise<void> {
    const recBytes = await this.repo.totalBytes();
    const low = !!vol && (vol.used_percent > this.opts.maxPercent || vol.free < this.opts.minFreeGb * GB);
    const full = Date.now() < this.fullUntil;
    if (full && !this.fullAlerted) this.lastState = ''; // always publish the first `full`
    this.fullAlerted = full;
    const state: StorageState = {
      status: full ? 'full' : low ? 'low' : 'ok',
      used_bytes: vol ? vol.total - vol.free : 0, free_bytes: vol?.free ?? 0, volume_bytes: vol?.total ?? 0,
      used_percent: vol ? Math.round(vol.used_percent * 10) / 10 : 0, recordings_bytes: recBytes, deleted_segments: deleted,
      message: full ? 'a recording write failed for lack of space; the oldest segments are being deleted' : low ? 'storage is below the configured headroom and nothing more can be deleted' : null,
    };
    const key = `${state.status}:${Math.round(state.used_percent)}:${Math.round(recBytes / 1e5)}`;
    if (key !== this.lastState) {
      this.lastState = key;
      this.bus.publishState(this.topics.hubStorage(), state);
    }
  }
}
