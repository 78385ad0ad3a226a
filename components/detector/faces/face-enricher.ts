/**
 * Known faces inside `person` objects, as Frigate 0.16 does
 * (`frigate/data_processing/real_time/face.py`): for cameras with `face_recognition.enabled`,
 * the upper part of a person's box is searched for faces (BlazeFace), the biggest face
 * at least `min_face_size` px wide is described (FaceRes) and matched against the enrolled
 * images (human's similarity); the best person at or above `recognition_threshold` names it.
 * Unknown faces are published as crops for enrolment.
 *
 * The library comes over the bus (the hub keeps the images; this detector may be another
 * process): enrolled images arrive retained on `vigil/faces/library/<name>/<id>`; the first
 * detector that has no usable descriptor for one computes it and publishes the outcome,
 * retained, on `vigil/faces/descriptor/<name>/<id>` with the descriptor itself, so every
 * detector matches against the same numbers (`components/protocol/faces.ts`).
 *
 * The models run in one worker thread ({@link FaceRunner}), loaded on first use and only
 * while some camera has face recognition on (this enricher follows the retained camera
 * configs itself); they are unloaded when the last such camera turns it off.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus } from '../../protocol/bus.ts';
import { cameraConfig, type CameraConfig } from '../../protocol/camera-config.ts';
import { faceDescriptorMessage, faceImageId, faceName, type FaceDescriptorMessage } from '../../protocol/faces.ts';
import type { Topics } from '../../protocol/topics.ts';
import type { Enricher, EnrichInput, EnrichResult } from '../enrichment.ts';
import { faceRegion } from './face-images.ts';
import { FACE_MODEL_ID, type FaceBackend } from './face-model.ts';
import { FaceRunner, FaceRunnerError } from './face-runner.ts';
import { FaceLibrary } from './library.ts';

/**
 * A recognition this much above the camera's `recognition_threshold` (0–1 similarity) ends
 * the attempts on an object; a lower one is retried (up to `maxAttempts`) for a better look.
 */
export const SETTLE_MARGIN = 0.1;

/** Options of {@link FaceEnricher}. */
export interface FaceEnricherOptions {
  bus: Bus;
  topics: Topics;
  logger: Logger;
  /** Subscribe to camera configs itself (default true); false: the owner passes them to {@link FaceEnricher.onCameraConfig}. */
  followConfigs?: boolean;
  /** This detector's component id, written into descriptor messages. */
  detectorId: string;
  /** TF.js backend of the face worker; default `auto`. */
  backend?: FaceBackend;
  /** Minimum BlazeFace score, 0–1; default 0.5. */
  minConfidence?: number;
  /** Least time between two attempts on one object, ms; default 1000. */
  attemptIntervalMs?: number;
  /** Most attempts on one object; default 10. */
  maxAttempts?: number;
  /** `wants()` says no while this many `enrich()` calls are waiting for the worker; default 4. */
  maxPending?: number;
  /** A request longer than this restarts the face worker, ms; default 30 000. */
  jobTimeoutMs?: number;
  /** Library changes are worked through this long after the last one, ms (retained descriptors arrive with the images); default 250. */
  settleMs?: number;
}

/** Counters of {@link FaceEnricher.stats}. Times in ms. */
export interface FaceEnricherStats {
  /** Models loaded in the worker now. */
  loaded: boolean;
  /** Some camera has face recognition on. */
  active: boolean;
  /** Enrolled images with a descriptor, and the people they belong to. */
  library_images: number;
  library_names: string[];
  attempts: number;
  faces_found: number;
  recognized: number;
  unknown_published: number;
  /** Mean decode + model time of the last 100 attempts in the worker, ms (null before any). */
  attempt_ms: number | null;
}

interface ObjectState {
  attempts: number;
  /** End of the last attempt (its start while in flight), ms since epoch. */
  last: number;
  /** Last offered to `wants`, ms since epoch. */
  seen: number;
  inFlight: boolean;
  best: { name: string; score: number } | null;
  unknownSent: boolean;
}

interface LibraryImage {
  name: string;
  id: string;
  bytes: Buffer;
  sha256: string;
}

const OBJECT_TTL_MS = 5 * 60_000;

