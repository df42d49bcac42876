import { Router, type RequestHandler } from 'express';
import { createTransfer, transferRequestSchema, type CreateTransferDeps, type TransferRequest } from '../../domain/transfers/index.js';
import { validationStep } from '../../pipeline/validation/index.js';

/**
 * POST /v1/transfers — a vendor payment. `steps` are the authenticated pipeline (auth, client
 * guard, client rate limit); then the body is validated and the use case runs.
 */
export function transferRoutes(deps: CreateTransferDeps, steps: RequestHandler[]): Router {
  const router = Router();
  router.post('/v1/transfers', ...steps, validationStep(transferRequestSchema), async (req, res) => {
    const client = res.locals.client!;
    const reply = await createTransfer(deps, req.body as TransferRequest, { clientId: client.id, audit: res.locals.audit });
    if (reply.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(reply.httpStatus).json(reply.result);
  });
  return router;
}
