/**
 * What starting a gateway costs, as the test harness starts one (TestGateway.start: sandbox bank,
 * port 0) on an embedded SQLite store migrated once: the wall time and this process's CPU time of
 * each start (the test suites start one or more gateways in most of their cases), then the median
 * and the total. Usage:
 *   npm run build && node dist/test/load/gateway-start.js [starts]
 * A measurement, not a test: it prints, it asserts nothing.
 */
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { createSqliteDatabase } from '../support/databases.js';
import { TestGateway } from '../support/gateway-harness.js';

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  configureLogger('silent');
  const starts = Number(process.argv[2] ?? 20);
  const database = createSqliteDatabase();
  const store = await openStore(database.url, { auditKeys: TEST_AUDIT_KEYS });
  await migrate(store.db);
  await store.close();
  const wall: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i < starts; i += 1) {
      const cpuBefore = process.cpuUsage();
      const before = performance.now();
      const gw = await TestGateway.start(database.url, { GERBANG_AUDIT_SCRUB_MS: '0' });
      wall.push(performance.now() - before);
      const used = process.cpuUsage(cpuBefore);
      cpu.push((used.user + used.system) / 1000);
      await gw.close();
    }
  } finally {
    await database.drop();
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  process.stdout.write(`${starts} gateway starts: median ${median(wall).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU; in all ${sum(wall).toFixed(0)} ms wall, ${sum(cpu).toFixed(0)} ms CPU\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
