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
 * The last statement matched with a period's payments, and what it gave (reconcileStatement), so
 * that a page opened again with the same statement and the same proved payments is not matched
 * again (a busy account's month: 50,000 payments against as many lines, a sixth of the page's
 * time). Taken only when every input is the same: the statement line for line in every value
 * a line is matched and shown by (compared, not its objects: the API's reader makes new ones each
 * time), the very payment objects in the same order, each frozen (what the store hands out
 * proved: ProvedRows), and the same days unproved and first day not read. One matching kept per
 * console process (its lines hold the payments the store keeps anyway, and the statement's lines).
 */
export class StatementMatches {
  #last: { entries: readonly StatementEntry[]; payments: readonly ReconciledPayment[]; unproved: string; notReadFrom: string | undefined; reconciliation: Reconciliation } | null = null;

  /** reconcileStatement's answer for these, the one given last when each is the same (above). */
  reconcile(entries: readonly StatementEntry[], payments: readonly ReconciledPayment[], unproved: ReadonlyMap<string, UnprovedKind>, notReadFrom: string | undefined): Reconciliation {
    const days = JSON.stringify([...unproved]);
    const last = this.#last;
    if (last !== null && last.unproved === days && last.notReadFrom === notReadFrom && sameObjects(last.payments, payments) && sameLines(last.entries, entries)) return last.reconciliation;
    const reconciliation = reconcileStatement(entries, payments, unproved, notReadFrom);
    // Kept only when they can be told the same next time (frozen, as the store hands them out).
    this.#last = payments.every((p) => Object.isFrozen(p)) ? { entries, payments, unproved: days, notReadFrom, reconciliation } : null;
    return reconciliation;
  }
}

/** The very objects, in the same order, each frozen (never changed since they were matched). */
function sameObjects(a: readonly ReconciledPayment[], b: readonly ReconciledPayment[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i] || !Object.isFrozen(b[i])) return false;
  return true;
}

/** The same statement lines in the same order, each value a line is matched and shown by equal. */
function sameLines(a: readonly StatementEntry[], b: readonly StatementEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const [x, y] = [a[i], b[i]];
    if (x.date !== y.date || x.type !== y.type || x.amount !== y.amount || x.description !== y.description || x.reference !== y.reference || x.pending !== y.pending) return false;
  }
  return true;
}

/**
 * The payments of periodPayments whose transaction day lies in `from`..`to`, matched to `entries`;
 * a line booking a payment of a day left to the seal sweep is `not-proved`, one of a day whose
 * chains do not hold `not-provable`, neither `matched`; in a period cut at the bound, a debit no
 * payment read books, from the first day not read whole on, is `not-read`. With `matches`, a
 * matching of the very same inputs is not made again (StatementMatches).
 */
export function matchPeriod(payments: PeriodPayments, from: string, to: string, entries: readonly StatementEntry[], matches?: StatementMatches): MatchedPeriod {
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
    reconciliation: matches === undefined ? reconcileStatement(entries, inPeriod, unproved, notReadFrom) : matches.reconcile(entries, inPeriod, unproved, notReadFrom),
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
