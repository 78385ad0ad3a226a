/**
 * The hub: broker (embedded aedes or an external one), store, HTTP API, the services
 * that bridge them to the bus, and the in-process components (camera, detector).
 *
 * `new Hub(config, logger).start()` runs {@link Hub.services} in order — a
 * {@link ServiceGraph}, as Zigbee2MQTT's controller starts its extensions — and `stop()`
 * takes them down in reverse. Tests start a Hub with ports 0 and a temp `data_dir`.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { Bus } from '../components/protocol/bus.ts';
import { Topics } from '../components/protocol/topics.ts';
import type { Component, ComponentContext } from '../components/protocol/component.ts';
import { cameraConfig, liveStreamUrls } from '../components/protocol/camera-config.ts';
import type { VigilConfig } from '../components/protocol/config/schema.ts';
import { logTailOf, redactUrl, type LogTail } from '../components/protocol/log.ts';
import { CameraComponent } from '../components/camera/index.ts';
import { DetectorComponent, detectorOptions } from '../components/detector/index.ts';
import { EmbeddedBroker } from './broker/broker.ts';
import { BrokerPolicy, INTERNAL_USER } from './broker/policy.ts';
import { Acl } from './broker/acl.ts';
import { DynsecClient } from './broker/dynsec-client.ts';
import { DynsecSync } from './broker/dynsec-sync.ts';
import { MqttWsRelay } from './broker/ws-relay.ts';
import { describeStore, openStore, storeLocation } from './store/datasource.ts';
import { StoreHealth } from './store/store-health.ts';
import { CamerasRepo } from './store/cameras-repo.ts';
import { EventsRepo } from './store/events-repo.ts';
import { CameraService } from './services/camera-service.ts';
import { EventFeed } from './services/event-feed.ts';
import { EventStore } from './services/event-store.ts';
import { SystemStatus } from './services/system-status.ts';
import { ComponentWatch } from './services/component-watch.ts';
import { Recordings } from './services/recordings.ts';
import { WallService } from './services/wall-service.ts';
import { EventTriggers } from './services/event-triggers.ts';
import { SimpleRules } from './services/simple-rules.ts';
import { FaceService } from './services/faces.ts';
import { HeadService } from './heads/head-service.ts';
import { OnvifService } from './onvif/onvif-service.ts';
import { RulesRepo } from './store/rules-repo.ts';
import { WallRepo } from './store/wall-repo.ts';
import { AuthService } from './auth/auth-service.ts';
import { loadHubKeys, type HubKeys } from './auth/secrets.ts';
import { hasRole } from './auth/principal.ts';
import { createApp } from './http/app.ts';
import { HubHttpServer } from './http/server.ts';
import { mediaVerdict, principalOf } from './http/auth.ts';
import { attachLive, type LiveAttachment, type LiveOptions } from './http/live.ts';
import { LiveRegistry } from './live/live-feed.ts';
import { BusLiveSource } from './live/live-over-bus.ts';
import { RulesEngine, type RulesAccess } from './rules/node-red.ts';
import { ServiceGraph, step, type HubService } from './service.ts';
import { VERSION } from './version.ts';
import { homeAssistantService, type HomeAssistantStep } from './ha/index.ts';
import { MetricsHistory } from './services/metrics-history.ts';
import { SettingsService } from './services/settings.ts';
import { bridgeService } from './bridge/index.ts';

/** Name of the demo camera created when none is configured. */
export const DEMO_CAMERA = 'demo';

/** How the hub was started, beyond its configuration. */
export interface HubOptions {
  /** The YAML file the configuration came from: the settings page writes changes into it (without one, settings are read-only). */
  configFile?: string;
  /** The environment the configuration was loaded with (its `VIGIL_*` overrides lock keys on the settings page); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Sampling interval of the metrics history (`/api/system/metrics`), ms; default 5000. */
  metricsIntervalMs?: number;
  /** The log tail for `/api/system/logs`; default the logger's own ({@link logTailOf}). */
  logTail?: LogTail;
}

export class Hub {
  readonly topics: Topics;
  /** Cameras (after start). */
  cameras?: CameraService;
  /** Users, sessions, keys, devices, activity (after start). */
  auth?: AuthService;
  /** Absolute recordings root. */
  readonly recordingsRoot: string;
  /** Bound ports after start. */
  httpPort = 0;
  mqttPort = 0;

