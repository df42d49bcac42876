import type { Connection, ConnectionOptions, Pool, PoolConnection, QueryError, ResultSetHeader } from 'mysql2';

/**
 * The driver, loaded when a MySQL store first connects: it is the largest module of the store,
 * and a command run on an embedded store (`gerbang client create` on SQLite) never needs it.
 */
let driver: typeof import('mysql2') | undefined;
function mysql2(): typeof import('mysql2') {
  driver ??= require('mysql2') as typeof import('mysql2');
  return driver;
}
import { AppError } from '../../errors/app-error.js';
import { getLogger } from '../../log/index.js';
import { describeHosts, type MysqlHost } from '../database-url.js';
import { CommitUnknownError, committable, NotOneRowError, oneRowChecked, type Db, type ExecuteResult, type Queryable, type QueryOptions, type SnapshotOptions, type SqlValue, type SqlStatement, type Transaction, type TransactionSession } from '../types.js';
import { conflictGaveUp, isConflict, mapMysqlError } from './mysql-errors.js';
import { mysqlPoolOptions } from './mysql-options.js';

const log = getLogger('store');

/**
 * Set on every connection the store opens (pooled, and each writer session's): the server's
 * sql_mode, whatever else it holds (ANSI_QUOTES, NO_BACKSLASH_ESCAPES…), with STRICT_ALL_TABLES
 * added. Under a mode without it (`sql_mode = ''`, as an operator may set the server) a value a
 * column cannot hold is cut or clipped with a warning and stored, while the record's digest and
 * MAC cover the value given; strict, the INSERT or UPDATE fails and nothing of its transaction
 * commits. INSERT IGNORE still only warns (knownEventWritten checks those). The same statement
 * on MariaDB (Galera too: sql_mode is a session variable) and MySQL 8.
 */
const STRICT_SQL_MODE = "sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')";

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

/**
 * Runs a statement with values on one pooled connection as a statement of its own: closed on the
 * server before (were it kept from an earlier run) and after, so the server plans it for this run
 * (see QueryOptions.freshPlan).
 */
function runFresh(pool: Pool, sql: string, params: SqlValue[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => {
      if (error) {
        reject(mapMysqlError(error));
        return;
      }
      connection.unprepare(sql);
      connection.execute(sql, params, (failure: QueryError | null, result: unknown) => {
        // A connection that broke is not asked anything more, nor given back.
        if (failure?.fatal) connection.destroy();
        else {
          connection.unprepare(sql);
          connection.release();
        }
        if (failure) reject(mapMysqlError(failure));
        else resolve(result);
      });
    });
  });
}

function queryable(runner: Runner, batches = false): Queryable {
  const execute = async (sql: string, params: SqlValue[] = []): Promise<ExecuteResult> => executed((await run(runner, sql, params)) as ResultSetHeader);
  return {
    dialect: 'mysql',
    query: async <T>(sql: string, params: SqlValue[] = []) => (await run(runner, sql, params)) as T[],
    execute,
    executeAll: async (statements: readonly SqlStatement[]) => {
      const text = batches && statements.length > 1 ? inlineValues(statements) : null;
      if (text === null) return oneByOne(statements, execute);
      return together(runner, statements, text, false);
    },
  };
}

/** `statements` run in order by `execute`, each on its own, stopping at the first that fails (or does not hold its onlyOneRow). */
async function oneByOne(statements: readonly SqlStatement[], execute: (sql: string, params: SqlValue[]) => Promise<ExecuteResult>): Promise<ExecuteResult[]> {
  const results: ExecuteResult[] = [];
  for (const statement of statements) results.push(oneRowChecked(statement, await execute(statement.sql, statement.params)));
  return results;
}

function executed(header: ResultSetHeader): ExecuteResult {
  const result: ExecuteResult = { affectedRows: header.affectedRows ?? 0, insertId: Number(header.insertId ?? 0) };
  if (header.warningStatus) result.warnings = header.warningStatus;
  return result;
}

/** A value written into SQL text as it is, between single quotes: letters, digits and `_ . : @ -` only (no quote, backslash, space or `;`). */
const PLAIN_WORD = /^[\w.:@-]*$/;

/**
 * Past this many characters of SQL text the statements are sent one by one, prepared: a value
 * written in hex takes twice its bytes, and the whole text must fit the server's
 * max_allowed_packet (16 MiB by default on MariaDB 10.11, 64 MiB on MySQL 8, and set as low as
 * 4 MiB by many deployments). 1 MiB leaves room on any of them; a larger text (a bank's body of
 * hundreds of kilobytes) goes prepared, each value as its own bytes, as before the batching.
 */
