/**
 * Records the head's stream to MP4 files: one ffmpeg pulls the head's own RTSP stream
 * (`-rtsp_transport tcp`) and copies the H.264 (`-c copy`, no re-encoding) into
 * `<dataDir>/recordings/YYYY-MM-DD/HH-MM-SS.mp4` (UTC start time, as the hub's segments).
 *
 * File format: fragmented MP4 (`+frag_keyframe+empty_moov+default_base_moof`, one fragment
 * per keyframe interval, written out as soon as it is complete: `flush_packets=1`, without
 * which ffmpeg holds 256 KiB in its output buffer), the format the hub's recordings use: a
 * file stays readable up to its last complete fragment when ffmpeg is killed or the power
 * goes (at most one keyframe interval, 2 s for the head's camera, is lost), and a graceful
 * stop (`q` on ffmpeg's stdin) finishes it completely. ffmpeg writes through the segment
 * muxer into `<dataDir>/recordings/.partial/`; a file moves to its day folder once ffmpeg
 * lists it as finished (or, after a kill, once it is probed), so the day folders hold only
 * finished files. {@link recoverPartialRecordings} files what a crash left behind.
 *
 * With `maxFileSeconds`, a recording is split into files of that length (cut at the first
 * keyframe after it, no frame lost between files).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { ffmpegPath, ffprobePath } from '../../components/protocol/ffmpeg-path.ts';

const execFileP = promisify(execFile);

/** A finished recording file. */
export interface RecordedFile {
  /** Absolute path, `<dataDir>/recordings/YYYY-MM-DD/HH-MM-SS.mp4`. */
  path: string;
  /** File size, bytes. */
  bytes: number;
  /** Media duration, s (ms precision). */
  duration_s: number;
  /** Wall clock of the first and last frame, Unix ms. */
  started_at: number;
  ended_at: number;
}

/** Asked before every start: the storage guard ({@link ../recordings/storage-guard.ts} `StorageGuard`) fits. */
export interface RecordingGate {
  /** `ok: false` refuses the start with `reason`. */
  ensureSpace(): Promise<{ ok: boolean; reason?: string }>;
}

export interface RecorderOptions {
  /** The stream to record, e.g. `rtsp://127.0.0.1:8554/main` (`HeadRtspServer.url()`). */
  sourceUrl: string;
  /** The head's data directory: files go under `<dataDir>/recordings/`. */
  dataDir: string;
  /** Split a recording into files of at most this many seconds (≥ 2); default: one file per recording. */
  maxFileSeconds?: number;
  /** `start()` rejects when no frame was recorded within this time, ms (default 15 000). */
  startTimeoutMs?: number;
  /** `stop()` kills ffmpeg (SIGKILL) when it has not finished this long after `q`, ms (default 10 000). */
  stopTimeoutMs?: number;
  /** Pause before reconnecting after the stream broke off during a recording, ms (default 1 000, doubling to 30 000). */
  reconnectMinMs?: number;
  /** Asked before each start; a refusal makes `start()` throw {@link RecordingRefusedError}. */
  gate?: RecordingGate;
  /** Called for every finished file (also emitted as `file`). */
  onFile?: (file: RecordedFile) => void;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/** `start()` refused by the gate (storage full). */
export class RecordingRefusedError extends Error {
  constructor(readonly reason: string) {
    super(`recording refused: ${reason}`);
    this.name = 'RecordingRefusedError';
  }
}

/** Recorder status: `idle`, `starting` (waiting for the first frame), `recording`, `reconnecting` (the stream broke off; a new file follows), `stopping`. */
export type RecorderStatus = 'idle' | 'starting' | 'recording' | 'reconnecting' | 'stopping';

/** MP4 flags of every file (see the module comment). */
export const RECORDING_MOVFLAGS = '+frag_keyframe+empty_moov+default_base_moof';
/** A recording's "one file" length when `maxFileSeconds` is not set: a year, s. */
const NO_SPLIT_S = 365 * 86_400;

/** `<dataDir>/recordings`. */
export const recordingsDir = (dataDir: string): string => join(dataDir, 'recordings');
/** Where ffmpeg writes files being recorded. */
export const partialDir = (dataDir: string): string => join(recordingsDir(dataDir), '.partial');

/**
 * Media duration of a file by ffprobe (`format=duration`), s; 0 when ffprobe cannot read
 * it (no complete fragment) — never throws.
 */
export async function probeDuration(file: string): Promise<number> {
  try {
    const { stdout } = await execFileP(ffprobePath(), ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { timeout: 15_000 });
    const d = Number(stdout.trim());
    return Number.isFinite(d) && d > 0 ? d : 0;
  } catch {
    return 0;
  }
}

/**
 * Moves a finished file to `<dataDir>/recordings/YYYY-MM-DD/HH-MM-SS.mp4` (UTC of
 * `startedAt`; `-1`, `-2` … when the name is taken).
 * @throws the fs error when it cannot be moved (disk gone).
 */
export async function fileRecording(dataDir: string, file: string, startedAt: number, endedAt: number, durationS: number): Promise<RecordedFile> {
  const iso = new Date(startedAt).toISOString(); // 2026-11-21T21:34:23.123Z
  const dir = join(recordingsDir(dataDir), iso.slice(0, 10));
  await mkdir(dir, { recursive: true });
  const base = `${iso.slice(11, 13)}-${iso.slice(14, 16)}-${iso.slice(17, 19)}`;
  let dest = join(dir, `${base}.mp4`);
  for (let i = 1; ; i++) {
    try {
      await stat(dest);
      dest = join(dir, `${base}-${i}.mp4`);
    } catch {
      break;
    }
  }
  await rename(file, dest);
  const { size } = await stat(dest);
  return { path: dest, bytes: size, duration_s: Math.round(durationS * 1000) / 1000, started_at: Math.round(startedAt), ended_at: Math.round(endedAt) };
}

/**
 * Files what a crash left in `.partial/` (fragmented MP4 stays readable up to its last
 * fragment): each readable file moves to its day folder, its start taken as its mtime
 * minus its duration; unreadable or empty ones are deleted. Call it at start-up, before
 * recording, and add the returned files to the metadata database.
 * @returns the files recovered (none when there is no `.partial/`).
 */
export async function recoverPartialRecordings(dataDir: string): Promise<RecordedFile[]> {
  let names: string[];
  try {
    names = await readdir(partialDir(dataDir));
  } catch {
    return [];
  }
  const out: RecordedFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.mp4')).sort()) {
    const file = join(partialDir(dataDir), name);
    try {
      const { mtimeMs, size } = await stat(file);
      const duration = size > 0 ? await probeDuration(file) : 0;
      if (duration <= 0) {
        await rm(file, { force: true });
        continue;
      }
      out.push(await fileRecording(dataDir, file, mtimeMs - duration * 1000, mtimeMs, duration));
    } catch {
      // left for the next start-up
    }
  }
  return out;
}

