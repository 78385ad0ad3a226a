/**
 * A camera's live view on the bus, for a hub (or any client) that does not run the camera
 * itself: while a lease on `vigil/camera/<cam>/live/demand` is live, the camera's fMP4
 * streams go out as whole units on `vigil/camera/<cam>/live/main|sub` and its detect
 * frames as JPEG on `…/live/jpeg` (wire format: `protocol/live-wire.ts`). Nothing is
 * published without a lease.
 *
 * It is a {@link LiveSink} per stream, fed by the camera runner from the live output its
 * one ffmpeg per input already writes (fd 4): no extra RTSP connection, no re-encode.
 * Per stream it keeps the init segment and a GOP cache (the fragments since the newest
 * keyframe, ≤ 4 MiB / 10 s, as the hub's feed does), so a new lease starts with a
 * decodable stream at once: init, then the cached GOP, then each new fragment.
 *
 * Backpressure: while the bus connection has more than `maxQueuedBytes` (4 MiB) waiting
 * to be sent, fragments are skipped until a keyframe arrives with the queue drained
 * below a quarter of that; the gap in `seq` tells receivers to wait for that keyframe.
 * While disconnected nothing is published (mqtt.js would queue QoS 0 messages offline).
 */
import type { Logger } from 'pino';
import type { Bus } from '../protocol/bus.ts';
import type { LiveMedia, Topics } from '../protocol/topics.ts';
import { Fmp4Splitter, type Fmp4Unit } from '../protocol/fmp4.ts';
import { encodeLive, MAX_LEASE_MS, type LiveDemand, type LiveHeader } from '../protocol/live-wire.ts';
import type { LiveSink, LiveStream } from './camera-runner.ts';

/** Options of a {@link LivePublisher}. */
export interface LivePublisherOptions {
  bus: Bus;
  topics: Topics;
  camera: string;
  logger: Logger;
  /** Largest GOP cache per stream, bytes (0: none). Default 4 MiB. */
  gopCacheBytes?: number;
  /** Longest GOP cache, ms of video. Default 10 000. */
  gopCacheMs?: number;
  /** Skip fragments while the bus connection has more than this queued, bytes. Default 4 MiB. */
  maxQueuedBytes?: number;
  /** How often expired leases are swept (and their end logged), ms. Default 1000. */
  sweepMs?: number;
  /** `Date.now` substitute (tests). */
  now?: () => number;
}

interface Msg { header: LiveHeader; body: Buffer }

/** Per-stream state: the stream's splitter, run, init segment and GOP cache. */
interface StreamOut {
  splitter: Fmp4Splitter;
  run: number;
  seq: number;
  init?: Msg;
  gop: Msg[];
  gopBytes: number;
  gopMs: number;
  skipping: boolean;
}

/** Counters of a {@link LivePublisher}. */
export interface LivePublisherStats {
  /** Media being published now (a live lease). */
  publishing: LiveMedia[];
  /** Messages and bytes published since start. */
  messages: number;
  bytes: number;
  /** Fragments skipped for backpressure. */
  skipped: number;
  /** Demand messages received. */
  demands: number;
}

/** The live publisher of one camera; see the module doc. */
export class LivePublisher {
  private readonly streams: Record<LiveStream, StreamOut>;
  private readonly leases: Record<LiveMedia, Map<string, number>> = { main: new Map(), sub: new Map(), jpeg: new Map() };
  private readonly wasActive = new Set<LiveMedia>();
  private readonly now: () => number;
  private readonly gopCacheBytes: number;
  private readonly gopCacheMs: number;
  private readonly maxQueuedBytes: number;
  private sweepTimer?: NodeJS.Timeout;
  private jpegSeq = 0;
  private closed = false;
  private readonly counters = { messages: 0, bytes: 0, skipped: 0, demands: 0 };

  constructor(private readonly opts: LivePublisherOptions) {
    this.now = opts.now ?? Date.now;
    this.gopCacheBytes = opts.gopCacheBytes ?? 4 * 1024 * 1024;
    this.gopCacheMs = opts.gopCacheMs ?? 10_000;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 4 * 1024 * 1024;
    const fresh = (): StreamOut => ({ splitter: new Fmp4Splitter(), run: this.now(), seq: 0, gop: [], gopBytes: 0, gopMs: 0, skipping: false });
    this.streams = { main: fresh(), sub: fresh() };
  }

  /** Counters, and what is published now. */
  get stats(): LivePublisherStats {
    return { publishing: (['main', 'sub', 'jpeg'] as const).filter((m) => this.active(m)), ...this.counters };
  }

  /**
   * The sink the camera runner feeds for `stream`: `main` takes the main fMP4 and the
   * JPEGs (wanted while a `jpeg` lease is live), `sub` the sub fMP4.
   */
  sink(stream: LiveStream): LiveSink {
    return {
      fmp4: (chunk) => this.onFmp4(stream, chunk),
      reset: () => this.onReset(stream),
      wantsJpeg: () => stream === 'main' && this.active('jpeg'),
      jpeg: (jpeg, ts) => { if (stream === 'main') this.onJpeg(jpeg, ts); },
    };
  }

  /** True while some client holds an unexpired lease on `media`. */
  active(media: LiveMedia): boolean {
    const now = this.now();
    for (const exp of this.leases[media].values()) if (exp > now) return true;
    return false;
  }

