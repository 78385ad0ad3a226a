/**
 * The camera component: runs a {@link CameraRunner} for every enabled camera whose
 * retained config appears on `vigil/camera/+/config`, and starts, restarts or stops
 * it as the config changes (an empty payload removes the camera).
 *
 * Live view: each camera's live streams go to the in-process live sink when the hub runs
 * the component ({@link CameraComponentOptions.liveSink}), and to a {@link LivePublisher}
 * that publishes them on the bus while a hub (or any client) holds a lease on
 * `vigil/camera/<cam>/live/demand` — how a hub shows cameras run by a camera process on
 * another machine.
 */
import { isDeepStrictEqual } from 'node:util';
import { cameraConfig, type CameraConfig } from '../protocol/camera-config.ts';
import type { Component, ComponentContext } from '../protocol/component.ts';
import { SecretBox } from '../protocol/secret-box.ts';
import { CameraRunner, type LiveSink, type LiveStream } from './camera-runner.ts';
import { liveStreamUrls } from '../protocol/camera-config.ts';
import { parseLiveDemand } from '../protocol/live-wire.ts';
import { LivePublisher } from './live-publisher.ts';

/** Settings of the camera component. */
export interface CameraComponentOptions {
  /** Only run these cameras (default: all). Lets several camera processes split the load. */
  cameras?: string[];
  /** Id on `vigil/component/<id>/…` (default `camera`). */
  componentId?: string;
  /** Recordings root: cameras with `record.enabled` write segments under it. */
  recordingsRoot?: string;
  /**
   * The in-process live view's sink for one live stream of a camera: `main` gets the main
   * fMP4 and the JPEG frames; `sub` (asked for only when the camera has a distinct sub
   * stream, `paths.detect` ≠ the main live URL) gets the sub fMP4.
   */
  liveSink?: (camera: string, stream: LiveStream) => LiveSink | undefined;
  /**
   * Called when a camera's live stream ends for good, so its viewers are closed: with no
   * `stream` when the camera is removed or disabled (release both streams); with `'sub'`
   * when a config change leaves it without a distinct sub stream.
   */
  liveRelease?: (camera: string, stream?: LiveStream) => void;
}

/** Interval of `vigil/component/<id>/state`, ms. */
const STATE_INTERVAL_MS = 5000;

export class CameraComponent implements Component {
  readonly id = 'camera';
  private readonly runners = new Map<string, CameraRunner>();
  /** Live publishers on the bus, per camera run here (kept across config changes, so leases survive a restart). */
  private readonly publishers = new Map<string, LivePublisher>();
  /** Serializes config changes per camera so a restart never overlaps a stop. */
  private chain: Promise<void> = Promise.resolve();
  private stateTimer?: NodeJS.Timeout;

  constructor(private readonly ctx: ComponentContext, private readonly opts: CameraComponentOptions = {}) {}

  async start(): Promise<void> {
    const { bus, topics } = this.ctx;
    await bus.subscribe(topics.sub.cameraConfigs(), (topic, payload) => {
      const parsed = topics.parse(topic);
      if (parsed?.kind !== 'camera.config') return;
      this.chain = this.chain.then(() => this.apply(parsed.camera, payload)).catch((err: Error) => this.ctx.logger.error({ camera: parsed.camera, err: err.message }, 'camera config failed'));
    });
    // Live view on the bus: leases of hubs (or other clients) watching a camera run here.
    await bus.subscribe(topics.sub.cameraLiveDemands(), (topic, payload) => {
      const parsed = topics.parse(topic);
      if (parsed?.kind !== 'camera.liveDemand') return;
      const publisher = this.publishers.get(parsed.camera);
      if (!publisher) return; // not a camera of this process
      const r = parseLiveDemand(payload);
      if (!r.ok) { bus.warnBadMessage(topic, 'invalid-demand', 'invalid live demand; ignored', { camera: parsed.camera, err: r.error }, this.ctx.logger); return; }
      publisher.demand(r.demand);
    });
    // The detector's count of moving objects keeps frames flowing to it while something moves
    // (stationary objects wait for motion or the periodic frame, as in Frigate).
    await bus.subscribe(topics.sub.cameraActiveCounts('all'), (topic, payload) => {
      const parsed = topics.parse(topic);
      if (parsed?.kind !== 'camera.activeCount' || parsed.label !== 'all') return;
      const runner = this.runners.get(parsed.camera);
      if (runner) runner.activeObjects = Number(payload.toString()) || 0;
    });
    this.stateTimer = setInterval(() => this.publishState(), STATE_INTERVAL_MS);
    this.stateTimer.unref();
  }

