import { randomBytes } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CommitUnknownError, committable, oneRowChecked, type Db, type ExecuteResult, type Queryable, type SnapshotOptions, type SqlValue, type SqlStatement, type Transaction, type TransactionSession } from '../types.js';
import { readableByOthers } from '../../security/index.js';
import { AsyncMutex } from '../async-mutex.js';
import { mapSqliteError } from './sqlite-errors.js';

/**
 * How long a statement waits for another process's write lock before failing with SQLITE_BUSY.
 * Several PM2 worker processes share one database file and take turns writing; a write lock is
 * held for milliseconds, so 5 s only runs out when something is badly wrong. better-sqlite3 waits
 * synchronously, so this is also the longest the event loop can stall on a busy file.
 */
const BUSY_TIMEOUT_MS = 5_000;
const STATEMENT_CACHE_SIZE = 256;

/** The memory path of `sqlite::memory:`. */
export const MEMORY_PATH = ':memory:';

type Statement = Database.Statement<unknown[], unknown>;

/** The mutex whose transaction the current async context is running in, if any. */
const holding = new AsyncLocalStorage<AsyncMutex>();

/**
 * One mutex per database file per process. Two SqliteDb on the same file in one process (a test
 * running two gateways, a CLI command beside a server) would otherwise deadlock: while one holds
 * BEGIN IMMEDIATE across an await, the other's BEGIN busy-waits *synchronously*, blocking the
 * event loop the first one needs to reach COMMIT. Separate processes need no such thing: each
 * has its own event loop, and busy_timeout makes them take turns.
 */
const fileMutexes = new Map<string, { mutex: AsyncMutex; users: number }>();

function acquireMutex(path: string): AsyncMutex {
  if (path === MEMORY_PATH) return new AsyncMutex();
  const entry = fileMutexes.get(path) ?? { mutex: new AsyncMutex(), users: 0 };
  entry.users += 1;
  fileMutexes.set(path, entry);
  return entry.mutex;
}

function releaseMutex(path: string): void {
  const entry = fileMutexes.get(path);
  if (entry && --entry.users === 0) fileMutexes.delete(path);
}

