export { AuditTrail, bankCallAudit } from './audit-trail.js';
export type { AuditFields, ExchangeAudit } from './audit-trail.js';
export { auditIntegrityRefusal, InternalAuditTrail } from './internal-audit-trail.js';
export { verifyAudit, type AcceptedChainBreak, type CheckedAuditReport } from './verify-audit.js';
export { ACCEPTED_ROLLBACK, appendCheckpoint, checkpointer, readCheckpoints, compareWithCheckpoints, storeAgainstCheckpoints, type ChainHead, type Checkpoint, type CheckpointHistory } from './checkpoints.js';
export { RollbackWatch } from './rollback-watch.js';
export { AuditScrub, type ScrubCycle } from './audit-scrub.js';
export { acceptRollback, forgetEarlierDatabase } from './accept-rollback.js';
export { purgeAnonymousExchanges, RetentionError, type AnonymousPurgeRequest } from './purge-anonymous.js';
