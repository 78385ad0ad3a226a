/**
 * Recording segments and exports. Times are Unix seconds (float); `path` is relative
 * to the recordings root (`recordings/<cam>/YYYY-MM-DD/HH/MM.SS.mp4`, UTC) or, for
 * exports, to the exports root.
 */
import { EntitySchema, type DataSource } from 'typeorm';
import type { SegmentInfo } from '../../components/protocol/segments.ts';

/** A segment row: what the recorder announced plus what the hub learnt about it. */
export interface RecordingRow extends SegmentInfo {
  /** Motion was seen during the segment. */
  motion: boolean;
  /** A tracked object (event) overlapped the segment. */
  objects: boolean;
}

export interface ExportRow {
  id: string;
  /** `clip`: made for an event (kept by clip retention); `export`: asked for, kept until deleted. */
  kind: 'clip' | 'export';
  camera: string;
  event_id: string | null;
  start_time: number;
  end_time: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  /** 0–1. */
  progress: number;
  path: string | null;
  bytes: number | null;
  error: string | null;
  created_by: string | null;
  created_at: number;
}

/** Filter and page of {@link RecordingsRepo.list}. Times are Unix seconds. */
export interface RecordingFilter {
  /** Only these cameras; undefined or null = every camera, `[]` = none. */
  cameras?: string[] | null;
  /** Segments ending after this (`end_time > after`). */
  after?: number;
  /** Segments starting before this (`start_time < before`). */
  before?: number;
  /** Rows per page (the route allows 1–1000). */
  limit: number;
  /** Rows skipped. */
  offset: number;
  /** By `start_time`, then camera: `asc` oldest first, `desc` newest first. */
  order: 'asc' | 'desc';
}

export const RecordingEntity = new EntitySchema<RecordingRow>({
  name: 'Recording', tableName: 'recordings',
  columns: {
    id: { type: 'text', primary: true }, camera: { type: 'text' }, path: { type: 'text' }, start_time: { type: 'double precision' }, end_time: { type: 'double precision' },
    duration: { type: 'double precision' }, bytes: { type: 'bigint' }, motion: { type: 'boolean' }, objects: { type: 'boolean' },
  },
});

export const ExportEntity = new EntitySchema<ExportRow>({
  name: 'Export', tableName: 'exports',
  columns: {
    id: { type: 'text', primary: true }, kind: { type: 'text' }, camera: { type: 'text' }, event_id: { type: 'text', nullable: true },
    start_time: { type: 'double precision' }, end_time: { type: 'double precision' }, status: { type: 'text' }, progress: { type: 'double precision' }, path: { type: 'text', nullable: true },
    bytes: { type: 'bigint', nullable: true }, error: { type: 'text', nullable: true }, created_by: { type: 'text', nullable: true }, created_at: { type: 'bigint' },
  },
});

export class RecordingsRepo {
  constructor(private readonly ds: DataSource) {}
  private get rec() { return this.ds.getRepository(RecordingEntity); }
  private get exp() { return this.ds.getRepository(ExportEntity); }

  /** Inserts or replaces a segment row: one atomic `INSERT … ON CONFLICT (id) DO UPDATE` (the start-up repair and a live announcement of one segment never collide). */
  async upsert(r: RecordingRow): Promise<void> { await this.rec.upsert({ ...r }, ['id']); }

  /** Segments of `camera` overlapping [after, before), oldest first. */
  async overlapping(camera: string, after: number, before: number): Promise<RecordingRow[]> {
    return this.rec.createQueryBuilder('r').where('r.camera = :camera AND r.end_time > :after AND r.start_time < :before', { camera, after, before })
      .orderBy('r.start_time', 'ASC').getMany().then((rows) => rows.map(norm));
  }

  /** One segment row by id (`<camera>:<start_time>`), or null. */
  async findById(id: string): Promise<RecordingRow | null> {
    const r = await this.rec.findOneBy({ id });
    return r ? norm(r) : null;
  }

  /**
   * One page of the segments overlapping `(after, before)` (see {@link RecordingFilter}),
   * and how many match in all (for `X-Total-Count`).
   */
  async list(f: RecordingFilter): Promise<{ total: number; rows: RecordingRow[] }> {
    if (f.cameras && f.cameras.length === 0) return { total: 0, rows: [] };
    const qb = this.rec.createQueryBuilder('r');
    if (f.cameras) qb.andWhere('r.camera IN (:...cams)', { cams: f.cameras });
    if (f.after !== undefined) qb.andWhere('r.end_time > :after', { after: f.after });
    if (f.before !== undefined) qb.andWhere('r.start_time < :before', { before: f.before });
    const total = await qb.getCount();
    const dir = f.order === 'asc' ? 'ASC' : 'DESC';
    const rows = await qb.orderBy('r.start_time', dir).addOrderBy('r.camera', dir).limit(f.limit).offset(f.offset).getMany();
    return { total, rows: rows.map(norm) };
  }

  /** Every segment (optionally of one camera), oldest first. */
  async all(camera?: string): Promise<RecordingRow[]> {
    return (await this.rec.find({ where: camera ? { camera } : {}, order: { start_time: 'ASC' } })).map(norm);
  }

  /** The oldest `limit` segments (any camera). */
  async oldest(limit: number): Promise<RecordingRow[]> {
    return (await this.rec.find({ order: { start_time: 'ASC' }, take: limit })).map(norm);
  }

  /** Total bytes of all segments. */
  async totalBytes(): Promise<number> {
    const r = (await this.rec.createQueryBuilder('r').select('COALESCE(SUM(r.bytes), 0)', 'n').getRawOne()) as { n: number };
    return Number(r.n);
  }

  /** Marks segments of `camera` overlapping [from, to) as having motion and/or objects. */
  async flag(camera: string, from: number, to: number, flags: { motion?: boolean; objects?: boolean }): Promise<void> {
    const set: Partial<RecordingRow> = {};
    if (flags.motion) set.motion = true;
    if (flags.objects) set.objects = true;
    if (!Object.keys(set).length) return;
    await this.rec.createQueryBuilder().update().set(set).where('camera = :camera AND end_time > :from AND start_time < :to', { camera, from, to }).execute();
  }

  /** Deletes rows by id. */
  async delete(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) await this.rec.delete(ids.slice(i, i + 500));
  }

  /** Inserts or replaces an export / clip row. */
  async saveExport(e: ExportRow): Promise<void> { await this.exp.save({ ...e }); }
  /** One export / clip row, or null. */
  async getExport(id: string): Promise<ExportRow | null> { return this.exp.findOneBy({ id }); }
  /** Export and clip rows (optionally of one camera), newest (`created_at`) first. */
  async listExports(camera?: string): Promise<ExportRow[]> { return this.exp.find({ where: camera ? { camera } : {}, order: { created_at: 'DESC' } }); }
  /** Deletes an export / clip row (the file is the caller's). */
  async deleteExport(id: string): Promise<void> { await this.exp.delete({ id }); }
}

function norm(r: RecordingRow): RecordingRow {
  return { ...r, motion: Boolean(r.motion), objects: Boolean(r.objects) };
}