/** One ffmpeg run of a recording. */
interface Run {
  proc: ChildProcess;
  id: string;
  /** Wall clock (Unix ms) of stream time 0: min over progress reports of (arrival − out_time). */
  t0: number;
  frames: number;
  /** Files ffmpeg listed as finished, by name, not yet filed. */
  filed: Set<string>;
  closed: Promise<void>;
  stderrTail: string;
  firstFrame: Promise<void>;
}

/**
 * Records the head's stream. Events: `file` ({@link RecordedFile}) for every finished
 * file, `status` ({@link RecorderStatus}), `interrupted` (reason: string) when the stream
 * broke off during a recording (it reconnects and goes on in a new file).
 *
 * ```ts
 * const rec = new Recorder({ sourceUrl: rtsp.url('main'), dataDir, gate: guard, onFile: (f) => db.addRecording(f) });
 * await rec.start();          // resolves once the first frame is written
 * const file = await rec.stop(); // { path, bytes, duration_s, started_at, ended_at }
 * ```
 */
export class Recorder extends EventEmitter {
  private run?: Run;
  private current: RecorderStatus = 'idle';
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectAttempt = 0;
  private lastFile: RecordedFile | null = null;
  private runSeq = 0;
  /** Filing jobs, one after the other. */
  private filing: Promise<void> = Promise.resolve();

  /** @throws Error when `sourceUrl` is not rtsp:// or `maxFileSeconds` is below 2. */
  constructor(private readonly opts: RecorderOptions) {
    super();
    if (!/^rtsps?:\/\/[^\s\u0000-\u001f]+$/.test(opts.sourceUrl)) throw new Error(`recorder source must be an rtsp:// URL, got ${JSON.stringify(opts.sourceUrl)}`);
    if (opts.maxFileSeconds !== undefined && !(Number.isFinite(opts.maxFileSeconds) && opts.maxFileSeconds >= 2)) {
      throw new Error(`maxFileSeconds must be a number ≥ 2, got ${String(opts.maxFileSeconds)}`);
    }
  }

  /** Process id of the recording ffmpeg, while one runs. */
  get ffmpegPid(): number | undefined {
    return this.run?.proc.pid;
  }

  /** The current status. */
  get status(): RecorderStatus {
    return this.current;
  }

  /** True once `start()` has resolved until `stop()` (also while reconnecting after the stream broke off). */
  isRecording(): boolean {
    return this.current === 'recording' || this.current === 'reconnecting';
  }

