/**
 * The camera head's observable state (the C Pro seed's `initObservable` / `addObserver`
 * pattern, "State Update Cycle": validate → permission → observers apply the hardware
 * change → persist → broadcast; last write wins).
 *
 * Modules `declare` keys with a schema, a default, read/write permissions and whether the
 * key is persisted; drivers `observe` keys to apply changes to the hardware; the APIs
 * `set` on behalf of a principal and push every {@link StateChange} from `onChange` to the
 * clients allowed to read the key.
 */
import { isDeepStrictEqual } from 'node:util';
import { silentLogger, type Logger } from '../../components/protocol/log.ts';
import { canRead as specCanRead, canWrite as specCanWrite } from './permissions.ts';
import type { StateDb } from './state-db.ts';
import { PERMISSIONS, type KeySpec, type Observer, type Principal, type SetResult, type StateChange } from './types.ts';

/** `[a-z][a-z0-9_]*` segments joined by `.`. */
const KEY_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Receives every change of the state (`onChange`). May be async; a throw or rejection is logged. */
export type ChangeListener = (change: StateChange) => void | Promise<void>;

export interface StateStoreOptions {
  /** Where persisted keys live; without one nothing is persisted (tests, benchmarks). */
  db?: StateDb;
  /** pino-compatible logger; default silent. */
  logger?: Logger;
  /** An observer that has not settled after this long refuses the write (`rejected`), ms. Default 10 000. */
  observerTimeoutMs?: number;
}

/** What `load()` did. */
export interface LoadReport {
  /** Keys whose stored value is in force now. */
  restored: string[];
  /** Keys whose stored value the schema or an observer refused: their default stays. */
  refused: string[];
}

interface Entry {
  spec: KeySpec;
  value: unknown;
  observers: Observer<unknown>[];
  /** The end of this key's write queue. */
  tail: Promise<void>;
}

type Fail = Extract<SetResult, { ok: false }>;

const fail = (key: string, code: Fail['code'], reason: string, path?: (string | number)[]): Fail =>
  path === undefined ? { ok: false, key, code, reason } : { ok: false, key, code, reason, path };

/** Freezes a value and everything in it, so a caller cannot change the state behind the store's back. */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

/** `path: message; …` of a zod error, and the path of its first issue. */
function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): { reason: string; path: (string | number)[] } {
  const norm = (p: readonly PropertyKey[]) => p.map((s) => (typeof s === 'number' ? s : String(s)));
  const reason = error.issues.map((i) => `${i.path.length ? norm(i.path).join('.') : '(value)'}: ${i.message}`).join('; ');
  return { reason, path: norm(error.issues[0]?.path ?? []) };
}

/**
 * The head's state: declared keys, their current values, observers, listeners and the
 * persistent store behind them.
 *
 * Start-up: construct, `declare` every key (the modules, `../modules/index.ts`
 * `declareAll`), register observers, then `await load()` once, then serve the APIs.
 */
export class StateStore {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly db: StateDb | undefined;
  /** The logger given at construction (modules log refused driver readings through it). */
  readonly log: Logger;
  private readonly observerTimeoutMs: number;
  private readonly defaultOverrides = new Map<string, unknown>();

  constructor(opts: StateStoreOptions = {}) {
    this.db = opts.db;
    this.log = opts.logger ?? silentLogger;
    this.observerTimeoutMs = opts.observerTimeoutMs ?? 10_000;
  }

  /**
   * Defaults to use in place of the ones modules declare (a variant's profile,
   * `../variants.ts`): a key declared later gets `defaults[key]` instead of its spec's
   * default (checked against its schema by `declare`). Call before declaring.
   * @throws when a key in `defaults` is already declared.
   */
  overrideDefaults(defaults: Readonly<Record<string, unknown>>): void {
    for (const [key, value] of Object.entries(defaults)) {
      if (this.entries.has(key)) throw new Error(`state "${key}": already declared, its default can no longer be overridden`);
      this.defaultOverrides.set(key, value);
    }
  }

