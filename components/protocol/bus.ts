/**
 * One MQTT client per component: the only way components talk to each other.
 *
 * - MQTT 3.1.1 by default (aedes and Node-RED speak it); `protocolVersion: 5` for brokers that can.
 * - A last will (`offline`, retained) on the component's availability topic.
 * - Retained state published through {@link Bus.publishState} is re-sent after every
 *   reconnect (the broker may have restarted without persistence).
 * - A subscription handler that throws is caught and logged with the topic; a bad
 *   payload never takes the process down.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
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
}

/** Thin wrapper over an mqtt.js client. */
export class Bus {
  private client?: MqttClient;
  private readonly handlers = new Map<string, MessageHandler[]>();
  private readonly retainedState = new Map<string, Buffer | string>();

  constructor(private readonly opts: BusOptions) {}

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
      will: o.availabilityTopic ? { topic: o.availabilityTopic, payload: Buffer.from('offline'), retain: true, qos: 1 } : undefined,
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, { retain: packet.retain, qos: packet.qos }));
    client.on('error', (err) => o.logger.warn({ err: err.message }, 'mqtt client error'));
    let first = true;
    client.on('connect', () => {
      // Small control packets (PUBACK) followed by a publish would otherwise wait for the
      // peer's delayed ACK (Nagle, ~40 ms per QoS 1 round trip): see bench/kiosk.ts.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      if (!first) {
        o.logger.info('mqtt reconnected; re-sending retained state');
        for (const [t, p] of this.retainedState) client.publish(t, p, { retain: true, qos: 1 });
      }
      first = false;
      if (o.availabilityTopic) client.publish(o.availabilityTopic, 'online', { retain: true, qos: 1 });
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

  /** Publishes `offline` on the availability topic (if any) and disconnects cleanly. */
  async close(): Promise<void> {
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
            (r as Promise<void>).catch((err: Error) => this.opts.logger.warn({ topic, err: err.message }, 'message handler failed'));
          }
        } catch (err) {
          this.opts.logger.warn({ topic, err: (err as Error).message }, 'message handler failed');
        }
      }
    }
  }
}
