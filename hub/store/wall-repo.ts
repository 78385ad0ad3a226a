/**
 * The camera wall's rows: kiosks, displays (with the layout last activated and its
 * activation counter `seq`) and layouts (validated with `components/protocol/layout.ts`
 * on the way in and out; regions are stored as JSON).
 */
import { EntitySchema, type DataSource } from 'typeorm';
import { layout as layoutSchema, type Display, type Layout } from '../../components/protocol/layout.ts';

/** A `kiosks` row. `device_id` is its device credential (kind `kiosk`). */
export interface KioskRow { id: string; name: string; device_id: string; created_at: number }
interface LayoutRow { id: string; name: string; body: string; created_at: number; updated_at: number }
interface DisplayRow { id: string; kiosk_id: string; name: string; width: number; height: number; layout_id: string | null; seq: number }

const col = (type: 'text' | 'integer' | 'bigint', nullable = false) => ({ type, nullable });
export const KioskEntity = new EntitySchema<KioskRow>({
  name: 'Kiosk', tableName: 'kiosks',
  columns: { id: { type: 'text', primary: true }, name: col('text'), device_id: col('text'), created_at: col('bigint') },
});
export const LayoutEntity = new EntitySchema<LayoutRow>({
  name: 'Layout', tableName: 'layouts',
  columns: { id: { type: 'text', primary: true }, name: col('text'), body: col('text'), created_at: col('bigint'), updated_at: col('bigint') },
});
export const DisplayEntity = new EntitySchema<DisplayRow>({
  name: 'Display', tableName: 'displays',
  columns: {
    id: { type: 'text', primary: true }, kiosk_id: col('text'), name: col('text'), width: col('integer'), height: col('integer'),
    layout_id: col('text', true), seq: col('integer'),
  },
});
/** Entities of this repo, for the data source. */
export const wallEntities = [KioskEntity, LayoutEntity, DisplayEntity];

/** A display with its activation counter. */
export type DisplayRecord = Display & { seq: number };

export class WallRepo {
  constructor(private readonly ds: DataSource) {}

  /** Every layout, by id. */
  async layouts(): Promise<Layout[]> {
    const rows = await this.ds.getRepository(LayoutEntity).find({ order: { id: 'ASC' } });
    return rows.map(toLayout);
  }

  /** One layout, or undefined. */
  async layout(id: string): Promise<Layout | undefined> {
    const r = await this.ds.getRepository(LayoutEntity).findOneBy({ id });
    return r ? toLayout(r) : undefined;
  }

  /** Inserts or replaces a layout. @returns true when it is new */
  async saveLayout(l: Layout): Promise<boolean> {
    const repo = this.ds.getRepository(LayoutEntity);
    const old = await repo.findOneBy({ id: l.id });
    const now = Date.now();
    await repo.save({ id: l.id, name: l.name, body: JSON.stringify(l), created_at: old?.created_at ?? now, updated_at: now });
    return !old;
  }

  /** Deletes a layout (displays showing it keep their bundle; their `layout_id` becomes null). @returns false when unknown */
  async deleteLayout(id: string): Promise<boolean> {
    return ((await this.ds.getRepository(LayoutEntity).delete({ id })).affected ?? 0) > 0;
  }

  async kiosks(): Promise<KioskRow[]> {
    return this.ds.getRepository(KioskEntity).find({ order: { id: 'ASC' } });
  }

  async kiosk(id: string): Promise<KioskRow | undefined> {
    return (await this.ds.getRepository(KioskEntity).findOneBy({ id })) ?? undefined;
  }

  /** Creates a kiosk with its first display, in one transaction. */
  async createKiosk(k: KioskRow, first: Display): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.getRepository(KioskEntity).insert(k);
      await m.getRepository(DisplayEntity).insert({ ...first, seq: 0 });
    });
  }

  /** Deletes a kiosk and its displays. @returns false when unknown */
  async deleteKiosk(id: string): Promise<boolean> {
    return ((await this.ds.getRepository(KioskEntity).delete({ id })).affected ?? 0) > 0;
  }

  /** Displays, of one kiosk or all. */
  async displays(kioskId?: string): Promise<DisplayRecord[]> {
    return this.ds.getRepository(DisplayEntity).find({ where: kioskId ? { kiosk_id: kioskId } : {}, order: { id: 'ASC' } });
  }

  async display(id: string): Promise<DisplayRecord | undefined> {
    return (await this.ds.getRepository(DisplayEntity).findOneBy({ id })) ?? undefined;
  }

  /** Inserts or replaces a display. */
  async saveDisplay(d: DisplayRecord): Promise<void> {
    await this.ds.getRepository(DisplayEntity).save(d);
  }

  /** Records an activation: the display's layout and its next `seq`. @returns the new seq */
  async activated(displayId: string, layoutId: string | null): Promise<number> {
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(DisplayEntity);
      const d = await repo.findOneByOrFail({ id: displayId });
      const seq = d.seq + 1;
      // A layout sent whole on the bus is not stored: the display then names no stored layout.
      const stored = layoutId && (await m.getRepository(LayoutEntity).existsBy({ id: layoutId })) ? layoutId : null;
      await repo.update({ id: displayId }, { seq, layout_id: stored });
      return seq;
    });
  }
}

function toLayout(r: LayoutRow): Layout {
  return layoutSchema.parse(JSON.parse(r.body));
}
