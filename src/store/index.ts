/**
 * The store: the only place that imports a database driver. Callers use `openStore(url)` and
 * the repositories on the Store it returns; `migrate` applies the numbered SQL files of sql/.
 */
export { openStore, openDb } from './open-store.js';
export { createStore, type StoreOptions } from './create-store.js';
export { describeDatabaseUrl, describeStoreFailure, parseDatabaseUrl, type DatabaseTarget } from './database-url.js';
export { migrate, pendingMigrations, pendingMigrationsCheck, type MigrateOptions } from './migrator.js';
export { accountTag, amountMinor, GRAM_LENGTH, LEASE_CLOCK_MARGIN_MS, PROVED_LIMIT, RECONCILE_LIMIT, SEARCH_SCAN_LIMIT, searchForm, TOTALS_LIMIT } from './repositories/index.js';
export { packageRoot, packageVersion } from './package-root.js';
export { answerProblem, chainProblem, databaseChains } from './repositories/audit-verify.js';
export * from './types.js';
export { AuditSpool, withAuditSpool } from './audit-spool.js';
export { connectionBudgetProblem } from './connection-budget.js';
export { RecentReads } from './recent-reads.js';
