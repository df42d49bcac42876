import { createHmac } from 'node:crypto';
import { IntegrityError } from '../../errors/index.js';
import { sameSecretText, type KeyRing } from '../../security/index.js';
import type { Queryable, SqlValue } from '../types.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * Rows that decide who may do what (console users, API clients, their credentials, account
 * grants and callback endpoints) carry an HMAC-SHA256 of the fields that decide it, under a key
 * of the ring derived for the table (KeyRing.macKey(purpose)), in two columns `mac_key_id` and
 * `mac` (migrations 024, 025). The database never holds the key, so a row changed, inserted or
 * copied in SQL does not match: it is refused where it is used (IntegrityError) and named by
 * `audit verify`; `keys rotate` re-MACs the rows that hold under an older key. Every change of
 * such a row is recorded with the MAC it then carries (record-changes.ts), so an older copy of the
 * row, whose MAC still holds, is named too.
 */
export type MacedRow = Record<string, string | number | null> & { mac_key_id: string | null; mac: string | null };

/** A table whose rows carry a MAC: what the migration, `keys rotate` and `audit verify` walk. */
export interface MacedTable {
  table: 'console_users' | 'clients' | 'client_credentials' | 'client_account_grants' | 'client_callbacks' | 'callback_deliveries' | 'chain_coverage' | 'reconciliation_seals' | 'transfer_batch_lines';
  /** What its MAC key is derived for (KeyRing.macKey). */
  purpose: string;
  /** Primary key columns: a row is re-MACed by them, guarded by the MAC read. */
  key: readonly string[];
  /**
   * The AUTO_INCREMENT column its MAC covers (a queued callback's id, migration 045), when a row
   * is inserted without it: RowChanges.insert inserts the row, then gives it its MAC once the id is
   * known, in the same transaction. Its change records name the id (record_changes.row_id), and
   * a row whose id is not the one its latest record names is named with both (record-history.ts).
   */
  generatedId?: string;
  /** The columns read (mac_key_id and mac among them). */
  columns: string;
  /** The fields the MAC covers, from a row read with `columns`. May throw IntegrityError (a sealed field that does not open). */
  fields(row: MacedRow, sealer: ValueSealer): readonly unknown[];
  /** The row in words for a message: `clients id gbc_1`. */
  describe(row: MacedRow): string;
  /** What the MAC covers, in words: `its secret hash, allowlists, status or signing`. */
  covers: string;
  /**
   * Its rows change too often for a checkpoint line each (a queued callback, at every attempt):
   * their changes are vouched for by the head file of their group, as payment events are
   * (changeRows' `checkpoint: false`), never by a line of their own.
   */
  frequent?: true;
}

/** The MAC of `fields` under the ring's `purpose` key `keyId` (the newest when omitted). */
export function recordMac(ring: KeyRing, purpose: string, fields: readonly unknown[], keyId?: string): { keyId: string; mac: string } {
  const { keyId: id, key } = ring.macKey(purpose, keyId);
  return { keyId: id, mac: createHmac('sha256', key).update(JSON.stringify(fields)).digest('hex') };
}

/** The problem with a row's MAC in words, or null when it holds. Throws KeyRingError when its key is not configured. */
export function recordMacProblem(table: MacedTable, row: MacedRow, sealer: ValueSealer): string | null {
  const what = table.describe(row);
  if (row.mac === null || row.mac_key_id === null) return `${what} carries no MAC: it was not written by the gateway`;
  let fields: readonly unknown[];
  try {
    fields = table.fields(row, sealer);
  } catch (error) {
    if (error instanceof IntegrityError) return `${what} was altered: ${error.where}`;
    throw error;
  }
  if (!macHolds(sealer.keyRing, table.purpose, fields, { mac_key_id: row.mac_key_id, mac: row.mac })) return `${what} was altered: ${table.covers} no longer match its MAC`;
  return null;
}

/** Whether `stored` is the MAC of `fields` under the ring's `purpose` key it names (compared in constant time). Throws KeyRingError when that key is not configured. */
export function macHolds(ring: KeyRing, purpose: string, fields: readonly unknown[], stored: { mac_key_id: string; mac: string }): boolean {
  return sameSecretText(recordMac(ring, purpose, fields, stored.mac_key_id).mac, stored.mac);
}

