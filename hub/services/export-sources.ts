/**
 * The segment files an export, clip or range file is made of: the rows overlapping a
 * range whose files are really there, each resolved under the recordings root.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { RecordingRow, RecordingsRepo } from '../store/recordings-repo.ts';
import { safeJoin } from './safe-path.ts';

/**
 * Absolute path of a segment's file: its `path` (relative, `/`-separated) under `root`, resolved with `safeJoin`.
 * @throws InvalidInput `bad_path` when the stored path escapes the root
 */
export function segmentFile(root: string, row: Pick<RecordingRow, 'path'>): string {
  return safeJoin(root, ...row.path.split('/'));
}

async function isFile(p: string): Promise<boolean> {
  try { return (await stat(p)).isFile(); } catch { return false; }
}

/**
 * Segments of `camera` overlapping `[start, end)` (Unix seconds) whose files exist, oldest
 * first. Rows whose path escapes `root` or whose file is missing are skipped with a warning.
 */
export async function existingSegments(repo: RecordingsRepo, root: string, logger: Logger, camera: string, start: number, end: number): Promise<RecordingRow[]> {
  const out: RecordingRow[] = [];
  for (const r of await repo.overlapping(camera, start, end)) {
    let file: string;
    try { file = segmentFile(root, r); } catch { logger.warn({ id: r.id, path: r.path }, 'segment path outside the recordings root; skipped'); continue; }
    if (await isFile(file)) out.push(r);
    else logger.warn({ id: r.id, path: r.path }, 'segment file missing; skipped');
  }
  return out;
}
