export { auditStep } from './audit-step.js';
export { AuditTrail, bankCallAudit } from './audit-trail.js';
export type { AuditFields } from './audit-trail.js';
