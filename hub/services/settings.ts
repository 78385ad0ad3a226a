/**
 * The settings the web UI edits (`GET`/`PATCH /api/settings`): `recordings.*` (storage and
 * retention), `mqtt.*`, `homeassistant.*` and `log.level` of the hub's configuration.
 *
 * - **Where a value comes from.** `env` when its `VIGIL_<SECTION>__<KEY>` variable is set
 *   (it wins over the file, so the UI cannot change it), `file` when the YAML file has it,
 *   else `default` (docs/config.md).
 * - **A change** is a partial object of those sections (`null` removes a key: back to its
 *   default). It is validated as the hub's loader does — the file's mapping with the change,
 *   the environment over it, the one zod schema — then written into the YAML file with the
 *   `yaml` package's Document API, so comments, order and every other key stay as they were.
 * - **Applied live**: the retention limits (the sweeper takes them and sweeps at once),
 *   `log.level` (the root logger; children follow), `homeassistant.*` (the discovery
 *   publisher restarts under the new prefix or clears its configs). `mqtt.*` and
 *   `recordings.root` take effect at the next start: the answer lists them in
 *   `restart_required`, and until then the view shows them as `pending`.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, parseDocument, type Document } from 'yaml';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../components/protocol/atomic-write.ts';
import { configKeys, type KeyDoc } from '../../components/protocol/config/docs.ts';
import { applyEnv } from '../../components/protocol/config/load.ts';
import { configSchema, type VigilConfig } from '../../components/protocol/config/schema.ts';
import { redactUrl } from '../../components/protocol/log.ts';
import { Conflict, InvalidInput } from '../errors.ts';
import type { RetentionLimits } from './retention.ts';

/** The configuration sections the settings page edits. */
export const SETTINGS_SECTIONS = ['recordings', 'mqtt', 'homeassistant', 'log'] as const;

/** Keys the hub applies without a restart. */
export const LIVE_KEYS: ReadonlySet<string> = new Set([
  'recordings.max_size_gb', 'recordings.max_percent', 'recordings.min_free_gb', 'recordings.clip_retain_days', 'recordings.sweep_interval_s',
  'homeassistant.enabled', 'homeassistant.discovery_prefix', 'homeassistant.base_url', 'log.level',
]);

/** Keys whose value is never shown (`has_password` says whether one is set). */
const SECRET_KEYS: ReadonlySet<string> = new Set(['mqtt.password']);

/** Where a setting's value comes from. */
export type SettingSource = 'default' | 'file' | 'env';

/** One setting as `GET /api/settings` shows it. */
export interface SettingView {
  /** The value in force (`null`: unset; always `null` for a password); URLs without credentials. */
  value: unknown;
  source: SettingSource;
  /** The environment variable that would override it. */
  env: string;
  /** The schema's default, when it has one. */
  default?: unknown;
  /** Changes apply at once (else at the next start). */
  live: boolean;
  /** The schema's description (docs/config.md). */
  description: string;
  /** Passwords: whether one is set. */
  has_password?: boolean;
  /** A restart-only key whose file value differs from the one in force: the value after a restart (passwords: `true`). */
  pending?: unknown;
}

/** `GET /api/settings`. */
export interface SettingsView {
  /** The configuration file (absolute), or null when the hub was started without one. */
  file: string | null;
  /** Whether changes can be saved (a file path is known). */
  writable: boolean;
  /** By dotted key (`recordings.clip_retain_days` …), in schema order. */
  settings: Record<string, SettingView>;
}

/** What a change did. */
export interface SettingsChange {
  view: SettingsView;
  /** Keys of the change whose value differs from the one before (dotted). */
  changed: string[];
  /** Keys of the change that take effect at the next start. */
  restart_required: string[];
}

/** What the service applies live. */
export interface SettingsAppliers {
  retention(limits: RetentionLimits): void;
  logLevel(level: string): void;
  /** Restarts the Home Assistant publisher from the (already updated) config. */
  homeassistant(): Promise<void>;
}

export interface SettingsDeps {
  /** The hub's configuration in force; live keys are updated in it. */
  config: VigilConfig;
  /** The YAML file the hub was loaded from (undefined: read-only view). */
  file?: string;
  /** The environment the hub was loaded with. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  apply: SettingsAppliers;
}

type Entry = { path: string[]; key: string; value: unknown };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const getIn = (o: unknown, path: string[]): unknown => path.reduce<unknown>((x, k) => (isObject(x) ? x[k] : undefined), o);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Reads, validates, writes and applies the settings the web UI edits. */
export class SettingsService {
  private readonly keys: KeyDoc[];
  private readonly file?: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: SettingsDeps) {
    this.keys = configKeys().filter((k) => (SETTINGS_SECTIONS as readonly string[]).includes(k.path.split('.')[0]!));
    this.file = d.file ? resolve(d.file) : undefined;
  }

