/**
 * Licence plate recognition as an {@link Enricher} (Frigate 0.16's LPR,
 * `frigate/data_processing/common/license_plate/mixin.py` `lpr_process`): reads the plate
 * inside `car` / `motorcycle` objects of cameras with `lpr.enabled`, names known plates
 * (`lpr.known_plates`) and returns `{type: 'lpr', plate, score, name, box}`.
 *
 * When it looks (`wants`), after Frigate:
 * - moving vehicles: at most once per `interval` s per object, to refine the read;
 * - stationary vehicles: only while unread, and for at most `stationaryScanSeconds` (5 s,
 *   Frigate's `stationary_scan_duration`) after they became stationary — no OCR on parked
 *   cars already read;
 * - vehicles at least 2 × `lpr.min_plate_size` px wide (a plate is never more than about
 *   half a vehicle's width in view), and only while the OCR thread has room.
 *
 * A result is returned only when it beats the object's best read so far (a higher score),
 * so a later, worse read never replaces a good one.
 */
import type { CameraConfig } from '../../protocol/camera-config.ts';
import type { Box } from '../../protocol/tracked-object.ts';
import type { EnrichInput, EnrichResult, Enricher } from '../enrichment.ts';
import { compileKnownPlates, matchKnownPlate, type KnownPlates } from './known-plates.ts';
import { acquirePlateOcr, releasePlateOcr, type OcrLogger, type PlateOcrThread } from './ocr-thread.ts';

/** Labels whose plates are read (Frigate's `lp_objects` for COCO-style models). */
export const PLATE_LABELS: ReadonlySet<string> = new Set(['car', 'motorcycle']);

/** Options of {@link PlateEnricher}. */
export interface PlateEnricherOptions {
  /** Seconds between two reads of one moving object; default 1. */
  interval?: number;
  /** Seconds an unread stationary object is still looked at after it stopped; default 5 (Frigate). */
  stationaryScanSeconds?: number;
  /** onnxruntime threads of the OCR worker; default 1. */
  threads?: number;
  /** A read taking longer restarts the OCR worker, ms; default 20 000. */
  timeoutMs?: number;
  /** Where warnings go (OCR failures, model load); default silent. */
  logger?: OcrLogger & { debug?(...args: unknown[]): void };
}

interface ObjectState {
  /** Frame time of the last read started, Unix s. */
  lastAttempt: number;
  /** Frame time the object was first offered as stationary (cleared when it moves), Unix s. */
  stationarySince: number | null;
  /** Best read so far. */
  best: { plate: string; score: number } | null;
  /** Frame time the object was last offered, Unix s. */
  lastSeen: number;
}

type LprConfig = CameraConfig['lpr'];

/** Objects not offered for this long are forgotten, s. */
const FORGET_AFTER_S = 120;

/**
 * Reads licence plates of vehicles.
 *
 * ```ts
 * const lpr = new PlateEnricher({ logger });
 * if (lpr.wants({ camera, object, time })) {
 *   const r = await lpr.enrich({ camera, object, time, frame: { jpeg, width, height } });
 *   // r: { type: 'lpr', plate: 'ABC1234', score: 0.97, name: "Wife's car" | null, box } | null
 * }
 * await lpr.stop();
 * ```
 */
export class PlateEnricher implements Enricher {
  readonly type = 'lpr' as const;
  private readonly opts: Required<Omit<PlateEnricherOptions, 'logger'>> & Pick<PlateEnricherOptions, 'logger'>;
  private readonly objects = new Map<string, ObjectState>();
  private readonly known = new WeakMap<object, KnownPlates>();
  private ocr: PlateOcrThread | null = null;
  private stopped = false;
  private lastSweep = 0;

  /** @throws RangeError for a non-positive `interval` or a negative `stationaryScanSeconds`. */
  constructor(opts: PlateEnricherOptions = {}) {
    this.opts = {
      interval: opts.interval ?? 1,
      stationaryScanSeconds: opts.stationaryScanSeconds ?? 5,
      threads: opts.threads ?? 1,
      timeoutMs: opts.timeoutMs ?? 20_000,
      logger: opts.logger,
    };
    if (!(this.opts.interval > 0)) throw new RangeError(`interval must be > 0 s, got ${this.opts.interval}`);
    if (!(this.opts.stationaryScanSeconds >= 0)) throw new RangeError(`stationaryScanSeconds must be ≥ 0 s, got ${this.opts.stationaryScanSeconds}`);
  }