const MAX_INLINE_TEXT = 1024 * 1024;

/**
 * What inlineValues writes after a statement marked onlyOneRow: a SELECT that fails (1242,
 * ER_SUBQUERY_NO_1_ROW: its scalar subquery has two rows) unless ROW_COUNT(), the rows the
 * statement before it affected (matched, for an UPDATE: mysql2 sets CLIENT_FOUND_ROWS, as
 * affectedRows counts them), is 1. A server stops a text of statements at the first that fails
 * (MySQL 8 and MariaDB alike), so nothing after it runs, a COMMIT included. A SELECT and not a DO,
 * which swallows its errors ("DO always is OK"); no stored program, no compound statement,
 * nothing a sql_mode changes; it reads no table, so no query cache answers it.
 */
export const ONE_ROW_GUARD = 'SELECT (SELECT 1 FROM (SELECT 1 AS n UNION ALL SELECT 2) AS two WHERE ROW_COUNT() <> 1) AS only_one_row';
const ER_SUBQUERY_NO_1_ROW = 1242;

/**
 * `value` as SQL text that nothing in it can end or escape, whatever the server's sql_mode
 * (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) or the connection's character set: a safe integer, a
 * bigint or null as is; a plain word (PLAIN_WORD) between single quotes; any other string as the
 * hex of its UTF-8 bytes under the utf8mb4 introducer (`_utf8mb4 X'…'`: a literal, so a column's
 * collation wins in a comparison, as it does over a prepared value); a Buffer as `X'…'` (bytes).
 * Hex digits only, so no quote, backslash or `;` of the value reaches the text. Null for any
 * other number (a fraction, NaN, an integer past 2^53): prepared, it keeps its exact type.
 */
function sqlLiteral(value: SqlValue): string | null {
  if (value === null) return 'NULL';
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) return String(value);
  if (typeof value === 'string') return PLAIN_WORD.test(value) ? `'${value}'` : `_utf8mb4 X'${Buffer.from(value, 'utf8').toString('hex')}'`;
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  return null;
}

/**
 * The statements as one text of statements separated by `;`, their values written in
 * (sqlLiteral), each marked onlyOneRow followed by ONE_ROW_GUARD. Null (send each on its own,
 * prepared) when a value is one sqlLiteral does not write, a statement holds a `;` or a `?` that
 * is not a value's place, or the text would pass MAX_INLINE_TEXT.
 * For the writer sessions' own statements (the audit records of one chain transaction, their
 * links and head), so that their connection may take several statements in one round trip and
 * nothing a caller gives is ever read as SQL.
 */
export function inlineValues(statements: readonly SqlStatement[]): string | null {
  const texts: string[] = [];
  let length = 0;
  for (const { sql, params, onlyOneRow } of statements) {
    const parts = sql.split('?');
    if (sql.includes(';') || parts.length !== params.length + 1) return null;
    let text = parts[0];
    for (const [i, value] of params.entries()) {
      const literal = sqlLiteral(value);
      if (literal === null) return null;
      text += literal + parts[i + 1];
    }
    length += text.length;
    if (length > MAX_INLINE_TEXT) return null;
    texts.push(text);
    if (onlyOneRow) texts.push(ONE_ROW_GUARD);
  }
  return texts.join('; ');
}

/**
 * A savepoint set before a text of statements that ends in COMMIT and released right before the
 * COMMIT: the release fails (1305), and the server runs nothing after it, when the transaction that
 * set it is no longer the one open. A Galera node that aborts a transaction for a conflicting
 * write of another node (a brute-force abort) while a text of statements runs rolls the whole
 * transaction back, yet runs the text's remaining statements in a new one (autocommit off) and its
 * COMMIT commits them, answering the deadlock only after (MariaDB 10.11, test/cluster/galera.test.ts):
 * the chain links and head move of records rolled back were committed, records and links in
 * different transactions, and the caller, told of a conflict, wrote the records again under new
 * links. With the savepoint gone, that COMMIT never runs; the caller's ROLLBACK drops the rest.
 */
const SAME_TRANSACTION = { begin: 'SAVEPOINT gerbang_whole', end: 'RELEASE SAVEPOINT gerbang_whole' };

