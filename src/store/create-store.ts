import { auditRepository } from './repositories/audit-repository.js';
import { clientRepository } from './repositories/client-repository.js';
import { bankTokenRepository, loginLockoutRepository, rateLimitRepository, sequenceRepository } from './repositories/counter-repositories.js';
import { paymentRepository } from './repositories/payment-repository.js';
import type { Db, Store } from './types.js';

/** Wires every repository onto one database. */
export function createStore(db: Db): Store {
  return {
    db,
    clients: clientRepository(db),
    payments: paymentRepository(db),
    audit: auditRepository(db),
    rateLimits: rateLimitRepository(db),
    lockouts: loginLockoutRepository(db),
    bankTokens: bankTokenRepository(db),
    sequences: sequenceRepository(db),
    close: () => db.close(),
  };
}
