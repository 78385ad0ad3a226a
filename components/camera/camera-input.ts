/**
 * One ffmpeg per camera input (one URL), whatever reads it: detect frames (RGB24 through
 * a local socket read into reused buffers, `frame-socket.ts`), recording segments (`-c copy` fragmented MP4, segment list on fd 3) and the
 * live fMP4 stream (fd 4) — the seed's "zero extra RTSP connections" rule.
 *
 * Lifecycle: `start()` spawns ffmpeg; when it exits (camera gone, socket timeout, disk
 * full) the input goes offline and restarts after an exponential backoff from 1 s to
 * 60 s (reset once a run has been healthy for 30 s). Watchdogs restart ffmpeg when no
 * frame (or, without detect, no progress) arrived for `stallTimeoutMs` (20 s), and when a
 * recording input finished no segment for `segmentTimeoutMs` (default max(120 s, 2 segments)).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ffmpegPath } from '../protocol/ffmpeg-path.ts';
import { redactCredentials, redactUrl } from '../protocol/log.ts';
import { inputProcessArgs, type InputOutputs } from './ffmpeg.ts';
import { openFrameSocket, type FrameSocket } from './frame-socket.ts';

/** Released frame buffers kept per input: the one an encode holds, and one more. */
const SPARE_FRAMES = 2;

/** A decoded frame. */
export interface RawFrame {
  /** Packed RGB24, width×height×3 bytes (over a `SharedArrayBuffer`, so that a worker thread can read it in place). */
  rgb: Buffer;
  /**
   * Hands `rgb` back to the input for a later frame, once the (single) `frame` listener is
   * done with it — after any asynchronous use (an encode) too; `rgb` must not be read
   * afterwards. Optional: a frame never released is left to the garbage collector. Reusing
   * frame buffers spares the hub ~37 MB/s of allocations at 8 cameras × 5 fps × 640×480,
   * which otherwise trigger major garbage collections several times a second
   * (`bench/rest-under-load.ts`).
   */
  release?: () => void;
  width: number;
  height: number;
  /** When the frame was read from ffmpeg, Unix ms. */
  ts: number;
  seq: number;
}

/** A finished recording segment, still in the input's incoming directory. */
export interface FinishedSegment {
  /** Absolute path of the file ffmpeg wrote. */
  file: string;
  /** Wall-clock start and end, Unix seconds (from the stream offsets in the segment list). */
  start: number;
  end: number;
}

export interface CameraInputOptions {
  /** Input URL with credentials already inserted (never logged as is). */
  url: string;
  /** Outputs; `record.dir` is the parent of this input's per-run incoming directories. */
  outputs: InputOutputs;
  logger: Logger;
  /** Stall watchdog, ms (default 20 000). */
  stallTimeoutMs?: number;
  /** Recording watchdog, ms (default max(120 000, 2 × segment length)). */
  segmentTimeoutMs?: number;
  /** Backoff bounds, ms (default 1 000 … 60 000). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** Counters exposed in `vigil/camera/<cam>/state` and `/api/system`. */
export interface CameraInputStats {
  status: 'starting' | 'online' | 'offline' | 'stopped';
  /** Frames/s over the last 5 s. */
  fps: number;
  frames: number;
  restarts: number;
  last_error: string | null;
  width: number | null;
  height: number | null;
  /** Unix ms of the last frame (or progress heartbeat without detect). */
  last_frame: number | null;
  /** Unix ms of the last finished recording segment. */
  last_segment: number | null;
  segments: number;
}

/**
 * Emits `frame` ({@link RawFrame}), `segment` ({@link FinishedSegment}), `fmp4` (Buffer
 * chunks of the live stream), `restart` (a new ffmpeg run: live consumers reset),
 * `online`, `offline` (reason: string).
 */
export class CameraInput extends EventEmitter {
  private proc?: ChildProcess;
  private stopped = true;
  private restartTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private attempt = 0;
  private runStarted = 0;
  private runDir = '';
  private buf: Buffer[] = [];
  private bufLen = 0;
  /** The frame being filled from ffmpeg's output, and its bytes so far. */
  private frame?: Buffer;
  private filled = 0;
  /** Released frame buffers of the current size, for reuse (at most {@link SPARE_FRAMES}). */
  private spare: Buffer[] = [];
  /** Counts runs, so that a frame socket opened for a run that was stopped meanwhile is closed unused. */
  private runs = 0;
  private frameBytes = 0;
  private seq = 0;
  private stderrTail = '';
  private fpsWindow: number[] = [];
  /** Estimated wall-clock (Unix s) of stream time 0 of this run: min over segments of (arrival − end offset). */
  private t0 = Infinity;
  private progressFrames = -1;
  readonly stats: CameraInputStats = { status: 'stopped', fps: 0, frames: 0, restarts: 0, last_error: null, width: null, height: null, last_frame: null, last_segment: null, segments: 0 };

