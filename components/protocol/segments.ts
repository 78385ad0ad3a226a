/**
 * Files finished recording segments into the layout
 * `<root>/<cam>/YYYY-MM-DD/HH/MM.SS.mp4` (UTC start time) and describes them for
 * `vigil/recorder/<cam>/segment`. ffmpeg writes each input's segments into
 * `<root>/<cam>/.incoming/run-<ms>/NNNNNN.mp4`; a segment moves once ffmpeg lists it as
 * finished, so a crash leaves at most the segment being written in `.incoming/`, where the
 * hub's start-up repair finds it.
 */
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/** What `vigil/recorder/<cam>/segment` carries. Times Unix seconds; `path` relative to the recordings root. */
export interface SegmentInfo {
  id: string;
  camera: string;
  path: string;
  start_time: number;
  end_time: number;
  /** Seconds. */
  duration: number;
  bytes: number;
}

/** The incoming directory of a camera's ffmpeg runs. */
export const incomingDir = (root: string, camera: string): string => join(root, camera, '.incoming');

/** Relative path of a segment starting at `start` (Unix s, UTC): `<cam>/YYYY-MM-DD/HH/MM.SS.mp4`. */
export function segmentPath(camera: string, start: number): string {
  const d = new Date(Math.floor(start) * 1000).toISOString(); // 2026-11-21T21:34:23.000Z
  return `${camera}/${d.slice(0, 10)}/${d.slice(11, 13)}/${d.slice(14, 16)}.${d.slice(17, 19)}.mp4`;
}

/** Row id of a segment. */
export const segmentId = (camera: string, start: number): string => `${camera}:${start.toFixed(3)}`;

/**
 * Moves a finished segment into place (a later segment with the same second keeps both:
 * `MM.SS-1.mp4`).
 * @throws when the file cannot be moved (disk gone): the caller logs it; the file stays in `.incoming/` for the repair.
 */
export async function fileSegment(root: string, camera: string, file: string, start: number, end: number): Promise<SegmentInfo> {
  let rel = segmentPath(camera, start);
  for (let i = 1; ; i++) {
    try {
      await stat(join(root, rel));
      rel = segmentPath(camera, start).replace(/\.mp4$/, `-${i}.mp4`);
    } catch {
      break;
    }
  }
  const dest = join(root, rel);
  await mkdir(dirname(dest), { recursive: true });
  await rename(file, dest);
  const { size } = await stat(dest);
  return { id: segmentId(camera, start), camera, path: relative(root, dest), start_time: start, end_time: end, duration: Math.round((end - start) * 1000) / 1000, bytes: size };
}
