/**
 * Live view fan-out: one ffmpeg per camera input, any number of viewers.
 *
 * The camera runner pushes the raw fragmented-MP4 bytes ffmpeg writes (`-c copy`, no
 * re-encode) into {@link LiveFeed.pushFmp4} and JPEG frames into {@link LiveFeed.pushJpeg};
 * transports (WebSocket MSE, HTTP MJPEG) register {@link ViewerSink}s. Every viewer gets
 * the same Buffer objects (no per-viewer copy), and every viewer has its own
 * backpressure: a viewer that does not keep up loses frames, never the others. A camera
 * has a main feed and, when it has a distinct sub stream, a sub feed ({@link LiveRegistry}).
 *
 * MSE policy (per viewer):
 * - a new viewer gets the init segment (as soon as there is one), then at once the
 *   **GOP cache** — the fragments since the most recent keyframe, so it can start
 *   decoding without waiting up to one GOP — and from then on every new fragment. With
 *   no usable cache (none yet, or dropped, see below) it gets nothing until the next
 *   fragment that starts with a keyframe. The client thus starts up to one GOP behind
 *   the live edge and should seek to the end of its buffer (see `hub/http/live.ts`);
 * - the GOP cache holds at most {@link LiveFeedOptions.gopCacheBytes} (4 MiB) and
 *   {@link LiveFeedOptions.gopCacheMs} (10 000 ms) of video: a GOP growing past either
 *   bound drops the cache until the next keyframe (new viewers then wait for it, as
 *   without a cache). It is also dropped on a new init segment and on {@link LiveFeed.reset};
 *   a viewer whose queue is already above the high-water mark when it joins does not
 *   get it;
 * - when its {@link ViewerSink.buffered} exceeds the high-water mark — the lower of
 *   {@link LiveFeedOptions.maxBufferedBytes} (2 MiB) and the bytes of
 *   {@link LiveFeedOptions.maxLagMs} (2000 ms) of this stream at its measured bitrate,
 *   but at least {@link LiveFeedOptions.minHighWaterBytes} (512 KiB) — it is marked
 *   lagging and skips fragments; it resumes only with a keyframe fragment, once its
 *   buffer has drained to {@link LiveFeedOptions.lowWaterBytes} (64 KiB) or less. A
 *   P-frame fragment is never sent after a gap;
 * - a viewer that stays lagging without draining for
 *   {@link LiveFeedOptions.stallTimeoutMs} (30 s) is closed.
 *
 * MJPEG policy: a viewer whose buffer is empty gets each new JPEG at once; otherwise only
 * the newest JPEG is kept for it (older ones dropped) and sent when it drains.
 */
import { Fmp4Splitter, type Fmp4FragmentUnit, type Fmp4Unit } from '../../components/protocol/fmp4.ts';

/** One viewer's connection, as seen by a {@link LiveFeed}. Implemented by the transports. */
export interface ViewerSink {
  /** Queues bytes to the viewer. Must not throw; the buffer is shared, do not modify it. */
  send(buf: Buffer): void;
  /** Bytes queued but not yet written to the network (e.g. ws `bufferedAmount`, `res.writableLength`). */
  buffered(): number;
  /** Ends the connection (feed deleted, viewer stalled). The transport then calls the remover. */
  close(): void;
  /**
   * MSE only, optional: called instead of `send` for an init segment, with the MSE codec
   * string (e.g. to send a text message first). A second call means the stream restarted:
   * the client must start over (new SourceBuffer).
   */
  sendInit?(init: Buffer, codec: string | undefined): void;
  /** Optional: registers a listener called when the buffer has drained (MJPEG sends the newest frame then). */
  onDrain?(listener: () => void): void;
}

/** Tuning of a {@link LiveFeed}; every field optional. */
export interface LiveFeedOptions {
  /** Upper bound of the MSE high-water mark, bytes. Default 2 MiB. */
  maxBufferedBytes?: number;
  /** Lag allowed in a viewer's queue, ms of video at the measured bitrate (caps the high-water mark). Default 2000. */
  maxLagMs?: number;
  /** Floor of the MSE high-water mark, bytes (a keyframe fragment must fit). Default 512 KiB. */
  minHighWaterBytes?: number;
  /** A lagging MSE viewer resumes (at a keyframe) once `buffered()` is at or below this, bytes. Default 64 KiB. */
  lowWaterBytes?: number;
  /** A viewer lagging (MSE) or holding a pending frame (MJPEG) this long without draining is closed, ms. Default 30 000. */
  stallTimeoutMs?: number;
  /** Largest GOP cache, bytes: a GOP growing past it is not cached (until the next keyframe). 0 turns the cache off. Default 4 MiB. */
  gopCacheBytes?: number;
  /** Longest GOP cache, ms of video (fragment durations, else arrival times): a longer GOP is not cached. Default 10 000. */
  gopCacheMs?: number;
  /** `Date.now` substitute (tests). */
  now?: () => number;
}

