import { createHmac } from 'node:crypto';
import { KeyRingError, sameSecretText, type KeyRing } from '../../security/index.js';
import { PAYMENT_STATES, UniqueViolationError, type Db, type Dialect, type KeptTotalsProblem, type PaymentState, type Queryable } from '../types.js';
import type { ChainLanes } from './audit-chain.js';
import { eventDays, LATE_COMMIT_IDS, lastEventId, SEAL_AFTER_EVENT_MS } from './changed-sealed-days.js';
import { reservedCounts, reservedDigests } from './payment-events.js';
import { jakartaDayStart } from '../../time/index.js';
import { changeRows } from './record-changes.js';
import { currentRowProblem, missingRowProblem, withLatestRecord, type LatestRecordColumns } from './record-history.js';
import { recordMacProblem, type MacedRow, type MacedTable } from './record-macs.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * Keyed day seals of the console's reconciliation (migration 031, #16). Proving a payment row by
 * row (its paying account opened with AES-GCM, its MAC, its state held to its last event) costs
 * one OpenSSL object or more a row and their garbage: a month of a busy account took seconds on
 * a first opening. Once every row of one account's closed day was so proved, the day is sealed:
 * an HMAC over the canonical bytes of all those rows, in (created_at, id) order, bound to the
 * account itself (never stored), its keyed tag, the day and the row count. A later reading of
 * the day streams the same bytes through one HMAC: equal to the seal, every row is exactly as it
 * was proved (no value of any row changed, none added or removed, no payment moved on: each
 * row's last event seq is among its bytes); else the day is proved row by row again.
 *
 * The seal row is a maced row (record-macs.ts) whose every write is recorded (record-changes.ts),
 * and only a row that is its latest recorded state, under the ring's current key, is trusted: a
 * seal restored from an older copy would match the rows rolled back to that older set, which is
 * exactly what the state check against the payment history is there to catch.
 *
 * Not in MACED_TABLES: a seal is a kept proof, never a fact. `keys rotate` leaves it be (it
 * cannot re-seal without proving the rows again), and one under an older key is not trusted to
 * prove rows: the day is proved row by row and sealed anew under the current key, though its ids
 * still hold the day to its payments (sealsOfDays). A seal row deleted or changed in SQL names its
 * day and keeps it from being sealed anew; `audit verify` does not walk the seals.
 *
 * The overview's kept day totals (migration 034) are rows of this table too, under the tag
 * DAY_TOTALS_TAG: a closed day's counts and sums per state (every payment of the day), in
 * `totals`, which their MAC covers (a seal's `totals` is null and its MAC what it was).
 */
export const RECONCILIATION_SEALS: MacedTable = {
  table: 'reconciliation_seals',
  purpose: 'reconciliation seal row',
  key: ['account_tag', 'day'],
  columns: 'account_tag, day, row_count, seal, sealed_at, totals, payment_ids, mac_key_id, mac',
  fields: (row) => {
    const fields = [String(row.account_tag), toNumber(row.day), toNumber(row.row_count), String(row.seal), toNumber(row.sealed_at)];
    const totals = row.totals === null || row.totals === undefined ? null : String(row.totals);
    // A seal's payment ids (041) after a null totals: never read as another row's totals moved over.
    if (row.payment_ids !== null && row.payment_ids !== undefined) return [...fields, totals, String(row.payment_ids)];
    return totals === null ? fields : [...fields, totals];
  },
  describe: (row) =>
    String(row.account_tag) === DAY_TOTALS_TAG
      ? `reconciliation_seals row of the kept totals of day ${dayLabel(toNumber(row.day))}`
      : `reconciliation_seals row of day ${toNumber(row.day)} of tag ${String(row.account_tag).slice(0, 8)}…`,
  covers: 'its account tag, day, row count, seal, sealing time or day totals',
};

/** The account tag of a day's kept totals (every payment of the day, not one account's: a tag is 32 hex digits). */
export const DAY_TOTALS_TAG = '*';

/** A Jakarta day number as yyyy-MM-dd. */
export function dayLabel(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** What the seal itself (over the rows) is keyed for; the row's MAC has its own purpose. */
const SEAL_PURPOSE = 'reconciliation day seal';

/**
 * How a value of a sealed line is read: a column of text or of integers (either may be null), or
 * the highest of an integer column, computed by the database (a scalar subquery: null or an integer).
 */
export type SealedKind = 'text' | 'integer' | 'highest';

/**
 * A value of a sealed line: its SQL (a column, or a scalar subquery for 'highest'), its kind, and
 * `notNull` when the schema declares the column NOT NULL (sealedLineSql builds such values without
 * their null test first; the line's bytes are the same either way).
 */
export interface SealedValue {
  sql: string;
  kind: SealedKind;
  notNull?: boolean;
}

/**
 * One value of a row as sealed, as a SQL expression on `value` (a column, or a scalar subquery
 * for 'highest') for `dialect`: null is `~`, an integer `#<digits>;`, a text its length in UTF-8
 * bytes, `:` and itself, so no two different rows (nor two different splits of one row's bytes
 * into values) give the same line. For ASCII values (what banks, ERPs and sealed values write)
 * these are the bytes the lines were built of in JavaScript before, so seals written then hold.
 * The caller builds each row's line of every value the reconciliation reads of it and the proof
 * depends on, in one fixed order (sealedLineSql in payment-search-repository.ts), and the database
 * hands it out beside the row's values, read in the same statement: a line is never assembled
 * from decoded values (a month is 50,000 lines; building them, and decoding the columns only the
 * proof reads, cost a first opening tens of milliseconds), and it is what a kept proof is
 * compared by (ProvedRows). On SQLite, whose columns take any type, a value not of its column's
 * kind is written as its type and hex, so it never reads as one that is.
 */
export function sealedValueSql(dialect: Dialect, value: string, kind: SealedKind): string {
  if (dialect === 'mysql') return kind === 'text' ? `IFNULL(CONCAT(OCTET_LENGTH(${value}), ':', ${value}), '~')` : `IFNULL(CONCAT('#', ${value}, ';'), '~')`;
  // Evaluated once (a subquery written twice would be run twice a row).
  if (kind === 'highest') return `COALESCE('#' || ${value} || ';', '~')`;
  const other = `'!' || typeof(${value}) || ':' || hex(${value}) || ';'`;
  return kind === 'text'
    ? `(CASE typeof(${value}) WHEN 'null' THEN '~' WHEN 'text' THEN length(CAST(${value} AS BLOB)) || ':' || ${value} ELSE ${other} END)`
    : `(CASE typeof(${value}) WHEN 'null' THEN '~' WHEN 'integer' THEN '#' || ${value} || ';' ELSE ${other} END)`;
}

/**
 * A sealed line of `values` (sealedValueSql each, in this order) as one SQL expression. On MariaDB
 * and MySQL each run of values declared NOT NULL is written as one flat CONCAT, not as a CONCAT
 * and an IFNULL a value (two strings built a value: 15 values a row, 50,000 rows a month); should
 * one of them be null after all (a column altered in SQL), that CONCAT is null and the run is
 * built value by value as sealedValueSql writes it (IFNULL evaluates its second argument only
 * then): the same bytes in every case, so seals written before hold. Every other value (a
 * subquery among them) is written once.
 */
export function sealedLineSql(dialect: Dialect, values: readonly SealedValue[]): string {
  const each = values.map((v) => sealedValueSql(dialect, v.sql, v.kind));
  if (dialect !== 'mysql') return `(${each.join(' || ')})`;
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let end = i;
    while (end < values.length && values[end].notNull === true && values[end].kind !== 'highest') end += 1;
    if (end === i) {
      parts.push(each[i]);
      i += 1;
      continue;
    }
    const run = values.slice(i, end).map((v) => (v.kind === 'text' ? `OCTET_LENGTH(${v.sql}), ':', ${v.sql}` : `'#', ${v.sql}, ';'`));
    parts.push(`IFNULL(CONCAT(${run.join(', ')}), CONCAT(${each.slice(i, end).join(', ')}))`);
    i = end;
  }
  return `CONCAT(${parts.join(', ')})`;
}

/** A day's seal as stored and trusted: its latest recorded state, under the ring's current key. */
export interface TrustedSeal {
  rowCount: number;
  seal: string;
  /** When it was written (the sealing console's clock). */
  sealedAt: number;
  /** The ids of the payments it covered, in its lines' order (sealedPaymentIds); null: written before migration 041, its count alone. */
  paymentIds: string | null;
}

/**
 * The ids of a day's sealed payments, in its lines' (created_at, id) order, as a seal row keeps
 * them (migration 041): each as its difference from the one before (the first from 0) in base 36,
 * `-` before a negative one, joined by commas. A busy account's payments of a day are close in id:
 * a few characters each.
 */
export function sealedPaymentIds(ids: readonly number[]): string {
  let before = 0;
  return ids
    .map((id) => {
      const text = (id - before).toString(36);
      before = id;
      return text;
    })
    .join(',');
}

/**
 * Whether the sealed ids `text` (sealedPaymentIds) are exactly `ids` in this order, read in place
 * (no id decoded into a string: a month's 50,000 at every opening). False for any other text.
 */
export function sealedIdsAre(text: string, ids: readonly number[]): boolean {
  if (ids.length === 0) return text === '';
  let at = 0;
  let before = 0;
  for (let k = 0; k < ids.length; k += 1) {
    const negative = text.charCodeAt(at) === 45;
    if (negative) at += 1;
    let n = 0;
    const from = at;
    for (; at < text.length && text.charCodeAt(at) !== 44; at += 1) {
      const c = text.charCodeAt(at);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
      if (digit < 0 || at - from > 10) return false;
      n = n * 36 + digit;
    }
    if (at === from) return false;
    before += negative ? -n : n;
    if (before !== ids[k]) return false;
    // A comma between ids, none after the last.
    if (k < ids.length - 1 ? text.charCodeAt(at) !== 44 : at !== text.length) return false;
    at += 1;
  }
  return true;
}

/** The ids a seal row keeps (sealedPaymentIds) read back; null when `text` is not such a list (a seal row's MAC covers it: never so when trusted). */
export function parsedSealedIds(text: string): number[] | null {
  if (text === '') return [];
  const ids: number[] = [];
  let before = 0;
  for (const part of text.split(',')) {
    if (!/^-?[0-9a-z]{1,11}$/.test(part)) return null;
    before += parseInt(part, 36);
    if (!Number.isSafeInteger(before) || before < 1) return null;
    ids.push(before);
  }
  return ids;
}

/**
 * How many lines one piece of a day's sealed text holds: 64 lines of a few hundred bytes are a
 * few tens of kilobytes, an ordinary young-generation string. A day's text in one string (a busy
 * day: 700 KB) is a large object, a fresh mapping of memory each time: building a month's thirty
 * (20 MB), and flattening them to compare, took 100-300 ms of page faults on the shared machine.
 */
export const LINES_PER_PIECE = 64;

/**
 * A day's rows as sealed: how many, and the text sealed (their lines, one account's payments of
 * one day in (created_at, id) order, each after a newline) in pieces of LINES_PER_PIECE lines,
 * each piece a newline and its lines joined by newlines: the pieces in order are the text.
 */
export interface SealedDay {
  rows: number;
  pieces: string[];
}

/** The rows of a day as sealed, of their lines as the database built them (sealedLineSql): joined a piece at once, not row by row. */
export function sealedDay(lines: readonly string[]): SealedDay {
  const pieces: string[] = [];
  for (let first = 0; first < lines.length; first += LINES_PER_PIECE) {
    // Joined after an empty first element: one flat string, not a newline and a join concatenated (which is flattened again where it is read).
    const piece = [''];
    for (let i = first; i < Math.min(lines.length, first + LINES_PER_PIECE); i += 1) piece.push(lines[i]);
    pieces.push(piece.join('\n'));
  }
  return { rows: lines.length, pieces };
}

/**
 * The seal of a day's rows `sealed` under the ring's key `keyId` (the newest when omitted): one
 * HMAC object for the whole day, its text given a piece at a time.
 */
export function daySeal(ring: KeyRing, account: string, tag: string, day: number, sealed: SealedDay, keyId?: string): { keyId: string; seal: string } {
  const { keyId: id, key } = ring.macKey(SEAL_PURPOSE, keyId);
  const hmac = createHmac('sha256', key).update(JSON.stringify(['reconciliation-day-seal', account, tag, day, sealed.rows]));
  for (const piece of sealed.pieces) hmac.update(piece);
  return { keyId: id, seal: hmac.digest('hex') };
}

/** Whether a day's rows `sealed` hash to `trusted` under the ring's current key (compared in constant time). */
export function sealHolds(ring: KeyRing, account: string, tag: string, day: number, sealed: SealedDay, trusted: TrustedSeal): boolean {
  return trusted.rowCount === sealed.rows && sameSecretText(daySeal(ring, account, tag, day, sealed, ring.currentKeyId).seal, trusted.seal);
}

/**
 * The seals of `tag` for days `first` to `last` that can be trusted, by day (sealsOfDays' `trusted`).
 */
export async function trustedSeals(db: Db, sealer: ValueSealer, tag: string, first: number, last: number): Promise<Map<number, TrustedSeal>> {
  return (await sealsOfDays(db, sealer, tag, first, last)).trusted;
}

/** Days read a statement by sealsOfDays. */
const SEAL_DAYS_CHUNK = 366;

/**
 * The seals of `tag` for days `first` to `last`, by day: every day read with its row (if any) and
 * its latest change record and that record's link in one statement, as the kept day totals are
 * (holdingDayTotals).
 * - `trusted`: a seal whose MAC holds under the ring's current key and that carries its latest
 *   record's MAC (not an older copy written back, not inserted in SQL): its hash may prove a day.
 * - `held`: those, and a seal whose MAC holds under an older key of the ring (after `keys rotate`),
 *   or whose MAC was cleared (migration 032 cleared every seal's) while its values are still those
 *   its latest record's MAC covers: what it says of the day's payments (its ids, or its count)
 *   is the gateway's, so the day is held to them (missingPayments), though its hash proves nothing.
 * - `broken`: a day whose latest record says a seal exists while its row is gone (deleted in SQL),
 *   or whose row holds neither way (values changed in SQL, an older copy written back, inserted in
 *   SQL, a record not the gateway's), each problem in words: what the day held cannot be told,
 *   and the caller names the day and never seals it anew (that would forget what was deleted).
 * A seal or record under a key no longer in the ring is neither (the day is not checked): removing
 * a key from the ring forgets what it proved.
 */
export async function sealsOfDays(
  db: Db,
  sealer: ValueSealer,
  tag: string,
  first: number,
  last: number,
): Promise<{ trusted: Map<number, TrustedSeal>; held: Map<number, TrustedSeal>; broken: Map<number, string> }> {
  const trusted = new Map<number, TrustedSeal>();
  const held = new Map<number, TrustedSeal>();
  const broken = new Map<number, string>();
  if (last < first) return { trusted, held, broken };
  const latest = withLatestRecord(RECONCILIATION_SEALS, 's', { dialect: db.dialect, column: ['k.t', 'k.d'] });
  const rows: (MacedRow & LatestRecordColumns & { asked_day: number | string })[] = [];
  // SQLite takes at most 500 terms of a compound SELECT: a longer period is read in chunks.
  for (let from = first; from <= last; from += SEAL_DAYS_CHUNK) {
    const days: number[] = [];
    for (let day = from; day <= Math.min(last, from + SEAL_DAYS_CHUNK - 1); day += 1) days.push(day);
    const asked = days.map(() => `SELECT ? AS t, CAST(? AS ${db.dialect === 'mysql' ? 'SIGNED' : 'INTEGER'}) AS d`).join(' UNION ALL ');
    rows.push(
      ...(await db.query<MacedRow & LatestRecordColumns & { asked_day: number | string }>(
        `SELECT k.d AS asked_day, ${latest.columns} FROM (${asked}) k LEFT JOIN reconciliation_seals s ON s.account_tag = k.t AND s.day = k.d ${latest.join}`,
        [...days.flatMap((day) => [tag, day]), ...latest.params],
      )),
    );
  }
  const ring = sealer.keyRing;
  for (const row of rows) {
    const day = toNumber(row.asked_day);
    try {
      if (row.account_tag === null) {
        const gone = missingRowProblem(RECONCILIATION_SEALS, { account_tag: tag, day }, row, sealer);
        if (gone !== null) broken.set(day, gone);
        continue;
      }
      const seal = { rowCount: toNumber(row.row_count), seal: String(row.seal), sealedAt: toNumber(row.sealed_at), paymentIds: row.payment_ids === null ? null : String(row.payment_ids) };
      // Its MAC cleared (migration 032), its values still those its latest record's MAC covers.
      const cleared = row.mac === null && row.mac_key_id === null && row.rc_mac !== null && row.rc_mac_key_id !== null;
      const problem = cleared
        ? currentRowProblem(RECONCILIATION_SEALS, { ...row, mac: row.rc_mac, mac_key_id: row.rc_mac_key_id }, row, sealer)
        : currentRowProblem(RECONCILIATION_SEALS, row, row, sealer);
      if (problem !== null) {
        broken.set(day, problem);
        continue;
      }
      held.set(day, seal);
      if (!cleared && row.mac_key_id === ring.currentKeyId) trusted.set(day, seal);
    } catch (error) {
      if (!(error instanceof KeyRingError)) throw error;
    }
  }
  return { trusted, held, broken };
}

/** A day proved row by row, to be sealed. */
export interface NewSeal {
  tag: string;
  day: number;
  rowCount: number;
  seal: string;
  /** The ids of the payments sealed, in its lines' order (sealedPaymentIds); absent for kept totals. */
  paymentIds?: string;
  /** A day's kept totals (tag DAY_TOTALS_TAG, dayTotalsText); absent for a seal. */
  totals?: string;
}

/**
 * Writes `seals` (each computed under the ring's current key) in one transaction of this process's
 * audit chain, each with its MAC and its change record (record-changes.ts). A day already sealed
 * with the same seal is left as it is; another seal (rows that moved on, an older key, a row that
 * does not hold) is replaced, guarded by the MAC read. Two consoles sealing the same day write the
 * same content: the one that loses the insert, or whose guarded update finds the row changed,
 * leaves the winner's. On two Galera nodes neither sees the other's uncommitted row: one loses
 * certification at COMMIT (a deadlock error), the whole transaction is run again (ChainLanes'
 * session retries conflicts), reads the winner's seal and leaves it. Returns how many were written.
 */
export async function writeSeals(chain: ChainLanes, sealer: ValueSealer, now: number, seals: readonly NewSeal[]): Promise<number> {
  if (seals.length === 0) return 0;
  const ring = sealer.keyRing;
  return changeRows(chain, sealer, now, async (rows) => {
    let written = 0;
    for (const s of seals) {
      const [current] = await rows.tx.query<MacedRow>(`SELECT ${RECONCILIATION_SEALS.columns} FROM reconciliation_seals WHERE account_tag = ? AND day = ?`, [s.tag, s.day]);
      const values = { row_count: s.rowCount, seal: s.seal, sealed_at: now, ...(s.totals === undefined ? {} : { totals: s.totals }), ...(s.paymentIds === undefined ? {} : { payment_ids: s.paymentIds }) };
      // A row without a MAC (inserted in SQL) cannot be guarded by it: recorded as deleted, then sealed anew.
      if (current !== undefined && current.mac === null) await rows.delete(RECONCILIATION_SEALS, 'account_tag = ? AND day = ?', [s.tag, s.day]);
      if (current === undefined || current.mac === null) {
        try {
          await rows.insert(RECONCILIATION_SEALS, { account_tag: s.tag, day: s.day, ...values });
          written += 1;
        } catch (error) {
          if (!(error instanceof UniqueViolationError)) throw error;
        }
        continue;
      }
      const same = current.seal === s.seal && (current.totals ?? undefined) === s.totals && (current.payment_ids ?? undefined) === s.paymentIds && toNumber(current.row_count) === s.rowCount;
      // Left as it is only when it holds: a row whose MAC was changed alone is written anew.
      if (same && current.mac_key_id === ring.currentKeyId && recordMacProblem(RECONCILIATION_SEALS, current, sealer) === null) continue;
      if (await rows.update(RECONCILIATION_SEALS, current, values)) written += 1;
    }
    return written;
  });
}

/**
 * Deletes the kept totals of `days` (tag DAY_TOTALS_TAG), each deletion recorded (record_changes):
 * days whose payments did not all prove when they were counted again keep none.
 */
export async function dropDayTotals(chain: ChainLanes, sealer: ValueSealer, now: number, days: readonly number[]): Promise<void> {
  if (days.length === 0) return;
  await changeRows(chain, sealer, now, async (rows) => {
    for (const day of days) await rows.delete(RECONCILIATION_SEALS, 'account_tag = ? AND day = ?', [DAY_TOTALS_TAG, day]);
  });
}

/**
 * Every account tag payments carry: on MariaDB a loose walk of ix_payments_reconcile's first
 * column (one step a tag: a million payments in milliseconds; the same with a range of
 * created_at read every entry of the range, 2 s).
 */
export async function paymentTags(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ t: string }>('SELECT source_account_tag AS t FROM payments WHERE source_account_tag IS NOT NULL GROUP BY source_account_tag');
  return rows.map((r) => r.t).sort();
}

/** One state's count and sum (amount_minor) of a day. */
export interface StateTotals {
  state: PaymentState;
  count: number;
  totalMinor: bigint;
}

/**
 * A day's kept totals as trusted: each state's figures (states without payments absent), the
 * highest payment_events id read before they were counted, how many `reserve` events the day had
 * then (each naming a payment counted, or one released) and their reserveEventsDigest, and when
 * they were counted (the counting console's clock).
 */
export interface KeptDayTotals {
  states: StateTotals[];
  eventsTo: number;
  reserved: number;
  reserveDigest: string;
  countedAt: number;
}

/** A day's totals as kept in its row's `totals` (JSON, ASCII): what its MAC covers. */
export function dayTotalsText(eventsTo: number, states: readonly StateTotals[], reserved: number, reserveDigest: string): string {
  return JSON.stringify({ events: eventsTo, states: states.map((s) => [s.state, s.count, s.totalMinor.toString()]), reserved, reserveDigest });
}

/**
 * `totals` read back (dayTotalsText; `reserved` or `reserveDigest` null in a row kept before they
 * were: to be counted again), or null when it is not such a text.
 */
function parsedDayTotals(text: string): { eventsTo: number; states: StateTotals[]; reserved: number | null; reserveDigest: string | null } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const kept = value as { events?: unknown; states?: unknown; reserved?: unknown; reserveDigest?: unknown } | null;
  if (kept === null || typeof kept !== 'object' || !Number.isSafeInteger(kept.events) || !Array.isArray(kept.states)) return null;
  if (kept.reserved !== undefined && !Number.isSafeInteger(kept.reserved)) return null;
  if (kept.reserveDigest !== undefined && (typeof kept.reserveDigest !== 'string' || !/^[0-9a-f]{64}$/.test(kept.reserveDigest))) return null;
  const states: StateTotals[] = [];
  for (const entry of kept.states as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) return null;
    const [state, count, total] = entry as unknown[];
    if (!(PAYMENT_STATES as readonly unknown[]).includes(state) || !Number.isSafeInteger(count) || typeof total !== 'string' || !/^-?\d+$/.test(total)) return null;
    states.push({ state: state as PaymentState, count: count as number, totalMinor: BigInt(total) });
  }
  return { eventsTo: kept.events as number, states, reserved: kept.reserved === undefined ? null : (kept.reserved as number), reserveDigest: kept.reserveDigest === undefined ? null : (kept.reserveDigest as string) };
}