  /** The settings with their sources. */
  async view(): Promise<SettingsView> {
    const doc = await this.readDoc().catch(() => undefined);
    const fileRaw = doc && !doc.errors.length ? (doc.toJS() as unknown) ?? {} : undefined;
    const next = isObject(fileRaw) ? this.validate(fileRaw) : undefined;
    const settings: Record<string, SettingView> = {};
    for (const k of this.keys) {
      const path = k.path.split('.');
      const running = getIn(this.d.config, path);
      const source: SettingSource = this.d.env[k.env] !== undefined ? 'env' : doc?.hasIn(path) ? 'file' : 'default';
      const v: SettingView = { value: this.shown(k.path, running), source, env: k.env, live: LIVE_KEYS.has(k.path), description: k.description };
      if (k.default !== undefined) v.default = JSON.parse(k.default) as unknown;
      if (SECRET_KEYS.has(k.path)) v.has_password = typeof running === 'string' && running.length > 0;
      if (!v.live && next?.ok) {
        const after = getIn(next.config, path);
        if (!same(after, running)) v.pending = SECRET_KEYS.has(k.path) ? true : this.shown(k.path, after) ?? null;
      }
      settings[k.path] = v;
    }
    return { file: this.file ?? null, writable: this.file !== undefined, settings };
  }