  constructor(private readonly opts: CameraInputOptions) { super(); }

  /** Starts ffmpeg (idempotent). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawn();
  }

  /** Stops ffmpeg (SIGTERM, SIGKILL after 3 s) and every timer; resolves when it has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    this.stats.status = 'stopped';
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => p.kill('SIGKILL'), 3000);
        p.once('exit', () => { clearTimeout(kill); resolve(); });
        p.kill('SIGTERM');
      });
    }
  }

  private spawn(): void {
    const { opts } = this;
    const out = opts.outputs;
    this.stats.status = 'starting';
    this.buf = []; this.bufLen = 0; this.frame = undefined; this.filled = 0; this.spare = []; this.frameBytes = 0; this.seq = 0; this.stderrTail = ''; this.t0 = Infinity; this.progressFrames = -1;
    this.runStarted = Date.now();
    if (out.detect?.height) this.setSize(out.detect.width, out.detect.height);
    let bin: string;
    let args: string[];
    try {
      bin = ffmpegPath();
      let outputs = out;
      if (out.record) {
        this.runDir = join(out.record.dir, `run-${this.runStarted}`);
        mkdirSync(this.runDir, { recursive: true });
        outputs = { ...out, record: { ...out.record, dir: this.runDir } };
      }
      args = inputProcessArgs(opts.url, outputs);
    } catch (err) {
      this.fail((err as Error).message);
      return;
    }
    if (!out.detect) {
      this.launch(bin, args);
      return;
    }
    // Detect frames come through a socket read into one reused buffer (`frame-socket.ts`), not a pipe.
    const run = ++this.runs;
    openFrameSocket((chunk) => { if (this.runs === run) this.onData(chunk, true); }).then((frames) => {
      if (this.stopped || this.runs !== run) { frames.close(); return; }
      try {
        this.launch(bin, args, frames);
      } catch (err) {
        frames.close();
        this.fail(`could not start ffmpeg: ${(err as Error).message}`);
      }
    }, (err: Error) => {
      if (!this.stopped && this.runs === run) this.fail(err.message);
    });
  }

  /** Spawns ffmpeg with its detect frames on `frames` (else on a pipe) and wires its outputs. */
  private launch(bin: string, args: string[], frames?: FrameSocket): void {
    const { opts } = this;
    opts.logger.debug({ url: redactUrl(opts.url), outputs: Object.keys(opts.outputs) }, 'starting ffmpeg');
    // TZ=UTC: ffmpeg's own timestamps in messages; fds 3–5: segment list, live fMP4, progress.
    let p: ChildProcess;
    try {
      p = spawn(bin, args, { stdio: ['ignore', frames?.childEnd ?? 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    } finally {
      frames?.releaseChildEnd(); // the child holds its own copy
    }
    this.proc = p;
    this.emit('restart');
    p.stdout?.on('data', (chunk: Buffer) => this.onData(chunk, false));
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (s: string) => this.onStderr(s));
    const fd = p.stdio as unknown as Readable[];
    lines(fd[3]!, (l) => this.onSegmentLine(l));
    fd[4]!.on('data', (chunk: Buffer) => { this.heartbeat(); this.emit('fmp4', chunk); });
    lines(fd[5]!, (l) => this.onProgress(l));
    for (const s of [fd[3], fd[4], fd[5]]) s!.on('error', () => undefined);
    p.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'ffmpeg spawn error'));
    p.on('exit', (code, signal) => {
      frames?.close();
      if (this.proc !== p) return;
      this.proc = undefined;
      const lastLine = this.stderrTail.trim().split('\n').filter((l) => !/^\s/.test(l)).pop() ?? '';
      // A full disk is named whatever ffmpeg printed last: the hub's sweeper reacts to it.
      const enospc = /No space left on device/i.test(this.stderrTail) ? 'No space left on device; ' : '';
      this.fail(`${enospc}ffmpeg exited (${signal ?? code})${lastLine ? `: ${redactText(lastLine, opts.url)}` : ''}`);
    });
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => this.checkStall(), 1000);
    this.watchdog.unref();
  }

