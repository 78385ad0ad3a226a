/**
 * The detector component: takes detect frames from `vigil/camera/+/frame`, detects objects
 * ({@link detectFrame}: regions around motion and tracked objects, or the full frame) with
 * one object model for the whole process ({@link loadObjectRuntime}: ONNX, or TF.js in
 * worker threads as the fallback), tracks objects per camera ({@link EventLifecycle}) and
 * publishes `vigil/events`, retained counts (integers, only on change) per camera
 * (`…/<label>`, and without stationary objects `…/<label>/active`) and per zone, and the
 * best snapshots.
 *
 * The model loads when the first camera with detection enabled appears, not at start.
 *
 * Back-pressure: each camera keeps only its newest waiting frame (a bounded queue of one
 * where the newest frame wins; the replaced frame is counted in `frames_dropped`, per
 * camera too); frames are dispatched while fewer than the runtime's `concurrency` are in
 * flight, round-robin over cameras, several per camera at once, and results are applied
 * in frame order so tracking stays causal. Memory stays bounded however fast frames come:
 * at most one waiting frame per camera plus `concurrency` in flight.
 */
import { isDeepStrictEqual } from 'node:util';
import { cameraConfig, type CameraConfig } from '../protocol/camera-config.ts';
import type { Component, ComponentContext } from '../protocol/component.ts';
import { decodeFrame, type FrameHeader } from '../protocol/frame-codec.ts';
import type { Box } from '../protocol/tracked-object.ts';
import { EventLifecycle, type FrameResult } from './event-lifecycle.ts';
import { detectFrame, scanDue } from './frame-detector.ts';
import type { DetectorBackend } from './model.ts';
import { loadObjectRuntime, type ObjectRuntime, type RuntimeChoice } from './object-runtime.ts';
import { renderSnapshot } from './snapshot.ts';
import type { Enricher, EnrichResult } from './enrichment.ts';
import { FaceEnricher } from './faces/face-enricher.ts';
import { PlateEnricher } from './lpr/plate-enricher.ts';
import type { RawDetection } from './types.ts';
import os from 'node:os';

/** The detector's options from the `detector:` config section (hub and standalone process alike). */
export function detectorOptions(c: { workers: number; runtime: RuntimeChoice; region_size: number; threads: number; backend: DetectorBackend; min_score: number }): DetectorOptions {
  return { workers: c.workers || undefined, runtime: c.runtime, regionSize: c.region_size, threads: c.threads, backend: c.backend, minScore: c.min_score };
}

export interface DetectorOptions {
  /** Inferences at once; 0/undefined = one per core. */
  workers?: number;
  /** `auto` (ONNX, else TF.js), `onnx` or `tfjs`. */
  runtime?: RuntimeChoice;
  /** TF.js backend of the fallback. */
  backend?: DetectorBackend;
  /** Region input size, px (ONNX); default 320. */
  regionSize?: number;
  /** ONNX intra-op threads of the one session; default 1. */
  threads?: number;
  /** Lowest model score kept (0–1). */
  minScore?: number;
  /** Interval of `vigil/component/detector/state`, ms (default 5000). */
  stateIntervalMs?: number;
  /**
   * Models that look inside tracked objects (see `enrichment.ts`); default: known faces
   * ({@link FaceEnricher}) and licence plates ({@link PlateEnricher}), each loading its
   * models only when a camera turns it on.
   */
  enrichers?: Enricher[];
}

interface InFlight {
  header: FrameHeader;
  jpeg: Buffer;
  result?: RawDetection[];
  /** Where the model looked, px (the regions; the whole frame for a full-frame pass). */
  looked?: Box[];
  failed?: boolean;
}

/** Per-camera figures, in `vigil/component/detector/state` `cameras.<cam>` and `/api/system` `cameras.<cam>.detection`. */
export interface CameraDetectionStats {
  frames_received: number;
  /** Frames replaced by a newer one before the model was free (the queue holds one per camera). */
  frames_dropped: number;
  /** Frames inferred (a frame with no region counts as skipped, not inferred). */
  frames_detected: number;
  /** Frames with no motion and no tracked object: no inference. */
  frames_skipped: number;
  /** Model runs (regions) over all frames. */
  inferences: number;
  /** `regions` mode: frames inferred whole as a scan (the first, then one per `detect.interval_without_motion` s), and because their regions would have cost more than one full-frame pass. */
  frames_scanned: number;
  frames_whole_by_cost: number;
  /** Frames waiting now (0 or 1) and in flight now. */
  queued: number;
  in_flight: number;
}

