/**
 * The export job runner: export and clip rows run one at a time, in the order they were
 * queued. A job whose range is not recorded yet (no segment ends at or after its `end`)
 * waits until a `vigil/recorder/<cam>/segment` announcement covers it, or until
 * `waitTimeoutS` after `end`, then runs with what exists. Progress (0–1, from
 * `ffmpeg -progress`) goes to `vigil/recorder/export/<id>` (QoS 1; the final `done` /
 * `failed` state retained) and, throttled, to the row.
 *
 * A job writes `<exportsDir>/<id>.mp4` through a unique temporary file and a rename
 * (`replaceFileAtomic`, `components/protocol/atomic-write.ts`); see {@link jobFiles}. Validation, events and deletion are `ExportService`'s (`exports.ts`).
 */
import { mkdir, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { replaceFileAtomic } from '../../components/protocol/atomic-write.ts';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { ExportRow, RecordingsRepo } from '../store/recordings-repo.ts';
import { planCut } from './export-plan.ts';
import { existingSegments, segmentFile } from './export-sources.ts';
import { concatSegments } from './ffmpeg-job.ts';
import { safeJoin } from './safe-path.ts';

/** JSON published on `vigil/recorder/export/<id>`. Times: Unix seconds; progress 0–1 (3 decimals); bytes of the finished file. */
export interface ExportMessage {
  id: string;
  kind: 'clip' | 'export';
  camera: string;
  status: ExportRow['status'];
  progress: number;
  start_time: number;
  end_time: number;
  bytes?: number;
  error?: string;
}

/** Construction options of {@link ExportQueue}. */
export interface ExportQueueOptions {
  repo: RecordingsRepo;
  /** The recordings root; segment paths are relative to it. */
  root: string;
  /** Where finished files go (`<root>/exports`). */
  exportsDir: string;
  bus: Bus;
  topics: Topics;
  logger: Logger;
  /** ffmpeg binary; default `ffmpegPath()`. */
  ffmpegPath?: string;
  /** Seconds a job waits after its `end` for the recorder before it runs with what exists. */
  waitTimeoutS: number;
}

/** Progress messages are published at most this often, ms. */
const PROGRESS_PUBLISH_MS = 250;
/** Progress is saved to the row at most this often, ms. */
const PROGRESS_SAVE_MS = 1000;

/**
 * The files of job `id` in `exportsDir`: `name` (`<id>.mp4`, the row's `path` once done,
 * relative to `exportsDir`), and the absolute `out` (written through a unique temporary
 * file `<id>.mp4.<pid>.<hex>.tmp`, then renamed) and `list` (the ffconcat list while ffmpeg runs).
 * @throws InvalidInput `bad_path` when `id` is not a plain file name
 */
export function jobFiles(exportsDir: string, id: string): { name: string; out: string; list: string } {
  const name = `${id}.mp4`;
  const out = safeJoin(exportsDir, name);
  return { name, out, list: safeJoin(exportsDir, `${id}.ffconcat`) };
}

/** Runs queued export and clip jobs; see the module doc. */
export class ExportQueue {
  private readonly queue: string[] = [];
  private running?: { id: string; abort: AbortController; done: Promise<void> };
  /** Newest segment end announced per camera, Unix seconds. */
  private readonly announced = new Map<string, number>();
  private wakeTimer?: NodeJS.Timeout;
  private pumping = false;
  private pumpAgain = false;
  private started = false;
  private subscribed = false;

  constructor(private readonly opts: ExportQueueOptions) {}

  /**
   * Re-queues the rows left `queued` / `running` by the previous run (oldest first; `running`
   * ones go back to `queued` with progress 0), subscribes to segment announcements (once),
   * and starts the next ready job.
   */
  async start(): Promise<void> {
    this.started = true;
    this.queue.length = 0;
    const pending = (await this.opts.repo.listExports()).filter((e) => e.status === 'queued' || e.status === 'running')
      .sort((a, b) => a.created_at - b.created_at);
    for (const e of pending) {
      if (e.status === 'running') await this.opts.repo.saveExport({ ...e, status: 'queued', progress: 0 });
      this.queue.push(e.id);
    }
    if (!this.subscribed) {
      this.subscribed = true;
      await this.opts.bus.subscribe(this.opts.topics.sub.recorderSegments(), (topic, payload) => this.onSegment(topic, payload));
    }
    this.pump();
  }

  /**
   * Stops: no new job starts; a running job's ffmpeg is killed and the job goes back to
   * `queued` (it runs again after the next {@link start}). The segment subscription stays
   * on the bus (the bus can only drop every handler of a filter); its handler ignores messages.
   */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.wakeTimer);
    const r = this.running;
    if (r) { r.abort.abort(); await r.done; }
  }

  /** Queues a saved `queued` row: publishes it and starts it when it is next and ready. */
  add(row: ExportRow): void {
    this.publish(row);
    this.queue.push(row.id);
    this.pump();
  }

  /** Takes job `id` off the queue; when it is running, kills ffmpeg and waits for the job to end. */
  async cancel(id: string): Promise<void> {
    const qi = this.queue.indexOf(id);
    if (qi >= 0) this.queue.splice(qi, 1);
    if (this.running?.id === id) { this.running.abort.abort(); await this.running.done; }
  }

  /** Clears the retained progress message of job `id` (after its row is deleted). */
  clear(id: string): void {
    this.opts.bus.send(this.opts.topics.recorderExport(id), '', { retain: true, qos: 1 });
  }

  private onSegment(topic: string, payload: Buffer): void {
    if (!this.started) return;
    const parsed = this.opts.topics.parse(topic);
    if (parsed?.kind !== 'recorder.segment') return;
    let end: unknown;
    try { end = (JSON.parse(payload.toString()) as { end_time?: unknown }).end_time; } catch { return; }
    if (typeof end === 'number' && Number.isFinite(end)) this.announced.set(parsed.camera, Math.max(end, this.announced.get(parsed.camera) ?? 0));
    this.pump();
  }

  /** True when the recorder has gone past the job's end, or the wait timed out. */
  private async ready(row: ExportRow): Promise<boolean> {
    const wait = this.opts.waitTimeoutS;
    if (Date.now() / 1000 >= row.end_time + wait) return true;
    if ((this.announced.get(row.camera) ?? 0) >= row.end_time) return true;
    // A segment that ends at/after the end, or starts within the wait window after it.
    return (await this.opts.repo.overlapping(row.camera, row.end_time - 1e-6, row.end_time + wait)).length > 0;
  }

  /** Starts the next ready job if none runs; arms a timer for the earliest wait deadline otherwise. */
  private pump(): void {
    if (this.pumping) { this.pumpAgain = true; return; }
    this.pumping = true;
    void (async () => {
      do {
        this.pumpAgain = false;
        if (!this.started || this.running) break;
        clearTimeout(this.wakeTimer);
        let nextDeadline = Infinity;
        for (const id of [...this.queue]) {
          const row = await this.opts.repo.getExport(id);
          if (!row || row.status !== 'queued') { this.queue.splice(this.queue.indexOf(id), 1); continue; }
          if (await this.ready(row)) {
            this.queue.splice(this.queue.indexOf(id), 1);
            const abort = new AbortController();
            const done = this.run(row, abort.signal).finally(() => { this.running = undefined; this.pump(); });
            this.running = { id, abort, done };
            break;
          }
          nextDeadline = Math.min(nextDeadline, row.end_time + this.opts.waitTimeoutS);
        }
        if (!this.running && Number.isFinite(nextDeadline)) {
          const ms = Math.min(2 ** 31 - 1, Math.max(1000, nextDeadline * 1000 - Date.now() + 50));
          this.wakeTimer = setTimeout(() => this.pump(), ms);
          this.wakeTimer.unref();
        }
      } while (this.pumpAgain);
    })().catch((err: Error) => this.opts.logger.error({ err: err.message }, 'export queue failed'))
      .finally(() => { this.pumping = false; });
  }

  /** Runs one job to `done` or `failed`; an aborted job goes back to `queued` (unless its row is gone). */
  private async run(queued: ExportRow, signal: AbortSignal): Promise<void> {
    const { repo, root, logger, exportsDir } = this.opts;
    const log = logger.child({ export: queued.id });
    let row: ExportRow = { ...queued, status: 'running', progress: 0, error: null };
    await repo.saveExport(row);
    this.publish(row);
    const files = jobFiles(exportsDir, row.id);
    const t0 = Date.now();
    try {
      const segs = await existingSegments(repo, root, logger, row.camera, row.start_time, row.end_time);
      const plan = planCut(segs, row.start_time, row.end_time);
      if (!plan) throw new Error('no recordings in the requested range');
      await mkdir(exportsDir, { recursive: true });
      let lastPub = 0;
      let lastSave = Date.now();
      let saving: Promise<void> = Promise.resolve();
      await replaceFileAtomic(files.out, (tmp) => concatSegments({
        ffmpeg: this.opts.ffmpegPath, files: segs.map((s) => segmentFile(root, s)), listFile: files.list,
        out: tmp, ss: plan.ss, t: plan.t, faststart: true, signal,
        onProgress: (p) => {
          if (p <= row.progress) return;
          row = { ...row, progress: p };
          const now = Date.now();
          if (now - lastPub >= PROGRESS_PUBLISH_MS) { lastPub = now; this.publish(row); }
          if (now - lastSave >= PROGRESS_SAVE_MS) { lastSave = now; const r = row; saving = saving.then(() => repo.saveExport(r)).catch(() => undefined); }
        },
      }));
      await saving;
      const bytes = (await stat(files.out)).size;
      row = { ...row, status: 'done', progress: 1, path: files.name, bytes, start_time: plan.start, end_time: plan.end };
      await repo.saveExport(row);
      this.publish(row);
      const took = (Date.now() - t0) / 1000;
      log.info({ camera: row.camera, seconds: +plan.t.toFixed(2), bytes, took_s: took, segments: segs.length }, 'export done');
    } catch (err) {
      // replaceFileAtomic removed its temporary file.
      if (signal.aborted) {
        // Stopped (hub stop) or deleted: a stopped job runs again after the next start().
        const still = await repo.getExport(row.id);
        if (still) await repo.saveExport({ ...row, status: 'queued', progress: 0 });
        return;
      }
      const error = (err as Error).message;
      row = { ...row, status: 'failed', error };
      await repo.saveExport(row).catch(() => undefined);
      this.publish(row);
      log.warn({ camera: row.camera, err: error }, 'export failed');
    }
  }

  private publish(row: ExportRow): void {
    const msg: ExportMessage = {
      id: row.id, kind: row.kind, camera: row.camera, status: row.status, progress: Math.round(row.progress * 1000) / 1000,
      start_time: row.start_time, end_time: row.end_time,
      ...(row.bytes !== null ? { bytes: row.bytes } : {}), ...(row.error ? { error: row.error } : {}),
    };
    const final = row.status === 'done' || row.status === 'failed';
    this.opts.bus.send(this.opts.topics.recorderExport(row.id), msg, { qos: 1, retain: final });
  }
}
