/**
 * The camera head's observable state: the contract between the store (`store.ts`), the
 * modules that declare keys (`../modules/`), and the APIs that read and write them
 * (MQTT `../api/mqtt-api.ts`, WebSocket `../api/ws-api.ts`, HTTP `../api/http-api.ts`).
 *
 * After the C Pro seed's `initObservable(name, permissionRead, permissionWrite, default,
 * save)`: every key has a schema, a default, the permissions that may read it and those
 * that may write it, and whether it is persisted. Writes are validated, permission-checked,
 * applied by the key's observers (hardware drivers), persisted, then pushed to every client
 * allowed to read the key. Last write wins.
 */
import type { z } from 'zod';
import type { HaHint } from '../../components/protocol/head-info.ts';

/**
 * The nine permission types (the seed's "9 permission types with role-based access"); a
 * `_r` lets a principal read the keys of its area, a `_rw` read and write them.
 * - `system`: system info, version, network, time, restart, factory reset;
 * - `camera`: image, stream, zoom, picture-in-picture, rotation, head sensors;
 * - `light`: the light;
 * - `recording`: recording mode and on/off, tag categories, storage;
 * - `users_rw`: the head's users (no read-only form: user lists are for admins).
 */
export const PERMISSIONS = [
  'system_r', 'system_rw',
  'camera_r', 'camera_rw',
  'light_r', 'light_rw',
  'recording_r', 'recording_rw',
  'users_rw',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Roles of the head's users and what each holds (`permissions.ts` `ROLE_PERMISSIONS`). */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who asks: a user of the head (HTTP, WebSocket), the MQTT bus (the broker's ACL already let the publisher through), or the head itself (drivers, start-up). */
export type Principal =
  | { kind: 'user'; name: string; role: Role }
  | { kind: 'mqtt'; role: Role }
  | { kind: 'system' };

/** Home Assistant entity hints for a key (shared with the hub, which publishes the discovery configs). */
export type { HaHint } from '../../components/protocol/head-info.ts';

/** One key of the state, as a module declares it. */
export interface KeySpec<T = unknown> {
  /** `[a-z][a-z0-9_]*` segments joined by `.`, e.g. `light.level`, `image.brightness`. */
  key: string;
  /** Validation (types, ranges, enums): a value that fails is refused with the schema's message and the last good value stays. */
  schema: z.ZodType<T>;
  default: T;
  /** Permissions any one of which lets a principal read the key (`system` reads everything). */
  read: Permission[];
  /** Permissions any one of which lets a principal write it; `[]` = read-only (only the head itself sets it). */
  write: Permission[];
  /** Saved in the state database and restored at start. */
  persist: boolean;
  /** One line for the API docs and the HA entity name. */
  description: string;
  ha?: HaHint;
  /**
   * A button (`system.restart`, `system.factory_reset`): every accepted write runs the
   * observers (no deep-equal short cut), the value stays the default, nothing is persisted
   * and no change is emitted. Must not be combined with `persist`.
   */
  momentary?: boolean;
}

/** The outcome of a write. */
export type SetResult =
  | { ok: true; key: string; value: unknown; changed: boolean }
  | {
      ok: false; key: string; code: 'unknown_key' | 'forbidden' | 'read_only' | 'invalid' | 'rejected'; reason: string;
      /** `invalid`: where in the value the first refused part is (`[]` = the value itself, `[2, 'id']` = the id of the third item). */
      path?: (string | number)[];
    };

/** One change, as pushed to clients. `at`: Unix ms. */
export interface StateChange {
  key: string;
  value: unknown;
  previous: unknown;
  at: number;
  /** Who made it (`system` for drivers and start-up). */
  by: Principal['kind'];
}

/**
 * Applies a new value to the hardware (the seed's `addObserver`). Throwing (or rejecting)
 * refuses the write with the error's message: the last good value stays (code `rejected`).
 */
export type Observer<T = unknown> = (next: T, previous: T) => void | Promise<void>;