interface CameraSlot {
  config: CameraConfig;
  lifecycle: EventLifecycle;
  pending?: { header: FrameHeader; jpeg: Buffer };
  inFlight: InFlight[];
  lastResultAt: number;
  /** Capture time of the last frame inferred whole, ms (`regions` mode scans one per `detect.interval_without_motion` s). */
  lastScanTs?: number;
  /** Last published retained counts, topic → value. */
  published: Map<string, number>;
  stats: CameraDetectionStats;
}

/** Figures for `vigil/component/detector/state`, `/api/system` and the benchmarks. */
export interface DetectorStats {
  frames_received: number;
  frames_dropped: number;
  inferences: number;
  inference_errors: number;
  /** Mean model time per inference over the last 100 inferences, ms. */
  inference_ms: number;
  events_published: number;
}

const newCameraStats = (): CameraDetectionStats => ({ frames_received: 0, frames_dropped: 0, frames_detected: 0, frames_skipped: 0, inferences: 0, frames_scanned: 0, frames_whole_by_cost: 0, queued: 0, in_flight: 0 });

export class DetectorComponent implements Component {
  readonly id = 'detector';
  private runtime?: ObjectRuntime;
  private loading?: Promise<void>;
  private loadError?: string;
  private inFlight = 0;
  private readonly cams = new Map<string, CameraSlot>();
  private rr = 0;
  private tick?: NodeJS.Timeout;
  private stateTimer?: NodeJS.Timeout;
  private recentMs: number[] = [];
  private stopping = false;
  private enrichers: Enricher[];
  private faces?: FaceEnricher;
  /** `<enricher type>:<object id>` of enrichments in flight. */
  private readonly enriching = new Set<string>();
  readonly stats: DetectorStats = { frames_received: 0, frames_dropped: 0, inferences: 0, inference_errors: 0, inference_ms: 0, events_published: 0 };

  constructor(private readonly ctx: ComponentContext, private readonly opts: DetectorOptions = {}) {
    this.enrichers = opts.enrichers ?? [];
  }

  async start(): Promise<void> {
    const { bus, topics, logger } = this.ctx;
    if (!this.opts.enrichers) {
      const log = logger.child({ component: 'detector' });
      const faces = new FaceEnricher({ bus, topics, logger: log.child({ enricher: 'face' }), detectorId: this.id, followConfigs: false });
      await faces.start();
      this.faces = faces;
      this.enrichers = [faces, new PlateEnricher({ logger: log.child({ enricher: 'lpr' }) })];
    }
    // One subscription for the camera configs, shared with the face enricher.
    await bus.subscribe(topics.sub.cameraConfigs(), (topic, payload) => { this.onConfig(topic, payload); this.faces?.onCameraConfig(topic, payload); });
    await bus.subscribe(topics.sub.cameraAvailability(), (topic, payload) => {
      const p = topics.parse(topic);
      if (p?.kind === 'camera.availability' && payload.toString() === 'offline') this.endCamera(p.camera);
    });
    await bus.subscribe(topics.sub.cameraFrames(), (_t, payload) => this.onFrame(payload), 0);
    this.tick = setInterval(() => this.expireIdle(), 1000);
    this.tick.unref();
    // No frames came while the broker connection was down: that is not the objects leaving.
    bus.onReconnect(() => this.holdAfterOutage());
    this.stateTimer = setInterval(() => bus.publishState(topics.componentState(this.id), this.status()), this.opts.stateIntervalMs ?? 5000);
    this.stateTimer.unref();
  }

