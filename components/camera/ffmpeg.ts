/**
 * Locating ffmpeg and building its arguments. User text never becomes an ffmpeg
 * argument except the input URL, which the camera schema limits to rtsp/rtsps/file.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * Path of the ffmpeg binary: `FFMPEG_PATH`, else `ffmpeg` on PATH (Debian's 5.1), else
 * the optional npm package `@ffmpeg-installer/ffmpeg`.
 * @throws Error naming `apt-get install ffmpeg` when none is found.
 */
export function ffmpegPath(): string {
  if (cached) return cached;
  const candidates = [process.env.FFMPEG_PATH, 'ffmpeg'];
  try {
    const req = createRequire(import.meta.url);
    candidates.push((req('@ffmpeg-installer/ffmpeg') as { path: string }).path);
  } catch {
    // optional fallback not installed
  }
  for (const c of candidates) {
    if (!c) continue;
    try {
      execFileSync(c, ['-version'], { stdio: 'ignore', timeout: 5000 });
      cached = c;
      return c;
    } catch {
      // try the next one
    }
  }
  throw new Error('ffmpeg not found: install it (apt-get install ffmpeg) or set FFMPEG_PATH');
}

/** Adds credentials to an rtsp(s) URL (percent-encoded). file:// URLs are returned unchanged. */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (!username || !/^rtsps?:/i.test(url)) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(username);
  u.password = encodeURIComponent(password ?? '');
  return u.toString();
}

/** The URL with any user:password removed, for logs and API output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) { u.username = ''; u.password = ''; }
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}

/** Input arguments for a source URL: RTSP over TCP with a socket timeout, or a looping file at native rate. */
export function inputArgs(url: string, opts: { socketTimeoutMs?: number } = {}): string[] {
  // The only user text that reaches ffmpeg: an rtsp/rtsps/file URL, never an option.
  if (!/^(rtsps?|file):\/\/[^\s\u0000-\u001f]+$/i.test(url)) throw new Error('camera URL refused: only rtsp://, rtsps:// or file:// without spaces or control characters');
  if (/^file:/i.test(url)) return ['-re', '-stream_loop', '-1', '-i', fileURLToPath(url)];
  const timeoutUs = String((opts.socketTimeoutMs ?? 5000) * 1000);
  // ffmpeg 5+: `-timeout` is the RTSP socket I/O timeout in µs (was `-stimeout`).
  return ['-rtsp_transport', 'tcp', '-timeout', timeoutUs, '-i', url];
}

/**
 * Full argument list for decoding detect frames: RGB24 raw video on stdout, at `fps` frames/s,
 * scaled to `width`×`height` px (`height` omitted: keep aspect ratio, even number).
 */
export function detectArgs(url: string, detect: { width: number; height?: number; fps: number }): string[] {
  const scale = `scale=${detect.width}:${detect.height ?? -2}`;
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
    ...inputArgs(url),
    '-an', '-sn', '-dn',
    '-vf', `fps=${detect.fps},${scale}`,
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
}
