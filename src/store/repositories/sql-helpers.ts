import type { Queryable, SqlValue } from '../types.js';

/**
 * The one place where the two dialects' SQL differs in the repositories: an upsert.
 * `updates` are assignments written with `excluded.<col>` for the new value and the bare column
 * for the old one; MySQL spells the new value `VALUES(<col>)` and evaluates assignments left to
 * right, so callers list assignments whose conditions read old values *before* changing them.
 */
export async function upsert(
  db: Queryable,
  table: string,
  columns: string[],
  values: SqlValue[],
  key: string,
  updates: string,
): Promise<void> {
  const placeholders = columns.map(() => '?').join(', ');
  const insert = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders})`;
  if (db.dialect === 'mysql') {
    await db.execute(`${insert} ON DUPLICATE KEY UPDATE ${updates.replace(/excluded\.(\w+)/g, 'VALUES($1)')}`, values);
  } else {
    await db.execute(`${insert} ON CONFLICT(${key}) DO UPDATE SET ${updates}`, values);
  }
}

/** Decimal string with two fraction digits → integer cents, without floating point. */
export function toMinorUnits(amount: string): number {
  const match = /^(\d+)\.(\d{2})$/.exec(amount);
  if (!match) throw new Error(`amount ${JSON.stringify(amount)} is not a decimal with two fraction digits`);
  return Number(match[1]) * 100 + Number(match[2]);
}

export const num = (value: unknown): number => Number(value);
export const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
export const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
