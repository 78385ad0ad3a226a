/**
 * Running ffmpeg from the hub: one spawn with stderr kept for the error and an abort
 * signal that kills it ({@link startFfmpeg}), a run that reports `-progress` lines
 * ({@link runFfmpeg}), the concat-demuxer join of recording segments with stream copy
 * ({@link concatSegments}, for exports, clips and range files) and the arguments of the
 * MPEG-TS remux of one segment ({@link tsRemuxArgs}, for HLS).
 *
 * The binary is `bin` when given, else `ffmpegPath()` (`FFMPEG_PATH`, else `ffmpeg` on
 * PATH, …), resolved when a job starts, so a hub without ffmpeg starts and fails the job.
 */
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ffmpegPath } from '../../components/protocol/ffmpeg-path.ts';

/** Characters of stderr kept for the error message. */
const STDERR_KEEP = 4000;

/** An ffmpeg run that failed: it could not start, exited non-zero, or was aborted. */
export class FfmpegError extends Error {
  /**
   * @param exitCode the exit code, or the signal that ended it; null when it never ran
   * @param stderr the last {@link STDERR_KEEP} characters of its stderr
   * @param aborted true when the abort signal killed it
   */
  constructor(message: string, readonly exitCode: number | string | null, readonly stderr: string, readonly aborted = false) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** A started ffmpeg: its stdout, and a promise for its end. */
export interface FfmpegRun {
  /** The process's stdout (raw bytes). */
  stdout: Readable;
  /** Resolves on exit 0. @throws FfmpegError on a spawn failure, a non-zero exit or an abort */
  done: Promise<void>;
}

/**
 * Spawns ffmpeg with `args` (stdin ignored; stdout for the caller; stderr kept for errors).
 * Aborting `signal` kills it with SIGKILL.
 * @param o.bin the binary; default `ffmpegPath()`
 * @throws Error from `ffmpegPath()` when no ffmpeg is installed (synchronously)
 */
export function startFfmpeg(args: string[], o: { bin?: string; signal?: AbortSignal } = {}): FfmpegRun {
  const { signal } = o;
  if (signal?.aborted) {
    const done = Promise.reject(new FfmpegError('aborted', null, '', true));
    done.catch(() => undefined);
    return { stdout: Readable.from([]), done };
  }
  const bin = o.bin ?? ffmpegPath();
  const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-STDERR_KEEP); });
  const done = new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { p.kill('SIGKILL'); };
    signal?.addEventListener('abort', onAbort, { once: true });
    p.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new FfmpegError(`cannot run ${bin}: ${err.message}`, null, stderr));
    });
    p.once('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new FfmpegError('aborted', code ?? sig, stderr, true));
      else if (code === 0) resolve();
      else reject(new FfmpegError(`ffmpeg exited with ${code ?? sig}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`, code ?? sig, stderr));
    });
  });
  return { stdout: p.stdout, done };
}

/**
 * Runs ffmpeg to the end; `onLine` gets each stdout line, trimmed (e.g. `-progress pipe:1` output).
 * @param o.bin the binary; default `ffmpegPath()`
 * @throws FfmpegError with stderr's tail on a spawn failure, non-zero exit or abort; Error when no ffmpeg is installed
 */
export async function runFfmpeg(args: string[], o: { bin?: string; signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<void> {
  const run = startFfmpeg(args, o);
  let buf = '';
  run.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) { o.onLine?.(buf.slice(0, i).trim()); buf = buf.slice(i + 1); }
  });
  await run.done;
}

/** Quotes a path for an ffconcat `file` line. */
function concatQuote(p: string): string {
  return `'${p.replaceAll("'", "'\\''")}'`;
}

/** What {@link concatSegments} joins, and how. Seconds on the concat timeline (see `export-plan.ts`). */
export interface ConcatJob {
  /** The binary; default `ffmpegPath()`. */
  ffmpeg?: string;
  /** Absolute paths of the segment files, oldest first. */
  files: string[];
  /** Where the ffconcat list is written (removed afterwards). */
  listFile: string;
  /** The output file (MP4). */
  out: string;
  /** Seconds to skip (`-ss`): the output starts at the keyframe at or before it, the frames before it hidden by an MP4 edit list. */
  ss: number;
  /** Output duration, seconds (`-t`). */
  t: number;
  /** `-movflags +faststart` (the index first, so browsers play before the download ends). */
  faststart: boolean;
  /** Called with 0–1 as ffmpeg reports `out_time_us` (about every 250 ms). */
  onProgress?: (p: number) => void;
  /** Aborting kills ffmpeg (the promise rejects). */
  signal?: AbortSignal;
}

/**
 * Joins `files` with ffmpeg's concat demuxer and stream copy (`-c copy`, video and audio
 * when present) into `out`, cut to `[ss, ss + t]` of the concat timeline.
 * @throws FfmpegError with the tail of ffmpeg's stderr when it fails or is aborted; Error when no ffmpeg is installed
 */
export async function concatSegments(o: ConcatJob): Promise<void> {
  await writeFile(o.listFile, `ffconcat version 1.0\n${o.files.map((f) => `file ${concatQuote(f)}\n`).join('')}`);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0'];
  if (o.ss > 0.001) args.push('-ss', o.ss.toFixed(3));
  args.push('-i', o.listFile, '-t', o.t.toFixed(3), '-map', '0:v?', '-map', '0:a?', '-c', 'copy');
  if (o.faststart) args.push('-movflags', '+faststart');
  args.push('-f', 'mp4', '-progress', 'pipe:1', '-stats_period', '0.25', '-nostats', o.out);
  try {
    await runFfmpeg(args, {
      bin: o.ffmpeg, signal: o.signal,
      onLine: (line) => {
        const m = /^out_time_us=(\d+)/.exec(line);
        if (m && o.onProgress) o.onProgress(Math.min(1, Math.max(0, Number(m[1]) / 1e6 / o.t)));
      },
    });
  } finally {
    await rm(o.listFile, { force: true });
  }
}

/**
 * Arguments that remux one segment file to MPEG-TS on stdout with stream copy, its
 * timestamps shifted by `offsetS` seconds (`-output_ts_offset`, omitted when 0) so
 * segments played one after another in an HLS playlist run on.
 */
export function tsRemuxArgs(file: string, offsetS: number): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:v?', '-map', '0:a?', '-c', 'copy'];
  if (offsetS > 0) args.push('-output_ts_offset', offsetS.toFixed(3));
  args.push('-f', 'mpegts', 'pipe:1');
  return args;
}
