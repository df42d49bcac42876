import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../errors/index.js';
import { UniqueViolationError, type Db, type ExecuteResult, type Queryable, type SqlValue } from '../types.js';

/**
 * The embedded store on better-sqlite3. Several PM2 workers may open the same file: WAL lets
 * readers run beside the one writer, and busy_timeout makes a writer wait for the lock instead
 * of failing with SQLITE_BUSY.
 *
 * better-sqlite3 is synchronous while our API is async: a transaction that awaits between its
 * statements would let another async caller's statements run inside it on the same connection.
 * A promise-chain mutex serialises transactions (and statements outside one wait for it), so
 * each transaction sees only its own statements.
 */
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly db: Database.Database;
  private queue: Promise<unknown> = Promise.resolve();
  private inTransaction = false;

  constructor(path: string) {
    const memory = path === ':memory:';
    const file = memory ? path : resolve(path);
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    this.description = `sqlite:${file}`;
  }

  async query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    await this.idle();
    return this.run(() => this.db.prepare(sql).all(...params) as T[]);
  }

  async execute(sql: string, params: SqlValue[] = []): Promise<ExecuteResult> {
    await this.idle();
    return this.run(() => toResult(this.db.prepare(sql).run(...params)));
  }

  withTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      // IMMEDIATE takes the write lock now, so two processes never deadlock upgrading a read lock.
      this.run(() => this.db.exec('BEGIN IMMEDIATE'));
      this.inTransaction = true;
      const tx: Queryable = {
        dialect: 'sqlite',
        query: async <R>(sql: string, params: SqlValue[] = []) => this.run(() => this.db.prepare(sql).all(...params) as R[]),
        execute: async (sql: string, params: SqlValue[] = []) => this.run(() => toResult(this.db.prepare(sql).run(...params))),
      };
      try {
        const result = await fn(tx);
        this.run(() => this.db.exec('COMMIT'));
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      } finally {
        this.inTransaction = false;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.idle();
    if (this.db.open) this.db.close();
  }

  /** Statements outside a transaction wait until the running transaction has finished. */
  private async idle(): Promise<void> {
    while (this.inTransaction) await this.queue;
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw translate(error);
    }
  }

  /** For the migrator: runs a multi-statement script. */
  exec(sql: string): void {
    this.run(() => this.db.exec(sql));
  }
}

function toResult(info: Database.RunResult): ExecuteResult {
  return { affectedRows: info.changes, insertId: Number(info.lastInsertRowid) };
}

function translate(error: unknown): unknown {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new UniqueViolationError((error as Error).message, { cause: error });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR' || code === 'SQLITE_READONLY') {
    return new AppError('STORE_UNAVAILABLE', 'The embedded store is unavailable.', { cause: error });
  }
  return error;
}
