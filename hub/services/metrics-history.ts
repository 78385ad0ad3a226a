/**
 * The last hour of the hub's figures for the System page's charts (`GET /api/system/metrics`):
 * every `intervalMs` (5 s) one sample of the hub process's CPU (`process.cpuUsage` delta over
 * the wall time since the previous sample; 100 % = one core busy, as `top` counts), its
 * resident memory and V8 heap (bytes), the detectors' mean inference time (their
 * `inference_ms` from `vigil/component/<id>/state`, as `SystemStatus` keeps them) and each
 * camera's fps (its `vigil/camera/<cam>/state`). Kept in a ring of {@link METRICS_POINTS}.
 */
import type { SystemStatus } from './system-status.ts';

/** Default sampling interval, ms. */
export const METRICS_INTERVAL_MS = 5_000;
/** Samples kept: one hour at the default interval. */
export const METRICS_POINTS = 720;

/** One sample. Times Unix ms; `null` = not known (no detector has inferred yet). */
export interface MetricsPoint {
  t: number;
  /** CPU time of the hub process (its worker threads included) over the last interval, % of one core (may exceed 100). */
  cpu_percent: number;
  /** Resident set size, bytes. */
  rss_bytes: number;
  /** V8 heap in use, bytes. */
  heap_bytes: number;
  /** Mean model time per inference of the online detectors, ms. */
  inference_ms: number | null;
  /** Frames per second each camera decoded (its last 5 s), by camera name. */
  cameras: Record<string, { fps: number }>;
}

/** Samples the hub's figures on a timer into a ring buffer. */
export class MetricsHistory {
  private readonly points: MetricsPoint[] = [];
  private timer?: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();

  /**
   * @param status where component and camera states come from
   * @param intervalMs sampling interval, ms (tests use a short one)
   * @param capacity samples kept
   */
  constructor(private readonly status: SystemStatus, readonly intervalMs = METRICS_INTERVAL_MS, readonly capacity = METRICS_POINTS) {}

  /** Starts sampling (the first sample comes after one interval: CPU needs a span). */
  start(): void {
    this.lastCpu = process.cpuUsage();
    this.lastAt = process.hrtime.bigint();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void { clearInterval(this.timer); }

  /** Takes one sample now and keeps it. */
  sample(): MetricsPoint {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(now - this.lastAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const mem = process.memoryUsage();
    const cameras: Record<string, { fps: number }> = {};
    for (const [name, c] of this.status.cameras) {
      const fps = c.state?.fps;
      cameras[name] = { fps: c.availability === 'online' && typeof fps === 'number' ? fps : 0 };
    }
    const p: MetricsPoint = {
      t: Date.now(),
      cpu_percent: round1(elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs) * 100 : 0),
      rss_bytes: mem.rss,
      heap_bytes: mem.heapUsed,
      inference_ms: this.inferenceMs(),
      cameras,
    };
    this.points.push(p);
    if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
    return p;
  }

  /** Samples taken after `since` (Unix ms; default all), oldest first. */
  since(since = 0): MetricsPoint[] {
    return this.points.filter((p) => p.t > since);
  }

  /** The newest sample, if any. */
  get latest(): MetricsPoint | undefined { return this.points[this.points.length - 1]; }

  /** Mean `inference_ms` of the components that report one, are not offline and have inferred. */
  private inferenceMs(): number | null {
    const ms: number[] = [];
    for (const [, c] of this.status.components) {
      const v = c.state?.inference_ms;
      if (c.availability !== 'offline' && typeof v === 'number' && Number(c.state?.inferences ?? 1) > 0) ms.push(v);
    }
    return ms.length ? round1(ms.reduce((a, b) => a + b, 0) / ms.length) : null;
  }
}

function round1(x: number): number { return Math.round(x * 10) / 10; }
