/** Events: upserted from `vigil/events` messages, queried by the REST API. */
import type { DataSource } from 'typeorm';
import type { EventRecord, TrackedObjectState } from '../../components/protocol/tracked-object.ts';
import { EventEntity, type EventRow } from './entities.ts';

/** Filters of `GET /api/events`. Times are Unix seconds. */
export interface EventQuery {
  camera?: string[];
  label?: string[];
  zone?: string;
  after?: number;
  before?: number;
  /** Only events still in progress (`end_time` null). */
  in_progress?: boolean;
  limit: number;
  offset: number;
}

export class EventsRepo {
  constructor(private readonly ds: DataSource) {}

  /** Inserts or updates the row of a tracked object from its latest state. */
  async upsert(s: TrackedObjectState): Promise<void> {
    const row: EventRow = {
      id: s.id, camera: s.camera, label: s.label, sub_label: s.sub_label, score: s.score, top_score: s.top_score,
      box: JSON.stringify(s.box), area: s.area, zones: JSON.stringify(s.entered_zones), start_time: s.start_time,
      end_time: s.end_time, has_snapshot: s.has_snapshot, false_positive: s.false_positive, data: JSON.stringify(s),
    };
    await this.ds.getRepository(EventEntity).save(row);
  }

  /** Events newest first, with the total count for pagination. */
  async query(q: EventQuery): Promise<{ total: number; events: EventRecord[] }> {
    const qb = this.ds.getRepository(EventEntity).createQueryBuilder('e');
    if (q.camera?.length) qb.andWhere('e.camera IN (:...cams)', { cams: q.camera });
    if (q.label?.length) qb.andWhere('e.label IN (:...labels)', { labels: q.label });
    if (q.zone) qb.andWhere('EXISTS (SELECT 1 FROM json_each(e.zones) WHERE json_each.value = :zone)', { zone: q.zone });
    if (q.after !== undefined) qb.andWhere('e.start_time >= :after', { after: q.after });
    if (q.before !== undefined) qb.andWhere('e.start_time < :before', { before: q.before });
    if (q.in_progress) qb.andWhere('e.end_time IS NULL');
    const total = await qb.getCount();
    const rows = await qb.orderBy('e.start_time', 'DESC').addOrderBy('e.id', 'DESC').limit(q.limit).offset(q.offset).getMany();
    return { total, events: rows.map(toDto) };
  }

  /** One event or undefined. */
  async get(id: string): Promise<EventRecord | undefined> {
    const r = await this.ds.getRepository(EventEntity).findOneBy({ id });
    return r ? toDto(r) : undefined;
  }

  /** Ends every open event of `camera` (or all cameras) at `time` (Unix s): used at start-up after a crash. */
  async endOpen(time: number, camera?: string): Promise<number> {
    const qb = this.ds.getRepository(EventEntity).createQueryBuilder().update().set({ end_time: time }).where('end_time IS NULL');
    if (camera) qb.andWhere('camera = :camera', { camera });
    const r = await qb.execute();
    return r.affected ?? 0;
  }
}

function toDto(r: EventRow): EventRecord {
  return {
    id: r.id, camera: r.camera, label: r.label, sub_label: r.sub_label, score: r.score, top_score: r.top_score,
    box: JSON.parse(r.box) as EventRecord['box'], area: r.area, zones: JSON.parse(r.zones) as string[], start_time: r.start_time,
    end_time: r.end_time, has_snapshot: Boolean(r.has_snapshot), has_clip: false, false_positive: Boolean(r.false_positive),
    data: JSON.parse(r.data) as TrackedObjectState,
  };
}
