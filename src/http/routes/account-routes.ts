import { Router, type RequestHandler } from 'express';
import {
  accountInquiryRequestSchema,
  accountParamsSchema,
  balanceQuerySchema,
  getBalance,
  getStatement,
  inquireAccount,
  statementQuerySchema,
  type AccountDeps,
  type AccountInquiryRequest,
  type BalanceQuery,
  type StatementRequestQuery,
} from '../../domain/accounts/index.js';
import { validationStep } from '../../pipeline/validation/index.js';

/**
 * POST /v1/account-inquiries — the vendor's account name before paying;
 * GET /v1/accounts/{accountNumber}/balance and /statements?from&to — the company's accounts.
 * `steps` are the authenticated pipeline, as for transfers; every call is audited with its bank legs.
 */
export function accountRoutes(deps: AccountDeps, steps: RequestHandler[]): Router {
  const router = Router();
  router.post('/v1/account-inquiries', ...steps, validationStep(accountInquiryRequestSchema), async (req, res) => {
    res.status(200).json(await inquireAccount(deps, req.body as AccountInquiryRequest, res.locals.audit));
  });
  router.get('/v1/accounts/:accountNumber/balance', ...steps, validationStep(accountParamsSchema, 'params'), validationStep(balanceQuerySchema, 'query'), async (req, res) => {
    const query = req.query as BalanceQuery;
    res.status(200).json(await getBalance(deps, String(req.params.accountNumber), query.bankCode, res.locals.audit));
  });
  router.get('/v1/accounts/:accountNumber/statements', ...steps, validationStep(accountParamsSchema, 'params'), validationStep(statementQuerySchema, 'query'), async (req, res) => {
    res.status(200).json(await getStatement(deps, String(req.params.accountNumber), req.query as unknown as StatementRequestQuery, res.locals.audit));
  });
  return router;
}
