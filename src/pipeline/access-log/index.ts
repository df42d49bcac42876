import type { RequestHandler } from 'express';
import { getLogger } from '../../log/index.js';

const log = getLogger('access');

/**
 * One log line per request when its answer is done: method, route pattern (never the query
 * string, which could carry what must not be logged), status, duration, the caller's address and
 * client, with the request's context (its id, and its trace when given). `aborted` when the
 * caller left before the answer.
 */
export function accessLogStep(): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      const pattern = (req.route as { path?: unknown } | undefined)?.path;
      log.info(
        {
          ...res.locals.requestContext,
          method: req.method,
          route: typeof pattern === 'string' ? pattern : null,
          path: req.path,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          remoteIp: req.ip,
          clientId: res.locals.client?.id ?? null,
          aborted: !res.writableFinished,
        },
        'request',
      );
    });
    next();
  };
}
