import mysql, { type Pool, type PoolConnection, type ResultSetHeader } from 'mysql2/promise';
import { AppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import { UniqueViolationError, type Db, type ExecuteResult, type Queryable, type SqlValue } from '../types.js';
import { describeDatabaseUrl } from '../database-url.js';

const log = getLogger('store');

/** Driver error codes that mean "the database cannot be reached", not "this statement is wrong". */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/**
 * MySQL 8 / MariaDB 10.11 through one mysql2 pool. Placeholders only; every statement goes
 * through `query` with values (mysql2 escapes them), which accepts DDL and DML alike and avoids
 * the server-side prepared-statement cache growing with every distinct statement.
 */
export class MysqlDb implements Db {
  readonly dialect = 'mysql' as const;
  readonly description: string;
  private readonly pool: Pool;

  constructor(url: string) {
    this.description = describeDatabaseUrl(url);
    this.pool = mysql.createPool({
      uri: url,
      connectionLimit: 10,
      // Fail fast when the database is away: payments answer 503 instead of hanging.
      connectTimeout: 5_000,
      // Epoch-ms BIGINTs fit a JS number; ids and counters too.
      supportBigNumbers: true,
      bigNumberStrings: false,
      timezone: 'Z',
      charset: 'utf8mb4',
      multipleStatements: false,
      enableKeepAlive: true,
    });
    // An idle connection dropped by the server emits here; without a handler it would crash the process.
    (this.pool as unknown as { on(event: string, fn: (error: Error) => void): void }).on('error', (error) => {
      log.warn({ code: (error as { code?: string }).code }, 'database pool connection error');
    });
  }

  async query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return run(async () => (await this.pool.query(sql, params))[0] as T[]);
  }

  async execute(sql: string, params: SqlValue[] = []): Promise<ExecuteResult> {
    return run(async () => toResult((await this.pool.query(sql, params))[0] as ResultSetHeader));
  }

  async withTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const connection = await run(() => this.pool.getConnection());
    try {
      await run(() => connection.beginTransaction());
      const result = await fn(connectionQueryable(connection));
      await run(() => connection.commit());
      return result;
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function connectionQueryable(connection: PoolConnection): Queryable {
  return {
    dialect: 'mysql',
    query: async <R>(sql: string, params: SqlValue[] = []) => run(async () => (await connection.query(sql, params))[0] as R[]),
    execute: async (sql: string, params: SqlValue[] = []) => run(async () => toResult((await connection.query(sql, params))[0] as ResultSetHeader)),
  };
}

function toResult(header: ResultSetHeader): ExecuteResult {
  return { affectedRows: header.affectedRows, insertId: Number(header.insertId ?? 0) };
}

/** Runs a driver call, translating its errors; the message never carries SQL, values or credentials. */
async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'ER_DUP_ENTRY') throw new UniqueViolationError('duplicate key');
    if (UNAVAILABLE.has(code) || (error as { fatal?: boolean }).fatal) {
      // The driver's code is for the operator's log; the client only learns the store is away.
      log.warn({ code: code || 'connection failed' }, 'database unavailable');
      throw new AppError('STORE_UNAVAILABLE', 'The store is unavailable, so the request was not processed. Retry later.');
    }
    // Keep the driver's code and message, drop `sql` and the values it carries.
    const clean = new Error(`database error ${code}: ${(error as Error).message}`.slice(0, 500));
    (clean as { code?: string }).code = code;
    throw clean;
  }
}
