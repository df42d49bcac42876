/**
 * `npm run bench:legacy-history`: how long migration 037 takes to record the payments from before
 * migration 024 (history-baselines.ts). Seeds GERBANG_PERF_ROWS payments (default 100,000) with
 * their MACs into a fresh MariaDB/MySQL database migrated up to 023, as the gateway then wrote
 * them (a tenth with a sealed answer), migrates with the keys up to 036 (not timed), then times
 * 037 alone and checks what it wrote: one `baseline` event and one link per payment, the coverage
 * at 0. The database is dropped after.
 *
 *   GERBANG_PERF_MYSQL_URL  server to use (default mysql://root@127.0.0.1:3306)
 *   GERBANG_PERF_ROWS       payments to seed (default 100000)
 *
 * A measurement, not a test: it prints figures and fails only when the migration did not record
 * every payment.
 */
import { randomBytes } from 'node:crypto';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openDb, type Db } from '../../src/store/index.js';
import { paymentMac } from '../../src/store/repositories/payment-repository.js';
import { paymentPlace, ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { migrateBelow } from '../support/databases.js';

const SERVER = (process.env.GERBANG_PERF_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const ROWS = Number(process.env.GERBANG_PERF_ROWS ?? 100_000);
const KEYS = ringOf(testKeySpec('legacy'));
const PER_INSERT = 1000;
const STATES = ['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILED', 'UNKNOWN'];

/** Payments 1..ROWS as 023 held them: ids given, so each answer is sealed for its row. */
async function seed(db: Db): Promise<void> {
  const sealer = new ValueSealer(KEYS);
  const start = Date.now() - 90 * 86_400_000;
  for (let first = 1; first <= ROWS; first += PER_INSERT) {
    const rows: (string | number | null)[][] = [];
    for (let id = first; id < Math.min(first + PER_INSERT, ROWS + 1); id += 1) {
      const fixed = { clientId: 'gbc_legacy', transactionId: `INV-LEGACY-${id}`, requestHash: 'h'.repeat(64), amount: '125000.00', currency: 'IDR', createdAt: start + id * 60_000 };
      const { keyId, mac } = paymentMac(KEYS, fixed);
      const state = STATES[id % STATES.length];
      const answer = id % 10 === 0 ? sealer.seal(JSON.stringify({ transactionId: fixed.transactionId, status: state }), paymentPlace('result_json', { id, client_id: fixed.clientId, transaction_id: fixed.transactionId, created_at: fixed.createdAt })) : null;
      rows.push([
        id, fixed.clientId, fixed.transactionId, fixed.requestHash, state, 'bca', state === 'SUCCESS' ? `REF-${id}` : null, fixed.amount, 12_500_000, fixed.currency, answer,
        state === 'SUCCESS' ? 201 : 422, fixed.createdAt, fixed.createdAt, KEYS.currentKeyId, keyId, mac,
      ]);
    }
    await db.execute(
      'INSERT INTO payments (id, client_id, transaction_id, request_hash, state, bank, bank_reference, amount, amount_minor, currency, result_json, http_status, created_at, updated_at, key_id, mac_key_id, mac) VALUES ' +
        rows.map((r) => `(${r.map(() => '?').join(', ')})`).join(', '),
      rows.flat(),
    );
  }
}

async function main(): Promise<void> {
  configureLogger('info');
  const name = `gerbang_legacy_${randomBytes(4).toString('hex')}`;
  const server = openDb(SERVER);
  await server.execute(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await server.close();
  const db = openDb(`${SERVER}/${name}`);
  try {
    await migrateBelow(db, '024');
    let began = Date.now();
    await seed(db);
    console.log(`seeded ${ROWS.toLocaleString('en')} payments as 023 held them in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    began = Date.now();
    await migrateBelow(db, '037', KEYS);
    console.log(`migrated 024-036 in ${((Date.now() - began) / 1000).toFixed(1)} s (not the figure)`);
    began = Date.now();
    const { applied } = await migrate(db, { keys: KEYS });
    const ms = Date.now() - began;
    const [{ events }] = await db.query<{ events: number | string }>("SELECT COUNT(*) AS events FROM payment_events WHERE cause = 'baseline'");
    const [{ links }] = await db.query<{ links: number | string }>("SELECT COUNT(*) AS links FROM audit_chain WHERE kind = 'payment_event'");
    const coverage = await db.query<{ records: string; since: number | string }>('SELECT records, since FROM chain_coverage ORDER BY records');
    console.log(`${applied.join(', ')}: ${ROWS.toLocaleString('en')} payments recorded in ${(ms / 1000).toFixed(1)} s (${Math.round(ROWS / (ms / 1000)).toLocaleString('en')} a second); ${events} baseline events, ${links} links; coverage ${coverage.map((c) => `${c.records} ${c.since}`).join(', ')}`);
    if (Number(events) !== ROWS || Number(links) !== ROWS) throw new Error('migration 037 did not record every payment once');
  } finally {
    await db.close();
    const cleanup = openDb(SERVER);
    await cleanup.execute(`DROP DATABASE IF EXISTS ${name}`);
    await cleanup.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
