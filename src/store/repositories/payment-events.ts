import { createHash } from 'node:crypto';
import type { KeyRing } from '../../security/index.js';
import type { Queryable } from '../types.js';
import { isLink, linkHolds, STORED_LINK_COLUMNS, type StoredLink } from './audit-chain.js';
import type { Coverage } from './chain-coverage.js';
import { digest } from './audit-records.js';
import { toNumber, toNumberOrNull, toStringOrNull } from './row-values.js';
import { place, type SealPlace, type ValueOpener } from './sealed-values.js';

/**
 * A payment's history (migration 024): every write that changes a payment's state appends a row
 * of payment_events with the payment as it then stands, under a `payment_event` link of the
 * writer's keyed audit chain (audit-chain.ts). The payments row is the current state; its last
 * event must say the same, which `audit verify` and the status read check (paymentEventProblem).
 */

/** Why an event was written (`baseline`: migration 037 recorded a payment from before 024 as it stood, history-baselines.ts). */
export type PaymentEventCause = 'reserve' | 'update' | 'send' | 'settle' | 'check' | 'review' | 'release' | 'baseline';

/** The state of an event that released (deleted) an unsent reservation. */
export const RELEASED = 'RELEASED';

/** The columns of payment_events an event's INSERT writes, in the order of its values (PaymentRepository's eventValues). */
export const PAYMENT_EVENT_WRITTEN = [
  'payment_id', 'seq', 'cause', 'state', 'bank', 'operation', 'bank_transaction_id', 'bank_transaction_date', 'bank_reference', 'bank_external_id',
  'http_status', 'review_since', 'result_json', 'recorded_at', 'key_id',
] as const;

/** Columns of payment_events, in the order every SELECT uses: the id, then those written. */
export const PAYMENT_EVENT_COLUMNS = ['id', ...PAYMENT_EVENT_WRITTEN].join(', ');

export interface PaymentEventRow {
  id: number | string;
  payment_id: number | string;
  seq: number | string;
  cause: string;
  state: string;
  bank: string | null;
  operation: string | null;
  bank_transaction_id: string | null;
  bank_transaction_date: string | null;
  bank_reference: string | null;
  bank_external_id: string | null;
  http_status: number | string | null;
  review_since: number | string | null;
  result_json: string | null;
  recorded_at: number | string;
  key_id: string | null;
}

/** The fields of a payment an event records (as the payments row holds them, its answer in clear). */
export interface PaymentSnapshot {
  state: string;
  bank: string | null;
  operation: string | null;
  bankTransactionId: string | null;
  bankTransactionDate: string | null;
  bankReference: string | null;
  bankExternalId: string | null;
  httpStatus: number | null;
  reviewSince: number | null;
  resultJson: string | null;
}

/** Where an event's answer is sealed: its payment and place in that payment's history. */
export function eventPlace(paymentId: number, seq: number): SealPlace {
  return place('payment_events', 'result_json', [paymentId, seq]);
}

/** The snapshot a payments row holds (its answer opened from the row with `open`). */
export function snapshotOfRow(
  row: { state: string; bank: string | null; operation: string | null; bank_transaction_id: string | null; bank_transaction_date: string | null; bank_reference: string | null; bank_external_id: string | null; http_status: number | string | null; review_since: number | string | null },
  resultJson: string | null,
): PaymentSnapshot {
  return {
    state: row.state,
    bank: toStringOrNull(row.bank),
    operation: toStringOrNull(row.operation),
    bankTransactionId: toStringOrNull(row.bank_transaction_id),
    bankTransactionDate: toStringOrNull(row.bank_transaction_date),
    bankReference: toStringOrNull(row.bank_reference),
    bankExternalId: toStringOrNull(row.bank_external_id),
    httpStatus: toNumberOrNull(row.http_status),
    reviewSince: toNumberOrNull(row.review_since),
    resultJson,
  };
}

/** An event row in clear (its answer opened for its place). Throws IntegrityError when the answer does not open there. */
export function openEvent(row: PaymentEventRow, sealer: ValueOpener): { id: number; paymentId: number; seq: number; cause: string; recordedAt: number; snapshot: PaymentSnapshot } {
  const paymentId = toNumber(row.payment_id);
  const seq = toNumber(row.seq);
  return {
    id: toNumber(row.id),
    paymentId,
    seq,
    cause: row.cause,
    recordedAt: toNumber(row.recorded_at),
    snapshot: snapshotOfRow(row, sealer.open(toStringOrNull(row.result_json), eventPlace(paymentId, seq))),
  };
}

