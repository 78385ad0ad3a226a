/**
 * Exports and event clips: a time range of one camera's recording segments joined into
 * one MP4 file, without re-encoding.
 *
 * A job concatenates the segments overlapping `[start, end]` with ffmpeg's concat demuxer
 * and `-c copy`, trims with `-ss` / `-t` on the concat timeline (relative to the first
 * segment's start), and writes `<recordings root>/exports/<id>.mp4` (through `<id>.mp4.tmp`
 * and a rename; `+faststart` so browsers can play it before it is fully downloaded).
 *
 * Cuts and keyframes: with stream copy ffmpeg can only start decoding at a keyframe, so the
 * file begins at the keyframe at or before `start`; the frames between that keyframe and
 * `start` are kept but marked "discard" in an MP4 edit list, so players that honour edit
 * lists (browsers, ffmpeg, VLC) start exactly at `start`; the others show up to one GOP
 * (≤ 1 s for most cameras) more. The end is cut at the last frame before `end`.
 * Gaps between segments are not filled: the file's timeline skips them.
 *
 * Jobs run one at a time, in creation order. A job whose range is not recorded yet (no
 * segment ends at or after `end`) stays `queued` until a `vigil/recorder/<cam>/segment`
 * announcement covers it, or until {@link WAIT_TIMEOUT_S} after `end`, then runs with what
 * exists. Progress (0–1, from `ffmpeg -progress`) goes to `vigil/recorder/export/<id>`
 * (QoS 1; the final `done`/`failed` state retained) and, throttled, to the row.
 *
 * Files live in a tree of their own (`exports/`), which the segment sweeper never touches;
 * clips are removed by {@link ExportService.sweepClips}, exports only by
 * {@link ExportService.delete}. `exports/.cache/` holds the range files of
 * `GET /cameras/:name/recordings.mp4` ({@link ExportService.rangeFile}), removed an hour
 * after their last use.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { cameraName } from '../../components/protocol/camera-config.ts';
import { ApiError } from '../http/errors.ts';
import type { EventsRepo } from '../store/events-repo.ts';
import type { ExportRow, RecordingRow, RecordingsRepo } from '../store/recordings-repo.ts';
import { safeJoin } from './safe-path.ts';

/** Seconds a job waits after its `end` for the recorder to cover the range before it runs with what exists (2 × the longest segment). */
export const WAIT_TIMEOUT_S = 2 * 600;
/** Longest range one export, clip or range file may span, seconds. */
export const MAX_RANGE_S = 24 * 3600;
/** Range files (`exports/.cache/`) unused this long are deleted, seconds. */
export const CACHE_MAX_AGE_S = 3600;
/** Export ids: what {@link ExportService.create} makes (UUIDs), and all a route may pass to a path. */
export const EXPORT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The `record` settings of a camera that matter for event clips (a subset of `CameraConfig['record']`). Seconds. */
export interface RecordSettings {
  enabled: boolean;
  event_clips: boolean;
  pre_capture: number;
  post_capture: number;
}

/** What to export. Times are Unix seconds. */
export interface ExportRequest {
  camera: string;
  start: number;
  end: number;
  kind: 'clip' | 'export';
  /** The event a clip belongs to. */
  eventId?: string;
  /** Who asked (user or key name), for the row. */
  createdBy?: string;
}

/** JSON published on `vigil/recorder/export/<id>`. Times: Unix seconds; progress 0–1; bytes of the finished file. */
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

/** Construction options of {@link ExportService}. */
export interface ExportServiceOptions {
  repo: RecordingsRepo;
  events: EventsRepo;
  /** The recordings root (`recordings.root`, default `<data_dir>/recordings`); files go to `<root>/exports/`. */
  root: string;
  bus: Bus;
  topics: Topics;
  logger: Logger;
  /** ffmpeg binary; default `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /**
   * The `record` settings of a camera, for clips asked for by event id ({@link ExportService.clipForEvent}
   * without settings). Default: 5 s pre- and post-capture.
   */
  recordSettings?: (camera: string) => Promise<Pick<RecordSettings, 'pre_capture' | 'post_capture'> | undefined>;
  /** Override of {@link WAIT_TIMEOUT_S} (tests). */
  waitTimeoutS?: number;
}

