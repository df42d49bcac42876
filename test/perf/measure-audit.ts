/**
 * Measures what encryption at rest and the hash chain cost, on SQLite and MariaDB:
 *   node dist/test/perf/measure-audit.js [records]
 * - audit writes per second (record(): seal + insert + read back + chain link + head, one transaction)
 *   against a bare INSERT of the same row as the baseline, one at a time and 8 in flight;
 * - a payment run of 1,000 lines stored with its requests sealed (batches.create) against the same
 *   lines inserted in clear, and `keys rotate` over those lines too;
 * - `keys rotate` and `audit verify` throughput over those records.
 * Prints figures; asserts nothing (speed is reported, never tested).
 */
import { performance } from 'node:perf_hooks';
import { migrate, openStore, type InboundCompletion, type InboundExchange } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';

const N = Number(process.argv[2] ?? 500);
const body = JSON.stringify({ transactionId: 'INV-1', sourceAccountNumber: '0201245680', beneficiaryAccountNumber: '0201245681', amount: '100000.00', remark: 'x'.repeat(200) });

const exchange = (i: number): InboundExchange => ({
  requestId: `req-${i}`, receivedAt: i, remoteIp: '127.0.0.1', origin: null, method: 'POST', path: '/v1/transfers', clientId: 'gbc_perf',
  transactionId: `INV-${i}`, amount: '100000.00', requestHeaders: { 'content-type': 'application/json', authorization: '[REDACTED]' }, requestBody: body,
});
const completion: InboundCompletion = {
  outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: body, completedAt: 1,
};

async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const [k1, k2] = [testKeySpec('k1'), testKeySpec('k2')];
  const store = await openStore(database.url, { auditKeys: ringOf(k1) });
  try {
    await migrate(store.db);
    let t = performance.now();
    for (let i = 0; i < N; i += 1) {
      await store.db.execute(
        'INSERT INTO audit_exchanges (request_id, received_at, remote_ip, method, path, outcome, request_headers, request_body, response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [`base-${i}`, i, '127.0.0.1', 'POST', '/v1/transfers', 'completed', '{}', body, body],
      );
    }
    const baseline = N / ((performance.now() - t) / 1000);
    await store.db.execute("DELETE FROM audit_exchanges WHERE request_id LIKE 'base-%'");

    t = performance.now();
    for (let i = 0; i < N; i += 1) await store.audit.record(exchange(i), completion);
    const sealedChained = N / ((performance.now() - t) / 1000);

    // As a worker serving 8 requests at once writes them.
    t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < N) await store.audit.record(exchange(N + next++), completion);
    }));
    const concurrent = N / ((performance.now() - t) / 1000);

    // A payment run of 1,000 lines, each request as the API stores it: in clear (the baseline), then sealed.
    const lines = Array.from({ length: 1_000 }, (_, i) => ({ transactionId: `RUN-${i}`, requestJson: body, sourceAccount: '0201245680', beneficiaryAccount: '0201245681' }));
    t = performance.now();
    await store.db.withTransaction(async (tx) => {
      const { insertId } = await tx.execute("INSERT INTO transfer_batches (client_id, batch_id, request_hash, line_count, state, created_at, updated_at) VALUES ('gbc_perf', 'RUN-CLEAR', 'x', 1000, 'DONE', 1, 1)");
      for (let start = 0; start < lines.length; start += 200) {
        const chunk = lines.slice(start, start + 200);
        await tx.execute(
          `INSERT INTO transfer_batch_lines (batch_pk, line_no, transaction_id, request_json, state, updated_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
          chunk.flatMap((line, i) => [insertId, start + i + 1, line.transactionId, line.requestJson, 'SUBMITTED', 1]),
        );
      }
    });
    const clearRunMs = performance.now() - t;
    t = performance.now();
    await store.batches.create({ clientId: 'gbc_perf', batchId: 'RUN-SEALED', requestHash: 'x', lines }, 1);
    const sealedRunMs = performance.now() - t;

    const rotating = await openStore(database.url, { auditKeys: ringOf(k1, k2) });
    t = performance.now();
    const rotated = await rotating.keyRotation.rotate({ batchSize: 200 });
    const rotatedRows = Object.values(rotated.records).reduce((a, b) => a + b, 0);
    const rotateRate = rotatedRows / ((performance.now() - t) / 1000);
    t = performance.now();
    const report = await rotating.audit.verify();
    const verifyRate = report.links / ((performance.now() - t) / 1000);
    await rotating.close();
    console.log(
      `${backend}: ${N} records | bare INSERT ${baseline.toFixed(0)}/s | sealed+chained record() ${sealedChained.toFixed(0)}/s ` +
        `(${((1000 / sealedChained) - (1000 / baseline)).toFixed(2)} ms more per record), 8 in flight ${concurrent.toFixed(0)}/s | ` +
        `payment run of 1000 lines stored in ${sealedRunMs.toFixed(0)} ms sealed vs ${clearRunMs.toFixed(0)} ms in clear | ` +
        `keys rotate ${rotateRate.toFixed(0)} rows/s (${rotatedRows} rows: ${JSON.stringify(rotated.records)}) | ` +
        `audit verify ${verifyRate.toFixed(0)} links/s (${report.breaks.length} breaks)`,
    );
  } finally {
    await store.close();
    await database.drop();
  }
}

void (async () => {
  for (const backend of ['sqlite', 'mariadb'] as const) await measure(backend);
})();
