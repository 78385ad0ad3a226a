/**
 * Live view of cameras run by a camera process elsewhere (`components/main.ts camera` on
 * another machine): the hub asks that process for the camera's live media over the bus,
 * only while someone watches, and feeds what arrives into the same {@link LiveFeed}s —
 * GOP cache, per-viewer backpressure, MSE and MJPEG transports — as the in-process
 * camera component feeds directly.
 *
 * Protocol (`components/protocol/live-wire.ts`, `docs/mqtt.md`): on the first viewer of a
 * camera's medium (`main`, `sub` or `jpeg`) the hub subscribes to
 * `vigil/camera/<cam>/live/<media>` and publishes a lease on `vigil/camera/<cam>/live/demand`
 * (`{client, stream, lease_ms: 6000, init: true}`); it renews the lease every 2 s while
 * viewers remain, and on the last viewer's leave sends `lease_ms: 0` and unsubscribes.
 * A hub that dies stops renewing: the camera stops publishing when the lease runs out
 * (≤ 6 s). The camera answers a new lease with the init segment and its GOP cache, then
 * each fragment, so the first viewer starts at once, as with the in-process source.
 *
 * **Why the bus, not the hub pulling the camera's RTSP URL itself:**
 * - *RTSP connections and ffmpeg processes:* the camera process already runs one ffmpeg
 *   per input URL whose live fMP4 output (fd 4) is there anyway; forwarding it costs no
 *   extra RTSP session (cameras often allow only 2–4) and no second ffmpeg per input on
 *   either side — the project's "one ffmpeg per input" rule holds across machines.
 * - *Reachability and credentials:* a camera process runs elsewhere often because it sits
 *   next to the cameras (another VLAN, a remote site); the hub may not reach the cameras
 *   at all, but it always reaches the broker. Only the camera process opens the sealed
 *   camera passwords and talks RTSP; nothing new needs them.
 * - *Bandwidth:* the video crosses the network once per watched stream (camera process →
 *   broker → hub), only while watched; with the embedded broker that is one hop, as a
 *   direct RTSP pull would be. Every hub viewer is then served from the hub's one feed.
 * - *Latency:* fragments are forwarded as ffmpeg writes them (≈200 ms fragments) and the
 *   broker adds one hop of milliseconds; start-up is one round trip for the lease, then
 *   the camera's GOP cache — comparable to starting an RTSP pull, which must also wait
 *   for a keyframe.
 * - *Costs:* `vigil/#` subscribers receive the media while it flows (as they receive detect
 *   frames); the broker must carry messages of a keyframe fragment's size (hundreds of
 *   KB); messages are QoS 0, so a lost fragment shows as a gap in `seq` and viewers skip to
 *   the next keyframe ({@link LiveFeed.discontinuity}).
 *
 * Received messages are checked per (camera, medium): an init of a run already held is a
 * copy sent for another requester and ignored; a fragment of a run whose init is missing
 * (e.g. the subscription raced the first answer) asks for the init again (`init: true`, at
 * once unless asked in the last second, and with every renewal until it comes); fragments at or below the last `seq` are duplicates and dropped.
 * Data for a feed a local producer feeds ({@link LiveRegistry.isLocal}) is ignored.
 *
 * Camera removal or loss of the sub stream (`vigil/camera/<cam>/config`) closes the
 * remote feeds' viewers, as the in-process component does for its cameras.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import { cameraConfig, liveStreamUrls } from '../../components/protocol/camera-config.ts';
import { decodeLive, type LiveDemand } from '../../components/protocol/live-wire.ts';
import { liveFeedKey, type LiveMedia, type LiveRegistry, type RemoteLive } from './live-feed.ts';

/** Options of {@link BusLiveSource}. */
export interface BusLiveSourceOptions {
  bus: Bus;
  topics: Topics;
  registry: LiveRegistry;
  logger: Logger;
  /** Whether a camera has a distinct sub stream (from the hub's camera configs). */
  hasSub: (camera: string) => boolean;
  /** Lease asked for, ms. Default 6000. */
  leaseMs?: number;
  /** Renewal interval, ms (well under `leaseMs`). Default 2000. */
  renewMs?: number;
  /** `client` of the leases; default `hub-<8 hex>`. */
  clientId?: string;
}

/** One watched (camera, medium). */
interface Watch {
  camera: string;
  media: LiveMedia;
  topic: string;
  viewers: number;
  linger?: NodeJS.Timeout;
  /** Resolves once subscribed and the first demand is out. */
  ready: Promise<void>;
  ended: boolean;
  /** The run whose init the feed holds, and the last fragment `seq` fed. */
  run?: number;
  lastSeq: number;
  lastInitAsk: number;
  /** Fragments of a run whose init the feed lacks arrived: ask for the init (again) until it comes. */
  needInit: boolean;
}

