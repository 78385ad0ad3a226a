/**
 * A connection test for a stream URL before it becomes a camera (`POST /api/cameras/probe`):
 * Debian's ffprobe (found as ffmpeg is, `components/protocol/ffmpeg-path.ts`) opens the
 * URL — RTSP over TCP — and reports its container and its video and audio streams.
 *
 * ffprobe runs with `-v error -of json -show_streams -show_format`; it is killed (SIGKILL)
 * when the timeout passes or the caller aborts. Its answer is parsed leniently (any field
 * may be missing or odd); its stderr becomes the error message, with credentials redacted.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ffprobePath } from '../../components/protocol/ffmpeg-path.ts';
import { redactCredentials, redactUrl } from '../../components/protocol/log.ts';
import { InvalidInput } from '../errors.ts';
import type { ProbedStream } from '../../components/protocol/stream-probe.ts';

/** Bounds of a probe's timeout, ms. */
export const PROBE_TIMEOUT = { min: 1000, max: 30_000, default: 10_000 };

/** `POST /api/cameras/probe` body (the URL itself is checked by `CameraService.checkSource`). */
export const streamProbeInput = z
  .object({
    url: z.string().max(4096),
    username: z.string().max(128).optional(),
    password: z.string().max(1024).optional(),
    timeout_ms: z.number().int().min(PROBE_TIMEOUT.min).max(PROBE_TIMEOUT.max).default(PROBE_TIMEOUT.default),
  })
  .strict();

export type { ProbedStream };

/** What a probe found. */
export interface StreamProbe {
  /** The URL probed, credentials removed. */
  url: string;
  /** ffprobe's `format_name` (`rtsp`, `avi`, `mov,mp4,m4a,3gp,3g2,mj2` …), or null. */
  format: string | null;
  /** Video and audio streams, in ffprobe's order (data and subtitle streams left out). */
  streams: ProbedStream[];
}

/** What {@link probeStream} needs: a URL already checked, its credentials apart. */
export interface ProbeRequest {
  /** rtsp://, rtsps:// or file:// URL without credentials. */
  url: string;
  username?: string;
  password?: string;
  /** Kill ffprobe after this long, ms. */
  timeoutMs: number;
  /** Kills ffprobe when aborted (the client went away). */
  signal?: AbortSignal;
}

const STDOUT_LIMIT = 4 * 1024 * 1024;
const STDERR_KEEP = 16 * 1024;
const MESSAGE_LIMIT = 400;
/** How much of an RTSP stream ffprobe reads to find its parameters, µs. */
const ANALYZE_US = 1_500_000;

const rational = z.string().regex(/^\d+\/\d+$/).optional().catch(undefined);
const ffprobeAnswer = z.object({
  streams: z.array(z.object({
    index: z.number().int().catch(-1),
    codec_type: z.string().optional().catch(undefined),
    codec_name: z.string().optional().catch(undefined),
    profile: z.string().optional().catch(undefined),
    width: z.number().int().positive().optional().catch(undefined),
    height: z.number().int().positive().optional().catch(undefined),
    avg_frame_rate: rational,
    r_frame_rate: rational,
    pix_fmt: z.string().optional().catch(undefined),
    sample_rate: z.coerce.number().int().positive().optional().catch(undefined),
    channels: z.number().int().positive().optional().catch(undefined),
  }).catch({ index: -1 })).catch([]),
  format: z.object({ format_name: z.string().optional().catch(undefined) }).optional().catch(undefined),
}).catch({ streams: [] });

/**
 * Runs ffprobe on the URL.
 * @returns the container and the streams (see {@link StreamProbe})
 * @throws InvalidInput code `probe_failed`: field `password` when the RTSP server answered
 *   401 (the credentials are missing or wrong), field `url` for everything else — refused,
 *   unreachable, not a stream, timed out (ffprobe's message, credentials redacted)
 */
