import {
  SqlAuditRepository,
  SqlAuditVerificationRepository,
  SqlBankTokenRepository,
  SqlClientRepository,
  SqlConsoleAuditRepository,
  SqlConsoleSessionRepository,
  SqlConsoleUserRepository,
  SqlLoginLockoutRepository,
  SqlPaymentRepository,
  SqlPaymentSearchRepository,
  SqlRateLimitRepository,
  SqlSequenceRepository,
  SqlTransferBatchRepository,
  SqlCallbackRepository,
} from './repositories/index.js';
import type { Db, Store } from './types.js';

/** Wires every repository onto one Db; `close()` closes the Db (pool or file). */
export function createStore(db: Db): Store {
  return {
    db,
    clients: new SqlClientRepository(db),
    payments: new SqlPaymentRepository(db),
    audit: new SqlAuditRepository(db),
    rateLimits: new SqlRateLimitRepository(db),
    lockouts: new SqlLoginLockoutRepository(db),
    bankTokens: new SqlBankTokenRepository(db),
    sequences: new SqlSequenceRepository(db),
    batches: new SqlTransferBatchRepository(db),
    callbacks: new SqlCallbackRepository(db),
    paymentSearch: new SqlPaymentSearchRepository(db),
    consoleUsers: new SqlConsoleUserRepository(db),
    consoleSessions: new SqlConsoleSessionRepository(db),
    consoleAudit: new SqlConsoleAuditRepository(db),
    auditVerifications: new SqlAuditVerificationRepository(db),
    close: () => db.close(),
  };
}