/**
 * Sends `text` (inlineValues of `statements`), then COMMIT when `commit`, as one query and answers
 * the statements' results. When the server answers an error it has run nothing after the part
 * that failed: a guard's (ER_SUBQUERY_NO_1_ROW where a guard answers) is NotOneRowError. With
 * `commit`, an error that may be the COMMIT's (every part before it had answered) unless it is a
 * conflict (rolled back whole), and a connection lost (the server may have run it all), leave the
 * COMMIT's outcome unknown: CommitUnknownError. Any other error is answered as is: nothing
 * committed.
 */
function together(runner: Runner, statements: readonly SqlStatement[], text: string, commit: boolean): Promise<ExecuteResult[]> {
  // What answers each part of the query, in order: a statement (its index), a guard, the
  // savepoint and its release around the statements (SAME_TRANSACTION), the COMMIT.
  const parts: Array<number | 'guard' | 'savepoint' | 'commit'> = statements.flatMap((statement, i) => (statement.onlyOneRow ? [i, 'guard' as const] : [i]));
  if (commit && text !== '') {
    parts.unshift('savepoint');
    parts.push('savepoint');
  }
  if (commit) parts.push('commit');
  const sql = commit ? (text === '' ? 'COMMIT' : `${SAME_TRANSACTION.begin}; ${text}; ${SAME_TRANSACTION.end}; COMMIT`) : text;
  return new Promise((resolve, reject) => {
    // The parts that began to answer: mysql2 emits 'fields' once for each.
    let answered = 0;
    const query = runner.query(sql, (error: QueryError | null, result: unknown) => {
      if (!error) {
        // One part's result comes alone, several parts' as an array.
        const results = parts.length === 1 ? [result] : (result as unknown[]);
        resolve(parts.flatMap((part, i) => (typeof part === 'number' ? [executed(results[i] as ResultSetHeader)] : [])));
        return;
      }
      // The driver's error holds the query's text, the values written in: it keeps instead the
      // statements as a prepared statement's error does (with `?`), so no value reaches a log.
      (error as { sql?: string }).sql = statements.map((statement) => statement.sql).join('; ');
      const mapped = mapMysqlError(error);
      const byServer = typeof (error as { sqlState?: unknown }).sqlState === 'string';
      // A guard fails as it begins to answer, or once its column went out.
      const guardFailed = error.errno === ER_SUBQUERY_NO_1_ROW && (parts[answered] === 'guard' || parts[answered - 1] === 'guard');
      if (byServer && guardFailed) reject(new NotOneRowError());
      else if (commit && (!byServer || (answered >= parts.length - 1 && !isConflict(mapped)))) reject(new CommitUnknownError(mapped));
      else reject(mapped);
    });
    query.on('fields', () => (answered += 1));
  });
}

/**
 * The transaction on `connection` (see Transaction). A writer session's (`batches`) sends
 * commitWith's statements and its COMMIT as one query where inlineValues can write them; else they
 * run one by one, then COMMIT. `committed` once commitWith has committed.
 */
function transaction(connection: Runner, batches: boolean): Transaction & { readonly committed: boolean } {
  const tx = queryable(connection, batches);
  return committable(tx, async (statements) => {
    const text = batches ? inlineValues(statements) : null;
    if (text !== null) return together(connection, statements, text, true);
    const results = await oneByOne(statements, tx.execute);
    try {
      await tx.query('COMMIT');
    } catch (error) {
      // A conflict at COMMIT rolled it back whole; anything else leaves it unknown.
      throw isConflict(error) ? error : new CommitUnknownError(error);
    }
    return results;
  });
}

/** How withTransaction opens its transaction. */
const BEGIN = ['START TRANSACTION'];

/**
 * How withSnapshot opens its own: REPEATABLE READ for this transaction whatever the server's
 * default (under READ COMMITTED each read would take a snapshot of its own), its snapshot taken at
 * once and read only. The same on MySQL 8, MariaDB 10.11 and Galera (a read-only transaction stays
 * on its node: nothing to certify).
 */
const BEGIN_SNAPSHOT = ['SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY'];

/**
 * Whether a server is a Galera node: `ON` there; `OFF` on MariaDB without Galera; no row on
 * MySQL 8, which has no wsrep variables (a SELECT of `@@wsrep_on` would fail there).
 */
const GALERA_ON = "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'";

