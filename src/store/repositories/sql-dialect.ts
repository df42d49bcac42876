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
