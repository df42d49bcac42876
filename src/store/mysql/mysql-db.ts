import { createConnection, createPool, type Connection, type ConnectionOptions, type Pool, type PoolConnection, type QueryError, type ResultSetHeader } from 'mysql2';
import { AppError } from '../../errors/app-error.js';
import { getLogger } from '../../log/index.js';
import type { Db, ExecuteResult, Queryable, SqlValue, TransactionSession } from '../types.js';
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
 * Runs `fn` as one transaction on `connection` (opened with START TRANSACTION when `begin`; a
 * session's connection has autocommit off instead): COMMIT when it resolves, ROLLBACK when it
 * throws. A connection that cannot even roll back is gone (the server rolls back what it had):
 * `onBroken` is told, so it is never reused.
 */
async function commitOrRollBack<T>(connection: Runner, fn: (tx: Queryable) => Promise<T>, options: { begin: boolean; onBroken: () => void }): Promise<T> {
  const tx = queryable(connection);
  try {
    if (options.begin) await tx.query('START TRANSACTION');
    const result = await fn(tx);
    await tx.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await tx.query('ROLLBACK');
    } catch {
      options.onBroken();
    }
    throw error;
  }
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
  private readonly sessions = new Set<MysqlSession>();
  private closing: Promise<void> | undefined;

  constructor(private readonly url: URL) {
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
    let broken = false;
    try {
      return await commitOrRollBack(connection, fn, { begin: true, onBroken: () => (broken = true) });
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  session(): TransactionSession {
    const { connectionLimit: _limit, waitForConnections: _wait, ...options } = mysqlPoolOptions(this.url);
    const session = new MysqlSession(options, this.description);
    this.sessions.add(session);
    return session;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  /** Ends the pool once every connection is released; calling it again does nothing. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      for (const session of this.sessions) session.close();
      await new Promise<void>((resolve, reject) => this.pool.end((error) => (error ? reject(mapMysqlError(error)) : resolve())));
    })();
    await this.closing;
  }
}

/**
 * A connection of its own (outside the pool, so it never takes a pooled connection from other
 * work) with autocommit off: every statement joins the open transaction, COMMIT ends it and the
 * next statement starts the next one, so a transaction needs no START TRANSACTION. Opened on
 * first use; a connection that errs or is closed by the server is dropped and the next run
 * opens a new one.
 */
class MysqlSession implements TransactionSession {
  private connection: Connection | undefined;
  private opening: Promise<Connection> | undefined;
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly description: string,
  ) {}

  async run<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const connection = await this.open();
    return commitOrRollBack(connection, fn, { begin: false, onBroken: () => this.drop(connection) });
  }

  close(): void {
    this.closed = true;
    if (this.connection) this.drop(this.connection);
  }

  private open(): Promise<Connection> {
    if (this.closed) return Promise.reject(storeClosed());
    if (this.connection) return Promise.resolve(this.connection);
    this.opening ??= new Promise<Connection>((resolve, reject) => {
      const connection = createConnection(this.options);
      connection.on('error', (error: NodeJS.ErrnoException) => {
        log.warn({ code: error.code, store: this.description }, 'database session error; the next write opens a new connection');
        this.drop(connection);
      });
      connection.on('end', () => this.drop(connection));
      connection.query('SET SESSION autocommit = 0', (error) => {
        this.opening = undefined;
        if (error) {
          this.drop(connection);
          reject(mapMysqlError(error));
          return;
        }
        if (this.closed) {
          connection.destroy();
          reject(storeClosed());
          return;
        }
        this.connection = connection;
        resolve(connection);
      });
    });
    return this.opening;
  }

  private drop(connection: Connection): void {
    if (this.connection === connection) this.connection = undefined;
    connection.destroy();
  }
}

function storeClosed(): AppError {
  return new AppError('STORE_UNAVAILABLE', 'The database is unavailable; try again shortly.');
}