/**
 * Run on a Galera node before a causal snapshot begins (SnapshotOptions.causal): a read under
 * `wsrep_sync_wait = 1` (bit 1: reads) waits until the node has applied every writeset the
 * cluster had committed when it was sent, so the snapshot begun next on that connection holds
 * them. For this statement only (SET STATEMENT): the pooled connection's other reads, the request
 * path's, never wait.
 */
const CAUGHT_UP = 'SET STATEMENT wsrep_sync_wait = 1 FOR SELECT 1';

/**
 * Runs `fn` as one transaction on `connection` (opened by the statements `begin`; a session's
 * connection has autocommit off instead, and none): COMMIT when it resolves (unless it committed
 * with commitWith), ROLLBACK when it throws. A connection that cannot even roll back is gone (the
 * server rolls back what it had): `onBroken` is told, so it is never reused.
 */
async function commitOrRollBack<T>(connection: Runner, fn: (tx: Transaction) => Promise<T>, options: { begin: readonly string[]; batches?: boolean; onBroken: () => void }): Promise<T> {
  const tx = transaction(connection, options.batches ?? false);
  try {
    for (const statement of options.begin) await tx.query(statement);
    const result = await fn(tx);
    if (!tx.committed) await tx.query('COMMIT');
    return result;
  } catch (error) {
    if (tx.committed) throw error;
    try {
      await tx.query('ROLLBACK');
    } catch {
      options.onBroken();
    }
    throw error;
  }
}

/**
 * How many times a statement or transaction that lost a conflict (a deadlock, a lock wait
 * timeout, a Galera certification failure: all rolled back whole) is run again before the
 * caller gets STORE_UNAVAILABLE (503, Retry-After 1). Hot rows (a client's rate-limit counter,
 * written by every request of that client on every node) lose often under a burst of one
 * client's requests spread over several Galera nodes: ten runs with a jittered pause that doubles
 * up to 250 ms (about 1.3 s at worst) absorb 100 simultaneous requests over two nodes.
 */
const CONFLICT_ATTEMPTS = 10;

/**
 * No new run starts once this long has passed since the first: a lock wait timeout (1205) takes
 * innodb_lock_wait_timeout (50 s by default) to come back, and a request must not wait ten of them.
 */
const CONFLICT_BUDGET_MS = 5_000;

/** A random pause of up to min(10 ms × 2^attempt, 250 ms), so retrying losers do not collide again in step. */
function conflictPause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(10 * 2 ** attempt, 250)));
}

/**
 * True when the error was raised before anything reached the server: a refused or timed-out
 * connect, or a Galera node that refuses statements because it is not in the primary component
 * (1047). Trying the same work on another host cannot do it twice.
 */
function neverReachedServer(error: unknown): boolean {
  const raw = (error instanceof AppError ? error.cause : error) as { code?: unknown; syscall?: unknown; errno?: unknown } | undefined;
  if (raw === undefined || raw === null) return false;
  if (Number(raw.errno) === 1047) return true;
  return raw.syscall === 'connect' || ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(String(raw.code));
}

/**
 * Runs `work` again while it loses a conflict (it was rolled back whole, so running it again
 * is safe), and after CONFLICT_ATTEMPTS runs (or CONFLICT_BUDGET_MS) answers STORE_UNAVAILABLE with Retry-After: a
 * conflict is never a 500. `work` must have no effect outside the database.
 */
async function retryConflicts<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (attempt >= CONFLICT_ATTEMPTS || Date.now() - started > CONFLICT_BUDGET_MS) {
        // `what` is our own SQL text or 'transaction', never a value.
        log.warn({ what, attempts: attempt, errno: (error as { errno?: number }).errno }, 'database conflict kept losing; answering 503');
        throw conflictGaveUp(error);
      }
      await conflictPause(attempt);
    }
  }
}

/**
 * MySQL 8 / MariaDB 10.11 (or a MariaDB Galera cluster) through mysql2 pools. Everything works
 * on a replicated or managed MySQL shared by several gateway nodes: no GET_LOCK, no temporary
 * tables, no session state kept between calls.
 *
 * Several hosts (`mysql://u:p@db1:3306,db2:3306/gerbang`) are used one at a time, in the order
 * written: work goes to the current host until a connection to it cannot be made (refused,
 * timed out, or a Galera node outside the primary component), then to the next one, and that
 * work is tried there at once (nothing had reached the failed host). Work that was under way on
 * a host that dies is not tried again (it may have committed): its caller gets
 * STORE_UNAVAILABLE, as with one host. Conflicts are run again (see retryConflicts).
 */
