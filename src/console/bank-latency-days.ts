import type { DailyBankLatency, PaymentSearchRepository } from '../store/types.js';
import { jakartaDate, jakartaDay, jakartaDayStart } from '../time/index.js';

/**
 * How long after a day ends a call of that day may still be written in the usual way: a bank call
 * is written when it has ended, at most its connect, headers and body timeouts after it started
 * (65 s by default); an hour leaves room for any timeout an operator sets. A call written later
 * still (the audit spool written back once the database is up again) is seen by its spool entry.
 */
export const SETTLE_MS = 3_600_000;

interface ClosedDay {
  /** Null: no bank call that day. */
  latency: DailyBankLatency | null;
  /** How many of the day's calls had been written back from the spool when it was grouped. */
  spooled: number;
}

/**
 * The overview's bank response times, per UTC+7 (WIB) day. A closed day (one that ended more than
 * SETTLE_MS ago) is grouped from its bank calls once and kept in this process; today, and a day
 * not yet settled, is grouped from the calls at every opening. Every figure is what grouping the
 * calls gives (dailyBankLatency): a call of a closed day written back from the audit spool since
 * the day was grouped has it grouped again. Kept in memory only, so nothing outside the calls
 * themselves can be forged in the database; each console process groups the closed days once,
 * as it starts (warm).
 */
export class BankLatencyDays {
  private readonly closed = new Map<string, ClosedDay>();

  constructor(private readonly search: Pick<PaymentSearchRepository, 'dailyBankLatency' | 'spooledBankCallDays'>) {}

  /**
   * Groups the closed days of the last `days` (up to yesterday) ahead of any opening: the console
   * does it as it starts, so the first opening of the overview groups only today's calls.
   */
  async warm(now: number, days: number): Promise<void> {
    const today = jakartaDay(now);
    await this.between(jakartaDayStart(today - (days - 1)), jakartaDayStart(today), now);
  }

  /** The bank response times of the calls started in [from, to), per day, as `now` sees them. */
  async between(from: number, to: number, now: number): Promise<DailyBankLatency[]> {
    // Counted before any day is grouped: a call written back meanwhile is seen at the next opening.
    const spooled = await this.search.spooledBankCallDays();
    for (const [day, kept] of this.closed) if ((spooled.get(day) ?? 0) !== kept.spooled) this.closed.delete(day);

    const kept: DailyBankLatency[] = [];
    const toGroup: { day: string; start: number; end: number; keep: boolean }[] = [];
    for (let index = jakartaDay(from); jakartaDayStart(index) < to; index += 1) {
      const start = jakartaDayStart(index);
      const end = jakartaDayStart(index + 1);
      const day = jakartaDate(start);
      // A closed day whole in the range is kept; the rest (today, a day still settling, a range's cut day) is grouped each time.
      const keep = end + SETTLE_MS <= now && start >= from && end <= to;
      const known = keep ? this.closed.get(day) : undefined;
      if (known) {
        if (known.latency) kept.push(known.latency);
      } else {
        toGroup.push({ day, start: Math.max(from, start), end: Math.min(to, end), keep });
      }
    }
    if (toGroup.length === 0) return kept;
    // One read from the first day to group to the last (the days between are all to group, but at a range's cut day).
    const grouped = await this.search.dailyBankLatency(toGroup[0].start, toGroup[toGroup.length - 1].end);
    const byDay = new Map(grouped.map((row) => [row.day, row]));
    for (const { day, keep } of toGroup) {
      const latency = byDay.get(day) ?? null;
      if (keep) this.closed.set(day, { latency, spooled: spooled.get(day) ?? 0 });
      if (latency) kept.push(latency);
    }
    return kept.sort((a, b) => a.day.localeCompare(b.day));
  }
}
