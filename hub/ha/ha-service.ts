/**
 * Publishes and removes the hub's Home Assistant discovery configs and keeps Home
 * Assistant's view current across restarts (docs/home-assistant.md).
 *
 * - **Publishing.** The wanted configs ({@link discoveryPlan}) are rebuilt when a camera
 *   config changes on the bus (`vigil/camera/+/config`) and when the wall changes (layouts,
 *   kiosks, displays); what changed is published retained through `Bus.publishState` — so
 *   it is sent again after the hub reconnects to a broker that lost it — and what is no
 *   longer wanted gets an empty retained payload, which makes Home Assistant remove the
 *   entity (a removed camera, zone, display, kiosk, label or layout list).
 * - **Leftovers.** The hub reads its own node's retained configs
 *   (`homeassistant/+/<prefix>/+/config`): one it no longer wants (a camera removed while the
 *   hub was down; discovery turned off) is cleared.
 * - **Home Assistant's birth** (`homeassistant/status` = `online`): every state an entity
 *   reads is retained by its publisher, so Home Assistant gets it when it subscribes. The hub
 *   re-sends what it owns — its availability, its stats, the cameras' feature states — and
 *   only those discovery configs the broker does not hold as wanted (cleared from Home
 *   Assistant's UI, lost), not every config (Zigbee2MQTT's lesson, PR #21500: re-sending
 *   everything on each birth floods both sides).
 */
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { HaContext } from './discovery.ts';
import { discoveryPlan, type HaModel } from './plan.ts';

/** Delay between Home Assistant's birth and the re-sent states, ms (its entities subscribe meanwhile). */
export const BIRTH_DELAY_MS = 2_000;
/** Changes closer than this are published together, ms. */
const SETTLE_MS = 100;

/** What the discovery service reads and where it publishes. */
export interface HaServiceDeps {
  bus: Bus;
  topics: Topics;
  logger: Logger;
  ctx: HaContext;
  /** false: no discovery — every retained config of the hub's node is cleared. */
  enabled: boolean;
  /** The current cameras, layouts, kiosks and displays. */
  model: () => Promise<HaModel>;
  /** Registers a callback for wall changes (layouts, kiosks, displays); returns its removal. */
  onWallChange: (fn: () => void) => () => void;
  /** Re-sends the hub's stats (on Home Assistant's birth). */
  republishStats: () => Promise<void>;
  birthDelayMs?: number;
}

/** The hub's Home Assistant discovery publisher. */
export class HaDiscoveryService {
  /** Topic → payload the hub wants retained. */
  private wanted = new Map<string, string>();
  /** Topic → payload the broker holds under the hub's node, as last seen. */
  private readonly onBroker = new Map<string, string>();
  /** Feature state topic → last payload (the hub's own retained state, re-sent on birth). */
  private readonly featureStates = new Map<string, Buffer>();
  private cameras = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private settle?: NodeJS.Timeout;
  private birth?: NodeJS.Timeout;
  private unlisten?: () => void;
  private stopped = false;
  /** Counters for `/api/system`. */
  readonly stats = { configs: 0, published: 0, removed: 0, births: 0 };

  constructor(private readonly d: HaServiceDeps) {}

  /** Publishes the wanted configs, then follows changes, leftovers and Home Assistant's birth. */
  async start(): Promise<void> {
    const { bus, topics, enabled } = this.d;
    await this.reconcile();
    await bus.subscribe(topics.sub.haDiscoveryOf(topics.prefix), (topic, payload) => this.onConfig(topic, payload.toString()));
    if (!enabled) return;
    this.unlisten = this.d.onWallChange(() => this.schedule());
    await bus.subscribe(topics.sub.cameraConfigs(), () => this.schedule());
    await bus.subscribe(topics.sub.cameraFeatureStates(), (topic, payload) => {
      if (this.stopped) return;
      if (payload.length) this.featureStates.set(topic, payload);
      else this.featureStates.delete(topic);
    });
    await bus.subscribe(topics.haStatus(), (_t, payload) => {
      if (payload.toString().trim().toLowerCase() !== 'online') return;
      clearTimeout(this.birth);
      this.birth = setTimeout(() => { this.onBirth().catch((err: Error) => this.d.logger.warn({ err: err.message }, 'Home Assistant birth: re-publishing failed')); }, this.d.birthDelayMs ?? BIRTH_DELAY_MS);
    });
  }

