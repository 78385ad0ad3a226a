/**
 * What a camera head says about itself on `vigil/head/<head>/info` (retained): who it is,
 * where its video is (an RTSP URL the hub's camera component pulls like any IP camera), its
 * web API, and the catalogue of its state keys with Home Assistant hints — from which the
 * hub registers the head as a camera and publishes Home Assistant discovery for its entities.
 * Shared by `head-firmware/` (publisher) and `hub/heads/` (reader).
 */
import { z } from 'zod';

/** Home Assistant entity hints for a state key. */
export const haHint = z
  .object({
    component: z.enum(['switch', 'number', 'select', 'sensor', 'binary_sensor', 'button', 'text']),
    /** e.g. `°C`, `hPa`, `%`. */
    unit: z.string().max(16).optional(),
    device_class: z.string().max(32).optional(),
    /** `number`: range and step. */
    min: z.number().optional(),
    max: z.number().optional(),
    step: z.number().positive().optional(),
    /** `select`: the options. */
    options: z.array(z.string().max(64)).max(64).optional(),
    state_class: z.literal('measurement').optional(),
    entity_category: z.enum(['config', 'diagnostic']).optional(),
  })
  .strict();
export type HaHint = z.infer<typeof haHint>;

/** A state key as the head announces it. */
export const headKeyInfo = z
  .object({
    /** `[a-z][a-z0-9_]*` segments joined by `.`. */
    key: z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/).max(64),
    description: z.string().max(200),
    /** Whether `…/set` over MQTT may change it (the head's MQTT role can write it). */
    writable: z.boolean(),
    ha: haHint.optional(),
  })
  .strict();
export type HeadKeyInfo = z.infer<typeof headKeyInfo>;

/** The `vigil/head/<head>/info` payload. */
export const headInfo = z
  .object({
    /** The head's id: the `<head>` topic segment. */
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
    name: z.string().min(1).max(64),
    model: z.string().max(64),
    version: z.string().max(32),
    /** Feature profile (DEFAULT, DEMO, DEV, EDU, OEM). */
    variant: z.string().max(16),
    /** The head's video: `main` is an `rtsp://` URL the hub can reach; absent while it has none. */
    stream: z.object({ main: z.string().regex(/^rtsps?:\/\//i).max(512) }).strict().optional(),
    /** The head's HTTP API, e.g. `http://10.0.0.7:8081/`. */
    http: z.string().regex(/^https?:\/\//i).max(512).optional(),
    keys: z.array(headKeyInfo).max(256),
  })
  .strict();
export type HeadInfo = z.infer<typeof headInfo>;

/** The `vigil/head/<head>/response` payload: a refused `…/set`. */
export interface HeadSetRefusal {
  key: string;
  code: 'unknown_key' | 'forbidden' | 'read_only' | 'invalid' | 'rejected' | 'bad_payload';
  reason: string;
}

/** The hub's camera name for a head: `head_<id>`. */
export function headCameraName(id: string): string {
  return `head_${id}`;
}
