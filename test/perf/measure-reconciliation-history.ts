/**
 * What holding each payment of a reconciliation to its last event would cost (the check the API,
 * the detail page and `audit verify` make: lastTrustedEvents), on MariaDB:
 *   node dist/test/perf/measure-reconciliation-history.js [payments]   (default 10,000)
 * Writes the payments as the gateway does (reserved, then settled: two events each under their
 * chain links) on one closed day, then times lastTrustedEvents over all of them, five times; then
 * that day's reconciliation (fromAccount) by a fresh store before the day is sealed (every row
 * opened, its MAC and its state against its last event checked) and after (one day seal), three
 * times each (#16). The figures are in
 * docs/performance.md ("Finance console: a month's reconciliation"). Prints figures; asserts nothing.
 */
import { configureLogger } from '../../src/log/index.js';
import { createStore, migrate, openDb } from '../../src/store/index.js';
import { lastTrustedEvents } from '../../src/store/repositories/payment-events.js';
import { SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import { ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';

const N = Number(process.argv[2] ?? 10_000);

async function main(): Promise<void> {
  configureLogger('warn');
  const keys = ringOf(testKeySpec('perf'));
  const { url, drop } = await createMariaDbDatabase();
  const db = openDb(url);
  try {
    await migrate(db, { keys });
    const store = createStore(db, { auditKeys: keys });
    const began = Date.now();
    // One Jakarta day three days back, over (a day is sealed once it has ended).
    const day = Math.floor((began + 7 * 3_600_000) / 86_400_000) - 3;
    const dayStart = day * 86_400_000 - 7 * 3_600_000;
    const at = (i: number) => dayStart + 3_600_000 + Math.floor((i * 20 * 3_600_000) / N);
    const ids: number[] = [];
    for (let i = 0; i < N; i += 1) {
      const payment = await store.payments.reserve(
        { clientId: 'perf-client', transactionId: `HIST-${i}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: '0201245680' },
        at(i),
      );
      await store.payments.settle(payment.id, { state: 'SUCCESS', resultJson: JSON.stringify({ responseCode: '2003600', referenceNo: `R${i}` }) }, at(i) + 1, payment);
      ids.push(payment.id);
    }
    console.log(`wrote ${N.toLocaleString('en')} payments with two events each in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    for (let run = 0; run < 5; run += 1) {
      const started = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      const events = await lastTrustedEvents(db, keys, new ValueSealer(keys), ids);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const used = process.cpuUsage(cpu);
      const held = [...events.values()].filter((event) => !('problem' in event)).length;
      console.log(
        `last events of ${N.toLocaleString('en')}: ${ms.toFixed(0)} ms (this process's CPU ${((used.user + used.system) / 1000).toFixed(0)} ms), ` +
          `${((ms * 1000) / N).toFixed(1)} µs a payment, ${held.toLocaleString('en')} held`,
      );
    }
    // The day's reconciliation by a store that has proved nothing (no kept proofs), unsealed then sealed.
    const reconcile = async (label: string) => {
      for (let run = 0; run < 3; run += 1) {
        const search = new SqlPaymentSearchRepository(db, keys);
        const started = process.hrtime.bigint();
        const cpu = process.cpuUsage();
        const { rows } = await search.fromAccount('0201245680', dayStart, dayStart + 86_400_000);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const used = process.cpuUsage(cpu);
        await search.close();
        const marked = rows.filter((p) => p.integrityProblem !== undefined).length;
        console.log(
          `reconciliation of the day, ${label}: ${ms.toFixed(0)} ms (this process's CPU ${((used.user + used.system) / 1000).toFixed(0)} ms), ` +
            `${rows.length.toLocaleString('en')} payments, ${search.rowsProvedOneByOne.toLocaleString('en')} proved one by one, ${marked} marked`,
        );
      }
    };
    await reconcile('not sealed');
    await store.paymentSearch.fromAccount('0201245680', dayStart, dayStart + 86_400_000);
    await reconcile('sealed');
  } finally {
    await db.close();
    await drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
