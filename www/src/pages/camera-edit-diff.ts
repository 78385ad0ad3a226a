/**
 * Helpers of the camera edit form: dotted-path access into a camera config (`detect.fps`,
 * `objects.filters.person.min_score`), the change set between the loaded config and the
 * form's draft, and which form input an API error's `field` belongs to.
 *
 * The hub's `PATCH /api/cameras/:name` deep-merges objects and replaces arrays
 * (hub/services/camera-service.ts), so a key cannot be removed with it: {@link changes}
 * says which keys the draft removed, and the form replaces the camera (`PUT`) then.
 */

/** A JSON object. */
export type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at dotted `path` of `o`, or undefined. */
export function getPath(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((cur, k) => (isObj(cur) ? cur[k] : undefined), o);
}

/**
 * Sets the value at dotted `path` of `o`, creating objects on the way; `undefined` deletes
 * the key (and leaves emptied parents in place).
 */
export function setPath(o: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur: Obj = o;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) {
      if (value === undefined) return;
      cur[k] = {};
    }
    cur = cur[k] as Obj;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

/** Structural equality of JSON values (object key order ignored). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => same(a[k], b[k]));
  }
  return false;
}

/**
 * What changed from `before` to `after`.
 * @returns `patch`: the changed and added keys only (objects recursed into, arrays and
 *   scalars whole) — a body for `PATCH`; `removed`: dotted paths present in `before` and
 *   missing (or undefined) in `after`, which `PATCH` cannot express
 */
export function changes(before: Obj, after: Obj, prefix = ''): { patch: Obj; removed: string[] } {
  const patch: Obj = {};
  const removed: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    if (v === undefined) continue;
    const b = before[k];
    if (isObj(v) && isObj(b)) {
      const sub = changes(b, v, `${prefix}${k}.`);
      if (Object.keys(sub.patch).length) patch[k] = sub.patch;
      removed.push(...sub.removed);
    } else if (!same(b, v)) {
      patch[k] = v;
    }
  }
  for (const [k, v] of Object.entries(before)) if (v !== undefined && after[k] === undefined) removed.push(`${prefix}${k}`);
  return { patch, removed };
}

/**
 * The input an API error's dotted `field` belongs to, among the form's input paths: the
 * same path, else the longest input path the field lies under (`objects.filters.person`
 * for `objects.filters.person.min_score.x`), else the first input under the field
 * (`paths.detect` for an error on `paths`).
 * @returns the input's path, or undefined (show the error at the form)
 */
export function inputFor(field: string | undefined, inputs: readonly string[]): string | undefined {
  if (!field) return undefined;
  if (inputs.includes(field)) return field;
  const above = inputs.filter((p) => field.startsWith(`${p}.`)).sort((a, b) => b.length - a.length)[0];
  return above ?? inputs.find((p) => p.startsWith(`${field}.`));
}
