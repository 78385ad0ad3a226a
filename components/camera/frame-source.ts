/**
 * One ffmpeg per camera input, yielding decoded RGB24 frames at the detect size and fps.
 *
 * Lifecycle: `start()` spawns ffmpeg; when it exits (camera gone, socket timeout) the
 * source goes offline and restarts after an exponential backoff from 1 s to 60 s
 * (reset once a run has been healthy for 30 s). A stall watchdog restarts ffmpeg when
 * no frame arrived for `stallTimeoutMs` (default 20 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { detectArgs, ffmpegPath, redactUrl } from './ffmpeg.ts';

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

export interface FrameSourceOptions {
  /** Input URL with credentials already inserted (never logged as is). */
  url: string;
  detect: { width: number; height?: number; fps: number };
  logger: Logger;
  /** Stall watchdog, ms (default 20 000). */
  stallTimeoutMs?: number;
  /** Backoff bounds, ms (default 1 000 … 60 000). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** Counters exposed in `vigil/camera/<cam>/state` and `/api/system`. */
export interface FrameSourceStats {
  status: 'starting' | 'online' | 'offline' | 'stopped';
  /** Frames/s over the last 5 s. */
  fps: number;
  frames: number;
  restarts: number;
  last_error: string | null;
  width: number | null;
  height: number | null;
  /** Unix ms of the last frame. */
  last_frame: number | null;
}

/**
 * Emits `frame` ({@link RawFrame}), `online`, `offline` (reason: string).
 */
export class FrameSource extends EventEmitter {
  private proc?: ChildProcess;
  private stopped = true;
  private restartTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private attempt = 0;
  private runStarted = 0;
  private buf: Buffer[] = [];
  private bufLen = 0;
  private frameBytes = 0;
  private seq = 0;
  private stderrTail = '';
  private fpsWindow: number[] = [];
  readonly stats: FrameSourceStats = { status: 'stopped', fps: 0, frames: 0, restarts: 0, last_error: null, width: null, height: null, last_frame: null };

  constructor(private readonly opts: FrameSourceOptions) { super(); }

  /** Starts ffmpeg (idempotent). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawn();
  }

  /** Stops ffmpeg and every timer; resolves when the process has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    this.stats.status = 'stopped';
    const p = this.proc;
    if (p && p.exitCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => p.kill('SIGKILL'), 3000);
        p.once('exit', () => { clearTimeout(kill); resolve(); });
        p.kill('SIGTERM');
      });
    }
  }

  private spawn(): void {
    const { opts } = this;
    const args = detectArgs(opts.url, opts.detect);
    this.stats.status = 'starting';
    this.buf = []; this.bufLen = 0; this.frameBytes = 0; this.seq = 0; this.stderrTail = '';
    this.runStarted = Date.now();
    if (opts.detect.height) this.setSize(opts.detect.width, opts.detect.height);
    let bin: string;
    try {
      bin = ffmpegPath();
    } catch (err) {
      this.fail((err as Error).message);
      return;
    }
    opts.logger.debug({ url: redactUrl(opts.url) }, 'starting ffmpeg');
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (s: string) => this.onStderr(s));
    p.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'ffmpeg spawn error'));
    p.on('exit', (code, signal) => {
      if (this.proc !== p) return;
      this.proc = undefined;
      const lastLine = this.stderrTail.trim().split('\n').filter((l) => !/^\s/.test(l)).pop() ?? '';
      this.fail(`ffmpeg exited (${signal ?? code})${lastLine ? `: ${redactText(lastLine, opts.url)}` : ''}`);
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
    if (!this.frameBytes) {
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

  private emitFrame(rgb: Buffer): void {
    const now = Date.now();
    if (this.stats.status !== 'online') {
      this.stats.status = 'online';
      this.stats.last_error = null;
      this.emit('online');
    }
    this.stats.frames++;
    this.stats.last_frame = now;
    this.fpsWindow.push(now);
    while (this.fpsWindow.length && this.fpsWindow[0]! < now - 5000) this.fpsWindow.shift();
    this.stats.fps = Math.round((this.fpsWindow.length / 5) * 10) / 10;
    if (now - this.runStarted > 30_000) this.attempt = 0;
    const frame: RawFrame = { rgb, width: this.stats.width!, height: this.stats.height!, ts: now, seq: this.seq++ };
    this.emit('frame', frame);
  }

  private checkStall(): void {
    if (this.stopped || !this.proc) return;
    const last = this.stats.last_frame && this.stats.last_frame > this.runStarted ? this.stats.last_frame : this.runStarted;
    if (Date.now() - last > (this.opts.stallTimeoutMs ?? 20_000)) {
      this.opts.logger.warn('no frame for the stall timeout; restarting ffmpeg');
      const p = this.proc;
      this.proc = undefined;
      p.kill('SIGKILL');
      this.fail('stalled: no frame within the watchdog timeout');
    }
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

/** Removes the URL (and so its credentials) from an ffmpeg message. */
function redactText(line: string, url: string): string {
  return line.split(url).join(redactUrl(url)).replace(/\/\/[^/@\s]*:[^/@\s]*@/g, '//');
}