  /**
   * Declares a key; its value starts as the default (or the override of
   * {@link overrideDefaults}).
   * @throws on a malformed key (not `[a-z][a-z0-9_]*` segments joined by `.`), a key
   *   declared twice, an unknown permission, no read permission, a button that is
   *   persisted, or a default the schema refuses.
   */
  declare<T>(spec: KeySpec<T>): void {
    const key = spec?.key;
    if (typeof key !== 'string' || !KEY_RE.test(key)) throw new Error(`state key ${JSON.stringify(key)} is malformed: expected [a-z][a-z0-9_]* segments joined by "."`);
    if (this.entries.has(key)) throw new Error(`state "${key}" is declared twice`);
    if (!spec.schema || typeof spec.schema.safeParse !== 'function') throw new Error(`state "${key}": schema is not a zod schema`);
    if (!Array.isArray(spec.read) || !Array.isArray(spec.write)) throw new Error(`state "${key}": read and write must be lists of permissions`);
    for (const p of [...spec.read, ...spec.write]) {
      if (!(PERMISSIONS as readonly string[]).includes(p)) throw new Error(`state "${key}": unknown permission "${String(p)}"`);
    }
    if (spec.read.length === 0) throw new Error(`state "${key}": no permission may read it`);
    if (spec.momentary && spec.persist) throw new Error(`state "${key}": a button (momentary) cannot be persisted`);
    const wanted = this.defaultOverrides.has(key) ? this.defaultOverrides.get(key) : spec.default;
    const parsed = spec.schema.safeParse(wanted);
    if (!parsed.success) throw new Error(`state "${key}": default ${JSON.stringify(wanted)} refused: ${describeIssues(parsed.error).reason}`);
    const value = deepFreeze(parsed.data);
    this.entries.set(key, { spec: { ...spec, default: value } as KeySpec, value, observers: [], tail: Promise.resolve() });
  }

  /** Whether `key` is declared. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Every declared key, in declaration order. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The spec of `key` (its `default` is the one in force, after variant overrides), or `undefined`. */
  spec(key: string): KeySpec | undefined {
    return this.entries.get(key)?.spec;
  }

  /** The current value of `key` (deep-frozen), or `undefined` for an unknown key. No permission check: the APIs use {@link readable} / {@link canRead}. */
  get(key: string): unknown {
    return this.entries.get(key)?.value;
  }

  /** Whether `p` may read `key` (`false` for an unknown key). */
  canRead(p: Principal, key: string): boolean {
    const e = this.entries.get(key);
    return e !== undefined && specCanRead(p, e.spec);
  }

  /** Whether `p` may write `key` (`false` for an unknown key or, except for `system`, a read-only one). */
  canWrite(p: Principal, key: string): boolean {
    const e = this.entries.get(key);
    return e !== undefined && specCanWrite(p, e.spec);
  }

