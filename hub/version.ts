/** The hub's version, from the package.json above this file (works from sources and from dist/). */
import { existsSync, readFileSync } from 'node:fs';

function findPackageJson(): URL {
  for (const rel of ['../package.json', '../../package.json']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return u;
  }
  throw new Error('package.json not found above hub/version');
}

export const VERSION: string = (JSON.parse(readFileSync(findPackageJson(), 'utf8')) as { version: string }).version;
