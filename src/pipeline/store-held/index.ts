import type { RequestHandler } from 'express';
import { AppError } from '../../errors/index.js';

/**
 * While the database holds less than the audit checkpoints outside it vouched for (RollbackWatch:
 * rolled back to an older copy, a chain cut or deleted), every request past the audit step is
 * answered 503 STORE_UNAVAILABLE naming why, and recorded: a transfer's status read could answer
 * "not found" for a payment the bank executed, and a resend would pay it twice. It stops when an
 * operator has accepted the database as it is (`gerbang audit accept-rollback`).
 */
export function storeHeldStep(options: { held: () => string | null }): RequestHandler {
  return (_req, _res, next) => {
    const why = options.held();
    if (why === null) return next();
    next(
      new AppError('STORE_UNAVAILABLE', `No request is served: ${why}. An operator must check it (gerbang audit verify) and accept it (gerbang audit accept-rollback) first.`, {
        headers: { 'Retry-After': '60' },
      }),
    );
  };
}
