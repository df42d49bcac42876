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
 *   database): never matched, never counted as paid, shown with what was found;
 * - `not-proved`: a debit and the payment it books, of a day whose audit chains were not proved
 *   (the walk passed a reading's bound and was left to the seal sweep): the payment may not stand
 *   as its history says, so the line is neither matched nor counted as matched until the day is;
 * - `not-provable`: a debit and the payment it books, of a day whose audit chains do not hold
 *   (records deleted with their links, a chain cut back): the payment cannot be proved against its
 *   history, so the line is never matched nor counted as matched until the chains are put right;
 * - `not-read`: a debit no payment read explains, dated on or after the first day whose payments
 *   were not all read (a period past RECONCILE_LIMIT): the payment it books may be among those
 *   left out, so it is not named statement-only (a transfer made elsewhere) either.
 */
export type ReconciliationLine =
  | { kind: 'matched'; entry: StatementEntry; payment: ReconciledPayment }
  | { kind: 'not-proved'; entry: StatementEntry; payment: ReconciledPayment }
  | { kind: 'not-provable'; entry: StatementEntry; payment: ReconciledPayment }
  | { kind: 'statement-only'; entry: StatementEntry }
  | { kind: 'not-read'; entry: StatementEntry }
  | { kind: 'gerbang-only'; payment: ReconciledPayment }
  | { kind: 'credit'; entry: StatementEntry }
  | { kind: 'forged'; payment: ReconciledPayment & { integrityProblem: string } };

/** What a day's audit chains were found to be when they were not proved to hold: the kind its booked debits take. */
export type UnprovedKind = 'not-proved' | 'not-provable';

export interface Reconciliation {
  lines: ReconciliationLine[];
  counts: Record<ReconciliationLine['kind'], number>;
}

const DAY_MS = 86_400_000;

/** The day a payment went to the bank: its transaction date, else the day it was received (Jakarta). */
export function paymentDay(payment: Pick<PaymentRecord, 'bankTransactionDate' | 'createdAt'>): string {
  return payment.bankTransactionDate ?? jakartaDate(payment.createdAt);
}

/**
 * The places of `days` (yyyy-MM-dd) in day order, ties by `tie` of their places; null when they
 * are in that order already (checked in one pass), so nothing is sorted nor copied.
 */
function inDayOrder(days: readonly string[], tie: (a: number, b: number) => number): number[] | null {
  // Equal days first (most pairs: a day's payments come together), one comparison of the two strings, not two.
  const order = (a: number, b: number) => (days[a] === days[b] ? tie(a, b) : days[a] < days[b] ? -1 : 1);
  for (let i = 1; i < days.length; i += 1) if (order(i - 1, i) > 0) return days.map((_, k) => k).sort(order);
  return null;
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
 * A debit booking a payment of a day of `unproved` (yyyy-MM-dd: days whose audit chains were not
 * proved to hold, each with its kind: `not-proved` yet, or `not-provable` as they are broken) takes
 * that day's kind, never `matched`. A debit no payment books, dated on or after `notReadFrom`
 * (yyyy-MM-dd: the first day whose payments were not all read), or still pending while some were
 * not, is `not-read`, not `statement-only`. Lines come out by day, statement order kept within a day.
 */
export function reconcileStatement(
  entries: readonly StatementEntry[],
  payments: readonly ReconciledPayment[],
  unproved: ReadonlyMap<string, UnprovedKind> = new Map(),
  notReadFrom?: string,
): Reconciliation {
  // Debits by amount in cents: a payment is compared with the debits of its amount only, so a
  // month of a busy account is not every payment against every line.
  // A debit's place alone while it is the only one of its amount (most are): no array each.
  const debitsByAmount = new Map<number, number | number[]>();
  for (let i = 0; i < entries.length; i += 1) {
    const entry = entries[i];
    if (entry.type !== 'DEBIT') continue;
    const key = cents(entry.amount.startsWith('-') ? entry.amount.slice(1) : entry.amount);
    const same = debitsByAmount.get(key);
    if (same === undefined) debitsByAmount.set(key, i);
    else if (typeof same === 'number') debitsByAmount.set(key, [same, i]);
    else same.push(i);
  }
  // A month is tens of thousands of payments: each one's day is worked out once (and each day's
  // next), each line's text once, and a booking is marked where it is looked up. The candidates,
  // their days and whether each was booked are kept side by side, not in an object each.
  const candidates = payments.filter((p) => p.state !== 'RECEIVED' && p.integrityProblem === undefined);
  let days = candidates.map(paymentDay);
  // Most often in order already (read by time, dated by it): then not sorted (a month's 50,000 compared in pairs of strings).
  const byDay = inDayOrder(days, (a, b) => candidates[a].id - candidates[b].id);
  const sorted = byDay === null ? candidates : byDay.map((k) => candidates[k]);
  if (byDay !== null) days = byDay.map((k) => days[k]);
  const bookedOne = new Uint8Array(sorted.length);
  // Filled up front: written at scattered places, an empty array turned into a dictionary (a hash lookup each).
  const texts = new Array<string | undefined>(entries.length).fill(undefined);
  const booked = new Array<ReconciledPayment | undefined>(entries.length).fill(undefined);
  let lastDay = '';
  let next = '';
  for (let c = 0; c < sorted.length; c += 1) {
    const payment = sorted[c];
    const day = days[c];
    // Candidates come by day: its next is worked out when the day changes.
    if (day !== lastDay) next = nextDay((lastDay = day));
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
        bookedOne[c] = 1;
        break;
      }
    }
  }
  // The statement's lines in its order, then the payments no debit books, then those changed
  // outside Gerbang, each with its day (side by side: no object a line for the sorting).
  const lines: ReconciliationLine[] = [];
  const lineDays: string[] = [];
  const counts = { matched: 0, 'not-proved': 0, 'not-provable': 0, 'statement-only': 0, 'not-read': 0, 'gerbang-only': 0, credit: 0, forged: 0 };
  const unread = (entry: StatementEntry) => notReadFrom !== undefined && (entry.pending === true || entry.date >= notReadFrom);
  const add = (line: ReconciliationLine, day: string) => {
    lines.push(line);
    lineDays.push(day);
    counts[line.kind] += 1;
  };
  entries.forEach((entry, i) => {
    const payment = booked[i];
    if (payment === undefined) add(entry.type === 'CREDIT' ? { kind: 'credit', entry } : { kind: unread(entry) ? 'not-read' : 'statement-only', entry }, entry.date);
    // Most periods have no day left unproved: no day worked out again for them.
    else add({ kind: (unproved.size > 0 && unproved.get(paymentDay(payment))) || 'matched', entry, payment }, entry.date);
  });
  sorted.forEach((payment, c) => {
    if (bookedOne[c] === 0 && payment.state !== 'FAILED') add({ kind: 'gerbang-only', payment }, days[c]);
  });
  for (const payment of payments) {
    const problem = payment.integrityProblem;
    if (problem !== undefined) add({ kind: 'forged', payment: { ...payment, integrityProblem: problem } }, paymentDay(payment));
  }
  // By day, the order above kept within a day.
  const order = inDayOrder(lineDays, (a, b) => a - b);
  return { lines: order === null ? lines : order.map((k) => lines[k]), counts };
}
