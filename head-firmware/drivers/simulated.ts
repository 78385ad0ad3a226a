/**
 * Simulated head hardware for development and tests: realistic readings that change over
 * time and a record of every command the modules send.
 *
 * Readings follow mean-reverting random walks (Ornstein–Uhlenbeck: each step
 * `x += θ(μ − x)·dt + σ·√dt·N(0,1)`, then reflected into the range), so they drift slowly
 * and never leave their range:
 * - head temperature 35–45 °C around 38 °C, +4 °C with the light at 100 % (the LEDs heat the housing);
 * - housing pressure 1000–1025 hPa around 1013.25 hPa (standard atmosphere);
 * - FPGA temperature 50–70 °C around 60 °C.
 * The means, ranges and step sizes are ours (the seed names the sensors, not their figures).
 * The disc turns at up to 36 °/s (6 rpm) at ±100 %; storage is a 32 GB card whose free
 * space wanders.
 */
import os from 'node:os';
import type {
  CameraDriver, ClockDriver, Drivers, ImageSettings, LightDriver, NetworkConfig, NetworkDriver, PipPosition, RotationDriver,
  SensorReading, SensorsDriver, StorageDriver, StorageReading, StreamSettings, SystemDriver, SystemInfo, Unwatch, UserSummary, UsersDriver,
} from './types.ts';

/** Commands kept in {@link SimulatedHardware.commands} (a long-running simulated head must not grow). */
export const MAX_COMMANDS = 1000;

export interface SimulatedOptions {
  /** Period of sensor, disc and storage readings, ms. Default 1000. */
  periodMs?: number;
  /** Simulated seconds per real second (tests speed the drift up). Default 1. */
  timeScale?: number;
  /** Seed of the random walks: the same seed gives the same sequence. Default: random. */
  seed?: number;
  /** Supported stream resolutions, `WxH`. Default 640x480, 1280x720, 1920x1080. */
  resolutions?: string[];
  /** The head's users. Default one `admin`. */
  users?: UserSummary[];
  /** Firmware version. Default `0.1.0-sim`. */
  version?: string;
}

/** What the simulated hardware was last told (undefined: never told). */
export interface SimulatedHardware {
  /** PWM duty per light channel, %. */
  light: number[];
  autoRotate?: boolean;
  discSpeed: number;
  image: Partial<ImageSettings>;
  stream?: StreamSettings;
  zoom?: number;
  pip?: { enabled: boolean; position: PipPosition };
  network?: NetworkConfig;
  timezone?: string;
  ntp?: boolean;
  /** The last {@link MAX_COMMANDS} commands, in order: `light.setLevel`, `camera.setZoom` … */
  commands: string[];
}

