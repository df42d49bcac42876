import { IntegrityError } from '../../errors/index.js';
import { KeyRingError, type KeyRing } from '../../security/index.js';
import type { Dialect, Queryable, SqlValue } from '../types.js';
import { isLink, linkHolds, STORED_LINK_COLUMNS, type StoredLink } from './audit-chain.js';
import { digestOfRow, RECORD_COLUMNS, rowKeyOf, type ChangeKind, type RecordRow } from './record-changes.js';
import { afterKey, recordMacProblem, type MacedRow, type MacedTable } from './record-macs.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * Each row that decides who may do what against its change records (record-changes.ts): by
 * `audit verify` over every row (rowHistoryProblems), and by the gateway where it reads one
 * (withLatestRecord in the same statement, then checkedCurrent): a row is its latest state when it
 * carries the MAC of its latest change record whose own link holds.
 */

/** Records (and their links) read per statement by the verification. */
const PAGE = 500;

/**
 * `audit verify`: every row of `table` against its latest record whose own link holds (a record
 * with no link or a forged one is the chain walk's and the unchained check's to name, never the
 * row's truth). `altered`: a row carrying another MAC than its latest record's (an older copy
 * written back), one whose latest record says it was deleted, one with no record (inserted in
 * SQL), and the row's own MAC problem; `deleted`: a recorded row that is gone. Rows are read a
 * page at a time in key order, each page with the records of its keys, then the recorded keys a
 * page at a time with whether their rows are there: memory stays bounded by the page whatever
 * the table's size (the outbox of queued callbacks grows with every transfer). Run it in one
 * transaction (one snapshot), so a row the gateway changes meanwhile is not mistaken for one
 * written back.
 */
export async function rowHistoryProblems(db: Queryable, table: MacedTable, sealer: ValueSealer): Promise<{ altered: string[]; deleted: string[] }> {
  const altered: string[] = [];
  let after: SqlValue[] | null = null;
  do {
    const position = afterKey(table.key, after);
    const rows = await db.query<MacedRow>(`SELECT ${table.columns} FROM ${table.table}${position.sql === '' ? '' : ` WHERE ${position.sql}`} ORDER BY ${table.key.join(', ')} LIMIT ?`, [...position.values, PAGE]);
    const last = rows.at(-1);
    after = last && rows.length === PAGE ? table.key.map((c) => last[c]) : null;
    const latest = await latestTrustedRecords(db, table, sealer.keyRing, rows.map((row) => rowKeyOf(table, row)));
    for (const row of rows) {
      const last = latest.get(rowKeyOf(table, row));
      const problem = idChangedProblem(table, row, last) ?? recordMacProblem(table, row, sealer) ?? historyProblem(table, row, last, true);
      if (problem !== null) altered.push(problem);
    }
  } while (after !== null);
  const deleted: string[] = [];
  let afterRowKey = '';
  for (;;) {
    const keys = (await db.query<{ row_key: string }>('SELECT DISTINCT row_key FROM record_changes WHERE table_name = ? AND row_key > ? ORDER BY row_key LIMIT ?', [table.table, afterRowKey, PAGE])).map((r) => r.row_key);
    if (keys.length === 0) break;
    const latest = await latestTrustedRecords(db, table, sealer.keyRing, keys);
    const present = await presentRows(db, table, keys);
    for (const key of keys) {
      const last = latest.get(key);
      if (last === undefined || present.has(key)) continue;
      const problem = goneRowProblem(table, key, last);
      if (problem !== null) (typeof last === 'string' ? altered : deleted).push(problem);
    }
    if (keys.length < PAGE) break;
    afterRowKey = keys[keys.length - 1];
  }
  return { altered, deleted };
}

/** Which of the row keys `keys` (rowKeyOf) name a row of `table` that is there. */
async function presentRows(db: Queryable, table: MacedTable, keys: readonly string[]): Promise<Set<string>> {
  // A row key is the JSON array of its key columns' values as text (rowKeyOf); one that is not is no row's.
  const values = keys.flatMap((key) => {
    try {
      const parsed = JSON.parse(key) as unknown;
      return Array.isArray(parsed) && parsed.length === table.key.length && parsed.every((v) => typeof v === 'string') ? [parsed as string[]] : [];
    } catch {
      return [];
    }
  });
  if (values.length === 0) return new Set();
  const one = `(${table.key.map((c) => `${c} = ?`).join(' AND ')})`;
  const found = await db.query<MacedRow>(`SELECT ${table.key.join(', ')} FROM ${table.table} WHERE ${values.map(() => one).join(' OR ')}`, values.flat());
  return new Set(found.map((row) => rowKeyOf(table, row)));
}