/** The face enricher of one detector component. Call {@link start} before use. */
export class FaceEnricher implements Enricher {
  readonly type = 'face' as const;
  private readonly runner: FaceRunner;
  private readonly library = new FaceLibrary();
  private readonly images = new Map<string, LibraryImage>();
  private readonly outcomes = new Map<string, FaceDescriptorMessage>();
  private readonly cameras = new Map<string, CameraConfig>();
  private readonly objects = new Map<string, ObjectState>();
  private readonly times: number[] = [];
  private readonly counters = { attempts: 0, faces_found: 0, recognized: 0, unknown_published: 0 };
  private active = false;
  private stopped = false;
  private enriching = 0;
  private lastPrune = 0;
  private workTimer?: NodeJS.Timeout;
  private working?: Promise<void>;
  private workAgain = false;

  constructor(private readonly opts: FaceEnricherOptions) {
    this.runner = new FaceRunner({ backend: opts.backend, minConfidence: opts.minConfidence, jobTimeoutMs: opts.jobTimeoutMs, logger: opts.logger });
  }

  /**
   * Follows the camera configs, the library images and the descriptors on the bus.
   * @throws Error when the bus refuses a subscription
   */
  async start(): Promise<void> {
    const { bus, topics } = this.opts;
    if (this.opts.followConfigs !== false) await bus.subscribe(topics.sub.cameraConfigs(), (topic, payload) => this.onCameraConfig(topic, payload));
    await bus.subscribe(topics.sub.faceDescriptors(), (topic, payload) => this.onDescriptor(topic, payload));
    await bus.subscribe(topics.sub.faceLibrary(), (topic, payload) => this.onLibraryImage(topic, payload));
  }

  /** Counters for the component's state. */
  stats(): FaceEnricherStats {
    return {
      ...this.counters,
      loaded: this.runner.loaded,
      active: this.active,
      library_images: this.library.size,
      library_names: this.library.names(),
      attempt_ms: this.times.length ? Math.round(this.times.reduce((a, b) => a + b, 0) / this.times.length) : null,
    };
  }

  /**
   * True for a `person` object of a camera with face recognition on that is at least
   * `min_face_size` px wide, has not been recognized with a score
   * `recognition_threshold` + {@link SETTLE_MARGIN} or better, had fewer than `maxAttempts`
   * attempts, none in the last `attemptIntervalMs`, none in flight — and while fewer than
   * `maxPending` attempts wait for the worker.
   */
  wants(input: Omit<EnrichInput, 'frame'>): boolean {
    const fr = input.camera.face_recognition;
    if (this.stopped || !fr?.enabled || input.object.label !== 'person') return false;
    this.noteCamera(input.camera);
    const [x1, , x2] = input.object.box;
    if (x2 - x1 < fr.min_face_size) return false;
    if (this.enriching >= (this.opts.maxPending ?? 4)) return false;
    const now = Date.now();
    this.prune(now);
    const s = this.objects.get(input.object.id);
    if (!s) return true;
    s.seen = now;
    if (s.inFlight || s.attempts >= (this.opts.maxAttempts ?? 10)) return false;
    if (now - s.last < (this.opts.attemptIntervalMs ?? 1000)) return false;
    return !(s.best && s.best.score >= Math.min(1, fr.recognition_threshold + SETTLE_MARGIN));
  }

