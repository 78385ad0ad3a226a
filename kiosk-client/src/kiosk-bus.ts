/**
 * The kiosk's MQTT connection: MQTT 3.1.1 over WebSocket to the hub that served the page
 * (`ws(s)://<location.host><path>`, path `/mqtt` from pairing), with the pairing's device
 * credential. Last will `offline` (retained) on `vigil/kiosk/<id>/availability`; `online`
 * (retained) on every connect, so also after every reconnect, followed by the caller's own
 * state (`onConnect`). A broker that refuses the credential (CONNACK 4 or 5: the kiosk was
 * revoked) ends the connection and calls `onRefused` — the page then pairs again.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { Topics } from '../../components/protocol/topics.ts';
import type { PairingResult } from '../../components/protocol/pairing.ts';

/** Callbacks of {@link KioskBus}. */
export interface BusHandlers {
  /** Connected (first time or again): publish retained state now. */
  onConnect: () => void;
  /** Lost the connection (mqtt.js reconnects by itself). */
  onOffline: () => void;
  /** A message on a subscribed topic. */
  onMessage: (topic: string, payload: Uint8Array) => void;
  /** The broker refused the credential; the bus has ended. */
  onRefused: (reason: string) => void;
  /** The broker refused the subscription (a filter outside the kiosk's ACL); `reason` is mqtt.js's message. */
  onDenied: (reason: string) => void;
}

/** CONNACK return codes of MQTT 3.1.1 that mean "this credential is not accepted". */
const REFUSED = new Set([4, 5]);

/** The WebSocket URL of the broker on the page's host. */
export function brokerUrl(path: string, page: Location = location): string {
  return `${page.protocol === 'https:' ? 'wss' : 'ws'}://${page.host}${path.startsWith('/') ? path : `/${path}`}`;
}

/** A connected kiosk's bus client. */
export class KioskBus {
  /** Topic builder under the hub's prefix. */
  readonly topics: Topics;
  private readonly client: MqttClient;
  private ended = false;
  private subscribed = false;

  /**
   * Connects at once and subscribes `filters` (QoS 1; mqtt.js subscribes again after a reconnect).
   * @throws Error when the pairing's prefix is not a valid topic segment
   */
  constructor(private readonly pairing: PairingResult, filters: (t: Topics) => string[], private readonly h: BusHandlers) {
    this.topics = new Topics(pairing.prefix);
    const availability = this.topics.kioskAvailability(pairing.kiosk_id);
    this.client = mqtt.connect(brokerUrl(pairing.mqtt.path), {
      protocolVersion: 4,
      username: pairing.mqtt.username,
      password: pairing.mqtt.password,
      clientId: `kiosk-${pairing.kiosk_id}-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
      keepalive: 30,
      // mqtt.js's default in browsers runs its timers in a Worker made from a blob: URL, which
      // the page's CSP (script-src 'self') refuses; the kiosk is a foreground page, so the
      // window's own timers are not throttled.
      timerVariant: 'native',
      will: { topic: availability, payload: 'offline', qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      this.client.publish(availability, 'online', { qos: 1, retain: true });
      // Once: mqtt.js subscribes again by itself after a reconnect.
      if (!this.subscribed) {
        this.client.subscribe(filters(this.topics), { qos: 1 }, (err) => { if (err) this.h.onDenied(err.message); });
      }
      this.subscribed = true;
      this.h.onConnect();
    });
    this.client.on('offline', () => this.h.onOffline());
    this.client.on('message', (topic, payload) => this.h.onMessage(topic, payload));
    this.client.on('error', (err: Error & { code?: number }) => {
      if (err.code !== undefined && REFUSED.has(err.code) && !this.ended) {
        this.end();
        this.h.onRefused(err.message);
      }
    });
  }

  /** True while connected. */
  get connected(): boolean { return this.client.connected; }

  /** Publishes `value` as JSON, retained, QoS 1 (dropped while offline: state is sent again on connect). */
  publishRetained(topic: string, value: unknown): void {
    if (this.client.connected) this.client.publish(topic, JSON.stringify(value), { qos: 1, retain: true });
  }

  /** Publishes `offline` (retained) when connected, then disconnects for good. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.client.connected) this.client.publish(this.topics.kioskAvailability(this.pairing.kiosk_id), 'offline', { qos: 1, retain: true });
    this.client.end(false);
  }
}
