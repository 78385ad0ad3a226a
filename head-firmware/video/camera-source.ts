/**
 * The head's camera through ffmpeg: a V4L2 device (`/dev/videoN`), a test pattern with a
 * clock, or a looped video file, encoded to H.264 and published to the head's RTSP server
 * ({@link ./rtsp-server.ts}), where the hub and the recorder pull it.
 *
 * Lifecycle (after the C Pro seed's `handleCameraDisconnection`: stop, set "camera
 * unavailable", notify, retry periodically):
 * - `start()` → status `starting`; the first encoded frame → `streaming`.
 * - ffmpeg exits (device unplugged, RTSP server gone), the device is missing, or no frame
 *   comes for `stallTimeoutMs` → `unavailable` with the reason, and a new attempt after a
 *   backoff doubling from 1 s to 30 s (reset once a run has streamed for 30 s).
 * - `restart(changes)` applies new stream settings or a new input at once.
 * Every status change is reported through `onStatus` and the `status` event, for the
 * caller to mirror into the state store (`camera.status`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { ffmpegPath } from '../../components/protocol/ffmpeg-path.ts';

/** What the head streams. */
export interface StreamSettings {
  /** Frame size, px (even, 16–4096). */
  width: number;
  height: number;
  /** Frames per second (1–60). */
  fps: number;
  /** H.264 target bitrate, kbit/s (50–50 000). */
  bitrate_kbps: number;
}

/** Where frames come from. */
export type CameraInputConfig =
  /** A V4L2 capture device; `input_format` is ffmpeg's `-input_format` (`mjpeg`, `yuyv422`, …). */
  | { kind: 'v4l2'; device: string; input_format?: string }
  /** ffmpeg's `testsrc2` pattern with the local date and time drawn on it (`clock: false` leaves it off). */
  | { kind: 'test'; clock?: boolean }
  /** A video file looped forever at its native rate, timestamps regenerated at `fps`. */
  | { kind: 'file'; path: string };

/** `camera.status` in the state store. */
export type CameraStatus = 'starting' | 'streaming' | 'unavailable';

/** What `onStatus` / the `status` event carry. */
export interface CameraSourceState {
  status: CameraStatus;
  /** Why the camera is unavailable (`stopped` after `stop()`), else null. */
  reason: string | null;
  /** Unix ms of the last status change. */
  since: number;
  /** ffmpeg runs started after the first. */
  restarts: number;
  /** When `unavailable` and a retry is scheduled: ms until it. */
  retry_in_ms: number | null;
}

export interface CameraSourceOptions {
  input: CameraInputConfig;
  stream: StreamSettings;
  /** Where ffmpeg publishes, e.g. `rtsp://127.0.0.1:8554/main` (`HeadRtspServer.url()`). */
  publishUrl: string;
  /** Backoff bounds between attempts, ms (default 1 000 … 30 000). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** A run that streamed this long resets the backoff, ms (default 30 000). */
  healthyAfterMs?: number;
  /** No new frame for this long (also before the first) → the run is killed as stalled, ms (default 10 000). */
  stallTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL when stopping ffmpeg, ms (default 3 000). */
  stopTimeoutMs?: number;
  onStatus?: (state: CameraSourceState) => void;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/** Font of the test pattern's clock (Debian `fonts-dejavu-core`); without it the clock is left off. */
const CLOCK_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';
const STDERR_KEEP = 4000;

/**
 * Checks stream settings.
 * @returns the same settings.
 * @throws Error naming the bad field (odd or out-of-range size, fps, bitrate).
 */
export function validateStreamSettings(s: StreamSettings): StreamSettings {
  const check = (name: string, v: unknown, min: number, max: number, even = false): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max || (even && v % 2 !== 0)) {
      throw new Error(`stream ${name} must be ${even ? 'an even' : 'an'} integer ${min}–${max}, got ${String(v)}`);
    }
  };
  if (!s || typeof s !== 'object') throw new Error('stream settings must be an object');
  check('width', s.width, 16, 4096, true);
  check('height', s.height, 16, 4096, true);
  check('fps', s.fps, 1, 60);
  check('bitrate_kbps', s.bitrate_kbps, 50, 50_000);
  return s;
}

/**
 * ffmpeg's arguments for one run: input, filters, libx264 (`veryfast`, `zerolatency`,
 * constrained to `bitrate_kbps`, a keyframe every 2 s, no scene-cut keyframes so players
 * and recordings join at a steady rhythm), published with `-f rtsp -rtsp_transport tcp`;
 * progress (`frame=N`) on fd 1 every 0.5 s.
 * @throws Error for invalid settings, a V4L2 device path outside `/dev/`, a relative file
 *   path, a path starting with `-`, or a publish URL that is not rtsp://.
 */
