import { Router, type RequestHandler } from 'express';
import Joi from 'joi';
import {
  createTransfer,
  getTransfer,
  transferRequestSchema,
  type CreateTransferDeps,
  type GetTransferDeps,
  type TransferRequest,
} from '../../domain/transfers/index.js';
import { validationStep } from '../../pipeline/validation/index.js';

export const transferIdParamsSchema = Joi.object({
  transactionId: Joi.string()
    .pattern(/^[A-Za-z0-9._:-]{1,36}$/)
    .required()
    .description('The transactionId the ERP gave the transfer.'),
}).label('path');

/**
 * POST /v1/transfers — a vendor payment; GET /v1/transfers/{transactionId} — its latest state.
 * `steps` are the authenticated pipeline (auth, client guard, client rate limit); then the
 * input is validated and the use case runs.
 */
export function transferRoutes(deps: CreateTransferDeps & GetTransferDeps, steps: RequestHandler[]): Router {
  const router = Router();
  router.post('/v1/transfers', ...steps, validationStep(transferRequestSchema), async (req, res) => {
    const client = res.locals.client!;
    const reply = await createTransfer(deps, req.body as TransferRequest, { clientId: client.id, audit: res.locals.audit });
    if (reply.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(reply.httpStatus).json(reply.result);
  });
  router.get('/v1/transfers/:transactionId', ...steps, validationStep(transferIdParamsSchema, 'params'), async (req, res) => {
    const client = res.locals.client!;
    const reply = await getTransfer(deps, client.id, String(req.params.transactionId), res.locals.audit);
    res.status(200).json(reply.result);
  });
  return router;
}