/** What an event's chain link covers: every field of the event, its answer in clear. */
export function paymentEventDigest(e: { id: number; paymentId: number; seq: number; cause: string; recordedAt: number; snapshot: PaymentSnapshot }): string {
  const s = e.snapshot;
  return digest([
    'payment-event', e.id, e.paymentId, e.seq, e.cause, s.state, s.bank, s.operation, s.bankTransactionId, s.bankTransactionDate, s.bankReference,
    s.bankExternalId, s.httpStatus, s.reviewSince, s.resultJson, e.recordedAt,
  ]);
}

const FIELDS: [keyof PaymentSnapshot, string][] = [
  ['state', 'state'],
  ['bank', 'bank'],
  ['operation', 'operation'],
  ['bankTransactionId', 'bank transaction id'],
  ['bankTransactionDate', 'bank transaction date'],
  ['bankReference', 'bank reference'],
  ['bankExternalId', 'external id'],
  ['httpStatus', 'HTTP status'],
  ['reviewSince', 'review queue time'],
  ['resultJson', 'answer'],
];

/**
 * How a payment differs from its last event, in words, or null when they agree: a payment whose
 * state, bank fields or answer were changed in the database without an event.
 */
export function paymentEventProblem(payment: { id: number; clientId: string; transactionId: string; snapshot: PaymentSnapshot }, last: { seq: number; snapshot: PaymentSnapshot }): string | null {
  const changed = FIELDS.filter(([field]) => payment.snapshot[field] !== last.snapshot[field]);
  if (changed.length === 0) return null;
  const said = changed
    .filter(([field]) => field !== 'resultJson')
    .map(([field, name]) => `${name} ${JSON.stringify(payment.snapshot[field])} where its last event (seq ${last.seq}) says ${JSON.stringify(last.snapshot[field])}`);
  if (changed.some(([field]) => field === 'resultJson')) said.push(`an answer other than its last event's (seq ${last.seq})`);
  return `payments id ${payment.id} (${payment.clientId} / ${payment.transactionId}) was changed without an event in its history: ${said.join(', ')}`;
}

/**
 * The last event of payment `paymentId`, authenticated by its own chain link's MAC (not its place
 * in the chain: `audit verify` walks that), or a reason it cannot be trusted. null: no event.
 */
export async function lastTrustedEvent(
  q: Queryable,
  ring: KeyRing,
  sealer: ValueOpener,
  paymentId: number,
): Promise<{ seq: number; snapshot: PaymentSnapshot } | { problem: string } | null> {
  const [row] = await q.query<PaymentEventRow>(`SELECT ${PAYMENT_EVENT_COLUMNS} FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1`, [paymentId]);
  if (!row) return null;
  const event = openEvent(row, sealer);
  const [link] = await q.query<StoredLink>(`SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND kind = 'payment_event' AND record_id = ?`, [event.id]);
  return trustedEvent(ring, event, link);
}

/**
 * lastTrustedEvent for many payments at once (a page of the console), in two statements: their
 * last events, then those events' links. Payments without an event are absent from the map.
 */
export async function lastTrustedEvents(q: Queryable, ring: KeyRing, sealer: ValueOpener, paymentIds: number[]): Promise<Map<number, TrustedEvent | { problem: string }>> {
  return trustedEventsOf(q, ring, sealer, [...(await lastEventRows(q, paymentIds)).values()]);
}

/**
 * The first event (seq 1: its `reserve`, recorded at the payment's created_at) of each of
 * `paymentIds`, authenticated by its own chain link as lastTrustedEvents does, in two statements.
 * Payments without one are absent from the map. Throws IntegrityError when an event's answer does
 * not open where it lies.
 */
export async function firstTrustedEvents(q: Queryable, ring: KeyRing, sealer: ValueOpener, paymentIds: number[]): Promise<Map<number, TrustedEvent | { problem: string }>> {
  if (paymentIds.length === 0) return new Map();
  const rows = await q.query<PaymentEventRow>(`SELECT ${PAYMENT_EVENT_COLUMNS} FROM payment_events WHERE seq = 1 AND payment_id IN (${paymentIds.map(() => '?').join(', ')})`, paymentIds);
  return trustedEventsOf(q, ring, sealer, rows);
}

/** An event whose chain link holds: its place in its payment's history, why and when it was written, and the payment as it then stood. */
export interface TrustedEvent {
  seq: number;
  cause: string;
  recordedAt: number;
  snapshot: PaymentSnapshot;
}