/** For a row of `table` that is not there (`key`: its row key) whose latest record whose link holds is `last`: why that is wrong, or null (the gateway deleted it). */
function goneRowProblem(table: MacedTable, key: string, last: RecordRow | Unverifiable): string | null {
  if (typeof last === 'string') return `${table.table} ${key} cannot be checked: ${last}`;
  if (last.mac === null) return null;
  return `${table.table} ${key} was deleted: its latest change record (record_changes id ${toNumber(last.id)}, ${last.change_kind}) says it exists`;
}

/**
 * One row of `table`, `row` as read (undefined: not there) by its key values `key`, judged as
 * `audit verify` judges it (rowHistoryProblems): against its latest change record whose own link
 * holds, a record inserted in SQL (no link, or a forged one) never being its truth. The problem in
 * words, or null when it holds (or, not there, was never recorded or was deleted by the gateway).
 * For a decision an operator asks for (requeueing a delivery), where a record added in SQL must
 * not make a genuine row look forged; the gateway's own reads refuse a row whose latest record is
 * not linked instead (withLatestRecord, fail closed).
 */
export async function verifiedRowProblem(q: Queryable, table: MacedTable, key: readonly SqlValue[], row: MacedRow | undefined, sealer: ValueSealer): Promise<string | null> {
  const rowKey = JSON.stringify(key.map(String));
  const last = await latestTrustedRecordOf(q, table, rowKey, sealer.keyRing);
  if (row !== undefined) return idChangedProblem(table, row, last) ?? macProblemOrMissingKey(table, row, sealer) ?? historyProblem(table, row, last, true);
  return last === undefined ? null : goneRowProblem(table, rowKey, last);
}

/** The latest record of the row of `table` keyed `rowKey` whose own link holds (newest first, a page at a time), as latestTrustedRecords reads it for every row. */
async function latestTrustedRecordOf(q: Queryable, table: MacedTable, rowKey: string, ring: KeyRing): Promise<RecordRow | Unverifiable | undefined> {
  let before = Number.MAX_SAFE_INTEGER;
  for (;;) {
    const records = await q.query<RecordRow>(`SELECT ${recordColumnsOf(table)} FROM record_changes WHERE table_name = ? AND row_key = ? AND id < ? ORDER BY id DESC LIMIT ?`, [table.table, rowKey, before, PAGE]);
    if (records.length === 0) return undefined;
    const found = (await trustedRecords(q, records, ring)).find(([, proves]) => proves !== null);
    if (found) return found[1]!;
    before = toNumber(records[records.length - 1].id);
  }
}

/**
 * How many change records of kind `kind` the row of `table` keyed `key` has whose own link holds
 * (or is under a key no longer configured: counted, fail closed), over its whole history, a row
 * deleted and queued again included. For a decision that must not rest on what an attacker may
 * have deleted elsewhere (the attempts of a queued callback recorded, against their audit records).
 */
export async function trustedChangesOf(q: Queryable, table: MacedTable, key: readonly SqlValue[], kind: ChangeKind, ring: KeyRing): Promise<number> {
  let counted = 0;
  for (let after = 0; ; ) {
    const records = await q.query<RecordRow>(`SELECT ${recordColumnsOf(table)} FROM record_changes WHERE table_name = ? AND row_key = ? AND change_kind = ? AND id > ? ORDER BY id LIMIT ?`, [table.table, JSON.stringify(key.map(String)), kind, after, PAGE]);
    counted += records.length === 0 ? 0 : (await trustedRecords(q, records, ring)).filter(([, proves]) => proves !== null).length;
    if (records.length < PAGE) return counted;
    after = toNumber(records[records.length - 1].id);
  }
}

/**
 * For a list of `rows` of `table` (a console page shows every row as it is): the problem of each
 * in words, null when it holds: its MAC does not hold or its key is not configured, or it is not
 * its latest state as its latest change record whose link holds says.
 */
export async function listedRowProblems(q: Queryable, table: MacedTable, rows: readonly MacedRow[], sealer: ValueSealer): Promise<(string | null)[]> {
  const latest = await latestTrustedRecords(q, table, sealer.keyRing, rows.map((row) => rowKeyOf(table, row)));
  return rows.map((row) => {
    const last = latest.get(rowKeyOf(table, row));
    return idChangedProblem(table, row, last) ?? macProblemOrMissingKey(table, row, sealer) ?? historyProblem(table, row, last, true);
  });
}

