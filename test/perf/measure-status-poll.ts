/**
 * Measures what an ERP polling the status of a reservation left behind costs, on SQLite and MariaDB:
 *   node dist/test/perf/measure-status-poll.js [reservations after it]
 * A reservation is left behind, then `n` more reservations are written (one payment event and one
 * chain link each), then its status is read 10 times over HTTP. Prints, per read, the chain links
 * the proof walked and the milliseconds the read took: the first read walks the chains (what every
 * read cost before RecentProofs), the next ones rely on its proof. Asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { leaveBehind } from '../support/left-behind.js';
import { watchChainWalks } from '../support/chain-walks.js';
import { migrate, openStore } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';

const N = Number(process.argv[2] ?? 5_000);
async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
  await migrate(store.db);
  await store.close();
  const gw = await TestGateway.start(database.url, { GERBANG_RATE_LIMIT_PER_CLIENT: '100000', GERBANG_RATE_LIMIT_PER_IP: '100000' });
  try {
    const client = await gw.createClient();
    const auth = { authorization: `Bearer ${await gw.token(client)}` };
    const body = sampleTransfer();
    await leaveBehind(gw, client.clientId, body);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          next += 1;
          await gw.store.payments.reserve({ clientId: client.clientId, transactionId: `PERF-${next}`, requestHash: 'a'.repeat(64), amount: '1.00', currency: 'IDR', sourceAccount: '0201245680' }, Date.now());
        }
      }),
    );
    const walked = watchChainWalks(gw.store.db);
    const reads: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const links = walked();
      const t = performance.now();
      const status = await gw.request(`/v1/transfers/${body.transactionId as string}`, { headers: auth });
      reads.push(`${status.status} ${status.body.status as string}: ${walked() - links} links, ${(performance.now() - t).toFixed(0)} ms`);
    }
    console.log(`${backend}, ${N} reservations after it:\n  ${reads.join('\n  ')}`);
  } finally {
    await gw.close();
    await database.drop();
  }
}

void (async () => {
  for (const backend of ['sqlite', 'mariadb'] as const) await measure(backend);
  process.exit(0);
})();