  /**
   * Looks for the person's face in the frame (in the face worker) and names it.
   * @returns `{type: 'face', name, score, box}` — `name` null for a face that matched nobody
   *   at `recognition_threshold` (`score` is then its best similarity, 0 with an empty
   *   library; its crop is published once per object not named before on
   *   `vigil/faces/unknown/<cam>/<id>`) —
   *   or null when no face at least `min_face_size` px wide was found, or the frame is bad
   *   (logged)
   * @throws Error only once the enricher is stopped
   */
  async enrich(input: EnrichInput): Promise<EnrichResult | null> {
    if (this.stopped) throw new Error('FaceEnricher is stopped');
    const fr = input.camera.face_recognition;
    if (!fr) return null;
    this.noteCamera(input.camera);
    const now = Date.now();
    let s = this.objects.get(input.object.id);
    if (!s) {
      s = { attempts: 0, last: 0, seen: now, inFlight: false, best: null, unknownSent: false };
      this.objects.set(input.object.id, s);
    }
    s.attempts++;
    s.last = now;
    s.seen = now;
    s.inFlight = true;
    this.enriching++;
    try {
      const region = faceRegion(input.object.box, input.frame.width, input.frame.height);
      if (!region) return null;
      const r = await this.runner.frame(input.frame.jpeg, region, fr.min_face_size, !s.unknownSent && !s.best);
      this.counters.attempts++;
      this.times.push(r.decodeMs + r.inferMs);
      if (this.times.length > 100) this.times.shift();
      if (!r.face) return null;
      this.counters.faces_found++;
      const m = this.library.match(r.face.descriptor);
      const known = m !== null && m.score >= fr.recognition_threshold;
      if (known) {
        this.counters.recognized++;
        if (!s.best || m.score > s.best.score) s.best = { name: m.name, score: m.score };
      } else if (!s.unknownSent && !s.best && r.face.crop) { // not for a person already named on an earlier look
        s.unknownSent = true;
        this.publishUnknown(input.camera.name, input.time, r.face.crop);
      }
      return { type: 'face', name: known ? m.name : null, score: m?.score ?? 0, box: r.face.box };
    } catch (err) {
      if (this.stopped) throw new Error('FaceEnricher is stopped');
      this.opts.logger.warn({ camera: input.camera.name, object: input.object.id, err: (err as Error).message }, 'face recognition attempt failed');
      return null;
    } finally {
      s.inFlight = false;
      s.last = Date.now(); // the interval runs from the end of an attempt: a slow one is not followed at once by the next
      this.enriching--;
    }
  }

  /** Stops: later calls reject, the worker is terminated. Leaves the bus subscriptions to the bus's owner (the component closes it). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.workTimer);
    await this.runner.stop();
    await this.working?.catch(() => undefined);
  }

  // ---- cameras ------------------------------------------------------------------------

  /**
   * A retained `vigil/camera/<cam>/config` message (empty = removed). Called by its own
   * subscription, or by the owner when started with `followConfigs: false` (a broker such as
   * aedes does not re-send retained messages to a second subscription of the same filter
   * on one connection, so two handlers of one bus must share one subscription).
   */
  onCameraConfig(topic: string, payload: Buffer): void {
    const p = this.opts.topics.parse(topic);
    if (p?.kind !== 'camera.config') return;
    if (payload.length === 0) this.cameras.delete(p.camera);
    else {
      let json: unknown;
      try { json = JSON.parse(payload.toString()); } catch { return; }
      const c = cameraConfig.safeParse(json);
      if (!c.success) return;
      this.cameras.set(p.camera, c.data);
    }
    this.updateActive();
  }

  private noteCamera(c: CameraConfig): void {
    if (this.cameras.get(c.name) === c) return;
    this.cameras.set(c.name, c);
    this.updateActive();
  }

  private updateActive(): void {
    const active = [...this.cameras.values()].some((c) => c.enabled && c.face_recognition?.enabled);
    if (active === this.active || this.stopped) return;
    this.active = active;
    this.opts.logger.info({ active }, active ? 'face recognition on for some camera' : 'face recognition off for every camera; unloading the face models');
    if (active) this.scheduleWork();
    else void this.runner.unload();
  }

  // ---- the library --------------------------------------------------------------------

  private onLibraryImage(topic: string, payload: Buffer): void {
    const p = this.opts.topics.parse(topic);
    if (p?.kind !== 'face.library' || !faceName.safeParse(p.name).success || !faceImageId.safeParse(p.id).success) return;
    const key = `${p.name}/${p.id}`;
    if (payload.length === 0) {
      this.images.delete(key);
      this.outcomes.delete(key);
      this.library.delete(p.name, p.id);
      // Forget our retained descriptor too (the bus would re-send it after a reconnect).
      this.opts.bus.publishState(this.opts.topics.faceDescriptor(p.name, p.id), '');
      return;
    }
    this.images.set(key, { name: p.name, id: p.id, bytes: Buffer.from(payload), sha256: createHash('sha256').update(payload).digest('hex') });
    this.apply(key);
    this.scheduleWork();
  }

