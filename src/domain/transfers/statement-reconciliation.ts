import type { StatementEntry } from '../../banks/types.js';
import { cents } from '../../config/index.js';
import type { PaymentRecord, ReconciledPayment } from '../../store/types.js';
import { jakartaDate } from '../../time/index.js';
import { mentions, sameMoney } from './statement-proof.js';

/**
 * One line of a reconciliation, what finance checks every morning:
 * - `matched`: a debit on the statement and the payment it books (same amount, a reference the
 *   transfer carried, on its transaction date or the next day);
 * - `statement-only`: a debit no payment of Gerbang explains (a transfer made elsewhere, a fee);
 * - `gerbang-only`: a payment Gerbang sent (or may have sent) that no debit books;
 * - `credit`: money in, which Gerbang never sends: shown for completeness, never a problem.
 */
export type ReconciliationLine =
  | { kind: 'matched'; entry: StatementEntry; payment: ReconciledPayment }
  | { kind: 'statement-only'; entry: StatementEntry }
  | { kind: 'gerbang-only'; payment: ReconciledPayment }
  | { kind: 'credit'; entry: StatementEntry };

export interface Reconciliation {
  lines: ReconciliationLine[];
  counts: Record<ReconciliationLine['kind'], number>;
}

const DAY_MS = 86_400_000;

/** The day a payment went to the bank: its transaction date, else the day it was received (Jakarta). */
export function paymentDay(payment: Pick<PaymentRecord, 'bankTransactionDate' | 'createdAt'>): string {
  return payment.bankTransactionDate ?? jakartaDate(payment.createdAt);
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
 * Lines come out by day, statement order kept within a day.
 */
export function reconcileStatement(entries: readonly StatementEntry[], payments: readonly ReconciledPayment[]): Reconciliation {
  const used = new Set<number>();
  const booked = new Map<number, number>();
  // Debits by amount in cents: a payment is compared with the debits of its amount only, so a
  // month of a busy account is not every payment against every line.
  const debitsByAmount = new Map<number, number[]>();
  entries.forEach((entry, i) => {
    if (entry.type !== 'DEBIT') return;
    const key = cents(entry.amount.replace(/^-/, ''));
    const same = debitsByAmount.get(key);
    if (same) same.push(i);
    else debitsByAmount.set(key, [i]);
  });
  // Each payment's day worked out once (a month is tens of thousands of payments), and each day's next.
  const dayOf = new Map(payments.map((p) => [p.id, paymentDay(p)]));
  const nextOf = new Map<string, string>();
  const candidates = payments.filter((p) => p.state !== 'RECEIVED').sort((a, b) => {
    const dayA = dayOf.get(a.id)!;
    const dayB = dayOf.get(b.id)!;
    return dayA < dayB ? -1 : dayA > dayB ? 1 : a.id - b.id;
  });
  for (const payment of candidates) {
    const day = dayOf.get(payment.id)!;
    let next = nextOf.get(day);
    if (next === undefined) nextOf.set(day, (next = nextDay(day)));
    const days = [day, next];
    const references = [payment.transactionId, payment.bankTransactionId ?? '', payment.bankExternalId ?? ''];
    const index = (debitsByAmount.get(cents(payment.amount)) ?? []).find((i) => {
      const entry = entries[i];
      return (
        !used.has(i) &&
        (entry.pending === true || days.includes(entry.date)) &&
        sameMoney(entry.amount, payment.amount) &&
        references.some((reference) => mentions(`${entry.description} ${entry.reference ?? ''}`, reference))
      );
    });
    if (index !== undefined) {
      used.add(index);
      booked.set(index, payment.id);
    }
  }
  const byId = new Map(payments.map((p) => [p.id, p]));
  const dated: { day: string; order: number; line: ReconciliationLine }[] = entries.map((entry, i) => {
    const paymentId = booked.get(i);
    const line: ReconciliationLine =
      paymentId !== undefined ? { kind: 'matched', entry, payment: byId.get(paymentId)! } : entry.type === 'CREDIT' ? { kind: 'credit', entry } : { kind: 'statement-only', entry };
    return { day: entry.date, order: i, line };
  });
  const bookedIds = new Set(booked.values());
  candidates
    .filter((p) => !bookedIds.has(p.id) && p.state !== 'FAILED')
    .forEach((payment, i) => dated.push({ day: dayOf.get(payment.id)!, order: entries.length + i, line: { kind: 'gerbang-only', payment } }));
  dated.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.order - b.order));
  const lines = dated.map((d) => d.line);
  const counts = { matched: 0, 'statement-only': 0, 'gerbang-only': 0, credit: 0 };
  for (const line of lines) counts[line.kind] += 1;
  return { lines, counts };
}
