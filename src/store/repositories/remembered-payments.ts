import { IntegrityError } from '../../errors/index.js';
import type { Db, Queryable } from '../types.js';
import type { LostPayment } from './audit-verify.js';
import { lastTrustedEvent, RELEASED } from './payment-events.js';
import { PAYMENT_COLUMNS, paymentMacProblem, type PaymentRow } from './payment-repository.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * The reads behind the audit scrub's memory of payments (AuditScrub): who each payment is for,
 * learned as the scrub proves its events' links, and, when a new payment is about to be made for
 * a key it remembers, whether the payment it remembers was released or is lost.
 */

/** Statements' IN lists at most this long. */
const IDS_A_STATEMENT = 500;

/**
 * The payments of events `eventIds` whose row stands under its MAC: its client and transactionId
 * (the key the reservation is unique on). A row that is gone (released, or deleted) or does not
 * match its MAC is left out: the scrub's other checks name it.
 */
export async function paymentKeysOfEvents(db: Queryable, sealer: ValueSealer, eventIds: number[]): Promise<{ paymentId: number; clientId: string; transactionId: string }[]> {
  const out: { paymentId: number; clientId: string; transactionId: string }[] = [];
  const ids = [...new Set(eventIds)];
  for (let from = 0; from < ids.length; from += IDS_A_STATEMENT) {
    const some = ids.slice(from, from + IDS_A_STATEMENT);
    const rows = await db.query<Pick<PaymentRow, 'id' | 'client_id' | 'transaction_id' | 'request_hash' | 'amount' | 'currency' | 'created_at' | 'mac_key_id' | 'mac'>>(
      'SELECT DISTINCT p.id, p.client_id, p.transaction_id, p.request_hash, p.amount, p.currency, p.created_at, p.mac_key_id, p.mac ' +
        `FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE e.id IN (${some.map(() => '?').join(', ')})`,
      some,
    );
    for (const row of rows) if (paymentMacProblem(sealer.keyRing, row) === null) out.push({ paymentId: toNumber(row.id), clientId: row.client_id, transactionId: row.transaction_id });
  }
  return out;
}

/**
 * Payment `id`, which the scrub saw for (`clientId`, `transactionId`), checked exactly when the
 * gateway is about to make a new payment for that key, in one transaction: null when it was
 * released (its history ends in a release event whose link holds) or its row stands under its MAC
 * for another key; otherwise how it was lost (its row deleted while its history does not end in
 * its release or is gone too, or its row altered away from its MAC).
 */
export async function lostPaymentNow(db: Db, sealer: ValueSealer, id: number, key: { clientId: string; transactionId: string }): Promise<LostPayment | null> {
  return db.withTransaction(async (tx) => {
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
      const problem = paymentMacProblem(sealer.keyRing, row);
      return problem === null ? null : { ...lost('altered', 'no longer matches its MAC'), detail: problem };
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
  });
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
