/**
 * What every Vigil node does the same way: find its `vigil-hub` config node and follow its
 * connection state, listen on a filter with refusals reported, run an async input
 * handler that ends in `done()` / `done(err)` and never throws (Node-RED's
 * `24-complete.js` convention), and read list-like properties.
 */
import { cameraName } from '../../../../components/protocol/camera-config.ts';
import type { HubConnection, Listener, Subscription } from './connection.ts';
import type { Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './red.ts';

/** The `vigil-hub` config node as the other nodes see it. */
export interface VigilHubNode extends Node {
  /** The shared connection; undefined when the node could not be configured ({@link VigilHubNode.problem}). */
  connection?: HubConnection;
  /** Why there is no connection. */
  problem?: string;
}

/** Properties every node using a hub has: the `vigil-hub` config node's id. */
export interface HubNodeDef extends NodeDef {
  hub?: string;
}

/**
 * Registers a node type that uses a `vigil-hub` (Node-RED's constructor convention in one
 * place): `RED.nodes.createNode`, then {@link attachHub}, then `setup` with the node,
 * its connection and its properties — not called when the node has no usable hub.
 */
export function registerHubNode<D extends HubNodeDef>(RED: NodeAPI, type: string, setup: (node: Node, conn: HubConnection, def: D) => void): void {
  function VigilNode(this: Node, def: D): void {
    RED.nodes.createNode(this, def);
    const conn = attachHub(RED, this, def.hub);
    if (conn) setup(this, conn, def);
  }
  RED.nodes.registerType(type, VigilNode);
}

/** Turns anything thrown into an Error. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Connects `node` to its `vigil-hub` config node `hubId`: its status follows the
 * connection's until it closes.
 * @returns the connection, or undefined when the config node is missing or unusable (the
 *   node then shows a red status, logs the reason and answers every input with it as an error)
 */
export function attachHub(RED: NodeAPI, node: Node, hubId: unknown): HubConnection | undefined {
  const hub = typeof hubId === 'string' && hubId ? (RED.nodes.getNode(hubId) as VigilHubNode | null) : null;
  const conn = hub?.connection;
  if (!conn) {
    const why = hub ? (hub.problem ?? 'the vigil-hub node has no connection') : 'no vigil-hub configured';
    node.status({ fill: 'red', shape: 'ring', text: why });
    node.error(why);
    node.on('input', (_msg, _send, done) => done(new Error(why)));
    return undefined;
  }
  conn.register(node);
  node.on('close', (_removed, done) => {
    conn.deregister(node);
    done();
  });
  return conn;
}

/**
 * Listens on `filter` for as long as the node runs; a refusal by the broker (the ACL) turns
 * the node's status red and is logged.
 * @returns the hold (closed with the node)
 */
export function listen(node: Node, conn: HubConnection, filter: string, listener: Listener): Subscription {
  const sub = conn.subscribe(filter, listener);
  sub.ready.catch((err: unknown) => {
    node.status({ fill: 'red', shape: 'ring', text: 'subscription refused' });
    node.error(asError(err).message);
  });
  node.on('close', (_removed, done) => {
    sub.close();
    done();
  });
  return sub;
}

/**
 * Registers an async input handler: it resolves → `done()`, it throws → `done(err)`.
 * The signal aborts when the node closes (pending waits end without calling `done`).
 */
export function onInput(node: Node, handler: (msg: NodeMessage, send: SendFn, signal: AbortSignal) => Promise<void>): void {
  const closing = new AbortController();
  node.on('input', (msg, send, done) => {
    let run: Promise<void>;
    try {
      run = handler(msg, send, closing.signal);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(() => done(), (err: unknown) => {
      if (!closing.signal.aborted) done(asError(err));
    });
  });
  node.on('close', (_removed, done) => {
    closing.abort();
    done();
  });
}

/**
 * A list property: an array of strings, or text separated by commas, spaces or new lines.
 * @returns the trimmed, non-empty items (empty = no filter)
 */
export function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return items.map((s) => s.trim()).filter(Boolean);
}

/** A number property saved as text or number; `fallback` when empty or not a number. */
export function numberOf(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

/** A text property (trimmed), or `msg`'s when the property is empty: Node-RED's "blank means from the message" rule. */
export function pick(configured: unknown, fromMsg: unknown): string {
  const c = typeof configured === 'string' ? configured.trim() : '';
  if (c) return c;
  return typeof fromMsg === 'string' ? fromMsg.trim() : '';
}

/** JSON text of a Buffer, or undefined when it is not JSON. */
export function jsonOf(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The camera a message is about: the node's, else `msg.camera`.
 * @throws Error when neither is a camera name
 */
export function cameraFrom(configured: unknown, fromMsg: unknown): string {
  const cam = cameraName.safeParse(pick(configured, fromMsg));
  if (!cam.success) throw new Error(`camera: ${cam.error.issues[0]?.message ?? 'invalid'} (set it on the node or in msg.camera)`);
  return cam.data;
}
