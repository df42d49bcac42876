import { AppError } from '../../errors/app-error.js';
import { UniqueViolationError } from '../types.js';

/**
 * Driver and server codes meaning "the database cannot be reached or used right now": network
 * failures, a server shutting down or refusing us, our pool closed. Callers answer 503 and,
 * on money-moving routes, send nothing to the bank.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_NET_READ_ERROR',
  'ER_NET_WRITE_INTERRUPTED',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_CANT_CONNECT_TO_SERVER',
  'ER_SERVER_GONE_ERROR',
  'ER_SERVER_LOST',
]);

/**
 * Maps a mysql2 error to the store contract: ER_DUP_ENTRY becomes UniqueViolationError, an
 * unreachable or refusing server becomes AppError('STORE_UNAVAILABLE'); anything else (a bug
 * in our SQL) is returned unchanged. The message is safe to show a client: no host, no user,
 * no SQL; the driver error stays in `cause` for the logs.
 */
export function mapMysqlError(error: unknown): unknown {
  if (error instanceof AppError || error instanceof UniqueViolationError) return error;
  const { code, fatal, message } = (error ?? {}) as { code?: unknown; fatal?: unknown; message?: unknown };
  if (code === 'ER_DUP_ENTRY') return new UniqueViolationError('unique key violation', { cause: error });
  const closed = typeof message === 'string' && /pool is closed|can't add new command when connection is in closed state/i.test(message);
  if ((typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || fatal === true || closed) {
    return new AppError('STORE_UNAVAILABLE', 'The database is unavailable; try again shortly.', { cause: error });
  }
  return error;
}
