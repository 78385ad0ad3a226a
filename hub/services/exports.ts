/**
 * Exports and event clips: a time range of one camera's recording segments joined into
 * one MP4 file, without re-encoding. {@link ExportService} is the one entry point (REST
 * routes, the event-clip hook, clip retention); the parts live next to it:
 *
 * - `export-plan.ts` — where a range falls on the concat timeline, which ranges are valid ({@link MAX_RANGE_S});
 * - `export-queue.ts` — the job runner (one at a time, waiting for the recorder, MQTT progress);
 * - `export-cache.ts` — the range files of `GET /cameras/:name/recordings.mp4` in `exports/.cache/`;
 * - `export-sources.ts` — the segment files a range is made of;
 * - `ffmpeg-job.ts` — ffmpeg's concat demuxer with `-c copy`, `-ss` / `-t` on the concat timeline.
 *
 * A job writes `<recordings root>/exports/<id>.mp4` (through a unique `<id>.mp4.<pid>.<hex>.tmp` and a rename;
 * `+faststart` so browsers can play it before it is fully downloaded).
 *
 * Cuts and keyframes: with stream copy ffmpeg can only start decoding at a keyframe, so the
 * file begins at the keyframe at or before `start`; the frames between that keyframe and
 * `start` are kept but marked "discard" in an MP4 edit list, so players that honour edit
 * lists (browsers, ffmpeg, VLC) start exactly at `start`; the others show up to one GOP
 * (≤ 1 s for most cameras) more. The end is cut at the last frame before `end`.
 * Gaps between segments are not filled: the file's timeline skips them.
 *
 * Files live in a tree of their own (`exports/`), which the segment sweeper never touches;
 * clips are removed by {@link ExportService.sweepClips}, exports only by
 * {@link ExportService.delete}. Range files are removed an hour after their last use.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { removeTempFiles } from '../../components/protocol/atomic-write.ts';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { z } from 'zod';
import { cameraName } from '../../components/protocol/camera-config.ts';
import { canSeeCamera, type Principal } from '../auth/principal.ts';
import { Conflict, NotFound, parseWith } from '../errors.ts';
import type { EventsRepo } from '../store/events-repo.ts';
import type { ExportRow, RecordingsRepo } from '../store/recordings-repo.ts';
import { RangeFileCache, type RangeFile } from './export-cache.ts';
import { checkExportRequest } from './export-plan.ts';
import { ExportQueue, jobFiles } from './export-queue.ts';
import { safeJoin } from './safe-path.ts';

/** Seconds a job waits after its `end` for the recorder to cover the range before it runs with what exists (2 × the longest segment). */
export const WAIT_TIMEOUT_S = 2 * 600;
/** Export ids: what {@link ExportService.create} makes (UUIDs), and all a route may pass to a path. */
export const EXPORT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Body of an export request (`POST /api/exports`, bridge `export`): a camera range (Unix seconds). */
export const exportRangeBody = z.object({ camera: cameraName, start: z.number().finite().min(0), end: z.number().finite().min(0) }).strict();
/** Body of an export request for an event's window (with its camera's pre/post capture). */
export const exportEventBody = z.object({ event: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/, 'not an event id') }).strict();

/** The `record` settings of a camera that matter for event clips (a subset of `CameraConfig['record']`). Seconds. */
export interface RecordSettings {
  enabled: boolean;
  event_clips: boolean;
  pre_capture: number;
  post_capture: number;
}

/** Pre- and post-capture around an event, seconds. */
type Capture = Pick<RecordSettings, 'pre_capture' | 'post_capture'>;

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

/** Construction options of {@link ExportService}. */
export interface ExportServiceOptions {
  repo: RecordingsRepo;
  events: EventsRepo;
  /** The recordings root (`recordings.root`, default `<data_dir>/recordings`); files go to `<root>/exports/`. */
  root: string;
  bus: Bus;
  topics: Topics;
  logger: Logger;
  /** ffmpeg binary; default `ffmpegPath()` (`components/protocol/ffmpeg-path.ts`), resolved when a job runs. */
  ffmpegPath?: string;
  /**
   * The `record` settings of a camera, for clips asked for by event id ({@link ExportService.clipForEvent}
   * without settings). Default: 5 s pre- and post-capture.
   */
  recordSettings?: (camera: string) => Promise<Capture | undefined>;
  /** Override of {@link WAIT_TIMEOUT_S}, seconds (tests). */
  waitTimeoutS?: number;
}

const DEFAULT_CAPTURE: Capture = { pre_capture: 5, post_capture: 5 };

