/**
 * `vigil layout`: activates a layout on a camera-wall display (`…/layout/set`), waits for
 * the hub's answer — the new bundle on `…/layout/state`, or a refusal on `…/layout/error`
 * — and can go back after some seconds and ignore inputs during a cooldown (a simple
 * rule's `do`, BetterFrame's `event_rules`).
 *
 * "Previous" is the layout the display showed when the node fired, read from the retained
 * bundle. A firing while a revert is pending restarts the revert timer and keeps the
 * previous layout it had: the display goes back to what it showed before the first one.
 */
import { bundle, type LayoutError } from '../../../components/protocol/layout.ts';
import { ruleAction, type RuleAction } from '../../../components/protocol/rules.ts';
import type { HubConnection, Incoming } from './lib/connection.ts';
import { type HubNodeDef, jsonOf, listen, numberOf, onInput, pick, registerHubNode } from './lib/nodes.ts';
import type { NodeAPI, NodeMessage } from './lib/red.ts';

/** What the editor saves for a `vigil layout` node (`hub/services/simple-rules.ts` writes the same). */
export interface LayoutDef extends HubNodeDef {
  /** Display id; empty = `msg.display`. */
  display?: string;
  /** Layout id; empty = `msg.layout`, else `msg.payload` when it is text. */
  layout?: string;
  /** Seconds until the display goes back; 0 = stay. */
  revertAfter?: number | string;
  /** `previous` or a layout id. */
  revertTo?: string;
  /** Seconds after firing during which inputs are dropped; 0 = none. */
  cooldown?: number | string;
}

/** How long a refusal on `…/layout/error` counts as the answer. */
export const ERROR_WINDOW_MS = 2000;
/** How long to wait for the new bundle. */
export const ANSWER_TIMEOUT_MS = 5000;

/** The part of a bundle the node reads; other fields may come and go. */
const shown = bundle.pick({ display: true, layout: true, seq: true }).loose();
/** What a display shows: layout id and activation number. */
export type Shown = { display: string; layout: string; seq: number };

/** A `…/layout/state` payload as {@link Shown}; undefined when empty (nothing shown) or not a bundle. */
export function shownOf(payload: Buffer): Shown | undefined {
  if (!payload.length) return undefined;
  const r = shown.safeParse(jsonOf(payload));
  return r.success ? { display: r.data.display, layout: r.data.layout, seq: r.data.seq } : undefined;
}

/**
 * The action for one input: display and layout from the node, else from the message
 * (`msg.display`; `msg.layout`, else a text `msg.payload`), checked with the protocol's
 * {@link ruleAction}.
 * @returns the action, or the first problem as `field: message`
 */
export function layoutAction(def: LayoutDef, msg: NodeMessage): { ok: true; action: RuleAction } | { ok: false; error: string } {
  const display = pick(def.display, msg.display);
  const layout = pick(def.layout, typeof msg.layout === 'string' ? msg.layout : msg.payload);
  if (!display) return { ok: false, error: 'display: none set on the node nor in msg.display' };
  if (!layout) return { ok: false, error: 'layout: none set on the node nor in msg.layout / msg.payload' };
  const revertAfter = numberOf(def.revertAfter, 0);
  const r = ruleAction.safeParse({
    action: 'activate_layout',
    display,
    layout_id: layout,
    revert_after_seconds: revertAfter > 0 ? revertAfter : undefined,
    revert_to: (def.revertTo ?? '').trim() || 'previous',
    cooldown_seconds: numberOf(def.cooldown, 0),
  });
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path[0] === 'layout_id' ? 'layout' : issue.path.join('.');
    return { ok: false, error: `${field}: ${issue.message}` };
  }
  return { ok: true, action: r.data };
}

/**
 * Activates `layout` on `display` and waits for the answer.
 * @param beforeSeq the display's `seq` before (the answer must be newer)
 * @param transaction echoed by the hub in a refusal
 * @returns what the display shows now
 * @throws Error with the hub's refusal (`code: message`), or when no bundle came within {@link ANSWER_TIMEOUT_MS}
 */