/** Per-viewer state of an MSE viewer. */
type MseState = 'wait-init' | 'wait-key' | 'live' | 'lagging';

interface MseViewer {
  sink: ViewerSink;
  state: MseState;
  /** When it became lagging (ms), for the stall timeout. */
  since: number;
  sent: number;
  dropped: number;
}

interface JpegViewer {
  sink: ViewerSink;
  pending: Buffer | undefined;
  /** When the oldest undelivered frame was held back (ms); 0 when none is pending. */
  since: number;
  sent: number;
  dropped: number;
}

/** Counters of a {@link LiveFeed} since its creation. */
export interface LiveFeedStats {
  /** fMP4 bytes pushed. */
  bytesIn: number;
  /** Media fragments received. */
  fragments: number;
  /** Media fragments received that start with a keyframe. */
  keyframes: number;
  /** Init segments received (ffmpeg starts). */
  inits: number;
  /** JPEG frames pushed. */
  jpegs: number;
  /** Fragments skipped for MSE viewers (waiting for a keyframe or lagging), summed over viewers. */
  mseDropped: number;
  /** JPEG frames replaced before an MJPEG viewer could take them, summed over viewers. */
  jpegDropped: number;
  /** Viewers closed for stalling. */
  stalledClosed: number;
  /** Current MSE high-water mark, bytes. */
  highWaterBytes: number;
  /** Measured stream bitrate, bytes per ms (0 until measured). */
  bytesPerMs: number;
  /** MSE viewers that started from the GOP cache (instead of waiting for a keyframe). */
  gopCacheHits: number;
  /** GOPs dropped from the cache for exceeding its byte or time bound. */
  gopCacheOverflows: number;
  /** Fragments in the GOP cache now (0: no cache; else the first is a keyframe). */
  gopCachedFragments: number;
  /** Bytes in the GOP cache now. */
  gopCachedBytes: number;
}

/**
 * The live fan-out of one camera stream: fMP4 for MSE viewers, JPEG for MJPEG viewers
 * (JPEGs only reach a camera's main feed). All methods are synchronous and never throw on
 * viewer errors.
 */
export class LiveFeed {
  private readonly splitter = new Fmp4Splitter();
  private init: Buffer | undefined;
  private codecValue: string | undefined;
  private readonly mse = new Set<MseViewer>();
  private readonly mjpeg = new Set<JpegViewer>();
  private latest: { jpeg: Buffer; ts: number } | undefined;
  private readonly opts: Required<Omit<LiveFeedOptions, 'now'>>;
  private readonly now: () => number;
  private bytesPerMsValue = 0;
  private lastFragmentMs: number | undefined;
  private closed = false;
  private jpegWantedUntil = 0;
  private jpegWaiters: Array<(f: { jpeg: Buffer; ts: number } | undefined) => void> = [];
  /** The GOP cache: fragments since the newest keyframe (empty, or starting with a keyframe fragment). */
  private gop: Buffer[] = [];
  private gopBytes = 0;
  private gopMs = 0;
  private readonly counters = { bytesIn: 0, fragments: 0, keyframes: 0, inits: 0, jpegs: 0, mseDropped: 0, jpegDropped: 0, stalledClosed: 0, gopCacheHits: 0, gopCacheOverflows: 0 };

  /**
   * @param camera registry key: the camera name for its main stream, `<cam>@sub` for its sub stream (see {@link liveFeedKey}).
   * @param options see {@link LiveFeedOptions}.
   */
  constructor(readonly camera: string, options: LiveFeedOptions = {}) {
    this.opts = {
      maxBufferedBytes: options.maxBufferedBytes ?? 2 * 1024 * 1024,
      maxLagMs: options.maxLagMs ?? 2000,
      minHighWaterBytes: options.minHighWaterBytes ?? 512 * 1024,
      lowWaterBytes: options.lowWaterBytes ?? 64 * 1024,
      stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
      gopCacheBytes: options.gopCacheBytes ?? 4 * 1024 * 1024,
      gopCacheMs: options.gopCacheMs ?? 10_000,
    };
    this.now = options.now ?? Date.now;
  }