/** A range of segments laid out on the concat timeline. Seconds. */
export interface CutPlan {
  /** Offset of the first output frame from the first segment's start (`-ss`). */
  ss: number;
  /** Output duration (`-t`). */
  t: number;
  /** Wall-clock range the output covers (Unix seconds; gaps inside are skipped). */
  start: number;
  end: number;
}

const DEFAULT_CAPTURE = { pre_capture: 5, post_capture: 5 };
const PROGRESS_PUBLISH_MS = 250;
const PROGRESS_SAVE_MS = 1000;
const CACHE_SWEEP_EVERY_MS = 60_000;

/** Duration of a segment row, seconds (its `duration`, else end − start). */
function segDuration(s: RecordingRow): number {
  return s.duration > 0 ? s.duration : Math.max(0, s.end_time - s.start_time);
}

/**
 * Lays `segments` (oldest first, overlapping `[start, end]`) end to end, as the concat
 * demuxer does, and finds where `[start, end]` falls on that timeline.
 * @returns null when the segments cover nothing of the range.
 */
export function planCut(segments: RecordingRow[], start: number, end: number): CutPlan | null {
  const first = segments[0];
  if (!first) return null;
  const firstDur = segDuration(first);
  const ss = Math.min(Math.max(0, start - first.start_time), firstDur);
  let cum = 0;
  let endPos: number | undefined;
  let wallEnd = first.start_time;
  for (const s of segments) {
    const d = segDuration(s);
    wallEnd = s.start_time + Math.min(d, Math.max(0, end - s.start_time));
    if (end <= s.start_time + d) { endPos = cum + Math.max(0, end - s.start_time); break; }
    cum += d;
  }
  endPos ??= cum;
  const t = endPos - ss;
  if (!(t > 0.05)) return null;
  return { ss, t, start: first.start_time + ss, end: Math.max(first.start_time + ss, Math.min(end, wallEnd)) };
}

