/**
 * One MQTT client per component: the only way components talk to each other.
 *
 * - MQTT 3.1.1 by default (aedes and Node-RED speak it); `protocolVersion: 5` for brokers that can.
 * - A last will (`offline`, retained) on the component's availability topic.
 * - Retained state published through {@link Bus.publishState} is re-sent after every
 *   reconnect (the broker may have restarted without persistence).
 * - While disconnected, QoS 1 messages wait (mqtt.js keeps them until a broker acknowledges
 *   them, and re-sends them after reconnecting); QoS 0 messages are dropped: they are frames,
 *   snapshots and live media, where only the newest counts — queueing them grew memory for as
 *   long as the broker was away and replayed stale frames when it came back.
 * - A subscription handler that throws is caught and logged with the topic; a bad
 *   payload never takes the process down.
 * - Warnings about bad messages received ({@link Bus.warnBadMessage}, and a handler that
 *   threw) are rate-limited: one line per (topic, reason) a minute, then the count.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { RateLimitedLog, type WarnLogger } from './rate-limited-log.ts';
import { topicMatches } from './topics.ts';

/** A handler for messages on one subscription filter. May be async; errors are caught. */
export type MessageHandler = (topic: string, payload: Buffer, packet: { retain: boolean; qos: 0 | 1 | 2 }) => void | Promise<void>;

export interface BusOptions {
  /** Broker URL: `mqtt://host:port`, `ws://host:port/mqtt`, `mqtts://…`. */
  url: string;
  /** Client id; default `vigil-<role>-<random>`. */
  clientId?: string;
  username?: string;
  password?: string;
  /** Topic of the retained `online`/`offline` availability with the last will. */
  availabilityTopic?: string;
  /** MQTT protocol version: 4 = 3.1.1 (default), 5. */
  protocolVersion?: 4 | 5;
  logger: Logger;
  /**
   * Rate limit of {@link Bus.warnBadMessage}: the window, ms (default 60 000), and the most
   * (topic, reason) pairs tracked at once (default {@link BAD_MESSAGE_MAX_KEYS}; past it,
   * new topics count together under topic `*`).
   */
  badMessages?: { windowMs?: number; maxKeys?: number };
}

/**
 * Default number of (topic, reason) pairs whose bad-message warnings a bus client tracks
 * at once: a few per camera, display and head of a large site. A flood on random topics
 * beyond it costs one line per reason and window.
 */
export const BAD_MESSAGE_MAX_KEYS = 500;

/** Thin wrapper over an mqtt.js client. */
export class Bus {
  private client?: MqttClient;
  private readonly handlers = new Map<string, MessageHandler[]>();
  private readonly retainedState = new Map<string, Buffer | string>();
  private readonly reconnectListeners: Array<() => void> = [];
  private readonly badMessages: RateLimitedLog;
  /** Connection errors (refused or failed reconnects), one line per kind a minute. */
  private readonly connectionErrors: RateLimitedLog;

  constructor(private readonly opts: BusOptions) {
    this.connectionErrors = new RateLimitedLog({ logger: opts.logger, keyField: 'url', windowMs: opts.badMessages?.windowMs });
    this.badMessages = new RateLimitedLog({ logger: opts.logger, keyField: 'topic', windowMs: opts.badMessages?.windowMs, maxKeys: opts.badMessages?.maxKeys ?? BAD_MESSAGE_MAX_KEYS });
  }