  /**
   * Starts a recording: asks the gate, starts ffmpeg, resolves once the first frame is
   * written (the stream joins at a keyframe: up to one keyframe interval, 2 s for the head's camera).
   * @throws RecordingRefusedError when the gate refuses (storage full).
   * @throws Error when already recording, or when ffmpeg exits or writes no frame within
   *   `startTimeoutMs` (no stream: the recorder is idle again).
   */
  async start(): Promise<void> {
    if (this.current !== 'idle') throw new Error(`recorder is ${this.current}`);
    this.setStatus('starting');
    try {
      if (this.opts.gate) {
        const verdict = await this.opts.gate.ensureSpace();
        if (!verdict.ok) throw new RecordingRefusedError(verdict.reason ?? 'storage full');
      }
      this.reconnectAttempt = 0;
      this.lastFile = null;
      const run = await this.spawnRun();
      const timeoutMs = this.opts.startTimeoutMs ?? 15_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no frame recorded within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      try {
        await Promise.race([run.firstFrame, timeout]);
      } finally {
        clearTimeout(timer);
      }
      if ((this.current as RecorderStatus) === 'starting') this.setStatus('recording');
    } catch (err) {
      await this.finishRun();
      this.setStatus('idle');
      throw err;
    }
  }

  /**
   * Stops the recording: `q` to ffmpeg (it finishes the file), SIGKILL after
   * `stopTimeoutMs`; the last file is filed (probed when ffmpeg had to be killed).
   * @returns the last file of the recording, or null when nothing was recorded (or not recording).
   */
  async stop(): Promise<RecordedFile | null> {
    if (this.current === 'idle' || this.current === 'stopping') return null;
    this.setStatus('stopping');
    clearTimeout(this.reconnectTimer);
    await this.finishRun();
    const last = this.lastFile;
    this.setStatus('idle');
    return last;
  }

  private setStatus(s: RecorderStatus): void {
    if (s === this.current) return;
    this.current = s;
    this.emit('status', s);
  }

  private async spawnRun(): Promise<Run> {
    const dir = partialDir(this.opts.dataDir);
    await mkdir(dir, { recursive: true });
    const id = `${Date.now()}-${++this.runSeq}`;
    const args = [
      '-hide_banner', '-nostats', '-loglevel', 'warning',
      // The SDP carries the H.264 parameter sets: no need to buffer seconds of stream to probe it.
      '-probesize', '32', '-analyzeduration', '0',
      '-rtsp_transport', 'tcp', '-timeout', '5000000', '-i', this.opts.sourceUrl,
      '-map', '0:v:0', '-c', 'copy',
      '-f', 'segment', '-segment_time', String(this.opts.maxFileSeconds ?? NO_SPLIT_S), '-reset_timestamps', '1',
      '-segment_format', 'mp4', '-segment_format_options', `movflags=${RECORDING_MOVFLAGS}:flush_packets=1`,
      '-segment_list', 'pipe:3', '-segment_list_type', 'csv',
      join(dir, `${id}-%03d.mp4`),
      '-progress', 'pipe:1', '-stats_period', '0.25',
    ];
    // stdin stays a pipe: `q` on it is ffmpeg's graceful stop.
    const proc = spawn(ffmpegPath(), args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    let gotFrame!: () => void;
    let failed!: (err: Error) => void;
    const firstFrame = new Promise<void>((resolve, reject) => { gotFrame = resolve; failed = reject; });
    firstFrame.catch(() => undefined);
    const run: Run = { proc, id, t0: Infinity, frames: 0, filed: new Set(), stderrTail: '', firstFrame, closed: Promise.resolve() };
    run.closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    this.run = run;
    proc.stdin!.on('error', () => undefined);
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (s: string) => { run.stderrTail = (run.stderrTail + s).slice(-4000); });
    lines(proc.stdout!, (line) => {
      const m = /^(frame|out_time_us)=(\d+)$/.exec(line);
      if (!m) return;
      if (m[1] === 'frame') {
        const n = Number(m[2]);
        if (n > 0 && run.frames === 0) gotFrame();
        run.frames = Math.max(run.frames, n);
      } else if (run.frames > 0) {
        run.t0 = Math.min(run.t0, Date.now() - Number(m[2]) / 1000);
      }
    });
    // Segment list (csv): `<file name>,<start s>,<end s>` once a file is finished.
    lines((proc.stdio as unknown as Readable[])[3]!, (line) => {
      const [name, start, end] = line.split(',');
      if (!name || start === undefined || end === undefined) return;
      run.filed.add(name);
      void this.fileListed(run, join(dir, name), Number(start), Number(end));
    });
    proc.on('error', (err) => failed(err));
    proc.once('close', (code, signal) => {
      failed(new Error(`recorder ffmpeg exited (${signal ?? code}) before the first frame${lastLine(run.stderrTail)}`));
      if (this.run === run) void this.onUnexpectedExit(run, `recorder ffmpeg exited (${signal ?? code})${lastLine(run.stderrTail)}`);
    });
    this.opts.logger?.debug({ run: id }, 'recorder ffmpeg started');
    return run;
  }

