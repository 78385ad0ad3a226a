/**
 * Events from `vigil/events` (`{type: new|update|end, before, after}`, docs/mqtt.md) as
 * the REST record the lists show, and the merge of one into a newest-first list.
 */
import type { EventRecord } from './types.ts';

/** The `after` state of a `vigil/events` message as an {@link EventRecord}; null when it is not one. */
export function eventFromMessage(payload: Uint8Array): EventRecord | null {
  let msg: { type?: string; after?: Record<string, unknown> };
  try { msg = JSON.parse(new TextDecoder().decode(payload)) as typeof msg; } catch { return null; }
  const a = msg.after;
  if (!a || typeof a.id !== 'string' || typeof a.camera !== 'string' || typeof a.label !== 'string' || typeof a.start_time !== 'number') return null;
  const sub = a.sub_label;
  return {
    id: a.id, camera: a.camera, label: a.label, sub_label: Array.isArray(sub) ? sub[0] : sub ?? null,
    score: Number(a.score ?? 0), top_score: Number(a.top_score ?? 0), box: a.box, area: Number(a.area ?? 0),
    zones: Array.isArray(a.entered_zones) ? (a.entered_zones as string[]) : [],
    start_time: a.start_time, end_time: typeof a.end_time === 'number' ? a.end_time : null,
    has_snapshot: a.has_snapshot === true, has_clip: a.has_clip === true, false_positive: a.false_positive === true,
  };
}

/** `list` with `e` updated in place or added in start-time order (newest first), at most `max` long. */
export function mergeEvent(list: EventRecord[], e: EventRecord, max: number): EventRecord[] {
  const rest = list.filter((x) => x.id !== e.id);
  const i = rest.findIndex((x) => x.start_time < e.start_time);
  if (i === -1) rest.push(e); else rest.splice(i, 0, e);
  return rest.slice(0, max);
}