/**
 * Where a process found a day's kept totals (the row with MAC `mac`) held to the payment events:
 * every event up to `upTo` read (holdingDayTotals), so its next reading of that same row reads the
 * events from there on (LATE_COMMIT_IDS below it again), not from the count's on.
 */
export interface CheckedDayTotals {
  mac: string;
  upTo: number;
  /** When the day's reserve events were last found as many as kept (reservesMoved), by the process's clock. */
  reservesHeldAt?: number;
}

/**
 * How long an opening takes a day's reserve events as found as many as kept by an earlier reading
 * of the same row in the process (reservesMoved): a little over the console's sweep interval (5
 * minutes), so in a console running its sweep (which counts them at every run) an opening counts
 * none, and one without counts them at most once in that time. Counting them costs what counting
 * the day from its payments does (a month of a million payments: 0.6-2.4 s at load 9,
 * docs/performance.md): at every opening it would undo what the kept totals save. A reserve event
 * put back in place is so named within this time, and the day counted from the payments.
 */
export const RESERVES_HELD_MS = 6 * 60_000;

/**
 * How many payment_events ids past the oldest kept totals' an opening reads at most to hold them to
 * the events since (holdingDayTotals); past it (a sweep stopped for long) every day is counted from
 * the payments instead, as if none were kept. Read by primary key: 20,000 ids took 50-210 ms.
 */