export async function probeStream(req: ProbeRequest): Promise<StreamProbe> {
  const shown = redactUrl(req.url);
  const rtsp = /^rtsps?:/i.test(req.url);
  const input = rtsp ? withCredentials(req.url, req.username, req.password) : `file:${fileURLToPath(req.url)}`;
  const args = ['-hide_banner', '-v', 'error'];
  // µs. ffmpeg 5's RTSP `timeout` bounds each socket read, our timer the whole probe; 1.5 s of
  // analysis (ffprobe's default is 5 s) is enough for the frame rate and takes the RTSP test
  // camera's probe from 2.9 s to 1.9 s (measured with Debian's ffprobe 5.1).
  if (rtsp) args.push('-rtsp_transport', 'tcp', '-timeout', String(req.timeoutMs * 1000), '-analyzeduration', String(ANALYZE_US));
  args.push('-of', 'json', '-show_streams', '-show_format', '--', input);
  const run = await runFfprobe(args, req.timeoutMs, req.signal);
  // URLs in ffmpeg's messages lose their `user:pass@`; a password quoted elsewhere goes too (not one so short it would eat words).
  const secrets = [req.password].filter((s): s is string => Boolean(s && s.length >= 4));
  if (run.timedOut) throw failed(`no answer from ${shown} within ${req.timeoutMs} ms`, 'url');
  if (run.aborted) throw failed('probe cancelled', 'url');
  if (run.spawnError) throw failed(`ffprobe could not run: ${run.spawnError}`, 'url');
  const stderr = clean(run.stderr, secrets);
  if (rtsp && /\b(?:failed|returned):? 401\b/i.test(run.stderr)) {
    throw failed(`the camera refused the login (${req.username || req.password ? 'wrong username or password' : 'it needs a username and password'}): ${stderr}`, 'password');
  }
  if (run.code !== 0) throw failed(`${shown}: ${stderr || `ffprobe exited with code ${run.code}`}`, 'url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    throw failed(`${shown}: ffprobe gave no readable answer${stderr ? ` (${stderr})` : ''}`, 'url');
  }
  const answer = ffprobeAnswer.parse(parsed);
  const streams = answer.streams.flatMap((s): ProbedStream[] => {
    if (s.codec_type !== 'video' && s.codec_type !== 'audio') return [];
    const common = { index: s.index, type: s.codec_type, codec: s.codec_name ?? null, profile: s.profile ?? null } as const;
    if (s.codec_type === 'audio') return [{ ...common, width: null, height: null, fps: null, sample_rate: s.sample_rate ?? null, channels: s.channels ?? null }];
    return [{ ...common, width: s.width ?? null, height: s.height ?? null, fps: frameRate(s.avg_frame_rate) ?? frameRate(s.r_frame_rate), pix_fmt: s.pix_fmt ?? null }];
  });
  if (!streams.length) throw failed(`${shown}: no video or audio stream found${stderr ? ` (${stderr})` : ''}`, 'url');
  return { url: shown, format: answer.format?.format_name ?? null, streams };
}

/** `num/den` as frames/s with 2 decimals; null for `0/0`, zero or nonsense. */
export function frameRate(r: string | undefined): number | null {
  const m = r ? /^(\d+)\/(\d+)$/.exec(r) : null;
  if (!m) return null;
  const num = Number(m[1]);
  const den = Number(m[2]);
  if (!den || !num) return null;
  const fps = num / den;
  return Number.isFinite(fps) && fps < 10_000 ? Math.round(fps * 100) / 100 : null;
}

function failed(message: string, field: 'url' | 'password'): InvalidInput {
  return new InvalidInput(message, field, 'probe_failed');
}

function withCredentials(url: string, username?: string, password?: string): string {
  if (!username && !password) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(username ?? '');
  u.password = encodeURIComponent(password ?? '');
  return u.toString();
}

/** ffprobe's stderr as one short line (its last): credentials and the given secrets removed. */
function clean(stderr: string, secrets: string[]): string {
  let text = redactCredentials(stderr);
  for (const s of secrets) {
    text = text.split(s).join('[redacted]');
    const enc = encodeURIComponent(s);
    if (enc !== s) text = text.split(enc).join('[redacted]');
  }
  // ffmpeg's last line says what ended it; drop its `[tcp @ 0x…]` context and the URL it starts with.
  const line = (text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '')
    .replace(/^\[[^\]]*\]\s*/, '')
    .replace(/^[a-z][\w+.-]*:\S*:\s+/i, '');
  return line.length > MESSAGE_LIMIT ? `${line.slice(0, MESSAGE_LIMIT)}…` : line;
}

interface FfprobeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  spawnError?: string;
}

/** Spawns ffprobe; resolves when it has exited (killed with SIGKILL after `timeoutMs` or on abort). Never rejects. */
function runFfprobe(args: string[], timeoutMs: number, signal?: AbortSignal): Promise<FfprobeRun> {
  return new Promise((resolve) => {
    let bin: string;
    try {
      bin = ffprobePath();
    } catch (err) {
      resolve({ code: null, stdout: '', stderr: '', timedOut: false, aborted: false, spawnError: (err as Error).message });
      return;
    }
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
    const timer = setTimeout(() => { timedOut = true; kill(); }, timeoutMs);
    const onAbort = () => { aborted = true; kill(); };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > STDOUT_LIMIT) kill();
      else out.push(c);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-STDERR_KEEP); });
    let settled = false;
    const settle = (code: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr, timedOut, aborted, spawnError });
    };
    // A failed spawn may emit only `error`; a run always ends with `close`.
    child.on('error', (err) => { spawnError = err.message; if (child.pid === undefined) settle(null); });
    child.on('close', (code) => settle(code));
  });
}
