import { IntegrityError } from '../../errors/index.js';
import type { Db, Queryable } from '../types.js';
import { attempt, type LostPayment } from './audit-verify.js';
import { lastTrustedEvent, lastTrustedEvents, paymentHistory, RELEASED, snapshotOfRow, type PaymentSnapshot } from './payment-events.js';
import { PAYMENT_COLUMNS, paymentMacProblem, type PaymentRow } from './payment-repository.js';
import { toNumber, toStringOrNull } from './row-values.js';
import { paymentPlace, type ValueSealer } from './sealed-values.js';

/**
 * The reads behind the audit scrub's memory of payments (AuditScrub): who each payment is for,
 * learned as the scrub proves its events' links, and, when a new payment is about to be made for
 * a key it remembers, whether the payment it remembers was released or is lost.
 */

/**
 * A payment's stamp: its creation time (epoch ms, covered by its MAC) modulo 2^32. Another payment
 * for the same key carries the same stamp only when made a multiple of 49.7 days later to the
 * millisecond, a time the ERP's resend picks, not someone writing to the database.
 */
export function stampOf(createdAt: number): number {
  return createdAt % 0x1_0000_0000;
}

/** Statements' IN lists at most this long. */
const IDS_A_STATEMENT = 500;

/** A payment the scrub remembers: its id, its key (the reservation is unique on it) and its creation time (its MAC covers it). */
export interface RememberedPayment {
  paymentId: number;
  clientId: string;
  transactionId: string;
  createdAt: number;
}

/**
 * Why payments row `row` cannot be taken as the payment at its id, or null: its MAC does not hold,
 * or it does not agree with the last event of that id whose own link holds (`last`; none: no
 * history). The MAC does not cover the id, so a row moved onto another payment's id stands under
 * its MAC; the events' links cover their payment's id, so it does not agree with that history.
 */
function rowProblem(sealer: ValueSealer, row: PaymentRow, last: { seq: number; snapshot: PaymentSnapshot } | { problem: string } | null | undefined): string | null {
  const mac = paymentMacProblem(sealer.keyRing, row);
  if (mac !== null) return mac;
  const id = toNumber(row.id);
  const opened = attempt(() => sealer.open(toStringOrNull(row.result_json), paymentPlace('result_json', row)));
  if ('error' in opened) return `payments id ${id}: ${opened.error}`;
  // Every payment the scrub remembers has a history (it learns from events; this process wrote the reservation's).
  const history = paymentHistory({ id, clientId: row.client_id, transactionId: row.transaction_id, createdAt: toNumber(row.created_at), snapshot: snapshotOfRow(row, opened.value) }, last, { since: 0, problem: null });
  return 'problem' in history ? history.problem : null;
}

/**
 * The payments of events `eventIds` whose row stands under its MAC and agrees with the last event
 * of its id whose link holds (rowProblem): its key and creation time. A row that is gone (released,
 * or deleted), altered, or moved onto another payment's id is left out: the scrub's other checks
 * name it, and the check of a new payment for a remembered key finds it lost.
 */