/** Export and event clip jobs, their rows and files, and range files; see the module doc. */
export class ExportService {
  /** `<root>/exports`: finished files, named `<id>.mp4` (the row's `path`, relative to this directory). */
  readonly exportsDir: string;
  /** `<root>/exports/.cache`: range files of `recordings.mp4`. */
  readonly cacheDir: string;
  private readonly jobs: ExportQueue;
  private readonly cache: RangeFileCache;

  constructor(private readonly opts: ExportServiceOptions) {
    this.exportsDir = safeJoin(opts.root, 'exports');
    this.cacheDir = safeJoin(this.exportsDir, '.cache');
    const { repo, root, bus, topics, logger, ffmpegPath } = opts;
    this.jobs = new ExportQueue({ repo, root, exportsDir: this.exportsDir, bus, topics, logger, ffmpegPath, waitTimeoutS: opts.waitTimeoutS ?? WAIT_TIMEOUT_S });
    this.cache = new RangeFileCache({ repo, root, dir: this.cacheDir, logger, ffmpegPath });
  }

  /**
   * Creates the export directories, starts the range-file sweep, re-queues jobs left
   * `queued` / `running` by the previous run, and subscribes to segment announcements
   * (which wake waiting jobs).
   */
  async start(): Promise<void> {
    await this.cache.start();
    await this.jobs.start();
  }

  /**
   * Stops: no new job starts; a running job's ffmpeg is killed and the job goes back to
   * `queued` (it runs again after the next {@link start}).
   */
  async stop(): Promise<void> {
    this.cache.stop();
    await this.jobs.stop();
  }

  /**
   * Queues an export or clip job.
   * @returns the new row (`queued`)
   * @throws InvalidInput `validation_failed` (400) with field `camera` on a bad camera name, `start` / `end`
   *   on non-finite times, `end <= start` or a range over `MAX_RANGE_S` (see `checkExportRequest`)
   */
  async create(req: ExportRequest): Promise<ExportRow> {
    checkExportRequest(req);
    const row: ExportRow = {
      id: randomUUID(), kind: req.kind, camera: req.camera, event_id: req.eventId ?? null, start_time: req.start, end_time: req.end,
      status: 'queued', progress: 0, path: null, bytes: null, error: null, created_by: req.createdBy ?? null, created_at: Math.floor(Date.now() / 1000),
    };
    await this.opts.repo.saveExport(row);
    this.opts.logger.info({ id: row.id, kind: row.kind, camera: row.camera, start: row.start_time, end: row.end_time }, 'export queued');
    this.jobs.add(row);
    return row;
  }

  /**
   * The clip of an event: `[start_time − pre_capture, end_time + post_capture]`, kind `clip`
   * (swept by clip retention). Returns the existing clip when the event has one already
   * (unless it failed).
   * @param record pre/post capture seconds; default from `recordSettings` of the options, else 5 s each
   * @throws NotFound `not_found` (404) when there is no such event; Conflict `in_progress` (409) while it has not ended
   */
  async clipForEvent(eventId: string, record?: Capture): Promise<ExportRow> {
    const existing = await this.clipOf(eventId);
    if (existing) return existing;
    const w = await this.eventWindow(eventId, record);
    return this.create({ ...w, kind: 'clip', eventId });
  }

  /**
   * A user export of an event's window (as {@link clipForEvent}), kind `export`: kept until deleted.
   * @param createdBy user or key name, for the row
   * @throws NotFound `not_found` (404) when there is no such event; Conflict `in_progress` (409) while it has not ended
   */
  async exportForEvent(eventId: string, createdBy?: string): Promise<ExportRow> {
    const w = await this.eventWindow(eventId);
    return this.create({ ...w, kind: 'export', eventId, createdBy });
  }

  /**
   * An export asked for by `principal` (REST and the MQTT bridge): `{event}` when the body
   * has an `event` key, else `{camera, start, end}`; the camera must be one the principal
   * sees (else NotFound, as for an unknown camera, so the name is not confirmed).
   * @throws InvalidInput `validation_failed` (400) with the field; NotFound (404); Conflict as {@link create} / {@link exportForEvent}
   */
  async request(body: unknown, principal: Principal): Promise<ExportRow> {
    const visible = (camera: string) => {
      if (!canSeeCamera(principal, camera)) throw new NotFound(`no camera ${camera}`);
    };
    if (body && typeof body === 'object' && 'event' in body) {
      const { event } = parseWith(exportEventBody, body);
      visible(await this.eventCamera(event));
      return this.exportForEvent(event, principal.name);
    }
    const b = parseWith(exportRangeBody, body);
    visible(b.camera);
    return this.create({ camera: b.camera, start: b.start, end: b.end, kind: 'export', createdBy: principal.name });
  }

