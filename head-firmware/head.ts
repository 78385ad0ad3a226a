/**
 * The camera head daemon's lifecycle (the C Pro seed's `initState` order and `shutdownApp`):
 *
 * Start-up, in order:
 * 1. factory configuration — the variant's profile (`variants.ts`);
 * 2. state — the state database, the store, every module the variant enables (observers on
 *    the drivers), then the persisted values;
 * 3. users — the user database (the first admin on first start);
 * 4. camera and video — the RTSP server, the camera through ffmpeg (its status mirrored into
 *    `camera.status`), the recordings database, the storage guard and the recorder that
 *    `recording.active` drives;
 * 5. servers — HTTP REST and the WebSocket state API;
 * 6. the bus — MQTT state, `…/set`, and the head's `info` (from which the hub registers it).
 *
 * Shutdown (SIGTERM, SIGINT, restart, factory reset), in order: stop accepting (MQTT, WebSocket,
 * HTTP), finish the recording (a complete MP4), close the streams (camera, RTSP), flush the
 * state and the recordings database, stop the drivers (the camera). Each step is bounded and a
 * failing one does not stop the rest.
 */
import { hostname } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../components/protocol/log.ts';
import { Topics } from '../components/protocol/topics.ts';
import { MqttApi } from './api/mqtt-api.ts';
import { createHttpApi } from './api/http-api.ts';
import { attachWsApi, type WsApi } from './api/ws-api.ts';
import { HeadAuth } from './api/auth.ts';
import type { HeadConfig } from './config.ts';
import { createSimulatedDrivers, type SimulatedDrivers } from './drivers/simulated.ts';
import type { Drivers, StorageReading, StreamSettings as DriverStream, UserSummary } from './drivers/types.ts';
import { declareAll, FACTORY_RESET_KEEP, type DeclaredState } from './modules/index.ts';
import { MetadataDb } from './recordings/metadata-db.ts';
import { StorageGuard } from './recordings/storage-guard.ts';
import { StateDb } from './state/state-db.ts';
import { StateStore } from './state/store.ts';
import { UserDb } from './users/user-db.ts';
import { CameraSource, type StreamSettings } from './video/camera-source.ts';
import { Recorder, recoverPartialRecordings } from './video/recorder.ts';
import { HeadRtspServer } from './video/rtsp-server.ts';
import { z } from 'zod';

/** Firmware version reported in `info` and `system.version`. */
export const HEAD_VERSION = '0.1.0';
/** Free bytes below which the storage is full (recording stops). */
const MIN_FREE_BYTES = 256 * 1024 * 1024;

/** Why the head stops. */
export type StopReason = 'signal' | 'restart' | 'factory_reset' | 'error';

/** Options of {@link Head}. */
export interface HeadOptions {
  config: HeadConfig;
  logger: Logger;
  /** Called once the head has stopped because of a restart or factory reset (main re-executes itself). */
  onRestart?: () => void;
}

/** The running head. */
export class Head {
  /** The observable state (after {@link start}). */
  store!: StateStore;
  private stateDb?: StateDb;
  private drivers?: SimulatedDrivers & Drivers;
  private declared?: DeclaredState;
  private users?: UserDb;
  private rtsp?: HeadRtspServer;
  private camera?: CameraSource;
  private meta?: MetadataDb;
  private guard?: StorageGuard;
  private recorder?: Recorder;
  private http?: Server;
  private ws?: WsApi;
  private mqtt?: MqttApi;
  private stopping?: Promise<void>;
  private storageFeed?: (r: StorageReading) => void;
  private readonly log: Logger;

  constructor(private readonly o: HeadOptions) {
    this.log = o.logger;
  }

  /** The HTTP port (after start). */
  get httpPort(): number { return (this.http?.address() as AddressInfo | null)?.port ?? 0; }
  /** The RTSP URL the hub pulls. */
  get streamUrl(): string | undefined { return this.rtsp ? this.rtsp.url('main', this.advertiseHost()) : undefined; }