  /** MSE codec string of the current stream (e.g. `avc1.42c01f`), undefined before the first init segment. */
  get codec(): string | undefined { return this.codecValue; }

  /** The current init segment (`ftyp`+`moov`), undefined before ffmpeg wrote one. */
  get initSegment(): Buffer | undefined { return this.init; }

  /** Number of connected viewers per transport. */
  get viewers(): { mse: number; mjpeg: number } { return { mse: this.mse.size, mjpeg: this.mjpeg.size }; }

  /** The newest JPEG and its capture time (ms since epoch), if any. */
  get latestJpeg(): { jpeg: Buffer; ts: number } | undefined { return this.latest; }

  /**
   * True while someone wants JPEGs: an MJPEG viewer is connected, or a snapshot was asked
   * for ({@link nextJpeg}) in the last 10 s. A camera may skip JPEG encoding otherwise.
   */
  wantsJpeg(): boolean {
    return this.mjpeg.size > 0 || this.jpegWaiters.length > 0 || this.now() < this.jpegWantedUntil;
  }

  /**
   * The next JPEG pushed, or undefined after `timeoutMs`; also marks JPEGs as wanted
   * for 10 s (see {@link wantsJpeg}).
   * @param timeoutMs how long to wait, ms.
   */
  nextJpeg(timeoutMs: number): Promise<{ jpeg: Buffer; ts: number } | undefined> {
    this.jpegWantedUntil = this.now() + 10_000;
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.jpegWaiters = this.jpegWaiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      timer.unref?.();
      const waiter = (f: { jpeg: Buffer; ts: number } | undefined) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.jpegWaiters.push(waiter);
    });
  }

  /**
   * This feed in the shape of the camera runner's live sink (`fmp4`, `reset`,
   * `wantsJpeg`, `jpeg`), bound to it.
   */
  sink(): { fmp4(chunk: Buffer): void; reset(): void; wantsJpeg(): boolean; jpeg(jpeg: Buffer, ts: number): void } {
    return {
      fmp4: (chunk) => this.pushFmp4(chunk),
      reset: () => this.reset(),
      wantsJpeg: () => this.wantsJpeg(),
      jpeg: (jpeg, ts) => this.pushJpeg(jpeg, ts),
    };
  }

  /** Counters and current thresholds. */
  get stats(): LiveFeedStats {
    return { ...this.counters, highWaterBytes: this.highWater(), bytesPerMs: this.bytesPerMsValue, gopCachedFragments: this.gop.length, gopCachedBytes: this.gopBytes };
  }

  /** The MSE high-water mark now, bytes (see the module doc). */
  highWater(): number {
    const byLag = this.bytesPerMsValue > 0 ? this.bytesPerMsValue * this.opts.maxLagMs : Infinity;
    return Math.max(this.opts.minHighWaterBytes, Math.min(this.opts.maxBufferedBytes, byLag));
  }

  /**
   * Bytes ffmpeg wrote to its fMP4 output (any chunking). Complete units are fanned out
   * to MSE viewers at once.
   */
  pushFmp4(chunk: Buffer): void {
    if (this.closed) return;
    this.counters.bytesIn += chunk.length;
    let units: Fmp4Unit[];
    try {
      units = this.splitter.push(chunk);
    } catch {
      this.splitter.reset();
      return;
    }
    for (const u of units) {
      if (u.kind === 'init') this.onInit(u.data, u.codec);
      else this.onFragment(u);
    }
  }

  /**
   * A new JPEG frame (shared with every MJPEG viewer; do not modify it afterwards).
   * @param jpeg the encoded frame.
   * @param ts capture time, ms since epoch.
   */
  pushJpeg(jpeg: Buffer, ts: number): void {
    if (this.closed) return;
    this.counters.jpegs++;
    this.latest = { jpeg, ts };
    if (this.jpegWaiters.length) {
      const waiters = this.jpegWaiters;
      this.jpegWaiters = [];
      for (const w of waiters) w(this.latest);
    }
    const now = this.now();
    for (const v of this.mjpeg) {
      if (v.pending) {
        v.dropped++;
        this.counters.jpegDropped++;
      }
      if (safeBuffered(v.sink) === 0) {
        v.pending = undefined;
        v.since = 0;
        this.sendJpeg(v, jpeg);
      } else {
        if (!v.since) v.since = now;
        v.pending = jpeg;
        if (now - v.since > this.opts.stallTimeoutMs) this.stall(v.sink, () => this.mjpeg.delete(v));
      }
    }
  }

  /**
   * Registers an MSE viewer: it gets the init segment now (if known) and the GOP cache
   * (the fragments since the newest keyframe, first one a keyframe) right after it, then
   * every new fragment; without a cache, fragments from the next keyframe on. Everything
   * is queued synchronously, before this returns.
   * @returns the remover: call it when the connection ends (idempotent).
   */
  addMseViewer(sink: ViewerSink): () => void {
    const v: MseViewer = { sink, state: 'wait-init', since: 0, sent: 0, dropped: 0 };
    if (this.closed) {
      safe(() => sink.close());
      return () => {};
    }
    this.mse.add(v);
    if (this.init) {
      this.sendInit(v, this.init);
      if (this.gop.length && safeBuffered(sink) <= this.highWater()) {
        v.state = 'live';
        this.counters.gopCacheHits++;
        for (const data of this.gop) {
          v.sent++;
          safe(() => sink.send(data));
        }
      }
    }
    return () => { this.mse.delete(v); };
  }

  /**
   * Registers an MJPEG viewer: it gets the newest JPEG now (if any), then each new one it
   * is ready for. The sink's `onDrain`, when present, lets it get a held-back frame as
   * soon as it drains instead of at the next frame.
   * @returns the remover: call it when the connection ends (idempotent).
   */
  addJpegViewer(sink: ViewerSink): () => void {
    const v: JpegViewer = { sink, pending: undefined, since: 0, sent: 0, dropped: 0 };
    if (this.closed) {
      safe(() => sink.close());
      return () => {};
    }
    this.mjpeg.add(v);
    sink.onDrain?.(() => {
      if (!this.mjpeg.has(v) || !v.pending || safeBuffered(v.sink) > 0) return;
      const jpeg = v.pending;
      v.pending = undefined;
      v.since = 0;
      this.sendJpeg(v, jpeg);
    });
    if (this.latest) this.sendJpeg(v, this.latest.jpeg);
    return () => { this.mjpeg.delete(v); };
  }

  /**
   * ffmpeg restarted (or stopped): drops the partial stream and the init segment. Viewers
   * stay connected and wait for the next init segment, which they get through
   * `sendInit` so clients can start over.
   */
  reset(): void {
    this.splitter.reset();
    this.init = undefined;
    this.lastFragmentMs = undefined;
    this.dropGop();
    for (const v of this.mse) v.state = 'wait-init';
  }

  /**
   * Fragments were lost upstream (a gap in a bus stream's sequence): the GOP cache is
   * dropped and every live viewer waits for the next keyframe, so no P-frame fragment is
   * decoded after the gap. Lagging viewers stay lagging (they resume at a keyframe anyway).
   */
  discontinuity(): void {
    this.dropGop();
    for (const v of this.mse) if (v.state === 'live') v.state = 'wait-key';
  }

  /** Closes every viewer and ignores later pushes (camera deleted). */
  close(): void {
    this.closed = true;
    this.reset();
    for (const v of [...this.mse]) safe(() => v.sink.close());
    for (const v of [...this.mjpeg]) safe(() => v.sink.close());
    this.mse.clear();
    this.mjpeg.clear();
    const waiters = this.jpegWaiters;
    this.jpegWaiters = [];
    for (const w of waiters) w(undefined);
  }

  private onInit(init: Buffer, codec: string | undefined): void {
    this.counters.inits++;
    this.init = init;
    this.codecValue = codec;
    this.lastFragmentMs = undefined;
    this.dropGop();
    for (const v of this.mse) this.sendInit(v, init);
  }

  private sendInit(v: MseViewer, init: Buffer): void {
    v.state = 'wait-key';
    safe(() => (v.sink.sendInit ? v.sink.sendInit(init, this.codecValue) : v.sink.send(init)));
  }

  private onFragment(f: Fmp4FragmentUnit): void {
    this.counters.fragments++;
    if (f.keyframe) this.counters.keyframes++;
    this.cacheGop(f, this.measureRate(f));
    const high = this.highWater();
    const low = Math.min(this.opts.lowWaterBytes, high);
    const now = this.now();
    for (const v of this.mse) {
      if (v.state === 'wait-init') continue;
      const queued = safeBuffered(v.sink);
      if (v.state === 'live' && queued > high) {
        v.state = 'lagging';
        v.since = now;
      }
      if (v.state === 'lagging') {
        if (queued <= low && f.keyframe) v.state = 'live';
        else {
          if (queued > low && now - v.since > this.opts.stallTimeoutMs) this.stall(v.sink, () => this.mse.delete(v));
          else if (queued <= low) v.since = now; // drained: only waiting for a keyframe now
          v.dropped++;
          this.counters.mseDropped++;
          continue;
        }
      } else if (v.state === 'wait-key') {
        if (!f.keyframe || queued > high) {
          v.dropped++;
          this.counters.mseDropped++;
          continue;
        }
        v.state = 'live';
      }
      v.sent++;
      safe(() => v.sink.send(f.data));
    }
  }

  /**
   * Exponential average of the stream's bytes per ms of video (from fragment durations, else arrival times).
   * @returns the duration taken for `f`, ms (0 when unknown).
   */
  private measureRate(f: Fmp4FragmentUnit): number {
    const now = this.now();
    let ms = f.durationMs;
    if (ms === undefined || !(ms > 0)) ms = this.lastFragmentMs !== undefined ? now - this.lastFragmentMs : undefined;
    this.lastFragmentMs = now;
    if (ms === undefined || !(ms > 0)) return 0;
    const rate = f.data.length / ms;
    // ~2 s of fragments at 5 fragments/s, so one keyframe fragment does not swing it.
    this.bytesPerMsValue = this.bytesPerMsValue ? this.bytesPerMsValue * 0.9 + rate * 0.1 : rate;
    return ms;
  }

  /** Adds `f` (of `ms` ms) to the GOP cache: a keyframe starts it over, a P-frame fragment extends it; past a bound, it is dropped. */
  private cacheGop(f: Fmp4FragmentUnit, ms: number): void {
    if (f.keyframe) this.dropGop();
    else if (!this.gop.length) return; // no keyframe cached: nothing a viewer could start from
    this.gop.push(f.data);
    this.gopBytes += f.data.length;
    this.gopMs += ms;
    if (this.gopBytes > this.opts.gopCacheBytes || this.gopMs > this.opts.gopCacheMs) {
      if (this.opts.gopCacheBytes > 0) this.counters.gopCacheOverflows++;
      this.dropGop();
    }
  }

  private dropGop(): void {
    this.gop = [];
    this.gopBytes = 0;
    this.gopMs = 0;
  }

  private sendJpeg(v: JpegViewer, jpeg: Buffer): void {
    v.sent++;
    safe(() => v.sink.send(jpeg));
  }

  private stall(sink: ViewerSink, remove: () => void): void {
    this.counters.stalledClosed++;
    remove();
    safe(() => sink.close());
  }
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // a viewer's transport failing must not affect the feed or other viewers
  }
}

