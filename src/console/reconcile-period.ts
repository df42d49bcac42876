import type { StatementEntry } from '../banks/types.js';
import { paymentDay, reconcileStatement, type Reconciliation } from '../domain/transfers/index.js';
import type { PaymentSearchRepository, ReconciledPayment } from '../store/types.js';

const DAY_MS = 86_400_000;

/**
 * The reconciliation page's work once it has the bank's statement: the payments received from
 * `account` in the Jakarta days `from`..`to` (yyyy-MM-dd; a payment's transaction date is the day
 * it was received), kept when their transaction day lies in the period, matched to `entries`.
 */
export async function reconcilePeriod(
  search: PaymentSearchRepository,
  account: string,
  from: string,
  to: string,
  entries: readonly StatementEntry[],
): Promise<{ reconciliation: Reconciliation; truncated: boolean }> {
  const payments = await search.fromAccount(account, Date.parse(`${from}T00:00:00+07:00`), Date.parse(`${to}T00:00:00+07:00`) + DAY_MS);
  const inside = (p: ReconciledPayment) => {
    const day = paymentDay(p);
    return day >= from && day <= to;
  };
  // Most often every one is (a month's 50,000: no copy of the list).
  const inPeriod = payments.rows.every(inside) ? payments.rows : payments.rows.filter(inside);
  return { reconciliation: reconcileStatement(entries, inPeriod), truncated: payments.truncated };
}
