import type { ErrorRequestHandler } from 'express';
import type { Logger } from './logger';
import { AppError, TooManyRequestsError } from './errors';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId?: string };
}

/** Maps an error to its status and JSON body; unknown errors become a generic 500. */
export function toErrorBody(err: unknown, requestId: string): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    return {
      status: err.status,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.details ? { details: err.details } : {}),
        },
      },
    };
  }
  const e = err as { type?: string; status?: number; code?: string; message?: string };
  // body-parser errors: malformed JSON or a body over the limit.
  if (e?.type === 'entity.parse.failed') {
    return {
      status: 400,
      body: { error: { code: 'invalid_json', message: 'The request body is not valid JSON' } },
    };
  }
  if (e?.type === 'entity.too.large') {
    return {
      status: 413,
      body: { error: { code: 'payload_too_large', message: 'The request body is too large' } },
    };
  }
  if (e?.status && e.status >= 400 && e.status < 500) {
    return {
      status: e.status,
      body: { error: { code: 'bad_request', message: e.message ?? 'Bad request' } },
    };
  }
  // knex pool exhausted, database unreachable, or its connection lost under a request.
  if (isDatabaseUnavailable(e)) {
    return {
      status: 503,
      body: {
        error: {
          code: 'dependency_unavailable',
          message: 'The database is unavailable; try again in a moment',
          requestId,
        },
      },
    };
  }
  if (e?.code === '57014') {
    return {
      status: 503,
      body: {
        error: { code: 'timeout', message: 'The request took too long; try again', requestId },
      },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal_error', message: 'An unexpected error occurred', requestId } },
  };
}

/** Socket errors of a database connection that could not be made or was lost. */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
/**
 * pg's own errors when the server goes away under a query or a connection attempt: they carry no
 * code, only these messages (pg's client.js and connection.js), which knex prefixes with the
 * statement (`ROLLBACK - Client has encountered…`).
 */
const CONNECTION_LOST =
  /(^|- )(Connection terminated( unexpectedly)?|Connection ended unexpectedly|Client has encountered a connection error and is not queryable|Knex: Timeout acquiring a connection)/;

function isDatabaseUnavailable(e: { code?: unknown; message?: string } | undefined): boolean {
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  return (
    CONNECTION_ERRNOS.has(code) ||
    // admin_shutdown, crash_shutdown, cannot_connect_now; class 08: connection exceptions.
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    /^08[0-9A-Z]{3}$/.test(code) ||
    CONNECTION_LOST.test(e.message ?? '')
  );
}

export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const { status, body } = toErrorBody(err, String(req.id));
    if (status >= 500)
      logger.error({ err, requestId: req.id, path: req.route?.path }, 'Request failed');
    if (err instanceof TooManyRequestsError && err.retryAfterSeconds) {
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
    }
    res.status(status).json(body);
  };
}
