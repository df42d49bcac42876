import { createPool, type Pool, type PoolConnection, type QueryError, type ResultSetHeader } from 'mysql2';
import { getLogger } from '../../log/index.js';
import type { Db, ExecuteResult, Queryable, SqlValue } from '../types.js';
import { mapMysqlError } from './mysql-errors.js';
import { mysqlPoolOptions } from './mysql-options.js';

const log = getLogger('store');

/** What the pool and a pooled connection have in common. */
type Runner = Pick<Pool, 'query' | 'execute'>;

/**
 * Statements WITH values go through `execute` (server-side prepared statements: the values never
 * become SQL text). Statements without values (DDL, BEGIN-free reads) use the text protocol,
 * which accepts every statement type; nothing from a caller can reach them.
 *
 * mysql2's callback API, wrapped here, rather than its promise API: the promise wrapper captures
 * a stack trace for every statement (to decorate errors that are rare here and mapped anyway),
 * which cost about a tenth of the gateway's CPU per audited transfer.
 */
function run(runner: Runner, sql: string, params: SqlValue[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const done = (error: QueryError | null, result: unknown) => (error ? reject(mapMysqlError(error)) : resolve(result));
    if (params.length === 0) runner.query(sql, done);
    else runner.execute(sql, params, done);
  });
}

function queryable(runner: Runner): Queryable {
  return {
    dialect: 'mysql',
    query: async <T>(sql: string, params: SqlValue[] = []) => (await run(runner, sql, params)) as T[],
    execute: async (sql: string, params: SqlValue[] = []) => {
      const header = (await run(runner, sql, params)) as ResultSetHeader;
      return { affectedRows: header.affectedRows ?? 0, insertId: Number(header.insertId ?? 0) };
    },
  };
}

/**
 * MySQL 8 / MariaDB 10.11 through a mysql2 pool. Everything works on a replicated or managed
 * MySQL shared by several gateway nodes: no GET_LOCK, no temporary tables, no session state
 * kept between calls.
 */
export class MysqlDb implements Db {
  readonly dialect = 'mysql' as const;
  readonly description: string;
  private readonly pool: Pool;
  private readonly plain: Queryable;
  private closing: Promise<void> | undefined;

  constructor(url: URL) {
    this.description = `mysql://${url.host}${url.pathname}`;
    this.pool = createPool(mysqlPoolOptions(url));
    // An idle pooled connection that breaks (server restart, network cut) emits 'error'. mysql2
    // drops it from the pool with a one-shot listener; ours stays, so a second error on the same
    // connection can never go unhandled and crash the process.
    this.pool.on('connection', (connection) => {
      connection.on('error', (error: NodeJS.ErrnoException) => {
        log.warn({ code: error.code, store: this.description }, 'database connection error; the pool replaces it');
      });
    });
    this.plain = queryable(this.pool);
  }

  query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.plain.query<T>(sql, params);
  }

  execute(sql: string, params: SqlValue[] = []): Promise<ExecuteResult> {
    return this.plain.execute(sql, params);
  }

  /** One pooled connection for the whole of `fn`; always released (destroyed if it broke). */
  async withTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const connection = await new Promise<PoolConnection>((resolve, reject) =>
      this.pool.getConnection((error, pooled) => (error ? reject(mapMysqlError(error)) : resolve(pooled))),
    );
    const tx = queryable(connection);
    let broken = false;
    try {
      await tx.query('START TRANSACTION');
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await tx.query('ROLLBACK');
      } catch {
        // The connection is gone (the server rolls back what it had); never reuse it.
        broken = true;
      }
      throw error;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  /** Ends the pool once every connection is released; calling it again does nothing. */
  async close(): Promise<void> {
    this.closing ??= new Promise((resolve, reject) => this.pool.end((error) => (error ? reject(mapMysqlError(error)) : resolve())));
    await this.closing;
  }
}
