/**
 * Everything recording on the hub side, started and stopped as one: the index (rows,
 * flags, start-up repair), the retention sweeper, export and event-clip jobs, and the
 * bus glue between them — clips for events that end on recording cameras, and a full
 * disk reported by a recorder (`…/state` `recording.last_error`) waking the sweeper.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';
import type { CameraConfig } from '../../components/protocol/camera-config.ts';
import type { VigilConfig } from '../../components/protocol/config/schema.ts';
import type { EventsRepo } from '../store/events-repo.ts';
import { RecordingsRepo } from '../store/recordings-repo.ts';
import { ExportService } from './exports.ts';
import { RecordingIndex } from './recording-index.ts';
import { RetentionSweeper } from './retention.ts';
import type { EventFeed } from './event-feed.ts';

export interface RecordingsDeps {
  ds: DataSource;
  bus: Bus;
  topics: Topics;
  logger: Logger;
  events: EventsRepo;
  /** The hub's `vigil/events` reader (segment flags, event clips). */
  feed: EventFeed;
  /** Absolute recordings root. */
  root: string;
  settings: VigilConfig['recordings'];
  /** The current config of a camera (undefined once removed). */
  cameraConfig: (camera: string) => CameraConfig | undefined;
}

export class Recordings {
  readonly repo: RecordingsRepo;
  readonly index: RecordingIndex;
  readonly exports: ExportService;
  readonly sweeper: RetentionSweeper;

  constructor(private readonly d: RecordingsDeps) {
    const { bus, topics, logger, settings, cameraConfig } = d;
    this.repo = new RecordingsRepo(d.ds);
    this.index = new RecordingIndex(this.repo, d.root, bus, topics, d.feed, logger.child({ module: 'recordings' }));
    this.exports = new ExportService({
      repo: this.repo, events: d.events, root: d.root, bus, topics, logger: logger.child({ module: 'exports' }),
      recordSettings: async (c) => cameraConfig(c)?.record,
    });
    this.sweeper = new RetentionSweeper(this.repo, bus, topics, {
      root: d.root, maxSizeGb: settings.max_size_gb, maxPercent: settings.max_percent, minFreeGb: settings.min_free_gb,
      clipRetainDays: settings.clip_retain_days, sweepIntervalS: settings.sweep_interval_s, cameraConfig,
      sweepClips: (days) => this.exports.sweepClips(days),
    }, logger.child({ module: 'retention' }));
  }

  /** Repairs the index from disk (before any camera writes), then starts jobs and sweeps. */
  async start(): Promise<void> {
    const { bus, topics, logger, cameraConfig } = this.d;
    await this.index.start();
    await this.exports.start();
    this.index.onSegment = () => void this.sweeper.sweep();
    // An event that ends on a recording camera gets its clip (pre/post capture around it).
    this.d.feed.on('event clips', ({ type, after: a }) => {
      if (type !== 'end' || a.end_time === null || a.false_positive) return;
      const rec = cameraConfig(a.camera)?.record;
      if (rec) return this.exports.onEventEnd({ id: a.id, camera: a.camera, start_time: a.start_time, end_time: a.end_time }, rec).then(() => undefined, (err: Error) => logger.warn({ err: err.message }, 'event clip not queued'));
    });
    await bus.subscribe(topics.sub.cameraLeaf('state'), (_t, payload) => {
      // Any client may publish here: a payload that is not a state object is ignored.
      let state: { recording?: { last_error?: unknown } } | null;
      try { state = JSON.parse(payload.toString()) as typeof state; } catch { return; }
      const err = state?.recording?.last_error;
      if (typeof err === 'string' && /no space left/i.test(err)) this.sweeper.reportFull(err);
    });
    this.sweeper.start();
  }

  async stop(): Promise<void> {
    await this.sweeper.stop();
    await this.exports.stop();
  }
}
