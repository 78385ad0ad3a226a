/**
 * `vigil event`: tracked objects from `vigil/events` (Frigate's `{type, before, after}`),
 * filtered by camera, label, zone, event type and true positives; one message per event.
 */
import { parseEventMessage, type TrackedObjectState } from '../../../components/protocol/tracked-object.ts';
import { type HubNodeDef, listen, listOf, registerHubNode } from './lib/nodes.ts';
import type { NodeAPI } from './lib/red.ts';

/** Event types of `vigil/events`. */
export type EventType = 'new' | 'update' | 'end';

/** What the editor saves for a `vigil event` node. */
export interface EventDef extends HubNodeDef {
  /** Camera names, comma-separated; empty = every camera. */
  cameras?: string;
  /** Labels (`person`, `car` …), comma-separated; empty = every label. */
  labels?: string;
  /** Zones, comma-separated: the object entered one of them; empty = anywhere. */
  zones?: string;
  typeNew?: boolean;
  typeUpdate?: boolean;
  typeEnd?: boolean;
  /** Only objects that are not false positives (default true). */
  truePositives?: boolean;
}

/** The filter of a `vigil event` node; empty lists match everything. */
export interface EventFilter {
  cameras: string[];
  labels: string[];
  zones: string[];
  types: EventType[];
  truePositivesOnly: boolean;
}

/** The filter a node's properties describe (missing type flags and `truePositives` default to on). */
export function eventFilter(def: EventDef): EventFilter {
  const types: EventType[] = [];
  if (def.typeNew !== false) types.push('new');
  if (def.typeUpdate !== false) types.push('update');
  if (def.typeEnd !== false) types.push('end');
  return { cameras: listOf(def.cameras), labels: listOf(def.labels), zones: listOf(def.zones), types, truePositivesOnly: def.truePositives !== false };
}

/**
 * Does an event pass the filter? Zones match when the object entered (or is in) any of them.
 * @param type the message's `type`
 * @param after the message's `after` state
 */
export function matchesEvent(f: EventFilter, type: EventType, after: TrackedObjectState): boolean {
  if (!f.types.includes(type)) return false;
  if (f.truePositivesOnly && after.false_positive) return false;
  if (f.cameras.length && !f.cameras.includes(after.camera)) return false;
  if (f.labels.length && !f.labels.includes(after.label)) return false;
  if (f.zones.length && !f.zones.some((z) => after.entered_zones.includes(z) || after.current_zones.includes(z))) return false;
  return true;
}

/** Registers the `vigil event` node type. */
export default function register(RED: NodeAPI): void {
  registerHubNode<EventDef>(RED, 'vigil event', (node, conn, def) => {
    const filter = eventFilter(def);
    const topic = conn.topics.events();
    listen(node, conn, topic, (m) => {
      const r = parseEventMessage(m.payload);
      if (!r.ok) {
        const problems = r.error.split('; ');
        node.warn(`${topic}: message skipped (${problems[0]}${problems.length > 1 ? `; ${problems.length - 1} more` : ''})`);
        return;
      }
      const { type, after } = r.message;
      if (!matchesEvent(filter, type, after)) return;
      node.send({ topic: `${after.camera}/${after.label}`, payload: after, event: r.message });
    });
  });
}
