import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../../security/index.js';
import type { Dialect, Queryable, SqlValue } from '../types.js';
import { appendOnNewChain, linkHolds, STORED_LINK_COLUMNS, type ChainLanes, type StoredLink, type Written } from './audit-chain.js';
import { digest } from './audit-records.js';
import { IntegrityError } from '../../errors/index.js';
import { byKey, recordMac, recordMacProblem, type MacedRow, type MacedTable } from './record-macs.js';
import { toNumber, toStringOrNull } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * The history of the rows that decide who may do what (migration 027). A MAC (record-macs.ts)
 * proves a row was written by the gateway once, not that it is the row's latest state: a client
 * restored from a backup taken before it was disabled, or a credential before its secret was
 * rotated, carries an older MAC that still holds, and a deleted row leaves nothing behind. So every
 * change of such a row (insert, update, delete, `keys rotate` re-MACing it) appends, in the same
 * transaction, a row of record_changes naming the table, the row's key and the MAC it now carries
 * (NULL: deleted), under a `record_change` link of the writer's keyed audit chain. `audit verify`
 * holds each row to its latest record whose link holds (rowHistoryProblems): another MAC is a row
 * written back, a recorded row that is gone was deleted, a row with no record was not written by
 * the gateway. Migration 027 recorded every row as it then stood (`baseline`), so every row has a
 * record from then on: the baseline is when the coverage began, and it is under the chain's key.
 */

/** Why a record was written. */
export type ChangeKind = 'insert' | 'update' | 'delete' | 'rotate' | 'baseline';

/** The columns of record_changes, in the order every SELECT uses. */
const RECORD_COLUMNS = 'id, table_name, row_key, change_kind, mac_key_id, mac, recorded_at';

interface RecordRow {
  id: number | string;
  table_name: string;
  row_key: string;
  change_kind: string;
  mac_key_id: string | null;
  mac: string | null;
  recorded_at: number | string;
}

/** A row's key as record_changes holds it: the JSON array of its key columns' values as text. */
function rowKeyOf(table: MacedTable, row: Record<string, unknown>): string {
  return JSON.stringify(table.key.map((c) => String(row[c])));
}

/** What a `record_change` link covers: every field of the record. */
function recordDigest(r: { id: number; table: string; rowKey: string; change: string; macKeyId: string | null; mac: string | null; recordedAt: number }): string {
  return digest(['record-change', r.id, r.table, r.rowKey, r.change, r.macKeyId, r.mac, r.recordedAt]);
}