/** recordMacProblem, with a key not configured named as the row's problem rather than thrown. */
function macProblemOrMissingKey(table: MacedTable, row: MacedRow, sealer: ValueSealer): string | null {
  try {
    return recordMacProblem(table, row, sealer);
  } catch (error) {
    if (error instanceof KeyRingError && error.reason === 'unknown-key') return `${table.describe(row)} cannot be checked: ${error.message}`;
    throw error;
  }
}

/**
 * For a table whose MAC covers its generated id (a queued callback, MacedTable.generatedId): when
 * `row`'s id is not the one its latest change record whose link holds (`last`) names, the change
 * in words, naming both ids (its MAC fails too, but cannot say which id it had); else null. A
 * record from before 045 names no id: its MAC alone judges the row.
 */
function idChangedProblem(table: MacedTable, row: MacedRow, last: RecordRow | Unverifiable | undefined): string | null {
  const id = table.generatedId;
  if (id === undefined || last === undefined || typeof last === 'string' || last.row_id === null || last.row_id === undefined || last.mac === null) return null;
  if (String(row[id]) === String(toNumber(last.row_id))) return null;
  return `${table.describe(row)} was altered: its id was changed from ${toNumber(last.row_id)}, the id its latest change record (record_changes id ${toNumber(last.id)}, ${last.change_kind}) names`;
}

/** A latest record whose link is under an audit key no longer configured: why it cannot be checked. */
type Unverifiable = string;

/**
 * How `row` differs from its latest change record `last` (undefined: it has none; `linkHolds`:
 * that record's own link holds), or null when it carries the MAC that record says.
 */
