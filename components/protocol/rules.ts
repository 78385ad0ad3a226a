/**
 * The rules engine's protocol: events into it (ONVIF PullPoint events and synthetic ones),
 * the seed's simple `event_rules`, and PTZ commands. Pure (zod only): the hub, the
 * Node-RED nodes and the ONVIF client import it.
 *
 * - ONVIF events are published on `vigil/onvif/<cam>/event`, synthetic ones on
 *   `vigil/event/trigger` (`POST /api/events/trigger` publishes there too); both carry a
 *   {@link TriggerEvent}. Clients may send the short form `{camera, topic, payload}` on the
 *   trigger topic: {@link normalizeTrigger} turns either into the normalized event.
 * - A simple rule (`/api/rules`): when an event matches (`camera`, `topic`, `property_op`,
 *   and optionally data values), activate a layout on a display, revert after some
 *   seconds, and ignore further matches during a cooldown (BetterFrame's `event_rules`).
 */
import { z } from 'zod';
import { cameraName } from './camera-config.ts';
import { slug } from './layout.ts';

/** ONVIF's PropertyOperation of a notification (ONVIF Core spec §9.6). */
export const propertyOp = z.enum(['Initialized', 'Changed', 'Deleted']);
export type PropertyOp = z.infer<typeof propertyOp>;

/** A data value of an event (ONVIF SimpleItem values arrive as strings; synthetic ones as JSON). */
const dataValue = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);

/**
 * The normalized event: `topic` is the ONVIF topic (`tns1:RuleEngine/CellMotionDetector/Motion`)
 * or any synthetic name; `data` the event's data items by name (`{IsMotion: true}`);
 * `source` the items identifying its origin (`VideoSourceConfigurationToken` …);
 * `time` Unix ms; `origin` whether it came from a camera's PullPoint or was synthetic.
 */
export const triggerEvent = z
  .object({
    camera: cameraName,
    topic: z.string().min(1).max(256),
    property_op: propertyOp,
    data: z.record(z.string(), dataValue),
    source: z.record(z.string(), dataValue).default({}),
    time: z.number(),
    origin: z.enum(['onvif', 'synthetic']),
  })
  .strict();
export type TriggerEvent = z.infer<typeof triggerEvent>;

/**
 * What a client may send on `vigil/event/trigger` or to `POST /api/events/trigger`:
 * `{camera, topic, property_op?, data?, payload?}` — `payload` (the architecture's short
 * form) is taken as `data` when it is an object, else as `{value: payload}`; `property_op`
 * defaults to `Changed`.
 */
export const triggerInput = z
  .object({
    camera: cameraName,
    topic: z.string().min(1).max(256),
    property_op: propertyOp.default('Changed'),
    data: z.record(z.string(), dataValue).optional(),
    payload: z.union([z.record(z.string(), dataValue), dataValue]).optional(),
    source: z.record(z.string(), dataValue).optional(),
  })
  .strict()
  .refine((t) => t.data === undefined || t.payload === undefined, { message: 'give data or payload, not both', path: ['payload'] });
export type TriggerInput = z.input<typeof triggerInput>;

/**
 * Turns a client's trigger into the normalized event (`origin: synthetic`).
 * @param now Unix ms
 * @returns the event, or the first problem as `path: message` (nothing thrown)
 */
export function normalizeTrigger(raw: unknown, now = Date.now()): { ok: true; event: TriggerEvent } | { ok: false; error: string; field?: string } {
  const r = triggerInput.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.join('.');
    return { ok: false, error: path ? `${path}: ${issue.message}` : issue.message, field: path || undefined };
  }
  const t = r.data;
  const data = t.data ?? (t.payload === undefined ? {} : typeof t.payload === 'object' && t.payload !== null ? t.payload : { value: t.payload });
  return { ok: true, event: { camera: t.camera, topic: t.topic, property_op: t.property_op, data, source: t.source ?? {}, time: now, origin: 'synthetic' } };
}

/**
 * Does `e` match a rule's `when`? `topic` matches exactly or, written as a prefix ending in
 * `/` or with a trailing `*`, every topic below it; `data` values match when equal as
 * strings (`true` matches ONVIF's `"true"`).
 */
export function matchesWhen(when: RuleWhen, e: TriggerEvent): boolean {
  if (when.camera && when.camera !== e.camera) return false;
  if (when.property_op && when.property_op !== e.property_op) return false;
  const t = when.topic;
  const topicOk = t.endsWith('*') ? e.topic.startsWith(t.slice(0, -1)) : t.endsWith('/') ? e.topic.startsWith(t) : e.topic === t;
  if (!topicOk) return false;
  return Object.entries(when.data ?? {}).every(([k, v]) => k in e.data && String(e.data[k]) === String(v));
}

/** A rule's condition. */
export const ruleWhen = z
  .object({
    camera: cameraName.optional(),
    topic: z.string().min(1).max(256),
    property_op: propertyOp.optional(),
    data: z.record(z.string(), dataValue).optional(),
  })
  .strict();
export type RuleWhen = z.infer<typeof ruleWhen>;

/** What a rule does (BetterFrame's `activate_layout`). */
export const ruleAction = z
  .object({
    action: z.literal('activate_layout'),
    display: slug,
    layout_id: slug,
    /** Seconds until the display goes back (`revert_to`); unset = stay. */
    revert_after_seconds: z.number().min(1).max(86_400).optional(),
    /** `previous` (the layout shown before the rule fired) or a layout id. */
    revert_to: z.union([z.literal('previous'), slug]).default('previous'),
    /** Seconds after firing during which further matches are ignored. */
    cooldown_seconds: z.number().min(0).max(86_400).default(0),
  })
  .strict();
export type RuleAction = z.infer<typeof ruleAction>;

/** A simple rule, as `/api/rules` stores it. */
export const simpleRule = z
  .object({
    id: slug,
    name: z.string().min(1).max(128),
    enabled: z.boolean().default(true),
    when: ruleWhen,
    do: ruleAction,
  })
  .strict();
export type SimpleRule = z.infer<typeof simpleRule>;

/**
 * PTZ commands on `vigil/camera/<cam>/ptz`, Frigate's payloads: `preset_<name>`,
 * `MOVE_LEFT` / `MOVE_RIGHT` / `MOVE_UP` / `MOVE_DOWN`, `ZOOM_IN` / `ZOOM_OUT`, `STOP`.
 * @returns the parsed command, or null when the payload is none of them
 */
export function parsePtz(payload: string): PtzCommand | null {
  const p = payload.trim();
  if (p.startsWith('preset_') && p.length > 7 && p.length <= 135) return { kind: 'preset', preset: p.slice(7) };
  const m = /^(MOVE_LEFT|MOVE_RIGHT|MOVE_UP|MOVE_DOWN|ZOOM_IN|ZOOM_OUT|STOP)$/.exec(p.toUpperCase());
  if (!m) return null;
  return m[1] === 'STOP' ? { kind: 'stop' } : { kind: 'move', direction: m[1]!.toLowerCase().replace(/^(move|zoom)_/, '') as PtzDirection };
}

/** A PTZ direction: pan/tilt (`left`…`down`) or zoom (`in`/`out`). */
export type PtzDirection = 'left' | 'right' | 'up' | 'down' | 'in' | 'out';
/** A parsed PTZ command. */
export type PtzCommand = { kind: 'preset'; preset: string } | { kind: 'move'; direction: PtzDirection } | { kind: 'stop' };
