export { auditStep } from './audit-step.js';