function historyProblem(table: MacedTable, row: MacedRow, last: RecordRow | Unverifiable | undefined, linkHolds: boolean): string | null {
  const what = table.describe(row);
  if (typeof last === 'string') return `${what} cannot be checked: ${last}`;
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

/** The select list of a latest record and its link, joined as `${as}r` and `${as}l`, named `${as}rc_…` and `${as}rl_…`. */
function latestColumns(table: MacedTable, as: string): string {
  return [...RECORD_COLUMNS.split(', ').map((c) => `${readsColumn(table, c) ? `${as}r.${c}` : 'NULL'} AS ${as}rc_${c}`), ...STORED_LINK_COLUMNS.split(', ').map((c) => `${as}l.${c} AS ${as}rl_${c}`)].join(', ');
}

/**
 * RECORD_COLUMNS of `table`'s records: row_id read only for a table whose
 * MAC covers its generated id (MacedTable.generatedId), NULL for the others, so the records of the
 * tables 027 recorded are read as before 045 added the column (027 run again below it).
 */
function recordColumnsOf(table: MacedTable): string {
  return RECORD_COLUMNS.split(', ').map((c) => (readsColumn(table, c) ? c : `NULL AS ${c}`)).join(', ');
}

/** Whether `table`'s records are read with `column` of record_changes (recordColumnsOf). */
function readsColumn(table: MacedTable, column: string): boolean {
  return column !== 'row_id' || table.generatedId !== undefined;
}

/**
 * What to add to the SELECT of one row of `table` (as `alias`) to read its latest change record and
 * that record's link in the same statement: `columns` for the select list (the row's, as `alias`,
 * and `recordColumns`), `join` after the FROM, `params` bound before the WHERE's. The row is named
 * by its key values, or, for a key not known before the statement (a console user found by name, a
 * queued callback's endpoint, the reconciliation seals of a range of days), by its columns: their
 * text must need no JSON escape, else no record is found and the row is refused. `as` prefixes the
 * joins' aliases and the record's columns, for a statement that reads the records of two rows (a
 * queued callback and its endpoint): read them back with latestRecordAs.
 */
export function withLatestRecord(
  table: MacedTable,
  alias: string,
  key: readonly SqlValue[] | { dialect: Dialect; column: string | readonly string[] },
  as = '',
): { columns: string; recordColumns: string; join: string; params: SqlValue[] } {
  const byColumn = !Array.isArray(key) ? (key as { dialect: Dialect; column: string | readonly string[] }) : null;
  const parts = byColumn === null ? [] : typeof byColumn.column === 'string' ? [byColumn.column] : byColumn.column;
  // rowKeyOf's JSON array of the values as text, built in SQL: ["a","b"].
  const rowKey = byColumn === null ? '?' : byColumn.dialect === 'mysql' ? `CONCAT('["', ${parts.join(`, '","', `)}, '"]')` : `('["' || ${parts.join(` || '","' || `)} || '"]')`;
  const recordColumns = latestColumns(table, as);
  return {
    columns: `${table.columns.split(', ').map((c) => `${alias}.${c}`).join(', ')}, ${recordColumns}`,
    recordColumns,
    join:
      `LEFT JOIN record_changes ${as}r ON ${as}r.id = (SELECT MAX(${as}x.id) FROM record_changes ${as}x WHERE ${as}x.table_name = '${table.table}' AND ${as}x.row_key = ${rowKey}) ` +
      `LEFT JOIN audit_chain ${as}l ON ${isLink(`${as}l.`)} AND ${as}l.kind = 'record_change' AND ${as}l.record_id = ${as}r.id`,
    params: byColumn === null ? [JSON.stringify((key as readonly SqlValue[]).map(String))] : [],
  };
}

/** The latest record columns a statement read with withLatestRecord(…, `as`), as their unprefixed names. */
export function latestRecordAs(row: Record<string, unknown>, as: string): LatestRecordColumns {
  const names = [...RECORD_COLUMNS.split(', ').map((c) => `rc_${c}`), ...STORED_LINK_COLUMNS.split(', ').map((c) => `rl_${c}`)];
  return Object.fromEntries(names.map((name) => [name, row[`${as}${name}`] ?? null])) as LatestRecordColumns;
}

/**
 * The latest change record of each of `rows` and its link, by row key (rowKeyOf), in two
 * statements whatever their number (all nulls for a row with none): for rows read without
 * withLatestRecord (a page of `keys rotate`).
 */
export async function latestRecordsOf(q: Queryable, table: MacedTable, rows: readonly MacedRow[]): Promise<Map<string, LatestRecordColumns>> {
  const keys = [...new Set(rows.map((row) => rowKeyOf(table, row)))];
  const none = latestRecordAs({}, '');
  const latest = new Map<string, LatestRecordColumns>(keys.map((key) => [key, none]));
  if (keys.length === 0) return latest;
  // The newest record id of each row first (the index on table_name, row_key, id), then those records with their links by id.
  const newest = await q.query<{ id: number | string }>(`SELECT MAX(id) AS id FROM record_changes WHERE table_name = ? AND row_key IN (${keys.map(() => '?').join(', ')}) GROUP BY row_key`, [table.table, ...keys]);
  if (newest.length === 0) return latest;
  const ids = newest.map((r) => toNumber(r.id));
  const found = await q.query<LatestRecordColumns>(
    `SELECT ${latestColumns(table, '')} FROM record_changes r LEFT JOIN audit_chain l ON ${isLink('l.')} AND l.kind = 'record_change' AND l.record_id = r.id WHERE r.id IN (${ids.map(() => '?').join(', ')})`,
    ids,
  );
  for (const record of found) latest.set(String(record.rc_row_key), record);
  return latest;
}

/**
 * The problem of `row` (read with its latest record, withLatestRecord or latestRecordsOf) in words:
 * its MAC does not hold, or it is not its latest state as its change records say (written back
 * from an older copy, restored after its deletion, inserted in SQL); null when it holds.
 */
export function currentRowProblem(table: MacedTable, row: MacedRow, latest: LatestRecordColumns, sealer: ValueSealer): string | null {
  const { record, holds } = latestRecordRead(latest, sealer);
  return (holds ? idChangedProblem(table, row, record) : null) ?? recordMacProblem(table, row, sealer) ?? historyProblem(table, row, record, holds);
}

/**
 * Those of `rows` (read with `table.columns`) whose MAC holds under `table` and that are their
 * latest state (currentRowProblem, their latest change records read with latestRecordsOf): for
 * a migration that gives them a MAC under a newer definition of their table (keyStoredRows'
 * `rekey`, 045). A row under a key not configured does not hold.
 */
export function latestStatesUnder(table: MacedTable, sealer: ValueSealer): (q: Queryable, rows: readonly MacedRow[]) => Promise<ReadonlySet<MacedRow>> {
  return async (q, rows) => {
    const latest = await latestRecordsOf(q, table, rows);
    return new Set(
      rows.filter((row) => {
        try {
          return currentRowProblem(table, row, latest.get(rowKeyOf(table, row))!, sealer) === null;
        } catch (error) {
          if (error instanceof KeyRingError && error.reason === 'unknown-key') return false;
          throw error;
        }
      }),
    );
  };
}

/**
 * For a row of `table` that is not there (`key`: its key values), read with its latest change
 * record (withLatestRecord keyed by columns that are there without it): the problem in words when
 * that record says the row exists (deleted in SQL), or is not the gateway's (its link does not
 * hold); null when it has none or says the gateway deleted it.
 */
export function missingRowProblem(table: MacedTable, key: Record<string, SqlValue>, latest: LatestRecordColumns, sealer: ValueSealer): string | null {
  const { record, holds } = latestRecordRead(latest, sealer);
  if (record === undefined) return null;
  const what = table.describe(key as MacedRow);
  const id = toNumber(record.id);
  if (!holds) return `${what} has a latest change record (record_changes id ${id}) that is not the gateway's: its chain link is missing or does not match it`;
  return record.mac === null ? null : `${what} was deleted: its latest change record (record_changes id ${id}, ${record.change_kind}) says it exists`;
}

/** The latest change record read with a row (withLatestRecord), and whether its own link holds. */
function latestRecordRead(latest: LatestRecordColumns, sealer: ValueSealer): { record: RecordRow | undefined; holds: boolean } {
  const record: RecordRow | undefined =
    latest.rc_id === null
      ? undefined
      : {
          id: latest.rc_id, table_name: latest.rc_table_name!, row_key: latest.rc_row_key!, change_kind: latest.rc_change_kind!, mac_key_id: latest.rc_mac_key_id, mac: latest.rc_mac, recorded_at: latest.rc_recorded_at!,
          row_id: latest.rc_row_id ?? null,
        };
  const link: StoredLink | undefined =
    latest.rl_hash === null
      ? undefined
      : { writer_id: latest.rl_writer_id!, seq: latest.rl_seq!, record_id: latest.rl_record_id!, recorded_at: latest.rl_recorded_at!, prev_hash: latest.rl_prev_hash!, hash: latest.rl_hash, key_id: latest.rl_key_id };
  return { record, holds: record !== undefined && linkHolds(sealer.keyRing, 'record_change', toNumber(record.id), digestOfRow(record), link) };
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

/** The latest record of each of the rows `keys` (rowKeyOf) of `table` whose own link holds, by row key. */
async function latestTrustedRecords(db: Queryable, table: MacedTable, ring: KeyRing, keys: readonly string[]): Promise<Map<string, RecordRow | Unverifiable>> {
  const latest = new Map<string, RecordRow | Unverifiable>();
  for (let at = 0; at < keys.length; at += PAGE) {
    const some = keys.slice(at, at + PAGE);
    const records = await db.query<RecordRow>(`SELECT ${recordColumnsOf(table)} FROM record_changes WHERE table_name = ? AND row_key IN (${some.map(() => '?').join(', ')}) ORDER BY id`, [table.table, ...some]);
    if (records.length === 0) continue;
    for (const [record, proves] of await trustedRecords(db, records, ring)) if (proves !== null) latest.set(record.row_key, proves);
  }
  return latest;
}

/**
 * Each of `records` with what it proves: itself when its own link holds; why it cannot be checked
 * when it is linked under a key no longer in the ring (it proves nothing either way: the row is
 * named as not checkable, fail closed, instead of the whole table failing: a page, `gerbang
 * doctor`); null when its link is missing or does not hold (the chain walk's and the unchained
 * check's to name, never the row's truth).
 */
async function trustedRecords(db: Queryable, records: RecordRow[], ring: KeyRing): Promise<[RecordRow, RecordRow | Unverifiable | null][]> {
  const ids = records.map((r) => toNumber(r.id));
  const links = await db.query<StoredLink>(`SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND kind = 'record_change' AND record_id IN (${ids.map(() => '?').join(', ')})`, ids);
  const linkOf = new Map(links.map((link) => [toNumber(link.record_id), link]));
  return records.map((record) => {
    try {
      return [record, linkHolds(ring, 'record_change', toNumber(record.id), digestOfRow(record), linkOf.get(toNumber(record.id))) ? record : null];
    } catch (error) {
      if (!(error instanceof KeyRingError) || error.reason !== 'unknown-key') throw error;
      return [record, `its latest change record (record_changes id ${toNumber(record.id)}) is linked under ${error.message}`];
    }
  });
}

/** The content digest of each record_changes row of `ids` (the chain walk's), keyed by id. */
export async function recordChangeDigests(db: Queryable, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM record_changes WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
  return new Map(rows.map((row) => [toNumber(row.id), digestOfRow(row)]));
}
