/**
 * The recordings index: a row per segment from `vigil/recorder/<cam>/segment`, motion and
 * object flags from `…/motion` and `vigil/events`, and the start-up repair that makes the
 * index match the disk after a crash (`kill -9` of the hub loses at most the segment
 * being written): rows without a file go, files without a row are probed and added, and
 * segments left in `.incoming/` by a dead ffmpeg are filed.
 */
import { execFile } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { ffprobePath } from '../../components/protocol/ffmpeg-path.ts';
import { fileSegment, segmentId } from '../../components/protocol/segments.ts';
import type { RecordingRow, RecordingsRepo } from '../store/recordings-repo.ts';
import type { EventFeed, EventStep } from './event-feed.ts';

const run = promisify(execFile);
const segmentMsg = z.object({
  id: z.string(), camera: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), path: z.string().regex(/^[a-z0-9_-]+\/\d{4}-\d{2}-\d{2}\/\d{2}\/\d{2}\.\d{2}(-\d+)?\.mp4$/),
  start_time: z.number(), end_time: z.number(), duration: z.number().min(0), bytes: z.number().int().min(0),
});

/** Duration of a media file in seconds via ffprobe; null when unreadable. */
export async function probeDuration(file: string): Promise<number | null> {
  const ffprobe = ffprobePath();
  try {
    const { stdout } = await run(ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { timeout: 15_000 });
    const d = Number(stdout.trim());
    return Number.isFinite(d) && d > 0 ? d : null;
  } catch {
    return null;
  }
}

export class RecordingIndex {
  /** camera → motion intervals [from, to|null] of the last hour (Unix s). */
  private readonly motion = new Map<string, Array<[number, number | null]>>();
  /** camera → event id → [start, end|null] of the last hour (Unix s). */
  private readonly objects = new Map<string, Map<string, [number, number | null]>>();
  /** Segment rows arrive; listeners (the sweeper, clip jobs) are told. */
  onSegment?: (row: RecordingRow) => void;
  readonly stats = { segments_indexed: 0, repaired_added: 0, repaired_removed: 0 };

  constructor(private readonly repo: RecordingsRepo, private readonly root: string, private readonly bus: Bus, private readonly topics: Topics, private readonly feed: EventFeed, private readonly logger: Logger) {}

  /** Repairs the index from the disk, then follows the bus. */
  async start(): Promise<void> {
    await this.repair();
    await this.bus.subscribe(this.topics.sub.recorderSegments(), (topic, payload) => this.onSegmentMessage(topic, payload));
    await this.bus.subscribe(this.topics.sub.cameraLeaf('motion'), (topic, payload) => {
      const p = this.topics.parse(topic);
      if (p?.kind === 'camera.motion') this.onMotion(p.camera, payload.toString() === 'ON');
    });
    this.feed.on('recordings index', (step) => this.onEvent(step));
  }

