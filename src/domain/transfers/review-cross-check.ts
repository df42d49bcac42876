import type { PaymentRecord } from '../../store/types.js';
import { readStatementProof, type StatementLines } from './statement-proof.js';
import { paymentDay } from './statement-reconciliation.js';

/**
 * Where a review reads the paying account's statement, and when the bank's day has closed
 * (GERBANG_BANK_DAY_CLOSE_WIB, the in-doubt resolver's setting): the console and the CLI read it
 * through Gerbang's own API (the gateway holds the bank's credentials and audits the call).
 */
export interface ReviewStatements {
  lines: StatementLines;
  dayCloseWib: string;
}

/**
 * What the paying account's statement says of an admin's resolution:
 * - `contradicted`: it shows the opposite (`found` names the line, or says no debit is there): refused;
 * - `confirmed`: it proves the same outcome (`found`, the same way);
 * - `unchecked`: it proves nothing either way (`reason`): the admin's word goes ahead, and the
 *   audit and the answer say it was not cross-checked and why.
 */
export type ReviewCrossCheck =
  | { result: 'contradicted'; found: string }
  | { result: 'confirmed'; found: string }
  | { result: 'unchecked'; reason: string };

/**
 * Reads the statement for the payment's day (its transaction date, a reservation's day received)
 * and the next, judged as the resolver judges it (readStatementProof). FAILED is contradicted by
 * a debit of the amount carrying one of its references, booked or pending, one or several: money
 * left under this transfer's name, and releasing it would pay it again. SUCCESS is contradicted
 * only by no debit of the amount at all, read after the bank's day closed.
 */
export async function crossCheckReview(statements: ReviewStatements, payment: PaymentRecord, outcome: 'SUCCESS' | 'FAILED', now: number): Promise<ReviewCrossCheck> {
  const verdict = await readStatementProof(statements.lines, payment, { now, dayCloseWib: statements.dayCloseWib, day: paymentDay(payment) });
  switch (verdict.kind) {
    case 'debited':
      return outcome === 'FAILED' ? { result: 'contradicted', found: `the statement books it: ${verdict.line}` } : { result: 'confirmed', found: verdict.line };
    case 'not-debited':
      return { result: outcome === 'SUCCESS' ? 'contradicted' : 'confirmed', found: verdict.detail };
    case 'too-early':
      return { result: 'unchecked', reason: `no debit of ${payment.amount} on the statement yet, but it proves nothing before ${new Date(verdict.readableAt).toISOString()} (the bank's day close)` };
    case 'inconclusive':
      if (outcome === 'FAILED' && verdict.referenced) return { result: 'contradicted', found: `${verdict.reason}: ${verdict.referenced.join('; ')}` };
      return { result: 'unchecked', reason: `the statement proves nothing either way: ${verdict.reason}` };
  }
}
