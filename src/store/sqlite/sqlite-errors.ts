import { AppError } from '../../errors/app-error.js';
import { UniqueViolationError } from '../types.js';

/** SQLite result codes meaning "this file cannot be used right now" rather than "your SQL is wrong". */
const UNAVAILABLE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/**
 * Maps a better-sqlite3 error to the store contract: unique/primary-key violations become
 * UniqueViolationError, an unusable database file becomes AppError('STORE_UNAVAILABLE');
 * anything else (a bug in our SQL) is returned unchanged.
 */
export function mapSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new UniqueViolationError('unique key violation', { cause: error });
  }
  if (typeof code === 'string' && [...UNAVAILABLE_CODES].some((prefix) => code === prefix || code.startsWith(`${prefix}_`))) {
    return new AppError('STORE_UNAVAILABLE', 'the embedded database is unavailable', { cause: error });
  }
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new AppError('STORE_UNAVAILABLE', 'the embedded database is closed', { cause: error });
  }
  return error;
}
