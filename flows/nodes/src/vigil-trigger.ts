/**
 * `vigil trigger`: ONVIF events (`vigil/onvif/<cam>/event`) and synthetic ones
 * (`vigil/event/trigger`) as {@link TriggerEvent}s, filtered like a simple rule's `when`
 * ({@link matchesWhen}); a message on its input is sent as a synthetic trigger.
 */
import { matchesWhen, normalizeTrigger, ruleWhen, triggerEvent, type RuleWhen, type TriggerEvent } from '../../../components/protocol/rules.ts';
import { type HubNodeDef, jsonOf, listen, onInput, registerHubNode } from './lib/nodes.ts';
import type { NodeAPI } from './lib/red.ts';

/** What the editor saves for a `vigil trigger` node (`hub/services/simple-rules.ts` writes the same). */
export interface TriggerDef extends HubNodeDef {
  /** Camera name; empty = every camera. */
  camera?: string;
  /** Event topic: exact, or a prefix with a trailing `*` (or `/`); empty = every topic. */
  topic?: string;
  /** `Initialized`, `Changed`, `Deleted`; empty = any. */
  propertyOp?: string;
  /** JSON object of data values that must be equal (as text); empty = no data condition. */
  data?: string;
}

/**
 * The `when` condition a node's properties describe.
 * @returns the condition, or the first problem as `field: message`
 */
export function triggerWhen(def: TriggerDef): { ok: true; when: RuleWhen } | { ok: false; error: string } {
  let data: unknown;
  const dataText = (def.data ?? '').trim();
  if (dataText) {
    try { data = JSON.parse(dataText); } catch { return { ok: false, error: 'data: not valid JSON' }; }
  }
  const r = ruleWhen.safeParse({
    camera: def.camera?.trim() || undefined,
    topic: def.topic?.trim() || '*',
    property_op: def.propertyOp || undefined,
    data,
  });
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return { ok: false, error: `${issue.path.join('.') || 'when'}: ${issue.message}` };
  }
  return { ok: true, when: r.data };
}

/**
 * Reads a trigger from the bus: the normalized event (what ONVIF cameras and
 * `POST /api/events/trigger` publish), or — on `vigil/event/trigger` only — the short
 * form `{camera, topic, property_op?, data? | payload?}` ({@link normalizeTrigger}).
 * @returns the event, or why the payload is not one
 */
export function parseTrigger(payload: Buffer, shortFormAllowed: boolean): { ok: true; event: TriggerEvent } | { ok: false; error: string } {
  const json = jsonOf(payload);
  if (json === undefined) return { ok: false, error: 'not JSON' };
  const full = triggerEvent.safeParse(json);
  if (full.success) return { ok: true, event: full.data };
  if (shortFormAllowed) {
    const short = normalizeTrigger(json);
    if (short.ok) return short;
    return { ok: false, error: short.error };
  }
  const issue = full.error.issues[0]!;
  return { ok: false, error: `${issue.path.join('.') || 'event'}: ${issue.message}` };
}

/** Registers the `vigil trigger` node type. */
export default function register(RED: NodeAPI): void {
  registerHubNode<TriggerDef>(RED, 'vigil trigger', (node, conn, def) => {
    const w = triggerWhen(def);
    if (!w.ok) {
      node.status({ fill: 'red', shape: 'ring', text: w.error });
      node.error(`invalid condition: ${w.error}`);
    } else {
      const deliver = (shortFormAllowed: boolean) => (m: { topic: string; payload: Buffer }): void => {
        const r = parseTrigger(m.payload, shortFormAllowed);
        if (!r.ok) {
          node.warn(`${m.topic}: message skipped (${r.error})`);
          return;
        }
        if (matchesWhen(w.when, r.event)) node.send({ topic: r.event.topic, payload: r.event });
      };
      listen(node, conn, conn.topics.sub.onvifEvents(), deliver(false));
      listen(node, conn, conn.topics.eventTrigger(), deliver(true));
    }

    // The input: msg.payload → a synthetic trigger on the bus.
    onInput(node, async (msg) => {
      const raw = typeof msg.payload === 'string' ? (jsonOf(Buffer.from(msg.payload)) ?? msg.payload) : msg.payload;
      const r = normalizeTrigger(raw);
      if (!r.ok) throw new Error(`not a trigger: ${r.error}`);
      await conn.publish(conn.topics.eventTrigger(), JSON.stringify(r.event));
    });
  });
}
