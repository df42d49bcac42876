/**
 * What a full cycle of the audit scrub costs on MariaDB:
 *   node dist/test/perf/measure-audit-scrub.js [links] [links per pass]   (default 100000 2000)
 * Writes about that many links through the store as the gateway writes them (half whole exchanges
 * with sealed request and response bodies, half payments reserved with their sealed first event,
 * several chains), then runs AuditScrub passes back to back (no wait between them) until three
 * full cycles are complete, and prints for each cycle: links, passes, wall time, this process's
 * CPU and the server's (mariadbd's, read from /proc, so other work on the server counts too), per
 * 100,000 links; and a pass's CPU. The figures are in docs/performance.md ("The audit scrub").
 * Asserts nothing but that nothing was held.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditScrub } from '../../src/audit/index.js';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore, type Store } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { serverCpuMs, serverPid } from '../support/mariadb-cpu.js';

const LINKS = Number(process.argv[2] ?? 100_000);
const PER_PASS = Number(process.argv[3] ?? 2_000);
const CYCLES = 3;
/** Writes in flight at once (a pooled store spreads them over several chains, as a busy gateway does). */
const CONCURRENCY = 8;

async function write(store: Store, links: number): Promise<void> {
  const now = Date.now();
  let next = 0;
  const one = async (i: number): Promise<void> => {
    if (i % 2 === 0) {
      const exchange = {
        requestId: `req-${randomBytes(6).toString('hex')}`, receivedAt: now + i, remoteIp: '10.0.0.7', origin: null, method: 'POST', path: '/v1/transfers',
        clientId: 'gbc_perf', transactionId: `INV-${i}`, amount: '150000.00', requestHeaders: { 'content-type': 'application/json' },
        requestBody: JSON.stringify({ transactionId: `INV-${i}`, sourceAccountNumber: '0201245680', beneficiaryAccountNumber: '0201245681', amount: '150000.00', remark: 'Invoice perf' }),
      };
      await store.audit.record(exchange, { outcome: 'completed', statusCode: 201, errorCode: null, clientId: 'gbc_perf', transactionId: `INV-${i}`, amount: '150000.00', responseBody: '{"status":"SUCCESS"}', completedAt: now + i + 40 });
    } else {
      await store.payments.reserve({ clientId: 'gbc_perf', transactionId: `PAY-${i}`, requestHash: 'r'.repeat(64), amount: '150000.00', currency: 'IDR', sourceAccount: '0201245680' }, now + i);
    }
  };
  const worker = async () => {
    while (next < links) await one(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function main(): Promise<void> {
  configureLogger('warn');
  const ring = ringOf(testKeySpec('perf'));
  const { url, drop } = await createMariaDbDatabase();
  const store = await openStore(url, { auditKeys: ring });
  try {
    await migrate(store.db, { keys: ring });
    const writing = Date.now();
    await write(store, LINKS);
    const [{ n, chains }] = await store.db.query<{ n: number | string; chains: number | string }>('SELECT COUNT(*) AS n, COUNT(DISTINCT writer_id) AS chains FROM audit_chain');
    console.log(`${Number(n)} links in ${Number(chains)} chains written in ${((Date.now() - writing) / 1000).toFixed(0)} s; ${PER_PASS} links a pass:`);
    const scrub = new AuditScrub(store.audit, { ring, path: join(mkdtempSync(join(tmpdir(), 'gerbang-perf-scrub-')), 'c.jsonl'), store: store.db.description }, { linksPerPass: PER_PASS });
    const server = await serverPid(store.db);
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const cpu = process.cpuUsage();
      const serverBefore = serverCpuMs(server);
      const started = Date.now();
      let passes = 0;
      for (const done = scrub.cycles; scrub.cycles === done; passes += 1) await scrub.pass();
      if (scrub.held !== null) throw new Error(`held: ${scrub.held}`);
      const used = process.cpuUsage(cpu);
      const gatewayMs = (used.user + used.system) / 1000;
      const serverMs = serverCpuMs(server) - serverBefore;
      const links = scrub.last!.links;
      const per = (value: number) => ((value / links) * 100_000).toFixed(0);
      console.log(
        `  cycle ${cycle + 1}: ${links} links, ${passes} passes, ${((Date.now() - started) / 1000).toFixed(1)} s; CPU: gateway ${gatewayMs.toFixed(0)} ms, mariadbd ${serverMs.toFixed(0)} ms;` +
          ` per 100,000 links: gateway ${per(gatewayMs)} ms, mariadbd ${per(serverMs)} ms; a pass of ${PER_PASS} links: gateway ${((gatewayMs / links) * PER_PASS).toFixed(0)} ms, mariadbd ${((serverMs / links) * PER_PASS).toFixed(0)} ms`,
      );
    }
  } finally {
    await store.close();
    await drop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