  /**
   * Makes rows and files agree: rows whose file is gone are deleted; segment files with
   * no row are probed and indexed; finished files left in `<cam>/.incoming/` (a crash)
   * are filed into the layout (start = mtime − duration), unreadable ones deleted.
   * Must run before the camera component writes (the hub calls it at start).
   */
  async repair(): Promise<void> {
    const rows = await this.repo.all();
    const byPath = new Map(rows.map((r) => [r.path, r]));
    const missing: string[] = [];
    for (const r of rows) {
      try { await stat(join(this.root, r.path)); } catch { missing.push(r.id); }
    }
    await this.repo.delete(missing);
    this.stats.repaired_removed += missing.length;
    const cams = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    for (const cam of cams) {
      if (!cam.isDirectory() || cam.name === 'exports' || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(cam.name)) continue;
      for (const file of await walk(join(this.root, cam.name, '.incoming'))) {
        const d = await probeDuration(file);
        if (!d) { await rm(file, { force: true }); continue; }
        const end = (await stat(file)).mtimeMs / 1000;
        try {
          const info = await fileSegment(this.root, cam.name, file, end - d, end);
          await this.index({ ...info, motion: false, objects: false });
          byPath.set(info.path, { ...info, motion: false, objects: false });
          this.stats.repaired_added++;
        } catch (err) {
          this.logger.warn({ file, err: (err as Error).message }, 'could not file an interrupted segment');
        }
      }
      for (const file of await walk(join(this.root, cam.name), (n) => n !== '.incoming')) {
        const rel = relative(this.root, file);
        if (byPath.has(rel) || !file.endsWith('.mp4')) continue;
        const d = await probeDuration(file);
        if (!d) continue;
        byPath.set(rel, {} as RecordingRow);
        const m = /(\d{4}-\d{2}-\d{2})\/(\d{2})\/(\d{2})\.(\d{2})/.exec(rel);
        const start = m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`) / 1000 : (await stat(file)).mtimeMs / 1000 - d;
        await this.index({ id: segmentId(cam.name, start), camera: cam.name, path: rel, start_time: start, end_time: start + d, duration: d, bytes: (await stat(file)).size, motion: false, objects: false });
        this.stats.repaired_added++;
      }
    }
    if (missing.length || this.stats.repaired_added) this.logger.info({ removed: missing.length, added: this.stats.repaired_added }, 'recordings index repaired from disk');
  }

  private async index(row: RecordingRow): Promise<void> {
    row.motion ||= this.hadMotion(row.camera, row.start_time, row.end_time);
    row.objects ||= [...(this.objects.get(row.camera)?.values() ?? [])].some(([a, b]) => a < row.end_time && (b === null || b > row.start_time));
    await this.repo.upsert(row);
    this.stats.segments_indexed++;
    this.onSegment?.(row);
  }

  private async onSegmentMessage(topic: string, payload: Buffer): Promise<void> {
    let json: unknown;
    try { json = JSON.parse(payload.toString()); } catch { json = undefined; }
    const r = segmentMsg.safeParse(json);
    if (!r.success) {
      this.bus.warnBadMessage(topic, 'invalid-segment', 'invalid segment announcement; dropped', { err: json === undefined ? 'not JSON' : r.error.issues[0]?.message }, this.logger);
      return;
    }
    await this.index({ ...r.data, motion: false, objects: false });
  }

  private onMotion(camera: string, on: boolean): void {
    const now = Date.now() / 1000;
    const list = (this.motion.get(camera) ?? []).filter(([, to]) => to === null || to > now - 3600);
    const last = list[list.length - 1];
    if (on && (!last || last[1] !== null)) list.push([now, null]);
    if (!on && last && last[1] === null) {
      last[1] = now;
      this.flag(camera, last[0], now, { motion: true });
    }
    this.motion.set(camera, list);
  }

  private hadMotion(camera: string, from: number, to: number): boolean {
    return (this.motion.get(camera) ?? []).some(([a, b]) => a < to && (b === null || b > from));
  }

  private onEvent({ after: a }: EventStep): void {
    const now = Date.now() / 1000;
    const cam = this.objects.get(a.camera) ?? new Map<string, [number, number | null]>();
    cam.set(a.id, [a.start_time, a.end_time]);
    for (const [id, [, end]] of cam) if (end !== null && end < now - 3600) cam.delete(id);
    this.objects.set(a.camera, cam);
    // Flag on every message: a long event marks segments as they are written.
    this.flag(a.camera, a.start_time, a.end_time ?? now, { objects: true });
  }

  /**
   * Flags segments without waiting. A failure (the database unreachable, or closed while the
   * hub stops) is logged at debug level: the store's health watch reports an outage once.
   */
  private flag(camera: string, from: number, to: number, flags: { motion?: boolean; objects?: boolean }): void {
    this.repo.flag(camera, from, to, flags).catch((err: Error) => this.logger.debug({ camera, err: err.message }, 'flagging recording segments failed'));
  }
}

/** Files under `dir` (recursively), skipping directories `keep` refuses. */
async function walk(dir: string, keep: (name: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (keep(e.name)) out.push(...(await walk(p, keep))); } else if (e.isFile()) out.push(p);
  }
  return out;
}