  /**
   * `vigil/component/<id>/state`: `{role: 'camera', cameras: [names], …per-camera counters}`. The hub marks
   * these cameras offline when this component's last will fires.
   */
  private publishState(): void {
    this.ctx.bus.publishState(this.ctx.topics.componentState(this.opts.componentId ?? this.id), { role: 'camera', cameras: [...this.runners.keys()], ...this.status() });
  }

  async stop(): Promise<void> {
    clearInterval(this.stateTimer);
    await this.chain;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    for (const p of this.publishers.values()) p.close();
    this.publishers.clear();
  }

  status(): Record<string, unknown> {
    return Object.fromEntries([...this.runners].map(([name, r]) => [name, { ...r.status(), live_bus: this.publishers.get(name)?.stats }]));
  }

  /** The config with its sealed password opened (compared and run in the clear, never logged). */
  private openCredentials(cfg: CameraConfig, log: ComponentContext['logger']): CameraConfig {
    if (!cfg.password || !SecretBox.isSealed(cfg.password)) return cfg;
    if (!this.ctx.secrets) {
      log.error('camera password is sealed but this process has no key: set VIGIL_SECRET_KEY (the hub\'s data/secret.key)');
      return { ...cfg, password: undefined };
    }
    try {
      return { ...cfg, password: this.ctx.secrets.open(cfg.password) };
    } catch {
      log.error('camera password does not open with this process\'s key');
      return { ...cfg, password: undefined };
    }
  }

  private async apply(name: string, payload: Buffer): Promise<void> {
    if (this.opts.cameras && !this.opts.cameras.includes(name)) return;
    const log = this.ctx.logger.child({ camera: name });
    let next: CameraConfig | undefined;
    if (payload.length) {
      let json: unknown;
      // A bad config on the bus is someone else's (the hub validates its own): warned once a minute per camera.
      const topic = this.ctx.topics.cameraConfig(name);
      try { json = JSON.parse(payload.toString('utf8')); } catch (err) {
        this.ctx.bus.warnBadMessage(topic, 'config-not-json', 'invalid camera config on the bus (not JSON); ignored', { err: (err as Error).message }, log);
        return;
      }
      const r = cameraConfig.safeParse(json);
      if (!r.success) { this.ctx.bus.warnBadMessage(topic, 'invalid-config', 'invalid camera config on the bus; ignored', { issues: r.error.issues }, log); return; }
      next = r.data.enabled ? this.openCredentials(r.data, log) : undefined;
    }
    const current = this.runners.get(name);
    if (current && next && isDeepStrictEqual(current.config, next)) return;
    const hasSub = next !== undefined && liveStreamUrls(next).sub !== undefined;
    if (current) {
      // Out of the status first: its `offline` goes out during stop(), and a reader seeing it must not still find the camera listed.
      this.runners.delete(name);
      await current.stop();
      if (!next) {
        this.opts.liveRelease?.(name);
        this.publishers.get(name)?.close();
        this.publishers.delete(name);
      }
      else if (!hasSub && liveStreamUrls(current.config).sub) this.opts.liveRelease?.(name, 'sub');
      log.info(next ? 'camera config changed; restarting' : 'camera removed or disabled; stopped');
    }
    if (next && (next.paths.detect ?? next.paths.live ?? next.paths.record)) {
      let publisher = this.publishers.get(name);
      if (!publisher) {
        publisher = new LivePublisher({ bus: this.ctx.bus, topics: this.ctx.topics, camera: name, logger: log });
        this.publishers.set(name, publisher);
      }
      const runner = new CameraRunner(next, this.ctx.bus, this.ctx.topics, log, {
        recordingsRoot: this.opts.recordingsRoot,
        live: teeLive(this.opts.liveSink?.(name, 'main'), publisher.sink('main')),
        liveSub: hasSub ? teeLive(this.opts.liveSink?.(name, 'sub'), publisher.sink('sub')) : undefined,
      });
      this.runners.set(name, runner);
      runner.start();
      log.info('camera started');
    }
    this.publishState();
  }
}

/** One {@link LiveSink} feeding `a` (the in-process live view, if any) and `b` (the bus publisher). */
function teeLive(a: LiveSink | undefined, b: LiveSink): LiveSink {
  if (!a) return b;
  return {
    fmp4: (chunk) => { a.fmp4(chunk); b.fmp4(chunk); },
    reset: () => { a.reset(); b.reset(); },
    wantsJpeg: () => a.wantsJpeg() || b.wantsJpeg(),
    jpeg: (jpeg, ts) => { a.jpeg(jpeg, ts); b.jpeg(jpeg, ts); },
  };
}
