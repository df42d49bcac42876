import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, isAppError } from '../errors/index.js';
import { getLogger } from '../log/index.js';
import { PROBLEM_CONTENT_TYPE, problemDocument } from './problem-details.js';

const log = getLogger('http');

/** body-parser's error types, turned into our codes; anything else from it is a bad request body. */
function fromBodyParser(error: { type?: string; status?: number }): AppError | null {
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError('INVALID_JSON', 'The request body is not valid JSON (only an object or array is accepted).');
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than this endpoint accepts.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The request body must be UTF-8.');
    case 'parameters.too.many':
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('VALIDATION_FAILED', 'The request body could not be read.');
    default:
      return null;
  }
}

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
    const appError = isAppError(error) ? error : (fromBodyParser(error as { type?: string }) ?? fromRouter(error));
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
