import { SqlBankNotificationRepository } from './repositories/bank-notification-repository.js';
import {
  SqlAuditRepository,
  SqlAuditVerificationRepository,
  SqlBankTokenRepository,
  SqlClientRepository,
  SqlClientCredentialRepository,
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
  SqlKeyRotationRepository,
  SqlRequestSignatureRepository,
  SqlAccountGrantRepository,
} from './repositories/index.js';
import type { KeyRing } from '../security/index.js';
import type { Db, Store } from './types.js';
import type { StoreReadLimits } from './repositories/payment-search-repository.js';

export interface StoreOptions {
  /**
   * Seals the values kept encrypted at rest (GERBANG_AUDIT_KEYS): the audit's bodies and headers,
   * payment answers, payment-run lines and callbacks. A store opened without it can do everything
   * but write or read those: that throws an error naming the setting.
   */
  auditKeys?: KeyRing | null;
  /** Id of this process's audit hash chain (default: new per store). */
  auditWriterId?: string;
  /**
   * Vouches for this process's chain heads outside the database (src/audit's `checkpointer`):
   * called as each change of a row that decides who may do what commits, and at `close()`.
   */
  checkpoint?: (store: string, heads: { writerId: string; seq: number; hash: string }[]) => boolean;
  /**
   * Vouches for this process's chain heads outside the database after every committed group of
   * links (src/audit's `HeadFile`); closed when the store closes, told whether its last heads were
   * checkpointed then (its file is then removed).
   */
  vouch?: { committed: (store: string, heads: { writerId: string; seq: number; hash: string; at: number }[]) => void; close: (checkpointed: boolean) => void };
  /**
   * Seal a new payment's account and details in its INSERT (GERBANG_SEAL_PAYMENTS_AT_INSERT): one
   * statement less a transfer, readable only by releases that open both forms (sealed-values.ts).
   */
  sealPaymentsAtInsert?: boolean;
  /** Bounds of the store's reads smaller than its own (StoreReadLimits), so a test reaches them with a few rows. */
  readLimits?: Partial<StoreReadLimits>;
}

/** Wires every repository onto one Db; `close()` ends the reconciliation's worker threads and closes the Db (pool or file). */
export function createStore(db: Db, options: StoreOptions = {}): Store {
  const keys = options.auditKeys ?? null;
  const audit = new SqlAuditRepository(db, { keys, writerId: options.auditWriterId });
  // Day seals of the reconciliation are written with their change records on the audit's chains (migration 031).
  const paymentSearch = new SqlPaymentSearchRepository(db, keys, audit.chain, undefined, options.readLimits);
  const checkpoint = options.checkpoint;
  if (checkpoint) audit.chain.checkpointRecordChanges((heads) => checkpoint(db.description, heads));
  const vouch = options.vouch;
  if (vouch) audit.chain.vouchCommits((heads) => vouch.committed(db.description, heads));
  return {
    db,
    // Every change of a row that decides who may do what is recorded in the audit's chains (record_changes, migration 027).
    clients: new SqlClientRepository(db, keys, audit.chain),
    accountGrants: new SqlAccountGrantRepository(db, keys, audit.chain),
    clientCredentials: new SqlClientCredentialRepository(db, keys, audit.chain),
    requestSignatures: new SqlRequestSignatureRepository(db),
    // A payment's state changes are appended to the audit's chains (payment_events, migration 024).
    payments: new SqlPaymentRepository(db, keys, audit.chain, options.sealPaymentsAtInsert ?? false),
    audit,
    rateLimits: new SqlRateLimitRepository(db),
    lockouts: new SqlLoginLockoutRepository(db),
    bankTokens: new SqlBankTokenRepository(db),
    sequences: new SqlSequenceRepository(db),
    batches: new SqlTransferBatchRepository(db, keys),
    callbacks: new SqlCallbackRepository(db, keys, audit.chain),
    bankNotifications: new SqlBankNotificationRepository(db),
    paymentSearch,
    consoleUsers: new SqlConsoleUserRepository(db, keys, audit.chain),
    consoleSessions: new SqlConsoleSessionRepository(db, keys),
    consoleAudit: new SqlConsoleAuditRepository(db, audit.chain, keys),
    // Each verification result is a record of the audit's chains too, so the newest one deleted is seen.
    auditVerifications: new SqlAuditVerificationRepository(db, keys, audit.chain),
    keyRotation: new SqlKeyRotationRepository(db, keys, audit.chain),
    close: async () => {
      // The last heads this process wrote, so a tail deleted after it stopped is named too.
      const checkpointed = checkpoint?.(db.description, audit.ownHeads()) ?? false;
      // Its head file says nothing the line did not: removed (kept when the line could not be written).
      vouch?.close(checkpointed);
      await paymentSearch.close();
      await db.close();
    },
  };
}
