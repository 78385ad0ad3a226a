/**
 * Loading the configuration: YAML file → environment overrides → zod validation.
 *
 * File: `--config PATH`, else `VIGIL_CONFIG`, else `./data/vigil.yaml` (missing = defaults).
 * Environment: every leaf of the schema has a variable `VIGIL_<SECTION>__<KEY>` (upper
 * case, `__` between levels), e.g. `VIGIL_MQTT__URL`, `VIGIL_HTTP__PORT`; values are
 * coerced to the leaf's type (numbers, booleans `true/false`, JSON for arrays/objects).
 * This derivation follows Zigbee2MQTT's `ZIGBEE2MQTT_CONFIG_*` (`lib/util/settings.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type VigilConfig } from './schema.ts';

/** Thrown for an invalid configuration; `issues` are `path: message` lines. */
export class ConfigError extends Error {
  constructor(readonly issues: string[], readonly file?: string) {
    super(`invalid configuration${file ? ` in ${file}` : ''}:\n${issues.map((i) => `  ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Where the config file is: `--config`, `VIGIL_CONFIG`, or `./data/vigil.yaml`. */
export function configPath(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): string {
  const i = argv.indexOf('--config');
  if (i >= 0 && argv[i + 1]) return argv[i + 1]!;
  const eq = argv.find((a) => a.startsWith('--config='));
  if (eq) return eq.slice('--config='.length);
  return env.VIGIL_CONFIG ?? './data/vigil.yaml';
}

/**
 * Loads and validates the configuration.
 * @throws ConfigError listing every problem as `path: message` (YAML syntax errors included).
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): VigilConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? configPath([], env);
  let raw: unknown = {};
  if (existsSync(file)) {
    try {
      raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError([`(file): ${(err as Error).message.split('\n')[0]}`], file);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(['(root): must be a mapping of sections'], file);
  }
  const issues: string[] = [];
  const merged = applyEnv(raw as Record<string, unknown>, env, issues);
  if (issues.length) throw new ConfigError(issues, file);
  const r = configSchema.safeParse(merged);
  if (!r.success) throw new ConfigError(r.error.issues.map(formatIssue), file);
  return r.data;
}

/** `path: message`, with the offending key named for unknown keys. */
export function formatIssue(i: z.core.$ZodIssue): string {
  const path = i.path.join('.') || '(root)';
  if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${i.path.length ? `${path}.` : ''}${k}: unknown key`).join('\n  ');
  return `${path}: ${i.message}`;
}

type Leaf = { path: string[]; kind: 'string' | 'number' | 'boolean' | 'json' };

/** Every leaf of the schema with its type, for env variables. */
export function schemaLeaves(): Leaf[] {
  const out: Leaf[] = [];
  const walk = (s: z.ZodType, path: string[]): void => {
    const def = (s as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    switch (def.type) {
      case 'default': case 'prefault': case 'optional': case 'nullable':
        walk(def.innerType as z.ZodType, path); return;
      case 'object':
        for (const [k, v] of Object.entries(def.shape as Record<string, z.ZodType>)) walk(v, [...path, k]);
        return;
      case 'number': out.push({ path, kind: 'number' }); return;
      case 'boolean': out.push({ path, kind: 'boolean' }); return;
      case 'string': case 'enum': out.push({ path, kind: 'string' }); return;
      case 'union': {
        const opts = def.options as z.ZodType[];
        const lit = opts.every((o) => (o as unknown as { _zod: { def: { type: string; values: unknown[] } } })._zod.def.type === 'literal');
        out.push({ path, kind: lit ? 'json' : 'string' }); return;
      }
      default: out.push({ path, kind: 'json' });
    }
  };
  walk(configSchema, []);
  return out;
}

/** The environment variable of a leaf path. */
export function envName(path: string[]): string {
  return `VIGIL_${path.map((p) => p.toUpperCase()).join('__')}`;
}

/**
 * A copy of `raw` (the file's mapping) with every `VIGIL_<SECTION>__<KEY>` variable of `env`
 * set over it, coerced to its leaf's type; a variable that does not parse adds a
 * `path: message` line to `issues` and is left out.
 */
export function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, issues: string[]): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const leaf of schemaLeaves()) {
    const name = envName(leaf.path);
    const v = env[name];
    if (v === undefined) continue;
    let value: unknown = v;
    if (leaf.kind === 'number') {
      value = Number(v);
      if (v.trim() === '' || Number.isNaN(value)) { issues.push(`${leaf.path.join('.')}: ${name}=${JSON.stringify(v)} is not a number`); continue; }
    } else if (leaf.kind === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(v)) { issues.push(`${leaf.path.join('.')}: ${name} must be true or false`); continue; }
      value = v === 'true' || v === '1';
    } else if (leaf.kind === 'json') {
      try { value = JSON.parse(v); } catch { issues.push(`${leaf.path.join('.')}: ${name} must be JSON`); continue; }
    }
    let node = out as Record<string, unknown>;
    for (const k of leaf.path.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[leaf.path[leaf.path.length - 1]!] = value;
  }
  return out;
}
