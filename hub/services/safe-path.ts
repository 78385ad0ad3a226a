/**
 * Media paths: every file a route serves is resolved inside its media root, whatever
 * the segments hold (`..`, absolute paths, NUL). Used by every media route.
 */
import { resolve, sep } from 'node:path';
import { InvalidInput } from '../errors.ts';

/**
 * Joins `segments` under `root` and checks the result stays inside it.
 * @throws InvalidInput `bad_path` on traversal, NUL bytes or empty segments.
 */
export function safeJoin(root: string, ...segments: string[]): string {
  const base = resolve(root);
  for (const s of segments) {
    if (!s || s.includes('\0') || s.includes('/') || s.includes('\\') || s === '..' || s === '.') throw new InvalidInput('invalid path segment', undefined, 'bad_path');
  }
  const full = resolve(base, ...segments);
  if (!full.startsWith(base + sep)) throw new InvalidInput('path outside the media root', undefined, 'bad_path');
  return full;
}
