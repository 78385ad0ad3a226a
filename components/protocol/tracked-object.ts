/**
 * The tracked object and the `vigil/events` message, as **one zod schema** with
 * Frigate's field names (`frigate/track/tracked_object.py` `to_dict`; MQTT `frigate/events`).
 * The detector builds these states, the hub validates what arrives on the bus with the same
 * schema, stores rows derived from it and serves the REST event from it.
 *
 * Times are Unix seconds (float); boxes are px of the detect frame; scores are 0–1.
 * Publishers other than Vigil's detector may leave out the derived fields (zones,
 * loitering, stationary, counters): they get neutral defaults. Unknown keys pass through.
 */
import { z } from 'zod';
import { cameraName } from './camera-config.ts';

/** Event ids as the detector makes them (`<start_time>-<random>`): safe as a file name and a topic segment. */
export const eventId = z.string().regex(/^[A-Za-z0-9._-]{1,80}$/, 'not an event id');

/** A box in px of the detect frame: `[x_min, y_min, x_max, y_max]` (Frigate's order). */
export const box = z.tuple([z.number(), z.number(), z.number(), z.number()]);
export type Box = z.infer<typeof box>;

/** One tracked object's public state. */
export const trackedObject = z.looseObject({
  id: eventId,
  camera: cameraName,
  /** Capture time of the frame this state was computed from, Unix seconds. */
  frame_time: z.number().default(0),
  /** COCO label, e.g. `person`. */
  label: z.string().min(1),
  /**
   * What enrichment recognized: a known face's or known plate's name with its score, as
   * `[name, score 0–1]` (Frigate's form on MQTT); a plain string from other publishers.
   * The stored event and the REST record keep the name.
   */
  sub_label: z.union([z.string(), z.tuple([z.string(), z.number()])]).nullable().default(null),
  /** A licence plate read inside the object (Frigate 0.16), upper case, and its OCR score 0–1. */
  recognized_license_plate: z.string().optional(),
  recognized_license_plate_score: z.number().optional(),
  /** Score of the latest detection, 0–1. */
  score: z.number(),
  /** Highest computed score seen (the computed score is the median of the score history; Frigate `tracked_object.py`), 0–1. */
  top_score: z.number(),
  /** True until the median score reaches the label's threshold. */
  false_positive: z.boolean(),
  start_time: z.number(),
  end_time: z.number().nullable(),
  box,
  /** Box area, px². */
  area: z.number(),
  /** Box width / height. */
  ratio: z.number().default(1),
  current_zones: z.array(z.string()).default([]),
  entered_zones: z.array(z.string()),
  /** True while the object stays in a zone with `loitering_time` beyond that time. */
  loitering: z.boolean().default(false),
  has_snapshot: z.boolean(),
  /** True once the hub has an event clip of the object (recording cameras with `event_clips`). */
  has_clip: z.boolean().default(false),
  /** The object has kept still for the camera's `stationary` frames (Frigate's `stationary`). */
  stationary: z.boolean().default(false),
  /** Frames the object has kept still. */
  motionless_count: z.number().int().min(0).default(0),
  position_changes: z.number().int().min(0).default(0),
});
/** A tracked object's state as published (defaults applied). */
export type TrackedObjectState = z.output<typeof trackedObject>;

/** A message on `vigil/events`: one step of a tracked object's life (`new` → `update`* → `end`). */
export const eventMessage = z.object({
  type: z.enum(['new', 'update', 'end']),
  /** The previous state (on `new`, the same as `after`). Not validated: only `after` is acted on. */
  before: z.unknown(),
  after: trackedObject,
});
export type EventMessage = { type: 'new' | 'update' | 'end'; before: TrackedObjectState; after: TrackedObjectState };

/**
 * An event as `GET /api/events` returns it (Frigate's `/api/events` fields): the indexed
 * columns of the state, `zones` = every zone entered, and the whole last state as `data`.
 */
export const eventRecord = trackedObject
  .pick({ id: true, camera: true, label: true, score: true, top_score: true, box: true, area: true, start_time: true, end_time: true, has_snapshot: true, has_clip: true, false_positive: true })
  .extend({ sub_label: z.string().nullable(), zones: z.array(z.string()), data: trackedObject });
export type EventRecord = z.output<typeof eventRecord>;

/**
 * Parses a `vigil/events` payload.
 * @returns the message, or an `error` naming the first problem as `path: message`
 */
export function parseEventMessage(payload: Buffer | string): { ok: true; message: z.output<typeof eventMessage> } | { ok: false; error: string } {
  let json: unknown;
  try { json = JSON.parse(payload.toString()); } catch { return { ok: false, error: 'not JSON' }; }
  const r = eventMessage.safeParse(json);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ') };
  return { ok: true, message: r.data };
}
