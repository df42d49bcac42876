import { jakartaDate } from '../time/index.js';
import type { DailyBankLatency, DailyPaymentTotals, PaymentState } from '../store/types.js';

export interface OverviewDay {
  day: string;
  counts: Partial<Record<PaymentState, number>>;
  totals: Partial<Record<PaymentState, bigint>>;
  count: number;
  /** The value of all the day's payments, whatever their status (minor units). */
  total: bigint;
  /** FAILED among settled-or-failed payments of the day, 0..1 (null when none). */
  failureRate: number | null;
  latency: DailyBankLatency | null;
  /** Payments of the day changed outside Gerbang, left out of the figures (proved figures only; else 0). */
  changed: number;
}

/**
 * Joins the per-state daily totals and the bank latency into one row per day. The failure
 * rate is FAILED / all payments of the day: what share of the ERP's payments did not go through.
 */
export function dailyOverview(totals: DailyPaymentTotals[], latency: DailyBankLatency[], from: number, to: number, changed: { day: string; count: number }[] = []): OverviewDay[] {
  const days = new Map<string, OverviewDay>();
  const dayOf = (day: string) => {
    let entry = days.get(day);
    if (!entry) {
      entry = { day, counts: {}, totals: {}, count: 0, total: 0n, failureRate: null, latency: null, changed: 0 };
      days.set(day, entry);
    }
    return entry;
  };
  // Every day of the range has its row, a quiet day too, so the charts' days are evenly spaced.
  for (let at = from; at <= to; at += 86_400_000) dayOf(jakartaDate(at));
  for (const row of totals) {
    const entry = dayOf(row.day);
    entry.counts[row.state] = row.count;
    entry.totals[row.state] = row.totalMinor;
    entry.count += row.count;
    entry.total += row.totalMinor;
  }
  for (const row of latency) dayOf(row.day).latency = row;
  for (const row of changed) dayOf(row.day).changed = row.count;
  for (const entry of days.values()) entry.failureRate = entry.count > 0 ? (entry.counts.FAILED ?? 0) / entry.count : null;
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}