/** Event rows (one a payment) each with its link read (one statement) and held to it, by payment id. */
async function trustedEventsOf(q: Queryable, ring: KeyRing, sealer: ValueOpener, rows: PaymentEventRow[]): Promise<Map<number, TrustedEvent | { problem: string }>> {
  const out = new Map<number, TrustedEvent | { problem: string }>();
  const events = rows.map((row) => openEvent(row, sealer));
  const links =
    events.length === 0
      ? []
      : await q.query<StoredLink>(
          `SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND kind = 'payment_event' AND record_id IN (${events.map(() => '?').join(', ')})`,
          events.map((e) => e.id),
        );
  const linkOf = new Map(links.map((link) => [toNumber(link.record_id), link]));
  for (const event of events) out.set(event.paymentId, trustedEvent(ring, event, linkOf.get(event.id)));
  return out;
}

/** The last event row of each of `paymentIds` (one statement), by payment id. */
export async function lastEventRows(q: Queryable, paymentIds: number[]): Promise<Map<number, PaymentEventRow>> {
  if (paymentIds.length === 0) return new Map();
  // Grouped once, then joined: a correlated MAX per row took MariaDB 4-5 times longer for a page of 100.
  const rows = await q.query<PaymentEventRow>(
    `SELECT ${PAYMENT_EVENT_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')} FROM payment_events e JOIN ` +
      `(SELECT payment_id, MAX(seq) AS seq FROM payment_events WHERE payment_id IN (${paymentIds.map(() => '?').join(', ')}) GROUP BY payment_id) m ` +
      'ON m.payment_id = e.payment_id AND m.seq = e.seq',
    paymentIds,
  );
  return new Map(rows.map((row) => [toNumber(row.payment_id), row]));
}

/**
 * Why payment `payment` has no event, or null when it was created before its history was kept
 * (`coverage`, read by chainCoverage; a coverage row that cannot be trusted excuses nothing and
 * is named too). Since migration 037 the coverage excuses no payment (each one it excused was
 * given a `baseline` event), unless a key holder moved it, as test/load/console-perf.ts does for
 * the payments it seeds without a history.
 */
export function missingHistoryProblem(payment: { id: number; clientId: string; transactionId: string; createdAt: number }, coverage: Coverage): string | null {
  if (payment.createdAt < coverage.since) return null;
  const problem = `payments id ${payment.id} (${payment.clientId} / ${payment.transactionId}) has no event in its history: it was not written by the gateway, or its history was deleted`;
  return coverage.problem === null ? problem : `${problem}; ${coverage.problem}`;
}

/**
 * A payment against its last event as lastTrustedEvent(s) gave it: that event's seq when they
 * agree (undefined: a payment created before its history was kept, `coverage`), else what is wrong.
 */
export function paymentHistory(
  payment: { id: number; clientId: string; transactionId: string; createdAt: number; snapshot: PaymentSnapshot },
  last: { seq: number; snapshot: PaymentSnapshot } | { problem: string } | null | undefined,
  coverage: Coverage,
): { seq: number | undefined } | { problem: string } {
  if (last === null || last === undefined) {
    const problem = missingHistoryProblem(payment, coverage);
    return problem === null ? { seq: undefined } : { problem };
  }
  if ('problem' in last) return last;
  const problem = paymentEventProblem(payment, last);
  return problem === null ? { seq: last.seq } : { problem };
}

/** The event when its own chain link's MAC holds, else the problem in words. */
function trustedEvent(ring: KeyRing, event: ReturnType<typeof openEvent>, link: StoredLink | undefined): TrustedEvent | { problem: string } {
  const problem = `payment_events id ${event.id} (payment ${event.paymentId} seq ${event.seq}) is not the gateway's: its chain link is missing or does not match it`;
  if (!linkHolds(ring, 'payment_event', event.id, paymentEventDigest(event), link)) return { problem };
  return { seq: event.seq, cause: event.cause, recordedAt: event.recordedAt, snapshot: event.snapshot };
}

/** A `reserve` event as reservedBetween reads it: its id and its payment's. */
export interface ReserveEvent {
  id: number;
  paymentId: number;
}

/**
 * The identities of a day's reserve events in one value, kept with its totals under their row's MAC
 * (dayTotalsText): SHA-256 of their (id, payment id) pairs in the order of their ids, whatever
 * order they were read in. Not a count nor a sum: one event moved out of the day and another
 * put back in (or an id changed) gives another value, however many there are.
 */
export function reserveEventsDigest(events: readonly ReserveEvent[]): string {
  const sorted = [...events].sort((a, b) => a.id - b.id || a.paymentId - b.paymentId);
  const hash = createHash('sha256');
  for (const e of sorted) hash.update(`${e.id}:${e.paymentId}\n`);
  return hash.digest('hex');
}

