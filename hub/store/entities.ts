/**
 * Database entities as TypeORM `EntitySchema`s (no decorators: tsx/esbuild emit no
 * decorator metadata, so every column states its type). Tables are created only by
 * migrations (`migrations/`), never by `synchronize`. Types are the SQL the migrations
 * write, valid on SQLite and PostgreSQL alike: `bigint` for Unix-ms times (read back as
 * numbers: the PostgreSQL store sets `parseInt8`), `double precision` for Unix-s times and scores.
 */
import { EntitySchema } from 'typeorm';
import type { TrackedObjectState } from '../../components/protocol/tracked-object.ts';

/** A camera row. JSON columns hold the camera config sections (`components/protocol/camera-config.ts`). */
export interface CameraRow {
  name: string;
  enabled: boolean;
  device_type: string;
  connection_method: string;
  /** JSON `{detect?, live?, record?, talk?}` URLs without credentials. */
  paths: string;
  username: string | null;
  /** Issue #3 encrypts this at rest (AES-256-GCM); never returned by the API. */
  password: string | null;
  /** JSON of the other sections: detect, motion, objects, snapshots. */
  settings: string;
  created_at: number;
  updated_at: number;
}

export interface ZoneRow {
  id?: number;
  camera: string;
  name: string;
  /** JSON `[[x, y], …]`, normalized 0–1. */
  coordinates: string;
  /** JSON `string[]`. */
  objects: string;
  threshold: number;
  inertia: number;
  loitering_time: number;
  position: number;
}

export interface MaskRow {
  id?: number;
  camera: string;
  name: string;
  coordinates: string;
  applies_to: string;
  position: number;
}

/**
 * An event row (one tracked object's life), Frigate's columns (`frigate/models.py` Event):
 * the indexed fields of the {@link TrackedObjectState}, with `box` (`[x1, y1, x2, y2]` px),
 * `zones` (every zone entered) and `data` (the last `after` state) as JSON text.
 */
export type EventRow = Pick<TrackedObjectState, 'id' | 'camera' | 'label' | 'score' | 'top_score' | 'area' | 'start_time' | 'end_time' | 'has_snapshot' | 'false_positive'> & {
  /** The sub label's name (its score stays in `data`, as Frigate keeps `sub_label_score`). */
  sub_label: string | null;
  box: string;
  zones: string;
  data: string;
};

export const CameraEntity = new EntitySchema<CameraRow>({
  name: 'Camera',
  tableName: 'cameras',
  columns: {
    name: { type: 'text', primary: true },
    enabled: { type: 'boolean' },
    device_type: { type: 'text' },
    connection_method: { type: 'text' },
    paths: { type: 'text' },
    username: { type: 'text', nullable: true },
    password: { type: 'text', nullable: true },
    settings: { type: 'text' },
    created_at: { type: 'bigint' },
    updated_at: { type: 'bigint' },
  },
});

export const ZoneEntity = new EntitySchema<ZoneRow>({
  name: 'Zone',
  tableName: 'zones',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    camera: { type: 'text' },
    name: { type: 'text' },
    coordinates: { type: 'text' },
    objects: { type: 'text' },
    threshold: { type: 'double precision' },
    inertia: { type: 'integer' },
    loitering_time: { type: 'double precision' },
    position: { type: 'integer' },
  },
});

export const MaskEntity = new EntitySchema<MaskRow>({
  name: 'Mask',
  tableName: 'masks',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    camera: { type: 'text' },
    name: { type: 'text' },
    coordinates: { type: 'text' },
    applies_to: { type: 'text' },
    position: { type: 'integer' },
  },
});

export const EventEntity = new EntitySchema<EventRow>({
  name: 'Event',
  tableName: 'events',
  columns: {
    id: { type: 'text', primary: true },
    camera: { type: 'text' },
    label: { type: 'text' },
    sub_label: { type: 'text', nullable: true },
    score: { type: 'double precision' },
    top_score: { type: 'double precision' },
    box: { type: 'text' },
    area: { type: 'double precision' },
    zones: { type: 'text' },
    start_time: { type: 'double precision' },
    end_time: { type: 'double precision', nullable: true },
    has_snapshot: { type: 'boolean' },
    false_positive: { type: 'boolean' },
    data: { type: 'text' },
  },
});

export const entities = [CameraEntity, ZoneEntity, MaskEntity, EventEntity];
