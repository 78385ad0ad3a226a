/**
 * ONVIF notifications (`wsnt:NotificationMessage` from PullMessages, in the client's
 * xml2js form) → Vigil's normalized {@link TriggerEvent}, and the relay state a
 * `tns1:Device/Trigger/Relay` event carries. Pure.
 */
import { triggerEvent, type PropertyOp, type TriggerEvent } from '../../components/protocol/rules.ts';
import { child, children, text, type XmlNode } from './soap.ts';

/** Topic of relay output state events (ONVIF Core, `tns1:Device/Trigger/Relay`, source `RelayToken`, data `LogicalState`). */
export const RELAY_EVENT_TOPIC = 'tns1:Device/Trigger/Relay';

const OPS: readonly PropertyOp[] = ['Initialized', 'Changed', 'Deleted'];
const NUMBER = /^-?(0|[1-9]\d{0,14})(\.\d+)?$/;
const MAX_VALUE = 1024;

/**
 * One notification as a {@link TriggerEvent} (`origin: 'onvif'`):
 * - `topic`: the message's Topic text as sent (`tns1:RuleEngine/CellMotionDetector/Motion`);
 * - `property_op`: the Message's PropertyOperation; `Changed` when absent (a pulse event);
 * - `data`: the Data SimpleItems by name, `true`/`false` as booleans and plain decimal
 *   numbers as numbers, the rest as strings (cut at 1024 characters); ElementItems are left out;
 * - `source`: the Source and Key SimpleItems by name, as strings (they identify things: tokens, rules);
 * - `time`: the Message's UtcTime, Unix ms (`now` when missing or unreadable).
 * @returns the event, or null when the message has no topic or does not fit the schema
 */
export function toTriggerEvent(camera: string, message: XmlNode, now = Date.now()): TriggerEvent | null {
  const topic = text(child(message, 'topic'));
  const inner = child(child(message, 'message'), 'message');
  if (!topic || !inner) return null;
  const attrs = inner.$ ?? {};
  const op = OPS.find((o) => o === attrs.PropertyOperation) ?? 'Changed';
  const utc = attrs.UtcTime ? Date.parse(attrs.UtcTime) : NaN;
  const r = triggerEvent.safeParse({
    camera,
    topic,
    property_op: op,
    data: items(child(inner, 'data'), dataValue),
    source: { ...items(child(inner, 'source'), clip), ...items(child(inner, 'key'), clip) },
    time: Number.isFinite(utc) ? utc : now,
    origin: 'onvif',
  });
  return r.success ? r.data : null;
}

/**
 * The relay state in a relay event: `{token, on}` (`LogicalState` `active` = on), or null
 * for any other event (another topic, no token, a `Deleted` property, an unknown state).
 */
export function relayStateOf(e: TriggerEvent): { token: string; on: boolean } | null {
  if (!e.topic.endsWith(':Device/Trigger/Relay') && e.topic !== 'Device/Trigger/Relay') return null;
  const token = e.source.RelayToken;
  const state = e.data.LogicalState;
  if (typeof token !== 'string' || !token || e.property_op === 'Deleted') return null;
  if (state !== 'active' && state !== 'inactive') return null;
  return { token, on: state === 'active' };
}

function items<T>(node: XmlNode | undefined, value: (v: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const it of children(node, 'simpleItem')) {
    const name = it.$?.Name;
    if (name) out[name] = value(it.$?.Value ?? '');
  }
  return out;
}

function clip(v: string): string { return v.slice(0, MAX_VALUE); }

function dataValue(v: string): string | number | boolean {
  if (v === 'true' || v === 'false') return v === 'true';
  return NUMBER.test(v) ? Number(v) : clip(v);
}