/**
 * How many `reserve` events each of `ranges` has ([start, end), epoch ms, named by its `day`), and
 * their reserveEventsDigest: every entry of the day's range of ix_payment_events_reserved read
 * (reservedBetween, `pageRows` a statement), from the index alone. What the sweep holds a kept
 * day's totals to at every run; dearer than reservedCounts (a day's entries cross the wire).
 */
export async function reservedDigests(q: Queryable, ranges: readonly { day: number; start: number; end: number }[], pageRows: number): Promise<Map<number, { count: number; digest: string }>> {
  const found = new Map<number, { count: number; digest: string }>();
  for (const { day, start, end } of ranges) {
    const events: ReserveEvent[] = [];
    for await (const page of reservedBetween(q, start, end, pageRows)) for (const e of page) events.push(e);
    found.set(day, { count: events.length, digest: reserveEventsDigest(events) });
  }
  return found;
}

/**
 * The causes of a payment's first event, recorded at its created_at: `reserve` (in the same
 * transaction as its row), or `baseline` (migration 037, a payment from before 024 as it stood,
 * dated its created_at).
 */
export const CREATION_CAUSES = ['reserve', 'baseline'] as const;

/** CREATION_CAUSES as an SQL list, for `cause IN (...)`. */
export const CREATION_CAUSES_SQL = CREATION_CAUSES.map((cause) => `'${cause}'`).join(', ');

/** Whether `cause` is one of a payment's first events (CREATION_CAUSES). */
export function isCreationCause(cause: string): boolean {
  return (CREATION_CAUSES as readonly string[]).includes(cause);
}

/**
 * The first events (CREATION_CAUSES) recorded in [from, to): the payments whose history says they
 * were created then. Read from ix_payment_events_reserved alone (migration 035), a range of its
 * entries a cause, `pageRows` a statement at most, each page after the last one's (recorded_at,
 * payment_id). Whatever the event's link: one altered in SQL still says a payment was created then,
 * and it is the payment's history (lastTrustedEvents) that says whether it was released. Each with
 * the event's own id (the primary key: in every entry of the index, on both backends).
 */
export async function* reservedBetween(q: Queryable, from: number, to: number, pageRows: number): AsyncGenerator<ReserveEvent[]> {
  for (const cause of CREATION_CAUSES) {
    let after: { at: number; id: number } | null = null;
    for (;;) {
      const rows: { id: number | string; payment_id: number | string; recorded_at: number | string }[] = await q.query(
        `SELECT id, payment_id, recorded_at FROM payment_events WHERE cause = '${cause}' AND recorded_at >= ? AND recorded_at < ?` +
          `${after === null ? '' : ' AND (recorded_at > ? OR (recorded_at = ? AND payment_id > ?))'} ORDER BY recorded_at, payment_id LIMIT ${pageRows}`,
        after === null ? [from, to] : [from, to, after.at, after.at, after.id],
        // A range of one index: planned for these values (QueryOptions.freshPlan).
        { freshPlan: true },
      );
      if (rows.length === 0) break;
      yield rows.map((row) => ({ id: toNumber(row.id), paymentId: toNumber(row.payment_id) }));
      if (rows.length < pageRows) break;
      const last = rows[rows.length - 1];
      after = { at: toNumber(last.recorded_at), id: toNumber(last.payment_id) };
    }
  }
}

/** Days a statement of reservedCounts: one part of a UNION each, well under SQLite's 500. */
const RESERVED_COUNT_DAYS = 100;

/**
 * How many first events (CREATION_CAUSES) are recorded in each of `ranges` ([start, end), epoch ms,
 * each named by its `day`), by day: one COUNT of two ranges of ix_payment_events_reserved a day, from the index
 * alone (migration 035), RESERVED_COUNT_DAYS days a statement. Whatever the events' links, as
 * reservedBetween reads them.
 */
export async function reservedCounts(q: Queryable, ranges: readonly { day: number; start: number; end: number }[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (let first = 0; first < ranges.length; first += RESERVED_COUNT_DAYS) {
    const part = ranges.slice(first, first + RESERVED_COUNT_DAYS);
    const rows = await q.query<{ day: number | string; n: number | string }>(
      part.map(() => `SELECT ? AS day, COUNT(*) AS n FROM payment_events WHERE cause IN (${CREATION_CAUSES_SQL}) AND recorded_at >= ? AND recorded_at < ?`).join(' UNION ALL '),
      part.flatMap((r) => [r.day, r.start, r.end]),
      // Each part a range of one index: planned for these values (QueryOptions.freshPlan).
      { freshPlan: true },
    );
    for (const row of rows) counts.set(toNumber(row.day), toNumber(row.n));
  }
  return counts;
}
