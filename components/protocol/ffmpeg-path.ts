/**
 * Which ffmpeg every Vigil process runs: the hub (exports, HLS remux, probing segments)
 * and the camera component (ingest) find it the same way, so `FFMPEG_PATH` means one
 * thing everywhere.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

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

/** Path of ffprobe: the `ffprobe` next to {@link ffmpegPath}'s binary. @throws as {@link ffmpegPath}. */
export function ffprobePath(): string {
  return ffmpegPath().replace(/ffmpeg(\.exe)?$/, 'ffprobe$1');
}
