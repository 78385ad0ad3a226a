/**
 * The hub: broker (embedded aedes or an external one), store, HTTP API, the services
 * that bridge them to the bus, and the in-process components (camera, detector).
 *
 * `new Hub(config).start()` brings everything up; `stop()` takes it down in reverse.
 * Tests start a Hub with ports 0 and a temp `data_dir`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, resolve, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { Bus } from '../components/protocol/bus.ts';
import { Topics } from '../components/protocol/topics.ts';
import type { Component, ComponentContext } from '../components/protocol/component.ts';
import { CameraComponent } from '../components/camera/camera-component.ts';
import { DetectorComponent } from '../components/detector/detector-component.ts';
import type { VigilConfig } from '../components/protocol/config/schema.ts';
import { EmbeddedBroker } from './broker/broker.ts';
import { BrokerPolicy, INTERNAL_USER } from './broker/policy.ts';
import { openStore } from './store/datasource.ts';
import { CamerasRepo } from './store/cameras-repo.ts';
import { EventsRepo } from './store/events-repo.ts';
import { CameraService } from './services/camera-service.ts';
import { EventStore } from './services/event-store.ts';
import { SystemStatus } from './services/system-status.ts';
import { ComponentWatch } from './services/component-watch.ts';
import { createApp } from './http/app.ts';
import { Supervisor } from './supervisor.ts';
import { AuthService } from './auth/auth-service.ts';
import { loadHubKeys, type HubKeys } from './auth/secrets.ts';
import { hasRole } from './auth/principal.ts';
import { mediaVerdict, principalOf } from './http/auth.ts';
import { RulesEngine, type RulesAccess } from './rules/node-red.ts';
import { Recordings } from './services/recordings.ts';
import { attachLive, type LiveAttachment, type LiveOptions } from './http/live.ts';
import { LiveRegistry } from './live/live-feed.ts';
import { EventFeed } from './services/event-feed.ts';
import { VERSION } from './version.ts';
import { redactUrl } from '../components/protocol/log.ts';

/** Name of the demo camera created when none is configured. */
export const DEMO_CAMERA = 'demo';

export class Hub {
  readonly topics: Topics;
  private broker?: EmbeddedBroker;
  private policy?: BrokerPolicy;
  private ds?: DataSource;
  private http?: Server;
  private bus?: Bus;
  private readonly supervisor: Supervisor;
  private readonly started = Date.now();
  cameras?: CameraService;
  /** Users, sessions, keys, devices, activity (after start). */
  auth?: AuthService;
  private keys?: HubKeys;
  private rules?: RulesEngine;
  private recordings?: Recordings;
  private live?: LiveAttachment;
  /** Absolute recordings root (after start). */
  recordingsRoot = '';
  /** Bound ports after start. */
  httpPort = 0;
  mqttPort = 0;

  constructor(readonly config: VigilConfig, private readonly logger: Logger) {
    this.topics = new Topics(config.mqtt.prefix);
    this.supervisor = new Supervisor(logger);
  }

