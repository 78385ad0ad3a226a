/**
 * The detector component: takes detect frames from `vigil/camera/+/frame`, runs the
 * model in an {@link InferencePool} (worker threads, never this event loop), tracks
 * objects per camera ({@link EventLifecycle}) and publishes `vigil/events`, retained
 * counts (integers, only on change) per camera (`…/<label>`, and without stationary objects
 * `…/<label>/active`) and per zone, and the best snapshots.
 *
 * Scheduling: each camera keeps only its newest waiting frame (older ones are dropped,
 * counted in `frames_dropped`); frames are dispatched whenever a worker is free, several
 * per camera at once, and results are applied in frame order so tracking stays causal.
 */
import { isDeepStrictEqual } from 'node:util';
import { cameraConfig, type CameraConfig } from '../protocol/camera-config.ts';
import type { Component, ComponentContext } from '../protocol/component.ts';
import { decodeFrame, type FrameHeader } from '../protocol/frame-codec.ts';
import { EventLifecycle, type FrameResult } from './event-lifecycle.ts';
import { InferencePool, type DetectResult } from './inference-pool.ts';
import type { DetectorBackend } from './model.ts';
import { renderSnapshot } from './snapshot.ts';
import type { RawDetection } from './types.ts';

export interface DetectorOptions {
  /** Inference workers; 0/undefined = one per core. */
  workers?: number;
  backend?: DetectorBackend;
  /** Lowest model score kept (0–1). */
  minScore?: number;
  /** Interval of `vigil/component/detector/state`, ms (default 5000). */
  stateIntervalMs?: number;
}

interface InFlight {
  header: FrameHeader;
  jpeg: Buffer;
  result?: RawDetection[];
  failed?: boolean;
}

interface CameraSlot {
  config: CameraConfig;
  lifecycle: EventLifecycle;
  pending?: { header: FrameHeader; jpeg: Buffer };
  inFlight: InFlight[];
  lastResultAt: number;
  /** Last published retained counts, topic → value. */
  published: Map<string, number>;
}

/** Figures for `vigil/component/detector/state`, `/api/system` and the benchmarks. */
export interface DetectorStats {
  frames_received: number;
  frames_dropped: number;
  inferences: number;
  inference_errors: number;
  /** Mean model time over the last 100 inferences, ms. */
  inference_ms: number;
  events_published: number;
}

export class DetectorComponent implements Component {
  readonly id = 'detector';
  private pool?: InferencePool;
  private readonly cams = new Map<string, CameraSlot>();
  private rr = 0;
  private tick?: NodeJS.Timeout;
  private stateTimer?: NodeJS.Timeout;
  private recentMs: number[] = [];
  private stopping = false;
  readonly stats: DetectorStats = { frames_received: 0, frames_dropped: 0, inferences: 0, inference_errors: 0, inference_ms: 0, events_published: 0 };

  constructor(private readonly ctx: ComponentContext, private readonly opts: DetectorOptions = {}) {}