/** Counters of a {@link BusLiveSource}. */
export interface BusLiveStats {
  /** Watched `<camera>/<media>` now. */
  watching: string[];
  messages: number;
  bytes: number;
  /** Messages dropped: undecodable, duplicates, or fragments without their init segment. */
  dropped: number;
  /** Gaps in `seq` (lost fragments). */
  gaps: number;
  demands: number;
}

/** The hub's live source for remote cameras; see the module doc. */
export class BusLiveSource implements RemoteLive {
  readonly clientId: string;
  private readonly watches = new Map<string, Watch>();
  /** Watches still ending (lease 0, unsubscribe, feed reset), by key: a new watch of the key starts after. */
  private readonly ending = new Map<string, Promise<void>>();
  private renewTimer?: NodeJS.Timeout;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private stopped = false;
  private readonly counters = { messages: 0, bytes: 0, dropped: 0, gaps: 0, demands: 0 };

  constructor(private readonly opts: BusLiveSourceOptions) {
    this.clientId = opts.clientId ?? `hub-${randomBytes(4).toString('hex')}`;
    this.leaseMs = opts.leaseMs ?? 6000;
    this.renewMs = opts.renewMs ?? 2000;
  }

  /** Counters, and what is watched now. */
  get stats(): BusLiveStats {
    return { watching: [...this.watches.keys()], ...this.counters };
  }

  /** Follows camera configs (to close remote feeds of removed cameras) and registers with the registry. */
  async start(): Promise<void> {
    const { bus, topics, registry } = this.opts;
    await bus.subscribe(topics.sub.cameraConfigs(), (topic, payload) => this.onConfig(topic, payload));
    registry.setRemote(this);
  }