function safeBuffered(sink: ViewerSink): number {
  try {
    return sink.buffered();
  } catch {
    return Infinity;
  }
}

/**
 * A camera's live streams: `main` (its `live` path slot, else `detect`, else `record`)
 * and `sub` (its `detect` slot when that is a distinct RTSP URL: the smaller stream, for
 * small cells of a camera wall).
 */
export type LiveStream = 'main' | 'sub';

/** Every {@link LiveStream}, in order. */
export const LIVE_STREAMS: readonly LiveStream[] = ['main', 'sub'];

/**
 * The {@link LiveRegistry} key of a camera's stream: `main` is the camera name itself,
 * `sub` is `<camera>@sub` (camera names are `[a-z0-9_-]` slugs, so this never collides).
 */
export function liveFeedKey(camera: string, stream: LiveStream): string {
  return stream === 'main' ? camera : `${camera}@${stream}`;
}

/**
 * What a live medium of a camera is to a viewer: its `main` or `sub` fMP4 stream, or the
 * `jpeg` frames (main stream) of MJPEG and `live.jpg`.
 */
export type LiveMedia = LiveStream | 'jpeg';

/**
 * A source of live media for cameras that no local producer feeds (a camera process on
 * another machine): the hub's bus bridge (`live-over-bus.ts`).
 */
