/**
 * Recordings and exports over REST (mounted at `/api`). Times are Unix seconds.
 *
 * - `GET /recordings?camera=&after=&before=&limit=&offset=&order=` — segment rows (viewer+), `X-Total-Count`;
 * - `GET /recordings/:id/file` — one segment (fragmented MP4), HTTP Range;
 * - `GET /recordings/:id/segment.ts?t=` — the segment remuxed to MPEG-TS on the fly (for HLS), timestamps shifted by `t` s;
 * - `GET /cameras/:name/recordings.mp4?start=&end=` — a range as one MP4 (cached concat, `-c copy`), HTTP Range;
 * - `GET /cameras/:name/recordings.m3u8?start=&end=` — an HLS VOD playlist of the segments overlapping the range;
 * - `POST /exports` `{camera, start, end}` or `{event}` (operator+) → 202; `GET /exports`, `GET /exports/:id`,
 *   `GET /exports/:id/file` (Range), `DELETE /exports/:id` (operator+).
 *
 * Media routes (files, playlists, TS) accept a session/API key that can see the camera, or a
 * media token (`?token=`) for it (see `authorizeMedia`). Ids are checked against their shape
 * before any lookup and every file is resolved with `safeJoin` under its root.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { cameraName } from '../../components/protocol/camera-config.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { canSeeCamera, visibleCameras } from '../auth/principal.ts';
import { MEDIA_TTL_S } from '../auth/tokens.ts';
import { MAX_RANGE_S, segmentDuration } from '../services/export-plan.ts';
import { segmentFile } from '../services/export-sources.ts';
import { EXPORT_ID, type ExportService } from '../services/exports.ts';
import { FfmpegError, startFfmpeg, tsRemuxArgs } from '../services/ffmpeg-job.ts';
import type { EventsRepo } from '../store/events-repo.ts';
import type { ExportRow, RecordingRow, RecordingsRepo } from '../store/recordings-repo.ts';
import { assertCamera, authorizeMedia, requireRole } from './auth.ts';
import { ApiError, parseWith, route } from './errors.ts';

/** Segment ids as the recorder makes them: `<camera>:<start_time>` (Unix seconds, decimal). */
export const RECORDING_ID = /^([a-z0-9][a-z0-9_-]{0,63}):(\d{1,12}(?:\.\d{1,9})?)$/;
/** Longest a media token minted into an HLS playlist lives, seconds. */
export const PLAYLIST_TOKEN_MAX_S = 12 * 3600;

/** What {@link recordingsRouter} needs (the hub has all of it). */
export interface RecordingsRouterDeps {
  repo: RecordingsRepo;
  exports: ExportService;
  auth: AuthService;
  /** The recordings root; segment `path`s are relative to it. */
  root: string;
  events: EventsRepo;
  /** ffmpeg binary for the MPEG-TS remux; default `ffmpegPath()` (`components/protocol/ffmpeg-path.ts`). */
  ffmpegPath?: string;
}

const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
/** Query of `GET /recordings`: segments overlapping `[after, before)` (Unix seconds), newest first by default. */
export const recordingsQuery = z
  .object({
    camera: list.pipe(z.array(cameraName)).optional(),
    after: z.coerce.number().finite().optional(),
    before: z.coerce.number().finite().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
    order: z.enum(['asc', 'desc']).default('desc'),
  })
  .strict();

/** Query of the range routes (`recordings.mp4`, `recordings.m3u8`): Unix seconds; `token` is the media token. */
export const rangeQuery = z
  .object({
    start: z.coerce.number().finite().min(0),
    end: z.coerce.number().finite().min(0),
    token: z.string().optional(),
  })
  .refine((q) => q.end > q.start, { message: 'end must be later than start', path: ['end'] })
  .refine((q) => q.end - q.start <= MAX_RANGE_S, { message: `a range is at most ${MAX_RANGE_S} s`, path: ['end'] });

const segmentQuery = z.object({
  /** Seconds added to the segment's timestamps (its position in the playlist). */
  t: z.coerce.number().finite().min(0).max(MAX_RANGE_S).default(0),
  token: z.string().optional(),
});

/**
 * Builds the router. Mount it at `/api` after `authenticate` (before the `/api` 404).
 * Every failure is an {@link ApiError} or a domain error (JSON through the error middleware).
 */