  private graph?: ServiceGraph;
  private readonly started = Date.now();
  private readonly dataDir: string;
  private readonly live = new LiveRegistry();
  /** Live view of cameras run by a camera process elsewhere (leases over the bus). */
  private liveBus?: BusLiveSource;
  // Parts made by the services, in start order.
  private ds!: DataSource;
  private storeHealth?: StoreHealth;
  private keys!: HubKeys;
  private policy?: BrokerPolicy;
  private broker?: EmbeddedBroker;
  /** Mosquitto's dynamic security kept in step (`mqtt.dynamic_security`). */
  private dynsec?: DynsecSync;
  private bus?: Bus;
  private status!: SystemStatus;
  private eventsRepo!: EventsRepo;
  private feed!: EventFeed;
  private eventStore!: EventStore;
  private recordings!: Recordings;
  private wall!: WallService;
  private simpleRules!: SimpleRules;
  private onvif!: OnvifService;
  private faces!: FaceService;
  private heads!: HeadService;
  private http?: HubHttpServer;
  private rules?: RulesEngine;
  private metrics!: MetricsHistory;
  private ha?: HomeAssistantStep;

  constructor(readonly config: VigilConfig, private readonly logger: Logger, private readonly opts: HubOptions = {}) {
    this.topics = new Topics(config.mqtt.prefix, config.homeassistant.discovery_prefix);
    this.dataDir = resolve(config.data_dir);
    this.recordingsRoot = resolve(config.recordings.root ?? join(this.dataDir, 'recordings'));
  }

  /** The store: `store.url` (PostgreSQL), else `<data_dir>/vigil.db`. */
  private get storeWhere(): string {
    return storeLocation({ data_dir: this.dataDir, store: this.config.store });
  }

  /** The dynamic-security sync of an external Mosquitto (`mqtt.dynamic_security`), after start. */
  get dynamicSecurity(): DynsecSync | undefined {
    return this.dynsec;
  }

