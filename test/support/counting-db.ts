import type { Db, Queryable, Transaction } from '../../src/store/index.js';

/**
 * The real database `real`, the transactions of its writer sessions (the audit chains' groups)
 * counted: one per group commit, whatever the backend.
 */
export function countingSessions(real: Db): { db: Db; transactions: () => number } {
  let transactions = 0;
  const db = Object.create(real) as Db;
  db.session = () => {
    const session = real.session();
    return {
      run: <T>(fn: (tx: Transaction) => Promise<T>) => {
        transactions += 1;
        return session.run(fn);
      },
    };
  };
  return { db, transactions: () => transactions };
}

/** What a statement is, for a test to compare: its verb and table (`INSERT payments`). */
function kindOf(sql: string): string {
  const match = /^\s*(INSERT(?: IGNORE| OR IGNORE)? INTO|UPDATE|DELETE FROM|SELECT .*? FROM)\s+(\w+)/is.exec(sql);
  return match ? `${match[1].split(' ')[0].toUpperCase()} ${match[2]}` : sql.slice(0, 30);
}

/**
 * The real database `real`, what its writer sessions' transactions ask of it recorded: one entry
 * per call, a statement alone (query, execute) or the statements of one executeAll together, or
 * of one commitWith followed by its COMMIT.
 */
export function recordingSessions(real: Db): { db: Db; calls: () => string[][] } {
  const calls: string[][] = [];
  const recorded = (tx: Transaction): Transaction => ({
    dialect: tx.dialect,
    query: (sql, params, options) => {
      calls.push([kindOf(sql)]);
      return tx.query(sql, params, options);
    },
    execute: (sql, params) => {
      calls.push([kindOf(sql)]);
      return tx.execute(sql, params);
    },
    executeAll: (statements) => {
      calls.push(statements.map(({ sql }) => kindOf(sql)));
      return tx.executeAll(statements);
    },
    commitWith: (statements) => {
      calls.push([...statements.map(({ sql }) => kindOf(sql)), 'COMMIT']);
      return tx.commitWith(statements);
    },
  });
  const db = Object.create(real) as Db;
  db.session = () => {
    const session = real.session();
    return { run: <T>(fn: (tx: Transaction) => Promise<T>) => session.run((tx) => fn(recorded(tx))) };
  };
  return { db, calls: () => calls };
}

/**
 * The real database `real`, the statements asked of it outside a writer session recorded in
 * order, each as its verb and table (`SELECT audit_chain`), or as `describe` says.
 */
export function recordingStatements(real: Db, describe: (sql: string) => string = kindOf): { db: Db; statements: () => string[] } {
  const statements: string[] = [];
  const db = Object.create(real) as Db;
  db.query = ((sql: string, ...rest: unknown[]) => {
    statements.push(describe(sql));
    return (real.query as (sql: string, ...rest: unknown[]) => unknown)(sql, ...rest);
  }) as Db['query'];
  return { db, statements: () => statements };
}

/**
 * The real database `real`, `then` run once right after the first statement outside a writer
 * session (in a snapshot too: withSnapshot) whose SQL matches `pattern`, before its rows are
 * handed back: another process's write between a read and what the reader does with it. With
 * `armed`, run after each such statement while it says so instead (`then` disarms it).
 */
export function writeAfterRead(real: Db, pattern: RegExp, then: () => Promise<void>, armed?: () => boolean): Db {
  let done = false;
  const due = armed ?? (() => !done);
  const watched = <Q extends Pick<Db, 'query'>>(q: Q): Q['query'] =>
    (async (sql: string, ...rest: unknown[]) => {
      const rows = await (q.query as (sql: string, ...rest: unknown[]) => Promise<unknown>)(sql, ...rest);
      if (pattern.test(sql) && due()) {
        done = true;
        await then();
      }
      return rows;
    }) as Q['query'];
  const db = Object.create(real) as Db;
  db.query = watched(real);
  db.withSnapshot = (fn, options) =>
    real.withSnapshot((q) => {
      const seen = Object.create(q) as Queryable;
      seen.query = watched(q);
      return fn(seen);
    }, options);
  return db;
}

/**
 * The real database `real`, the most rows one statement whose SQL matches `pattern` handed back,
 * in a transaction or not: what a reader held of a table at once.
 */
export function largestReads(real: Db, pattern: RegExp): { db: Db; largest: () => number } {
  let largest = 0;
  const measured = <Q extends Pick<Db, 'query'>>(q: Q): Q['query'] =>
    (async (sql: string, ...rest: unknown[]) => {
      const rows = (await (q.query as (sql: string, ...rest: unknown[]) => Promise<unknown[]>)(sql, ...rest)) as unknown[];
      if (pattern.test(sql)) largest = Math.max(largest, rows.length);
      return rows;
    }) as Q['query'];
  const db = Object.create(real) as Db;
  db.query = measured(real);
  db.withTransaction = (fn) =>
    real.withTransaction((tx) => {
      const counted = Object.create(tx) as Transaction;
      counted.query = measured(tx);
      return fn(counted);
    });
  return { db, largest: () => largest };
}
