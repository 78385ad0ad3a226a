/**
 * One camera inside the camera component: one {@link CameraInput} (ffmpeg) per distinct
 * input URL of its path slots, carrying detect frames, recording segments and the live
 * fMP4 streams (main, and sub when the camera has a distinct one) as needed; motion
 * detection; the motion-gated frames for the detector; the low-rate `…/snapshot`;
 * finished segments filed and announced on `vigil/recorder/<cam>/segment`; availability
 * and counters.
 */
import type { Logger } from 'pino';
import { liveStreamUrls, type CameraConfig } from '../protocol/camera-config.ts';
import type { Bus } from '../protocol/bus.ts';
import type { Topics } from '../protocol/topics.ts';
import { encodeFrame } from '../protocol/frame-codec.ts';
import { withCredentials, type InputOutputs } from './ffmpeg.ts';
import { CameraInput, type FinishedSegment, type RawFrame } from './camera-input.ts';
import { frameWorker } from './frame-worker.ts';
import type { MotionResult } from './motion.ts';
import { fileSegment, incomingDir } from '../protocol/segments.ts';

/** JPEG quality of detect frames and snapshots (1–100). */
const JPEG_QUALITY = 80;
/** Interval of `vigil/camera/<cam>/state`, ms. */
const STATE_INTERVAL_MS = 5000;

/** Where a camera's live media goes (the in-process live view; absent in a component process without one). */
export interface LiveSink {
  /** Raw bytes of the live fragmented MP4 (fd 4). */
  fmp4(chunk: Buffer): void;
  /** ffmpeg restarted: a new init segment follows. */
  reset(): void;
  /** True while MJPEG/latest-JPEG viewers want every frame. */
  wantsJpeg(): boolean;
  /** A JPEG of a decoded frame; `ts` Unix ms. */
  jpeg(jpeg: Buffer, ts: number): void;
}

/** A camera's live streams: `main` (big view) and `sub` (small view, when the camera has a distinct one). */
export type LiveStream = 'main' | 'sub';

/** Options of a runner beyond its config. */
export interface CameraRunnerOptions {
  /** Recordings root (segments are written under it when `record.enabled`). */
  recordingsRoot?: string;
  /** Sink of the main live stream: its fMP4, and the JPEGs of the detect frames (MJPEG is main-only). */
  live?: LiveSink;
  /** Sink of the sub live stream (fMP4 only); unused when {@link liveStreamUrls} has no `sub`. */
  liveSub?: LiveSink;
}

/**
 * Which outputs each distinct input URL carries: one entry (one ffmpeg) per URL, whatever
 * reads it. `live` names the live stream an input's fMP4 output feeds, if any.
 */
export function planInputs(config: CameraConfig, recordingsRoot?: string): Array<{ url: string; outputs: InputOutputs; live?: LiveStream }> {
  const plan = new Map<string, InputOutputs>();
  const add = (url: string | undefined, o: InputOutputs) => { if (url) plan.set(url, { ...plan.get(url), ...o }); };
  const p = config.paths;
  add(p.detect ?? p.live ?? p.record, { detect: config.detect });
  const live = liveStreamUrls(config);
  add(live.main, { live: true });
  add(live.sub, { live: true });
  if (config.record.enabled && recordingsRoot) {
    add(p.record ?? p.detect ?? p.live, { record: { dir: incomingDir(recordingsRoot, config.name), segmentSeconds: config.record.segment_seconds } });
  }
  const streamOf = (url: string): LiveStream | undefined => (url === live.main ? 'main' : url === live.sub ? 'sub' : undefined);
  return [...plan].map(([url, outputs]) => {
    const stream = streamOf(url);
    return stream ? { url, outputs, live: stream } : { url, outputs };
  });
}

/** Runs one camera. `stop()` ends its ffmpeg processes and publishes `offline`. */
export class CameraRunner {
  private readonly inputs: CameraInput[];
  private readonly recordInput?: CameraInput;
  /** The input whose health is the camera's availability: the detect input. */
  private readonly primary: CameraInput;
  /** This camera's motion detector in the frame worker (`frame-worker.ts`). */
  private readonly motionDetector = frameWorker.newDetectorId();
  /** Motion masks, normalized 0–1 polygons. */
  private readonly motionMasks: Array<Array<[number, number]>>;
  private stopped = false;
  private motionOn = false;
  private lastMotionAt = 0;
  private lastDetectFrameAt = 0;
  private lastSnapshotAt = 0;
  /** Moving object count reported by the detector (`vigil/camera/<cam>/all/active`): frames keep flowing while > 0. */
  activeObjects = 0;
  private stateTimer?: NodeJS.Timeout;
  private encoding = false;
  framesSent = 0;

  constructor(readonly config: CameraConfig, private readonly bus: Bus, private readonly topics: Topics, private readonly logger: Logger, private readonly opts: CameraRunnerOptions = {}) {
    this.motionMasks = config.masks.filter((m) => m.applies_to !== 'objects').map((m) => m.coordinates);
    const plan = planInputs(config, opts.recordingsRoot);
    this.inputs = plan.map(({ url, outputs, live: stream }) => {
      const input = new CameraInput({ url: withCredentials(url, config.username, config.password), outputs, logger });
      if (outputs.detect) input.on('frame', (f: RawFrame) => this.onFrame(f));
      if (outputs.record) input.on('segment', (s: FinishedSegment) => void this.onSegment(s));
      const live = stream === 'sub' ? opts.liveSub : stream === 'main' ? opts.live : undefined;
      if (outputs.live && live) {
        input.on('fmp4', (chunk: Buffer) => live.fmp4(chunk));
        input.on('restart', () => live.reset());
      }
      return input;
    });
    this.primary = this.inputs[0]!;
    this.recordInput = this.inputs.find((_, k) => plan[k]!.outputs.record);
    this.primary.on('online', () => {
      this.logger.info('camera online');
      this.bus.publishState(this.topics.cameraAvailability(config.name), 'online');
      this.publishState();
    });
    this.primary.on('offline', (reason: string) => {
      this.bus.publishState(this.topics.cameraAvailability(config.name), 'offline');
      this.setMotion(false);
      this.publishState();
      this.logger.warn({ reason }, 'camera offline');
    });
  }

