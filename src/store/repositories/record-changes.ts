import { randomBytes } from 'node:crypto';
import type { Queryable, SqlValue } from '../types.js';
import { appendOnOwnChain, inOwnTransaction, type ChainHead, type ChainLanes, type WriterHead, type Written } from './audit-chain.js';
import { digest } from './audit-records.js';
import { byKey, macOfStoredRow, recordMac, type MacedRow, type MacedTable } from './record-macs.js';
import { toNumber, toNumberOrNull, toStringOrNull } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * The history of the rows that decide who may do what (migration 027). A MAC (record-macs.ts)
 * proves a row was written by the gateway once, not that it is the row's latest state: a client
 * restored from a backup taken before it was disabled, or a credential before its secret was
 * rotated, carries an older MAC that still holds, and a deleted row leaves nothing behind. So every
 * change of such a row (insert, update, delete, `keys rotate` re-MACing it) appends, in the same
 * transaction, a row of record_changes naming the table, the row's key and the MAC it now carries
 * (NULL: deleted), under a `record_change` link of the writer's keyed audit chain. `audit verify`
 * holds each row to its latest record whose link holds (record-history.ts, which the gateway checks at use too): another MAC is a row
 * written back, a recorded row that is gone was deleted, a row with no record was not written by
 * the gateway. Migration 027 recorded every row as it then stood (`baseline`), so every row has a
 * record from then on: the baseline is when the coverage began, and it is under the chain's key.
 */

/** Why a record was written. */
export type ChangeKind = 'insert' | 'update' | 'delete' | 'rotate' | 'baseline';

/** The columns of record_changes, in the order every SELECT uses. */
export const RECORD_COLUMNS = 'id, table_name, row_key, change_kind, mac_key_id, mac, recorded_at, row_id';

export interface RecordRow {
  id: number | string;
  table_name: string;
  row_key: string;
  change_kind: string;
  mac_key_id: string | null;
  mac: string | null;
  recorded_at: number | string;
  /**
   * The id the row had (migration 045), for a table whose MAC covers its generated id (a queued
   * callback, MacedTable.generatedId): so an id changed in SQL is named with the one it had. NULL
   * for the other tables and for records written before.
   */
  row_id: number | string | null;
}

/** A row's key as record_changes holds it: the JSON array of its key columns' values as text. */
export function rowKeyOf(table: MacedTable, row: Record<string, unknown>): string {
  return JSON.stringify(table.key.map((c) => String(row[c])));
}

/** What a `record_change` link covers: every field of the record (its row's id only when it names one: a record from before 045 is digested as it was). */
function recordDigest(r: { id: number; table: string; rowKey: string; change: string; macKeyId: string | null; mac: string | null; recordedAt: number; rowId: number | null }): string {
  return digest(['record-change', r.id, r.table, r.rowKey, r.change, r.macKeyId, r.mac, r.recordedAt, ...(r.rowId === null ? [] : [r.rowId])]);
}

export function digestOfRow(row: RecordRow): string {
  return recordDigest({
    id: toNumber(row.id), table: row.table_name, rowKey: row.row_key, change: row.change_kind, macKeyId: toStringOrNull(row.mac_key_id), mac: toStringOrNull(row.mac), recordedAt: toNumber(row.recorded_at),
    rowId: toNumberOrNull(row.row_id ?? null),
  });
}

/**
 * The writes of one transaction to maced rows, each row written with its MAC and its record: the
 * one path by which the gateway inserts, changes, deletes or re-MACs such a row. `written` is what
 * the chain links (ChainLanes.append).
 */
export class RowChanges {
  readonly written: Written[] = [];

  constructor(
    readonly tx: Queryable,
    private readonly sealer: ValueSealer,
    private readonly now: number,
  ) {}