/** The row itself when its MAC holds; else IntegrityError naming it (the caller refuses what it decides). */
export function checkedRow<R extends MacedRow>(table: MacedTable, row: R, sealer: ValueSealer): R {
  const problem = recordMacProblem(table, row, sealer);
  if (problem !== null) throw new IntegrityError(problem);
  return row;
}

/** `a = ? AND b = ?` over the table's key, with its values from `row`. */
export function byKey(table: MacedTable, row: MacedRow): { sql: string; values: SqlValue[] } {
  return { sql: table.key.map((c) => `${c} = ?`).join(' AND '), values: table.key.map((c) => row[c]) };
}

/** The MAC a migration gives `row` as it stands (the newest key's), or null when its fields do not open: it is then left without one, never blessed. */
export function macOfStoredRow(table: MacedTable, row: MacedRow, sealer: ValueSealer): { keyId: string; mac: string } | null {
  let fields: readonly unknown[];
  try {
    fields = table.fields(row, sealer);
  } catch (error) {
    if (error instanceof IntegrityError) return null;
    throw error;
  }
  return recordMac(sealer.keyRing, table.purpose, fields);
}

/**
 * A migration's step in code: every row of `table` without a MAC gets one, so the rows as they
 * stand at the upgrade are the ones later checked. A row whose fields do not open (a sealed value
 * altered before the upgrade) is left without one: it is refused and named, never blessed.
 */
export async function signUnsignedRows(db: Queryable, table: MacedTable, sealer: ValueSealer): Promise<number> {
  const rows = await db.query<MacedRow>(`SELECT ${table.columns} FROM ${table.table} WHERE mac IS NULL`);
  let signed = 0;
  for (const row of rows) {
    const made = macOfStoredRow(table, row, sealer);
    if (made === null) continue;
    const { keyId, mac } = made;
    const at = byKey(table, row);
    signed += (await db.execute(`UPDATE ${table.table} SET mac_key_id = ?, mac = ? WHERE ${at.sql} AND mac IS NULL`, [keyId, mac, ...at.values])).affectedRows;
  }
  return signed;
}

/**
 * Keyset pagination on a key of one or two columns, after the key values `after` (null: from the
 * start): `a > ?`, or `(a > ? OR (a = ? AND b > ?))`, with its values; '' with none for null.
 */
export function afterKey(key: readonly string[], after: readonly SqlValue[] | null): { sql: string; values: SqlValue[] } {
  const [first, second] = key;
  if (after === null) return { sql: '', values: [] };
  if (second === undefined) return { sql: `${first} > ?`, values: [after[0]] };
  return { sql: `(${first} > ? OR (${first} = ? AND ${second} > ?))`, values: [after[0], after[0], after[1]] };
}

/**
 * `keys rotate`: the rows of `table` whose MAC holds under an older ring key, to be re-MACed under
 * the newest. A row that does not hold, or whose key is gone, is left out: `audit verify` names it.
 * With `page`: of the next `page.limit` rows under an older key after the key `page.after` (null:
 * from the start), in key order, and `next`, the key to read on from (null: none left), so a large
 * table (the outbox of queued callbacks) is never held whole.
 */
export async function rowsUnderOlderKeys(
  db: Queryable,
  table: MacedTable,
  sealer: ValueSealer,
  page?: { after: readonly SqlValue[] | null; limit: number },
): Promise<{ rows: MacedRow[]; next: SqlValue[] | null }> {
  const ring = sealer.keyRing;
  const position = afterKey(table.key, page?.after ?? null);
  const rows = await db.query<MacedRow>(
    `SELECT ${table.columns} FROM ${table.table} WHERE mac_key_id <> ?${position.sql === '' ? '' : ` AND ${position.sql}`}${page ? ` ORDER BY ${table.key.join(', ')} LIMIT ?` : ''}`,
    [ring.currentKeyId, ...position.values, ...(page ? [page.limit] : [])],
  );
  const last = rows.at(-1);
  return {
    rows: rows.filter((row) => row.mac_key_id !== null && ring.keyIds.includes(row.mac_key_id) && recordMacProblem(table, row, sealer) === null),
    next: page && last && rows.length === page.limit ? table.key.map((c) => last[c]) : null,
  };
}