  private onDescriptor(topic: string, payload: Buffer): void {
    const p = this.opts.topics.parse(topic);
    if (p?.kind !== 'face.descriptor') return;
    const key = `${p.name}/${p.id}`;
    if (payload.length === 0) {
      this.outcomes.delete(key);
      this.apply(key);
      this.scheduleWork(); // cleared while the image stays: describe it again
      return;
    }
    let json: unknown;
    try { json = JSON.parse(payload.toString()); } catch { return; }
    const m = faceDescriptorMessage.safeParse(json);
    if (!m.success) return;
    this.outcomes.set(key, m.data);
    this.apply(key);
  }

  /** The outcome on the bus is for this image and this model. */
  private settled(key: string): boolean {
    const img = this.images.get(key), o = this.outcomes.get(key);
    return !!img && !!o && o.sha256 === img.sha256 && o.model === FACE_MODEL_ID;
  }

  private apply(key: string): void {
    const img = this.images.get(key), o = this.outcomes.get(key);
    if (img && o && this.settled(key) && o.ok && o.descriptor?.length) this.library.set(img.name, img.id, o.descriptor);
    else if (img) this.library.delete(img.name, img.id);
  }

  private scheduleWork(): void {
    if (!this.active || this.stopped) return;
    clearTimeout(this.workTimer);
    this.workTimer = setTimeout(() => {
      if (this.working) { this.workAgain = true; return; }
      this.working = this.work().finally(() => {
        this.working = undefined;
        if (this.workAgain) { this.workAgain = false; this.scheduleWork(); }
      });
    }, this.opts.settleMs ?? 250);
  }

  /** Describes every library image that has no outcome for its bytes and this model yet, and publishes the outcomes. */
  private async work(): Promise<void> {
    for (const [key, img] of [...this.images]) {
      if (this.stopped || !this.active) return;
      if (this.images.get(key) !== img || this.settled(key)) continue;
      let msg: FaceDescriptorMessage;
      const base = { model: FACE_MODEL_ID, sha256: img.sha256, detector: this.opts.detectorId, time: Date.now() / 1000 };
      try {
        const r = await this.runner.image(img.bytes);
        msg = r.face
          ? { ...base, ok: true, face_score: r.face.score, box: r.face.box, descriptor: Array.from(r.face.descriptor, (v) => Math.round(v * 1e5) / 1e5) }
          : { ...base, ok: false, error: 'no_face', message: `no face found in the image (${r.faces} narrower than needed: ${r.tooSmall})` };
      } catch (err) {
        if (!(err instanceof FaceRunnerError) || err.code !== 'invalid_image') {
          // Model or worker trouble, not the image's fault: tried again in 30 s or at the next library change.
          if (!this.stopped) {
            this.opts.logger.warn({ face: key, err: (err as Error).message }, 'cannot describe an enrolled face now');
            setTimeout(() => this.scheduleWork(), 30_000).unref();
          }
          return;
        }
        msg = { ...base, ok: false, error: 'invalid_image', message: err.message.slice(0, 500) };
      }
      if (this.images.get(key) !== img || this.stopped) continue; // removed or replaced meanwhile
      this.outcomes.set(key, msg);
      this.apply(key);
      this.opts.bus.publishState(this.opts.topics.faceDescriptor(img.name, img.id), msg);
      this.opts.logger.info({ face: key, ok: msg.ok, error: msg.error, face_score: msg.face_score }, 'enrolled face described');
    }
  }

  // ---- objects ------------------------------------------------------------------------

  private publishUnknown(camera: string, time: number, crop: Uint8Array): void {
    const ms = String(Math.max(0, Math.round(time * 1000))).padStart(13, '0').slice(-13);
    const id = `${ms}-${randomBytes(4).toString('hex')}`;
    this.counters.unknown_published++;
    this.opts.bus.publish(this.opts.topics.faceUnknown(camera, id), Buffer.from(crop.buffer, crop.byteOffset, crop.byteLength), { qos: 1 })
      .catch((err: Error) => this.opts.logger.warn({ camera, err: err.message }, 'cannot publish an unknown face'));
  }

  /** Forgets objects not offered for {@link OBJECT_TTL_MS} (at most every 30 s). */
  private prune(now: number): void {
    if (now - this.lastPrune < 30_000) return;
    this.lastPrune = now;
    for (const [id, s] of this.objects) if (!s.inFlight && now - s.seen > OBJECT_TTL_MS) this.objects.delete(id);
  }
}
