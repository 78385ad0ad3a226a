/**
 * The head on the Vigil bus (MQTT 3.1.1, through the shared `Bus`):
 *
 * - `vigil/head/<id>/availability` `online`, retained, with `offline` as the last will;
 * - `vigil/head/<id>/info` (retained `HeadInfo`): name, model, version, variant, the RTSP URL
 *   of its video and the catalogue of the keys its MQTT role may read, with Home Assistant
 *   hints — the hub registers the head as a camera and publishes HA discovery from it;
 * - `vigil/head/<id>/state/<key>` (retained JSON) for every key the MQTT role may read, at
 *   start and on every change;
 * - `vigil/head/<id>/state/<key>/set` (JSON value; a bare word like `auto` is taken as a
 *   string): written through the store as `{kind: 'mqtt', role}` — the broker's ACL decides
 *   who may publish there, the head's permissions what that role may change. A refused write
 *   answers on `vigil/head/<id>/response` `{key, code, reason}` and changes nothing.
 *
 * Every published state survives a broker restart (the `Bus` re-sends retained state).
 */
import { Bus } from '../../components/protocol/bus.ts';
import type { HeadInfo, HeadSetRefusal } from '../../components/protocol/head-info.ts';
import type { Logger } from '../../components/protocol/log.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { StateStore } from '../state/store.ts';
import type { Principal, Role } from '../state/types.ts';

/** Options of {@link MqttApi}. */
export interface MqttApiOptions {
  store: StateStore;
  topics: Topics;
  /** The head's id (`vigil/head/<id>/…`). */
  id: string;
  /** Broker URL, e.g. `mqtt://hub:1883`. */
  url: string;
  username?: string;
  password?: string;
  /** The role MQTT writes run as (default `operator`). */
  role?: Role;
  /** What `info` says besides the keys (the stream URL may change: see {@link MqttApi.setInfo}). */
  info: Omit<HeadInfo, 'keys' | 'id'>;
  logger: Logger;
}

/** The head's MQTT API. */
export class MqttApi {
  private bus?: Bus;
  private unlisten?: () => void;
  private info: Omit<HeadInfo, 'keys' | 'id'>;
  private readonly principal: Principal;

  constructor(private readonly o: MqttApiOptions) {
    this.info = o.info;
    this.principal = { kind: 'mqtt', role: o.role ?? 'operator' };
  }

  /**
   * Connects, announces the head and its state, and takes writes.
   * @throws Error when the broker cannot be reached or refuses the credentials
   */
  async start(): Promise<void> {
    const { topics, id, store } = this.o;
    const bus = new Bus({
      url: this.o.url, clientId: `vigil-head-${id}`, username: this.o.username, password: this.o.password,
      availabilityTopic: topics.headAvailability(id), logger: this.o.logger,
    });
    await bus.connect();
    this.bus = bus;
    this.publishInfo();
    for (const key of store.keys()) if (store.canRead(this.principal, key)) bus.publishState(topics.headState(id, key), JSON.stringify(store.get(key)));
    this.unlisten = store.onChange((c) => {
      if (store.canRead(this.principal, c.key)) bus.publishState(topics.headState(id, c.key), JSON.stringify(c.value));
    });
    await bus.subscribe(topics.sub.headStateSets(id), (topic, payload) => this.onSet(topic, payload));
  }

  /** Replaces the announced info (e.g. the stream URL once the video runs) and re-publishes it. */
  setInfo(info: Partial<Omit<HeadInfo, 'keys' | 'id'>>): void {
    this.info = { ...this.info, ...info };
    if (this.bus) this.publishInfo();
  }

  /** Stops taking writes and disconnects (the broker keeps the retained state; availability goes `offline`). */
  async stop(): Promise<void> {
    this.unlisten?.();
    const bus = this.bus;
    this.bus = undefined;
    if (bus) {
      bus.send(this.o.topics.headAvailability(this.o.id), 'offline', { retain: true, qos: 1 });
      await bus.close();
    }
  }

  /** The `info` payload: the keys the MQTT role may read, and whether it may write them. */
  headInfo(): HeadInfo {
    const { store } = this.o;
    const keys = store.keys().filter((k) => store.canRead(this.principal, k)).map((k) => {
      const spec = store.spec(k)!;
      return { key: k, description: spec.description, writable: store.canWrite(this.principal, k), ...(spec.ha ? { ha: spec.ha } : {}) };
    });
    return { id: this.o.id, ...this.info, keys };
  }

  private publishInfo(): void {
    this.bus!.publishState(this.o.topics.headInfo(this.o.id), JSON.stringify(this.headInfo()));
  }

  private async onSet(topic: string, payload: Buffer): Promise<void> {
    const parsed = this.o.topics.parse(topic);
    if (parsed?.kind !== 'head.stateSet') return;
    const text = payload.toString('utf8').trim();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Home Assistant selects and texts send bare words: take them as strings.
      if (!/^[\w .:/+-]{1,256}$/.test(text)) return this.refuse({ key: parsed.key, code: 'bad_payload', reason: 'the payload is neither JSON nor a plain word' });
      value = text;
    }
    try {
      const r = await this.o.store.set(parsed.key, value, this.principal);
      if (!r.ok) this.refuse({ key: parsed.key, code: r.code, reason: r.reason });
    } catch (err) {
      this.refuse({ key: parsed.key, code: 'rejected', reason: (err as Error).message });
    }
  }

  private refuse(r: HeadSetRefusal): void {
    this.o.logger.info({ key: r.key, code: r.code, reason: r.reason }, 'MQTT state write refused');
    this.bus?.send(this.o.topics.headResponse(this.o.id), r, { qos: 1 });
  }
}
