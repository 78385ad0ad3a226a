/**
 * One ffmpeg per camera input (one URL), whatever reads it: detect frames (RGB24 on
 * fd 1), recording segments (`-c copy` fragmented MP4, segment list on fd 3) and the
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

/** A decoded frame. */
export interface RawFrame {
  /** Packed RGB24, width×height×3 bytes. */
  rgb: Buffer;
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
    this.buf = []; this.bufLen = 0; this.frameBytes = 0; this.seq = 0; this.stderrTail = ''; this.t0 = Infinity; this.progressFrames = -1;
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
    opts.logger.debug({ url: redactUrl(opts.url), outputs: Object.keys(out) }, 'starting ffmpeg');
    // TZ=UTC: ffmpeg's own timestamps in messages; fds 3–5: segment list, live fMP4, progress.
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    this.proc = p;
    this.emit('restart');
    p.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (s: string) => this.onStderr(s));
    const fd = p.stdio as unknown as Readable[];
    lines(fd[3]!, (l) => this.onSegmentLine(l));
    fd[4]!.on('data', (chunk: Buffer) => { this.heartbeat(); this.emit('fmp4', chunk); });
    lines(fd[5]!, (l) => this.onProgress(l));
    for (const s of [fd[3], fd[4], fd[5]]) s!.on('error', () => undefined);
    p.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'ffmpeg spawn error'));
    p.on('exit', (code, signal) => {
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

  private onData(chunk: Buffer): void {
    this.buf.push(chunk);
    this.bufLen += chunk.length;
    if (this.frameBytes) this.drain();
  }

  private drain(): void {
    const n = this.frameBytes;
    if (!n || this.bufLen < n) return;
    let all = this.buf.length === 1 ? this.buf[0]! : Buffer.concat(this.buf, this.bufLen);
    while (all.length >= n) {
      const rgb = Buffer.from(all.subarray(0, n)); // own copy: the chunk buffer is reused by the stream
      all = all.subarray(n);
      this.emitFrame(rgb);
    }
    this.buf = all.length ? [all] : [];
    this.bufLen = all.length;
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
    this.emit('frame', { rgb, width: this.stats.width!, height: this.stats.height!, ts: now, seq: this.seq++ } satisfies RawFrame);
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