export function cameraArgs(input: CameraInputConfig, stream: StreamSettings, publishUrl: string): string[] {
  const { width: w, height: h, fps, bitrate_kbps: kbps } = validateStreamSettings(stream);
  if (!/^rtsp:\/\/[^\s\u0000-\u001f]+$/.test(publishUrl)) throw new Error(`publish URL must be rtsp:// without spaces, got ${JSON.stringify(publishUrl)}`);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning'];
  const fit = `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`;
  let vf: string;
  switch (input.kind) {
    case 'v4l2': {
      if (!/^\/dev\/[A-Za-z0-9_./-]+$/.test(input.device) || input.device.includes('..')) throw new Error(`V4L2 device must be a /dev/ path, got ${JSON.stringify(input.device)}`);
      if (input.input_format !== undefined && !/^[a-z0-9_]+$/.test(input.input_format)) throw new Error(`V4L2 input_format refused: ${JSON.stringify(input.input_format)}`);
      args.push('-f', 'v4l2', '-thread_queue_size', '64');
      if (input.input_format) args.push('-input_format', input.input_format);
      // The driver may pick the nearest size/rate it supports: the filters below enforce ours.
      args.push('-framerate', String(fps), '-video_size', `${w}x${h}`, '-i', input.device);
      vf = `${fit},fps=${fps}`;
      break;
    }
    case 'test': {
      args.push('-re', '-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${fps}`);
      vf = 'null';
      if (input.clock !== false && existsSync(CLOCK_FONT)) {
        const size = Math.max(10, Math.round(h / 16));
        vf = `drawtext=fontfile=${CLOCK_FONT}:text='%{localtime\\:%Y-%m-%d %T}':x=8:y=h-th-8:fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=4`;
      }
      break;
    }
    case 'file': {
      if (!input.path.startsWith('/') || /[\u0000-\u001f]/.test(input.path)) throw new Error(`file input must be an absolute path, got ${JSON.stringify(input.path)}`);
      args.push('-re', '-stream_loop', '-1', '-i', input.path);
      // Constant rate, then timestamps N/fps: monotonic across the loop point whatever the file's own.
      vf = `fps=${fps},${fit},setpts=N/(${fps}*TB)`;
      break;
    }
    default:
      throw new Error(`unknown camera input kind ${JSON.stringify((input as { kind?: unknown }).kind)}`);
  }
  const gop = String(fps * 2);
  args.push(
    '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', `${vf},format=yuv420p`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps * 2}k`,
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-bf', '0',
    '-f', 'rtsp', '-rtsp_transport', 'tcp', publishUrl,
    '-progress', 'pipe:1', '-stats_period', '0.5',
  );
  return args;
}

/**
 * The head's camera. Emits `status` ({@link CameraSourceState}) on every change.
 *
 * ```ts
 * const cam = new CameraSource({ input: { kind: 'test' }, stream: { width: 320, height: 240, fps: 10, bitrate_kbps: 500 },
 *   publishUrl: rtsp.url('main'), onStatus: (s) => store.set('camera.status', s.status) });
 * cam.start();
 * await cam.restart({ stream: { ...cam.stream, fps: 15 } });
 * await cam.stop();
 * ```
 */
export class CameraSource extends EventEmitter {
  private proc?: ChildProcess;
  private running = false;
  private retryTimer?: NodeJS.Timeout;
  /** Restarts and stops, one after the other. */
  private ops: Promise<void> = Promise.resolve();
  private watchdog?: NodeJS.Timeout;
  private attempt = 0;
  private runs = 0;
  private frames = 0;
  private lastFrameAt = 0;
  private runStartedAt = 0;
  private streamingSince = 0;
  private stderrTail = '';
  private input: CameraInputConfig;
  private settings: StreamSettings;
  private current: CameraSourceState = { status: 'unavailable', reason: 'not started', since: Date.now(), restarts: 0, retry_in_ms: null };

  /** @throws Error for invalid stream settings or input (see {@link cameraArgs}). */
  constructor(private readonly opts: CameraSourceOptions) {
    super();
    cameraArgs(opts.input, opts.stream, opts.publishUrl);
    this.input = opts.input;
    this.settings = { ...opts.stream };
  }

  /** The current state (a copy). */
  get state(): CameraSourceState {
    return { ...this.current };
  }

  /** The stream settings in force. */
  get stream(): StreamSettings {
    return { ...this.settings };
  }

  /** Frames encoded by the current run. */
  get framesEncoded(): number {
    return this.frames;
  }

  /** Starts the camera (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.spawnRun();
  }

  /** Stops ffmpeg (SIGTERM, SIGKILL after `stopTimeoutMs`) and any retry; status `unavailable`, reason `stopped`. Resolves once ffmpeg has exited. */
  stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    return this.serial(async () => {
      await this.killRun();
      this.setStatus('unavailable', 'stopped', null);
    });
  }

  /**
   * Applies new stream settings and/or a new input: the running ffmpeg is stopped and a
   * new one started at once (backoff reset). Not running → the settings are kept for `start()`.
   * @throws Error for invalid settings (nothing is changed then).
   */
  async restart(changes: { stream?: StreamSettings; input?: CameraInputConfig } = {}): Promise<void> {
    const input = changes.input ?? this.input;
    const stream = changes.stream ? { ...changes.stream } : this.settings;
    cameraArgs(input, stream, this.opts.publishUrl);
    this.input = input;
    this.settings = stream;
    // One restart or stop at a time: two overlapping restarts must not leave two ffmpegs.
    return this.serial(async () => {
      if (!this.running) return;
      clearTimeout(this.retryTimer);
      clearInterval(this.watchdog);
      await this.killRun();
      this.attempt = 0;
      if (this.running) this.spawnRun();
    });
  }

  private serial(job: () => Promise<void>): Promise<void> {
    const next = this.ops.then(job, job);
    this.ops = next.catch(() => undefined);
    return next;
  }

  private setStatus(status: CameraStatus, reason: string | null, retryInMs: number | null): void {
    const c = this.current;
    if (c.status === status && c.reason === reason && c.retry_in_ms === retryInMs) return;
    this.current = { status, reason, since: Date.now(), restarts: Math.max(0, this.runs - 1), retry_in_ms: retryInMs };
    const state = this.state;
    this.opts.onStatus?.(state);
    this.emit('status', state);
  }

  private spawnRun(): void {
    clearTimeout(this.retryTimer);
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL'); // never two ffmpegs
    this.proc = undefined;
    this.frames = 0;
    this.stderrTail = '';
    this.streamingSince = 0;
    this.runStartedAt = Date.now();
    this.lastFrameAt = this.runStartedAt;
    this.runs++;
    this.setStatus('starting', null, null);
    if (this.input.kind === 'v4l2' && !existsSync(this.input.device)) {
      this.fail(`V4L2 device ${this.input.device} not found`);
      return;
    }
    if (this.input.kind === 'file' && !existsSync(this.input.path)) {
      this.fail(`video file ${this.input.path} not found`);
      return;
    }
    let bin: string;
    let args: string[];
    try {
      bin = ffmpegPath();
      args = cameraArgs(this.input, this.settings, this.opts.publishUrl);
    } catch (err) {
      this.fail((err as Error).message);
      return;
    }
    this.opts.logger?.debug({ input: this.input.kind, stream: this.settings }, 'starting camera ffmpeg');
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    let progress = '';
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (s: string) => {
      progress += s;
      let i: number;
      while ((i = progress.indexOf('\n')) >= 0) {
        const line = progress.slice(0, i).trim();
        progress = progress.slice(i + 1);
        const m = /^frame=(\d+)$/.exec(line);
        if (m) this.onFrames(Number(m[1]));
      }
    });
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (s: string) => { this.stderrTail = (this.stderrTail + s).slice(-STDERR_KEEP); });
    p.on('error', (err) => this.opts.logger?.warn({ err: err.message }, 'camera ffmpeg spawn error'));
    p.on('close', (code, signal) => {
      if (this.proc !== p) return;
      this.proc = undefined;
      clearInterval(this.watchdog);
      if (!this.running) return;
      const last = this.stderrTail.trim().split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? '';
      this.fail(`ffmpeg exited (${signal ?? code})${last ? `: ${last}` : ''}`);
    });
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => this.checkStall(), 500);
    this.watchdog.unref();
  }

  private onFrames(n: number): void {
    if (n <= this.frames) return;
    this.frames = n;
    this.lastFrameAt = Date.now();
    if (!this.streamingSince) {
      this.streamingSince = this.lastFrameAt;
      this.setStatus('streaming', null, null);
      this.opts.logger?.info({ input: this.input.kind, stream: this.settings }, 'camera streaming');
    }
    if (this.attempt && this.lastFrameAt - this.streamingSince >= (this.opts.healthyAfterMs ?? 30_000)) this.attempt = 0;
  }

  private checkStall(): void {
    const limit = this.opts.stallTimeoutMs ?? 10_000;
    if (!this.proc || Date.now() - this.lastFrameAt < limit) return;
    const p = this.proc;
    this.proc = undefined;
    clearInterval(this.watchdog);
    p.kill('SIGKILL');
    this.fail(this.frames ? `no frame for ${limit / 1000} s` : `no frame within ${limit / 1000} s of start`);
  }

  /** The run failed: `unavailable`, then a retry after the backoff. */
  private fail(reason: string): void {
    if (!this.running) return;
    const min = this.opts.backoffMinMs ?? 1000;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.attempt);
    this.attempt++;
    this.opts.logger?.warn({ reason, retry_in_ms: delay }, 'camera unavailable');
    this.setStatus('unavailable', reason, delay);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => { if (this.running) this.spawnRun(); }, delay);
  }

  private async killRun(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => p.kill('SIGKILL'), this.opts.stopTimeoutMs ?? 3000);
      p.once('exit', () => { clearTimeout(kill); resolve(); });
      p.kill('SIGTERM');
    });
  }
}
