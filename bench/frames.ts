/** Real frames for benchmarks: JPEGs decoded from the demo footage with ffmpeg. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath } from '../components/protocol/ffmpeg-path.ts';

/** Debian opencv-doc's pedestrian footage (768×576, 10 fps, 79.5 s). */
export const FOOTAGE = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

/**
 * `count` JPEG frames, `width`×`height` px, spread over the footage (1 frame/s of video).
 * @throws when ffmpeg or the footage is missing.
 */
export function footageFrames(count = 40, width = 640, height = 480): Buffer[] {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-frames-'));
  try {
    execFileSync(ffmpegPath(), ['-v', 'error', '-i', FOOTAGE, '-vf', `fps=1,scale=${width}:${height}`, '-frames:v', String(count), '-q:v', '4', join(dir, '%04d.jpg')]);
    return readdirSync(dir).sort().map((f) => readFileSync(join(dir, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Percentile (0–100) of `values` by nearest rank; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Rounds to `d` decimals. */
export const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;