  private setSize(width: number, height: number): void {
    this.stats.width = width;
    this.stats.height = height;
    this.frameBytes = width * height * 3;
  }

  private onStderr(s: string): void {
    this.stderrTail = (this.stderrTail + s).slice(-4000);
    if (this.opts.outputs.detect && !this.frameBytes) {
      // "Output #0, rawvideo … Stream #0:0: Video: rawvideo (RGB[24] …), rgb24(…), 640x480 …"
      const out = this.stderrTail.indexOf('Output #0');
      const m = out >= 0 ? /Stream #0:0[^\n]*Video: rawvideo[^\n]*?, (\d{2,5})x(\d{2,5})/.exec(this.stderrTail.slice(out)) : null;
      if (m) { this.setSize(Number(m[1]), Number(m[2])); this.drain(); }
    }
  }

  /** @param reused `chunk` is a view of a buffer reused by the next read (copy what is kept). */
  private onData(chunk: Buffer, reused: boolean): void {
    if (!this.frameBytes) {
      // The frame size is not known yet (ffmpeg's stderr tells it): keep the bytes.
      this.buf.push(reused ? Buffer.from(chunk) : chunk);
      this.bufLen += chunk.length;
      return;
    }
    this.consume(chunk);
  }

  /** Feeds what arrived before the frame size was known. */
  private drain(): void {
    const held = this.buf;
    this.buf = [];
    this.bufLen = 0;
    for (const c of held) this.consume(c);
  }

  /** Copies `chunk` into the frame being filled (one copy; a released buffer when there is one, else a new shared one) and emits each complete frame. */
  private consume(chunk: Buffer): void {
    const n = this.frameBytes;
    let off = 0;
    while (off < chunk.length) {
      if (!this.frame) {
        // Shared memory: the frame worker reads it without a copy (`frame-worker.ts`).
        this.frame = this.spare.pop() ?? Buffer.from(new SharedArrayBuffer(n));
        this.filled = 0;
      }
      const take = Math.min(n - this.filled, chunk.length - off);
      chunk.copy(this.frame, this.filled, off, off + take);
      this.filled += take;
      off += take;
      if (this.filled === n) {
        const rgb = this.frame;
        this.frame = undefined;
        this.emitFrame(rgb);
      }
    }
  }

  /** Marks the input alive (first sign of data → online). */
  private heartbeat(now = Date.now()): void {
    this.stats.last_frame = now;
    if (this.stats.status !== 'online') {
      this.stats.status = 'online';
      this.stats.last_error = null;
      this.emit('online');
    }
    if (now - this.runStarted > 30_000) this.attempt = 0;
  }