  /** Loads the model once (the first camera with detection asks for it); failures are logged and retried by the next camera config. */
  private ensureRuntime(): void {
    if (this.runtime || this.loading || this.stopping) return;
    const log = this.ctx.logger.child({ component: 'detector' });
    const t0 = Date.now();
    this.loading = loadObjectRuntime({
      runtime: this.opts.runtime,
      backend: this.opts.backend,
      concurrency: this.opts.workers || os.availableParallelism(),
      threads: this.opts.threads,
      regionSize: this.opts.regionSize,
      minScore: this.opts.minScore,
      logger: log,
    }).then(
      async (rt) => {
        if (this.stopping) { await rt.stop(); return; }
        this.runtime = rt;
        this.loadError = undefined;
        log.info({ runtime: rt.name, concurrency: rt.concurrency, region_size: rt.regionSize, load_ms: Date.now() - t0 }, 'detector model loaded');
        this.pump();
      },
      (err: Error) => {
        this.loadError = err.message;
        log.error({ err: err.message }, 'detector model failed to load');
      },
    ).finally(() => { this.loading = undefined; });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.tick);
    clearInterval(this.stateTimer);
    for (const name of [...this.cams.keys()]) this.endCamera(name);
    await this.loading;
    await this.runtime?.stop();
    await Promise.all(this.enrichers.map((e) => e.stop().catch(() => undefined)));
  }

  status(): Record<string, unknown> {
    const cameras = Object.fromEntries([...this.cams].map(([name, s]) => [name, { ...s.stats, queued: s.pending ? 1 : 0, in_flight: s.inFlight.length }]));
    return {
      ...this.stats,
      runtime: this.runtime?.name ?? (this.loadError ? 'failed' : this.loading ? 'loading' : 'not loaded'),
      ...(this.loadError ? { load_error: this.loadError } : {}),
      workers: this.runtime?.concurrency ?? 0,
      busy: this.inFlight,
      cameras,
    };
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
    let json: unknown;
    try { json = JSON.parse(payload.toString('utf8')); } catch { json = undefined; }
    const r = cameraConfig.safeParse(json);
    if (!r.success) { this.ctx.bus.warnBadMessage(topic, 'invalid-config', 'invalid camera config; ignored by the detector', { camera: p.camera, err: json === undefined ? 'not JSON' : r.error.issues[0]?.message }, this.ctx.logger); return; }
    const cfg = r.data;
    if (!cfg.enabled) {
      this.endCamera(p.camera);
      this.cams.delete(p.camera);
      return;
    }
    const relevant = (c: CameraConfig) => [c.detect, c.objects, c.zones, c.masks];
    if (existing && isDeepStrictEqual(relevant(existing.config), relevant(cfg))) {
      existing.config = cfg;
      if (cfg.detect.enabled) this.ensureRuntime();
      return;
    }
    if (existing) this.endCamera(p.camera);
    this.cams.set(p.camera, { config: cfg, lifecycle: new EventLifecycle(cfg), inFlight: [], lastResultAt: Date.now(), published: existing?.published ?? new Map(), stats: existing?.stats ?? newCameraStats() });
    if (cfg.detect.enabled) this.ensureRuntime();
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
    slot.stats.frames_received++;
    if (slot.pending) { this.stats.frames_dropped++; slot.stats.frames_dropped++; }
    slot.pending = { header: frame.header, jpeg: Buffer.from(frame.jpeg) };
    this.pump();
  }

  /** Dispatches waiting frames while fewer than `concurrency` are in flight, round-robin over cameras. */
  private pump(): void {
    const rt = this.runtime;
    if (!rt || this.stopping) return;
    const names = [...this.cams.keys()];
    let guard = names.length;
    while (this.inFlight < rt.concurrency && guard > 0) {
      const name = names[this.rr++ % names.length]!;
      const slot = this.cams.get(name)!;
      if (!slot.pending) { guard--; continue; }
      guard = names.length;
      const job: InFlight = { ...slot.pending };
      slot.pending = undefined;
      slot.inFlight.push(job);
      this.inFlight++;
      const cfg = slot.config;
      const scan = scanDue(slot.lastScanTs, job.header.ts, cfg.detect.interval_without_motion);
      if (scan) slot.lastScanTs = job.header.ts;
      detectFrame(rt, {
        jpeg: job.jpeg,
        mode: cfg.detect.mode,
        tracked: slot.lifecycle.trackedBoxes,
        motion: job.header.motion_boxes ?? [],
        labels: cfg.objects.track,
        scan,
        size: { width: job.header.width, height: job.header.height },
      }).then(
        (r) => {
          job.result = r.detections;
          job.looked = r.regions;
          if (r.whole === 'scan') slot.stats.frames_scanned++;
          if (r.whole === 'cost') slot.stats.frames_whole_by_cost++;
          if (r.inferences) slot.stats.frames_detected++;
          else slot.stats.frames_skipped++;
          slot.stats.inferences += r.inferences;
          if (r.inferences) this.record(r.inferenceMs / r.inferences, r.inferences);
        },
        (err: Error) => {
          job.failed = true;
          if (this.stopping) return; // frames in flight at stop
          this.stats.inference_errors++;
          // Mostly a frame whose JPEG does not decode: once a minute per camera, counted in stats.
          this.ctx.bus.warnBadMessage(this.ctx.topics.cameraFrame(name), 'inference-failed', 'inference failed', { camera: name, err: err.message }, this.ctx.logger);
        },
      ).finally(() => { this.inFlight--; this.drainResults(name, slot); this.pump(); });
    }
  }

  private record(ms: number, count: number): void {
    this.stats.inferences += count;
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
      const out = slot.lifecycle.processFrame(job.result, job.header.ts / 1000, size, job.looked);
      slot.lastResultAt = Date.now();
      this.publish(slot, out, job);
      this.enrich(name, slot, job);
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

  /**
   * Offers the frame's live objects to the enrichers (off the hot path: results arrive
   * later and are applied to the object if it is still tracked). One attempt per object and
   * enricher at a time.
   */
  private enrich(name: string, slot: CameraSlot, job: InFlight): void {
    const enrichers = this.enrichers;
    if (!enrichers.length) return;
    const time = job.header.ts / 1000;
    for (const o of slot.lifecycle.objects) {
      const object = { id: o.id, label: o.label, box: o.box, score: o.score, stationary: o.stationary, sub_label: Array.isArray(o.sub_label) ? o.sub_label[0] : o.sub_label };
      for (const e of enrichers) {
        const key = `${e.type}:${o.id}`;
        if (this.enriching.has(key) || !e.wants({ camera: slot.config, object, time })) continue;
        this.enriching.add(key);
        e.enrich({ camera: slot.config, object, time, frame: { jpeg: job.jpeg, width: job.header.width, height: job.header.height } })
          .then((r) => { if (r && this.cams.get(name) === slot) this.applyEnrichment(slot, o.id, r, time); })
          .catch((err: Error) => { if (!this.stopping) this.ctx.logger.warn({ camera: name, enricher: e.type, err: err.message }, 'enrichment failed'); })
          .finally(() => this.enriching.delete(key));
      }
    }
  }

  /** Sets `sub_label` / the plate on the object (an `update` on `vigil/events`) and publishes `vigil/tracked_object_update`. */
  private applyEnrichment(slot: CameraSlot, id: string, r: EnrichResult, time: number): void {
    const { bus, topics } = this.ctx;
    const camera = slot.config.name;
    const score = Math.round(r.score * 100) / 100;
    const msg = r.type === 'face'
      ? (r.name ? slot.lifecycle.enrich(id, { sub_label: [r.name, score] }) : null)
      : slot.lifecycle.enrich(id, { recognized_license_plate: r.plate, recognized_license_plate_score: score, ...(r.name ? { sub_label: [r.name, score] as [string, number] } : {}) });
    if (msg) { bus.send(topics.events(), msg, { qos: 1 }); this.stats.events_published++; }
    if (r.type === 'face' && !r.name) return; // unknown faces: the face enricher keeps the crop
    const update = r.type === 'face'
      ? { type: 'face', id, name: r.name, score, camera, timestamp: time }
      : { type: 'lpr', id, name: r.name, plate: r.plate, score, camera, timestamp: time };
    bus.send(topics.trackedObjectUpdate(), update, { qos: 1 });
  }

  /**
   * Ends objects of cameras that sent no frame lately (no motion and nothing tracked, or a
   * stalled camera) — not while this detector's own broker connection is down: frames cannot
   * arrive then, and ending every object would split each into two events at the reconnect.
   */
  private expireIdle(): void {
    if (!this.ctx.bus.connected) return;
    const now = Date.now();
    for (const slot of this.cams.values()) {
      if (now - slot.lastResultAt < 1000 || slot.inFlight.length) continue;
      const out = slot.lifecycle.expire(now / 1000);
      if (out.messages.length) this.publish(slot, out);
    }
  }

  /**
   * After a reconnect: every tracked object gets the camera's `detect.max_disappeared`
   * seconds of new frames to be seen again before it ends (the time without a connection
   * does not count as unseen), so an object followed across a broker restart keeps its
   * event, and an object that did leave ends after the hub has had time to resubscribe.
   */
  private holdAfterOutage(): void {
    const now = Date.now() / 1000;
    for (const slot of this.cams.values()) slot.lifecycle.holdUntil(now + slot.config.detect.max_disappeared);
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
    this.cams.set(name, { config: slot.config, lifecycle: new EventLifecycle(slot.config), inFlight: [], lastResultAt: Date.now(), published: slot.published, stats: slot.stats });
  }
}
