/**
 * API errors: every failure is JSON `{error: {code, message, field?}}` with a 4xx/5xx status.
 * Handlers throw {@link ApiError}; one error middleware answers (and logs 5xx).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';

export class ApiError extends Error {
  /**
   * @param status HTTP status (400, 404, 409 …)
   * @param code machine-readable code, e.g. `validation_failed`, `not_found`
   * @param field dotted path of the field at fault, when there is one
   */
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/** 400 from a failed zod parse: the first issue, with its path as `field`, and all issues in the message. */
export function validationError(err: z.ZodError, prefix = ''): ApiError {
  const issues = err.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    if (i.code === 'unrecognized_keys') return { path: [path, ...i.keys].filter(Boolean).join('.'), message: `unknown key ${i.keys.join(', ')}` };
    return { path, message: i.message };
  });
  const first = issues[0]!;
  return new ApiError(400, 'validation_failed', issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; '), first.path || undefined);
}

/** Parses `value` with `schema`. @throws ApiError 400 (see {@link validationError}). */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, prefix = ''): T {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, prefix);
  return r.data;
}

/** Wraps an async route so a rejection reaches the error middleware. */
export function route(fn: (...a: Parameters<RequestHandler>) => Promise<unknown>): RequestHandler {
  return (req, res, next) => { fn(req, res, next).catch(next); };
}

/** 404 JSON for unknown `/api` routes. */
export const notFound: RequestHandler = (req, _res, next) => next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`));

/** The one error middleware. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (isBodyParserError(err)) e = new ApiError(err.status ?? 400, err.type === 'entity.too.large' ? 'payload_too_large' : 'invalid_json', `request body: ${err.message}`);
    else {
      logger.error({ err: (err as Error)?.stack ?? String(err), method: req.method, path: req.path }, 'request failed');
      e = new ApiError(500, 'internal_error', 'internal error');
    }
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } });
  };
}

function isBodyParserError(err: unknown): err is { status?: number; type: string; message: string } {
  return typeof err === 'object' && err !== null && 'type' in err && typeof (err as { type: unknown }).type === 'string' && 'status' in err;
}
