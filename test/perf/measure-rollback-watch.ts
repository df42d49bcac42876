/**
 * What one pass of the rollback watch costs on MariaDB with many audit chains (writers):
 *   node dist/test/perf/measure-rollback-watch.js [chains...]   (default 100 1000 10000)
 * Writes that many chains straight into audit_writers and audit_chain (two links each) and a
 * checkpoint file, then times RollbackWatch.check() 30 times in each of three states: every head
 * as checkpointed (a quiet node: no link read), 10 chains grown since their checkpoint (the live
 * writers between two checkpoints: a link read each), and every chain grown (a checkpoint file
 * behind by all of them: a link read each). Prints the median and 95th percentile of a pass,
 * this process's CPU and mariadbd's (read from /proc, so other work on the server counts too), a
 * pass's share of a 2 s interval, and the SELECT of audit_writers alone. The figures are in
 * docs/performance.md ("The rollback watch"). Asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendCheckpoint, RollbackWatch } from '../../src/audit/index.js';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openStore, type Store } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';

const COUNTS = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [100, 1_000, 10_000];
const PASSES = 30;
const TICK_MS = 1000 / 100; // /proc's clock ticks (USER_HZ 100)

/** mariadbd's CPU so far, in ms (user and system), or NaN when it is not on this host. */
function serverCpuMs(): number {
  try {
    const pid = execFileSync('pidof', ['mariadbd'], { encoding: 'utf8' }).trim().split(' ')[0];
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

const ms = (ns: bigint): number => Number(ns) / 1e6;
const at = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function timed(label: string, pass: () => Promise<unknown>): Promise<void> {
  await pass();
  const walls: number[] = [];
  const cpu = process.cpuUsage();
  const server = serverCpuMs();
  for (let i = 0; i < PASSES; i += 1) {
    const started = process.hrtime.bigint();
    await pass();
    walls.push(ms(process.hrtime.bigint() - started));
  }
  const used = process.cpuUsage(cpu);
  const serverPer = (serverCpuMs() - server) / PASSES;
  walls.sort((a, b) => a - b);
  const clientPer = (used.user + used.system) / 1000 / PASSES;
  console.log(
    `  ${label.padEnd(34)} median ${at(walls, 0.5).toFixed(1)} ms, p95 ${at(walls, 0.95).toFixed(1)} ms; CPU a pass: gateway ${clientPer.toFixed(1)} ms, mariadbd ${serverPer.toFixed(1)} ms` +
      ` (${(((clientPer + serverPer) / 2000) * 100).toFixed(2)} % of one core at one pass every 2 s)`,
  );
}

async function writeChains(store: Store, chains: number, keyId: string): Promise<{ writerId: string; seq: number; hash: string }[][]> {
  const links: { writerId: string; seq: number; hash: string }[][] = [];
  const now = Date.now();
  for (let from = 0; from < chains; from += 500) {
    const batch = Array.from({ length: Math.min(500, chains - from) }, (_, i) => {
      const writerId = `perf-${from + i}-${randomBytes(8).toString('hex')}`;
      return [1, 2].map((seq) => ({ writerId, seq, hash: randomBytes(32).toString('hex') }));
    });
    links.push(...batch);
    await store.db.execute(
      `INSERT INTO audit_writers (writer_id, host, pid, started_at, last_seq, last_hash, updated_at) VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      batch.flatMap(([, head]) => [head.writerId, 'perf-host', 1, now, head.seq, head.hash, now]),
    );
    const rows = batch.flat();
    await store.db.execute(
      `INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      rows.flatMap((l) => [l.writerId, l.seq, 'record', l.seq, now, '0'.repeat(64), l.hash, keyId]),
    );
  }
  return links;
}

async function measure(chains: number): Promise<void> {
  const ring = ringOf(testKeySpec('perf'));
  const { url, drop } = await createMariaDbDatabase();
  const store = await openStore(url, { auditKeys: ring });
  try {
    await migrate(store.db, { keys: ring });
    const links = await writeChains(store, chains, ring.currentKeyId);
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
    await timed('SELECT of audit_writers alone', () => store.audit.chainHeads());
    for (const [label, watch] of [['a pass, every head checkpointed', quiet], ['a pass, 10 chains grown since', live], [`a pass, all ${chains} chains grown since`, all]] as const) {
      await timed(label, async () => {
        await watch.check();
        if (watch.held) throw new Error(`held: ${watch.held}`);
      });
    }
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
