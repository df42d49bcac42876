/**
 * `npm run bench:rate-limit-keys [keys...]` (default 10000 100000): what many distinct rate-limit
 * keys cost one process (an attacker's spoofed addresses behind a trusted proxy, made-up client
 * ids): the per-IP limiter's store (SharedRateLimitStore, GERBANG_RATE_LIMIT_SYNC_MS 100 ms) is
 * given one hit for each of that many keys, 16 in flight (windows of an hour: none ends during the
 * run), then two more hits back to back for each key it keeps a window of (the first reads the
 * store again, its view being older than S by then; the second is counted here and added to the
 * store by the background synchronisation). For each backend (the embedded store, and MariaDB when
 * reachable): the windows kept, the heap they hold (after forced GCs: the heap with the limiter
 * and its windows above the heap before it was made, and what dropping it freed), the CPU per
 * first hit of a key (a statement in the store each) split into keys that got a window and keys
 * past the bound, and the two more hits: statements, wall time until all of them were in the
 * store, CPU per hit.
 * A measurement, not a test: it depends on the machine and its load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Options } from 'express-rate-limit';
import { configureLogger } from '../../src/log/index.js';
import { SharedRateLimitStore } from '../../src/pipeline/rate-limit/store-adapter.js';
import { migrate, openStore, type RateLimitRepository, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';

const SYNC_MS = 100;
const IN_FLIGHT = 16;
const WINDOW_MS = 3_600_000;

interface Run {
  keys: number;
  windows: number;
  heapMiB: number;
  droppedMiB: number;
  bytesPerWindow: number;
  cpuUsPerKeptHit: number;
  cpuUsPerHitPastBound: number;
  syncStatements: number;
  syncMs: number;
  syncCpuUsPerHit: number;
}

/** `count` calls of `hit(i)`, IN_FLIGHT at a time; the process's CPU time they took, in µs. */
async function spread(count: number, hit: (i: number) => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await hit(next++);
    }),
  );
  const { user, system } = process.cpuUsage(before);
  return user + system;
}

/** The heap in use once what the last promises held is released and collected. */
async function heapAfterGc(gc: () => void): Promise<number> {
  for (let i = 0; i < 3; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

async function measure(store: Store, keys: number, gc: () => void): Promise<Run> {
  let statements = 0;
  const repository: RateLimitRepository = {
    ...store.rateLimits,
    increment: (key, windowMs, now, by) => {
      statements += 1;
      return store.rateLimits.increment(key, windowMs, now, by);
    },
  };
  const prefix = `bench-${Date.now()}:`;
  const floor = await heapAfterGc(gc);
  let limiter: SharedRateLimitStore | null = new SharedRateLimitStore(repository, prefix, Date.now, SYNC_MS);
  limiter.init({ windowMs: WINDOW_MS } as Options);
  const key = (i: number) => `198.51.${Math.floor(i / 256) % 256}.${i % 256}#${i}`;
  const windows = () => limiter!.localWindows;

  // First hits: a statement each; those that find room keep a window.
  const kept: number[] = [];
  let keptCpu = 0;
  let pastCpu = 0;
  const batch = 1_000;
  for (let from = 0; from < keys; from += batch) {
    const size = Math.min(batch, keys - from);
    const roomBefore = windows();
    const cpu = await spread(size, async (i) => limiter!.increment(key(from + i)));
    const added = windows() - roomBefore;
    for (let i = 0; i < added; i += 1) kept.push(from + i);
    // A batch that filled the bound part-way is counted with the kept ones.
    if (added > 0) keptCpu += cpu;
    else pastCpu += cpu;
  }
  const keptHits = Math.ceil(kept.length / batch) * batch;
  const held = windows();

  // Two more hits of each kept key: the first to the store, the second counted here and synchronised in the background.
  const expected = statements + 2 * held;
  const started = performance.now();
  const syncCpu = process.cpuUsage();
  await spread(kept.length, async (i) => {
    await limiter!.increment(key(kept[i]));
    await limiter!.increment(key(kept[i]));
  });
  while (statements < expected && performance.now() - started < 120_000) await new Promise((resolve) => setTimeout(resolve, 5));
  const syncMs = performance.now() - started;
  const cpu = process.cpuUsage(syncCpu);

  const withLimiter = await heapAfterGc(gc);
  await limiter.close();
  limiter = null;
  const without = await heapAfterGc(gc);
  return {
    keys,
    windows: held,
    heapMiB: (withLimiter - floor) / 1024 / 1024,
    bytesPerWindow: held > 0 ? (withLimiter - floor) / held : 0,
    droppedMiB: (withLimiter - without) / 1024 / 1024,
    cpuUsPerKeptHit: keptCpu / keptHits,
    cpuUsPerHitPastBound: keys > keptHits ? pastCpu / (keys - keptHits) : 0,
    syncStatements: statements - (expected - 2 * held),
    syncMs,
    syncCpuUsPerHit: (cpu.user + cpu.system) / (2 * held),
  };
}

async function backend(name: string, url: string, counts: number[], gc: () => void): Promise<string[]> {
  const store = await openStore(url, { auditKeys: TEST_AUDIT_KEYS });
  try {
    await migrate(store.db);
    const rows: string[] = [];
    for (const keys of counts) {
      const r = await measure(store, keys, gc);
      rows.push(
        `| ${name} | ${keys.toLocaleString('en')} | ${r.windows.toLocaleString('en')} | ${r.heapMiB.toFixed(2)} MiB (${r.bytesPerWindow.toFixed(0)} B a window); ${r.droppedMiB.toFixed(2)} MiB freed with the limiter | ${r.cpuUsPerKeptHit.toFixed(0)} µs | ${r.cpuUsPerHitPastBound ? `${r.cpuUsPerHitPastBound.toFixed(0)} µs` : '-'} | ${r.syncStatements.toLocaleString('en')} in ${r.syncMs.toFixed(0)} ms, ${r.syncCpuUsPerHit.toFixed(0)} µs CPU a hit |`,
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
    return rows;
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  configureLogger('silent');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const counts = process.argv.slice(2).map(Number);
  if (counts.length === 0) counts.push(10_000, 100_000);
  const rows: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gerbang-rl-keys-'));
  try {
    rows.push(...(await backend('embedded', `sqlite:${join(dir, 'g.sqlite')}`, counts, gc)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const maria = await createMariaDbDatabase().catch((error: unknown) => {
    process.stderr.write(`MariaDB left out: ${(error as Error).message}\n`);
    return null;
  });
  if (maria) {
    try {
      rows.push(...(await backend('MariaDB', maria.url, counts, gc)));
    } finally {
      await maria.drop();
    }
  }
  process.stdout.write(
    ['| Store | Distinct keys | Windows kept | Heap they hold | CPU per first hit, kept | CPU per hit past the bound | Two more hits per kept key: statements, all in the store after, CPU |', '|---|---:|---:|---:|---:|---:|---|', ...rows, ''].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