export function recordingsRouter(deps: RecordingsRouterDeps): Router {
  const { repo, exports, auth, root } = deps;
  const r = Router();

  /** 401 first when nothing that could authorize media is presented. */
  const needCredentials = (req: Request): void => {
    if (!req.principal && typeof req.query.token !== 'string') throw new ApiError(401, 'unauthorized', 'log in or pass a media token (?token=)');
  };
  /** Validates a segment id and authorizes its camera before looking it up. @throws ApiError 400/401/404 */
  const segmentById = async (req: Request): Promise<RecordingRow> => {
    needCredentials(req);
    const id = String(req.params.id);
    const m = RECORDING_ID.exec(id);
    if (!m) throw new ApiError(400, 'bad_id', 'not a recording id (<camera>:<start_time>)', 'id');
    await authorizeMedia(auth, req, m[1]!);
    const row = await repo.findById(id);
    if (!row) throw new ApiError(404, 'not_found', `no recording ${id}`);
    return row;
  };
  const exportById = async (req: Request): Promise<ExportRow> => {
    const id = String(req.params.id);
    if (!EXPORT_ID.test(id)) throw new ApiError(400, 'bad_id', 'not an export id', 'id');
    const row = await exports.get(id);
    if (!row) throw new ApiError(404, 'not_found', `no export ${id}`);
    return row;
  };
  const cameraParam = (req: Request): string => {
    const name = String(req.params.name);
    if (!cameraName.safeParse(name).success) throw new ApiError(400, 'bad_id', 'not a camera name', 'name');
    return name;
  };

  r.get('/recordings', requireRole('viewer'), route(async (req, res) => {
    const q = parseWith(recordingsQuery, req.query, 'query');
    if (q.after !== undefined && q.before !== undefined && q.after > q.before) throw new ApiError(400, 'validation_failed', 'after must not be later than before', 'query.after');
    const { camera, ...page } = q;
    const { total, rows } = await repo.list({ ...page, cameras: visibleCameras(req.principal!, camera) });
    res.set('X-Total-Count', String(total)).json(rows);
  }));

  r.get('/recordings/:id/file', route(async (req, res) => {
    const row = await segmentById(req);
    await sendMedia(res, segmentFile(root, row), 'video/mp4');
  }));

  r.get('/recordings/:id/segment.ts', route(async (req, res) => {
    const row = await segmentById(req);
    const q = parseWith(segmentQuery, req.query, 'query');
    const file = segmentFile(root, row);
    await remuxToTs(deps.ffmpegPath, file, q.t, req, res);
  }));

  r.get('/cameras/:name/recordings.mp4', route(async (req, res) => {
    needCredentials(req);
    const camera = cameraParam(req);
    const q = parseWith(rangeQuery, req.query, 'query');
    await authorizeMedia(auth, req, camera);
    const f = await exports.rangeFile(camera, q.start, q.end);
    res.set('X-Recording-Start', String(f.start)).set('X-Recording-End', String(f.end));
    await sendMedia(res, f.path, 'video/mp4');
  }));

  r.get('/cameras/:name/recordings.m3u8', route(async (req, res) => {
    needCredentials(req);
    const camera = cameraParam(req);
    const q = parseWith(rangeQuery, req.query, 'query');
    await authorizeMedia(auth, req, camera);
    const segs = await repo.overlapping(camera, q.start, q.end);
    if (!segs.length) throw new ApiError(404, 'no_recordings', `no recordings of ${camera} in that range`);
    const total = segs.reduce((s, x) => s + segmentDuration(x), 0);
    const token = await playlistToken(auth, req, camera, total);
    res.set('Cache-Control', 'no-store').type('application/vnd.apple.mpegurl').send(hlsPlaylist(segs, q.start, token));
  }));

  r.post('/exports', requireRole('operator'), route(async (req, res) => {
    const p = req.principal!;
    const row = await exports.request(req.body, p);
    await auth.activity.record({ actor: p.name, ip: req.ip ?? null, action: 'export.create', target: `export:${row.id}`, details: { camera: row.camera, start: row.start_time, end: row.end_time, event: row.event_id } });
    res.status(202).location(`${req.baseUrl}/exports/${row.id}`).json(row);
  }));

  r.get('/exports', requireRole('viewer'), route(async (req, res) => {
    const camera = typeof req.query.camera === 'string' ? req.query.camera : undefined;
    if (camera !== undefined && !cameraName.safeParse(camera).success) throw new ApiError(400, 'validation_failed', 'camera: not a camera name', 'query.camera');
    const rows = (await exports.list(camera)).filter((e) => canSeeCamera(req.principal, e.camera));
    res.set('X-Total-Count', String(rows.length)).json(rows);
  }));

  r.get('/exports/:id', requireRole('viewer'), route(async (req, res) => {
    const row = await exportById(req);
    assertCamera(req.principal, row.camera);
    res.set('Cache-Control', 'no-store').json(row);
  }));

  r.get('/exports/:id/file', route(async (req, res) => {
    needCredentials(req);
    const row = await exportById(req);
    await authorizeMedia(auth, req, row.camera, row.event_id ?? undefined);
    const file = exports.filePath(row);
    const name = `${row.camera}-${new Date(row.start_time * 1000).toISOString().replace(/[:.]/g, '-')}.mp4`;
    res.set('Content-Disposition', `${req.query.download === '1' ? 'attachment' : 'inline'}; filename="${name}"`);
    await sendMedia(res, file, 'video/mp4');
  }));

  r.delete('/exports/:id', requireRole('operator'), route(async (req, res) => {
    const row = await exportById(req);
    assertCamera(req.principal, row.camera);
    await exports.delete(row.id);
    await auth.activity.record({ actor: req.principal!.name, ip: req.ip ?? null, action: 'export.delete', target: `export:${row.id}`, details: { camera: row.camera } });
    res.status(204).end();
  }));

  return r;
}