  async start(): Promise<void> {
    const { bus, topics, logger } = this.ctx;
    const log = logger.child({ component: 'detector' });
    this.pool = new InferencePool({
      size: this.opts.workers || undefined,
      backend: this.opts.backend,
      minScore: this.opts.minScore,
      logger: log,
    });
    await this.pool.start();
    log.info({ workers: this.pool.size }, 'detector ready');
    await bus.subscribe(topics.sub.cameraConfigs(), (topic, payload) => this.onConfig(topic, payload));
    await bus.subscribe(topics.sub.cameraAvailability(), (topic, payload) => {
      const p = topics.parse(topic);
      if (p?.kind === 'camera.availability' && payload.toString() === 'offline') this.endCamera(p.camera);
    });
    await bus.subscribe(topics.sub.cameraFrames(), (_t, payload) => this.onFrame(payload), 0);
    this.tick = setInterval(() => this.expireIdle(), 1000);
    this.tick.unref();
    this.stateTimer = setInterval(() => bus.publishState(topics.componentState(this.id), this.status()), this.opts.stateIntervalMs ?? 5000);
    this.stateTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.tick);
    clearInterval(this.stateTimer);
    for (const name of [...this.cams.keys()]) this.endCamera(name);
    await this.pool?.stop();
  }

  status(): Record<string, unknown> {
    return { ...this.stats, workers: this.pool?.size ?? 0, busy: this.pool?.busy ?? 0, cameras: [...this.cams.keys()] };
  }

  private onConfig(topic: string, payload: Buffer): void {
    const p = this.ctx.topics.parse(topic);
    if (p?.kind !== 'camera.config') return;
    const existing = this.cams.get(p.camera);
    if (!payload.length) {
      this.endCamera(p.camera);
      this.cams.delete(p.camera);
      return;
    }
    const r = cameraConfig.safeParse(JSON.parse(payload.toString('utf8')));
    if (!r.success) { this.ctx.logger.warn({ camera: p.camera }, 'invalid camera config; ignored by the detector'); return; }
    const cfg = r.data;
    if (!cfg.enabled) {
      this.endCamera(p.camera);
      this.cams.delete(p.camera);
      return;
    }
    const relevant = (c: CameraConfig) => [c.detect, c.objects, c.zones, c.masks];
    if (existing && isDeepStrictEqual(relevant(existing.config), relevant(cfg))) { existing.config = cfg; return; }
    if (existing) this.endCamera(p.camera);
    this.cams.set(p.camera, { config: cfg, lifecycle: new EventLifecycle(cfg), inFlight: [], lastResultAt: Date.now(), published: existing?.published ?? new Map() });
  }

  private onFrame(payload: Buffer): void {
    let frame: { header: FrameHeader; jpeg: Buffer };
    try {
      frame = decodeFrame(payload);
    } catch (err) {
      this.ctx.logger.debug({ err: (err as Error).message }, 'bad frame payload dropped');
      return;
    }
    const slot = this.cams.get(frame.header.camera);
    if (!slot || !slot.config.detect.enabled) return;
    this.stats.frames_received++;
    if (slot.pending) this.stats.frames_dropped++;
    slot.pending = { header: frame.header, jpeg: Buffer.from(frame.jpeg) };
    this.pump();
  }

  /** Dispatches waiting frames while a worker is free, round-robin over cameras. */
  private pump(): void {
    const pool = this.pool;
    if (!pool || this.stopping) return;
    const names = [...this.cams.keys()];
    let guard = names.length;
    while (pool.busy + pool.queued < pool.size && guard > 0) {
      const name = names[this.rr++ % names.length]!;
      const slot = this.cams.get(name)!;
      if (!slot.pending) { guard--; continue; }
      guard = names.length;
      const job: InFlight = { ...slot.pending };
      slot.pending = undefined;
      slot.inFlight.push(job);
      pool.detect({ jpeg: job.jpeg }).then(
        (r: DetectResult) => { job.result = r.detections; this.record(r.inferenceMs); },
        (err: Error) => {
          job.failed = true;
          if (this.stopping) return; // frames in flight when the pool stops
          this.stats.inference_errors++;
          this.ctx.logger.warn({ camera: name, err: err.message }, 'inference failed');
        },
      ).finally(() => { this.drainResults(name, slot); this.pump(); });
    }
  }

  private record(ms: number): void {
    this.stats.inferences++;
    this.recentMs.push(ms);
    if (this.recentMs.length > 100) this.recentMs.shift();
    this.stats.inference_ms = Math.round((this.recentMs.reduce((a, b) => a + b, 0) / this.recentMs.length) * 10) / 10;
  }

  /** Applies finished results in frame order. */
  private drainResults(name: string, slot: CameraSlot): void {
    if (this.cams.get(name) !== slot) return; // camera removed or reconfigured meanwhile
    while (slot.inFlight.length && (slot.inFlight[0]!.result || slot.inFlight[0]!.failed)) {
      const job = slot.inFlight.shift()!;
      if (!job.result) continue;
      const size = { width: job.header.width, height: job.header.height };
      const out = slot.lifecycle.processFrame(job.result, job.header.ts / 1000, size);
      slot.lastResultAt = Date.now();
      this.publish(slot, out, job);
    }
  }

  private publish(slot: CameraSlot, out: FrameResult, job?: InFlight): void {
    const { bus, topics } = this.ctx;
    const cam = slot.config.name;
    for (const m of out.messages) {
      bus.send(topics.events(), m, { qos: 1 });
      this.stats.events_published++;
    }
    const setCount = (topic: string, n: number) => {
      if (slot.published.get(topic) === n) return;
      slot.published.set(topic, n);
      bus.publishState(topic, String(n));
    };
    for (const [label, n] of out.counts) setCount(topics.cameraCount(cam, label), n);
    for (const [label, n] of out.activeCounts) setCount(topics.cameraActiveCount(cam, label), n);
    for (const [zone, labels] of out.zoneCounts) for (const [label, n] of labels) setCount(topics.zoneCount(zone, label), n);
    if (!job) return;
    const states = new Map(slot.lifecycle.objects.map((o) => [o.id, o]));
    for (const b of out.best) {
      const s = states.get(b.id);
      if (!s) continue;
      renderSnapshot(job.jpeg, { width: job.header.width, height: job.header.height }, b.box, `${s.label} ${Math.round(b.score * 100)}%`)
        .then(({ snapshot, crop }) => {
          bus.send(topics.eventImage(b.id, 'snapshot'), snapshot, { qos: 1 });
          bus.send(topics.eventImage(b.id, 'crop'), crop, { qos: 1 });
          bus.send(topics.cameraLabelSnapshot(cam, s.label), snapshot, { retain: true, qos: 1 });
        })
        .catch((err: Error) => this.ctx.logger.warn({ camera: cam, err: err.message }, 'snapshot render failed'));
    }
  }

  /** Ends objects of cameras that sent no frame lately (no motion and nothing tracked, or a stalled camera). */
  private expireIdle(): void {
    const now = Date.now();
    for (const slot of this.cams.values()) {
      if (now - slot.lastResultAt < 1000 || slot.inFlight.length) continue;
      const out = slot.lifecycle.expire(now / 1000);
      if (out.messages.length) this.publish(slot, out);
    }
  }

  /**
   * Ends every object of a camera (camera offline, removed or reconfigured) and zeroes its
   * counts. The camera gets a fresh slot, so results of frames still in flight are dropped
   * (`drainResults` checks slot identity) instead of reviving the objects just ended.
   */
  private endCamera(name: string): void {
    const slot = this.cams.get(name);
    if (!slot) return;
    this.publish(slot, slot.lifecycle.endAll(Date.now() / 1000));
    this.cams.set(name, { config: slot.config, lifecycle: new EventLifecycle(slot.config), inFlight: [], lastResultAt: Date.now(), published: slot.published });
  }
}
