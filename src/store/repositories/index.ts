export { SqlClientRepository } from './client-repository.js';
export { SqlPaymentRepository } from './payment-repository.js';
export { SqlAuditRepository } from './audit-repository.js';
export { SqlRateLimitRepository } from './rate-limit-repository.js';
export { SqlLoginLockoutRepository } from './login-lockout-repository.js';
export { SqlBankTokenRepository } from './bank-token-repository.js';
export { SqlSequenceRepository } from './sequence-repository.js';
export { amountMinor } from './amount-minor.js';