  private emitFrame(rgb: Buffer): void {
    const now = Date.now();
    this.heartbeat(now);
    this.stats.frames++;
    this.fpsWindow.push(now);
    while (this.fpsWindow.length && this.fpsWindow[0]! < now - 5000) this.fpsWindow.shift();
    this.stats.fps = Math.round((this.fpsWindow.length / 5) * 10) / 10;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (rgb.length === this.frameBytes && this.spare.length < SPARE_FRAMES) this.spare.push(rgb);
    };
    this.emit('frame', { rgb, width: this.stats.width!, height: this.stats.height!, ts: now, seq: this.seq++, release } satisfies RawFrame);
  }

  /** `-progress` lines: `frame=N` growing is the heartbeat of inputs without detect frames. */
  private onProgress(line: string): void {
    const m = /^frame=(\d+)/.exec(line);
    if (!m || this.opts.outputs.detect) return;
    const n = Number(m[1]);
    if (n > this.progressFrames) {
      this.progressFrames = n;
      this.heartbeat();
    }
  }

  /** A segment-list CSV line: `000001.mp4,4.900000,8.900000` (offsets in stream seconds). */
  private onSegmentLine(line: string): void {
    const m = /^([^,]+),([\d.]+),([\d.]+)$/.exec(line.trim());
    if (!m) return;
    const [startOff, endOff] = [Number(m[2]), Number(m[3])];
    const now = Date.now() / 1000;
    this.t0 = Math.min(this.t0, now - endOff);
    this.stats.segments++;
    this.stats.last_segment = Date.now();
    this.emit('segment', { file: join(this.runDir, m[1]!), start: this.t0 + startOff, end: this.t0 + endOff } satisfies FinishedSegment);
  }

  private checkStall(): void {
    if (this.stopped || !this.proc) return;
    const now = Date.now();
    const last = this.stats.last_frame && this.stats.last_frame > this.runStarted ? this.stats.last_frame : this.runStarted;
    let reason: string | undefined;
    if (now - last > (this.opts.stallTimeoutMs ?? 20_000)) reason = 'stalled: no frame within the watchdog timeout';
    const rec = this.opts.outputs.record;
    if (rec && !reason) {
      const limit = this.opts.segmentTimeoutMs ?? Math.max(120_000, 2 * rec.segmentSeconds * 1000);
      const lastSeg = this.stats.last_segment && this.stats.last_segment > this.runStarted ? this.stats.last_segment : this.runStarted;
      if (now - lastSeg > limit) reason = 'recorder stalled: no new segment within the watchdog timeout';
    }
    if (!reason) return;
    this.opts.logger.warn({ reason }, 'restarting ffmpeg');
    const p = this.proc;
    this.proc = undefined;
    p.kill('SIGKILL');
    this.fail(reason);
  }

  /** Goes offline and schedules a restart with exponential backoff. */
  private fail(reason: string): void {
    clearInterval(this.watchdog);
    this.stats.last_error = reason;
    this.stats.fps = 0;
    this.fpsWindow = [];
    if (this.stats.status !== 'offline') this.emit('offline', reason);
    this.stats.status = this.stopped ? 'stopped' : 'offline';
    if (this.stopped) return;
    const min = this.opts.backoffMinMs ?? 1000;
    const max = this.opts.backoffMaxMs ?? 60_000;
    const delay = Math.min(max, min * 2 ** this.attempt++);
    this.stats.restarts++;
    this.opts.logger.warn({ reason, retryInMs: delay }, 'camera input offline');
    this.restartTimer = setTimeout(() => { if (!this.stopped) this.spawn(); }, delay);
  }
}

/** Calls `fn` per text line of a stream. */
function lines(stream: Readable, fn: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (s: string) => {
    rest += s;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) fn(l);
  });
}

/** Removes the URL's credentials from an ffmpeg message (the URL as given, and any other URL ffmpeg quotes). */
function redactText(line: string, url: string): string {
  return redactCredentials(line.split(url).join(redactUrl(url)));
}
