/**
 * What the outbox of callbacks to the ERP costs, on the embedded SQLite store and on MariaDB:
 *   node dist/test/perf/measure-callbacks.js [notifications]   (default 1000)
 * Queues that many notifications for one client (CallbackRepository.enqueue, one after the other,
 * as transfers settle), then delivers them with a CallbackDispatcher (20 a round, each signed and
 * POSTed to a local HTTP server answering 204, each attempt audited) until none is left. Prints the
 * notifications queued and delivered a second (wall time) and this process's CPU a notification
 * (the database server's is not counted). Run it on two releases to compare them (since migration
 * 038 each queueing and each attempt also writes a change record and its chain link). The figures
 * are in docs/performance.md ("Callback deliveries under the keyed record"). Asserts nothing.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallbackDispatcher, CallbackSigner } from '../../src/domain/callbacks/index.js';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase, storedClient } from '../support/databases.js';

const COUNT = Number(process.argv[2] ?? 1000);

async function measure(backend: 'sqlite' | 'mariadb', url: string, receiver: string, signer: CallbackSigner): Promise<void> {
  const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
  try {
    await migrate(store.db, { keys: TEST_AUDIT_KEYS });
    const clientId = await storedClient(store, Date.now());
    await store.callbacks.setEndpoint(clientId, receiver, Date.now());
    const body = JSON.stringify({ event: 'transfer.final', transfer: { transactionId: 'X', status: 'SUCCESS', amount: '150000.00', bankReference: 'REF-1' } });
    let cpu = process.cpuUsage();
    let began = process.hrtime.bigint();
    for (let i = 0; i < COUNT; i += 1) await store.callbacks.enqueue({ clientId, transactionId: `INV-CB-${i}`, url: receiver, body }, Date.now());
    const queueMs = Number(process.hrtime.bigint() - began) / 1e6;
    const queueCpu = process.cpuUsage(cpu);
    const dispatcher = new CallbackDispatcher({ callbacks: store.callbacks, audit: store.audit, signer, clock: Date.now }, { intervalMs: 1_000, retryBaseMs: 1_000 });
    cpu = process.cpuUsage();
    began = process.hrtime.bigint();
    let delivered = 0;
    while (delivered < COUNT) delivered += await dispatcher.runOnce();
    const sendMs = Number(process.hrtime.bigint() - began) / 1e6;
    const sendCpu = process.cpuUsage(cpu);
    const [{ n }] = await store.db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM callback_deliveries WHERE state = 'DELIVERED'");
    const perItem = (usage: NodeJS.CpuUsage) => ((usage.user + usage.system) / 1000 / COUNT).toFixed(2);
    console.log(
      `${backend.padEnd(8)} queued ${COUNT} in ${queueMs.toFixed(0)} ms (${((COUNT / queueMs) * 1000).toFixed(0)}/s, CPU ${perItem(queueCpu)} ms each); ` +
        `delivered ${Number(n)} in ${sendMs.toFixed(0)} ms (${((COUNT / sendMs) * 1000).toFixed(0)}/s, CPU ${perItem(sendCpu)} ms each)`,
    );
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  configureLogger('silent');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  const signer = CallbackSigner.fromFile(join(mkdtempSync(join(tmpdir(), 'gerbang-perf-callbacks-')), 'key.pem'));
  try {
    for (const backend of ['sqlite', 'mariadb'] as const) {
      const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
      try {
        await measure(backend, database.url, receiver, signer);
      } finally {
        await database.drop();
      }
    }
  } finally {
    server.close();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
