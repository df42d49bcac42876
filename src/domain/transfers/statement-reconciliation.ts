import type { StatementEntry } from '../../banks/types.js';
import { cents } from '../../config/index.js';
import type { PaymentRecord, ReconciledPayment } from '../../store/types.js';
import { jakartaDate } from '../../time/index.js';
import { mentions } from './statement-proof.js';

/**
 * One line of a reconciliation, what finance checks every morning:
 * - `matched`: a debit on the statement and the payment it books (same amount, a reference the
 *   transfer carried, on its transaction date or the next day);
 * - `statement-only`: a debit no payment of Gerbang explains (a transfer made elsewhere, a fee);
 * - `gerbang-only`: a payment Gerbang sent (or may have sent) that no debit books;
 * - `credit`: money in, which Gerbang never sends: shown for completeness, never a problem;
 * - `forged`: a payment whose MAC does not hold (its amount, transaction id or time changed in the
 *   database): never matched, never counted as paid, shown with what was found.
 */
export type ReconciliationLine =
  | { kind: 'matched'; entry: StatementEntry; payment: ReconciledPayment }
  | { kind: 'statement-only'; entry: StatementEntry }
  | { kind: 'gerbang-only'; payment: ReconciledPayment }
  | { kind: 'credit'; entry: StatementEntry }
  | { kind: 'forged'; payment: ReconciledPayment & { integrityProblem: string } };

export interface Reconciliation {
  lines: ReconciliationLine[];
  counts: Record<ReconciliationLine['kind'], number>;
}

const DAY_MS = 86_400_000;

/** The day a payment went to the bank: its transaction date, else the day it was received (Jakarta). */
export function paymentDay(payment: Pick<PaymentRecord, 'bankTransactionDate' | 'createdAt'>): string {
  return payment.bankTransactionDate ?? jakartaDate(payment.createdAt);
}

/** `items` sorted by `order` in place, left as they are when they are in that order already (checked in one pass). */
function sortedBy<T>(items: T[], order: (a: T, b: T) => number): void {
  for (let i = 1; i < items.length; i += 1) {
    if (order(items[i - 1], items[i]) > 0) {
      items.sort(order);
      return;
    }
  }
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

/**
 * Matches a company account's statement with Gerbang's payments from that account, line by line.
 * A debit books a payment when the amounts are equal, the line carries the transactionId or the
 * id Gerbang gave the transfer at the bank as a whole word, and it was booked on the transaction
 * date or the next day (or is still pending): the same test the in-doubt resolver trusts. Each
 * debit books at most one payment. A refused payment (FAILED) that no debit books is not a line
 * (nothing left the account, as expected); one a debit books is matched, and the page must say
 * the money left although Gerbang reported a failure. Payments never sent (RECEIVED) are left out.
 * A payment marked changed outside Gerbang (integrityProblem) books nothing: its line is `forged`
 * (its facts may be the forger's), and a debit it would have booked stays statement-only.
 * Lines come out by day, statement order kept within a day.
 */
export function reconcileStatement(entries: readonly StatementEntry[], payments: readonly ReconciledPayment[]): Reconciliation {
  // Debits by amount in cents: a payment is compared with the debits of its amount only, so a
  // month of a busy account is not every payment against every line.
  // A debit's place alone while it is the only one of its amount (most are): no array each.
  const debitsByAmount = new Map<number, number | number[]>();
  entries.forEach((entry, i) => {
    if (entry.type !== 'DEBIT') return;
    const key = cents(entry.amount.startsWith('-') ? entry.amount.slice(1) : entry.amount);
    const same = debitsByAmount.get(key);
    if (same === undefined) debitsByAmount.set(key, i);
    else if (typeof same === 'number') debitsByAmount.set(key, [same, i]);
    else same.push(i);
  });
  // A month is tens of thousands of payments: each one's day is worked out once (and each day's
  // next), each line's text once, and a booking is marked where it is looked up.
  const candidates = payments.filter((p) => p.state !== 'RECEIVED' && p.integrityProblem === undefined).map((payment) => ({ payment, day: paymentDay(payment), booked: false }));
  // Most often in order already (read by time, dated by it): then not sorted (a month's 50,000 compared in pairs of strings).
  sortedBy(candidates, (a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.payment.id - b.payment.id));
  const nextOf = new Map<string, string>();
  // Filled up front: written at scattered places, an empty array turned into a dictionary (a hash lookup each).
  const texts = new Array<string | undefined>(entries.length).fill(undefined);
  const booked = new Array<ReconciledPayment | undefined>(entries.length).fill(undefined);
  for (const candidate of candidates) {
    const { payment, day } = candidate;
    let next = nextOf.get(day);
    if (next === undefined) nextOf.set(day, (next = nextDay(day)));
    // The debits of the payment's amount: their key is sameMoney's own test, so the amounts are equal.
    const same = debitsByAmount.get(cents(payment.amount));
    for (let k = 0; same !== undefined && k < (typeof same === 'number' ? 1 : same.length); k += 1) {
      const i = typeof same === 'number' ? same : same[k];
      const entry = entries[i];
      if (booked[i] !== undefined || !(entry.pending === true || entry.date === day || entry.date === next)) continue;
      const text = (texts[i] ??= `${entry.description} ${entry.reference ?? ''}`);
      // Written out, not as an array's some(): a month asks this of every payment, each array and closure collected after.
      if (mentions(text, payment.transactionId) || mentions(text, payment.bankTransactionId ?? '') || mentions(text, payment.bankExternalId ?? '')) {
        booked[i] = payment;
        candidate.booked = true;
        break;
      }
    }
  }
  const dated: { day: string; order: number; line: ReconciliationLine }[] = entries.map((entry, i) => {
    const payment = booked[i];
    const line: ReconciliationLine = payment !== undefined ? { kind: 'matched', entry, payment } : entry.type === 'CREDIT' ? { kind: 'credit', entry } : { kind: 'statement-only', entry };
    return { day: entry.date, order: i, line };
  });
  for (const { payment, day, booked: isBooked } of candidates) {
    if (!isBooked && payment.state !== 'FAILED') dated.push({ day, order: dated.length, line: { kind: 'gerbang-only', payment } });
  }
  for (const payment of payments) {
    const problem = payment.integrityProblem;
    if (problem !== undefined) dated.push({ day: paymentDay(payment), order: dated.length, line: { kind: 'forged', payment: { ...payment, integrityProblem: problem } } });
  }
  sortedBy(dated, (a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.order - b.order));
  const lines = dated.map((d) => d.line);
  const counts = { matched: 0, 'statement-only': 0, 'gerbang-only': 0, credit: 0, forged: 0 };
  for (const line of lines) counts[line.kind] += 1;
  return { lines, counts };
}