  /** Stops following changes; the retained configs stay (Home Assistant shows the entities unavailable while the hub is offline). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.settle);
    clearTimeout(this.birth);
    this.unlisten?.();
    await this.running;
  }

  /**
   * Stops, then clears every config it published or saw under the hub's node (discovery
   * turned off, or moved to another prefix by the settings): Home Assistant removes the
   * entities. Nothing is cleared while another reconcile is running: it is awaited first.
   */
  async retire(): Promise<void> {
    await this.stop();
    const topics = new Set([...this.wanted.keys(), ...this.onBroker.keys()]);
    for (const topic of topics) {
      this.d.bus.publishState(topic, '');
      this.stats.removed++;
    }
    this.wanted = new Map();
    this.onBroker.clear();
  }

  /** Rebuilds and publishes soon (changes arriving together are published once). */
  schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.running = this.running.then(() => this.reconcile()).catch((err: Error) => this.d.logger.warn({ err: err.message }, 'Home Assistant discovery not updated'));
    }, SETTLE_MS);
  }

  /** Publishes what changed in the plan and clears what left it. */
  private async reconcile(): Promise<void> {
    const model = this.d.enabled ? await this.d.model() : undefined;
    if (this.stopped) return;
    const next = model
      ? discoveryPlan(this.d.ctx, model, (x) => this.d.logger.warn({ object: x.objectId, component: x.component }, 'Home Assistant entity left out: its unique_id is taken by another'))
      : new Map<string, string>();
    for (const [topic, payload] of next) {
      if (this.wanted.get(topic) === payload) continue;
      this.d.bus.publishState(topic, payload);
      this.stats.published++;
    }
    for (const topic of this.wanted.keys()) {
      if (next.has(topic)) continue;
      this.d.bus.publishState(topic, '');
      this.stats.removed++;
    }
    this.wanted = next;
    this.cameras = new Set(model?.cameras.map((c) => c.name));
    this.stats.configs = next.size;
  }

  /** A config under the hub's node, retained or live: tracked, and cleared when not wanted. */
  private onConfig(topic: string, payload: string): void {
    if (this.stopped) return; // a stopped service's subscription stays on the shared bus client
    if (payload) this.onBroker.set(topic, payload);
    else this.onBroker.delete(topic);
    if (payload && !this.wanted.has(topic)) {
      this.d.logger.info({ topic }, 'clearing a Home Assistant config the hub no longer has');
      this.d.bus.publishState(topic, '');
      this.stats.removed++;
    }
  }

  /** Home Assistant (re)started: re-send the hub's own states and the configs the broker lacks. */
  private async onBirth(): Promise<void> {
    if (this.stopped) return;
    this.stats.births++;
    const { bus, topics } = this.d;
    let configs = 0;
    for (const [topic, payload] of this.wanted) {
      if (this.onBroker.get(topic) === payload) continue;
      bus.publishState(topic, payload);
      configs++;
    }
    await bus.publish(topics.hubAvailability(), 'online', { retain: true, qos: 1 });
    await this.d.republishStats();
    for (const [topic, payload] of this.featureStates) {
      const p = topics.parse(topic);
      if (p?.kind === 'camera.featureState' && this.cameras.has(p.camera)) bus.publishState(topic, payload);
    }
    this.d.logger.info({ configs, states: this.featureStates.size }, 'Home Assistant came online: states re-published');
  }
}
