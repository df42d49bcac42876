import { createStore, type StoreOptions } from './create-store.js';
import { parseDatabaseUrl } from './database-url.js';
import { MysqlDb } from './mysql/index.js';
import { SqliteDb } from './sqlite/index.js';
import type { Db, Store } from './types.js';

/**
 * Opens the store named by GERBANG_DATABASE_URL:
 * `mysql://user:password@host:port/database` (MySQL 8 / MariaDB 10.11, a pool) or
 * `sqlite:path/file.sqlite` / `sqlite::memory:` (embedded; the file and its folder are created).
 *
 * Does not migrate (see `migrate`) and does not connect to MySQL yet: the pool connects on first
 * use, so a gateway can start while the database is down and answer 503 until it is back.
 * Throws an Error naming GERBANG_DATABASE_URL for an unsupported URL. `options.auditKeys` seals
 * the audit (see StoreOptions).
 */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  return createStore(openDb(url), options);
}

/** The bare Db of a URL, for tools that need no repositories. */
export function openDb(url: string): Db {
  const target = parseDatabaseUrl(url);
  return target.kind === 'mysql' ? new MysqlDb(target.url, target.hosts) : new SqliteDb(target.path);
}