  /** URL components and clients use to reach the bus. */
  get mqttUrl(): string {
    return this.config.mqtt.url ?? `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  /** Brings the hub up. @throws when the store, broker or HTTP port cannot start (the hub is stopped again). */
  async start(): Promise<void> {
    const { config, logger } = this;
    try {
      const dataDir = resolve(config.data_dir);
      this.ds = await openStore(join(dataDir, 'vigil.db'));
      this.keys = loadHubKeys(dataDir);
      this.auth = new AuthService(this.ds, this.keys, dataDir, config.auth.login_limits, logger.child({ module: 'auth' }));
      if (!config.mqtt.url) {
        this.policy = new BrokerPolicy({ topics: this.topics, allowAnonymous: config.mqtt.allow_anonymous, auth: this.auth, logger: logger.child({ module: 'broker' }) });
        this.broker = new EmbeddedBroker({ host: config.mqtt.host, port: config.mqtt.port, policy: this.policy, logger: logger.child({ module: 'broker' }) });
        await this.broker.start();
        this.mqttPort = this.broker.port;
      }
      this.bus = await this.connectBus('hub', this.topics.hubAvailability());
      const camerasRepo = new CamerasRepo(this.ds, this.keys.box);
      const eventsRepo = new EventsRepo(this.ds);
      const fileRoots = [...config.camera.file_roots, dirname(config.demo.file), join(dataDir, 'media')];
      this.cameras = new CameraService(camerasRepo, this.bus, this.topics, logger.child({ module: 'cameras' }), this.keys.box, fileRoots);
      const feed = new EventFeed(this.bus, this.topics, logger.child({ module: 'events' }));
      const eventStore = new EventStore(eventsRepo, feed, this.bus, this.topics, join(dataDir, 'snapshots'), logger.child({ module: 'events' }));
      const status = new SystemStatus(this.bus, this.topics);
      await status.start();
      await new ComponentWatch(this.bus, this.topics, logger.child({ module: 'components' })).start();
      await eventStore.start();
      await this.seedDemoCamera(camerasRepo);
      await this.cameras.start();

      // Recordings: the index is repaired from disk before any camera writes again.
      this.recordingsRoot = resolve(config.recordings.root ?? join(dataDir, 'recordings'));
      const cams = this.cameras;
      this.recordings = new Recordings({
        ds: this.ds, bus: this.bus, topics: this.topics, logger, events: eventsRepo, root: this.recordingsRoot,
        settings: config.recordings, cameraConfig: (c) => cams.config(c), feed,
      });
      await this.recordings.start();
      await feed.start();
      const rec = this.recordings;

      const auth = this.auth;
      const liveFeeds = new LiveRegistry();
      const liveOptions: LiveOptions = {
        registry: liveFeeds,
        logger: logger.child({ module: 'live' }),
        authorize: async (req, camera) => (cams.config(camera) ? mediaVerdict(auth, req, camera) : 'not_found'),
      };
      const app = createApp({
        live: liveOptions,
        version: VERSION, logger: logger.child({ module: 'http' }), auth: this.auth, cameras: this.cameras, events: eventsRepo, eventStore, status,
        trustedProxies: config.http.trusted_proxies, secureCookies: config.http.secure_cookies,
        recordings: { repo: rec.repo, exports: rec.exports, auth: this.auth, root: this.recordingsRoot, events: eventsRepo, ds: this.ds },
        system: async () => ({
          version: VERSION,
          uptime_s: (Date.now() - this.started) / 1000,
          mqtt: { embedded: !config.mqtt.url, url: config.mqtt.url ? redactUrl(config.mqtt.url) : undefined, port: this.mqttPort || undefined, connected: this.bus?.connected ?? false, clients: this.broker?.clients },
          components: { ...Object.fromEntries([...status.components].map(([k, v]) => [k, v])), ...this.supervisor.status(), events: eventStore.stats, rules: this.rules?.status() ?? { state: 'disabled' } },
          cameras: Object.fromEntries([...status.cameras].map(([k, v]) => [k, { availability: v.availability, motion: v.motion, ...(v.state ?? {}) }])),
        }),
        health: () => (this.bus?.connected ? (this.ds?.isInitialized ? null : 'database closed') : 'not connected to the MQTT broker'),
      });
      // Node-RED's sub-apps are Express 4: its paths go to its own app on the same server.
      this.http = createServer((req, res) => {
        if (this.rules?.handles(req.url)) this.rules.handler(req, res);
        else app(req, res);
      });
      if (this.broker && config.mqtt.websocket) this.broker.attachWebSocket(this.http);
      this.live = attachLive(this.http, liveOptions);
      if (config.rules.enabled) this.rules = await this.makeRulesEngine(dataDir);
      await new Promise<void>((res, rej) => {
        this.http!.once('error', rej);
        this.http!.listen(config.http.port, config.http.host, () => { this.http!.off('error', rej); res(); });
      });
      this.httpPort = (this.http.address() as AddressInfo).port;
      if (this.rules) {
        try {
          await this.rules.start();
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'rules engine failed to start; running without it');
        }
      }
      logger.info({ url: `http://${config.http.host === '0.0.0.0' ? 'localhost' : config.http.host}:${this.httpPort}` }, 'HTTP API listening');

      const recordingsRoot = this.recordingsRoot;
      if (config.camera.enabled) {
        // In-process camera component: its live media goes to the hub's live view.
        await this.startComponent((ctx) => new CameraComponent(ctx, { recordingsRoot, liveSink: (c) => liveFeeds.ensure(c).sink(), liveRelease: (c) => { liveFeeds.delete(c); } }));
      }
      if (config.detector.enabled) {
        await this.startComponent((ctx) => new DetectorComponent(ctx, { workers: config.detector.workers, backend: config.detector.backend, minScore: config.detector.min_score }));
      }
      logger.info({ version: VERSION, mqtt: this.broker ? `embedded :${this.mqttPort}` : redactUrl(config.mqtt.url!) }, 'Vigil hub started');
      await this.auth.prepareSetup();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops the rules engine, components, HTTP, the bus, the broker and the store. Safe to call twice. */
  async stop(): Promise<void> {
    // First: open editor WebSockets would hold http.close(), and its MQTT node waits for the broker.
    await this.rules?.stop().catch((err: Error) => this.logger.error({ err: err.message }, 'rules engine stop failed'));
    this.rules = undefined;
    await this.supervisor.stopAll();
    await this.recordings?.stop();
    this.recordings = undefined;
    this.live?.close();
    this.live = undefined;
    if (this.http) {
      this.http.closeAllConnections();
      await new Promise<void>((r) => this.http!.close(() => r()));
      this.http = undefined;
    }
    await this.bus?.close();
    this.bus = undefined;
    await this.broker?.stop();
    this.broker = undefined;
    if (this.ds?.isInitialized) await this.ds.destroy();
    this.logger.info('Vigil hub stopped');
  }

  /**
   * The embedded Node-RED: editor and admin API for admins only (hub sessions or admin
   * keys), flows on the bus with their own `component` device credential (re-keyed at
   * every start; with an external broker, the hub's credentials).
   */
  private async makeRulesEngine(dataDir: string): Promise<RulesEngine> {
    const { config } = this;
    let mqttCreds = { username: config.mqtt.username, password: config.mqtt.password };
    if (this.policy) {
      const dev = await this.auth!.credentials.createDevice({ id: 'node-red', kind: 'component' });
      mqttCreds = { username: 'node-red', password: dev.password };
    }
    const auth = this.auth!;
    return new RulesEngine({
      server: this.http!,
      userDir: join(dataDir, 'node-red'),
      flowsDir: fileURLToPath(new URL('../flows', import.meta.url)),
      mqtt: { url: this.mqttUrl, ...mqttCreds },
      logger: this.logger.child({ module: 'rules' }),
      authorize: async (req): Promise<RulesAccess> => {
        const p = await principalOf(auth, req);
        return !p ? 'unauthenticated' : hasRole(p, 'admin') ? 'ok' : 'forbidden';
      },
    });
  }

  private async connectBus(role: string, availabilityTopic: string): Promise<Bus> {
    const { mqtt } = this.config;
    const bus = new Bus({
      url: this.mqttUrl,
      clientId: `vigil-${role}-${Math.random().toString(16).slice(2, 8)}`,
      username: this.policy ? INTERNAL_USER : mqtt.username,
      password: this.policy ? this.policy.internalSecret : mqtt.password,
      protocolVersion: mqtt.protocol_version,
      availabilityTopic,
      logger: this.logger.child({ bus: role }),
    });
    await bus.connect();
    return bus;
  }

  private async startComponent(make: (ctx: ComponentContext) => Component): Promise<void> {
    let bus: Bus | undefined;
    try {
      const probe = make({ bus: undefined as never, topics: this.topics, logger: this.logger });
      bus = await this.connectBus(probe.id, this.topics.componentAvailability(probe.id));
      const component = make({ bus, topics: this.topics, logger: this.logger.child({ component: probe.id }), secrets: this.keys?.box });
      const b = bus;
      await this.supervisor.start(component, () => b.close());
    } catch (err) {
      await bus?.close();
      this.logger.error({ err: (err as Error).message }, 'component could not connect to the bus');
    }
  }

  /** With no camera stored and demo `auto` (or `on`), adds the demo camera on real footage. */
  private async seedDemoCamera(repo: CamerasRepo): Promise<void> {
    const { demo } = this.config;
    if (demo.mode === 'off') return;
    if (demo.mode === 'auto' && (await repo.list()).length > 0) return;
    if (await repo.get(DEMO_CAMERA)) return;
    if (!existsSync(demo.file)) {
      this.logger.warn({ file: demo.file }, 'demo footage not found (apt-get install opencv-doc); no demo camera');
      return;
    }
    const { cameraConfig } = await import('../components/protocol/camera-config.ts');
    await repo.save(cameraConfig.parse({
      name: DEMO_CAMERA,
      paths: { detect: pathToFileURL(demo.file).toString() },
      detect: { width: 640, fps: 5 },
      // Parked cars in this footage are small and score low (median 0.38) with CenterNet.
      objects: { track: ['person', 'car'], filters: { car: { min_score: 0.3, threshold: 0.35 } } },
    }));
    this.logger.info({ file: demo.file }, 'no camera configured: added the demo camera (looping footage)');
  }
}
