/**
 * What a run of the console's seal sweep costs once a store is sealed (#16), on MariaDB:
 *   node dist/test/perf/measure-seal-sweep.js [accounts] [payments a day]   (default 5 and 40)
 * Writes the payments as the gateway does (reserved, each with its event) on the 30 closed days
 * before yesterday, seals them by the sweep, then times its runs: with nothing new, after one
 * payment settled, after ten of ten days settled, and the first runs of a new store (its look back
 * finds those events). The figures are in docs/performance.md ("Finance console: a month's
 * reconciliation"). Prints figures; asserts nothing.
 */
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore, type Store } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';

const [ACCOUNTS, PER_DAY, DAYS] = [Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 40), 30];
const [HOUR, DAY] = [3_600_000, 86_400_000];

async function run(store: Store, label: string): Promise<boolean> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const swept = await store.paymentSearch.sealClosedDays(Date.now(), 50_000);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  console.log(`${label}: ${ms.toFixed(0)} ms (this process's CPU ${((used.user + used.system) / 1000).toFixed(0)} ms) ${JSON.stringify(swept)}`);
  return swept.left;
}

async function main(): Promise<void> {
  configureLogger('warn');
  const keys = ringOf(testKeySpec('perf'));
  const { url, drop } = await createMariaDbDatabase();
  const store = await openStore(url, { auditKeys: keys });
  try {
    await migrate(store.db, { keys });
    const midnight = Date.now() - ((Date.now() + 7 * HOUR) % DAY);
    const ids: number[] = [];
    for (let a = 0; a < ACCOUNTS; a += 1) {
      for (let d = 2; d < 2 + DAYS; d += 1) {
        for (let i = 0; i < PER_DAY; i += 1) {
          const payment = await store.payments.reserve(
            { clientId: 'perf-client', transactionId: `SWEEP-${a}-${d}-${i}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: `0400000000${a}` },
            midnight - d * DAY + (i + 1) * 60_000,
          );
          ids.push(payment.id);
        }
      }
    }
    while (await run(store, 'sealing'));
    for (let i = 0; i < 3; i += 1) await run(store, 'nothing new');
    const settle = (id: number) => store.payments.update(id, { state: 'FAILED', bank: 'bca' }, Date.now());
    await settle(ids[PER_DAY * 5 + 3]);
    await run(store, 'one payment settled');
    await run(store, 'the run after');
    for (let d = 0; d < 10; d += 1) await settle(ids[PER_DAY * (DAYS + d) + 7]);
    await run(store, 'ten payments of ten days settled');
    await run(store, 'the run after');
    const fresh = await openStore(url, { auditKeys: keys });
    await run(fresh, 'a new store, first run');
    await run(fresh, 'a new store, second run');
    await fresh.close();
  } finally {
    await store.close();
    await drop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
