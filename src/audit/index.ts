export { verifyAudit, type CheckedAuditReport } from './verify-audit.js';
export { appendCheckpoint, readCheckpoints, compareWithCheckpoints, type ChainHead, type Checkpoint, type CheckpointHistory } from './checkpoints.js';
