/**
 * What the sweep's re-check of a kept day's reserve events costs (#16): their count alone
 * (reservedCounts, what an opening reads) against reading them whole and hashing their identities
 * (reservedDigests, what the sweep reads at every run for each kept day), on SQLite and MariaDB:
 *   node dist/test/perf/measure-reserve-digest.js [events a day] [days]   (default 33,334 and 3)
 * Writes the reserve events in SQL (payment_events only: these reads touch no other table), each
 * with one later event, then times one day, and the days together; and the digest of a day's
 * pairs alone (sorted and hashed in the process). Prints p50 / p95 of 20 runs; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { migrate, openStore, type Store } from '../../src/store/index.js';
import { reservedCounts, reservedDigests, reserveEventsDigest } from '../../src/store/repositories/payment-events.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';
import { onEachBackend, times } from './perf-runs.js';

const PER_DAY = Number(process.argv[2] ?? 33_334);
const DAYS = Number(process.argv[3] ?? 3);
const DAY = 86_400_000;
/** The sweep's page (DAY_PAGE_ROWS in payment-search-repository.ts). */
const PAGE_ROWS = 10_000;

async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const store: Store = await openStore(database.url, { auditKeys: ringOf(testKeySpec('digest')) });
  try {
    await migrate(store.db);
    const start = Date.UTC(2033, 0, 10) - 7 * 3_600_000;
    const t = performance.now();
    for (let day = 0; day < DAYS; day += 1) {
      for (let first = 0; first < PER_DAY; first += 1_000) {
        const values: string[] = [];
        for (let k = first; k < Math.min(PER_DAY, first + 1_000); k += 1) {
          const payment = day * PER_DAY + k + 1;
          const at = start + day * DAY + Math.floor((k * DAY) / PER_DAY);
          values.push(`(${payment}, 1, 'reserve', 'RECEIVED', ${at})`, `(${payment}, 2, 'update', 'SUCCESS', ${at + 60_000})`);
        }
        await store.db.execute(`INSERT INTO payment_events (payment_id, seq, cause, state, recorded_at) VALUES ${values.join(', ')}`);
      }
    }
    console.log(`${backend}: ${DAYS} days of ${PER_DAY} reserve events (and as many later events) written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const ranges = Array.from({ length: DAYS }, (_, day) => ({ day, start: start + day * DAY, end: start + (day + 1) * DAY }));
    await reservedDigests(store.db, ranges, PAGE_ROWS);
    await times('one day: COUNT (reservedCounts)', () => reservedCounts(store.db, ranges.slice(0, 1)));
    await times('one day: read whole and digest (reservedDigests)', () => reservedDigests(store.db, ranges.slice(0, 1), PAGE_ROWS));
    await times(`${DAYS} days: COUNT`, () => reservedCounts(store.db, ranges));
    await times(`${DAYS} days: read whole and digest`, () => reservedDigests(store.db, ranges, PAGE_ROWS));
    const pairs = Array.from({ length: PER_DAY }, (_, i) => ({ id: 2 * i + 1, paymentId: i + 1 })).reverse();
    await times('one day\'s pairs: sort and SHA-256 alone (reserveEventsDigest)', () => reserveEventsDigest(pairs));
  } finally {
    await store.close();
    await database.drop();
  }
}

onEachBackend(measure);