  /** Starts ffmpeg and the state timer. */
  start(): void {
    this.bus.publishState(this.topics.cameraMotion(this.config.name), 'OFF');
    for (const i of this.inputs) i.start();
    this.stateTimer = setInterval(() => this.publishState(), STATE_INTERVAL_MS);
    this.stateTimer.unref();
  }

  /** Stops ffmpeg; publishes `offline` and motion `OFF`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.stateTimer);
    frameWorker.forget(this.motionDetector);
    await Promise.all(this.inputs.map((i) => i.stop()));
    this.bus.publishState(this.topics.cameraAvailability(this.config.name), 'offline');
    this.setMotion(false);
    this.publishState();
  }

  /** Files a finished segment and announces it. */
  private async onSegment(s: FinishedSegment): Promise<void> {
    const root = this.opts.recordingsRoot;
    if (!root) return;
    try {
      const info = await fileSegment(root, this.config.name, s.file, s.start, s.end);
      this.bus.send(this.topics.recorderSegment(this.config.name), info, { qos: 1 });
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'could not file a recording segment (left for the start-up repair)');
    }
  }

  /** Counters for `vigil/camera/<cam>/state` and `/api/system`. */
  status(): Record<string, unknown> {
    const [main, ...others] = this.inputs.map((i) => i.stats);
    const rec = this.recordInput?.stats;
    return {
      ...main, motion: this.motionOn, detect_frames_sent: this.framesSent,
      ...(rec ? { recording: { status: rec.status, segments: rec.segments, last_segment: rec.last_segment, restarts: rec.restarts, last_error: rec.last_error } } : {}),
      ...(others.length ? { inputs: others.map((o) => ({ status: o.status, restarts: o.restarts, last_error: o.last_error })) } : {}),
    };
  }

  private publishState(): void {
    this.bus.publishState(this.topics.cameraState(this.config.name), this.status());
  }

  private setMotion(on: boolean): void {
    if (on === this.motionOn) return;
    this.motionOn = on;
    this.bus.publishState(this.topics.cameraMotion(this.config.name), on ? 'ON' : 'OFF');
  }

  /** A detect frame: motion detection (in the frame worker, in order), then {@link afterMotion}. */
  private onFrame(f: RawFrame): void {
    if (this.stopped) { f.release?.(); return; } // a frame after stop() would make the worker a detector it never forgets
    const cfg = this.config;
    if (!cfg.motion.enabled) { this.afterMotion(f, { motion: false, changed: 0, boxes: [] }); return; }
    frameWorker.motion(this.motionDetector, cfg.motion, this.motionMasks, f.rgb, f.width, f.height).then(
      (m) => this.afterMotion(f, m),
      (err: Error) => { f.release?.(); if (!this.stopped) this.logger.warn({ err: err.message }, 'motion detection failed'); },
    );
  }

  /** Motion state, then the frame's JPEG for the detector, the live view and the snapshot, as each wants. */
  private afterMotion(f: RawFrame, m: MotionResult): void {
    if (this.stopped) { f.release?.(); return; } // results of frames in flight at stop
    const cfg = this.config;
    const { motion, boxes: motionBoxes } = m;
    if (cfg.motion.enabled) {
      if (motion) { this.lastMotionAt = f.ts; this.setMotion(true); }
      else if (this.motionOn && f.ts - this.lastMotionAt > cfg.motion.off_delay * 1000) this.setMotion(false);
    }
    const wantDetect = cfg.detect.enabled && (
      motion || this.activeObjects > 0 || !cfg.motion.enabled ||
      f.ts - this.lastDetectFrameAt >= cfg.detect.interval_without_motion * 1000);
    const wantSnapshot = cfg.snapshots.enabled && f.ts - this.lastSnapshotAt >= cfg.snapshots.interval * 1000;
    const wantLive = this.opts.live?.wantsJpeg() ?? false;
    if ((!wantDetect && !wantSnapshot && !wantLive) || this.encoding) { f.release?.(); return; }
    this.encoding = true; // one encode at a time per camera: frames arriving meanwhile are skipped
    // Encoded in the frame worker (`frame-worker.ts`) that reads the frame in place: it goes back once encoded.
    frameWorker.encode(f.rgb, f.width, f.height, JPEG_QUALITY)
      .then((jpeg) => {
        if (wantDetect) {
          this.lastDetectFrameAt = f.ts;
          this.framesSent++;
          this.bus.send(this.topics.cameraFrame(cfg.name), encodeFrame({ camera: cfg.name, seq: f.seq, ts: f.ts, width: f.width, height: f.height, motion, motion_boxes: motionBoxes }, jpeg));
        }
        if (wantLive) this.opts.live!.jpeg(jpeg, f.ts);
        if (wantSnapshot) {
          this.lastSnapshotAt = f.ts;
          this.bus.send(this.topics.cameraSnapshot(cfg.name), jpeg, { retain: true });
        }
      })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'jpeg encode failed'))
      .finally(() => { this.encoding = false; f.release?.(); });
  }
}
