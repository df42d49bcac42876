/**
 * Counts the SQL statements one audited transfer costs on MariaDB: starts a gateway (sandbox
 * bank) on a fresh database, warms it up, turns on the server's general log (to a table) for a
 * run of sequential transfers, and counts the statements of this database's connections, by kind.
 * Needs a MariaDB/MySQL user that may SET GLOBAL general_log. Usage:
 *   npm run build && node dist/test/load/statement-count.js [transfers] [in flight] [seal-at-insert]
 * `seal-at-insert`: `on` runs the gateway with GERBANG_SEAL_PAYMENTS_AT_INSERT=true (the default is
 * the release's: off), so both are measured back to back. With STATEMENT_COUNT_SHOW=n it also prints
 * the last n statements in the order the server ran them (their first 160 characters), to see
 * which belong together. Each entry of the log is one query the gateway sent (one round trip): a
 * writer session's statements sent together (executeAll) are one entry, labelled by the first.
 * A measurement, not a test: it prints, it asserts nothing.
 */
import { createMariaDbDatabase, TEST_MYSQL_URL } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { openDb } from '../../src/store/index.js';

async function main(): Promise<void> {
  const transfers = Number(process.argv[2] ?? 50);
  const inFlight = Number(process.argv[3] ?? 1);
  const sealAtInsert = (process.argv[4] ?? 'off') === 'on';
  const database = await createMariaDbDatabase();
  const name = new URL(database.url).pathname.slice(1);
  // Production defaults for what the request path caches; the harness turns them off for tests.
  const gw = await TestGateway.start(database.url, {
    GERBANG_CACHE_STALENESS_MS: '1000',
    GERBANG_RESOLVER_INTERVAL_MS: '0',
    GERBANG_SEAL_PAYMENTS_AT_INSERT: String(sealAtInsert),
  });
  const admin = openDb(TEST_MYSQL_URL);
  try {
    const client = await gw.createClient();
    const headers = { authorization: `Bearer ${await gw.token(client)}` };
    const pay = async () => {
      const answer = await gw.request('/v1/transfers', { json: sampleTransfer(), headers });
      if (answer.status !== 201) throw new Error(`transfer answered ${answer.status}: ${answer.text}`);
    };
    for (let i = 0; i < 20; i += 1) await pay();
    await admin.execute("SET GLOBAL log_output = 'TABLE'");
    await admin.execute('TRUNCATE TABLE mysql.general_log');
    await admin.execute('SET GLOBAL general_log = 1');
    const started = new Date();
    let sent = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (sent < transfers) {
          sent += 1;
          await pay();
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await admin.execute('SET GLOBAL general_log = 0');
    // This database's connections: those whose statements name it or that the pool opened on it.
    const threads = await admin.query<{ thread_id: number }>(
      "SELECT DISTINCT thread_id FROM mysql.general_log WHERE command_type = 'Connect' AND argument LIKE ?",
      [`%${name}%`],
    );
    const ours = new Set(threads.map((t) => Number(t.thread_id)));
    // Pooled connections opened before the log was on: find them through the processlist.
    for (const row of await admin.query<{ ID: number; DB: string | null }>('SELECT ID, DB FROM information_schema.PROCESSLIST')) {
      if (row.DB === name) ours.add(Number(row.ID));
    }
    const rows = await admin.query<{ thread_id: number; command_type: string; argument: Buffer | string }>(
      "SELECT thread_id, command_type, argument FROM mysql.general_log WHERE command_type IN ('Query', 'Execute') AND event_time >= ?",
      [started.toISOString().slice(0, 23).replace('T', ' ')],
    );
    const kinds = new Map<string, number>();
    let total = 0;
    const shown: string[] = [];
    for (const row of rows) {
      if (!ours.has(Number(row.thread_id))) continue;
      const sql = String(row.argument).replace(/\s+/g, ' ').trim();
      shown.push(`  [${row.thread_id}] ${sql.slice(0, 160)}`);
      const kind = /^(INSERT INTO|UPDATE|DELETE FROM|SELECT .*? FROM|COMMIT|ROLLBACK|START TRANSACTION|BEGIN|SET)\s*`?(\w+)?/i.exec(sql);
      const label = kind ? `${kind[1].split(' ')[0].toUpperCase()} ${kind[2] ?? ''}`.trim() : sql.slice(0, 40);
      kinds.set(label, (kinds.get(label) ?? 0) + 1);
      total += 1;
    }
    console.log(`${transfers} transfers, ${inFlight} in flight, sealed ${sealAtInsert ? 'in the INSERT' : 'by an UPDATE'}: ${total} statements, ${(total / transfers).toFixed(2)} per transfer`);
    for (const [label, count] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`  ${(count / transfers).toFixed(2)}  ${label}`);
    const show = Number(process.env.STATEMENT_COUNT_SHOW ?? 0);
    if (show > 0) console.log(shown.slice(-show).join('\n'));
  } finally {
    await admin.execute('SET GLOBAL general_log = 0').catch(() => undefined);
    await admin.close();
    await gw.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
