/**
 * One MQTT connection to a Vigil hub, shared by every node that uses the same `vigil-hub`
 * config node (Node-RED's `mqtt-broker` model, `10-mqtt.js`): one mqtt.js client (MQTT
 * 3.1.1, clean session, reconnecting, a unique client id), subscriptions counted per
 * filter (the broker sees one SUBSCRIBE however many nodes listen, and an UNSUBSCRIBE when
 * the last one leaves), re-subscribed after every reconnect, and the connection state
 * shown under every user node.
 *
 * Request/answer over the bus ({@link HubConnection.request}): subscribe the answer
 * topics first, publish, then wait for the first message a matcher accepts, or a timeout.
 * The latest message of every topic under a live subscription is kept, so a node that
 * joins an existing subscription can still read a retained value (a snapshot, a display's
 * bundle) without a new SUBSCRIBE.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { Topics, topicMatches } from '../../../../components/protocol/topics.ts';
import type { NodeStatus } from './red.ts';

/** Where and how to connect; {@link Topics} of `prefix` build every topic. */
export interface HubSettings {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://host:8080/mqtt` … */
  url: string;
  username?: string;
  password?: string;
  /** First segment of every Vigil topic (`mqtt.prefix`), default `vigil`. */
  prefix: string;
}

/** A message received on a subscription. `retain` is true for retained messages sent on subscribing (or replayed from the cache). */
export interface Incoming {
  topic: string;
  payload: Buffer;
  retain: boolean;
}
/** Called for every message on a subscription's filter; what it throws is logged and dropped. */
export type Listener = (m: Incoming) => void;

/** Connection state, as user nodes show it. */
export type HubState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'error';

/** A node using the connection: its status follows the connection's. */
export interface HubUser {
  status(status: NodeStatus): void;
}

/** Where the connection reports problems (the config node's log). */
export interface HubLog {
  warn(message: string): void;
}

/** A listener's hold on a filter: `ready` settles once the broker granted it (rejects when refused). */
export interface Subscription {
  readonly ready: Promise<void>;
  /** Removes the listener; the last one unsubscribes the filter. Idempotent. */
  close(): void;
}

/** Options of {@link HubConnection.request}. */
export interface RequestOptions<T> {
  /** Filters to listen on before publishing (the answer topics). */
  filters: string[];
  /** Sent (QoS 1) once every filter is granted. */
  publish?: { topic: string; payload: string | Buffer };
  /** Returns the answer (a value or an Error) for a message that is one, else undefined. */
  match: (m: Incoming) => T | undefined;
  /** Also offer the latest known message of each topic under `filters` (retained values). */
  replay?: boolean;
  timeoutMs: number;
  /** Aborting (the node closes) rejects the request. */
  signal?: AbortSignal;
}

const PUBLISH_TIMEOUT_MS = 5000;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  settled: boolean;
}

function deferred(): Deferred {
  const d = { settled: false } as Deferred;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = () => { d.settled = true; resolve(); };
    d.reject = (err) => { d.settled = true; reject(err); };
  });
  // Nobody may be waiting: a refusal must not become an unhandled rejection.
  d.promise.catch(() => undefined);
  return d;
}

interface SubState {
  listeners: Set<Listener>;
  granted: Deferred;
  /** When the broker last granted it (ms), undefined while not granted on the current connection. */
  grantedAt?: number;
}

/** The URL without user info, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** The status a user node shows for a connection state. */
export function stateStatus(state: HubState, error?: string): NodeStatus {
  switch (state) {
    case 'connected': return { fill: 'green', shape: 'dot', text: 'node-red:common.status.connected' };
    case 'connecting': return { fill: 'yellow', shape: 'ring', text: 'node-red:common.status.connecting' };
    case 'error': return { fill: 'red', shape: 'ring', text: error ?? 'error' };
    case 'disconnected': return { fill: 'red', shape: 'ring', text: 'node-red:common.status.disconnected' };
    case 'idle': return {};
  }
}

/** The shared connection of one `vigil-hub` config node. */
export class HubConnection {
  readonly topics: Topics;
  private client?: MqttClient;
  private stateValue: HubState = 'idle';
  private lastError?: string;
  private readonly users = new Set<HubUser>();
  private readonly subs = new Map<string, SubState>();
  /** Latest message per topic under a live subscription. */
  private readonly cache = new Map<string, Incoming>();
  private closed = false;