export interface RemoteLive {
  /** Whether `camera` has a distinct sub stream (from its config), so `sub` viewers get a sub feed. */
  hasSub(camera: string): boolean;
  /**
   * A viewer of `camera`'s `media` arrived: feed its feed while anyone watches.
   * @param lingerMs keep feeding this long after the last viewer left (e.g. `live.jpg` polls)
   * @returns the release, called when the viewer leaves (idempotent)
   */
  watch(camera: string, media: LiveMedia, lingerMs?: number): () => void;
}

/**
 * The hub's live feeds (one registry per hub, owned by its live service), keyed by
 * {@link liveFeedKey}: the main stream by camera name, the sub stream by `<cam>@sub`.
 * Camera runners get their feeds through {@link source} when their ffmpeg starts;
 * transports ask {@link forViewer} per viewer and {@link watch} while it stays; deleting a
 * camera {@link release}s both.
 *
 * A feed is **local** once a producer in this process (the in-process camera component)
 * asked for it through {@link source}, until it is released. Feeds of other cameras are
 * fed by the {@link RemoteLive} set with {@link setRemote}, only while watched. A sub feed
 * exists once a local producer made one, or — for a camera the remote source says has a
 * distinct sub stream — when a viewer asks for `sub`; otherwise `sub` falls back to `main`.
 */