export class MysqlDb implements Db {
  readonly dialect = 'mysql' as const;
  readonly description: string;
  private readonly pools: Array<Pool | undefined>;
  private current = 0;
  private readonly sessions = new Set<MysqlSession>();
  /** Whether each host's server is a Galera node, once a causal snapshot asked (isGalera). */
  private readonly galera = new WeakMap<Pool, boolean>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly url: URL,
    private readonly hosts: MysqlHost[] = [],
  ) {
    if (this.hosts.length === 0) this.hosts = [{ host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: url.port ? Number(url.port) : 3306 }];
    this.description = this.hosts.length > 1 ? `mysql://${describeHosts(this.hosts)}${url.pathname}` : `mysql://${url.host}${url.pathname}`;
    this.pools = this.hosts.map(() => undefined);
  }

  query<T = Record<string, unknown>>(sql: string, params: SqlValue[] = [], options: QueryOptions = {}): Promise<T[]> {
    if (options.freshPlan && params.length > 0) return retryConflicts(sql.slice(0, 80), () => this.onSomeHost(async (pool) => (await runFresh(pool, sql, params)) as T[]));
    return retryConflicts(sql.slice(0, 80), () => this.onSomeHost((pool) => queryable(pool).query<T>(sql, params)));
  }

  execute(sql: string, params: SqlValue[] = []): Promise<ExecuteResult> {
    return retryConflicts(sql.slice(0, 80), () => this.onSomeHost((pool) => queryable(pool).execute(sql, params)));
  }

  /** Each statement on its own, as execute() runs it (only a writer session's transaction sends them together). */
  executeAll(statements: readonly SqlStatement[]): Promise<ExecuteResult[]> {
    return oneByOne(statements, (sql, params) => this.execute(sql, params));
  }

  /**
   * One pooled connection for the whole of `fn`; always released (destroyed if it broke). A
   * transaction that loses a conflict is rolled back and `fn` runs again (see retryConflicts),
   * so `fn` must do nothing but database work.
   */
  withTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.onePooledTransaction(BEGIN, fn);
  }

  /**
   * One pooled connection in a read-only snapshot (BEGIN_SNAPSHOT) for the whole of `fn`, as
   * withTransaction's; `causal` on a Galera node, begun once the node caught up (CAUGHT_UP).
   */
  withSnapshot<T>(fn: (q: Queryable) => Promise<T>, options: SnapshotOptions = {}): Promise<T> {
    return this.onePooledTransaction(BEGIN_SNAPSHOT, fn, options.causal === true);
  }

  /** `causal`: CAUGHT_UP first when the host is a Galera node. */
  private onePooledTransaction<T>(begin: readonly string[], fn: (tx: Transaction) => Promise<T>, causal = false): Promise<T> {
    return retryConflicts('transaction', () =>
      this.onSomeHost(async (pool) => {
        const connection = await new Promise<PoolConnection>((resolve, reject) =>
          pool.getConnection((error, pooled) => (error ? reject(mapMysqlError(error)) : resolve(pooled))),
        );
        let broken = false;
        try {
          if (causal && (await this.isGalera(pool, connection))) await run(connection, CAUGHT_UP, []);
          return await commitOrRollBack(connection, fn, { begin, onBroken: () => (broken = true) });
        } finally {
          if (broken) connection.destroy();
          else connection.release();
        }
      }),
    );
  }

  /** Whether the server of `pool` is a Galera node (GALERA_ON), asked on `connection` the first time, then known for the pool's life. */
  private async isGalera(pool: Pool, connection: Runner): Promise<boolean> {
    let galera = this.galera.get(pool);
    if (galera === undefined) {
      const [row] = (await run(connection, GALERA_ON, [])) as Array<{ Value?: string }>;
      galera = row?.Value?.toUpperCase() === 'ON';
      this.galera.set(pool, galera);
    }
    return galera;
  }

  session(): TransactionSession {
    const session = new MysqlSession(this, this.description);
    this.sessions.add(session);
    return session;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1 AS ok');
  }

  /** Ends the pools once every connection is released; calling it again does nothing. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      for (const session of this.sessions) session.close();
      await Promise.all(
        this.pools.map((pool) => (pool ? new Promise<void>((resolve, reject) => pool.end((error) => (error ? reject(mapMysqlError(error)) : resolve()))) : undefined)),
      );
    })();
    await this.closing;
  }

  /**
   * Runs `work` on the current host; when it fails before reaching that host, moves on to the
   * next host and tries there, each host at most once per call.
   */
  async onSomeHost<T>(work: (pool: Pool, options: ConnectionOptions) => Promise<T>): Promise<T> {
    if (this.closing) throw storeClosed();
    let lastError: unknown;
    for (let tried = 0; tried < this.hosts.length; tried++) {
      const index = this.current;
      try {
        return await work(this.pool(index), this.connectionOptions(index));
      } catch (error) {
        if (!neverReachedServer(error)) throw error;
        lastError = error;
        this.hostFailed(index);
      }
    }
    throw lastError;
  }

  /** Options for one connection of its own (outside the pools) to host `index`. */
  private connectionOptions(index: number): ConnectionOptions {
    const { connectionLimit: _limit, waitForConnections: _wait, ...options } = mysqlPoolOptions(this.url, this.hosts[index]);
    return options;
  }

  private pool(index: number): Pool {
    let pool = this.pools[index];
    if (!pool) {
      const created = mysql2().createPool(mysqlPoolOptions(this.url, this.hosts[index]));
      // An idle pooled connection that breaks (server restart, network cut) emits 'error'. mysql2
      // drops it from the pool with a one-shot listener; ours stays, so a second error on the same
      // connection can never go unhandled and crash the process.
      created.on('connection', (connection) => {
        connection.on('error', (error: NodeJS.ErrnoException) => {
          log.warn({ code: error.code, store: this.description }, 'database connection error; the pool replaces it');
        });
        // Queued before the statement the connection was asked for. A connection whose mode could
        // not be set is closed: that statement then fails rather than run without it.
        connection.query(`SET SESSION ${STRICT_SQL_MODE}`, (error) => {
          if (!error) return;
          log.error({ code: error.code, store: this.description }, 'could not make the database session strict (sql_mode); the connection is closed');
          connection.destroy();
        });
      });
      this.pools[index] = pool = created;
    }
    return pool;
  }

  /** Moves on from host `index` (unless another caller already did). */
  private hostFailed(index: number): void {
    if (this.hosts.length === 1 || this.current !== index) return;
    this.current = (index + 1) % this.hosts.length;
    const { host, port } = this.hosts[this.current];
    log.warn({ store: this.description, failed: describeHosts([this.hosts[index]]), next: describeHosts([{ host, port }]) }, 'database host unreachable; using the next host');
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
    private readonly db: MysqlDb,
    private readonly description: string,
  ) {}

  /** Runs `fn` as one transaction; one that loses a conflict is rolled back and run again (see retryConflicts). */
  run<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return retryConflicts('session transaction', async () => {
      const connection = await this.open();
      return commitOrRollBack(connection, fn, { begin: [], batches: true, onBroken: () => this.drop(connection) });
    });
  }

  close(): void {
    this.closed = true;
    if (this.connection) this.drop(this.connection);
  }

  private open(): Promise<Connection> {
    if (this.closed) return Promise.reject(storeClosed());
    if (this.connection) return Promise.resolve(this.connection);
    this.opening ??= this.db.onSomeHost((_pool, options) => this.connect(options)).finally(() => (this.opening = undefined));
    return this.opening;
  }

  private connect(options: ConnectionOptions): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      // Several statements at once, for executeAll: only ever as inlineValues writes them (every
      // value a number, null, or hex digits); any other is prepared.
      const connection = mysql2().createConnection({ ...options, multipleStatements: true });
      connection.on('error', (error: NodeJS.ErrnoException) => {
        log.warn({ code: error.code, store: this.description }, 'database session error; the next write opens a new connection');
        this.drop(connection);
      });
      // The server closed its side (shut down, or a killed node's socket closed by its kernel).
      // Only forgotten here: mysql2 fails a statement in flight when the socket then closes,
      // which it would skip for a connection already destroyed, leaving that statement (and a
      // chain writer waiting on it) without an answer forever.
      connection.on('end', () => this.forget(connection));
      connection.query(`SET SESSION autocommit = 0, ${STRICT_SQL_MODE}`, (error) => {
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
  }

  private drop(connection: Connection): void {
    this.forget(connection);
    connection.destroy();
  }

  /** The next transaction opens a new connection. */
  private forget(connection: Connection): void {
    if (this.connection === connection) this.connection = undefined;
  }
}

function storeClosed(): AppError {
  return new AppError('STORE_UNAVAILABLE', 'The database is unavailable; try again shortly.');
}