  /**
   * Validates a change, writes it into the file and applies what can be applied live.
   * Changes are applied one at a time.
   * @param patch `{recordings?: {...}, mqtt?: {...}, homeassistant?: {...}, log?: {level}}`; `null` removes a key
   * @throws InvalidInput `validation_failed` with the dotted `field` (unknown key, a key of another section, a bad value)
   * @throws Conflict `env_locked` (the key is set by its environment variable), `no_config_file`,
   *   `config_file_invalid` (the file no longer parses), `config_file_unwritable`
   */
  update(patch: unknown): Promise<SettingsChange> {
    const run = this.queue.then(() => this.apply(patch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(patch: unknown): Promise<SettingsChange> {
    const entries = this.flatten(patch);
    if (!entries.length) throw new InvalidInput('nothing to change: send e.g. {"recordings": {"clip_retain_days": 14}}');
    for (const e of entries) {
      if (this.d.env[this.envOf(e.key)] !== undefined) {
        throw new Conflict(`${e.key} is set by the environment variable ${this.envOf(e.key)}, which wins over the config file: change or unset it where the hub is started`, e.key, 'env_locked');
      }
    }
    if (!this.file) throw new Conflict('the hub was started without a configuration file path: settings cannot be saved', undefined, 'no_config_file');
    const doc = await this.readDoc();
    if (doc.errors.length) throw new Conflict(`${this.file} has YAML errors (${doc.errors[0]!.message.split('\n')[0]}): fix the file first`, undefined, 'config_file_invalid');
    const rawIn = (doc.toJS() as unknown) ?? {};
    if (!isObject(rawIn)) throw new Conflict(`${this.file} is not a mapping of sections: fix the file first`, undefined, 'config_file_invalid');
    const raw = structuredClone(rawIn);
    for (const e of entries) {
      if (e.value === null) {
        deleteIn(raw, e.path);
        doc.deleteIn(e.path);
        const section = doc.getIn([e.path[0]]);
        if (isMap(section) && section.items.length === 0 && !section.commentBefore && !section.comment) doc.deleteIn([e.path[0]]);
      } else {
        setIn(raw, e.path, e.value);
        doc.setIn(e.path, e.value);
      }
    }
    const r = this.validate(raw);
    if (!r.ok) {
      const mine = r.issues.find((i) => entries.some((e) => i.path === e.key || i.path.startsWith(`${e.key}.`))) ?? r.issues[0]!;
      throw new InvalidInput(`${mine.path}: ${mine.message}`, mine.path);
    }
    await this.write(String(doc));
    const done = await this.applyLive(entries, r.config);
    return { ...done, view: await this.view() };
  }

  /** Copies the live keys into the config in force and runs the appliers; lists the rest. */
  private async applyLive(entries: Entry[], next: VigilConfig): Promise<{ changed: string[]; restart_required: string[] }> {
    const { config, apply, logger } = this.d;
    const changed: string[] = [];
    const restart: string[] = [];
    for (const e of entries) {
      const after = getIn(next, e.path);
      if (same(after, getIn(config, e.path))) continue;
      changed.push(e.key);
      if (!LIVE_KEYS.has(e.key)) { restart.push(e.key); continue; }
      const parent = getIn(config, e.path.slice(0, -1)) as Record<string, unknown>;
      parent[e.path[e.path.length - 1]!] = after;
    }
    const touched = (section: string) => changed.some((k) => LIVE_KEYS.has(k) && k.startsWith(`${section}.`));
    if (touched('recordings')) {
      const c = config.recordings;
      apply.retention({ maxSizeGb: c.max_size_gb, maxPercent: c.max_percent, minFreeGb: c.min_free_gb, clipRetainDays: c.clip_retain_days, sweepIntervalS: c.sweep_interval_s });
    }
    if (touched('log')) apply.logLevel(config.log.level);
    if (touched('homeassistant')) {
      // Saved either way: a failure here is the publisher's (logged), not the change's.
      await apply.homeassistant().catch((err: Error) => logger.error({ err: err.message }, 'Home Assistant discovery not restarted with the new settings'));
    }
    logger.info({ changed, restart_required: restart }, 'settings changed');
    return { changed, restart_required: restart };
  }

  /** The patch's leaves; anything that is not one of the page's keys is refused with its path. */
  private flatten(patch: unknown): Entry[] {
    if (!isObject(patch)) throw new InvalidInput('the body must be an object of settings sections, e.g. {"log": {"level": "debug"}}');
    const keys = new Set(this.keys.map((k) => k.path));
    const all = new Set(configKeys().map((k) => k.path));
    const out: Entry[] = [];
    const walk = (o: Record<string, unknown>, prefix: string[]): void => {
      for (const [k, v] of Object.entries(o)) {
        const path = [...prefix, k];
        const key = path.join('.');
        if (keys.has(key)) { if (v !== undefined) out.push({ path, key, value: v }); continue; }
        const inner = [...keys].some((x) => x.startsWith(`${key}.`));
        if (inner && isObject(v)) { walk(v, path); continue; }
        if (inner) throw new InvalidInput(`${key}: must be an object of settings`, key);
        if ([...all].some((x) => x === key || x.startsWith(`${key}.`))) {
          // Another section's key (http.port …): named down to the leaf sent.
          let leaf = path;
          for (let x = v; isObject(x) && Object.keys(x).length; x = x[Object.keys(x)[0]!]) leaf = [...leaf, Object.keys(x)[0]!];
          throw new InvalidInput(`${leaf.join('.')}: not changed from the web UI; edit the configuration file`, leaf.join('.'));
        }
        throw new InvalidInput(`${key}: unknown key`, key);
      }
    };
    walk(patch, []);
    return out;
  }

  /** The loader's rules on an in-memory mapping: the environment over it, then the schema. */
  private validate(raw: Record<string, unknown>): { ok: true; config: VigilConfig } | { ok: false; issues: { path: string; message: string }[] } {
    const envIssues: string[] = [];
    const merged = applyEnv(raw, this.d.env, envIssues);
    if (envIssues.length) return { ok: false, issues: envIssues.map((i) => ({ path: i.split(':')[0]!, message: i.slice(i.indexOf(':') + 1).trim() })) };
    const r = configSchema.safeParse(merged);
    if (r.success) return { ok: true, config: r.data };
    return {
      ok: false,
      issues: r.error.issues.map((i) => {
        const path = i.path.map(String).join('.');
        if (i.code === 'unrecognized_keys') return { path: [path, i.keys[0]].filter(Boolean).join('.'), message: 'unknown key' };
        return { path: path || '(root)', message: i.message };
      }),
    };
  }

  private envOf(key: string): string {
    return this.keys.find((k) => k.path === key)!.env;
  }

  /** A value as shown: passwords never, URLs without credentials. */
  private shown(key: string, v: unknown): unknown {
    if (SECRET_KEYS.has(key)) return null;
    if (key === 'mqtt.url' && typeof v === 'string') return redactUrl(v);
    return v === undefined ? null : v;
  }

  private async readDoc(): Promise<Document> {
    if (!this.file || !existsSync(this.file)) return parseDocument('');
    return parseDocument(await readFile(this.file, 'utf8'));
  }

  /** Replaces the file atomically, keeping its mode (a new file is 0600: it may hold the MQTT password). */
  private async write(text: string): Promise<void> {
    const file = this.file!;
    try {
      mkdirSync(dirname(file), { recursive: true });
      const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
      await writeFileAtomic(file, text, { mode });
    } catch (err) {
      throw new Conflict(`cannot write ${file}: ${(err as Error).message}`, undefined, 'config_file_unwritable');
    }
  }
}

function setIn(o: Record<string, unknown>, path: string[], value: unknown): void {
  let node = o;
  for (const k of path.slice(0, -1)) {
    if (!isObject(node[k])) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deleteIn(o: Record<string, unknown>, path: string[]): void {
  const parent = getIn(o, path.slice(0, -1));
  if (isObject(parent)) delete parent[path[path.length - 1]!];
}
