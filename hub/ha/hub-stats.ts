/**
 * The hub's health figures, retained on `vigil/hub/stats` every 30 s (dashboards, Home
 * Assistant's hub sensors): CPU and memory of the hub process (`process.cpuUsage`,
 * `process.memoryUsage`), storage from the storage alert (`vigil/hub/storage`), the
 * detectors' mean inference time (from `vigil/component/<id>/state`, as the system status
 * collects it) and the number of events started today (local time).
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Bus } from '../../components/protocol/bus.ts';
import type { Topics } from '../../components/protocol/topics.ts';

/** Default interval of `vigil/hub/stats`, ms. */
export const HUB_STATS_INTERVAL_MS = 30_000;

/** The JSON of `vigil/hub/stats`; a figure not known yet is `null`. */
export interface HubStatsPayload {
  /** CPU time of the hub process (its worker threads included) since the last figure, % of all cores. */
  cpu_percent: number;
  /** Resident memory of the hub process, MiB. */
  memory_mib: number;
  /** Used space of the recordings volume, % (`vigil/hub/storage` `used_percent`). */
  storage_used_percent: number | null;
  /** Mean inference time of the running detectors, ms (their `inference_ms`, averaged). */
  inference_ms: number | null;
  /** Events that started since local midnight. */
  events_today: number;
  /** Seconds since the hub process started. */
  uptime_s: number;
  /** When the figures were taken, Unix ms. */
  time: number;
}

/** A component as the system status knows it (`SystemStatus.components`). */
export interface ComponentView { availability: string; state: Record<string, unknown> | null }

/** What the stats publisher reads. */
export interface HubStatsDeps {
  bus: Bus;
  topics: Topics;
  logger: Logger;
  /** Components by id, kept current from the bus. */
  components: () => Iterable<[string, ComponentView]>;
  /** Events whose `start_time` (Unix s) is at or after `since`. */
  eventsSince: (since: number) => Promise<number>;
  intervalMs?: number;
}

/** Publishes {@link HubStatsPayload} retained on start, every interval and on demand. */
export class HubStats {
  private timer?: NodeJS.Timeout;
  private storagePercent: number | null = null;
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();

  constructor(private readonly d: HubStatsDeps) {}

  /** Follows the storage alert and publishes the first figures. */
  async start(): Promise<void> {
    const { bus, topics } = this.d;
    await bus.subscribe(topics.hubStorage(), (_t, payload) => {
      try {
        const v = (JSON.parse(payload.toString()) as { used_percent?: unknown }).used_percent;
        this.storagePercent = typeof v === 'number' ? v : null;
      } catch {
        this.storagePercent = null;
      }
    });
    await this.publish();
    this.timer = setInterval(() => { void this.publish(); }, this.d.intervalMs ?? HUB_STATS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the periodic figures (the last ones stay retained). */
  stop(): void { clearInterval(this.timer); }

  /** Takes the figures now and publishes them retained (a failure is logged). */
  async publish(): Promise<void> {
    try {
      this.d.bus.publishState(this.d.topics.hubStats(), await this.figures());
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'hub stats not published');
    }
  }

  /** The current figures. */
  async figures(): Promise<HubStatsPayload> {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(now - this.lastAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    return {
      cpu_percent: round1(elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs / availableParallelism()) * 100 : 0),
      memory_mib: round1(process.memoryUsage().rss / 2 ** 20),
      storage_used_percent: this.storagePercent,
      inference_ms: this.inferenceMs(),
      events_today: await this.d.eventsSince(midnight.getTime() / 1000),
      uptime_s: Math.round(process.uptime()),
      time: Date.now(),
    };
  }

  /** Mean `inference_ms` of online components that report one and have inferred. */
  private inferenceMs(): number | null {
    const ms: number[] = [];
    for (const [, c] of this.d.components()) {
      const v = c.state?.inference_ms;
      if (c.availability !== 'offline' && typeof v === 'number' && Number(c.state?.inferences ?? 1) > 0) ms.push(v);
    }
    return ms.length ? round1(ms.reduce((a, b) => a + b, 0) / ms.length) : null;
  }
}

function round1(x: number): number { return Math.round(x * 10) / 10; }