/**
 * An HLS VOD playlist (RFC 8216, version 3) of whole segments: one `#EXTINF` each, with
 * `#EXT-X-PROGRAM-DATE-TIME` (wall clock of the segment start) and `#EXT-X-START` at
 * `start` when the first segment begins earlier. Segment URIs are relative to
 * `…/cameras/<cam>/recordings.m3u8` and carry `t` (their offset on the playlist timeline,
 * so the TS timestamps run on across segments and gaps) and the media token.
 */
export function hlsPlaylist(segs: RecordingRow[], start: number, token: string | undefined): string {
  const target = Math.max(1, Math.ceil(Math.max(...segs.map(segmentDuration))));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-PLAYLIST-TYPE:VOD', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const first = segs[0]!;
  const startOffset = start - first.start_time;
  if (startOffset > 0.5) lines.push(`#EXT-X-START:TIME-OFFSET=${startOffset.toFixed(3)},PRECISE=YES`);
  let t = 0;
  for (const s of segs) {
    const d = segmentDuration(s);
    const qs = new URLSearchParams({ t: t.toFixed(3) });
    if (token) qs.set('token', token);
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.start_time * 1000).toISOString()}`, `#EXTINF:${d.toFixed(3)},`, `../../recordings/${encodeURIComponent(s.id)}/segment.ts?${qs}`);
    t += d;
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/**
 * The media token put into a playlist's segment URIs: a fresh token for the same subject
 * (the token's, or the session's user / API key) scoped to `camera`, living as long as the
 * playlist takes to play plus 30 min (at least the usual 5 min, at most
 * {@link PLAYLIST_TOKEN_MAX_S}) — a 5-minute token would expire in the middle of playback.
 * Undefined for principals that cannot hold media tokens (they fetch with their session).
 */
async function playlistToken(auth: AuthService, req: Request, camera: string, seconds: number): Promise<string | undefined> {
  let sub: string | undefined;
  if (req.principal) {
    if (req.principal.kind === 'user') sub = req.principal.id;
    else if (req.principal.kind === 'apikey') sub = `key:${req.principal.id}`;
  } else if (typeof req.query.token === 'string') {
    sub = (await auth.signer.verifyMedia(req.query.token))?.sub;
  }
  if (!sub) return typeof req.query.token === 'string' ? req.query.token : undefined;
  const ttl = Math.round(Math.min(PLAYLIST_TOKEN_MAX_S, Math.max(MEDIA_TTL_S, seconds + 1800)));
  return auth.signer.media({ sub, cam: camera }, ttl);
}

/**
 * Sends a file with HTTP Range support (206 + Content-Range), `Accept-Ranges: bytes`.
 * `dotfiles: 'allow'`: paths come from `safeJoin`, and the data dir itself may be a dot directory.
 * @throws ApiError 404 when the file is missing
 */
function sendMedia(res: Response, file: string, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    res.type(type).set('Cache-Control', 'private, max-age=300');
    res.sendFile(file, { acceptRanges: true, dotfiles: 'allow', lastModified: true, cacheControl: false }, (err?: Error & { code?: string; status?: number }) => {
      if (!err || res.headersSent) return resolve();
      if (err.code === 'ENOENT' || err.status === 404) reject(new ApiError(404, 'file_missing', 'the file is gone'));
      else if (err.status === 416) reject(new ApiError(416, 'range_not_satisfiable', 'range not satisfiable'));
      else reject(err);
    });
  });
}

/**
 * Streams `ffmpeg -i <file> -c copy -output_ts_offset <t> -f mpegts pipe:1` as `video/mp2t`
 * (`tsRemuxArgs`; `offset` in seconds). Headers go out with the first bytes, so a segment
 * ffmpeg cannot read is a JSON 500 `remux_failed`; a client that goes away kills ffmpeg.
 * @param ffmpeg the binary; default `ffmpegPath()`
 */
function remuxToTs(ffmpeg: string | undefined, file: string, offset: number, req: Request, res: Response): Promise<void> {
  const abort = new AbortController();
  const run = startFfmpeg(tsRemuxArgs(file, offset), { bin: ffmpeg, signal: abort.signal });
  let started = false;
  run.stdout.on('data', (chunk: Buffer) => {
    if (!started) {
      started = true;
      res.status(200).type('video/mp2t').set('Cache-Control', 'private, max-age=300');
    }
    if (!res.write(chunk)) { run.stdout.pause(); res.once('drain', () => run.stdout.resume()); }
  });
  const onClose = (): void => { abort.abort(); };
  res.once('close', onClose);
  const finish = (err?: unknown): void => {
    res.off('close', onClose);
    if (started) { if (err) res.destroy(); else res.end(); return; }
    if (req.destroyed) return;
    if (err === undefined) throw new ApiError(500, 'remux_failed', 'cannot remux the segment: no output');
    if (err instanceof FfmpegError && err.exitCode !== null) throw new ApiError(500, 'remux_failed', `cannot remux the segment: ${err.stderr.trim().split('\n').pop() ?? err.exitCode}`);
    throw err;
  };
  return run.done.then(() => finish(), (err: unknown) => finish(err ?? new Error('ffmpeg failed')));
}
