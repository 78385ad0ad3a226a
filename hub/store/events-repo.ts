/**
 * Events: upserted from `vigil/events` messages, queried by the REST API. `has_clip` of
 * an answer is the hub's: true while a finished (`done`) event clip of the event exists
 * (an `exports` row with `kind = 'clip'` and its `event_id`), looked up with one query
 * per list.
 */
import { In, type DataSource } from 'typeorm';
import type { EventRecord, TrackedObjectState } from '../../components/protocol/tracked-object.ts';
import { dialectOf, jsonArrayHas } from './dialect.ts';
import { EventEntity, type EventRow } from './entities.ts';
import { ExportEntity } from './recordings-repo.ts';

/** Filters of `GET /api/events`. Times are Unix seconds. */
export interface EventQuery {
  /** Only these cameras; undefined or null = every camera, `[]` = none. */
  camera?: string[] | null;
  /** Only these labels; undefined or `[]` = every label. */
  label?: string[];
  /** Only events that entered this zone. */
  zone?: string;
  /** `start_time >= after`. */
  after?: number;
  /** `start_time < before`. */
  before?: number;
  /** Only events still in progress (`end_time` null). */
  in_progress?: boolean;
  /** Events per page. */
  limit: number;
  /** Events skipped. */
  offset: number;
}

/** The `events` table (and, for `has_clip`, the clip rows of `exports`). */
export class EventsRepo {
  constructor(private readonly ds: DataSource) {}

  /**
   * Inserts or updates the row of a tracked object from its latest state: one atomic
   * `INSERT … ON CONFLICT (id) DO UPDATE` on SQLite and PostgreSQL alike (a replayed message
   * rewrites the same row; two writers of one id never collide).
   */
  async upsert(s: TrackedObjectState): Promise<void> {
    const row: EventRow = {
      id: s.id, camera: s.camera, label: s.label, sub_label: Array.isArray(s.sub_label) ? s.sub_label[0] : s.sub_label, score: s.score, top_score: s.top_score,
      box: JSON.stringify(s.box), area: s.area, zones: JSON.stringify(s.entered_zones), start_time: s.start_time,
      end_time: s.end_time, has_snapshot: s.has_snapshot, false_positive: s.false_positive, data: JSON.stringify(s),
    };
    await this.ds.getRepository(EventEntity).upsert(row, ['id']);
  }

  /** Events newest first (`start_time`, then id), with the total count for pagination. */
  async query(q: EventQuery): Promise<{ total: number; events: EventRecord[] }> {
    if (q.camera && q.camera.length === 0) return { total: 0, events: [] };
    const qb = this.ds.getRepository(EventEntity).createQueryBuilder('e');
    if (q.camera) qb.andWhere('e.camera IN (:...cams)', { cams: q.camera });
    if (q.label?.length) qb.andWhere('e.label IN (:...labels)', { labels: q.label });
    if (q.zone) qb.andWhere(jsonArrayHas(dialectOf(this.ds), 'e.zones', 'zone'), { zone: q.zone });
    if (q.after !== undefined) qb.andWhere('e.start_time >= :after', { after: q.after });
    if (q.before !== undefined) qb.andWhere('e.start_time < :before', { before: q.before });
    if (q.in_progress) qb.andWhere('e.end_time IS NULL');
    const total = await qb.getCount();
    const rows = await qb.orderBy('e.start_time', 'DESC').addOrderBy('e.id', 'DESC').limit(q.limit).offset(q.offset).getMany();
    const clips = await this.withClip(rows.map((r) => r.id));
    return { total, events: rows.map((r) => toDto(r, clips.has(r.id))) };
  }

  /** One event or undefined. */
  async get(id: string): Promise<EventRecord | undefined> {
    const r = await this.ds.getRepository(EventEntity).findOneBy({ id });
    return r ? toDto(r, (await this.withClip([id])).has(id)) : undefined;
  }

  /** Deletes one event's row. @returns whether there was one */
  async delete(id: string): Promise<boolean> {
    const r = await this.ds.getRepository(EventEntity).delete({ id });
    return (r.affected ?? 0) > 0;
  }

  /** Which of `ids` have a finished event clip (`exports` row, `kind = 'clip'`, `status = 'done'`): one query. */
  private async withClip(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.ds.getRepository(ExportEntity).find({ select: { event_id: true }, where: { kind: 'clip', status: 'done', event_id: In(ids) } });
    return new Set(rows.map((r) => r.event_id).filter((x): x is string => x !== null));
  }

  /** Ends every open event of `camera` (or all cameras) at `time` (Unix s): used at start-up after a crash. */
  async endOpen(time: number, camera?: string): Promise<number> {
    const qb = this.ds.getRepository(EventEntity).createQueryBuilder().update().set({ end_time: time }).where('end_time IS NULL');
    if (camera) qb.andWhere('camera = :camera', { camera });
    const r = await qb.execute();
    return r.affected ?? 0;
  }
}

/** The API shape of a row; `hasClip` from {@link EventsRepo.withClip}. */
function toDto(r: EventRow, hasClip: boolean): EventRecord {
  return {
    id: r.id, camera: r.camera, label: r.label, sub_label: r.sub_label, score: r.score, top_score: r.top_score,
    box: JSON.parse(r.box) as EventRecord['box'], area: r.area, zones: JSON.parse(r.zones) as string[], start_time: r.start_time,
    end_time: r.end_time, has_snapshot: Boolean(r.has_snapshot), has_clip: hasClip, false_positive: Boolean(r.false_positive),
    data: JSON.parse(r.data) as TrackedObjectState,
  };
}
