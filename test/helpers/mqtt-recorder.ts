/**
 * An independent MQTT client (mqtt.js) that records every message on its filters, with
 * `waitFor` to await a message matching a predicate.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { defaultMqttCreds } from './hub.ts';

export interface Recorded {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
  /** Arrival, Unix ms. */
  at: number;
}

export class MqttRecorder {
  readonly messages: Recorded[] = [];
  private waiters: Array<{ pred: (m: Recorded) => boolean; resolve: (m: Recorded) => void }> = [];
  private constructor(readonly client: MqttClient) {}

  /** Connects (with the test hub's component credentials for `url` unless `opts` names others) and subscribes `filters` (QoS 1). */
  static async connect(url: string, filters: string[], opts?: { username?: string; password?: string }): Promise<MqttRecorder> {
    const creds = opts ?? defaultMqttCreds.get(url) ?? {};
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 500, ...creds });
    const r = new MqttRecorder(client);
    client.on('message', (topic, payload, packet) => {
      const m: Recorded = { topic, payload, retain: packet.retain, qos: packet.qos, at: Date.now() };
      r.messages.push(m);
      r.waiters = r.waiters.filter((w) => { if (w.pred(m)) { w.resolve(m); return false; } return true; });
    });
    await client.subscribeAsync(filters, { qos: 1 });
    return r;
  }

  /** Resolves with the first message (already recorded or future) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (m: Recorded) => boolean, timeoutMs: number, what = 'message'): Promise<Recorded> {
    const hit = this.messages.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (m: Recorded) => { clearTimeout(timer); resolve(m); };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Messages on exactly `topic`. */
  on(topic: string): Recorded[] { return this.messages.filter((m) => m.topic === topic); }

  /** Parsed `vigil/events` messages. */
  events(topic = 'vigil/events'): Array<{ type: string; before: any; after: any; at: number }> {
    return this.on(topic).map((m) => ({ ...JSON.parse(m.payload.toString()), at: m.at }));
  }

  async close(): Promise<void> { await this.client.endAsync(true); }
}