  /**
   * @param clientId unique per connection (Node-RED's own ids make one)
   * @param reconnectPeriod ms between reconnect attempts (Node-RED's `mqttReconnectTime`)
   * @throws Error when the prefix is not a valid topic segment
   */
  constructor(readonly settings: HubSettings, private readonly log: HubLog, private readonly clientId: string, private readonly reconnectPeriod = 5000) {
    this.topics = new Topics(settings.prefix);
  }

  /** Current state. */
  get state(): HubState { return this.stateValue; }
  /** True while connected to the broker. */
  get connected(): boolean { return this.stateValue === 'connected'; }
  /** The broker URL without credentials. */
  get where(): string { return redactUrl(this.settings.url); }

  /** Adds a node whose status follows the connection; the first one connects. */
  register(user: HubUser): void {
    this.users.add(user);
    user.status(stateStatus(this.stateValue, this.lastError));
    if (!this.client && !this.closed) this.connect();
  }

  /** Removes a node (its status is left alone). */
  deregister(user: HubUser): void {
    this.users.delete(user);
  }

  /**
   * Listens on `filter` (subscribing it when it is new, QoS 1).
   * @returns the hold, to close when done
   */
  subscribe(filter: string, listener: Listener): Subscription {
    let sub = this.subs.get(filter);
    if (!sub) {
      sub = { listeners: new Set(), granted: deferred() };
      this.subs.set(filter, sub);
      if (this.connected) this.sendSubscribe([filter]);
    }
    sub.listeners.add(listener);
    const held = sub;
    let open = true;
    return {
      ready: held.granted.promise,
      close: () => {
        if (!open) return;
        open = false;
        held.listeners.delete(listener);
        if (held.listeners.size > 0 || this.subs.get(filter) !== held) return;
        this.subs.delete(filter);
        for (const topic of this.cache.keys()) {
          if (topicMatches(filter, topic) && ![...this.subs.keys()].some((f) => topicMatches(f, topic))) this.cache.delete(topic);
        }
        if (this.connected) this.client?.unsubscribe(filter);
      },
    };
  }

