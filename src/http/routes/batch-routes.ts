import { Router, type RequestHandler } from 'express';
import { getBatch, submitBatch, type BatchDeps, type BatchRequest } from '../../domain/batches/index.js';
import { AppError } from '../../errors/index.js';
import { expressPath, mountRoute, requestValidation, type ApiRoutes } from '../api/index.js';

/**
 * POST /v1/transfer-batches — a payment run, validated whole, stored, answered 202 and paid in
 * the background; GET /v1/transfer-batches/{batchId}?afterLine&limit — its progress and lines.
 * `steps` are the authenticated pipeline with the run's larger body limit; the input is validated
 * as `routes` declares (its line limit is the configured one).
 */
export function batchRoutes(routes: ApiRoutes, deps: BatchDeps, steps: RequestHandler[], readSteps: RequestHandler[]): Router {
  const router = Router();
  const create = routes.createBatch;
  router[create.method](expressPath(create.path), ...steps, ...requestValidation(create).map(lineNumbered), async (req, res) => {
    const { view, replayed } = await submitBatch(deps, res.locals.client!.id, req.body as BatchRequest, res.locals.audit);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.setHeader('Location', `/v1/transfer-batches/${encodeURIComponent(view.batchId)}`);
    res.status(202).json(view);
  });
  mountRoute(router, routes.getBatch, readSteps, async (req, res) => {
    const query = req.query as unknown as { afterLine: number; limit: number };
    res.status(200).json(await getBatch(deps, res.locals.client!.id, String(req.params.batchId), query.afterLine, query.limit));
  });
  return router;
}

/** Says which line of the run each problem is on (`transfers.12.amount` is line 13). */
function lineNumbered(step: RequestHandler): RequestHandler {
  return (req, res, next) => {
    try {
      step(req, res, next);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      for (const field of error.fields) {
        const line = /^transfers\.(\d+)(\.|$)/.exec(field.field);
        if (line) field.message = `line ${Number(line[1]) + 1}: ${field.message}`;
      }
      throw error;
    }
  };
}
