export { auditStep } from './audit-step.js';
export { AuditTrail, bankCallAudit } from './audit-trail.js';
export type { AuditFields, ExchangeAudit } from './audit-trail.js';
export { InternalAuditTrail } from './internal-audit-trail.js';
