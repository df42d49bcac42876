export { AuditTrail, bankCallAudit } from './audit-trail.js';
export type { AuditFields, ExchangeAudit } from './audit-trail.js';
export { auditIntegrityRefusal, InternalAuditTrail } from './internal-audit-trail.js';
export { verifyAudit, type CheckedAuditReport } from './verify-audit.js';
export { appendCheckpoint, readCheckpoints, compareWithCheckpoints, type ChainHead, type Checkpoint, type CheckpointHistory } from './checkpoints.js';
export { purgeAnonymousExchanges, RetentionError, type AnonymousPurgeRequest } from './purge-anonymous.js';
