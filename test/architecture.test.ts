/**
 * The layer rules of `.dependency-cruiser.cjs` (docs/architecture.md, "Layers"): the tree
 * has no forbidden import, and each rule really fires on a tree that breaks it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');
/** Top-level folders holding Vigil's own code (the design card's top level). */
const CODE_DIRS = ['hub', 'components', 'flows', 'kiosk-client', 'head-firmware', 'www'];

interface Violation { from: string; to: string; rule: { name: string } }

/** Runs dependency-cruiser with Vigil's config in `cwd`; returns the violations. */
function cruise(cwd: string): Violation[] {
  const dirs = CODE_DIRS.filter((d) => existsSync(join(cwd, d)));
  const out = execFileSync(DEPCRUISE, ['--config', CONFIG, '--output-type', 'json', ...dirs], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layer rules (dependency-cruiser)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-layers-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the tree breaks none of them', () => {
    const violations = cruise(ROOT);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 60_000);

  it('each rule fails a tree with the import it forbids', () => {
    const files: Record<string, string> = {
      'components/protocol/topics.ts': "import { Camera } from '../camera/index.ts';\nexport const t = Camera;\n",
      'components/camera/index.ts': "export const Camera = 1;\n",
      'components/camera/runner.ts': "import { store } from '../../hub/store.ts';\nimport { pool } from '../detector/pool.ts';\nexport const r = [store, pool];\n",
      'components/detector/pool.ts': "export const pool = 1;\n",
      'components/detector/index.ts': "export { pool } from './pool.ts';\n",
      'components/main.ts': "import { pool } from './detector/pool.ts';\nexport const m = pool;\n",
      'hub/store.ts': "export const store = 1;\n",
      'hub/hub.ts': "import { pool } from '../components/detector/pool.ts';\nimport { Camera } from '../components/camera/index.ts';\nexport const h = [pool, Camera];\n",
      'hub/http/errors.ts': "export class ApiError extends Error {}\n",
      'hub/services/exports.ts': "import { ApiError } from '../http/errors.ts';\nimport express from 'express';\nexport const e = [ApiError, express];\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(tmp, path)), { recursive: true });
      writeFileSync(join(tmp, path), text);
    }
    copyFileSync(join(ROOT, 'tsconfig.json'), join(tmp, 'tsconfig.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'));

    const found = cruise(tmp).map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^(.*\/)?node_modules\/express\/.*/, 'express')}`).sort();
    expect(found).toEqual([
      'clients-never-import-hub: components/camera/runner.ts → hub/store.ts',
      'component-runner-uses-entry-points: components/main.ts → components/detector/pool.ts',
      'components-keep-to-themselves: components/camera/runner.ts → components/detector/pool.ts',
      'hub-uses-component-entry-points: hub/hub.ts → components/detector/pool.ts',
      'only-http-imports-express: hub/services/exports.ts → express',
      'only-http-knows-http: hub/services/exports.ts → hub/http/errors.ts',
      'protocol-stands-alone: components/protocol/topics.ts → components/camera/index.ts',
    ]);
  }, 60_000);
});
