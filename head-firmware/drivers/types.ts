/**
 * The hardware the head's state modules drive and read (`../modules/`). The simulated
 * drivers (`simulated.ts`) implement these for development and tests; a Raspberry Pi build
 * replaces them (PWM on a GPIO for the light, I²C sensors, V4L2 controls for the camera,
 * NetworkManager, timedatectl …) without touching the modules.
 *
 * Setters may be async; a throw or rejection refuses the write (the store's `rejected`).
 * `watch(cb)` calls `cb` with each new reading, at the driver's own pace, until the
 * returned function is called.
 */

/** Stops a `watch`. Idempotent. */
export type Unwatch = () => void;

/** Light (the seed's `setPwmLightLevel`). */
export interface LightDriver {
  /** Sets the PWM duty cycle of light `channel` (0 = the head's one light), 0–100 %. */
  setLevel(channel: number, percent: number): void | Promise<void>;
}

/** The rotating disc and automatic image rotation. */
export interface RotationDriver {
  /** Keeps the picture upright as the head turns (auto-rotate) on or off. */
  setAutoRotate(on: boolean): void | Promise<void>;
  /** Disc motor speed, −100…100 % of full speed; the sign is the direction, 0 stops it. */
  setDiscSpeed(percent: number): void | Promise<void>;
  /** The disc's angle, 0 ≤ deg < 360. */
  watchPosition(cb: (deg: number) => void): Unwatch;
}

/** One reading of the head's sensors. */
export interface SensorReading {
  /** Inside the head housing, °C. */
  temperature_c: number;
  /** Inside the head housing, hPa. */
  pressure_hpa: number;
  /** The FPGA die, °C. */
  fpga_temperature_c: number;
}

export interface SensorsDriver {
  watch(cb: (r: SensorReading) => void): Unwatch;
}

/** White balance presets (V4L2 `white_balance_temperature_auto` + preset temperatures). */
export const WHITE_BALANCE = ['auto', 'daylight', 'cloudy', 'tungsten', 'fluorescent'] as const;
export type WhiteBalance = (typeof WHITE_BALANCE)[number];

/** Corner of the picture-in-picture inset. */
export const PIP_POSITIONS = ['top_left', 'top_right', 'bottom_left', 'bottom_right'] as const;
export type PipPosition = (typeof PIP_POSITIONS)[number];

/** Image controls, 0–100 % of each control's range, and white balance. */
export interface ImageSettings {
  brightness: number;
  contrast: number;
  saturation: number;
  white_balance: WhiteBalance;
}

/** Encoder settings of the main stream. `resolution`: `WxH` px. */
export interface StreamSettings {
  resolution: string;
  fps: number;
  bitrate_kbps: number;
}

/** The camera module: image controls, encoder, zoom, picture-in-picture. */
export interface CameraDriver {
  /** Resolutions the sensor and encoder support, `WxH` px, at least one. */
  supportedResolutions(): string[];
  setImage<K extends keyof ImageSettings>(name: K, value: ImageSettings[K]): void | Promise<void>;
  setStream(settings: StreamSettings): void | Promise<void>;
  /** Digital zoom factor, 1.0–8.0. */
  setZoom(level: number): void | Promise<void>;
  setPip(enabled: boolean, position: PipPosition): void | Promise<void>;
}

/** Recording storage (SD card or disk), bytes. */
export interface StorageReading {
  total_bytes: number;
  free_bytes: number;
}

export interface StorageDriver {
  watch(cb: (r: StorageReading) => void): Unwatch;
}

/** The head's network configuration. `address`: CIDR, e.g. `192.168.1.50/24`, used when `dhcp` is off. */
export interface NetworkConfig {
  hostname: string;
  dhcp: boolean;
  address: string;
}

export interface NetworkDriver {
  apply(config: NetworkConfig): void | Promise<void>;
}

export interface ClockDriver {
  /** IANA time zone, e.g. `Europe/Berlin`. */
  setTimezone(tz: string): void | Promise<void>;
  setNtp(on: boolean): void | Promise<void>;
  /** The current time, about once a second. */
  watch(cb: (now: Date) => void): Unwatch;
}

/** What `system.info` shows. `memory_bytes`: total RAM; `uptime_s`: seconds since boot. */
export interface SystemInfo {
  hostname: string;
  arch: string;
  cpus: number;
  memory_bytes: number;
  uptime_s: number;
}

export interface SystemDriver {
  /** The firmware version (semver). */
  version(): string;
  info(): SystemInfo;
  /** `info()` again when it changes (uptime: about once a minute). */
  watchInfo(cb: (info: SystemInfo) => void): Unwatch;
}

/** A user of the head as the state shows it: name and role, never a secret. */
export interface UserSummary {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
}

/** Where the head's users live (the user database is another module's job). */
export interface UsersDriver {
  list(): UserSummary[];
  watch(cb: (users: UserSummary[]) => void): Unwatch;
}

/** Everything the state modules need from the hardware. */
export interface Drivers {
  light: LightDriver;
  rotation: RotationDriver;
  sensors: SensorsDriver;
  camera: CameraDriver;
  storage: StorageDriver;
  network: NetworkDriver;
  clock: ClockDriver;
  system: SystemDriver;
  users: UsersDriver;
}
