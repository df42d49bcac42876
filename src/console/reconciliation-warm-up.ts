import type { StatementEntry } from '../banks/types.js';
import { paymentDay } from '../domain/transfers/index.js';
import type { PaymentSearchRepository } from '../store/types.js';
import { jakartaDate } from '../time/index.js';
import { translator } from './i18n.js';
import { reconcilePeriod } from './reconcile-period.js';
import { reconciliationPage } from './views/reconciliation-page.js';

/**
 * Readies the reconciliation page as the console starts (#16), before it listens: one sealed
 * closed day of an account (PaymentSearchRepository.sealedDayToWarm) read as the page reads it,
 * its payments matched against a statement made of themselves (one debit each: no bank is asked)
 * and the page drawn, then dropped. The day is read twice, as a first opening and as one opened
 * again (its rows then kept as proved), so both paths are readied. A clerk's first reconciliation in a fresh process then finds
 * the code of its reading, hashing, matching and drawing compiled, the pool's connections open
 * and the young generation grown; without this it paid those on top of its rows (measured:
 * docs/performance.md, "Day seals"). Nothing is trusted for it: the day is proved by its seal as
 * any page proves it, and its rows are kept as proved as any page keeps them. Returns the rows
 * read and the page's lines; null when no day is sealed yet (the sweep's first run warms then).
 */
export async function warmReconciliation(search: PaymentSearchRepository, now: number): Promise<{ rows: number; lines: number } | null> {
  const sealed = await search.sealedDayToWarm(now);
  if (sealed === null) return null;
  const day = jakartaDate(sealed.from);
  const { rows } = await search.fromAccount(sealed.account, sealed.from, sealed.to);
  const entries: StatementEntry[] = rows.map((p) => ({ date: paymentDay(p), type: 'DEBIT', amount: p.amount, description: `TRSF ${p.transactionId}` }));
  const { reconciliation, truncated } = await reconcilePeriod(search, sealed.account, day, day, entries);
  const form = { account: sealed.account, from: day, to: day };
  reconciliationPage({ t: translator('id'), lang: 'id', here: '/console/reconciliation' }, { form, errors: [], result: { bank: 'bca', reconciliation, truncated } });
  return { rows: rows.length, lines: reconciliation.lines.length };
}
