/**
 * What one pass of the rollback watch costs on MariaDB with many audit chains (writers):
 *   node dist/test/perf/measure-rollback-watch.js [chains...]   (default 100 1000 10000)
 * Writes that many chains straight into audit_writers and audit_chain (two links each) and a
 * checkpoint file, then times RollbackWatch.check() 30 times in each of three states: every head
 * as checkpointed (a quiet node: no link read), 10 chains grown since their checkpoint (the live
 * writers between two checkpoints: a link read each), and every chain grown (a checkpoint file
 * behind by all of them: a link read each). Prints the median and 95th percentile of a pass,
 * this process's CPU and the server's (mariadbd's, read from /proc, so other work on the server counts too), a
 * pass's share of a 2 s interval, the SELECT of audit_writers alone, and what the console's overview
 * pays when it asks within the interval (RollbackWatch.recent, the comparison reused). The figures are in
 * docs/performance.md ("The rollback watch"). Asserts nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendCheckpoint, RollbackWatch } from '../../src/audit/index.js';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { writeBareChains } from '../support/bare-chains.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { serverCpuMs, serverPid } from '../support/mariadb-cpu.js';

const COUNTS = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [100, 1_000, 10_000];
const PASSES = 30;
const ms = (ns: bigint): number => Number(ns) / 1e6;
const at = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function timed(label: string, server: number, pass: () => Promise<unknown>): Promise<void> {
  await pass();
  const walls: number[] = [];
  const cpu = process.cpuUsage();
  const serverBefore = serverCpuMs(server);
  for (let i = 0; i < PASSES; i += 1) {
    const started = process.hrtime.bigint();
    await pass();
    walls.push(ms(process.hrtime.bigint() - started));
  }
  const used = process.cpuUsage(cpu);
  const serverPer = (serverCpuMs(server) - serverBefore) / PASSES;
  walls.sort((a, b) => a - b);
  const clientPer = (used.user + used.system) / 1000 / PASSES;
  console.log(
    `  ${label.padEnd(34)} median ${at(walls, 0.5).toFixed(1)} ms, p95 ${at(walls, 0.95).toFixed(1)} ms; CPU a pass: gateway ${clientPer.toFixed(1)} ms, mariadbd ${serverPer.toFixed(1)} ms` +
      ` (${(((clientPer + serverPer) / 2000) * 100).toFixed(2)} % of one core at one pass every 2 s)`,
  );
}

async function measure(chains: number): Promise<void> {
  const ring = ringOf(testKeySpec('perf'));
  const { url, drop } = await createMariaDbDatabase();
  const store = await openStore(url, { auditKeys: ring });
  try {
    await migrate(store.db, { keys: ring });
    const links = await writeBareChains(store.db, chains, ring.currentKeyId);
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-perf-watch-'));
    /** A checkpoint file whose first `behind` chains are vouched for at link 1 (their head is at 2). */
    const watchWith = (name: string, behind: number): RollbackWatch => {
      const path = join(dir, `${name}.jsonl`);
      const heads = links.map(([first, second], i) => (i < behind ? first : second));
      appendCheckpoint(path, ring, { store: store.db.description, at: Date.now(), by: 'verify', heads });
      return new RollbackWatch(store.audit, ring, path, store.db.description);
    };
    const quiet = watchWith('quiet', 0);
    const live = watchWith('live', Math.min(10, chains));
    const all = watchWith('all', chains);
    const [written] = await store.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_writers');
    console.log(`${Number(written.n)} chains in audit_writers:`);
    const server = await serverPid(store.db);
    await timed('SELECT of audit_writers alone', server, () => store.audit.chainHeads());
    for (const [label, watch] of [['a pass, every head checkpointed', quiet], ['a pass, 10 chains grown since', live], [`a pass, all ${chains} chains grown since`, all]] as const) {
      await timed(label, server, async () => {
        await watch.check();
        if (watch.held) throw new Error(`held: ${watch.held}`);
      });
    }
    // The console's overview asks the same comparison (recent): reused for GERBANG_AUDIT_ROLLBACK_CHECK_MS, a stat of the file an opening.
    await timed("an overview's ask, the comparison reused", server, async () => {
      if ((await quiet.recent(60_000)) !== null) throw new Error('held');
    });
  } finally {
    await store.close();
    await drop();
  }
}

async function main(): Promise<void> {
  configureLogger('warn');
  for (const chains of COUNTS) await measure(chains);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