const DAY_TOTALS_EVENTS_LIMIT = 20_000;

/**
 * The kept totals of closed `days` (tag DAY_TOTALS_TAG) that hold, and each one that does not
 * named: every day read with its row (if any) and its latest change record in one statement. A
 * row is trusted when its MAC holds under the ring's current key and it carries its latest
 * record's MAC (not an older copy written back, not inserted in SQL); one that holds under an
 * older key of the ring (after `keys rotate`) is left for the sweep to count again, unnamed; any other that
 * does not hold, and a row whose latest record says it exists but is gone (deleted in SQL), is
 * named in `problems`, as is one counted up to a payment event id past the highest there is now
 * (events deleted or their ids reset: later events could have lower ids). Then each kept day is
 * held to the payment events since it was counted (eventDays, read from no further than the
 * highest id there is): any event, trusted or not (its chain link is not read here), of a payment
 * of that day with an id past the highest read before the count, or recorded less than
 * SEAL_AFTER_EVENT_MS before the count (its transaction may have committed after the count read
 * its day), and the day's totals are not taken (`stale`). A forged event so only makes the sweep
 * count the day again, from its payments proved one by one (countClosedDays in
 * payment-search-repository.ts), never from a row changed in SQL. Last, each day still kept is
 * held to its reserve events (reservesMoved: one COUNT of an index range a day; unless `reserves`
 * says an earlier reading of the same row found them so recently), and named when they are not
 * as many as counted, or (the sweep: `reserves.pageRows`) not the very events counted (a row kept
 * before they were counted with it is left for the sweep to count again, unnamed, as one under an
 * older key).
 * `checked`: the process's memory of the rows so held before (CheckedDayTotals), kept up to date
 * here: a month's events since its oldest count are read once a process, not at every opening.
 * `maxEvents`: how many event ids it reads at most, past which every day is taken as stale (an
 * opening: DAY_TOTALS_EVENTS_LIMIT); the sweep reads them all (a recount proves every payment of
 * a day, far dearer than reading its events). `reserves`: the process's clock now, and how long a
 * day's reserve events found as many as kept by an earlier reading of the same row are taken so
 * (an opening: RESERVES_HELD_MS; the sweep: 0, it counts them at every run); with `pageRows` (the
 * sweep), each day's are read whole, that many a statement, and held to the kept digest of their
 * identities too (reservesMoved): an opening only counts them.
 */
