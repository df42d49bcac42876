import type { StatementEntry } from '../banks/types.js';
import { paymentDay, reconcileStatement, type Reconciliation, type UnprovedKind } from '../domain/transfers/index.js';
import type { MissingPayments, PaymentSearchRepository, ReconciledPayment } from '../store/types.js';

const DAY_MS = 86_400_000;

/** The payments received from an account in a period, each proved (PaymentSearchRepository.fromAccount). */
export interface PeriodPayments {
  rows: ReconciledPayment[];
  truncated: boolean;
  /** Sealed days with payments deleted in the database, outside Gerbang. */
  missing: MissingPayments[];
  /** Days (yyyy-MM-dd) not checked for payments deleted in the database (ReconciledPeriod.unchecked). */
  unchecked: string[];
  /** Days not sealed because the audit chains do not hold as a whole, and why (ReconciledPeriod.unprovable). */
  unprovable?: { days: string[]; problem: string };
  /** Days not sealed because proving the chains was left to the seal sweep, and the guard's words (ReconciledPeriod.leftToSweep). */
  leftToSweep?: { days: string[]; detail: string };
  /** `truncated` only: the first day whose payments were not all read (ReconciledPeriod.notReadFrom). */
  notReadFrom?: string;
}

/** What the page shows of a period: the lines matched, whether the period held more, the days missing payments. */
export interface MatchedPeriod {
  reconciliation: Reconciliation;
  truncated: boolean;
  missing: MissingPayments[];
  unchecked: string[];
  unprovable?: { days: string[]; problem: string };
  leftToSweep?: { days: string[]; detail: string };
  /** `truncated` only: the first day of the period whose payments were not all read; its debits and later ones no payment read books are `not-read`. */
  notReadFrom?: string;
}

/**
 * The reconciliation's half that needs no statement: the payments received from `account` in
 * the Jakarta days `from`..`to` (yyyy-MM-dd; a payment's transaction date is the day it was
 * received, so the read spans those days and matchPeriod keeps the ones dated in the period),
 * each proved as fromAccount proves it. The page asks for it while the bank's statement is read.
 */
export function periodPayments(search: PaymentSearchRepository, account: string, from: string, to: string): Promise<PeriodPayments> {
  return search.fromAccount(account, Date.parse(`${from}T00:00:00+07:00`), Date.parse(`${to}T00:00:00+07:00`) + DAY_MS);
}

/**
 * The payments of periodPayments whose transaction day lies in `from`..`to`, matched to `entries`;
 * a line booking a payment of a day left to the seal sweep is `not-proved`, one of a day whose
 * chains do not hold `not-provable`, neither `matched`; in a period cut at the bound, a debit no
 * payment read books, from the first day not read whole on, is `not-read`.
 */
export function matchPeriod(payments: PeriodPayments, from: string, to: string, entries: readonly StatementEntry[]): MatchedPeriod {
  const inside = (p: ReconciledPayment) => {
    const day = paymentDay(p);
    return day >= from && day <= to;
  };
  // Most often every one is (a month's 50,000: no copy of the list).
  const inPeriod = payments.rows.every(inside) ? payments.rows : payments.rows.filter(inside);
  const unprovable = daysIn(payments.unprovable, from, to);
  const leftToSweep = daysIn(payments.leftToSweep, from, to);
  // A debit booking a payment of a day left to the seal sweep is not proved, of a day whose chains
  // are broken not provable (the red of the two where a day were named both): never matched.
  // Cut at the bound: from the first day not read whole (the period's first when the reading does not say), a debit no payment read books is not read, not statement-only.
  const notReadFrom = payments.truncated ? (payments.notReadFrom ?? from) : undefined;
  const unproved = new Map<string, UnprovedKind>([...(leftToSweep?.days ?? []).map((day) => [day, 'not-proved'] as const), ...(unprovable?.days ?? []).map((day) => [day, 'not-provable'] as const)]);
  return {
    reconciliation: reconcileStatement(entries, inPeriod, unproved, notReadFrom),
    truncated: payments.truncated,
    ...(notReadFrom === undefined ? {} : { notReadFrom }),
    missing: payments.missing.filter((m) => m.day >= from && m.day <= to),
    unchecked: payments.unchecked.filter((day) => day >= from && day <= to),
    ...(unprovable === undefined ? {} : { unprovable }),
    ...(leftToSweep === undefined ? {} : { leftToSweep }),
  };
}

/** `named` (unprovable, leftToSweep) with its days in `from`..`to` only; undefined when none is. */
function daysIn<T extends { days: string[] }>(named: T | undefined, from: string, to: string): T | undefined {
  const days = named?.days.filter((day) => day >= from && day <= to) ?? [];
  return named === undefined || days.length === 0 ? undefined : { ...named, days };
}

/**
 * The reconciliation page's work once it has the bank's statement: periodPayments, then
 * matchPeriod against `entries`.
 */
export async function reconcilePeriod(
  search: PaymentSearchRepository,
  account: string,
  from: string,
  to: string,
  entries: readonly StatementEntry[],
): Promise<MatchedPeriod> {
  return matchPeriod(await periodPayments(search, account, from, to), from, to, entries);
}
