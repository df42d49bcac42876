/**
 * What proving the console's totals row by row costs (PaymentTotals.proof), on SQLite and MariaDB:
 *   node dist/test/perf/measure-proved-totals.js [payments]   (default PROVED_LIMIT, 2,000)
 * Writes the payments as the gateway does (reserved, then settled: each with its keyed history),
 * then times the list's first page of a filter matching all of them (its total proved) against a
 * filter matching one more than can be proved (its total as stored), a text search (its 1,000
 * confirmed matches proved), and the overview's days.
 * Prints p50 / p95 of 20 runs; asserts nothing (speed is reported, never tested).
 */
import { performance } from 'node:perf_hooks';
import { migrate, openStore, PROVED_LIMIT, type Store } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';
import { onEachBackend, times } from './perf-runs.js';

const N = Number(process.argv[2] ?? PROVED_LIMIT);
const DAY = 86_400_000;

async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const store: Store = await openStore(database.url, { auditKeys: ringOf(testKeySpec('totals')) });
  try {
    await migrate(store.db);
    const start = Date.UTC(2033, 0, 10, 1, 0, 0);
    const t = performance.now();
    // N payments of one client over 5 days, and one more of another client days later.
    for (let i = 0; i <= N; i += 1) {
      const at = i === N ? start + 10 * DAY : start + Math.floor((i * 5 * DAY) / N);
      const details = { sourceAccount: '0201245680', beneficiaryAccount: '0201245681', beneficiaryBankCode: '014', beneficiaryName: `PT Sumber Makmur ${i}`, remark: `Invoice ${i}`, transferMethod: null };
      const p = await store.payments.reserve({ clientId: i === N ? 'other' : 'proved', transactionId: `TOT-${i}`, requestHash: 'h'.repeat(64), amount: `${1000 + i}.00`, currency: 'IDR', details }, at);
      await store.payments.update(p.id, { state: i % 20 === 0 ? 'FAILED' : 'SUCCESS', bank: 'bca', bankReference: `R${i}` }, at + 500);
    }
    console.log(`${backend}: wrote ${(N + 1).toLocaleString('en')} payments with their history in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const proved = await store.paymentSearch.page({ clientId: 'proved' }, 'newest', null, 50);
    const stored = await store.paymentSearch.page({}, 'newest', null, 50);
    if (proved.totals.proof !== 'proved' || stored.totals.proof !== 'stored') throw new Error('the filters do not take the paths measured');
    await times(`list, ${N.toLocaleString('en')} matching (total proved)`, () => store.paymentSearch.page({ clientId: 'proved' }, 'newest', null, 50));
    await times(`list, ${(N + 1).toLocaleString('en')} matching (total as stored)`, () => store.paymentSearch.page({}, 'newest', null, 50));
    // A text search confirms at most SEARCH_SCAN_LIMIT (1,000) matches, and proves each.
    await times('search "sumber", 1,000 matches confirmed and proved', () => store.paymentSearch.page({ text: 'sumber' }, 'newest', null, 50));
    if ((await store.paymentSearch.provedDailyTotals(start, start + 6 * DAY)) === null) throw new Error('the days are not proved');
    await times(`overview days, ${N.toLocaleString('en')} payments (as stored)`, () => store.paymentSearch.dailyTotals(start, start + 6 * DAY));
    await times(`overview days, ${N.toLocaleString('en')} payments (proved)`, () => store.paymentSearch.provedDailyTotals(start, start + 6 * DAY));
  } finally {
    await store.close();
    await database.drop();
  }
}

onEachBackend(measure);
