/**
 * One camera inside the camera component: its {@link FrameSource}, motion detection,
 * the motion-gated frames for the detector, the low-rate `…/snapshot`, availability
 * and counters.
 */
import sharp from 'sharp';
import type { Logger } from 'pino';
import type { CameraConfig } from '../camera-config.ts';
import type { Bus } from '../bus/bus.ts';
import type { Topics } from '../bus/topics.ts';
import { encodeFrame } from '../bus/frame-codec.ts';
import { withCredentials } from './ffmpeg.ts';
import { FrameSource, type RawFrame } from './frame-source.ts';
import { MotionDetector } from './motion.ts';

/** JPEG quality of detect frames and snapshots (1–100). */
const JPEG_QUALITY = 80;
/** Interval of `vigil/camera/<cam>/state`, ms. */
const STATE_INTERVAL_MS = 5000;

/** Runs one camera. `stop()` ends ffmpeg and publishes `offline`. */
export class CameraRunner {
  private readonly source: FrameSource;
  private readonly motion: MotionDetector;
  private motionOn = false;
  private lastMotionAt = 0;
  private lastDetectFrameAt = 0;
  private lastSnapshotAt = 0;
  /** Live object count reported by the detector (`vigil/camera/<cam>/all`): frames keep flowing while > 0. */
  activeObjects = 0;
  private stateTimer?: NodeJS.Timeout;
  private encoding = false;
  framesSent = 0;

  constructor(readonly config: CameraConfig, private readonly bus: Bus, private readonly topics: Topics, private readonly logger: Logger) {
    const url = config.paths.detect ?? config.paths.live ?? config.paths.record!;
    this.source = new FrameSource({ url: withCredentials(url, config.username, config.password), detect: config.detect, logger });
    this.motion = new MotionDetector(config.motion, config.masks.filter((m) => m.applies_to !== 'objects').map((m) => m.coordinates));
    this.source.on('frame', (f: RawFrame) => this.onFrame(f));
    this.source.on('online', () => {
      this.logger.info('camera online');
      this.bus.publishState(this.topics.cameraAvailability(config.name), 'online');
      this.publishState();
    });
    this.source.on('offline', (reason: string) => {
      this.bus.publishState(this.topics.cameraAvailability(config.name), 'offline');
      this.setMotion(false);
      this.publishState();
      this.logger.warn({ reason }, 'camera offline');
    });
  }

  /** Starts ffmpeg and the state timer. */
  start(): void {
    this.bus.publishState(this.topics.cameraMotion(this.config.name), 'OFF');
    this.source.start();
    this.stateTimer = setInterval(() => this.publishState(), STATE_INTERVAL_MS);
    this.stateTimer.unref();
  }

  /** Stops ffmpeg; publishes `offline` and motion `OFF`. */
  async stop(): Promise<void> {
    clearInterval(this.stateTimer);
    await this.source.stop();
    this.bus.publishState(this.topics.cameraAvailability(this.config.name), 'offline');
    this.setMotion(false);
    this.publishState();
  }

  /** Counters for `vigil/camera/<cam>/state` and `/api/system`. */
  status(): Record<string, unknown> {
    return { ...this.source.stats, motion: this.motionOn, detect_frames_sent: this.framesSent };
  }

  private publishState(): void {
    this.bus.publishState(this.topics.cameraState(this.config.name), this.status());
  }

  private setMotion(on: boolean): void {
    if (on === this.motionOn) return;
    this.motionOn = on;
    this.bus.publishState(this.topics.cameraMotion(this.config.name), on ? 'ON' : 'OFF');
  }

  private onFrame(f: RawFrame): void {
    const cfg = this.config;
    let motion = false;
    if (cfg.motion.enabled) {
      motion = this.motion.update(f.rgb, f.width, f.height).motion;
      if (motion) { this.lastMotionAt = f.ts; this.setMotion(true); }
      else if (this.motionOn && f.ts - this.lastMotionAt > cfg.motion.off_delay * 1000) this.setMotion(false);
    }
    const wantDetect = cfg.detect.enabled && (
      motion || this.activeObjects > 0 || !cfg.motion.enabled ||
      f.ts - this.lastDetectFrameAt >= cfg.detect.interval_without_motion * 1000);
    const wantSnapshot = cfg.snapshots.enabled && f.ts - this.lastSnapshotAt >= cfg.snapshots.interval * 1000;
    if ((!wantDetect && !wantSnapshot) || this.encoding) return;
    this.encoding = true; // one encode at a time per camera: frames arriving meanwhile are skipped
    sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } })
      .jpeg({ quality: JPEG_QUALITY })
      .toBuffer()
      .then((jpeg) => {
        if (wantDetect) {
          this.lastDetectFrameAt = f.ts;
          this.framesSent++;
          this.bus.send(this.topics.cameraFrame(cfg.name), encodeFrame({ camera: cfg.name, seq: f.seq, ts: f.ts, width: f.width, height: f.height, motion }, jpeg));
        }
        if (wantSnapshot) {
          this.lastSnapshotAt = f.ts;
          this.bus.send(this.topics.cameraSnapshot(cfg.name), jpeg, { retain: true });
        }
      })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'jpeg encode failed'))
      .finally(() => { this.encoding = false; });
  }
}
