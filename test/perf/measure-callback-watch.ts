/**
 * What the outbox's watch costs (the overdue gauges' read, CallbackRepository.overdue, at a
 * scrape; the due leased rows read before each dispatcher run, leasedDue), on the embedded SQLite
 * store and on MariaDB, against an outbox of many delivered notifications and a few due:
 *   node dist/test/perf/measure-callback-watch.js [delivered] [due]   (default 100000 and 50)
 * The rows are written in SQL in bulk (what is measured reads no MAC); half the due ones leased.
 * Prints each read's mean time over 200 calls (and a SELECT 1's, for scale), and on MariaDB the plan's index and rows examined.
 * The figures are in docs/performance.md ("The outbox's watch"). Asserts nothing.
 */
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';

const DELIVERED = Number(process.argv[2] ?? 100_000);
const DUE = Number(process.argv[3] ?? 50);
const CALLS = 200;

/** `count` rows from `first`, 1,000 to an INSERT: DELIVERED long ago, or PENDING due a minute ago (every other one leased 30 s more). */
async function fill(store: Store, first: number, count: number, state: 'DELIVERED' | 'PENDING', now: number): Promise<void> {
  for (let start = first; start < first + count; start += 1_000) {
    const ids = Array.from({ length: Math.min(1_000, first + count - start) }, (_, i) => start + i);
    const values = ids.flatMap((id) => [
      'gbc_perf', `INV-W-${id}`, 'https://erp.example/notify', 'x', state, state === 'PENDING' ? 0 : 1, now - 60_000, state === 'PENDING' && id % 2 === 0 ? 'perf-owner' : null, state === 'PENDING' && id % 2 === 0 ? now + 30_000 : null, now, now,
    ]);
    await store.db.execute(
      `INSERT INTO callback_deliveries (client_id, transaction_id, url, body, state, attempts, next_attempt_at, lease_owner, lease_until, created_at, updated_at) VALUES ${ids.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      values,
    );
  }
}

async function meanMs(work: () => Promise<unknown>): Promise<number> {
  await work();
  const began = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) await work();
  return Number(process.hrtime.bigint() - began) / 1e6 / CALLS;
}

async function measure(backend: 'sqlite' | 'mariadb', url: string): Promise<void> {
  const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
  try {
    await migrate(store.db, { keys: TEST_AUDIT_KEYS });
    const now = Date.now();
    await fill(store, 0, DELIVERED, 'DELIVERED', now);
    await fill(store, DELIVERED, DUE, 'PENDING', now);
    if (backend === 'mariadb') await store.db.execute('ANALYZE TABLE callback_deliveries');
    const overdue = await store.callbacks.overdue(now);
    const leased = await store.callbacks.leasedDue({ now, leaseMs: 60_000, limit: 200 });
    const overdueMs = await meanMs(() => store.callbacks.overdue(now));
    const leasedMs = await meanMs(() => store.callbacks.leasedDue({ now, leaseMs: 60_000, limit: 200 }));
    // A round trip that reads nothing, for scale.
    const pingMs = await meanMs(() => store.db.query('SELECT 1'));
    let plans = '';
    if (backend === 'mariadb') {
      const explain = async (sql: string, params: number[]) => (await store.db.query<{ key: string | null; rows: number | string }>(`EXPLAIN ${sql}`, params)).map((p) => `${p.key ?? 'no index'}, ${p.rows} rows`).join('; ');
      plans =
        `; plans: overdue ${await explain("SELECT COUNT(*), MIN(next_attempt_at) FROM callback_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ?", [now])}, ` +
        `leasedDue ${await explain("SELECT id FROM callback_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? AND lease_until > ? AND lease_until <= ? ORDER BY next_attempt_at LIMIT 200", [now, now, now + 120_000])}`;
    }
    console.log(
      `${backend.padEnd(8)} ${DELIVERED} delivered, ${DUE} due: overdue() ${overdueMs.toFixed(3)} ms (count ${overdue.count}), leasedDue() ${leasedMs.toFixed(3)} ms (${leased.length} leased), SELECT 1 ${pingMs.toFixed(3)} ms${plans}`,
    );
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  configureLogger('silent');
  for (const backend of ['sqlite', 'mariadb'] as const) {
    const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
    try {
      await measure(backend, database.url);
    } finally {
      await database.drop();
    }
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
