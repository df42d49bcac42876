export { auditStep } from './audit-step.js';
export { AuditTrail } from './audit-trail.js';
export type { AuditFields } from './audit-trail.js';