export async function holdingDayTotals(
  db: Db,
  sealer: ValueSealer,
  days: readonly number[],
  checked: Map<number, CheckedDayTotals> = new Map(),
  maxEvents = DAY_TOTALS_EVENTS_LIMIT,
  reserves: { now: number; heldMs: number; pageRows?: number } = { now: Date.now(), heldMs: 0 },
): Promise<{ kept: Map<number, KeptDayTotals>; problems: KeptTotalsProblem[]; stale: number[] }> {
  const kept = new Map<number, KeptDayTotals>();
  const problems: KeptTotalsProblem[] = [];
  if (days.length === 0) return { kept, problems, stale: [] };
  const asked = days.map(() => `SELECT ? AS t, CAST(? AS ${db.dialect === 'mysql' ? 'SIGNED' : 'INTEGER'}) AS d`).join(' UNION ALL ');
  const latest = withLatestRecord(RECONCILIATION_SEALS, 's', { dialect: db.dialect, column: ['k.t', 'k.d'] });
  const rows = await db.query<MacedRow & LatestRecordColumns & { asked_day: number | string }>(
    `SELECT k.d AS asked_day, ${latest.columns} FROM (${asked}) k LEFT JOIN reconciliation_seals s ON s.account_tag = k.t AND s.day = k.d ${latest.join}`,
    [...days.flatMap((day) => [DAY_TOTALS_TAG, day]), ...latest.params],
  );
  const ring = sealer.keyRing;
  const macs = new Map<number, string>();
  for (const row of rows) {
    const day = toNumber(row.asked_day);
    if (row.account_tag === null) {
      const gone = missingRowProblem(RECONCILIATION_SEALS, { account_tag: DAY_TOTALS_TAG, day }, row, sealer);
      if (gone !== null) problems.push({ day: dayLabel(day), kind: 'deleted', found: gone });
      continue;
    }
    let problem: Omit<KeptTotalsProblem, 'day'> | null;
    try {
      const found = currentRowProblem(RECONCILIATION_SEALS, row, row, sealer);
      problem = found === null ? null : { kind: 'altered', found };
    } catch (error) {
      if (!(error instanceof KeyRingError)) throw error;
      problem = { kind: 'unverifiable', found: `${RECONCILIATION_SEALS.describe(row)} cannot be checked: ${error.message}` };
    }
    if (problem === null && row.mac_key_id !== ring.currentKeyId) continue;
    const totals = problem === null && row.totals !== null ? parsedDayTotals(String(row.totals)) : null;
    if (problem === null && totals === null) problem = { kind: 'altered', found: `${RECONCILIATION_SEALS.describe(row)} holds no day totals` };
    if (problem !== null || totals === null) {
      problems.push({ day: dayLabel(day), ...problem! });
      continue;
    }
    // Kept before their day's reserve events were counted (or their digest kept) with them: counted again, as under an older key.
    if (totals.reserved === null || totals.reserveDigest === null) continue;
    kept.set(day, { ...totals, reserved: totals.reserved, reserveDigest: totals.reserveDigest, countedAt: toNumber(row.sealed_at) });
    macs.set(day, String(row.mac));
  }
  // Read after the rows: every event id a row read was counted up to is at most this, unless ids went back.
  const upTo = await lastEventId(db);
  for (const [day, k] of kept) {
    if (k.eventsTo <= upTo) continue;
    // Counted past the highest id there is (events deleted, their ids reset): events since cannot be told.
    problems.push({
      day: dayLabel(day),
      kind: 'events-gone',
      found: `${RECONCILIATION_SEALS.describe({ account_tag: DAY_TOTALS_TAG, day, mac_key_id: null, mac: null })} was counted up to payment event id ${k.eventsTo}, past the highest there is (${upTo}): payment events were deleted or their ids went back`,
    });
    kept.delete(day);
  }
  for (const day of checked.keys()) if (!kept.has(day) || checked.get(day)!.mac !== macs.get(day)) checked.delete(day);
  if (kept.size === 0) return { kept, problems, stale: [] };
  // Events from the oldest day's count on, or from where an earlier reading of this very row held
  // them, never past the highest id there is (as ChangedDays reads them).
  const after = Math.max(0, Math.min(upTo, ...[...kept].map(([day, k]) => checked.get(day)?.upTo ?? k.eventsTo)) - LATE_COMMIT_IDS);
  const stale = new Set<number>();
  if (upTo - after > maxEvents) for (const day of kept.keys()) stale.add(day);
  else {
    // DAY_TOTALS_EVENTS_LIMIT events a statement at most (the sweep reads on past it), each
    // chunk's end found by the primary key (ids may leave gaps of any size).
    for (let from = after; from < upTo; ) {
      let to = upTo;
      if (upTo - from > DAY_TOTALS_EVENTS_LIMIT) {
        const [end] = await db.query<{ id: number | string }>(`SELECT id FROM payment_events WHERE id > ? AND id <= ? ORDER BY id LIMIT 1 OFFSET ${DAY_TOTALS_EVENTS_LIMIT - 1}`, [from, upTo]);
        if (end !== undefined) to = toNumber(end.id);
      }
      for (const event of await eventDays(db, from, to, Math.min(...kept.keys()), Math.max(...kept.keys()))) {
        const counted = kept.get(event.day);
        if (counted !== undefined && (event.id > counted.eventsTo || event.recordedAt > counted.countedAt - SEAL_AFTER_EVENT_MS)) stale.add(event.day);
      }
      from = to;
    }
  }
  for (const day of stale) kept.delete(day);
  // An entry of another MAC was deleted above: what it says of the reserve events is of this very row.
  for (const day of kept.keys()) checked.set(day, { mac: macs.get(day)!, upTo, reservesHeldAt: checked.get(day)?.reservesHeldAt });
  for (const day of stale) checked.delete(day);
  // A reserve event moved back in place adds no event: counted again whatever the events since said.
  const due = new Map([...kept].filter(([day]) => !(reserves.now - (checked.get(day)?.reservesHeldAt ?? Number.NEGATIVE_INFINITY) < reserves.heldMs)));
  const moved = await reservesMoved(db, due, reserves.pageRows);
  for (const day of due.keys()) {
    if (!moved.has(day)) checked.get(day)!.reservesHeldAt = reserves.now;
  }
  for (const [day, problem] of moved) {
    problems.push(problem);
    kept.delete(day);
    checked.delete(day);
  }
  return { kept, problems, stale: [...stale].sort((a, b) => a - b) };
}

