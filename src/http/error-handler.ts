import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, isAppError } from '../errors/index.js';
import { getLogger } from '../log/index.js';
import { PROBLEM_CONTENT_TYPE, problemDocument } from './problem-details.js';

const log = getLogger('http');

/** The router's own refusal: a path parameter that is not valid percent-encoding (a URIError, status 400). */
function fromRouter(error: unknown): AppError | null {
  if (error instanceof URIError) {
    return new AppError('VALIDATION_FAILED', 'The request path is not valid percent-encoding.', { fields: [{ field: 'path', message: 'invalid percent-encoding' }] });
  }
  return null;
}

/**
 * The one place errors become answers: an RFC 9457 problem document with the request id.
 * Unknown errors are logged with their stack and answered as INTERNAL_ERROR without details:
 * no stack, SQL or secret reaches a client.
 */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const appError = isAppError(error) ? error : fromRouter(error);
    const known = appError ?? new AppError('INTERNAL_ERROR', 'An internal error occurred. Quote the request id when reporting it.');
    const request = res.locals.requestContext;
    if (!appError) log.error({ ...request, err: error }, 'unhandled error');
    else if (known.status >= 500) log.warn({ ...request, code: known.code, err: error, where: (error as { where?: string }).where }, known.message);
    else log.info({ ...request, code: known.code, status: known.status }, 'request refused');

    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.locals.errorCode = known.code;
    for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
    // A 503 is always temporary here (store or bank away): tell the ERP when to come back.
    if (known.status === 503 && !res.getHeader('Retry-After')) res.setHeader('Retry-After', '5');
    res
      .status(known.status)
      .type(PROBLEM_CONTENT_TYPE)
      .json(
        problemDocument({
          code: known.code,
          status: known.status,
          detail: known.message,
          instance: req.originalUrl.split('?')[0].slice(0, 256),
          requestId: res.locals.requestId,
          fields: known.fields,
          extensions: known.extensions,
        }),
      );
  };
}

/** Last route: anything not matched is a 404 problem (also recorded by the audit step). */
export function notFoundHandler(): RequestHandler {
  return (req) => {
    throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}.`);
  };
}