export async function activateLayout(conn: HubConnection, display: string, layout: string, beforeSeq: number | undefined, transaction: string, signal?: AbortSignal): Promise<Shown> {
  const t = conn.topics;
  const stateTopic = t.displayLayoutState(display);
  const errorTopic = t.displayLayoutError(display);
  const sent = Date.now();
  const answer = await conn.request<Shown | Error>({
    filters: [stateTopic, errorTopic],
    publish: { topic: t.displayLayoutSet(display), payload: JSON.stringify({ layout, transaction }) },
    match: (m: Incoming) => {
      if (m.topic === errorTopic) {
        const e = jsonOf(m.payload) as Partial<LayoutError> | undefined;
        if (e?.transaction !== transaction || Date.now() - sent > ERROR_WINDOW_MS) return undefined;
        return new Error(`the hub refused ${layout} on ${display}: ${e.error?.code ?? 'error'}: ${e.error?.message ?? 'no reason given'}`);
      }
      if (m.retain) return undefined;
      const s = shownOf(m.payload);
      return s && s.layout === layout && (beforeSeq === undefined || s.seq > beforeSeq) ? s : undefined;
    },
    timeoutMs: ANSWER_TIMEOUT_MS,
    signal,
  });
  if (answer === undefined) throw new Error(`no new bundle on ${stateTopic} within ${ANSWER_TIMEOUT_MS / 1000} s`);
  if (answer instanceof Error) throw answer;
  return answer;
}

/** Registers the `vigil layout` node type. */
export default function register(RED: NodeAPI): void {
  registerHubNode<LayoutDef>(RED, 'vigil layout', (node, conn, def) => {
    const t = conn.topics;
    const closing = new AbortController();
    /** Displays whose bundle this node follows (the retained one is the "previous" layout). */
    const watched = new Set<string>();
    /** Pending reverts per display, with the layout to go back to. */
    const reverts = new Map<string, { previous: string | undefined; timer: NodeJS.Timeout }>();
    let cooldownUntil = 0;
    let transactions = 0;

    const watch = (display: string): void => {
      if (watched.has(display)) return;
      watched.add(display);
      listen(node, conn, t.displayLayoutState(display), () => undefined);
    };
    if (def.display?.trim()) {
      try { watch(def.display.trim()); } catch { /* not a slug: reported on input */ }
    }
    const current = async (display: string): Promise<Shown | undefined> => {
      const m = await conn.retained(t.displayLayoutState(display));
      return m ? shownOf(m.payload) : undefined;
    };
    const activate = async (display: string, layout: string, beforeSeq: number | undefined): Promise<Shown> =>
      activateLayout(conn, display, layout, beforeSeq, `${node.id}-${++transactions}`, closing.signal);

    const scheduleRevert = (display: string, previous: string | undefined, a: RuleAction): void => {
      const pending = reverts.get(display);
      if (pending) clearTimeout(pending.timer);
      const keep = pending ? pending.previous : previous;
      const timer = setTimeout(() => {
        reverts.delete(display);
        const target = a.revert_to === 'previous' ? keep : a.revert_to;
        if (!target) {
          node.warn(`${display}: nothing to go back to (it showed no layout before)`);
          return;
        }
        current(display)
          .then((now) => activate(display, target, now?.seq))
          .then(
            () => node.status({ fill: 'blue', shape: 'dot', text: `back to ${target} on ${display}` }),
            (err: Error) => {
              if (closing.signal.aborted) return;
              node.status({ fill: 'red', shape: 'ring', text: `revert failed: ${err.message}` });
              node.error(`going back to ${target} on ${display} failed: ${err.message}`);
            },
          );
      }, a.revert_after_seconds! * 1000);
      reverts.set(display, { previous: keep, timer });
    };

    onInput(node, async (msg, send) => {
      const r = layoutAction(def, msg);
      if (!r.ok) throw new Error(r.error);
      const a = r.action;
      const now = Date.now();
      if (now < cooldownUntil) {
        node.status({ fill: 'yellow', shape: 'ring', text: `cooldown (${Math.ceil((cooldownUntil - now) / 1000)} s)` });
        return;
      }
      cooldownUntil = now + a.cooldown_seconds * 1000;
      try {
        watch(a.display);
        const before = await current(a.display);
        const result = await activate(a.display, a.layout_id, before?.seq);
        node.status({ fill: 'green', shape: 'dot', text: `${a.layout_id} on ${a.display}` });
        if (a.revert_after_seconds) scheduleRevert(a.display, before?.layout, a);
        msg.payload = { display: a.display, layout: a.layout_id, seq: result.seq };
        send(msg);
      } catch (err) {
        // Nothing changed: the cooldown does not hold back the next try.
        cooldownUntil = 0;
        if (!closing.signal.aborted) node.status({ fill: 'red', shape: 'ring', text: (err as Error).message });
        throw err;
      }
    });

    node.on('close', (_removed, done) => {
      closing.abort();
      for (const p of reverts.values()) clearTimeout(p.timer);
      reverts.clear();
      done();
    });
  });
}