/**
 * The embedded store (the zero-configuration default) on better-sqlite3: one connection per
 * process, WAL mode so readers never block the writer, foreign keys on.
 *
 * better-sqlite3 is synchronous; this class gives it the async `Db` contract. Every call goes
 * through one async mutex, so a transaction callback that awaits keeps the connection to itself
 * until it commits or rolls back (see AsyncMutex). Inside `withTransaction(fn)`, `fn` must use
 * the `tx` it is given: calling this Db again from inside would wait for itself, so it throws.
 */
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly connection: Database.Database;
  private readonly mutex: AsyncMutex;
  private readonly path: string;
  private readonly statements = new Map<string, Statement>();

  /** Opens (creating it and its folder when missing) the database file at `path`, or memory. */
  constructor(path: string) {
    // Each in-memory database is a new one: its description (which the audit checkpoints name) says which.
    this.description = path === MEMORY_PATH ? `sqlite::memory: (process ${process.pid}, ${randomBytes(4).toString('hex')})` : `sqlite:${path}`;
    this.path = path;
    try {
      if (path !== MEMORY_PATH) createOwnerOnly(path);
      this.connection = new Database(path, { timeout: BUSY_TIMEOUT_MS });
      this.connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // WAL: readers and one writer work at the same time, across processes.
      this.connection.pragma('journal_mode = WAL');
      // FULL (not WAL's usual NORMAL): a committed audit row or payment survives a power cut.
      this.connection.pragma('synchronous = FULL');
      this.connection.pragma('foreign_keys = ON');
    } catch (error) {
      throw mapSqliteError(error);
    }
    this.mutex = acquireMutex(path);
  }

  query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.exclusive(() => this.runQuery<T>(sql, params));
  }

  execute(sql: string, params: SqlValue[] = []): Promise<ExecuteResult> {
    return this.exclusive(() => this.runExecute(sql, params));
  }

  /** In-process: no round trip to save, so each statement runs on its own (in order). */
  executeAll(statements: readonly SqlStatement[]): Promise<ExecuteResult[]> {
    return this.exclusive(() => this.runAll(statements));
  }

  /**
   * BEGIN IMMEDIATE takes the file's write lock up front, so two processes' transactions queue
   * (for up to the busy timeout) instead of both reading and then one failing at its first write.
   */
  withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN IMMEDIATE', fn);
  }

  /**
   * A read transaction (BEGIN DEFERRED: its snapshot is taken at its first read, and WAL keeps it
   * while other processes write), this connection held for the whole of `fn` as withTransaction holds it.
   * `causal` changes nothing: one file, every commit in it once acknowledged (SnapshotOptions).
   */
  withSnapshot<T>(fn: (q: Queryable) => Promise<T>, _options?: SnapshotOptions): Promise<T> {
    return this.inTransaction('BEGIN DEFERRED', fn);
  }

  private inTransaction<T>(begin: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.run(begin);
      const tx = this.transaction();
      try {
        const result = await holding.run(this.mutex, () => fn(tx));
        if (!tx.committed) this.run('COMMIT');
        return result;
      } catch (error) {
        // After some errors (SQLITE_FULL, SQLITE_IOERR…) SQLite has already rolled back.
        if (!tx.committed && this.connection.inTransaction) this.run('ROLLBACK');
        throw error;
      }
    });
  }

  /** The open transaction's queries; commitWith runs its statements, then COMMIT (no round trip to save). */
  private transaction(): Transaction & { readonly committed: boolean } {
    const tx = {
      dialect: this.dialect,
      query: async <T>(sql: string, params?: SqlValue[]) => this.runQuery<T>(sql, params),
      execute: async (sql: string, params?: SqlValue[]) => this.runExecute(sql, params),
      executeAll: async (statements: readonly SqlStatement[]) => this.runAll(statements),
    };
    return committable(tx, async (statements) => {
      const results = this.runAll(statements);
      try {
        this.run('COMMIT');
      } catch (error) {
        // An I/O error at COMMIT may leave the commit on disk (its WAL frames written): unknown.
        throw new CommitUnknownError(error);
      }
      return results;
    });
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  /** One connection per process already: a session is withTransaction. */
  session(): TransactionSession {
    return { run: (fn) => this.withTransaction(fn) };
  }

  /** Waits for the running transaction, if any, then closes the file. */
  async close(): Promise<void> {
    await this.mutex.runExclusive(() => {
      if (!this.connection.open) return;
      this.connection.close();
      releaseMutex(this.path);
    });
  }

  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    if (holding.getStore() === this.mutex) {
      return Promise.reject(new Error('store: inside withTransaction(fn), use the tx passed to fn, not the Db'));
    }
    return this.mutex.runExclusive(fn);
  }

  private runQuery<T>(sql: string, params: SqlValue[] = []): T[] {
    try {
      return this.prepare(sql).all(...params) as T[];
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  private runExecute(sql: string, params: SqlValue[] = []): ExecuteResult {
    try {
      const result = this.prepare(sql).run(...params);
      // lastInsertRowid is the connection's last insert, even after an UPDATE: report it only
      // for an INSERT that inserted, like MySQL's insertId.
      const inserted = result.changes > 0 && /^\s*insert\b/i.test(sql);
      return { affectedRows: result.changes, insertId: inserted ? Number(result.lastInsertRowid) : 0 };
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  /** Each in order, stopping at the first that fails or does not hold its onlyOneRow. */
  private runAll(statements: readonly SqlStatement[]): ExecuteResult[] {
    return statements.map((statement) => oneRowChecked(statement, this.runExecute(statement.sql, statement.params)));
  }

  private run(sql: string): void {
    try {
      this.connection.exec(sql);
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  private prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.connection.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * The database file holds payments and clients: it is created readable by its owner only (0600,
 * its folder 0700 when created here), and an existing file that others could read is narrowed to
 * 0600. SQLite gives its -wal and -shm files the mode of the database file, so they follow.
 */
function createOwnerOnly(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  if (readableByOthers(path)) chmodSync(path, 0o600);
}
