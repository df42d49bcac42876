/**
 * Measures `purgeAnonymous` on SQLite and MariaDB:
 *   node dist/test/perf/measure-purge.js [records]
 * - writes `records` anonymous rejected token requests, as a flood leaves them (record(): sealed
 *   headers and body, one chain link each), 100 days old;
 * - purges them (batches of 200, one transaction and one purge link each) and times it;
 * - what stays per purged request (its chain link and its purge entry) against what went (the
 *   exchange row), in bytes of column data (SUM of LENGTH, not the engine's pages);
 * - times `audit verify` after the purge.
 * Prints figures; asserts nothing (speed is reported, never tested).
 */
import { performance } from 'node:perf_hooks';
import { migrate, openStore, type Db } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';

const N = Number(process.argv[2] ?? 2000);
const DAY = 86_400_000;

const HEADERS = {
  host: 'gerbang.example.com', 'user-agent': 'python-requests/2.31.0', accept: '*/*', 'content-type': 'application/json',
  'content-length': '58', origin: 'https://flood.example', 'x-forwarded-for': '198.51.100.9',
};

async function bytes(db: Db, table: string, columns: string[]): Promise<number> {
  const [{ n }] = await db.query<{ n: number | string | null }>(`SELECT SUM(${columns.map((c) => `COALESCE(LENGTH(${c}), 0)`).join(' + ')}) AS n FROM ${table}`);
  return Number(n ?? 0);
}

const EXCHANGE_COLUMNS = ['request_id', 'remote_ip', 'origin', 'method', 'path', 'client_id', 'transaction_id', 'amount', 'source_account', 'beneficiary_account', 'outcome', 'error_code', 'request_headers', 'request_body', 'response_body', 'key_id'];
const CHAIN_COLUMNS = ['writer_id', 'kind', 'prev_hash', 'hash', 'key_id'];
const ENTRY_COLUMNS = ['writer_id', 'link_hash'];
/** BIGINT/INT columns each table has besides the text above (8 bytes each, as stored by InnoDB). */
const NUMBERS = { exchange: 4, link: 3, entry: 4 };

async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const store = await openStore(database.url, { auditKeys: ringOf(testKeySpec('k1')) });
  try {
    await migrate(store.db);
    const old = Date.now() - 100 * DAY;
    let t = performance.now();
    for (let i = 0; i < N; i += 1) {
      await store.audit.record(
        { requestId: `req-${i}-${old}`, receivedAt: old + i, remoteIp: '198.51.100.9', origin: 'https://flood.example', method: 'POST', path: '/v1/auth/token', clientId: null, transactionId: null, amount: null, requestHeaders: HEADERS, requestBody: '{"client_id":"gbc_guess_0001","client_secret":"[REDACTED]"}' },
        { outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_CLIENT', clientId: null, transactionId: null, amount: null, responseBody: '{"type":"about:blank","title":"Unauthorized","status":401,"code":"INVALID_CLIENT","requestId":"0a1b2c3d"}', completedAt: old + i + 3 },
      );
    }
    const written = performance.now() - t;
    const exchangeBytes = (await bytes(store.db, 'audit_exchanges', EXCHANGE_COLUMNS)) / N + NUMBERS.exchange * 8;
    t = performance.now();
    const report = await store.audit.purgeAnonymous({ receivedBefore: Date.now() - 90 * DAY, retentionDays: 90, purgedBy: 'measure-purge', purgedAt: Date.now() });
    const purged = performance.now() - t;
    const linkBytes = (await bytes(store.db, 'audit_chain', CHAIN_COLUMNS)) / (N + report.purges) + NUMBERS.link * 8;
    const entryBytes = (await bytes(store.db, 'audit_purged_exchanges', ENTRY_COLUMNS)) / N + NUMBERS.entry * 8;
    t = performance.now();
    const verified = await store.audit.verify();
    const verifyMs = performance.now() - t;
    process.stdout.write(
      `${backend}: ${N} anonymous rejected requests written in ${(written / 1000).toFixed(1)} s; purged ${report.records} (${report.purges} purge records, ${report.kept} kept) in ${(purged / 1000).toFixed(2)} s ` +
        `(${Math.round(report.records / (purged / 1000))}/s); per request ${Math.round(exchangeBytes)} B of exchange row deleted, ${Math.round(linkBytes + entryBytes)} B kept ` +
        `(link ${Math.round(linkBytes)} B + purge entry ${Math.round(entryBytes)} B); audit verify after: ${verified.breaks.length === 0 ? 'INTACT' : 'BROKEN'} in ${(verifyMs / 1000).toFixed(2)} s\n`,
    );
  } finally {
    await store.close();
    await database.drop();
  }
}

void (async () => {
  await measure('sqlite');
  await measure('mariadb');
})();