/**
 * mulberry32 (Tommy Ettinger, public domain): a small seeded PRNG, uniform in [0, 1).
 * Enough for simulated sensor noise; not for anything secret.
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One mean-reverting random walk kept inside [min, max]. θ: 1/s; σ: units/√s. */
class Walk {
  constructor(public x: number, private readonly min: number, private readonly max: number, private readonly theta: number, private readonly sigma: number) {}
  step(mean: number, dt: number, gauss: () => number): number {
    let x = this.x + this.theta * (mean - this.x) * dt + this.sigma * Math.sqrt(dt) * gauss();
    // Reflect at the bounds (twice covers any step shorter than the range).
    for (let i = 0; i < 2; i++) {
      if (x > this.max) x = 2 * this.max - x;
      if (x < this.min) x = 2 * this.min - x;
    }
    this.x = Math.min(this.max, Math.max(this.min, x));
    return this.x;
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** The simulated drivers; `stop()` ends every timer. */
export class SimulatedDrivers implements Drivers {
  readonly hw: SimulatedHardware = { light: [], discSpeed: 0, image: {}, commands: [] };
  readonly light: LightDriver;
  readonly rotation: RotationDriver;
  readonly sensors: SensorsDriver;
  readonly camera: CameraDriver;
  readonly storage: StorageDriver;
  readonly network: NetworkDriver;
  readonly clock: ClockDriver;
  readonly system: SystemDriver;
  readonly users: UsersDriver;

  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, string>();
  private readonly rand: () => number;
  private readonly periodMs: number;
  private readonly timeScale: number;
  private userList: UserSummary[];
  private readonly userWatchers = new Set<(u: UserSummary[]) => void>();

  constructor(opts: SimulatedOptions = {}) {
    this.periodMs = opts.periodMs ?? 1000;
    this.timeScale = opts.timeScale ?? 1;
    if (!(this.periodMs > 0) || !(this.timeScale > 0)) throw new Error('simulated drivers: periodMs and timeScale must be > 0');
    this.rand = mulberry32(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
    const resolutions = opts.resolutions ?? ['640x480', '1280x720', '1920x1080'];
    this.userList = (opts.users ?? [{ name: 'admin', role: 'admin' }]).map((u) => ({ ...u }));
    const version = opts.version ?? '0.1.0-sim';
    const hw = this.hw;
    const cmd = (name: string) => {
      hw.commands.push(name);
      if (hw.commands.length > MAX_COMMANDS) hw.commands.splice(0, hw.commands.length - MAX_COMMANDS);
      const msg = this.failures.get(name);
      if (msg !== undefined) {
        this.failures.delete(name);
        throw new Error(msg);
      }
    };

    this.light = {
      setLevel: (channel, percent) => { cmd('light.setLevel'); hw.light[channel] = percent; },
    };

    let discPos = 0;
    this.rotation = {
      setAutoRotate: (on) => { cmd('rotation.setAutoRotate'); hw.autoRotate = on; },
      setDiscSpeed: (percent) => { cmd('rotation.setDiscSpeed'); hw.discSpeed = percent; },
      watchPosition: (cb) => this.every(this.periodMs, (dt) => {
        discPos = (((discPos + (hw.discSpeed / 100) * 36 * dt) % 360) + 360) % 360;
        cb(round(discPos, 1) % 360);
      }),
    };

    const headTemp = new Walk(38 + 4 * this.rand(), 35, 45, 0.02, 0.12);
    const pressure = new Walk(1013.25, 1000, 1025, 0.01, 0.05);
    const fpga = new Walk(58 + 4 * this.rand(), 50, 70, 0.03, 0.3);
    this.sensors = {
      watch: (cb) => this.every(this.periodMs, (dt) => {
        const lightPct = hw.light[0] ?? 0;
        const g = () => this.gauss();
        const r: SensorReading = {
          temperature_c: round(headTemp.step(38 + 0.04 * lightPct, dt, g), 2),
          pressure_hpa: round(pressure.step(1013.25, dt, g), 2),
          fpga_temperature_c: round(fpga.step(60, dt, g), 2),
        };
        cb(r);
      }),
    };

    this.camera = {
      supportedResolutions: () => [...resolutions],
      setImage: (name, value) => { cmd('camera.setImage'); hw.image = { ...hw.image, [name]: value }; },
      setStream: (s) => { cmd('camera.setStream'); hw.stream = { ...s }; },
      setZoom: (level) => { cmd('camera.setZoom'); hw.zoom = level; },
      setPip: (enabled, position) => { cmd('camera.setPip'); hw.pip = { enabled, position }; },
    };

    const total = 32_000_000_000;
    const free = new Walk(0.6 * total, 0, total, 0.001, 5_000_000);
    this.storage = {
      watch: (cb) => this.every(this.periodMs, (dt) => {
        const r: StorageReading = { total_bytes: total, free_bytes: Math.round(free.step(0.6 * total, dt, () => this.gauss())) };
        cb(r);
      }),
    };

    this.network = { apply: (c) => { cmd('network.apply'); hw.network = { ...c }; } };

    this.clock = {
      setTimezone: (tz) => { cmd('clock.setTimezone'); hw.timezone = tz; },
      setNtp: (on) => { cmd('clock.setNtp'); hw.ntp = on; },
      watch: (cb) => this.every(1000, () => cb(new Date())),
    };

    const info = (): SystemInfo => ({ hostname: os.hostname(), arch: os.arch(), cpus: os.cpus().length, memory_bytes: os.totalmem(), uptime_s: Math.round(os.uptime()) });
    this.system = {
      version: () => version,
      info,
      watchInfo: (cb) => this.every(60_000, () => cb(info())),
    };

    this.users = {
      list: () => this.userList.map((u) => ({ ...u })),
      watch: (cb) => {
        this.userWatchers.add(cb);
        return () => { this.userWatchers.delete(cb); };
      },
    };
  }

  /** The next call of `command` (e.g. `camera.setZoom`) throws `message` — a refusing device. */
  failNext(command: string, message: string): void {
    this.failures.set(command, message);
  }

  /** Replaces the user list (as the user database would) and tells the watchers. */
  setUsers(users: UserSummary[]): void {
    this.userList = users.map((u) => ({ ...u }));
    for (const cb of [...this.userWatchers]) cb(this.users.list());
  }

  /** Stops every reading timer. */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.userWatchers.clear();
  }

  /** Standard normal deviate (Box–Muller) from the seeded PRNG. */
  private gauss(): number {
    const u = 1 - this.rand();
    const v = this.rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Calls `tick(dt)` every `ms` (dt: simulated seconds since the last tick); unref'd so it never keeps a process alive. */
  private every(ms: number, tick: (dt: number) => void): Unwatch {
    let last = performance.now();
    const t = setInterval(() => {
      const now = performance.now();
      const dt = ((now - last) / 1000) * this.timeScale;
      last = now;
      try {
        tick(dt);
      } catch {
        // A reading callback that throws must not stop the simulation.
      }
    }, ms);
    t.unref();
    this.timers.add(t);
    return () => {
      clearInterval(t);
      this.timers.delete(t);
    };
  }
}

/** Simulated drivers with `opts` (see {@link SimulatedOptions}). */
export function createSimulatedDrivers(opts: SimulatedOptions = {}): SimulatedDrivers {
  return new SimulatedDrivers(opts);
}