  /**
   * Applies a demand: `lease_ms: 0` ends the client's lease; otherwise the lease runs
   * until now + `lease_ms` (at most {@link MAX_LEASE_MS}). A new lease — or `init: true` —
   * of `main`/`sub` gets the init segment and the GOP cache at once (if ffmpeg has written
   * an init segment yet; else they go out as soon as it does).
   */
  demand(d: LiveDemand): void {
    if (this.closed) return;
    this.counters.demands++;
    const leases = this.leases[d.stream];
    if (d.lease_ms === 0) {
      leases.delete(d.client);
      this.sweep();
      return;
    }
    const now = this.now();
    const had = (leases.get(d.client) ?? 0) > now;
    leases.set(d.client, now + Math.min(d.lease_ms, MAX_LEASE_MS));
    if (!this.wasActive.has(d.stream)) {
      this.wasActive.add(d.stream);
      this.opts.logger.info({ media: d.stream, client: d.client }, 'live: publishing on the bus (demanded)');
    }
    this.sweepTimer ??= setInterval(() => this.sweep(), this.opts.sweepMs ?? 1000);
    this.sweepTimer.unref?.();
    if (d.stream !== 'jpeg' && (!had || d.init)) this.sendStart(d.stream);
  }

  /** Stops publishing and forgets every lease (camera removed, component stopping). */
  close(): void {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const m of Object.values(this.leases)) m.clear();
  }

  /** Drops expired leases; logs media that stopped; stops the timer when no lease is left. */
  private sweep(): void {
    const now = this.now();
    for (const media of ['main', 'sub', 'jpeg'] as const) {
      for (const [client, exp] of this.leases[media]) if (exp <= now) this.leases[media].delete(client);
      if (this.wasActive.has(media) && !this.active(media)) {
        this.wasActive.delete(media);
        this.opts.logger.info({ media }, 'live: stopped publishing on the bus (no lease left)');
      }
    }
    if (!this.wasActive.size && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  private sendStart(stream: LiveStream): void {
    const s = this.streams[stream];
    if (!s.init) return;
    this.publish(stream, s.init);
    for (const f of s.gop) this.publish(stream, f);
  }

  private onReset(stream: LiveStream): void {
    const s = this.streams[stream];
    s.splitter.reset();
    s.run = Math.max(this.now(), s.run + 1);
    s.seq = 0;
    s.init = undefined;
    s.skipping = false;
    this.dropGop(s);
  }

  private onFmp4(stream: LiveStream, chunk: Buffer): void {
    if (this.closed) return;
    const s = this.streams[stream];
    let units: Fmp4Unit[];
    try {
      units = s.splitter.push(chunk);
    } catch {
      s.splitter.reset();
      return;
    }
    for (const u of units) {
      const now = this.now();
      if (u.kind === 'init') {
        s.seq = 0;
        s.skipping = false;
        this.dropGop(s);
        const header: LiveHeader = { kind: 'init', run: s.run, seq: 0, ts: now };
        if (u.codec) header.codec = u.codec;
        if (u.width) header.width = u.width;
        if (u.height) header.height = u.height;
        s.init = { header, body: u.data };
        if (this.active(stream)) this.publish(stream, s.init);
        continue;
      }
      const header: LiveHeader = { kind: 'fragment', run: s.run, seq: ++s.seq, ts: now, keyframe: u.keyframe };
      if (u.durationMs !== undefined) header.duration_ms = Math.round(u.durationMs * 1000) / 1000;
      const f: Msg = { header, body: u.data };
      this.cacheGop(s, f, u.durationMs ?? 0);
      if (!s.init || !this.active(stream)) continue;
      const queued = this.opts.bus.queuedBytes;
      if (s.skipping) {
        if (!u.keyframe || queued > this.maxQueuedBytes / 4) { this.counters.skipped++; continue; }
        s.skipping = false;
      } else if (queued > this.maxQueuedBytes) {
        s.skipping = true;
        this.counters.skipped++;
        this.opts.logger.warn({ stream, queued_bytes: queued }, 'live: the bus connection is behind; skipping to the next keyframe');
        continue;
      }
      this.publish(stream, f);
    }
  }

  private onJpeg(jpeg: Buffer, ts: number): void {
    if (this.closed || !this.active('jpeg')) return;
    this.publish('jpeg', { header: { kind: 'jpeg', run: this.streams.main.run, seq: ++this.jpegSeq, ts }, body: jpeg });
  }

  /** Adds a fragment to the GOP cache: a keyframe starts it over; past a bound it is dropped until the next keyframe. */
  private cacheGop(s: StreamOut, f: Msg, ms: number): void {
    if (f.header.keyframe) this.dropGop(s);
    else if (!s.gop.length) return;
    s.gop.push(f);
    s.gopBytes += f.body.length;
    s.gopMs += ms;
    if (s.gopBytes > this.gopCacheBytes || s.gopMs > this.gopCacheMs) this.dropGop(s);
  }

  private dropGop(s: StreamOut): void {
    s.gop = [];
    s.gopBytes = 0;
    s.gopMs = 0;
  }

  private publish(media: LiveMedia, m: Msg): void {
    const { bus, topics, camera } = this.opts;
    if (!bus.connected) return;
    const payload = encodeLive(m.header, m.body);
    this.counters.messages++;
    this.counters.bytes += payload.length;
    bus.send(topics.cameraLive(camera, media), payload, { qos: 0 });
  }
}
