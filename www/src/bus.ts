/**
 * Live updates: one MQTT 3.1.1 connection over WebSocket to the hub that served the page
 * (`ws(s)://<host>/mqtt`), with the user's name and the session's current access token as
 * password, so the page subscribes with exactly the user's rights (hub/auth/auth-service.ts
 * `fromMqtt`). The token changes on every refresh: the new one is used for the next
 * (re)connect. A refused CONNECT (an expired token) refreshes the session, and mqtt.js
 * reconnects with the new token.
 *
 * Pages call {@link LiveBus.on} with a topic filter and get every matching message until
 * they call the function it returns; the subscription is shared and dropped with the last
 * listener.
 */
import mqtt, { type ISubscriptionMap, type MqttClient } from 'mqtt';
import { topicMatches } from '../../components/protocol/topics.ts';
import { session } from './api.ts';

export { topicMatches };

/** A message handler: the topic and the raw payload (JSON, text or JPEG bytes). */
export type Listener = (topic: string, payload: Uint8Array) => void;

/** The page's MQTT connection state, for the header's indicator. */
export type BusState = 'connecting' | 'online' | 'offline';

class LiveBus extends EventTarget {
  private client: MqttClient | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  state: BusState = 'offline';

  /** Connects as `username` with the session's token (again after a logout/login). */
  connect(username: string): void {
    this.close();
    const token = session.accessToken;
    if (!token) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt`;
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      username,
      password: token,
      clientId: `web-${username.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32)}-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 3_000,
      connectTimeout: 10_000,
      keepalive: 30,
      // mqtt.js's browser default runs timers in a Worker from a blob: URL, which the CSP (script-src 'self') refuses.
      timerVariant: 'native',
    });
    this.client = client;
    this.setState('connecting');
    client.on('connect', () => {
      this.setState('online');
      const filters = [...this.listeners.keys()];
      if (filters.length) client.subscribe(filters, { qos: 0 });
    });
    client.on('offline', () => this.setState('offline'));
    client.on('close', () => { if (this.state !== 'offline') this.setState('offline'); });
    client.on('error', (err: Error & { code?: number }) => {
      // CONNACK 4/5: the token expired or the session ended; a fresh token is used at the next reconnect.
      if (err.code === 4 || err.code === 5) void session.refresh();
    });
    client.on('message', (topic, payload) => {
      for (const [filter, set] of this.listeners) {
        if (!topicMatches(filter, topic)) continue;
        for (const l of set) {
          try { l(topic, payload); } catch (e) { console.warn('live update handler failed', e); }
        }
      }
    });
  }

  private readonly onToken = (): void => {
    if (this.client && session.accessToken) this.client.options.password = session.accessToken;
  };

  constructor() {
    super();
    session.addEventListener('token', this.onToken);
  }

  private setState(s: BusState): void {
    this.state = s;
    this.dispatchEvent(new Event('state'));
  }

  /**
   * Listens to `filter` (QoS 0; retained messages arrive at once).
   * @returns a function that stops listening
   */
  on(filter: string, listener: Listener): () => void {
    let set = this.listeners.get(filter);
    if (!set) {
      set = new Set();
      this.listeners.set(filter, set);
    }
    set.add(listener);
    // Subscribing again to a filter already held makes the broker send its retained messages again, for the new listener
    // (`resubscribe`: mqtt.js otherwise skips a filter it holds, e.g. one whose unsubscribe below is still pending).
    if (this.client?.connected) this.client.subscribe({ [filter]: { qos: 0 }, resubscribe: true } as ISubscriptionMap);
    return () => {
      const s = this.listeners.get(filter);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.listeners.delete(filter);
        // Unsubscribe a moment later, and only if no listener came back: a page change drops the old page's
        // listeners just before the new page adds its own, and an UNSUBSCRIBE sent right before a SUBSCRIBE of the
        // same filter can be handled after it by the broker (aedes handles the packets of one read concurrently),
        // which would leave the new page without the subscription.
        setTimeout(() => { if (!this.listeners.has(filter) && this.client?.connected) this.client.unsubscribe(filter); }, 0);
      }
    };
  }

  /**
   * Publishes a command (QoS 1, not retained) with the user's rights — e.g. `STOP` on
   * `vigil/camera/<cam>/ptz`. Check the user's role first: the broker closes the connection
   * of a client that publishes where its ACL says no (mqtt.js then reconnects).
   * @throws Error `not connected` while the connection is down, or mqtt.js's error
   */
  async publish(topic: string, payload: string): Promise<void> {
    if (!this.client?.connected) throw new Error('not connected to the hub’s MQTT broker');
    await this.client.publishAsync(topic, payload, { qos: 1, retain: false });
  }

  /** Ends the connection (logout). Listeners stay registered for the next connect. */
  close(): void {
    this.client?.end(true);
    this.client = null;
    this.setState('offline');
  }
}

/** The page's one bus connection. */
export const bus = new LiveBus();