  /**
   * Whether the object is worth a read now (cheap, no I/O): a `car` / `motorcycle` of a
   * camera with `lpr.enabled`, at least 2 × `lpr.min_plate_size` px wide, not read within
   * `interval` s, not a stationary object that was already read (or stationary for more than
   * `stationaryScanSeconds`), and the OCR thread not full.
   */
  wants(input: Omit<EnrichInput, 'frame'>): boolean {
    const cfg = lprConfig(input.camera);
    if (this.stopped || !cfg?.enabled || !PLATE_LABELS.has(input.object.label)) return false;
    const [x0, , x1] = input.object.box;
    if (!(x1 - x0 >= 2 * cfg.min_plate_size)) return false;
    this.sweep(input.time);
    const st = this.state(input.object.id, input.time);
    if (input.object.stationary) {
      if (st.best || input.object.sub_label) return false;
      st.stationarySince ??= input.time;
      if (input.time - st.stationarySince > this.opts.stationaryScanSeconds) return false;
    } else {
      st.stationarySince = null;
    }
    const since = input.time - st.lastAttempt;
    if (since >= 0 && since < this.opts.interval) return false; // (a clock that went back does not block)
    return !(this.ocr?.saturated ?? false);
  }

  /**
   * Reads the plate of the object in the frame, in the OCR worker thread (the models load on
   * the first call).
   * @returns `{type: 'lpr', plate, score, name, box}` when a plate was read with at least
   *   `lpr.min_score` and beats the object's best read so far; null otherwise (LPR off, not a
   *   vehicle, box too small, no plate, a weak read, a bad JPEG, the OCR busy or failing —
   *   failures are logged).
   * @throws Error (rejects) only once the enricher is stopped.
   */
  async enrich(input: EnrichInput): Promise<EnrichResult | null> {
    if (this.stopped) throw new Error('PlateEnricher is stopped');
    const cfg = lprConfig(input.camera);
    if (!cfg?.enabled || !PLATE_LABELS.has(input.object.label)) return null;
    const box = input.object.box;
    if (!box.every(Number.isFinite) || box[2] - box[0] < cfg.min_plate_size || box[3] - box[1] < 1) return null;
    const st = this.state(input.object.id, input.time);
    st.lastAttempt = input.time;
    this.ocr ??= acquirePlateOcr({ threads: this.opts.threads, timeoutMs: this.opts.timeoutMs, logger: this.opts.logger });

    let result;
    try {
      result = await this.ocr.read(input.frame.jpeg, box, { minPlateWidth: cfg.min_plate_size });
    } catch (err) {
      if (this.stopped) throw new Error('PlateEnricher is stopped');
      const msg = err instanceof Error ? err.message : String(err);
      if (msg === 'plate OCR busy') this.opts.logger?.debug?.({ camera: input.camera.name }, 'plate OCR busy; skipped');
      else this.opts.logger?.warn({ camera: input.camera.name, id: input.object.id, err: msg }, 'plate read failed');
      return null;
    }
    if (this.stopped) throw new Error('PlateEnricher is stopped');
    const r = result.reading;
    this.opts.logger?.debug?.(
      { camera: input.camera.name, id: input.object.id, plate: r?.plate, score: r?.score, reason: result.reason, texts: result.texts, ms: Math.round(result.totalMs) },
      'plate read',
    );
    if (!r || r.score < cfg.min_score) return null;
    if (st.best && st.best.score >= r.score) return null;
    st.best = { plate: r.plate, score: r.score };
    const box4: Box = [r.box[0], r.box[1], r.box[2], r.box[3]];
    return { type: 'lpr', plate: r.plate, score: r.score, name: matchKnownPlate(r.plate, this.knownPlates(cfg)), box: box4 };
  }

  /** Stops the enricher and releases the shared OCR thread (the last release frees the models). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.objects.clear();
    const ocr = this.ocr;
    this.ocr = null;
    if (ocr) await releasePlateOcr(ocr);
  }

  private state(id: string, time: number): ObjectState {
    let st = this.objects.get(id);
    if (!st) {
      st = { lastAttempt: -Infinity, stationarySince: null, best: null, lastSeen: time };
      this.objects.set(id, st);
    }
    st.lastSeen = time;
    return st;
  }

  /** Forgets objects not offered for {@link FORGET_AFTER_S} (ended events), at most every 10 s. */
  private sweep(time: number): void {
    if (time - this.lastSweep < 10) return;
    this.lastSweep = time;
    for (const [id, st] of this.objects) if (time - st.lastSeen > FORGET_AFTER_S) this.objects.delete(id);
  }

  /** The camera's compiled known plates, cached per config object. */
  private knownPlates(cfg: LprConfig): KnownPlates {
    let k = this.known.get(cfg.known_plates);
    if (!k) {
      k = compileKnownPlates(cfg.known_plates);
      this.known.set(cfg.known_plates, k);
    }
    return k;
  }
}

/** The camera's `lpr` block (absent in configs from a hub older than LPR). */
function lprConfig(camera: CameraConfig): LprConfig | undefined {
  return (camera as Partial<CameraConfig>).lpr;
}