/**
 * The kept days whose `reserve` events are not as many as when their totals were counted, each
 * named (kind 'reserves'). The count kept them only with every reserve event of the day naming a
 * payment it counted or one released (countClosedDays in payment-search-repository.ts), one
 * event a payment; a reserve event moved out of the day (its recorded_at or cause changed, or
 * deleted) while the day was counted without its payment, then put back with it, makes them one
 * more than kept, and nothing else would tell. A day's reserve events do not change once it
 * closed: one committed late (a node's clock behind) is also an event past those the count read,
 * which makes the day counted again (stale) before this is read. One COUNT of an index range a
 * day (reservedCounts). With `pageRows` (the sweep), the day's range read whole instead
 * (reservedDigests), and a day whose reserve events are as many as kept but not the same ones (by
 * their ids and payments' ids: reserveEventsDigest) named too: one put back while another of the
 * day was moved out of it (its cause changed) keeps the count, not the digest.
 */
async function reservesMoved(db: Queryable, kept: ReadonlyMap<number, KeptDayTotals>, pageRows?: number): Promise<Map<number, KeptTotalsProblem>> {
  const moved = new Map<number, KeptTotalsProblem>();
  if (kept.size === 0) return moved;
  const ranges = [...kept.keys()].map((day) => ({ day, start: jakartaDayStart(day), end: jakartaDayStart(day + 1) }));
  const found = pageRows === undefined ? new Map([...(await reservedCounts(db, ranges))].map(([day, count]) => [day, { count, digest: null }])) : await reservedDigests(db, ranges, pageRows);
  for (const [day, k] of kept) {
    const now = found.get(day) ?? { count: 0, digest: null };
    if (now.count === k.reserved && (now.digest === null || now.digest === k.reserveDigest)) continue;
    const what = RECONCILIATION_SEALS.describe({ account_tag: DAY_TOTALS_TAG, day, mac_key_id: null, mac: null });
    const changed = now.count === k.reserved ? `with other reserve events of its day than there are now (as many, ${now.count}, but not the same events)` : `with ${k.reserved} reserve events of its day, and there are ${now.count}`;
    moved.set(day, {
      day: dayLabel(day),
      kind: 'reserves',
      found: `${what} was counted ${changed}: payments were created that day that its count did not find (their rows or events changed in SQL then), or reserve events were changed or deleted in SQL since`,
    });
  }
  return moved;
}