function digestOfRow(row: RecordRow): string {
  return recordDigest({ id: toNumber(row.id), table: row.table_name, rowKey: row.row_key, change: row.change_kind, macKeyId: toStringOrNull(row.mac_key_id), mac: toStringOrNull(row.mac), recordedAt: toNumber(row.recorded_at) });
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
   * UniqueViolationError when the key exists.
   */
  async insert(table: MacedTable, row: Record<string, SqlValue>): Promise<number> {
    const mac = this.macOf(table, row);
    const columns = [...Object.keys(row), 'mac_key_id', 'mac'];
    const { insertId } = await this.tx.execute(`INSERT INTO ${table.table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, [...Object.values(row), mac.keyId, mac.mac]);
    const keyed = table.key.every((c) => c in row) ? row : { ...row, [table.key[0]]: insertId };
    await this.record(table, keyed, mac, 'insert');
    return insertId;
  }

  /**
   * Writes `changes` over `current` (a row read with table.columns, whose MAC the caller checked)
   * with the MAC of the row they make, and its record; guarded by the MAC read, so false (nothing
   * written) when another write changed the row meanwhile: read it again and retry.
   */
  async update(table: MacedTable, current: MacedRow, changes: Record<string, SqlValue>, change: 'update' | 'rotate' = 'update'): Promise<boolean> {
    const mac = this.macOf(table, { ...current, ...changes });
    const at = byKey(table, current);
    const assignments = [...Object.keys(changes), 'mac_key_id', 'mac'].map((c) => `${c} = ?`).join(', ');
    const result = await this.tx.execute(`UPDATE ${table.table} SET ${assignments} WHERE ${at.sql} AND mac = ?`, [...Object.values(changes), mac.keyId, mac.mac, ...at.values, current.mac]);
    if (result.affectedRows === 0) return false;
    await this.record(table, current, mac, change);
    return true;
  }

  /** Deletes the rows of `table` that match `where`, each with its record. Returns how many. */
  async delete(table: MacedTable, where: string, values: SqlValue[]): Promise<number> {
    const rows = await this.tx.query<MacedRow>(`SELECT ${table.key.join(', ')} FROM ${table.table} WHERE ${where}`, values);
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
    const fields = { table: table.table, rowKey: rowKeyOf(table, row), change, macKeyId: mac?.keyId ?? null, mac: mac?.mac ?? null, recordedAt: this.now };
    const { insertId } = await this.tx.execute('INSERT INTO record_changes (table_name, row_key, change_kind, mac_key_id, mac, recorded_at) VALUES (?, ?, ?, ?, ?, ?)', [
      fields.table, fields.rowKey, fields.change, fields.macKeyId, fields.mac, fields.recordedAt,
    ]);
    this.written.push({ recordId: insertId, contentDigest: recordDigest({ id: insertId, ...fields }) });
  }

  private macOf(table: MacedTable, row: Record<string, unknown>): { keyId: string; mac: string } {
    return recordMac(this.sealer.keyRing, table.purpose, table.fields(row as MacedRow, this.sealer));
  }
}

/**
 * Runs `body` in a transaction of this process's audit chain: the rows it writes and their
 * records commit with their links, or none of it does. `body` may run twice (a group commit
 * rolled back runs each write again alone), so it reads what it changes inside the transaction.
 */
export async function changeRows<T>(chain: ChainLanes, sealer: ValueSealer, now: number, body: (rows: RowChanges) => Promise<T>): Promise<T> {
  let result: { value: T } | undefined;
  await chain.append('record_change', async (tx) => {
    const rows = new RowChanges(tx, sealer, now);
    result = { value: await body(rows) };
    return rows.written;
  });
  return result!.value;
}

/**
 * Migration 027: a `baseline` record of every row of `tables` that carries a MAC, as it stands,
 * in a chain of the migration's own. A row without a MAC is not recorded (it is named by its MAC
 * check, and as unrecorded). Returns the number recorded.
 */
export async function recordBaseline(q: Queryable, tables: readonly MacedTable[], sealer: ValueSealer): Promise<number> {
  const ring = sealer.keyRing;
  return appendOnNewChain(q, ring, `migration-027-${randomBytes(8).toString('hex')}`, 'record_change', async (tx) => {
    const rows = new RowChanges(tx, sealer, Date.now());
    for (const table of tables) {
      for (const row of await tx.query<MacedRow>(`SELECT ${table.columns} FROM ${table.table} WHERE mac IS NOT NULL ORDER BY ${table.key.join(', ')}`)) {
        await rows.record(table, row, { keyId: row.mac_key_id!, mac: row.mac! }, 'baseline');
      }
    }
    return rows.written;
  });
}

/** Records (and their links) read per statement by the verification. */
const PAGE = 500;

/**
 * `audit verify`: every row of `table` against its latest record whose own link holds (a record
 * with no link or a forged one is the chain walk's and the unchained check's to name, never the
 * row's truth). `altered`: a row carrying another MAC than its latest record's (an older copy
 * written back), one whose latest record says it was deleted, one with no record (inserted in
 * SQL), and the row's own MAC problem; `deleted`: a recorded row that is gone.
 */
export async function rowHistoryProblems(db: Queryable, table: MacedTable, sealer: ValueSealer): Promise<{ altered: string[]; deleted: string[] }> {
  const latest = await latestTrustedRecords(db, table, sealer.keyRing);
  const altered: string[] = [];
  const rows = await db.query<MacedRow>(`SELECT ${table.columns} FROM ${table.table} ORDER BY ${table.key.join(', ')}`);
  const present = new Set<string>();
  for (const row of rows) {
    const key = rowKeyOf(table, row);
    present.add(key);
    const problem = recordMacProblem(table, row, sealer) ?? historyProblem(table, row, latest.get(key), true);
    if (problem !== null) altered.push(problem);
  }
  const deleted: string[] = [];
  for (const [key, last] of latest) {
    if (last.mac === null || present.has(key)) continue;
    deleted.push(`${table.table} ${key} was deleted: its latest change record (record_changes id ${toNumber(last.id)}, ${last.change_kind}) says it exists`);
  }
  return { altered, deleted };
}

/**
 * For a list of `rows` of `table` (a console page): how each differs from its latest change record
 * whose link holds (null: it is its latest state). Its MAC is the caller's to check.
 */
export async function historyProblemsOf(q: Queryable, table: MacedTable, rows: readonly MacedRow[], ring: KeyRing): Promise<(string | null)[]> {
  const latest = await latestTrustedRecords(q, table, ring);
  return rows.map((row) => historyProblem(table, row, latest.get(rowKeyOf(table, row)), true));
}

/**
 * How `row` differs from its latest change record `last` (undefined: it has none; `linkHolds`:
 * that record's own link holds), or null when it carries the MAC that record says.
 */
function historyProblem(table: MacedTable, row: MacedRow, last: RecordRow | undefined, linkHolds: boolean): string | null {
  const what = table.describe(row);
  if (last === undefined) return `${what} has no change record: it was not written by the gateway (inserted in SQL)`;
  const id = toNumber(last.id);
  if (!linkHolds) return `${what} has a latest change record (record_changes id ${id}) that is not the gateway's: its chain link is missing or does not match it`;
  if (last.mac === null) return `${what} was deleted by the gateway (record_changes id ${id}) and is back: restored in SQL`;
  if (last.mac !== row.mac || last.mac_key_id !== row.mac_key_id) {
    return `${what} is not its latest state: it carries another MAC than its latest change record (record_changes id ${id}, ${last.change_kind}), an older copy of the row was written back`;
  }
  return null;
}

/** Columns withLatestRecord adds to a SELECT: the record's as `rc_…`, its link's as `rl_…`. */
export type LatestRecordColumns = { [K in keyof RecordRow as `rc_${K}`]: RecordRow[K] | null } & { [K in keyof StoredLink as `rl_${K}`]: StoredLink[K] | null };

const LATEST_COLUMNS = [...RECORD_COLUMNS.split(', ').map((c) => `r.${c} AS rc_${c}`), ...STORED_LINK_COLUMNS.split(', ').map((c) => `l.${c} AS rl_${c}`)].join(', ');

/**
 * What to add to the SELECT of one row of `table` (as `alias`) to read its latest change record and
 * that record's link in the same statement: `columns` for the select list (the row's, as `alias`,
 * and `recordColumns`), `join` after the FROM, `params` bound before the WHERE's. The row is named
 * by its key values, or, for a one-column key not known before the statement (a console user found
 * by name, a queued callback's endpoint), by that column: its text must need no JSON escape, else
 * no record is found and the row is refused.
 */
export function withLatestRecord(
  table: MacedTable,
  alias: string,
  key: readonly SqlValue[] | { dialect: Dialect; column: string },
): { columns: string; recordColumns: string; join: string; params: SqlValue[] } {
  const byColumn = !Array.isArray(key) ? (key as { dialect: Dialect; column: string }) : null;
  const rowKey = byColumn === null ? '?' : byColumn.dialect === 'mysql' ? `CONCAT('["', ${byColumn.column}, '"]')` : `('["' || ${byColumn.column} || '"]')`;
  return {
    columns: `${table.columns.split(', ').map((c) => `${alias}.${c}`).join(', ')}, ${LATEST_COLUMNS}`,
    recordColumns: LATEST_COLUMNS,
    join:
      `LEFT JOIN record_changes r ON r.id = (SELECT MAX(x.id) FROM record_changes x WHERE x.table_name = '${table.table}' AND x.row_key = ${rowKey}) ` +
      "LEFT JOIN audit_chain l ON l.kind = 'record_change' AND l.record_id = r.id",
    params: byColumn === null ? [JSON.stringify((key as readonly SqlValue[]).map(String))] : [],
  };
}

/** The latest change record of `row` and its link, in one statement (for a row read without withLatestRecord). */
export async function latestRecordOf(q: Queryable, table: MacedTable, row: MacedRow): Promise<LatestRecordColumns> {
  const { join, params } = withLatestRecord(table, 'd', table.key.map((c) => row[c]));
  const [found] = await q.query<LatestRecordColumns>(`SELECT ${LATEST_COLUMNS} FROM (SELECT 1 AS one) d ${join}`, params);
  return found;
}

/**
 * The problem of `row` (read with its latest record, withLatestRecord or latestRecordOf) in words:
 * its MAC does not hold, or it is not its latest state as its change records say (written back
 * from an older copy, restored after its deletion, inserted in SQL); null when it holds.
 */
export function currentRowProblem(table: MacedTable, row: MacedRow, latest: LatestRecordColumns, sealer: ValueSealer): string | null {
  const macProblem = recordMacProblem(table, row, sealer);
  if (macProblem !== null) return macProblem;
  const record: RecordRow | undefined =
    latest.rc_id === null
      ? undefined
      : { id: latest.rc_id, table_name: latest.rc_table_name!, row_key: latest.rc_row_key!, change_kind: latest.rc_change_kind!, mac_key_id: latest.rc_mac_key_id, mac: latest.rc_mac, recorded_at: latest.rc_recorded_at! };
  const link: StoredLink | undefined =
    latest.rl_hash === null
      ? undefined
      : { writer_id: latest.rl_writer_id!, seq: latest.rl_seq!, record_id: latest.rl_record_id!, recorded_at: latest.rl_recorded_at!, prev_hash: latest.rl_prev_hash!, hash: latest.rl_hash, key_id: latest.rl_key_id };
  const holds = record !== undefined && linkHolds(sealer.keyRing, 'record_change', toNumber(record.id), digestOfRow(record), link);
  return historyProblem(table, row, record, holds);
}

/**
 * `row` itself when currentRowProblem finds nothing; else IntegrityError naming it: such a row is
 * refused where it is used, and never changed (which would record it as the gateway's).
 */
export function checkedCurrent<R extends MacedRow>(table: MacedTable, row: R, latest: LatestRecordColumns, sealer: ValueSealer): R {
  const problem = currentRowProblem(table, row, latest, sealer);
  if (problem !== null) throw new IntegrityError(problem);
  return row;
}

/** The latest record of each row of `table` whose own link holds, by row key. */
async function latestTrustedRecords(db: Queryable, table: MacedTable, ring: KeyRing): Promise<Map<string, RecordRow>> {
  const latest = new Map<string, RecordRow>();
  let after = 0;
  for (;;) {
    const records = await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM record_changes WHERE table_name = ? AND id > ? ORDER BY id LIMIT ?`, [table.table, after, PAGE]);
    if (records.length === 0) return latest;
    const ids = records.map((r) => toNumber(r.id));
    const links = await db.query<StoredLink>(`SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE kind = 'record_change' AND record_id IN (${ids.map(() => '?').join(', ')})`, ids);
    const linkOf = new Map(links.map((link) => [toNumber(link.record_id), link]));
    for (const record of records) {
      if (linkHolds(ring, 'record_change', toNumber(record.id), digestOfRow(record), linkOf.get(toNumber(record.id)))) latest.set(record.row_key, record);
    }
    after = ids[ids.length - 1];
  }
}

/** The content digest of each record_changes row of `ids` (the chain walk's), keyed by id. */
export async function recordChangeDigests(db: Queryable, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM record_changes WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
  return new Map(rows.map((row) => [toNumber(row.id), digestOfRow(row)]));
}

/**
 * `keys rotate`: every row whose MAC holds under an older ring key gets the newest key's MAC, and
 * its record, guarded by the MAC read (a write of the gateway meanwhile wins). A row that does not
 * hold, or is not its latest state, is left as it is, for `audit verify` to name. Returns the number re-MACed.
 */
export async function resignRows(db: Queryable, chain: ChainLanes, table: MacedTable, sealer: ValueSealer): Promise<number> {
  const ring = sealer.keyRing;
  const rows = await db.query<MacedRow>(`SELECT ${table.columns} FROM ${table.table} WHERE mac_key_id <> ?`, [ring.currentKeyId]);
  let resigned = 0;
  for (const row of rows) {
    if (row.mac_key_id === null || !ring.keyIds.includes(row.mac_key_id) || recordMacProblem(table, row, sealer) !== null) continue;
    const rotated = await changeRows(chain, sealer, Date.now(), async (changes) => {
      // Never re-MACed (recorded as the gateway's) when it is not its latest state: left for verify to name.
      if (currentRowProblem(table, row, await latestRecordOf(changes.tx, table, row), sealer) !== null) return false;
      return changes.update(table, row, {}, 'rotate');
    });
    if (rotated) resigned += 1;
  }
  return resigned;
}