  /** The camera of an event (for authorization before {@link exportForEvent}). @throws NotFound `not_found` (404) */
  async eventCamera(eventId: string): Promise<string> {
    return (await this.event(eventId)).camera;
  }

  /**
   * Hook for the end of an event (`vigil/events` `end`): queues its clip when the camera
   * records and makes event clips. Times are Unix seconds.
   * @returns the clip row, or null when clips are off (or the event has one already: that row)
   * @throws InvalidInput as {@link create}
   */
  async onEventEnd(event: { id: string; camera: string; start_time: number; end_time: number }, record: RecordSettings): Promise<ExportRow | null> {
    if (!record.enabled || !record.event_clips) return null;
    const existing = await this.clipOf(event.id);
    if (existing) return existing;
    return this.create({ camera: event.camera, start: event.start_time - record.pre_capture, end: event.end_time + record.post_capture, kind: 'clip', eventId: event.id });
  }

  /** One export or clip row, or null (also for ids not of the {@link EXPORT_ID} shape). */
  async get(id: string): Promise<ExportRow | null> {
    if (!EXPORT_ID.test(id)) return null;
    return this.opts.repo.getExport(id);
  }

  /** Export and clip rows, newest first (optionally of one camera). */
  async list(camera?: string): Promise<ExportRow[]> {
    return this.opts.repo.listExports(camera);
  }

  /**
   * Absolute path of a finished export's file (resolved with `safeJoin`).
   * @throws NotFound `not_ready` (404) when the job has no file (yet); InvalidInput `bad_path` when the row's path escapes the directory
   */
  filePath(row: ExportRow): string {
    if (row.status !== 'done' || !row.path) throw new NotFound(`export ${row.id} is ${row.status}`, 'not_ready');
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
    await this.jobs.cancel(id);
    const files = jobFiles(this.exportsDir, id);
    await rm(files.out, { force: true });
    await removeTempFiles(files.out); // left by a crash mid-job (a cancelled job removed its own)
    if (row.path && row.path !== files.name) await rm(safeJoin(this.exportsDir, row.path), { force: true });
    await this.opts.repo.deleteExport(id);
    this.jobs.clear(id);
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
   * One MP4 of `camera` for `[start, end]` (Unix seconds), for `GET /cameras/:name/recordings.mp4`
   * (cached in {@link cacheDir}; see `RangeFileCache.get`).
   * @returns the absolute path, size in bytes and the wall-clock range covered (Unix seconds)
   * @throws InvalidInput `validation_failed` (400) on a bad range; NotFound `no_recordings` (404) when no
   *   segment overlaps it; FfmpegError when ffmpeg fails
   */
  async rangeFile(camera: string, start: number, end: number): Promise<RangeFile> {
    return this.cache.get(camera, start, end);
  }

  /**
   * Deletes range files not used for `maxAgeS` seconds (default `CACHE_MAX_AGE_S`, 1 h) and
   * leftover temporary files. Runs by itself every 10 minutes and on range requests.
   * @returns how many files were deleted
   */
  async sweepCache(maxAgeS?: number): Promise<number> {
    return this.cache.sweep(maxAgeS);
  }

  /**
   * Deletes the event clips (`kind = 'clip'`) of an event, rows and files; user exports of
   * its window stay (they are kept until deleted). @returns how many were deleted
   */
  async deleteClipsOf(eventId: string): Promise<number> {
    let n = 0;
    for (const e of await this.opts.repo.listExports()) if (e.kind === 'clip' && e.event_id === eventId && (await this.delete(e.id))) n++;
    return n;
  }

  /** The event's clip that has not failed, if any. */
  private async clipOf(eventId: string): Promise<ExportRow | undefined> {
    return (await this.opts.repo.listExports()).find((e) => e.kind === 'clip' && e.event_id === eventId && e.status !== 'failed');
  }

  /** @throws NotFound `not_found` */
  private async event(eventId: string): Promise<{ camera: string; start_time: number; end_time: number | null }> {
    const e = await this.opts.events.get(eventId);
    if (!e) throw new NotFound(`no event ${eventId}`);
    return e;
  }

  /** The event's range widened by its capture settings, Unix seconds. @throws NotFound `not_found`; Conflict `in_progress` */
  private async eventWindow(eventId: string, record?: Capture): Promise<{ camera: string; start: number; end: number }> {
    const e = await this.event(eventId);
    if (e.end_time === null) throw new Conflict(`event ${eventId} has not ended yet`, undefined, 'in_progress');
    const cap = record ?? (await this.opts.recordSettings?.(e.camera).catch(() => undefined)) ?? DEFAULT_CAPTURE;
    return { camera: e.camera, start: e.start_time - cap.pre_capture, end: e.end_time + cap.post_capture };
  }
}
