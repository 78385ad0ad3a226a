/**
 * Cameras with their zones and masks, stored across three tables and handled as one
 * {@link CameraConfig}. Writes run in one transaction. Camera passwords are sealed
 * (AES-256-GCM, `components/protocol/secret-box.ts`) in the database and opened on read.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { cameraConfig, type CameraConfig } from '../../components/protocol/camera-config.ts';
import { CameraEntity, MaskEntity, ZoneEntity, type CameraRow, type MaskRow, type ZoneRow } from './entities.ts';
import { SecretBox } from '../../components/protocol/secret-box.ts';

export class CamerasRepo {
  constructor(private readonly ds: DataSource, private readonly box: SecretBox) {}

  /** Every camera, sorted by name. */
  async list(): Promise<CameraConfig[]> {
    const rows = await this.ds.getRepository(CameraEntity).find({ order: { name: 'ASC' } });
    const zones = await this.ds.getRepository(ZoneEntity).find({ order: { position: 'ASC' } });
    const masks = await this.ds.getRepository(MaskEntity).find({ order: { position: 'ASC' } });
    return rows.map((r) => fromRows(this.open(r), zones.filter((z) => z.camera === r.name), masks.filter((m) => m.camera === r.name)));
  }

  /** One camera, or undefined. */
  async get(name: string): Promise<CameraConfig | undefined> {
    const r = await this.ds.getRepository(CameraEntity).findOneBy({ name });
    if (!r) return undefined;
    const zones = await this.ds.getRepository(ZoneEntity).find({ where: { camera: name }, order: { position: 'ASC' } });
    const masks = await this.ds.getRepository(MaskEntity).find({ where: { camera: name }, order: { position: 'ASC' } });
    return fromRows(this.open(r), zones, masks);
  }

  /** Inserts or replaces a camera (zones and masks replaced as a whole). */
  async save(cam: CameraConfig): Promise<void> {
    await this.ds.transaction(async (m) => {
      const existing = await m.getRepository(CameraEntity).findOneBy({ name: cam.name });
      const now = Date.now();
      const row = toRow(cam, existing?.created_at ?? now, now);
      if (row.password && !SecretBox.isSealed(row.password)) row.password = this.box.seal(row.password);
      await m.getRepository(CameraEntity).save(row);
      await this.replaceChildren(m, cam);
    });
  }

  /** Deletes a camera with its zones and masks. @returns false when it did not exist. */
  async delete(name: string): Promise<boolean> {
    const r = await this.ds.getRepository(CameraEntity).delete({ name });
    return (r.affected ?? 0) > 0;
  }

  private open(r: CameraRow): CameraRow {
    return r.password && SecretBox.isSealed(r.password) ? { ...r, password: this.box.open(r.password) } : r;
  }

  private async replaceChildren(m: EntityManager, cam: CameraConfig): Promise<void> {
    await m.getRepository(ZoneEntity).delete({ camera: cam.name });
    await m.getRepository(MaskEntity).delete({ camera: cam.name });
    await m.getRepository(ZoneEntity).save(cam.zones.map((z, i): ZoneRow => ({
      camera: cam.name, name: z.name, coordinates: JSON.stringify(z.coordinates), objects: JSON.stringify(z.objects),
      threshold: z.threshold, inertia: z.inertia, loitering_time: z.loitering_time, position: i,
    })));
    await m.getRepository(MaskEntity).save(cam.masks.map((k, i): MaskRow => ({
      camera: cam.name, name: k.name, coordinates: JSON.stringify(k.coordinates), applies_to: k.applies_to, position: i,
    })));
  }
}

function toRow(c: CameraConfig, created: number, updated: number): CameraRow {
  return {
    name: c.name, enabled: c.enabled, device_type: c.device_type, connection_method: c.connection_method,
    paths: JSON.stringify(c.paths), username: c.username ?? null, password: c.password ?? null,
    // Every section without a column of its own (detect, motion, objects, snapshots, record …).
    settings: JSON.stringify(sections(c)),
    created_at: created, updated_at: updated,
  };
}

function sections(c: CameraConfig): Record<string, unknown> {
  const { name: _n, enabled: _e, device_type: _d, connection_method: _c, paths: _p, username: _u, password: _w, zones: _z, masks: _m, ...rest } = c;
  return rest;
}

function fromRows(r: CameraRow, zones: ZoneRow[], masks: MaskRow[]): CameraConfig {
  return cameraConfig.parse({
    name: r.name, enabled: Boolean(r.enabled), device_type: r.device_type, connection_method: r.connection_method,
    paths: JSON.parse(r.paths), ...(r.username ? { username: r.username } : {}), ...(r.password ? { password: r.password } : {}),
    ...JSON.parse(r.settings),
    zones: zones.map((z) => ({ name: z.name, coordinates: JSON.parse(z.coordinates), objects: JSON.parse(z.objects), threshold: z.threshold, inertia: z.inertia, loitering_time: z.loitering_time })),
    masks: masks.map((k) => ({ name: k.name, coordinates: JSON.parse(k.coordinates), applies_to: k.applies_to })),
  });
}