  /**
   * Starts every part in order; a part that fails stops what already started and rethrows.
   * @throws Error from the failing part (bad state database, port in use, broker unreachable …)
   */
  async start(): Promise<void> {
    const { config, logger } = this.o;
    try {
      // 2. state
      this.stateDb = new StateDb(config.data_dir);
      const store = new StateStore({ db: this.stateDb, logger: logger.child({ module: 'state' }) });
      this.store = store;
      // 3. users first: the users module reads them through a driver.
      this.users = new UserDb({ dataDir: config.data_dir, logger: logger.child({ module: 'users' }) });
      const admin = await this.users.ensureAdmin(config.admin_password);
      if (admin.created && admin.password) logger.warn({ user: 'admin', password: admin.password }, 'first start: created the head\'s admin user with this password (shown once)');
      const sim = createSimulatedDrivers({ version: HEAD_VERSION });
      const users = this.users;
      const summary = (): UserSummary[] => users.list().map((u) => ({ name: u.name, role: u.role }));
      sim.users.list = summary;
      sim.users.watch = (cb) => users.onChange(() => cb(summary()));
      const setStream = sim.camera.setStream.bind(sim.camera);
      sim.camera.setStream = async (s: DriverStream) => {
        await setStream(s);
        await this.camera?.restart({ stream: toSourceStream(s) });
      };
      // Storage readings come from the storage guard (statfs of the data directory), not the simulation.
      const storageWatchers = new Set<(r: StorageReading) => void>();
      sim.storage.watch = (cb) => { storageWatchers.add(cb); return () => { storageWatchers.delete(cb); }; };
      this.storageFeed = (r) => { for (const cb of storageWatchers) cb(r); };
      this.drivers = sim;
      this.declared = declareAll(store, sim, {
        restart: () => { setTimeout(() => void this.shutdown('restart'), 200); },
        factoryReset: async () => {
          await store.factoryReset(FACTORY_RESET_KEEP);
          setTimeout(() => void this.shutdown('factory_reset'), 200);
        },
      }, { variant: config.variant, ...(config.overrides ? { overrides: config.overrides } : {}) });
      this.declareCameraStatus(store);
      await store.load();

      // 4. camera and video
      this.rtsp = new HeadRtspServer({ host: config.rtsp.host, port: config.rtsp.port, logger: logger.child({ module: 'rtsp' }) });
      await this.rtsp.start();
      const stream = toSourceStream({
        resolution: String(store.get('stream.resolution') ?? '640x480'), fps: Number(store.get('stream.fps') ?? 10), bitrate_kbps: Number(store.get('stream.bitrate_kbps') ?? 1000),
      });
      this.camera = new CameraSource({
        input: config.camera, stream, publishUrl: this.rtsp.url('main'), logger: logger.child({ module: 'camera' }),
        onStatus: (s) => { void store.set('camera.status', s.status, { kind: 'system' }); void store.set('camera.reason', s.reason, { kind: 'system' }); },
      });
      this.camera.start();
      this.meta = new MetadataDb(config.data_dir);
      // A recording cut by a crash (kill -9, power) is filed now: its fragmented MP4 is complete up to the last fragment.
      for (const f of await recoverPartialRecordings(config.data_dir)) {
        this.meta.addRecording({ path: f.path, started_at: f.started_at, ended_at: f.ended_at, bytes: f.bytes, duration_s: f.duration_s });
        logger.warn({ path: f.path, duration_s: f.duration_s }, 'recovered a recording cut short');
      }
      let guard: StorageGuard | undefined;
      const recorder = new Recorder({
        sourceUrl: this.rtsp.url('main'), dataDir: config.data_dir, logger: logger.child({ module: 'recorder' }),
        gate: { ensureSpace: () => guard!.ensureSpace() },
        onFile: (f) => { this.meta?.addRecording({ path: f.path, started_at: f.started_at, ended_at: f.ended_at, bytes: f.bytes, duration_s: f.duration_s }); },
      });
      this.recorder = recorder;
      guard = this.guard = new StorageGuard({
        dataDir: config.data_dir, db: this.meta, minFreeBytes: MIN_FREE_BYTES,
        deleteOldestWhenFull: Boolean(store.get('storage.delete_oldest_when_full')), recorder,
        onState: (r) => {
          this.storageFeed?.({ total_bytes: r.total_bytes, free_bytes: r.free_bytes });
          // Notify: the log, and `storage.state` on every API (Home Assistant shows it).
          if (r.state !== 'ok' || r.deleted.length || r.stopped_recording) logger.warn({ state: r.state, free_bytes: r.free_bytes, deleted: r.deleted.length, stopped_recording: r.stopped_recording }, 'recording storage');
        },
        logger: logger.child({ module: 'storage' }),
      });
      this.guard.start();
      const first = await this.guard.check();
      this.storageFeed?.({ total_bytes: first.total_bytes, free_bytes: first.free_bytes });
      store.observe('recording.active', async (on) => {
        if (on) await recorder.start();
        else await recorder.stop();
      });

      // 5. servers
      const auth = new HeadAuth({ users: this.users, logger: logger.child({ module: 'auth' }) });
      const app = createHttpApi({ store, users: this.users, auth, logger: logger.child({ module: 'http' }), info: () => this.info() });
      this.http = createServer(app);
      this.ws = attachWsApi(this.http, { store, auth, logger: logger.child({ module: 'ws' }) });
      await new Promise<void>((resolve, reject) => {
        this.http!.once('error', reject);
        this.http!.listen(config.http.port, config.http.host, () => { this.http!.off('error', reject); resolve(); });
      });

      // 6. the bus
      if (config.mqtt.url) {
        this.mqtt = new MqttApi({
          store, topics: new Topics(config.mqtt.prefix), id: config.id, url: config.mqtt.url, username: config.mqtt.username, password: config.mqtt.password,
          role: config.mqtt.role, info: this.info(), logger: logger.child({ module: 'mqtt' }),
        });
        await this.mqtt.start();
      }
      logger.info({ id: config.id, http: this.httpPort, rtsp: this.streamUrl, variant: this.declared.variant.variant }, 'camera head running');
    } catch (err) {
      await this.shutdown('error');
      throw err;
    }
  }

