/**
 * What `gerbang audit export` costs, on SQLite and MariaDB:
 *   node dist/test/perf/measure-audit-export.js [exchanges]   (default 20,000)
 * Writes each exchange as the gateway does (opened, one bank call, completed, each under its chain
 * link), then reads them all a page at a time as the export does: without the integrity checks,
 * with each record held to its own links, and with its place in its chains too (AuditQuery.inChain).
 * Prints figures; asserts nothing (speed is reported, never tested).
 */
import { performance } from 'node:perf_hooks';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore, type AuditRepository, type Store } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';

const N = Number(process.argv[2] ?? 20_000);
const PAGE = 500;
const body = JSON.stringify({ transactionId: 'INV-1', sourceAccountNumber: '0201245680', beneficiaryAccountNumber: '0201245681', amount: '100000.00', remark: 'x'.repeat(200) });

async function write(audit: AuditRepository, i: number): Promise<void> {
  const at = 1_700_000_000_000 + i * 10;
  const id = await audit.open({
    requestId: `req-${i}`, receivedAt: at, remoteIp: '127.0.0.1', origin: null, method: 'POST', path: '/v1/transfers', clientId: 'gbc_perf',
    transactionId: `INV-${i}`, amount: '100000.00', requestHeaders: { 'content-type': 'application/json', authorization: '[REDACTED]' }, requestBody: body,
  });
  await audit.recordBankCall({
    exchangeId: id, requestId: `req-${i}`, partner: 'bca', operation: 'transfer-intrabank', method: 'POST', url: 'https://bank.example/transfers',
    requestHeaders: { 'content-type': 'application/json' }, requestBody: body, statusCode: 200, responseBody: '{"Status":"Success"}', errorCode: null, startedAt: at + 2, durationMs: 40,
  });
  await audit.complete(id, { outcome: 'completed', statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: body, completedAt: at + 5 });
}

/**
 * Seconds to read every exchange page by page, as the export does: wall-clock, and this process's
 * CPU (which holds SQLite's work; on a shared machine the steadier of the two).
 */
async function readAll(store: Store, mode: 'unchecked' | 'links' | 'chain'): Promise<{ wall: number; cpu: number }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  let afterId: number | undefined;
  let n = 0;
  for (;;) {
    const page = mode === 'unchecked' ? await uncheckedPage(store, afterId) : await store.audit.list({ afterId, limit: PAGE, inChain: mode === 'chain' });
    n += page.length;
    if (page.length < PAGE) break;
    afterId = page[page.length - 1].id;
  }
  if (n !== N) throw new Error(`read ${n} exchanges, expected ${N}`);
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - t) / 1000, cpu: (used.user + used.system) / 1e6 };
}

/** The rows and bank calls of a page, read but not checked: the floor the checks add to. */
async function uncheckedPage(store: Store, afterId: number | undefined): Promise<{ id: number }[]> {
  const rows = await store.db.query<{ id: number | string }>('SELECT * FROM audit_exchanges e LEFT JOIN audit_completions c ON c.exchange_id = e.id WHERE e.id > ? ORDER BY e.id LIMIT ?', [afterId ?? 0, PAGE]);
  if (rows.length > 0) await store.db.query(`SELECT * FROM audit_bank_calls WHERE exchange_id IN (${rows.map(() => '?').join(', ')})`, rows.map((r) => r.id));
  return rows.map((r) => ({ id: Number(r.id) }));
}

async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const store = await openStore(database.url, { auditKeys: ringOf(testKeySpec('export')) });
  try {
    await migrate(store.db);
    const t = performance.now();
    let next = 0;
    // Four requests in flight, as a worker serves them: links of several exchanges interleave in the chains.
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < N) await write(store.audit, next++);
    }));
    console.log(`${backend}: wrote ${N.toLocaleString('en')} exchanges with a bank call each in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    for (const mode of ['unchecked', 'chain', 'links', 'chain', 'links', 'chain', 'links'] as const) {
      const { wall, cpu } = await readAll(store, mode);
      console.log(`${backend}: read ${mode.padEnd(9)} ${wall.toFixed(2)} s (CPU ${cpu.toFixed(2)} s)`);
    }
  } finally {
    await store.close();
    await database.drop();
  }
}

async function main(): Promise<void> {
  configureLogger('warn');
  const backends = (process.env.GERBANG_PERF_BACKENDS ?? 'sqlite,mariadb').split(',') as ('sqlite' | 'mariadb')[];
  for (const backend of backends) await measure(backend);
}

void main();
