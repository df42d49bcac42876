/**
 * What a day seal's payment ids (migration 041, #16) add to a reconciliation of sealed days, on
 * SQLite and MariaDB:
 *   node dist/test/perf/measure-seal-ids.js [payments a day] [days]   (default 1,600 and 3)
 * Writes one account's payments as the gateway does (reserved, each with its event) on closed
 * days, seals them by a console's reading (each seal with its ids), then times a console process's
 * first reading of those days (no kept proofs: each day hashed against its seal, its ids walked
 * beside the ids read), against the same days under seals written as before 041 (a count and a
 * seal, no ids: written back by a console of before), read by a process that writes no seal; and
 * the walk of a month's ids alone (sealedIdsAre). Prints p50 / p95 of 20 runs; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { migrate, openStore, type Store } from '../../src/store/index.js';
import { SqlPaymentSearchRepository } from '../../src/store/repositories/index.js';
import { ChainLanes } from '../../src/store/repositories/audit-chain.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { RECONCILIATION_SEALS, sealedIdsAre, sealedPaymentIds } from '../../src/store/repositories/reconciliation-seals.js';
import { changeRows } from '../../src/store/repositories/record-changes.js';
import type { MacedRow } from '../../src/store/repositories/record-macs.js';
import { ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';
import { onEachBackend, times } from './perf-runs.js';

const PER_DAY = Number(process.argv[2] ?? 1_600);
const DAYS = Number(process.argv[3] ?? 3);
const [HOUR, DAY] = [3_600_000, 86_400_000];

async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const keys = ringOf(testKeySpec('seal-ids'));
  const store: Store = await openStore(database.url, { auditKeys: keys });
  try {
    await migrate(store.db, { keys });
    const account = '0201555041';
    const start = Date.UTC(2026, 9, 1) - 7 * HOUR;
    const t = performance.now();
    for (let day = 0; day < DAYS; day += 1) {
      for (let k = 0; k < PER_DAY; k += 1) {
        await store.payments.reserve(
          { clientId: 'perf-ids', transactionId: `IDS-${day}-${k}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: account },
          start + day * DAY + Math.floor((k * (DAY - HOUR)) / PER_DAY),
        );
      }
    }
    const to = start + DAYS * DAY;
    await store.paymentSearch.fromAccount(account, start, to);
    const tag = accountTag(keys, account);
    const seals = await store.db.query<MacedRow>(`SELECT ${RECONCILIATION_SEALS.columns} FROM reconciliation_seals WHERE account_tag = ? ORDER BY day`, [tag]);
    const idsText = seals.reduce((n, s) => n + String(s.payment_ids ?? '').length, 0);
    console.log(`${backend}: ${DAYS} days of ${PER_DAY} payments written and sealed in ${((performance.now() - t) / 1000).toFixed(1)} s; ${seals.length} seals, their ids ${idsText} characters in all`);
    const reading = async () => {
      const search = new SqlPaymentSearchRepository(store.db, keys);
      const read = await search.fromAccount(account, start, to);
      await search.close();
      if (read.rows.length !== DAYS * PER_DAY || read.missing.length > 0 || search.rowsProvedOneByOne > 0) throw new Error('the days were not read as sealed');
    };
    // Warmed up first (the code compiled, the pages cached), then both kinds of seal timed in turn.
    for (let i = 0; i < 5; i += 1) await reading();
    await times(`first reading of ${DAYS} sealed days, seals with ids`, reading);
    // Written back as a console of before 041 wrote them: a count and a seal.
    const sealer = new ValueSealer(keys);
    await changeRows(new ChainLanes(store.db, `old-console-${randomBytes(3).toString('hex')}`, 1, () => keys), sealer, Date.now(), async (rows) => {
      for (const seal of seals) await rows.update(RECONCILIATION_SEALS, seal, { payment_ids: null });
    });
    await times(`first reading of ${DAYS} sealed days, seals without ids`, reading);
    const older = await store.db.query<MacedRow>(`SELECT ${RECONCILIATION_SEALS.columns} FROM reconciliation_seals WHERE account_tag = ? ORDER BY day`, [tag]);
    await changeRows(new ChainLanes(store.db, `console-${randomBytes(3).toString('hex')}`, 1, () => keys), sealer, Date.now(), async (rows) => {
      for (const [i, seal] of older.entries()) await rows.update(RECONCILIATION_SEALS, seal, { payment_ids: seals[i].payment_ids });
    });
    await times(`first reading of ${DAYS} sealed days, seals with ids again`, reading);
    const ids = (await store.db.query<{ id: number | string }>('SELECT id FROM payments WHERE source_account_tag = ? ORDER BY created_at, id', [tag])).map((r) => Number(r.id));
    const month = Array.from({ length: 30 }, (_, d) => ids.slice((d % DAYS) * PER_DAY, ((d % DAYS) + 1) * PER_DAY));
    const texts = month.map((day) => sealedPaymentIds(day));
    await times(`the ids of 30 days of ${PER_DAY} walked (sealedIdsAre)`, () => {
      for (let d = 0; d < 30; d += 1) if (!sealedIdsAre(texts[d], month[d])) throw new Error('not the same ids');
    });
    await times(`the ids of 30 days of ${PER_DAY} written (sealedPaymentIds)`, () => month.map((day) => sealedPaymentIds(day)));
  } finally {
    await store.close();
    await database.drop();
  }
}

// A reconciliation proving thousands of rows one by one waits on its worker threads, which do not
// keep a process alive: without a handle of its own this script exited, silently, while it sealed.
const alive = setInterval(() => undefined, 60_000);
onEachBackend(async (backend) => {
  await measure(backend);
  if (backend === (process.env.GERBANG_PERF_BACKENDS ?? 'sqlite,mariadb').split(',').pop()) clearInterval(alive);
});