  /** A snapshot `{ key: value }` of every key `p` may read. */
  readable(p: Principal): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, e] of this.entries) if (specCanRead(p, e.spec)) out[key] = e.value;
    return out;
  }

  /**
   * Adds an observer of `key` (applies a change to the hardware; see {@link Observer}).
   * Observers run in the order added, one after another, before the value changes.
   * An observer must not `await` a `set` of its own key (that waits behind itself until
   * the observer timeout).
   * @returns a function that removes it.
   * @throws for an unknown key.
   */
  observe<T = unknown>(key: string, observer: Observer<T>): () => void {
    const e = this.entries.get(key);
    if (!e) throw new Error(`state "${key}" is not declared`);
    e.observers.push(observer as Observer<unknown>);
    return () => {
      const i = e.observers.indexOf(observer as Observer<unknown>);
      if (i >= 0) e.observers.splice(i, 1);
    };
  }

  /** Adds a listener of every change; returns a function that removes it. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /**
   * Writes `value` to `key` on behalf of `by`. In order:
   * 1. unknown key → `unknown_key`;
   * 2. not `system` and the key is read-only → `read_only`; no write permission → `forbidden`;
   * 3. the schema refuses it → `invalid` (reason: `path: message; …`, `path` of the first issue);
   * then, queued behind earlier writes to the same key (last write wins, in arrival order):
   * 4. deep-equal to the current value → `{ ok: true, changed: false }`, nothing runs or is emitted
   *    (buttons, `momentary`, skip this: their observers run on every write);
   * 5. the key's observers run; one that throws, rejects or times out → `rejected` with its
   *    message, the observers that already ran are called back with `(previous, next)` to undo,
   *    and the value stays the last good one;
   * 6. persisted keys are written to the database (failure → undo as in 5, `rejected`);
   * 7. the value changes and every listener gets a {@link StateChange}.
   * Never throws or rejects.
   */
  async set(key: string, value: unknown, by: Principal): Promise<SetResult> {
    const e = this.entries.get(key);
    if (!e) return fail(String(key), 'unknown_key', `no state key "${String(key)}"`);
    if (!by || typeof by !== 'object') return fail(key, 'forbidden', 'no principal');
    if (by.kind !== 'system') {
      if (e.spec.write.length === 0) return fail(key, 'read_only', `"${key}" is read-only`);
      if (!specCanWrite(by, e.spec)) return fail(key, 'forbidden', `"${key}" needs one of ${e.spec.write.join(', ')}`);
    }
    let next: unknown;
    try {
      const parsed = e.spec.schema.safeParse(value);
      if (!parsed.success) {
        const { reason, path } = describeIssues(parsed.error);
        return fail(key, 'invalid', reason, path);
      }
      next = deepFreeze(parsed.data);
    } catch (err) {
      return fail(key, 'invalid', (err as Error).message ?? String(err), []);
    }
    return this.enqueue(e, () => this.apply(e, next, by.kind, true));
  }

  /**
   * Start-up (call once, after declaring and observing): restores the persisted keys from
   * the database and brings the hardware in line with the state. Key by key, in
   * declaration order:
   * - a stored value goes through the schema (refused → the default stays, logged) and the
   *   key's observers, and is announced to listeners like any change (`by: 'system'`);
   * - every other key with observers (buttons excepted) has its observers called once with
   *   `(value, value)`, so the driver starts from the state's default (a variant's
   *   `pip.enabled: true`, the image controls); a refusal is logged and changes nothing.
   */
  async load(): Promise<LoadReport> {
    const report: LoadReport = { restored: [], refused: [] };
    for (const [key, e] of this.entries) {
      let target: unknown;
      let stored = false;
      if (e.spec.persist && this.db) {
        let raw: unknown;
        try {
          raw = this.db.get(key);
        } catch (err) {
          this.log.warn({ key, err: (err as Error).message }, 'head state: stored value unreadable, default used');
          report.refused.push(key);
          raw = undefined;
        }
        if (raw !== undefined) {
          const parsed = e.spec.schema.safeParse(raw);
          if (parsed.success) {
            target = deepFreeze(parsed.data);
            stored = true;
          } else {
            this.log.warn({ key, reason: describeIssues(parsed.error).reason }, 'head state: stored value refused by the schema, default used');
            report.refused.push(key);
          }
        }
      }
      if (stored && !isDeepStrictEqual(target, e.value)) {
        const r = await this.enqueue(e, () => this.apply(e, target, 'system', false));
        if (r.ok) {
          report.restored.push(key);
          continue;
        }
        this.log.warn({ key, reason: r.reason }, 'head state: stored value refused by an observer, default used');
        report.refused.push(key);
      } else if (stored) {
        report.restored.push(key);
      }
      if (!e.spec.momentary && e.observers.length) await this.enqueue(e, () => this.sync(e));
    }
    return report;
  }

  /**
   * Factory reset (the seed's `resetSystem`, with issue #150's fix: user tag categories
   * survive): every stored value except those of `keep` is deleted — undeclared leftovers
   * at once, declared keys in their write queues — and every declared persisted key not in
   * `keep` goes back to its default through its observers (announced to listeners). Keys
   * that are not persisted (sensors, `recording.active`) are left alone.
   * @returns the keys reset.
   * @throws when the database cannot be written (nothing has been reset then).
   */
  async factoryReset(keep: readonly string[]): Promise<string[]> {
    const keepSet = new Set(keep);
    const persisted = [...this.entries.values()].filter((e) => e.spec.persist);
    this.db?.clearExcept([...keepSet, ...persisted.map((e) => e.spec.key)]);
    const reset: string[] = [];
    // Key by key in declaration order, so observers that read sibling keys (the network's
    // three) see a settled state and the hardware gets one command at a time.
    for (const e of persisted) {
      if (keepSet.has(e.spec.key)) continue;
      await this.enqueue(e, async () => {
        try {
          this.db?.delete(e.spec.key);
        } catch (err) {
          this.log.error({ key: e.spec.key, err: (err as Error).message }, 'head state: factory reset could not delete a stored value');
        }
        const r = await this.apply(e, e.spec.default, 'system', false);
        if (r.ok) reset.push(e.spec.key);
        else this.log.warn({ key: e.spec.key, reason: r.reason }, 'head state: factory reset default refused by an observer');
        return r;
      });
    }
    return reset;
  }

  /** Resolves when every write queued so far has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const entries = [...this.entries.values()];
      const tails = entries.map((e) => e.tail);
      await Promise.all(tails);
      // Writes queued while waiting moved a tail on: wait for those too.
      if (entries.every((e, i) => e.tail === tails[i])) return;
    }
  }

  /** Waits for queued writes, then closes the database. */
  async close(): Promise<void> {
    await this.idle();
    this.listeners.clear();
    this.db?.close();
  }

  /** Runs `job` after every earlier job of the key; `job` must not reject. */
  private enqueue(e: Entry, job: () => Promise<SetResult>): Promise<SetResult> {
    const run = e.tail.then(job);
    e.tail = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Steps 4–7 of {@link set}. Never rejects. */
  private async apply(e: Entry, next: unknown, by: Principal['kind'], persist: boolean): Promise<SetResult> {
    const key = e.spec.key;
    const previous = e.value;
    if (!e.spec.momentary && isDeepStrictEqual(previous, next)) return { ok: true, key, value: previous, changed: false };
    const ran: Observer<unknown>[] = [];
    for (const obs of [...e.observers]) {
      try {
        await this.runObserver(obs, next, previous);
        ran.push(obs);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.log.warn({ key, reason }, 'head state: observer refused a value');
        await this.undo(key, ran, previous, next);
        return fail(key, 'rejected', reason || 'refused by the hardware');
      }
    }
    if (e.spec.momentary) return { ok: true, key, value: next, changed: false };
    if (persist && e.spec.persist && this.db) {
      try {
        this.db.set(key, next);
      } catch (err) {
        this.log.error({ key, err: (err as Error).message }, 'head state: value could not be saved');
        await this.undo(key, ran, previous, next);
        return fail(key, 'rejected', `could not be saved: ${(err as Error).message}`);
      }
    }
    e.value = next;
    this.emit(Object.freeze({ key, value: next, previous, at: Date.now(), by }));
    return { ok: true, key, value: next, changed: true };
  }

  /** Hands the current value to the key's observers as `(value, value)`; failures are logged. */
  private async sync(e: Entry): Promise<SetResult> {
    for (const obs of [...e.observers]) {
      try {
        await this.runObserver(obs, e.value, e.value);
      } catch (err) {
        this.log.warn({ key: e.spec.key, reason: err instanceof Error ? err.message : String(err) }, 'head state: observer refused the start-up value');
      }
    }
    return { ok: true, key: e.spec.key, value: e.value, changed: false };
  }

  /** Calls one observer; a returned promise is awaited up to the observer timeout. */
  private async runObserver(obs: Observer<unknown>, next: unknown, previous: unknown): Promise<void> {
    const r = obs(next, previous);
    if (!isThenable(r)) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`observer did not finish within ${this.observerTimeoutMs} ms`)), this.observerTimeoutMs);
      timer.unref?.();
    });
    try {
      await Promise.race([r, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Calls back the observers that ran, latest first, with `(previous, next)`; their failures are logged. */
  private async undo(key: string, ran: Observer<unknown>[], previous: unknown, next: unknown): Promise<void> {
    for (const obs of ran.reverse()) {
      try {
        await this.runObserver(obs, previous, next);
      } catch (err) {
        this.log.error({ key, err: err instanceof Error ? err.message : String(err) }, 'head state: observer failed to undo a refused change');
      }
    }
  }

  private emit(change: StateChange): void {
    for (const l of [...this.listeners]) {
      try {
        const r = l(change);
        if (isThenable(r)) Promise.resolve(r).catch((err: unknown) => this.log.error({ key: change.key, err: err instanceof Error ? err.message : String(err) }, 'head state: change listener failed'));
      } catch (err) {
        this.log.error({ key: change.key, err: err instanceof Error ? err.message : String(err) }, 'head state: change listener failed');
      }
    }
  }
}