  /** Connects; resolves on CONNACK. Rejects with the broker's error (e.g. bad credentials) within 10 s. */
  async connect(): Promise<void> {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId ?? `vigil-${Math.random().toString(16).slice(2, 10)}`,
      username: o.username,
      password: o.password,
      protocolVersion: o.protocolVersion ?? 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      clean: true,
      queueQoSZero: false,
      // A broker that refuses a reconnect (Mosquitto restarted before its dynamic security
      // was loaded, a credential being re-synced) is tried again each `reconnectPeriod`:
      // mqtt.js otherwise stops for good after one refused CONNACK. The first connection's
      // refusal still rejects `connect()` and ends the client (below).
      reconnectOnConnackError: true,
      will: o.availabilityTopic ? { topic: o.availabilityTopic, payload: Buffer.from('offline'), retain: true, qos: 1 } : undefined,
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, { retain: packet.retain, qos: packet.qos }));
    // Once a minute per kind of error, then the count: a refused reconnect repeats every second.
    client.on('error', (err) => this.connectionErrors.warn(o.url, (err as { code?: unknown }).code !== undefined ? `code-${String((err as { code?: unknown }).code)}` : 'error', { err: err.message }, 'mqtt client error'));
    let first = true;
    client.on('connect', () => {
      // Small control packets (PUBACK) followed by a publish would otherwise wait for the
      // peer's delayed ACK (Nagle, ~40 ms per QoS 1 round trip): see bench/kiosk.ts.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      if (!first) {
        o.logger.info('mqtt reconnected; re-sending retained state');
        for (const [t, p] of this.retainedState) client.publish(t, p, { retain: true, qos: 1 });
      }
      const again = !first;
      first = false;
      if (o.availabilityTopic) client.publish(o.availabilityTopic, 'online', { retain: true, qos: 1 });
      if (again) {
        for (const fn of this.reconnectListeners) {
          try { fn(); } catch (err) { o.logger.warn({ err: (err as Error).message }, 'reconnect listener failed'); }
        }
      }
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { client.end(true); reject(new Error(`MQTT connect to ${o.url} timed out`)); }, 10_000);
      // Only the first connection's outcome: a socket error after it (the broker went away)
      // must leave the client reconnecting, not end it.
      const failed = (err: Error): void => { clearTimeout(timer); client.off('connect', connected); client.end(true); reject(new Error(`MQTT connect to ${o.url} failed: ${err.message}`)); };
      const connected = (): void => { clearTimeout(timer); client.off('error', failed); resolve(); };
      client.once('connect', connected);
      client.once('error', failed);
    });
  }

  /** True while connected. */
  get connected(): boolean { return this.client?.connected ?? false; }

  /**
   * Calls `listener` after every reconnect (not after the first connection), once the
   * retained state and the availability have been re-sent; a listener that throws is logged.
   */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /**
   * Bytes written to the connection but not yet sent (the socket's `writableLength`): a
   * publisher of bulky QoS 0 data (live video) skips data while this grows, rather than
   * letting it pile up in memory behind a slow link.
   */
  get queuedBytes(): number {
    return (this.client?.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
  }

  /** Subscribes `filter` (wildcards allowed) with `handler`. QoS 1 by default. */
  async subscribe(filter: string, handler: MessageHandler, qos: 0 | 1 = 1): Promise<void> {
    const list = this.handlers.get(filter) ?? [];
    list.push(handler);
    this.handlers.set(filter, list);
    await this.requireClient().subscribeAsync(filter, { qos });
  }

  /** Drops every handler of `filter` and unsubscribes. */
  async unsubscribe(filter: string): Promise<void> {
    this.handlers.delete(filter);
    await this.requireClient().unsubscribeAsync(filter);
  }

  /** Publishes a payload (Buffer, string, or an object as JSON). Resolves once sent (QoS 0) or acknowledged (QoS 1). */
  async publish(topic: string, payload: Buffer | string | object, opts: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    const body = Buffer.isBuffer(payload) || typeof payload === 'string' ? payload : JSON.stringify(payload);
    await this.requireClient().publishAsync(topic, body, { retain: opts.retain ?? false, qos: opts.qos ?? 0 });
  }

  /** Publishes without waiting (hot paths: frames, counts). Errors are logged. */
  send(topic: string, payload: Buffer | string | object, opts: { retain?: boolean; qos?: 0 | 1 } = {}): void {
    this.publish(topic, payload, opts).catch((err: Error) => this.opts.logger.debug({ topic, err: err.message }, 'publish failed'));
  }

  /**
   * Publishes retained state (QoS 1) and remembers it, so it is published again after a reconnect.
   * An empty payload clears the retained message and forgets it.
   */
  publishState(topic: string, payload: Buffer | string | object): void {
    const body = Buffer.isBuffer(payload) || typeof payload === 'string' ? payload : JSON.stringify(payload);
    if (body.length === 0) this.retainedState.delete(topic);
    else this.retainedState.set(topic, body);
    this.send(topic, body, { retain: true, qos: 1 });
  }

  /**
   * Logs (warn) that a message received on `topic` was refused or could not be used: the
   * first one of a (topic, reason) at once, repeats within the window only counted and
   * logged as one line with `suppressed: n` when it ends (`RateLimitedLog`). Every service
   * and component of this bus client shares the count, so a flood of bad messages costs a
   * line per topic and reason a minute, not one per message. Answers on the bus (error
   * responses) are the caller's and are not limited.
   * @param topic the topic the message came on (the line's `topic`; it names the camera, display …)
   * @param reason a short fixed word (`invalid-event`, `set-refused` …), the line's `reason`
   * @param msg the log message
   * @param fields context (`err` …) of this message
   * @param logger the caller's logger (its `module` binding); default the bus's
   * @returns true when logged, false when only counted
   */
  warnBadMessage(topic: string, reason: string, msg: string, fields: Record<string, unknown> = {}, logger?: WarnLogger): boolean {
    return this.badMessages.warn(topic, reason, fields, msg, logger);
  }

  /** Publishes `offline` on the availability topic (if any) and disconnects cleanly. */
  async close(): Promise<void> {
    this.badMessages.close();
    this.connectionErrors.close();
    const c = this.client;
    if (!c) return;
    if (this.opts.availabilityTopic && c.connected) {
      await c.publishAsync(this.opts.availabilityTopic, 'offline', { retain: true, qos: 1 }).catch(() => undefined);
    }
    await c.endAsync().catch(() => undefined);
    this.client = undefined;
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('bus is not connected');
    return this.client;
  }

  private dispatch(topic: string, payload: Buffer, packet: { retain: boolean; qos: 0 | 1 | 2 }): void {
    for (const [filter, handlers] of this.handlers) {
      if (!topicMatches(filter, topic)) continue;
      for (const h of handlers) {
        try {
          const r = h(topic, payload, packet);
          if (r && typeof (r as Promise<void>).catch === 'function') {
            (r as Promise<void>).catch((err: Error) => this.warnBadMessage(topic, 'handler-failed', 'message handler failed', { err: err.message }));
          }
        } catch (err) {
          this.warnBadMessage(topic, 'handler-failed', 'message handler failed', { err: (err as Error).message });
        }
      }
    }
  }
}
