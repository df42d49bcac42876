import type { Dialect, SqlValue } from '../types.js';

export interface UpsertSpec {
  table: string;
  /** Columns of the INSERT, bound in this order to the first placeholders. */
  insert: string[];
  /** The unique key whose conflict turns the INSERT into the UPDATE (SQLite needs it named). */
  conflict: string[];
  /**
   * `column = expression` assignments for the UPDATE branch, bound after the INSERT values.
   * Expressions must only read the row's OLD values: SQLite evaluates every assignment against
   * the old row, MySQL left to right with the already-updated values, so an expression that
   * reads a column assigned before it would mean different things on the two backends.
   */
  update: [column: string, expression: string][];
}

/**
 * The one place the upsert syntax differs: MySQL/MariaDB `INSERT … ON DUPLICATE KEY UPDATE`,
 * SQLite `INSERT … ON CONFLICT(key) DO UPDATE SET`. Table and column names come from code,
 * never from input; values are always `?` placeholders.
 */
export function upsertSql(dialect: Dialect, spec: UpsertSpec): string {
  const insert = `INSERT INTO ${spec.table} (${spec.insert.join(', ')}) VALUES (${spec.insert.map(() => '?').join(', ')})`;
  const assignments = spec.update.map(([column, expression]) => `${column} = ${expression}`).join(', ');
  return dialect === 'mysql'
    ? `${insert} ON DUPLICATE KEY UPDATE ${assignments}`
    : `${insert} ON CONFLICT (${spec.conflict.join(', ')}) DO UPDATE SET ${assignments}`;
}

/**
 * A WHERE clause of the filters that are set: `[condition with one ?, value]` pairs, a pair with
 * an undefined value left out. Conditions come from code, values only through placeholders.
 */
export function whereOf(filters: [condition: string, value: SqlValue | undefined][]): { where: string[]; params: SqlValue[]; sql: string } {
  const set = filters.filter(([, value]) => value !== undefined) as [string, SqlValue][];
  const where = set.map(([condition]) => condition);
  return { where, params: set.map(([, value]) => value), sql: where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '' };
}

/**
 * The auto-increment id (rowid) the connection's last INSERT gave, for the statement right after
 * that INSERT: MySQL's LAST_INSERT_ID() (the row's own id, however a Galera node interleaves
 * them), SQLite's last_insert_rowid(). Both are the insertId that INSERT answered.
 */
export function lastInsertIdSql(dialect: Dialect): string {
  return dialect === 'mysql' ? 'LAST_INSERT_ID()' : 'last_insert_rowid()';
}

/**
 * The rows the statement right before changed, as its affectedRows says (an UPDATE's matched
 * rows: mysql2 sets CLIENT_FOUND_ROWS, and SQLite counts every row it matched): MySQL's
 * ROW_COUNT(), SQLite's changes().
 */
export function rowCountSql(dialect: Dialect): string {
  return dialect === 'mysql' ? 'ROW_COUNT()' : 'changes()';
}

/**
 * An INSERT of one row into `table`, of `values` (SQL expressions, `?` for values), skipped (0
 * rows, no error, the rest of the transaction standing) when the unique key `key` holds those
 * values already. SQLite: `ON CONFLICT (key) DO NOTHING`, which skips that key's conflict only.
 * MySQL has no such clause: `INSERT IGNORE`, which also turns other errors of the row (a value too
 * long) into warnings, so a caller must check the warnings of a row it inserted
 * (ExecuteResult.warnings). Always a VALUES insert: on InnoDB a "simple insert", which takes no
 * table lock for its auto-increment id under innodb_autoinc_lock_mode 1 (MariaDB's default), where
 * an INSERT … SELECT holds the table's auto-increment lock for its whole statement, also while it
 * waits on a row lock, and every other INSERT into the table fails meanwhile (1467). An insert made
 * only when a condition holds therefore puts that condition into a value of its key
 * (`CASE WHEN … THEN … ELSE <a key the table holds> END`), so that IGNORE skips it otherwise.
 */
export function insertUnlessTaken(dialect: Dialect, spec: { table: string; columns: readonly string[]; values: readonly string[]; key: readonly string[] }): string {
  const rows = `VALUES (${spec.values.join(', ')})`;
  return dialect === 'mysql'
    ? `INSERT IGNORE INTO ${spec.table} (${spec.columns.join(', ')}) ${rows}`
    : `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) ${rows} ON CONFLICT (${spec.key.join(', ')}) DO NOTHING`;
}
