import { AppError } from '../../errors/app-error.js';
import { CommitUnknownError, UniqueViolationError } from '../types.js';

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
 * Server errors meaning "this statement or transaction lost to a concurrent one and was rolled
 * back as a whole": an InnoDB deadlock (1213, which is also how Galera reports a certification
 * failure, "Deadlock: wsrep aborted transaction") and a lock wait timeout (1205). Nothing of it
 * was applied on any node, so running it again is safe; see isConflict(). (1180, an error during
 * COMMIT, is left out on purpose: whether that commit happened is not certain.)
 */
const CONFLICT_ERRNOS = new Set([1213, 1205]);

/**
 * Server errors meaning "this node cannot serve now" although it answers: a Galera node that
 * is not (yet, or no longer) part of the primary component answers 1047 ("WSREP has not yet
 * prepared node for application use"). Another node of the cluster may well serve.
 */
const NODE_NOT_READY_ERRNOS = new Set([1047]);

/**
 * True when `error` (a mapped one too) is a conflict whose statement or transaction was rolled
 * back whole. Never a CommitUnknownError: a COMMIT that may have taken effect is not run again.
 */
export function isConflict(error: unknown): boolean {
  if (error instanceof CommitUnknownError) return false;
  const raw = error instanceof AppError ? error.cause : error;
  return CONFLICT_ERRNOS.has(Number((raw as { errno?: unknown } | undefined)?.errno));
}

/**
 * A conflict that kept losing after the retries: the client may retry the whole request, which
 * the idempotency key makes safe. 503 with a short Retry-After, never a 500.
 */
export function conflictGaveUp(error: unknown): AppError {
  return new AppError('STORE_UNAVAILABLE', 'The database is busy with concurrent changes; nothing was changed by this request. Try again shortly.', {
    headers: { 'Retry-After': '1' },
    cause: error,
  });
}

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
  const notReady = NODE_NOT_READY_ERRNOS.has(Number((error as { errno?: unknown } | undefined)?.errno));
  if ((typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || fatal === true || closed || notReady) {
    return new AppError('STORE_UNAVAILABLE', 'The database is unavailable; try again shortly.', { cause: error });
  }
  return error;
}
