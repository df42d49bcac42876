import { Router, type RequestHandler } from 'express';
import { createTransfer, getTransfer, type CreateTransferDeps, type GetTransferDeps, type TransferRequest } from '../../domain/transfers/index.js';
import { mountRoute, type ApiRoutes } from '../api/index.js';

/**
 * POST /v1/transfers — a vendor payment; GET /v1/transfers/{transactionId} — its latest state.
 * `steps` are the authenticated pipeline (auth, client guard, client rate limit); then the
 * input is validated (as `routes` declares) and the use case runs.
 */
export function transferRoutes(routes: ApiRoutes, deps: CreateTransferDeps & GetTransferDeps, steps: RequestHandler[]): Router {
  const router = Router();
  mountRoute(router, routes.createTransfer, steps, async (req, res) => {
    const client = res.locals.client!;
    const reply = await createTransfer(deps, req.body as TransferRequest, { clientId: client.id, audit: res.locals.audit });
    if (reply.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(reply.httpStatus).json(reply.result);
  });
  mountRoute(router, routes.getTransfer, steps, async (req, res) => {
    const client = res.locals.client!;
    const reply = await getTransfer(deps, client.id, String(req.params.transactionId), res.locals.audit);
    res.status(200).json(reply.result);
  });
  return router;
}