  /** Files one file the segment list named as finished (times in stream seconds). */
  private fileListed(run: Run, file: string, start: number, end: number): Promise<void> {
    return this.enqueue(async () => {
      let duration = end - start;
      if (!(duration > 0)) duration = await probeDuration(file);
      const t0 = Number.isFinite(run.t0) ? run.t0 : Date.now() - end * 1000;
      await this.fileOne(file, t0 + start * 1000, duration);
    });
  }

  /** After ffmpeg is gone: files this run's files that the segment list did not name (ffmpeg was killed). */
  private fileLeftovers(run: Run): Promise<void> {
    return this.enqueue(async () => {
      const dir = partialDir(this.opts.dataDir);
      let names: string[] = [];
      try {
        names = (await readdir(dir)).filter((n) => n.startsWith(`${run.id}-`) && !run.filed.has(n)).sort();
      } catch {
        return;
      }
      for (const name of names) {
        const file = join(dir, name);
        const duration = await probeDuration(file);
        // The only file of the run starts at the run's first frame; a later one ended about now.
        const startedAt = run.filed.size === 0 && names.length === 1 && Number.isFinite(run.t0) ? run.t0 : Date.now() - duration * 1000;
        await this.fileOne(file, startedAt, duration);
      }
    });
  }

  /** Moves one file into place and reports it; an empty or unreadable file is deleted. Never throws. */
  private async fileOne(file: string, startedAt: number, duration: number): Promise<void> {
    try {
      if (!(duration > 0)) {
        await rm(file, { force: true });
        return;
      }
      const f = await fileRecording(this.opts.dataDir, file, startedAt, startedAt + duration * 1000, duration);
      this.lastFile = f;
      this.opts.onFile?.(f);
      this.emit('file', f);
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message, file }, 'could not file a recording (left in .partial for recovery)');
    }
  }

  /** Runs filing jobs one after the other, in the order ffmpeg finished the files. */
  private enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.filing.then(job, job);
    this.filing = next.catch(() => undefined);
    return next;
  }

  /** Ends the current run: `q` on stdin (SIGKILL after `stopTimeoutMs`), waits for it to exit, files its files. */
  private async finishRun(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    const p = run.proc;
    if (p.exitCode === null && p.signalCode === null) {
      const kill = setTimeout(() => p.kill('SIGKILL'), this.opts.stopTimeoutMs ?? 10_000);
      p.stdin!.end('q\n');
      await run.closed;
      clearTimeout(kill);
    } else {
      await run.closed;
    }
    await this.fileLeftovers(run);
  }

  /** The stream broke off during a recording (or a reconnect failed): file what was written, reconnect after a backoff. */
  private async onUnexpectedExit(run: Run | undefined, reason: string): Promise<void> {
    if (run) {
      this.run = undefined;
      await this.fileLeftovers(run);
    }
    if (this.current !== 'recording' && this.current !== 'reconnecting') return;
    this.opts.logger?.warn({ reason }, 'recording interrupted; reconnecting');
    this.setStatus('reconnecting');
    this.emit('interrupted', reason);
    const delay = Math.min(30_000, (this.opts.reconnectMinMs ?? 1000) * 2 ** this.reconnectAttempt++);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    if (this.current !== 'reconnecting') return;
    try {
      if (this.opts.gate) {
        const verdict = await this.opts.gate.ensureSpace();
        if (!verdict.ok) {
          this.opts.logger?.warn({ reason: verdict.reason }, 'recording not resumed: storage');
          this.setStatus('idle');
          return;
        }
      }
      if (this.current !== 'reconnecting') return;
      const run = await this.spawnRun();
      run.firstFrame.then(() => {
        if (this.run === run && this.current === 'reconnecting') {
          this.reconnectAttempt = 0;
          this.setStatus('recording');
        }
      }, () => undefined);
    } catch (err) {
      void this.onUnexpectedExit(undefined, (err as Error).message);
    }
  }
}

/** Calls `fn` with each trimmed non-empty line of a stream. */
function lines(stream: Readable, fn: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('error', () => undefined);
  stream.on('data', (s: string) => {
    rest += s;
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, i).trim();
      rest = rest.slice(i + 1);
      if (line) fn(line);
    }
  });
}

function lastLine(stderr: string): string {
  const l = stderr.trim().split('\n').map((x) => x.trim()).filter(Boolean).pop();
  return l ? `: ${l}` : '';
}