  /**
   * Ends every lease (`lease_ms: 0`) and unsubscribes the media topics. The config
   * subscription stays (other services share the filter on the hub's bus); it is ignored from now on.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.registry.setRemote(undefined);
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    await Promise.all([...this.watches.values()].map((w) => this.end(w)));
  }

  hasSub(camera: string): boolean {
    return this.opts.hasSub(camera);
  }

  watch(camera: string, media: LiveMedia, lingerMs = 0): () => void {
    if (this.stopped) return () => {};
    const key = `${camera}/${media}`;
    let w = this.watches.get(key);
    if (w) {
      clearTimeout(w.linger);
      w.linger = undefined;
    } else {
      w = this.begin(camera, media);
      this.watches.set(key, w);
    }
    w.viewers++;
    const watch = w;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--watch.viewers > 0 || watch.ended) return;
      if (lingerMs > 0) {
        watch.linger = setTimeout(() => { if (watch.viewers === 0) void this.end(watch); }, lingerMs);
        watch.linger.unref?.();
      } else {
        void this.end(watch);
      }
    };
  }

  private begin(camera: string, media: LiveMedia): Watch {
    const { bus, topics, logger } = this.opts;
    const w: Watch = { camera, media, topic: topics.cameraLive(camera, media), viewers: 0, ready: Promise.resolve(), ended: false, lastSeq: 0, lastInitAsk: 0, needInit: false };
    // After a previous watch of this key has ended: its unsubscribe must not drop this subscription.
    const previous = this.ending.get(`${camera}/${media}`) ?? Promise.resolve();
    w.ready = previous.then(() => bus.subscribe(w.topic, (_t, payload) => this.onMedia(w, payload), 0))
      .then(() => { if (!w.ended) this.demand(w, this.leaseMs, media !== 'jpeg'); })
      .catch((err: Error) => logger.warn({ camera, media, err: err.message }, 'live: could not subscribe to a remote camera'));
    this.renewTimer ??= setInterval(() => this.renew(), this.renewMs);
    this.renewTimer.unref?.();
    logger.debug({ camera, media }, 'live: watching a camera over the bus');
    return w;
  }

  /** Ends a watch: `lease_ms: 0`, unsubscribe, and (fMP4) the feed forgets the run's init and GOP, stale by the next viewer. */
  private end(w: Watch): Promise<void> {
    if (w.ended) return this.ending.get(`${w.camera}/${w.media}`) ?? Promise.resolve();
    w.ended = true;
    clearTimeout(w.linger);
    const key = `${w.camera}/${w.media}`;
    this.watches.delete(key);
    if (!this.watches.size && this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    // Nobody watches this stream now: the feed forgets its init and GOP at once, so a viewer
    // arriving before the next lease's init never starts from stale video.
    if (w.media !== 'jpeg') {
      const feedKey = liveFeedKey(w.camera, w.media);
      if (!this.opts.registry.isLocal(feedKey)) this.opts.registry.get(feedKey)?.reset();
    }
    const done = this.finish(w).finally(() => { if (this.ending.get(key) === done) this.ending.delete(key); });
    this.ending.set(key, done);
    return done;
  }

  private async finish(w: Watch): Promise<void> {
    await w.ready;
    this.demand(w, 0, false);
    await this.opts.bus.unsubscribe(w.topic).catch(() => undefined);
    this.opts.logger.debug({ camera: w.camera, media: w.media }, 'live: stopped watching a camera over the bus');
  }

  private renew(): void {
    for (const w of this.watches.values()) {
      if (w.ended || this.isLocal(w)) continue;
      this.demand(w, this.leaseMs, w.media !== 'jpeg' && (w.run === undefined || w.needInit));
    }
  }

  private isLocal(w: Watch): boolean {
    return this.opts.registry.isLocal(liveFeedKey(w.camera, w.media === 'sub' ? 'sub' : 'main'));
  }

  private demand(w: Watch, leaseMs: number, init: boolean): void {
    const d: LiveDemand = { client: this.clientId, stream: w.media, lease_ms: leaseMs, ...(init ? { init: true } : {}) };
    this.counters.demands++;
    if (init) w.lastInitAsk = Date.now();
    this.opts.bus.send(this.opts.topics.cameraLiveDemand(w.camera), d, { qos: 1 });
  }

  private onMedia(w: Watch, payload: Buffer): void {
    if (w.ended) return;
    let msg: ReturnType<typeof decodeLive>;
    try {
      msg = decodeLive(payload);
    } catch (err) {
      this.counters.dropped++;
      this.opts.logger.debug({ camera: w.camera, media: w.media, err: (err as Error).message }, 'live: bad message from a remote camera; dropped');
      return;
    }
    if (this.isLocal(w)) return;
    const { header: h, body } = msg;
    const { registry } = this.opts;
    this.counters.messages++;
    this.counters.bytes += payload.length;
    if (w.media === 'jpeg') {
      if (h.kind === 'jpeg') registry.ensure(liveFeedKey(w.camera, 'main')).pushJpeg(body, h.ts);
      return;
    }
    const feed = registry.ensure(liveFeedKey(w.camera, w.media));
    if (h.kind === 'init') {
      if (w.run === h.run) return; // the same run's init, re-sent for another requester
      w.run = h.run;
      w.lastSeq = 0;
      w.needInit = false;
      feed.pushFmp4(body); // a new ftyp+moov: viewers start over with it
      return;
    }
    if (h.kind !== 'fragment') { this.counters.dropped++; return; }
    if (w.run !== h.run) {
      // Fragments of a run whose init we lack (subscribed late, or ffmpeg restarted and its init was lost).
      this.counters.dropped++;
      w.needInit = true; // the renewals ask too, in case no further fragment comes
      if (Date.now() - w.lastInitAsk > 1000) this.demand(w, this.leaseMs, true);
      return;
    }
    if (h.seq <= w.lastSeq) { this.counters.dropped++; return; } // a duplicate (a GOP re-sent for another requester)
    if (w.lastSeq > 0 && h.seq !== w.lastSeq + 1) {
      this.counters.gaps++;
      feed.discontinuity();
    }
    w.lastSeq = h.seq;
    feed.pushFmp4(body);
  }

  /** A camera removed or disabled closes its remote feeds; one that lost its sub stream closes the sub feed. */
  private onConfig(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const p = this.opts.topics.parse(topic);
    if (p?.kind !== 'camera.config') return;
    const { registry } = this.opts;
    let keep: Array<'main' | 'sub'> = [];
    if (payload.length) {
      let parsed: ReturnType<typeof cameraConfig.safeParse>;
      try { parsed = cameraConfig.safeParse(JSON.parse(payload.toString('utf8'))); } catch { return; }
      if (!parsed.success) return;
      if (parsed.data.enabled) keep = liveStreamUrls(parsed.data).sub ? ['main', 'sub'] : ['main'];
    }
    for (const stream of ['main', 'sub'] as const) {
      const key = liveFeedKey(p.camera, stream);
      if (keep.includes(stream) || registry.isLocal(key) || !registry.get(key)) continue;
      registry.delete(key);
      this.opts.logger.debug({ camera: p.camera, stream }, 'live: camera gone or changed; its remote feed closed');
    }
  }
}