  /** What the head announces (`vigil/head/<id>/info` without the keys, and `GET /api/info`). */
  info() {
    const { config } = this.o;
    const url = this.streamUrl;
    return {
      name: config.name, model: config.model, version: HEAD_VERSION, variant: config.variant,
      ...(url ? { stream: { main: url } } : {}),
      ...(this.http?.listening ? { http: `http://${this.advertiseHost()}:${this.httpPort}/` } : {}),
    };
  }

  /**
   * Stops everything in the seed's order (idempotent; concurrent calls share one shutdown).
   * A restart or factory reset calls `onRestart` at the end.
   */
  shutdown(reason: StopReason): Promise<void> {
    this.stopping ??= (async () => {
      const log = this.log;
      log.info({ reason }, 'camera head stopping');
      const step = async (name: string, fn: () => unknown, ms = 15_000) => {
        try {
          await Promise.race([Promise.resolve().then(fn), new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms).unref())]);
        } catch (err) {
          log.warn({ step: name, err: (err as Error).message }, 'shutdown step failed');
        }
      };
      // 1. stop accepting
      await step('mqtt', () => this.mqtt?.stop());
      await step('websocket', () => this.ws?.close());
      await step('http', () => new Promise<void>((resolve) => { if (!this.http?.listening) return resolve(); this.http.close(() => resolve()); this.http.closeAllConnections(); }));
      // 2. finish the recording
      await step('recording', async () => { if (this.recorder?.isRecording()) await this.recorder.stop(); }, 20_000);
      this.guard?.stop();
      // 3. close the streams
      await step('camera', () => this.camera?.stop());
      await step('rtsp', () => this.rtsp?.stop());
      // 4. flush state and metadata
      await step('state', async () => { if (this.store) { await this.store.idle(); this.store.close(); } });
      await step('recordings db', () => this.meta?.close());
      await step('users', () => this.users?.close());
      // 5. drivers
      await step('drivers', () => { this.declared?.stop(); this.drivers?.stop(); });
      log.info({ reason }, 'camera head stopped');
      if (reason === 'restart' || reason === 'factory_reset') this.o.onRestart?.();
    })();
    return this.stopping;
  }

  private advertiseHost(): string {
    const { rtsp } = this.o.config;
    if (rtsp.advertise_host) return rtsp.advertise_host;
    return ['0.0.0.0', '::'].includes(rtsp.host) ? hostname() : rtsp.host;
  }

  /** `camera.status` / `camera.reason`: the camera pipeline's state (read-only, camera_r). */
  private declareCameraStatus(store: StateStore): void {
    store.declare({
      key: 'camera.status', schema: z.enum(['starting', 'streaming', 'unavailable']), default: 'starting',
      read: ['camera_r'], write: [], persist: false, description: 'Camera pipeline: starting, streaming or unavailable (retrying)',
      ha: { component: 'sensor', entity_category: 'diagnostic' },
    });
    store.declare({
      key: 'camera.reason', schema: z.string().max(500).nullable(), default: null,
      read: ['camera_r'], write: [], persist: false, description: 'Why the camera is unavailable',
    });
  }
}

/** `WxH` + fps + bitrate (the state's stream settings) → the camera source's settings. */
function toSourceStream(s: DriverStream): StreamSettings {
  const [w, h] = s.resolution.split('x').map(Number);
  return { width: w ?? 640, height: h ?? 480, fps: s.fps, bitrate_kbps: s.bitrate_kbps };
}
