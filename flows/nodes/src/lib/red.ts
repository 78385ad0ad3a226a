/**
 * The parts of Node-RED's node API (`@node-red/registry/lib/util.js` `createNodeApi`,
 * `@node-red/runtime/lib/nodes/Node.js`) that Vigil's nodes use, typed here: node-red ships
 * no types and `@types/node-red` is not a dependency.
 */

/** A message passing through a flow. */
export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

/** A node's status under it in the editor (`node.status`); `{}` clears it. */
export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/** `send` of an input handler: one message per output (a node here has at most one). */
export type SendFn = (msg: NodeMessage | null) => void;
/** `done` of an input handler: call once per message; with an Error it is reported to the flow's catch nodes. */
export type DoneFn = (err?: Error) => void;

/** A running node (`this` of a node constructor after `RED.nodes.createNode`). */
export interface Node {
  readonly id: string;
  readonly type: string;
  readonly name?: string;
  readonly z?: string;
  /** Credentials of the node, for types registered with `credentials`. */
  credentials?: Record<string, string | undefined>;
  on(event: 'input', handler: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  status(status: NodeStatus): void;
  send(msg: NodeMessage | null): void;
  log(message: unknown): void;
  warn(message: unknown): void;
  error(message: unknown, msg?: NodeMessage): void;
  debug(message: unknown): void;
}

/** What the editor saved for a node (its `defaults`), handed to the constructor. */
export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

/** Options of `RED.nodes.registerType`. */
export interface RegisterOptions {
  credentials?: Record<string, { type: 'text' | 'password' }>;
  /** Settings the node type offers; names start with the type in camel case (`vigilHub…`); `exportable` ones reach the editor. */
  settings?: Record<string, { value: unknown; exportable?: boolean }>;
}

/** `RED.settings.vigil`: the bus of the hub that embeds Node-RED (`hub/rules/node-red.ts`). */
export interface EmbeddedHubSettings {
  url: string;
  username?: string;
  password?: string;
  prefix?: string;
}

/** The `RED` object a node module's exported function receives. */
export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    /** Node-RED calls `constructor` with `new`; `this` and `def` are typed by each constructor. */
    registerType(type: string, constructor: (this: never, def: never) => void, options?: RegisterOptions): void;
    getNode(id: string): unknown;
  };
  settings: { vigil?: EmbeddedHubSettings; mqttReconnectTime?: number; [key: string]: unknown };
  util: { generateId(): string };
}
