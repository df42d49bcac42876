import { Router, type RequestHandler } from 'express';
import {
  getBalance,
  getStatement,
  inquireAccount,
  type AccountDeps,
  type AccountInquiryRequest,
  type BalanceQuery,
  type StatementRequestQuery,
} from '../../domain/accounts/index.js';
import { mountRoute, type ApiRoutes } from '../api/index.js';

/**
 * POST /v1/account-inquiries — the vendor's account name before paying;
 * GET /v1/accounts/{accountNumber}/balance and /statements?from&to — the company's accounts.
 * `steps` are the authenticated pipeline, as for transfers; the input is validated as `routes`
 * declares; every call is audited with its bank legs.
 */
export function accountRoutes(routes: ApiRoutes, deps: AccountDeps, steps: RequestHandler[]): Router {
  const router = Router();
  mountRoute(router, routes.inquireAccount, steps, async (req, res) => {
    res.status(200).json(await inquireAccount(deps, req.body as AccountInquiryRequest, res.locals.audit));
  });
  mountRoute(router, routes.getBalance, steps, async (req, res) => {
    const query = req.query as BalanceQuery;
    res.status(200).json(await getBalance(deps, res.locals.client!.id, String(req.params.accountNumber), query.bankCode, res.locals.audit));
  });
  mountRoute(router, routes.getStatement, steps, async (req, res) => {
    res.status(200).json(await getStatement(deps, res.locals.client!.id, String(req.params.accountNumber), req.query as unknown as StatementRequestQuery, res.locals.audit));
  });
  return router;
}
