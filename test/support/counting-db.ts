import type { Db, Queryable } from '../../src/store/index.js';

/**
 * The real database `real`, the transactions of its writer sessions (the audit chains' groups)
 * counted: one per group commit, whatever the backend.
 */
export function countingSessions(real: Db): { db: Db; transactions: () => number } {
  let transactions = 0;
  const db = Object.create(real) as Db;
  db.session = () => {
    const session = real.session();
    return {
      run: <T>(fn: (tx: Queryable) => Promise<T>) => {
        transactions += 1;
        return session.run(fn);
      },
    };
  };
  return { db, transactions: () => transactions };
}