  /** URL components and clients use to reach the bus. */
  get mqttUrl(): string {
    return this.config.mqtt.url ?? `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  /**
   * Brings the hub up, service by service.
   * @throws when a required service (store, broker, bus, HTTP port…) cannot start; the
   *   started ones are stopped again.
   */
  async start(): Promise<void> {
    this.graph = new ServiceGraph(this.services(), this.logger);
    await this.graph.start();
    const { config } = this;
    this.logger.info({ version: VERSION, mqtt: this.broker ? `embedded :${this.mqttPort}` : redactUrl(config.mqtt.url!), store: describeStore(this.storeWhere) }, 'Vigil hub started');
  }

  /** Stops every started service in reverse order. Safe to call twice, or without start. */
  async stop(): Promise<void> {
    await this.graph?.stop();
    this.logger.info('Vigil hub stopped');
  }

  /**
   * The start-up order. Each step needs only the ones above it: the store and keys; the
   * broker; the hub's bus client; bus readers (status, components, events); cameras (the
   * demo one seeded first); recordings (the index repaired from disk before any camera
   * writes again); the event feed (once every listener is registered); HTTP; then the
   * optional parts — rules and the in-process components — and the first-run setup token.
   */
  private services(): HubService[] {
    const { config, logger, topics } = this;
    const child = (module: string) => logger.child({ module });
    return [
      step('store', async () => {
        this.ds = await openStore(this.storeWhere, { logger: child('store') });
        this.storeHealth = new StoreHealth(this.ds, child('store'));
        this.storeHealth.start();
        this.keys = loadHubKeys(this.dataDir);
        this.auth = new AuthService(this.ds, this.keys, this.dataDir, config.auth.login_limits, child('auth'));
        this.eventsRepo = new EventsRepo(this.ds);
      }, async () => { this.storeHealth?.stop(); if (this.ds.isInitialized) await this.ds.destroy(); }),
      step('broker', async () => {
        if (config.mqtt.url) return;
        // Logins other than the hub's own wait for 'mqtt logins' below (after a restart, what components queued must find the hub subscribed).
        this.policy = new BrokerPolicy({ topics, allowAnonymous: config.mqtt.allow_anonymous, auth: this.auth, logger: child('broker'), holdLogins: true });
        this.broker = new EmbeddedBroker({ host: config.mqtt.host, port: config.mqtt.port, policy: this.policy, logger: child('broker'), maxPacketSize: config.mqtt.max_packet_size });
        await this.broker.start();
        this.mqttPort = this.broker.port;
      }, () => this.broker?.stop()),
      // An external Mosquitto enforcing Vigil's ACL: before the hub's own clients connect (its account gets its role here).
      step('mqtt access', async () => {
        const { mqtt } = config;
        if (!mqtt.url || !mqtt.dynamic_security) return;
        if (!mqtt.username || mqtt.password === undefined) throw new Error('mqtt.dynamic_security needs mqtt.username and mqtt.password: the account of the dynamic security plugin\'s admin (docs/security.md, "External broker")');
        const log = child('dynsec');
        this.dynsec = new DynsecSync({
          client: new DynsecClient({ url: mqtt.url, username: mqtt.username, password: mqtt.password, protocolVersion: mqtt.protocol_version, logger: log }),
          auth: this.auth!, acl: new Acl(topics), topics, hubUsername: mqtt.username, logger: log,
          seedCameras: async () => new CamerasRepo(this.ds, this.keys.box).list(),
        });
        await this.dynsec.start();
      }, () => this.dynsec?.stop()),
      step('bus', async () => { this.bus = await this.connectBus('hub', topics.hubAvailability()); }, () => this.bus?.close()),
      step('system status', async () => {
        this.status = new SystemStatus(this.bus!, topics);
        await this.status.start();
        await new ComponentWatch(this.bus!, topics, child('components')).start();
      }),
      // The last hour of CPU, memory, inference time and camera fps for /api/system/metrics.
      step('metrics', () => {
        this.metrics = new MetricsHistory(this.status, this.opts.metricsIntervalMs);
        this.metrics.start();
      }, () => this.metrics.stop()),
      step('events', async () => {
        this.feed = new EventFeed(this.bus!, topics, child('events'));
        this.eventStore = new EventStore(this.eventsRepo, this.feed, this.bus!, topics, join(this.dataDir, 'snapshots'), child('events'));
        await this.eventStore.start();
      }),
      step('cameras', async () => {
        const repo = new CamerasRepo(this.ds, this.keys.box);
        await this.seedDemoCamera(repo);
        const fileRoots = [...config.camera.file_roots, dirname(config.demo.file), join(this.dataDir, 'media')];
        this.cameras = new CameraService(repo, this.bus!, topics, child('cameras'), this.keys.box, fileRoots);
        await this.cameras.start();
      }),
      // Live view of cameras no in-process component runs: their camera process publishes while watched.
      step('live over the bus', async () => {
        const cams = this.cameras!;
        this.liveBus = new BusLiveSource({
          bus: this.bus!, topics, registry: this.live, logger: child('live'),
          hasSub: (c) => { const cfg = cams.config(c); return cfg !== undefined && liveStreamUrls(cfg).sub !== undefined; },
        });
        await this.liveBus.start();
      }, () => this.liveBus?.stop()),
      step('recordings', async () => {
        const cams = this.cameras!;
        this.recordings = new Recordings({
          ds: this.ds, bus: this.bus!, topics, logger, events: this.eventsRepo, feed: this.feed, root: this.recordingsRoot,
          settings: config.recordings, cameraConfig: (c) => cams.config(c),
        });
        await this.recordings.start();
      }, () => this.recordings.stop()),
      step('wall', async () => {
        const cams = this.cameras!;
        this.wall = new WallService({ repo: new WallRepo(this.ds), bus: this.bus!, topics, auth: this.auth!, camera: (c) => cams.config(c), logger: child('wall') });
        await this.wall.start();
      }, () => this.wall.stop()),
      step('simple rules', async () => {
        const wall = this.wall;
        this.simpleRules = new SimpleRules({
          repo: new RulesRepo(this.ds), checkTarget: (d, l, r) => wall.checkTarget(d, l, r), engine: () => this.rules, logger: child('rules'),
        });
      }),
      // Known faces: the library on the bus for the detectors, unknown faces from them.
      step('faces', async () => {
        this.faces = new FaceService({ bus: this.bus!, topics, logger: child('faces'), dir: join(this.dataDir, 'faces') });
        await this.faces.start();
      }, () => this.faces.stop()),
      // Camera heads: registered as cameras from their retained info, shown in /api/heads and Home Assistant.
      step('heads', async () => {
        this.heads = new HeadService({ bus: this.bus!, topics, cameras: this.cameras!, logger: child('heads') });
        await this.heads.start();
      }, () => this.heads.stop()),
      step('event feed', () => this.feed.start()),
      // Every bus reader above has subscribed: the embedded broker lets other clients log in.
      step('mqtt logins', () => this.policy?.admitClients()),
      // Optional: devices are reached in the background; /api/system shows each link under components.onvif.
      { name: 'onvif', required: false, start: async () => {
        this.onvif = new OnvifService({ bus: this.bus!, topics, cameras: this.cameras!, logger: child('onvif') });
        await this.onvif.start();
      }, stop: () => this.onvif.stop(), status: () => ({ ...this.onvif.status() }) },
      this.httpService(),
      // Stats on vigil/hub/stats and Home Assistant discovery (after HTTP: configuration_url needs the port).
      this.ha = homeAssistantService(() => ({
        config, bus: this.bus!, topics, logger: child('ha'), version: VERSION, httpPort: this.httpPort,
        cameras: () => this.cameras!.list(), wall: this.wall, heads: this.heads, onEvent: (n, fn) => this.feed.on(n, fn),
        components: () => this.status.components, eventsSince: async (after) => (await this.eventsRepo.query({ after, limit: 1, offset: 0 })).total,
      })),
      this.rulesService(),
      ...(config.camera.enabled ? [this.componentService('camera', (ctx) => new CameraComponent(ctx, {
        recordingsRoot: this.recordingsRoot, liveSink: (c, s) => this.live.source(c, s).sink(), liveRelease: (c, s) => { this.live.release(c, s); },
      }))] : []),
      ...(config.detector.enabled ? [this.componentService('detector', (ctx) => new DetectorComponent(ctx, detectorOptions(config.detector)))] : []),
      // Management over MQTT (vigil/bridge/…), once every service it drives runs.
      bridgeService(() => ({
        config, bus: this.bus!, topics, logger: child('bridge'), version: VERSION, policy: this.policy, started: this.started,
        cameras: this.cameras!, wall: this.wall, exports: this.recordings.exports, activity: this.auth!.activity,
        healthProblem: () => this.healthProblem(), components: () => this.status.components, services: () => this.graph?.optionalStatus() ?? {},
      })),
      step('setup', () => this.auth!.prepareSetup()),
    ];
  }

  /** The REST API, pages, live view and MQTT over WebSocket on one listening server. */
  private httpService(): HubService {
    let live: LiveAttachment | undefined;
    let relay: MqttWsRelay | undefined;
    return step('http', async () => {
      const { config, logger } = this;
      const auth = this.auth!, cams = this.cameras!, rec = this.recordings;
      const liveOptions: LiveOptions = {
        registry: this.live,
        logger: logger.child({ module: 'live' }),
        authorize: async (req, camera) => (cams.config(camera) ? mediaVerdict(auth, req, camera) : 'not_found'),
      };
      const app = createApp({
        live: liveOptions, version: VERSION, logger: logger.child({ module: 'http' }),
        auth, cameras: cams, events: this.eventsRepo, eventStore: this.eventStore, status: this.status, wall: this.wall, rules: this.simpleRules, onvif: this.onvif, faces: this.faces, heads: this.heads,
        triggers: new EventTriggers(this.bus!, this.topics, (c) => cams.config(c) !== undefined),
        trustedProxies: config.http.trusted_proxies, secureCookies: config.http.secure_cookies,
        recordings: { repo: rec.repo, exports: rec.exports, auth, root: this.recordingsRoot, events: this.eventsRepo },
        system: async () => this.systemReport(),
        health: () => this.healthProblem(),
        systemRoutes: { metrics: this.metrics, logs: this.opts.logTail ?? logTailOf(logger), settings: this.settingsService() },
      });
      this.http = new HubHttpServer(app);
      if (this.broker && config.mqtt.websocket) this.broker.attachWebSocket(this.http.server);
      // An external Mosquitto with dynamic security: /mqtt relayed to it (session tokens turned into per-connection clients).
      if (this.dynsec && config.mqtt.url && config.mqtt.websocket) {
        relay = new MqttWsRelay({ url: config.mqtt.url, auth: this.auth!, sessions: this.dynsec, logger: logger.child({ module: 'mqtt-relay' }) });
        relay.attach(this.http.server);
      }
      live = attachLive(this.http.server, liveOptions);
      this.httpPort = await this.http.listen(config.http.port, config.http.host);
      logger.info({ url: `http://${config.http.host === '0.0.0.0' ? 'localhost' : config.http.host}:${this.httpPort}` }, 'HTTP API listening');
    }, async () => {
      relay?.close();
      live?.close();
      await this.http?.close();
    });
  }

  /**
   * The embedded Node-RED (optional: the hub runs without it): editor and admin API for
   * admins only (hub sessions or admin keys), flows on the bus with their own `component`
   * device credential (re-keyed at every start; with an external broker, the hub's
   * credentials). Reported as `components.rules` in `/api/system`.
   */
  private rulesService(): HubService {
    return {
      name: 'rules',
      required: false,
      start: async () => {
        if (!this.config.rules.enabled) return;
        const { config } = this;
        let mqttCreds = { username: config.mqtt.username, password: config.mqtt.password };
        if (this.policy) {
          const dev = await this.auth!.credentials.createDevice({ id: 'node-red', kind: 'component' });
          mqttCreds = { username: 'node-red', password: dev.password };
        }
        const auth = this.auth!;
        this.rules = new RulesEngine({
          server: this.http!.server,
          userDir: join(this.dataDir, 'node-red'),
          flowsDir: fileURLToPath(new URL('../flows', import.meta.url)),
          mqtt: { url: this.mqttUrl, ...mqttCreds },
          prefix: config.mqtt.prefix,
          credentialSecret: this.keys.nodeRedSecret,
          nodesDir: [fileURLToPath(new URL('../flows/nodes', import.meta.url))].find((d) => existsSync(join(d, 'package.json'))),
          logger: this.logger.child({ module: 'rules' }),
          authorize: async (req): Promise<RulesAccess> => {
            const p = await principalOf(auth, req);
            return !p ? 'unauthenticated' : hasRole(p, 'admin') ? 'ok' : 'forbidden';
          },
        });
        this.http!.claim(this.rules);
        await this.rules.start();
        await this.simpleRules.sync();
      },
      // Stops before HTTP: open editor WebSockets would hold the server's close.
      stop: async () => { await this.rules?.stop(); },
      status: () => this.rules?.status() ?? { state: 'disabled' },
    };
  }

  /**
   * An in-process component (optional: a failure is logged and reported): its own bus
   * client with the component's availability topic, then the component itself.
   */
  private componentService(id: string, create: (ctx: ComponentContext) => Component): HubService {
    let bus: Bus | undefined;
    let component: Component | undefined;
    const logger = this.logger.child({ component: id });
    return {
      name: id,
      required: false,
      start: async () => {
        bus = await this.connectBus(id, this.topics.componentAvailability(id));
        try {
          component = create({ bus, topics: this.topics, logger, secrets: this.keys.box });
          await component.start();
        } catch (err) {
          await bus.close();
          throw err;
        }
        logger.info('component started');
      },
      stop: async () => {
        await component?.stop();
        await bus?.close();
      },
      status: () => component?.status() ?? {},
    };
  }

  /** The settings page's service: writes `opts.configFile`, applies retention, log level and Home Assistant live. */
  private settingsService(): SettingsService {
    return new SettingsService({
      config: this.config, file: this.opts.configFile, env: this.opts.env ?? process.env, logger: this.logger.child({ module: 'settings' }),
      apply: {
        retention: (limits) => this.recordings.sweeper.update(limits),
        logLevel: (level) => { this.logger.level = level; },
        homeassistant: async () => { await this.ha?.reconfigure(); },
      },
    });
  }

  /** Why the hub is not ready (`/api/health` 503, bridge `health`), or null. */
  private healthProblem(): string | null {
    if (!this.bus?.connected) return 'not connected to the MQTT broker';
    return this.storeHealth ? this.storeHealth.problem() : 'database closed';
  }

  /** The body of `/api/system`. */
  private systemReport(): Record<string, unknown> & { cameras: Record<string, unknown> } {
    const { config, status } = this;
    // Per-camera figures of the detector (frames received, dropped, detected, skipped, inferences), wherever it runs.
    const detection = (status.components.get('detector')?.state?.cameras ?? {}) as Record<string, unknown>;
    const mem = process.memoryUsage();
    return {
      version: VERSION,
      uptime_s: (Date.now() - this.started) / 1000,
      // The hub process (admins only): CPU % of one core over the last metrics interval, memory in bytes.
      process: { cpu_percent: this.metrics?.latest?.cpu_percent ?? null, rss_bytes: mem.rss, heap_bytes: mem.heapUsed },
      mqtt: { embedded: !config.mqtt.url, url: config.mqtt.url ? redactUrl(config.mqtt.url) : undefined, port: this.mqttPort || undefined, connected: this.bus?.connected ?? false, clients: this.broker?.clients },
      components: {
        ...Object.fromEntries(status.components),
        ...this.graph?.optionalStatus(),
        events: this.eventStore.stats,
        rules: { ...(this.rules?.status() ?? { state: 'disabled' }), simple_rules: this.simpleRules.status() },
        ...(this.dynsec ? { dynamic_security: this.dynsec.status() } : {}),
      },
      cameras: Object.fromEntries([...new Set([...status.cameras.keys(), ...Object.keys(detection)])].map((k) => {
        const v = status.cameras.get(k);
        return [k, { availability: v?.availability ?? 'unknown', motion: v?.motion ?? null, ...(v?.state ?? {}), ...(detection[k] ? { detection: detection[k] } : {}) }];
      })),
    };
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
