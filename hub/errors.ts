/**
 * Domain errors: what services, the store and auth throw when a request cannot be met.
 * They know nothing of HTTP; `hub/http/errors.ts` maps each kind to a status (and MQTT
 * handlers to an error response), so the same service answers REST and the bus alike.
 *
 * | class | kind | HTTP |
 * |---|---|---|
 * | {@link InvalidInput} | `invalid` | 400 |
 * | {@link Unauthenticated} | `unauthenticated` | 401 |
 * | {@link Forbidden} | `forbidden` | 403 |
 * | {@link NotFound} | `not_found` | 404 |
 * | {@link Conflict} | `conflict` | 409 |
 */
import type { z } from 'zod';

export type DomainErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict';

/** Base class: `code` is machine-readable (`validation_failed`, `not_found` …), `field` the dotted path at fault. */
export class DomainError extends Error {
  constructor(readonly kind: DomainErrorKind, readonly code: string, message: string, readonly field?: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is wrong (a field, a range, a shape). Default code `validation_failed`. */
export class InvalidInput extends DomainError {
  constructor(message: string, field?: string, code = 'validation_failed') { super('invalid', code, message, field); }
}

/** No valid credentials came with the request. */
export class Unauthenticated extends DomainError {
  constructor(message: string, code = 'unauthorized') { super('unauthenticated', code, message); }
}

/** The caller may not do this. */
export class Forbidden extends DomainError {
  constructor(message: string, code = 'forbidden') { super('forbidden', code, message); }
}

/** The thing asked for does not exist (or the caller may not know it does). */
export class NotFound extends DomainError {
  constructor(message: string, code = 'not_found') { super('not_found', code, message); }
}

/** The request clashes with the current state (a name taken, an event still running). */
export class Conflict extends DomainError {
  constructor(message: string, field?: string, code = 'conflict') { super('conflict', code, message, field); }
}

/**
 * {@link InvalidInput} from a failed zod parse: every issue in the message as `path: message`,
 * the first issue's path (under `prefix`) as `field`.
 */
export function invalidFromZod(err: z.ZodError, prefix = ''): InvalidInput {
  const issues = err.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    if (i.code === 'unrecognized_keys') return { path: [path, ...i.keys].filter(Boolean).join('.'), message: `unknown key ${i.keys.join(', ')}` };
    return { path, message: i.message };
  });
  const first = issues[0]!;
  return new InvalidInput(issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; '), first.path || undefined);
}

/** Parses `value` with `schema`. @throws InvalidInput (see {@link invalidFromZod}). */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, prefix = ''): T {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidFromZod(r.error, prefix);
  return r.data;
}