  /**
   * Inserts `row` (every column but the MAC's; a key column left out is the table's
   * AUTO_INCREMENT id) with its MAC, and its record. Returns the insert id. Throws
   * UniqueViolationError when the key exists. A MAC that covers the id the insert gives the row
   * (MacedTable.generatedId) is set right after the insert, in the same transaction: no other
   * transaction sees the row without it.
   */
  async insert(table: MacedTable, row: Record<string, SqlValue>): Promise<number> {
    const generated = table.generatedId !== undefined && !(table.generatedId in row) ? table.generatedId : null;
    const before = generated === null ? this.macOf(table, row) : null;
    const columns = [...Object.keys(row), ...(before === null ? [] : ['mac_key_id', 'mac'])];
    const values = [...Object.values(row), ...(before === null ? [] : [before.keyId, before.mac])];
    const { insertId } = await this.tx.execute(`INSERT INTO ${table.table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, values);
    const mac = before ?? this.macOf(table, { ...row, [generated!]: insertId });
    if (before === null) await this.tx.execute(`UPDATE ${table.table} SET mac_key_id = ?, mac = ? WHERE ${generated!} = ?`, [mac.keyId, mac.mac, insertId]);
    const keyed = table.key.every((c) => c in row) ? row : { ...row, [table.key[0]]: insertId };
    await this.record(table, generated === null ? keyed : { ...keyed, [generated]: insertId }, mac, 'insert');
    return insertId;
  }

  /**
   * Writes `changes` over `current` (a row read with table.columns, whose MAC the caller checked)
   * with the MAC of the row they make, and its record; guarded by the MAC read (and `guard`, a
   * condition of the caller's: a queued callback's lease), so false (nothing written) when another
   * write changed the row meanwhile: read it again and retry.
   */
  async update(table: MacedTable, current: MacedRow, changes: Record<string, SqlValue>, change: 'update' | 'rotate' = 'update', guard?: { sql: string; values: SqlValue[] }): Promise<boolean> {
    return (await this.updateAll(table, [{ current, changes }], change, guard))[0];
  }

  /**
   * update() of several rows: their UPDATEs in one executeAll, then the records of those written
   * in another (a writer session sends each as one round trip), so a page of `keys rotate` costs
   * two round trips, not two a row. Each UPDATE is guarded by its row's MAC as read (and `guard`):
   * per row, false when another write changed it meanwhile (nothing written for it).
   */
  async updateAll(
    table: MacedTable,
    rows: readonly { current: MacedRow; changes: Record<string, SqlValue> }[],
    change: 'update' | 'rotate' = 'update',
    guard?: { sql: string; values: SqlValue[] },
  ): Promise<boolean[]> {
    const writes = rows.map(({ current, changes }) => {
      const mac = this.macOf(table, { ...current, ...changes });
      const at = byKey(table, current);
      const assignments = [...Object.keys(changes), 'mac_key_id', 'mac'].map((c) => `${c} = ?`).join(', ');
      return {
        current,
        mac,
        statement: {
          sql: `UPDATE ${table.table} SET ${assignments} WHERE ${at.sql} AND mac = ?${guard ? ` AND ${guard.sql}` : ''}`,
          params: [...Object.values(changes), mac.keyId, mac.mac, ...at.values, current.mac, ...(guard?.values ?? [])],
        },
      };
    });
    if (writes.length === 0) return [];
    const results = await this.tx.executeAll(writes.map((w) => w.statement));
    const written = results.map((result) => result.affectedRows > 0);
    await this.recordAll(table, writes.filter((_, i) => written[i]).map(({ current, mac }) => ({ row: current, mac })), change);
    return written;
  }

  /** Deletes the rows of `table` that match `where`, each with its record. Returns how many. */
  async delete(table: MacedTable, where: string, values: SqlValue[]): Promise<number> {
    const rows = await this.tx.query<MacedRow>(`SELECT ${[...table.key, ...(table.generatedId === undefined ? [] : [table.generatedId])].join(', ')} FROM ${table.table} WHERE ${where}`, values);
    let deleted = 0;
    for (const row of rows) {
      const at = byKey(table, row);
      if ((await this.tx.execute(`DELETE FROM ${table.table} WHERE ${at.sql}`, at.values)).affectedRows === 0) continue;
      await this.record(table, row, null, 'delete');
      deleted += 1;
    }
    return deleted;
  }

  /** The record of `row` carrying `mac` (null: deleted). */
  async record(table: MacedTable, row: Record<string, unknown>, mac: { keyId: string; mac: string } | null, change: ChangeKind): Promise<void> {
    await this.recordAll(table, [{ row, mac }], change);
  }

  /** record() of several rows, their INSERTs in one executeAll (each its own: its id is its link's). */
  private async recordAll(table: MacedTable, rows: readonly { row: Record<string, unknown>; mac: { keyId: string; mac: string } | null }[], change: ChangeKind): Promise<void> {
    if (rows.length === 0) return;
    // The row's own id, for a table whose MAC covers it (MacedTable.generatedId, migration 045); the column left out for the others (written before 045 too).
    const id = table.generatedId;
    const records = rows.map(({ row, mac }) => ({
      table: table.table, rowKey: rowKeyOf(table, row), change, macKeyId: mac?.keyId ?? null, mac: mac?.mac ?? null, recordedAt: this.now, rowId: id === undefined ? null : toNumberOrNull((row[id] ?? null) as number | null),
    }));
    const results = await this.tx.executeAll(
      records.map((fields) => ({
        sql: `INSERT INTO record_changes (table_name, row_key, change_kind, mac_key_id, mac, recorded_at${id === undefined ? '' : ', row_id'}) VALUES (?, ?, ?, ?, ?, ?${id === undefined ? '' : ', ?'})`,
        params: [fields.table, fields.rowKey, fields.change, fields.macKeyId, fields.mac, fields.recordedAt, ...(id === undefined ? [] : [fields.rowId])],
      })),
    );
    records.forEach((fields, i) => this.written.push({ recordId: results[i].insertId, contentDigest: recordDigest({ id: results[i].insertId, ...fields }) }));
  }

  private macOf(table: MacedTable, row: Record<string, unknown>): { keyId: string; mac: string } {
    return recordMac(this.sealer.keyRing, table.purpose, table.fields(row as MacedRow, this.sealer));
  }
}

/**
 * Runs `body` in a transaction of this process's audit chain: the rows it writes and their
 * records commit with their links, or none of it does. `body` may run twice (a group commit
 * rolled back runs each write again alone), so it reads what it changes inside the transaction.
 * Once committed, a change of who may do what is checkpointed at once (ChainLanes.changeCommitted);
 * `checkpoint: false` for a table whose rows change at every turn (MacedTable.frequent: a queued
 * callback, at every attempt): its group's head file vouches for it as for a payment's events.
 */
export async function changeRows<T>(chain: ChainLanes, sealer: ValueSealer, now: number, body: (rows: RowChanges) => Promise<T>, options: { checkpoint?: boolean } = {}): Promise<T> {
  let result: { value: T } | undefined;
  await chain.append('record_change', async (tx) => {
    const rows = new RowChanges(tx, sealer, now);
    result = { value: await body(rows) };
    return rows.written;
  });
  if (options.checkpoint ?? true) chain.changeCommitted();
  return result!.value;
}

/**
 * Migration 027: a `baseline` record of every row of `tables` that carries a MAC, as it stands,
 * in a chain of the migration's own. A row without a MAC is not recorded (it is named by its MAC
 * check, and as unrecorded). Returns the head of its chain (its seq: the number recorded; null: none).
 */
export async function recordBaseline(q: Queryable, tables: readonly MacedTable[], sealer: ValueSealer): Promise<WriterHead | null> {
  const ring = sealer.keyRing;
  const writerId = `migration-027-${randomBytes(8).toString('hex')}`;
  const head = await appendOnOwnChain(q, ring, writerId, null, 'record_change', async (tx) => {
    const rows = new RowChanges(tx, sealer, Date.now());
    for (const table of tables) {
      for (const row of await tx.query<MacedRow>(`SELECT ${table.columns} FROM ${table.table} WHERE mac IS NOT NULL ORDER BY ${table.key.join(', ')}`)) {
        await rows.record(table, row, { keyId: row.mac_key_id!, mac: row.mac! }, 'baseline');
      }
    }
    return rows.written;
  });
  return head === null ? null : { writerId, ...head };
}

/** Rows keyed a transaction by keyStoredRows on MySQL (each an UPDATE and a record: 1,000 statements). */
const KEYED_PER_TRANSACTION = 500;

/**
 * A migration's step in code for a table whose rows get their MAC and their history together
 * (038, callback_deliveries): every row without a MAC gets one and a `baseline` record, under
 * links of a chain of the migration's own, KEYED_PER_TRANSACTION rows a transaction when `db` is
 * the store (MySQL), all in the migration's transaction when it is one (SQLite). Rows are read
 * upwards by `order` (an indexed unique column of `table.columns`), each UPDATE guarded by `mac IS
 * NULL` and by the row's columns as read: a migration cut short carries on with the rows not yet
 * keyed; two migrators at once key each row once (the second's UPDATE matches nothing, so it
 * records nothing; a Galera conflict runs the batch again); a row another writer changed meanwhile
 * is left without a MAC, to be named, never keyed as it no longer stands. A row whose fields do
 * not open is left without one too. No lock but the rows written. Returns how many were keyed.
 *
 * With `rekey` (045: a queued callback's MAC as it was before it covered the row's id), the rows
 * keyed are instead those carrying a MAC that `rekey.holding` finds hold under the older
 * definition and are their latest state (latestStatesUnder): each is given the MAC `table` gives
 * it and a `rotate` record, its UPDATE guarded by its MAC as read too. A row that does not hold is
 * left as it is, to be named. A row keyed so no longer holds under the older definition: a second
 * run, or one cut short and run again, keys it no more.
 */
export async function keyStoredRows(
  db: Queryable,
  table: MacedTable,
  sealer: ValueSealer,
  order: string,
  migration: string,
  rekey?: { holding: (q: Queryable, rows: readonly MacedRow[]) => Promise<ReadonlySet<MacedRow>> },
): Promise<{ keyed: number; head: WriterHead | null }> {
  const writerId = `migration-${migration}-${randomBytes(8).toString('hex')}`;
  const guarded = table.columns.split(', ').filter((c) => c !== 'mac_key_id' && (rekey !== undefined || c !== 'mac'));
  let head: ChainHead | null = null;
  let after = 0;
  let keyed = 0;
  for (;;) {
    const batch = await inOwnTransaction(db, async (tx) => {
      const rows = await tx.query<MacedRow>(`SELECT ${table.columns} FROM ${table.table} WHERE ${order} > ? AND mac IS ${rekey === undefined ? '' : 'NOT '}NULL ORDER BY ${order} LIMIT ?`, [after, KEYED_PER_TRANSACTION]);
      const recorded = rekey === undefined ? await rowsWithRecords(tx, table, rows) : new Set<string>();
      const holding = rekey === undefined ? null : await rekey.holding(tx, rows);
      let count = 0;
      const next = await appendOnOwnChain(tx, sealer.keyRing, writerId, head, 'record_change', async (q) => {
        count = 0;
        const changes = new RowChanges(q, sealer, Date.now());
        for (const row of rows) {
          // A row with a change record was keyed before: its MAC cleared in SQL (set back, held) is named, never keyed as it stands.
          if (recorded.has(rowKeyOf(table, row))) continue;
          if (holding !== null && !holding.has(row)) continue;
          const mac = macOfStoredRow(table, row, sealer);
          if (mac === null) continue;
          const asRead = guarded.map((c) => (row[c] === null ? `${c} IS NULL` : `${c} = ?`)).join(' AND ');
          const values = guarded.flatMap((c) => (row[c] === null ? [] : [row[c]]));
          if ((await q.execute(`UPDATE ${table.table} SET mac_key_id = ?, mac = ? WHERE ${asRead}${rekey === undefined ? ' AND mac IS NULL' : ''}`, [mac.keyId, mac.mac, ...values])).affectedRows !== 1) continue;
          await changes.record(table, row, mac, rekey === undefined ? 'baseline' : 'rotate');
          count += 1;
        }
        return changes.written;
      });
      return { next, count, last: rows.length === 0 ? null : Number(rows[rows.length - 1][order]) };
    });
    if (batch.last === null) return { keyed, head: head === null ? null : { writerId, ...head } };
    head = batch.next;
    keyed += batch.count;
    after = batch.last;
  }
}

/** The keys (rowKeyOf) of those of `rows` of `table` that have a change record. */
async function rowsWithRecords(q: Queryable, table: MacedTable, rows: readonly MacedRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const keys = rows.map((row) => rowKeyOf(table, row));
  const found = await q.query<{ row_key: string }>(`SELECT DISTINCT row_key FROM record_changes WHERE table_name = ? AND row_key IN (${keys.map(() => '?').join(', ')})`, [table.table, ...keys]);
  return new Set(found.map((r) => r.row_key));
}