  /**
   * Publishes (QoS 1 unless told) and resolves when the broker acknowledged it.
   * @throws Error when not connected, or without an acknowledgement within 5 s
   */
  async publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const c = this.client;
    if (!c || !this.connected) throw new Error(`not connected to the hub (${this.where})`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`publish on ${topic} not acknowledged within ${PUBLISH_TIMEOUT_MS / 1000} s`)), PUBLISH_TIMEOUT_MS);
    });
    try {
      await Promise.race([c.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The retained value of `topic`, which a subscription the caller holds covers: the latest
   * message seen, or — when none came yet — the first within `settleMs` of the grant (a
   * broker sends retained messages right after granting). Empty payloads (cleared) count
   * as none.
   * @returns the message, or undefined when the topic holds nothing
   */
  async retained(topic: string, settleMs = 1000): Promise<Incoming | undefined> {
    const known = this.cache.get(topic);
    if (known) return known.payload.length ? known : undefined;
    const grantedAt = [...this.subs].find(([f]) => topicMatches(f, topic))?.[1].grantedAt;
    if (grantedAt !== undefined && Date.now() - grantedAt >= settleMs) return undefined;
    const m = await this.request({ filters: [topic], match: (x) => (x.topic === topic ? x : undefined), replay: true, timeoutMs: settleMs });
    return m?.payload.length ? m : undefined;
  }

  /**
   * Subscribes `filters`, publishes `publish` once they are granted, and waits for the first
   * message `match` accepts.
   * @returns the answer (possibly an Error the matcher made), or undefined after `timeoutMs`
   * @throws Error when not connected, when the broker refuses a filter, when publishing
   *   fails, or when `signal` aborts
   */
  request<T>(o: RequestOptions<T>): Promise<T | undefined> {
    if (!this.connected) return Promise.reject(new Error(`not connected to the hub (${this.where})`));
    if (o.signal?.aborted) return Promise.reject(new Error('closed'));
    return new Promise<T | undefined>((resolve, reject) => {
      let finished = false;
      const finish = (err: Error | null, value?: T): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        for (const s of holds) s.close();
        if (err) reject(err);
        else resolve(value);
      };
      const listener: Listener = (m) => {
        if (finished) return;
        const answer = o.match(m);
        if (answer !== undefined) finish(null, answer);
      };
      const onAbort = (): void => finish(new Error('closed'));
      const timer = setTimeout(() => finish(null, undefined), o.timeoutMs);
      o.signal?.addEventListener('abort', onAbort);
      const holds = o.filters.map((f) => this.subscribe(f, listener));
      Promise.all(holds.map((h) => h.ready))
        .then(async () => {
          if (o.replay) {
            for (const m of [...this.cache.values()]) if (o.filters.some((f) => topicMatches(f, m.topic))) listener({ ...m, retain: true });
          }
          if (o.publish && !finished) await this.publish(o.publish.topic, o.publish.payload);
        })
        .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    });
  }

  /**
   * Resolves once connected with every subscription granted or refused (tests and flows
   * that must not miss the first message use it).
   * @throws Error after `timeoutMs`
   */
  async settled(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.connected && [...this.subs.values()].every((s) => s.granted.settled))) {
      if (Date.now() > deadline) throw new Error(`vigil-hub: not settled after ${timeoutMs} ms (state ${this.stateValue})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Disconnects for good (the config node closes). */
  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    this.subs.clear();
    this.cache.clear();
    if (c) await c.endAsync(true).catch(() => undefined);
    this.setState('idle');
    this.users.clear();
  }

  // ---- internals ---------------------------------------------------------------------

  private connect(): void {
    const { url, username, password } = this.settings;
    this.setState('connecting');
    const c = mqtt.connect(url, {
      protocolVersion: 4,
      clientId: this.clientId,
      clean: true,
      reconnectPeriod: this.reconnectPeriod,
      // A refused login (revoked key, a hub restarted with new credentials) is retried too.
      reconnectOnConnackError: true,
      // Re-subscribed here on every connect, with our own bookkeeping.
      resubscribe: false,
      connectTimeout: 10_000,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
    });
    this.client = c;
    c.on('connect', () => {
      if (this.client !== c) return;
      // No Nagle: a PUBACK followed by a publish would otherwise wait for the broker's
      // delayed ACK (~40 ms per QoS 1 round trip, as on the hub's bus).
      (c.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.setState('connected');
      for (const s of this.subs.values()) {
        s.grantedAt = undefined;
        if (s.granted.settled) s.granted = deferred();
      }
      if (this.subs.size) this.sendSubscribe([...this.subs.keys()]);
    });
    c.on('reconnect', () => { if (this.client === c) this.setState('connecting'); });
    c.on('close', () => {
      if (this.client !== c || this.stateValue === 'error') return;
      this.setState('disconnected');
    });
    c.on('error', (err) => {
      if (this.client !== c) return;
      this.setState('error', err.message);
    });
    c.on('message', (topic, payload, packet) => this.dispatch({ topic, payload, retain: packet.retain }));
  }

  private sendSubscribe(filters: string[]): void {
    const c = this.client;
    if (!c) return;
    c.subscribe(filters, { qos: 1 }, (err, granted) => {
      for (const f of filters) {
        const s = this.subs.get(f);
        if (!s) continue;
        const g = granted?.find((x) => x.topic === f);
        if (err || !g || g.qos === 128) {
          const e = new Error(`the broker refused the subscription to ${f}${err ? `: ${err.message}` : ''}`);
          this.log.warn(e.message);
          s.granted.reject(e);
        } else {
          s.grantedAt = Date.now();
          s.granted.resolve();
        }
      }
    });
  }

  private dispatch(m: Incoming): void {
    let seen = false;
    for (const [filter, s] of this.subs) {
      if (!topicMatches(filter, m.topic)) continue;
      if (!seen) this.cache.set(m.topic, m);
      seen = true;
      for (const l of [...s.listeners]) {
        try {
          l(m);
        } catch (err) {
          this.log.warn(`message on ${m.topic} dropped: ${(err as Error).message}`);
        }
      }
    }
  }

  private setState(state: HubState, error?: string): void {
    // 'close' follows 'error': keep showing the error until the next connect attempt.
    this.stateValue = state;
    this.lastError = state === 'error' ? error : undefined;
    const status = stateStatus(state, error);
    for (const u of this.users) u.status(status);
  }
}