export async function paymentKeysOfEvents(db: Queryable, sealer: ValueSealer, eventIds: number[]): Promise<RememberedPayment[]> {
  const out: RememberedPayment[] = [];
  const ids = [...new Set(eventIds)];
  for (let from = 0; from < ids.length; from += IDS_A_STATEMENT) {
    const some = ids.slice(from, from + IDS_A_STATEMENT);
    const rows = await db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS.split(', ').map((c) => `p.${c}`).join(', ')} FROM payments p WHERE p.id IN (SELECT e.payment_id FROM payment_events e WHERE e.id IN (${some.map(() => '?').join(', ')}))`,
      some,
    );
    const last = await lastTrustedEvents(db, sealer.keyRing, sealer, rows.map((row) => toNumber(row.id)));
    for (const row of rows) {
      const paymentId = toNumber(row.id);
      if (rowProblem(sealer, row, last.get(paymentId)) === null) out.push({ paymentId, clientId: row.client_id, transactionId: row.transaction_id, createdAt: toNumber(row.created_at) });
    }
  }
  return out;
}

/**
 * Payment `id`, which the scrub saw for (`clientId`, `transactionId`) with stamp `stamp` (stampOf
 * its creation time), checked exactly when the gateway is about to make a new payment for that
 * key, in one transaction: null when it was released (its row gone, its history ending in a
 * release event whose link holds) or it stands (the row at its id carries exactly its key and
 * stamp under its MAC, and agrees with the last event of that id whose link holds); otherwise how
 * it was lost (its row deleted while its history does not end in its release or is gone too; its
 * row altered; another row at its id, moved there or given its id again).
 */
export async function lostPaymentNow(db: Db, sealer: ValueSealer, id: number, key: { clientId: string; transactionId: string; stamp: number }): Promise<LostPayment | null> {
  return db.withTransaction((tx) => lostPaymentIn(tx, sealer, id, key));
}

/** lostPaymentNow read on `tx`, one transaction or snapshot the caller holds (AuditRepository.readingOn). */
export async function lostPaymentIn(tx: Queryable, sealer: ValueSealer, id: number, key: { clientId: string; transactionId: string; stamp: number }): Promise<LostPayment | null> {
  const lost = (kind: LostPayment['kind'], why: string, last?: { seq: number; state: string }): LostPayment => ({
    paymentId: id,
    eventId: 0,
    seq: last?.seq ?? 0,
    state: last?.state ?? '',
    kind,
    detail: `payments id ${id} (${key.clientId} / ${key.transactionId}) ${why}: a new payment for its transactionId would pay it again`,
  });
  const [row] = await tx.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
  if (row) {
    const mac = paymentMacProblem(sealer.keyRing, row);
    if (mac !== null) return { ...lost('altered', 'no longer matches its MAC'), detail: mac };
    if (row.client_id !== key.clientId || row.transaction_id !== key.transactionId || stampOf(toNumber(row.created_at)) !== key.stamp) {
      return lost('deleted', `is gone: the row at its id is another payment (${row.client_id} / ${row.transaction_id}, created ${new Date(toNumber(row.created_at)).toISOString()}), moved there or given its id again`);
    }
    const problem = rowProblem(sealer, row, await lastTrustedEvent(tx, sealer.keyRing, sealer, id).catch((error: unknown) => {
      if (error instanceof IntegrityError) return { problem: `its last event was altered (${error.where})` };
      throw error;
    }));
    return problem === null ? null : { ...lost('altered', 'does not agree with its history'), detail: `${problem}: a new payment for its transactionId would pay it again` };
  }
  let last: Awaited<ReturnType<typeof lastTrustedEvent>>;
  try {
    last = await lastTrustedEvent(tx, sealer.keyRing, sealer, id);
  } catch (error) {
    if (!(error instanceof IntegrityError)) throw error;
    return lost('deleted', `was deleted, and its last event was altered (${error.where})`);
  }
  if (last === null) return lost('deleted', 'was deleted with its whole history');
  if ('problem' in last) return lost('deleted', `was deleted, and its last event cannot be trusted (${last.problem})`);
  if (last.snapshot.state === RELEASED) return null;
  return lost('deleted', `was deleted: its history (last event seq ${last.seq}, ${last.snapshot.state}) does not end in its release`, { seq: last.seq, state: last.snapshot.state });
}

/**
 * How many links each chain holds in `ranges` (seq from/to, both included): one index range count
 * each, summed by the database, so that the scrub can tell a link gone from links it proved
 * without reading or MACing them again.
 */
export async function linkCounts(db: Queryable, ranges: { writerId: string; fromSeq: number; toSeq: number }[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let from = 0; from < ranges.length; from += IDS_A_STATEMENT) {
    const some = ranges.slice(from, from + IDS_A_STATEMENT);
    const rows = await db.query<{ writer_id: string; n: number | string }>(
      `SELECT writer_id, COUNT(*) AS n FROM audit_chain WHERE ${some.map(() => '(writer_id = ? AND seq >= ? AND seq <= ?)').join(' OR ')} GROUP BY writer_id`,
      some.flatMap((r) => [r.writerId, r.fromSeq, r.toSeq]),
    );
    for (const row of rows) counts.set(row.writer_id, toNumber(row.n));
  }
  return counts;
}
