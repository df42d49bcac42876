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
import type { KeyRing } from '../security/index.js';
import type { Db, Store } from './types.js';

export interface StoreOptions {
  /**
   * Seals the audit's bodies and headers (GERBANG_AUDIT_KEYS). A store opened without it can do
   * everything but write or read the audit: that throws an error naming the setting.
   */
  auditKeys?: KeyRing | null;
  /** Id of this process's audit hash chain (default: new per store). */
  auditWriterId?: string;
}

/** Wires every repository onto one Db; `close()` closes the Db (pool or file). */
export function createStore(db: Db, options: StoreOptions = {}): Store {
  return {
    db,
    clients: new SqlClientRepository(db),
    payments: new SqlPaymentRepository(db),
    audit: new SqlAuditRepository(db, { keys: options.auditKeys ?? null, writerId: options.auditWriterId }),
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