/** Quotes a path for an ffconcat `file` line. */
function concatQuote(p: string): string {
  return `'${p.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs ffmpeg's concat demuxer over `files` with stream copy into `out` (MP4).
 * @param o.ss seconds to skip on the concat timeline (`-ss`, lands on the keyframe before, see the module doc)
 * @param o.t output duration in seconds (`-t`)
 * @param o.onProgress called with 0–1 as ffmpeg reports `out_time_us`
 * @param o.signal aborting kills ffmpeg (the promise rejects)
 * @throws Error with the tail of ffmpeg's stderr when it fails
 */
export async function concatSegments(o: {
  ffmpeg: string; files: string[]; listFile: string; out: string; ss: number; t: number; faststart: boolean;
  onProgress?: (p: number) => void; signal?: AbortSignal;
}): Promise<void> {
  await writeFile(o.listFile, `ffconcat version 1.0\n${o.files.map((f) => `file ${concatQuote(f)}\n`).join('')}`);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0'];
  if (o.ss > 0.001) args.push('-ss', o.ss.toFixed(3));
  args.push('-i', o.listFile, '-t', o.t.toFixed(3), '-map', '0:v?', '-map', '0:a?', '-c', 'copy');
  if (o.faststart) args.push('-movflags', '+faststart');
  args.push('-f', 'mp4', '-progress', 'pipe:1', '-stats_period', '0.25', '-nostats', o.out);
  try {
    await runFfmpeg(o.ffmpeg, args, (line) => {
      const m = /^out_time_us=(\d+)/.exec(line);
      if (m && o.onProgress) o.onProgress(Math.min(1, Math.max(0, Number(m[1]) / 1e6 / o.t)));
    }, o.signal);
  } finally {
    await rm(o.listFile, { force: true });
  }
}

/** Spawns ffmpeg; `onLine` gets each stdout line. @throws Error with stderr's tail on a non-zero exit, spawn failure or abort. */
function runFfmpeg(bin: string, args: string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let buf = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i).trim()); buf = buf.slice(i + 1); }
    });
    p.stderr.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-4000); });
    const onAbort = (): void => { p.kill('SIGKILL'); };
    signal?.addEventListener('abort', onAbort, { once: true });
    p.once('error', (err) => { signal?.removeEventListener('abort', onAbort); reject(new Error(`cannot run ${bin}: ${err.message}`)); });
    p.once('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new Error('aborted'));
      else if (code === 0) resolve();
      else reject(new Error(`ffmpeg exited with ${code ?? sig}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`));
    });
  });
}

/** Absolute path of a segment's file (resolved with `safeJoin`). @throws ApiError 400 when the stored path escapes the root. */
export function segmentFile(root: string, row: Pick<RecordingRow, 'path'>): string {
  return safeJoin(root, ...row.path.split('/'));
}

async function exists(p: string): Promise<boolean> {
  try { return (await stat(p)).isFile(); } catch { return false; }
}

/** Runs export and event clip jobs, one at a time; see the module doc. */
export class ExportService {
  /** `<root>/exports`: finished files, named `<id>.mp4` (the row's `path`, relative to this directory). */
  readonly exportsDir: string;
  /** `<root>/exports/.cache`: range files of `recordings.mp4`. */
  readonly cacheDir: string;
  private readonly ffmpeg: string;
  private readonly waitTimeoutS: number;
  private readonly queue: string[] = [];
  private running?: { id: string; abort: AbortController; done: Promise<void> };
  /** Newest segment end announced per camera, Unix seconds. */
  private readonly announced = new Map<string, number>();
  private wakeTimer?: NodeJS.Timeout;
  private cacheTimer?: NodeJS.Timeout;
  private lastCacheSweep = 0;
  private readonly building = new Map<string, Promise<{ path: string; bytes: number }>>();
  private pumping = false;
  private pumpAgain = false;
  private started = false;

  constructor(private readonly opts: ExportServiceOptions) {
    this.exportsDir = safeJoin(opts.root, 'exports');
    this.cacheDir = safeJoin(this.exportsDir, '.cache');
    this.ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
    this.waitTimeoutS = opts.waitTimeoutS ?? WAIT_TIMEOUT_S;
  }

  /**
   * Creates the export directories, re-queues jobs left `queued`/`running` by the previous
   * run, and subscribes to segment announcements (which wake waiting jobs).
   */
  async start(): Promise<void> {
    await mkdir(this.cacheDir, { recursive: true });
    this.started = true;
    this.queue.length = 0;
    const pending = (await this.opts.repo.listExports()).filter((e) => e.status === 'queued' || e.status === 'running')
      .sort((a, b) => a.created_at - b.created_at);
    for (const e of pending) {
      if (e.status === 'running') await this.save({ ...e, status: 'queued', progress: 0 });
      this.queue.push(e.id);
    }
    await this.opts.bus.subscribe(this.opts.topics.sub.recorderSegments(), (topic, payload) => this.onSegment(topic, payload));
    this.cacheTimer = setInterval(() => { void this.sweepCache().catch(() => undefined); }, 10 * 60_000);
    this.cacheTimer.unref();
    void this.sweepCache().catch(() => undefined);
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
    clearInterval(this.cacheTimer);
    const r = this.running;
    if (r) { r.abort.abort(); await r.done; }
  }

  /**
   * Queues an export or clip job.
   * @returns the new row (`queued`)
   * @throws ApiError 400 on a bad camera name, non-finite times, `end <= start` or a range over {@link MAX_RANGE_S}
   */
  async create(req: ExportRequest): Promise<ExportRow> {
    if (!cameraName.safeParse(req.camera).success) throw new ApiError(400, 'validation_failed', 'camera: not a camera name', 'camera');
    checkRange(req.start, req.end);
    const row: ExportRow = {
      id: randomUUID(), kind: req.kind, camera: req.camera, event_id: req.eventId ?? null, start_time: req.start, end_time: req.end,
      status: 'queued', progress: 0, path: null, bytes: null, error: null, created_by: req.createdBy ?? null, created_at: Math.floor(Date.now() / 1000),
    };
    await this.opts.repo.saveExport(row);
    this.publish(row);
    this.queue.push(row.id);
    this.opts.logger.info({ id: row.id, kind: row.kind, camera: row.camera, start: row.start_time, end: row.end_time }, 'export queued');
    this.pump();
    return row;
  }

  /**
   * The clip of an event: `[start_time − pre_capture, end_time + post_capture]`, kind `clip`
   * (swept by clip retention). Returns the existing clip when the event has one already
   * (unless it failed).
   * @param record pre/post capture seconds; default from `recordSettings` of the options, else 5 s each
   * @throws ApiError 404 when there is no such event, 409 while the event is still in progress
   */
  async clipForEvent(eventId: string, record?: Pick<RecordSettings, 'pre_capture' | 'post_capture'>): Promise<ExportRow> {
    const existing = await this.clipOf(eventId);
    if (existing) return existing;
    const w = await this.eventWindow(eventId, record);
    return this.create({ ...w, kind: 'clip', eventId });
  }

  /**
   * A user export of an event's window (as {@link clipForEvent}), kind `export`: kept until deleted.
   * @throws ApiError 404 when there is no such event, 409 while the event is still in progress
   */
  async exportForEvent(eventId: string, createdBy?: string): Promise<ExportRow> {
    const w = await this.eventWindow(eventId);
    return this.create({ ...w, kind: 'export', eventId, createdBy });
  }

  /** The camera of an event (for authorization before {@link exportForEvent}). @throws ApiError 404 */
  async eventCamera(eventId: string): Promise<string> {
    const e = await this.opts.events.get(eventId);
    if (!e) throw new ApiError(404, 'not_found', `no event ${eventId}`);
    return e.camera;
  }

  private async eventWindow(eventId: string, record?: Pick<RecordSettings, 'pre_capture' | 'post_capture'>): Promise<{ camera: string; start: number; end: number }> {
    const e = await this.opts.events.get(eventId);
    if (!e) throw new ApiError(404, 'not_found', `no event ${eventId}`);
    if (e.end_time === null) throw new ApiError(409, 'in_progress', `event ${eventId} has not ended yet`);
    const cap = record ?? (await this.opts.recordSettings?.(e.camera).catch(() => undefined)) ?? DEFAULT_CAPTURE;
    return { camera: e.camera, start: e.start_time - cap.pre_capture, end: e.end_time + cap.post_capture };
  }

  /**
   * Hook for the end of an event (`vigil/events` `end`): queues its clip when the camera
   * records and makes event clips. Times are Unix seconds.
   * @returns the clip row, or null when clips are off (or the event has one already: that row)
   */
  async onEventEnd(event: { id: string; camera: string; start_time: number; end_time: number }, record: RecordSettings): Promise<ExportRow | null> {
    if (!record.enabled || !record.event_clips) return null;
    const existing = await this.clipOf(event.id);
    if (existing) return existing;
    return this.create({ camera: event.camera, start: event.start_time - record.pre_capture, end: event.end_time + record.post_capture, kind: 'clip', eventId: event.id });
  }

  /** One export or clip row, or null. */
  async get(id: string): Promise<ExportRow | null> {
    if (!EXPORT_ID.test(id)) return null;
    return this.opts.repo.getExport(id);
  }

  /** Export and clip rows, newest first (optionally of one camera). */
  async list(camera?: string): Promise<ExportRow[]> {
    return this.opts.repo.listExports(camera);
  }

  /** Absolute path of a finished export's file (resolved with `safeJoin`). @throws ApiError 404 when the job has no file. */
  filePath(row: ExportRow): string {
    if (row.status !== 'done' || !row.path) throw new ApiError(404, 'not_ready', `export ${row.id} is ${row.status}`);
    return safeJoin(this.exportsDir, row.path);
  }

  /**
   * Deletes an export or clip: stops its job if running, removes its file and row, and
   * clears its retained progress message.
   * @returns false when there was no such export
   */
  async delete(id: string): Promise<boolean> {
    const row = await this.get(id);
    if (!row) return false;
    const qi = this.queue.indexOf(id);
    if (qi >= 0) this.queue.splice(qi, 1);
    if (this.running?.id === id) { this.running.abort.abort(); await this.running.done; }
    await rm(safeJoin(this.exportsDir, `${id}.mp4`), { force: true });
    await rm(safeJoin(this.exportsDir, `${id}.mp4.tmp`), { force: true });
    if (row.path && row.path !== `${id}.mp4`) await rm(safeJoin(this.exportsDir, row.path), { force: true });
    await this.opts.repo.deleteExport(id);
    this.opts.bus.send(this.opts.topics.recorderExport(id), '', { retain: true, qos: 1 });
    this.opts.logger.info({ id, kind: row.kind, camera: row.camera }, 'export deleted');
    return true;
  }

  /**
   * Clip retention: deletes `kind = 'clip'` rows (and files) created more than `olderThanDays`
   * days ago. Exports (`kind = 'export'`) are never swept.
   * @returns how many clips were deleted
   */
  async sweepClips(olderThanDays: number): Promise<number> {
    const cutoff = Date.now() / 1000 - olderThanDays * 86400;
    let n = 0;
    for (const e of await this.opts.repo.listExports()) {
      if (e.kind === 'clip' && e.created_at < cutoff && (await this.delete(e.id))) n++;
    }
    if (n) this.opts.logger.info({ deleted: n, olderThanDays }, 'old event clips deleted');
    return n;
  }

  /**
   * One MP4 of `camera` for `[start, end]` (Unix seconds), for `GET /cameras/:name/recordings.mp4`:
   * concat + `-c copy` into `exports/.cache/<camera>-<key>.mp4`, keyed by camera, range and the
   * segments found (so a range still being recorded is rebuilt once it grew). Concurrent calls
   * for one key share one ffmpeg run. Cuts land as described in the module doc.
   * @returns the absolute path and size in bytes
   * @throws ApiError 400 on a bad range, 404 when no segment overlaps it; Error when ffmpeg fails
   */
  async rangeFile(camera: string, start: number, end: number): Promise<{ path: string; bytes: number; start: number; end: number }> {
    checkRange(start, end);
    if (Date.now() - this.lastCacheSweep > CACHE_SWEEP_EVERY_MS) void this.sweepCache().catch(() => undefined);
    const segs = await this.existingSegments(camera, start, end);
    const plan = planCut(segs, start, end);
    if (!plan) throw new ApiError(404, 'no_recordings', `no recordings of ${camera} between ${start} and ${end}`);
    const key = createHash('sha256').update(JSON.stringify([camera, start, end, segs.map((s) => [s.id, s.end_time])])).digest('hex').slice(0, 32);
    const file = safeJoin(this.cacheDir, `${camera}-${key}.mp4`);
    let job = this.building.get(key);
    if (!job) {
      job = (async () => {
        try {
          const st = await stat(file);
          const now = new Date();
          await utimes(file, now, now).catch(() => undefined);
          return { path: file, bytes: st.size };
        } catch { /* not cached */ }
        await mkdir(this.cacheDir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          await concatSegments({ ffmpeg: this.ffmpeg, files: segs.map((s) => segmentFile(this.opts.root, s)), listFile: `${tmp}.ffconcat`, out: tmp, ss: plan.ss, t: plan.t, faststart: true });
          await rename(tmp, file);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        return { path: file, bytes: (await stat(file)).size };
      })().finally(() => this.building.delete(key));
      this.building.set(key, job);
    }
    return { ...(await job), start: plan.start, end: plan.end };
  }

  /**
   * Deletes range files not used for `maxAgeS` seconds (default {@link CACHE_MAX_AGE_S}) and
   * leftover temporary files. Runs by itself every 10 minutes and on range requests.
   * @returns how many files were deleted
   */
  async sweepCache(maxAgeS = CACHE_MAX_AGE_S): Promise<number> {
    this.lastCacheSweep = Date.now();
    let names: string[];
    try { names = await readdir(this.cacheDir); } catch { return 0; }
    let n = 0;
    for (const name of names) {
      const p = safeJoin(this.cacheDir, name);
      try {
        const st = await stat(p);
        if (Date.now() - st.mtimeMs > maxAgeS * 1000) { await rm(p, { force: true }); n++; }
      } catch { /* gone meanwhile */ }
    }
    return n;
  }

  // ---- jobs -------------------------------------------------------------------------

  private async clipOf(eventId: string): Promise<ExportRow | undefined> {
    return (await this.opts.repo.listExports()).find((e) => e.kind === 'clip' && e.event_id === eventId && e.status !== 'failed');
  }

  /** Segments overlapping the range whose files exist, oldest first. */
  private async existingSegments(camera: string, start: number, end: number): Promise<RecordingRow[]> {
    const rows = await this.opts.repo.overlapping(camera, start, end);
    const out: RecordingRow[] = [];
    for (const r of rows) {
      let file: string;
      try { file = segmentFile(this.opts.root, r); } catch { this.opts.logger.warn({ id: r.id, path: r.path }, 'segment path outside the recordings root; skipped'); continue; }
      if (await exists(file)) out.push(r);
      else this.opts.logger.warn({ id: r.id, path: r.path }, 'segment file missing; skipped');
    }
    return out;
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
    if (Date.now() / 1000 >= row.end_time + this.waitTimeoutS) return true;
    if ((this.announced.get(row.camera) ?? 0) >= row.end_time) return true;
    // A segment that ends at/after the end, or starts within the wait window after it.
    return (await this.opts.repo.overlapping(row.camera, row.end_time - 1e-6, row.end_time + this.waitTimeoutS)).length > 0;
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
          nextDeadline = Math.min(nextDeadline, row.end_time + this.waitTimeoutS);
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

  private async run(queued: ExportRow, signal: AbortSignal): Promise<void> {
    const log = this.opts.logger.child({ export: queued.id });
    let row: ExportRow = { ...queued, status: 'running', progress: 0, error: null };
    await this.save(row);
    this.publish(row);
    const out = safeJoin(this.exportsDir, `${row.id}.mp4`);
    const tmp = `${out}.tmp`;
    const t0 = Date.now();
    try {
      const segs = await this.existingSegments(row.camera, row.start_time, row.end_time);
      const plan = planCut(segs, row.start_time, row.end_time);
      if (!plan) throw new Error('no recordings in the requested range');
      await mkdir(this.exportsDir, { recursive: true });
      let lastPub = 0;
      let lastSave = Date.now();
      let saving: Promise<void> = Promise.resolve();
      await concatSegments({
        ffmpeg: this.ffmpeg, files: segs.map((s) => segmentFile(this.opts.root, s)), listFile: safeJoin(this.exportsDir, `${row.id}.ffconcat`),
        out: tmp, ss: plan.ss, t: plan.t, faststart: true, signal,
        onProgress: (p) => {
          if (p <= row.progress) return;
          row = { ...row, progress: p };
          const now = Date.now();
          if (now - lastPub >= PROGRESS_PUBLISH_MS) { lastPub = now; this.publish(row); }
          if (now - lastSave >= PROGRESS_SAVE_MS) { lastSave = now; const r = row; saving = saving.then(() => this.save(r)).catch(() => undefined); }
        },
      });
      await saving;
      await rename(tmp, out);
      const bytes = (await stat(out)).size;
      row = { ...row, status: 'done', progress: 1, path: `${row.id}.mp4`, bytes, start_time: plan.start, end_time: plan.end };
      await this.save(row);
      this.publish(row);
      const took = (Date.now() - t0) / 1000;
      log.info({ camera: row.camera, seconds: +plan.t.toFixed(2), bytes, took_s: took, segments: segs.length }, 'export done');
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (signal.aborted) {
        // Stopped (hub stop) or deleted: a stopped job runs again after the next start().
        const still = await this.opts.repo.getExport(row.id);
        if (still) await this.save({ ...row, status: 'queued', progress: 0 });
        return;
      }
      const error = (err as Error).message;
      row = { ...row, status: 'failed', error };
      await this.save(row).catch(() => undefined);
      this.publish(row);
      log.warn({ camera: row.camera, err: error }, 'export failed');
    }
  }

  private async save(row: ExportRow): Promise<void> {
    await this.opts.repo.saveExport(row);
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

/** @throws ApiError 400 unless `start < end`, both finite and at most {@link MAX_RANGE_S} apart. */
function checkRange(start: number, end: number): void {
  if (!Number.isFinite(start) || start < 0) throw new ApiError(400, 'validation_failed', 'start: must be Unix seconds', 'start');
  if (!Number.isFinite(end) || end <= start) throw new ApiError(400, 'validation_failed', 'end: must be later than start', 'end');
  if (end - start > MAX_RANGE_S) throw new ApiError(400, 'validation_failed', `end: a range is at most ${MAX_RANGE_S} s`, 'end');
}