export class LiveRegistry {
  private readonly feeds = new Map<string, LiveFeed>();
  /** Keys of feeds a local producer feeds. */
  private readonly local = new Set<string>();
  private remote?: RemoteLive;

  /** @param defaults options for every feed this registry creates. */
  constructor(private readonly defaults: LiveFeedOptions = {}) {}

  /** The feed under `key` (a camera name for the main stream, see {@link liveFeedKey}), or undefined. */
  get(key: string): LiveFeed | undefined { return this.feeds.get(key); }

  /** The feed under `key` (see {@link get}), created (empty, waiting for ffmpeg) if missing. */
  ensure(key: string, options?: LiveFeedOptions): LiveFeed {
    let f = this.feeds.get(key);
    if (!f) {
      f = new LiveFeed(key, { ...this.defaults, ...options });
      this.feeds.set(key, f);
    }
    return f;
  }

  /**
   * The feed a camera's producer pushes `stream` into, created if missing (for the sub
   * stream this is what makes `sub` viewers get the sub feed instead of the main one).
   */
  source(camera: string, stream: LiveStream): LiveFeed {
    const key = liveFeedKey(camera, stream);
    this.local.add(key);
    return this.ensure(key);
  }

  /** Sets (or clears) the source of cameras without a local producer. */
  setRemote(remote: RemoteLive | undefined): void { this.remote = remote; }

  /** True while a local producer feeds the feed under `key` (see {@link source}). */
  isLocal(key: string): boolean { return this.local.has(key); }

  /**
   * A viewer of `camera`'s `media` arrived: asks the remote source to feed it, unless a
   * local producer does (or there is no remote source).
   * @param lingerMs see {@link RemoteLive.watch}
   * @returns the release, to call when the viewer leaves (idempotent)
   */
  watch(camera: string, media: LiveMedia, lingerMs = 0): () => void {
    const key = liveFeedKey(camera, media === 'sub' ? 'sub' : 'main');
    if (!this.remote || this.local.has(key)) return () => {};
    return this.remote.watch(camera, media, lingerMs);
  }

  /**
   * The feed a viewer of `camera`'s `stream` watches: `main` → the main feed (created if
   * missing, so a viewer can wait for a camera that is starting); `sub` → the sub feed
   * when a producer made one (see {@link source}) or the remote source says the camera has
   * a distinct sub stream (created then), else the main feed.
   * @returns the feed and the stream it carries (`main` when `sub` fell back).
   */
  forViewer(camera: string, stream: LiveStream): { feed: LiveFeed; stream: LiveStream } {
    const subKey = liveFeedKey(camera, 'sub');
    const sub = stream !== 'sub' ? undefined : this.feeds.get(subKey) ?? (this.remote?.hasSub(camera) ? this.ensure(subKey) : undefined);
    return sub ? { feed: sub, stream: 'sub' } : { feed: this.ensure(camera), stream: 'main' };
  }

  /**
   * Closes a camera's feeds (their viewers are disconnected) and forgets them.
   * @param stream only this stream's feed; omitted: every stream's.
   * @returns whether any existed.
   */
  release(camera: string, stream?: LiveStream): boolean {
    let any = false;
    for (const s of stream ? [stream] : LIVE_STREAMS) any = this.delete(liveFeedKey(camera, s)) || any;
    return any;
  }

  /** Closes the feed under `key` (its viewers are disconnected) and forgets it. @returns whether it existed. */
  delete(key: string): boolean {
    this.local.delete(key);
    const f = this.feeds.get(key);
    if (!f) return false;
    this.feeds.delete(key);
    f.close();
    return true;
  }

  /** Keys of the existing feeds (camera names, and `<cam>@sub` for sub streams). */
  names(): string[] { return [...this.feeds.keys()]; }
}
