import { MysqlDb } from './mysql/mysql-db.js';
import { SqliteDb } from './sqlite/sqlite-db.js';
import { createStore } from './create-store.js';
import type { Store } from './types.js';

export { createStore } from './create-store.js';
export { migrate, pendingMigrations } from './migrator.js';
export { describeDatabaseUrl } from './database-url.js';
export * from './types.js';

/**
 * Opens the store named by a GERBANG_DATABASE_URL value: `mysql://user:pass@host:port/db`
 * (MySQL 8, MariaDB 10.11) or `sqlite:path` / `sqlite::memory:` (embedded). Does not migrate.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('mysql://')) return createStore(new MysqlDb(url));
  if (url.startsWith('sqlite:')) return createStore(new SqliteDb(url.slice('sqlite:'.length)));
  throw new Error('GERBANG_DATABASE_URL must be a mysql:// URL or sqlite:path');
}
