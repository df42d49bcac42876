import type { RequestHandler } from 'express';
import type { GatewayMetrics } from '../../metrics/index.js';

/** The route label of a request no route matched (refused before routing, or 404): bounded, unlike its path. */
export const UNROUTED = 'unrouted';

/**
 * Counts and times every request when its response closes, labelled with the route *pattern*
 * (`/v1/transfers/:transactionId`, never the id: labels must stay few) and the status code. A
 * request refused before routing (caller guard, per-IP limit) or matching no route is `unrouted`;
 * its status says why.
 */
export function metricsStep({ metrics }: { metrics: GatewayMetrics }): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      const pattern = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof pattern === 'string' ? pattern : UNROUTED;
      metrics.observeRequest(req.method, route, res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}
