/**
 * API errors: every failure is JSON `{error: {code, message, field?}}` with a 4xx/5xx status.
 * Services throw domain errors (`hub/errors.ts`), mapped here to a status by kind; HTTP-only
 * failures (Range, throttling, media) throw {@link ApiError}. One error middleware answers
 * (and logs 5xx).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { DomainError, type DomainErrorKind } from '../errors.ts';

export { parseWith } from '../errors.ts';

/** HTTP status of each domain error kind. */
export const STATUS_OF: Record<DomainErrorKind, number> = { invalid: 400, unauthenticated: 401, forbidden: 403, not_found: 404, conflict: 409 };

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
    else if (err instanceof DomainError) e = new ApiError(STATUS_OF[err.kind], err.code, err.message, err.field);
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
