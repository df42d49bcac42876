/**
 * `npm run bench`: in one run on loopback, the same payment load against
 *   1. the bank simulator alone,
 *   2. a plain reverse proxy (Express 5 + undici) in front of it,
 *   3. Gerbang's full transfer path (every security stage, audit in MariaDB) in front of it,
 * each in its own process: latency p50/p99 at a fixed rate (open loop), peak requests/s (closed
 * loop), CPU time per request of the process in front of the bank, and its RSS after the run.
 * Writes the table into docs/performance.md between the bench markers.
 *
 * Settings (environment): BENCH_RATE (200/s), BENCH_SECONDS (20 measured, after 5 of warm-up),
 * BENCH_PEAK_SECONDS (10; 0 skips), BENCH_SOAK_SECONDS (0; Gerbang at BENCH_SOAK_RATE, default
 * BENCH_RATE, RSS sampled every 10 s),
 * BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306). When the server's Unix socket (@@socket) is
 * there, Gerbang is measured a second time with the store reached through it (?socketPath=).
 * The database server's own CPU per transfer is read too when its process (mariadbd or mysqld)
 * runs on this machine. Last row: two Gerbang processes, each on its own node of a three-node
 * MariaDB Galera cluster started for the run (test/support/galera; needs galera-4 and rsync, as
 * root; BENCH_GALERA=0 skips it), the load split evenly between them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { closedLoop, openLoop, type LoadRequest, type LoadResult } from './bench-load.js';
import { bankTransfers, cli, gatewayTransfers, gerbangEnv, MYSQL_URL, ROOT, serveGerbang, startGerbang, startProxy, startSimulator, stopChildren, type Bank } from './bench-processes.js';
import { cpuMicros, rssBytes } from './proc-stats.js';
import { GaleraCluster, galeraMissing } from '../support/galera/galera-cluster.js';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = 5;
const PEAK_SECONDS = Number(process.env.BENCH_PEAK_SECONDS ?? 10);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 0);
const SOAK_RATE = Number(process.env.BENCH_SOAK_RATE ?? RATE);








interface Measured {
  name: string;
  atRate: LoadResult;
  peak: LoadResult | null;
  /** CPU µs per request of the process in front (the simulator itself for row 1), at the fixed rate. */
  cpuPerRequestUs: number;
  /** CPU µs per request of the database server at the fixed rate (null: no store, or not on this machine). */
  dbCpuPerRequestUs: number | null;
  rssMb: number;
}

/** The local MySQL/MariaDB server's pid, if it runs on this machine. */
function databasePid(): number | null {
  for (const name of ['mariadbd', 'mysqld']) {
    const found = spawnSync('pgrep', ['-xo', name], { encoding: 'utf8' });
    const pid = Number.parseInt(found.stdout, 10);
    if (found.status === 0 && Number.isInteger(pid)) return pid;
  }
  return null;
}

async function measure(name: string, origin: string, pid: number, expectStatus: number, make: (i: number) => LoadRequest, dbPid: number | null = null): Promise<Measured> {
  process.stderr.write(`bench: ${name}: warm-up ${WARMUP_SECONDS} s, then ${SECONDS} s at ${RATE}/s\n`);
  await openLoop(origin, { rate: RATE, seconds: WARMUP_SECONDS, expectStatus, make });
  const cpuBefore = cpuMicros(pid);
  const dbCpuBefore = dbPid === null ? 0 : cpuMicros(dbPid);
  const atRate = await openLoop(origin, { rate: RATE, seconds: SECONDS, expectStatus, make });
  const cpuUsed = cpuMicros(pid) - cpuBefore;
  const dbCpuUsed = dbPid === null ? null : cpuMicros(dbPid) - dbCpuBefore;
  let peak: LoadResult | null = null;
  if (PEAK_SECONDS > 0) {
    process.stderr.write(`bench: ${name}: peak, ${PEAK_SECONDS} s closed loop, 32 in flight\n`);
    peak = await closedLoop(origin, { concurrency: 32, seconds: PEAK_SECONDS, expectStatus, make });
  }
  const result = { name, atRate, peak, cpuPerRequestUs: cpuUsed / atRate.sent, dbCpuPerRequestUs: dbCpuUsed === null ? null : dbCpuUsed / atRate.sent, rssMb: rssBytes(pid) / 1024 / 1024 };
  process.stderr.write(`bench: ${name}: ${JSON.stringify(result)}\n`);
  return result;
}

async function soak(origin: string, pid: number, make: (i: number) => LoadRequest): Promise<{ samples: { second: number; rssMb: number }[]; result: LoadResult }> {
  process.stderr.write(`bench: soak: Gerbang at ${SOAK_RATE}/s for ${SOAK_SECONDS} s\n`);
  const samples: { second: number; rssMb: number }[] = [{ second: 0, rssMb: rssBytes(pid) / 1048576 }];
  const started = Date.now();
  const timer = setInterval(() => samples.push({ second: Math.round((Date.now() - started) / 1000), rssMb: rssBytes(pid) / 1048576 }), 10_000);
  const result = await openLoop(origin, { rate: SOAK_RATE, seconds: SOAK_SECONDS, expectStatus: 201, make });
  clearInterval(timer);
  samples.push({ second: Math.round((Date.now() - started) / 1000), rssMb: rssBytes(pid) / 1048576 });
  return { samples, result };
}

async function main(): Promise<void> {
  // 1. The bank.
  const sim = await startSimulator();
  const bank = sim.value;
  const direct = await bankTransfers(bank);

  // 2. The baseline proxy.
  const proxy = await startProxy(bank.url);

  // 3. Gerbang, on a fresh MariaDB database, with the simulator as its live bank: over TCP, and
  //    over the server's Unix socket when it has one here.
  const admin = await mysql.createConnection(MYSQL_URL);
  const [socketRows] = (await admin.query('SELECT @@socket AS socket')) as unknown as [{ socket: string | null }[]];
  const socket = socketRows[0]?.socket && existsSync(socketRows[0].socket) ? socketRows[0].socket : null;
  const dbPid = databasePid();
  // Each Gerbang numbers its BCA TransactionIDs from its own store, and the one simulator refuses
  // an id it has seen today: the second one starts far from the first.
  const gateways = [await startGerbang(admin, bank, { name: 'Gerbang, full transfer path (audit in MariaDB, TCP)' })];
  if (socket) gateways.push(await startGerbang(admin, bank, { name: 'Gerbang, full transfer path (audit in MariaDB, Unix socket)', socket, bankIdsAhead: 3_000_000 }));

  const rows: Measured[] = [];
  rows.push(await measure('Bank simulator alone', bank.url, sim.child.pid!, 200, direct));
  rows.push(await measure('Plain reverse proxy (Express 5 + undici)', proxy.value, proxy.child.pid!, 200, direct));
  for (const gerbang of gateways) rows.push(await measure(gerbang.name, gerbang.origin, gerbang.child.pid!, 201, gatewayTransfers(gerbang.token), dbPid));
  // The soak runs on the last (fastest) way to the store.
  const soakOn = gateways[gateways.length - 1];
  const soaked = SOAK_SECONDS > 0 ? await soak(soakOn.origin, soakOn.child.pid!, gatewayTransfers(soakOn.token)) : null;
  const onGalera = await measureOnGalera(bank);
  if (onGalera) rows.push(onGalera);

  let audited = 0;
  for (const gerbang of gateways) {
    const [counted] = (await admin.query(`SELECT COUNT(*) AS n FROM ${gerbang.dbName}.audit_exchanges WHERE path = '/v1/transfers'`)) as unknown as [{ n: number }[]];
    audited += Number(counted[0].n);
    gerbang.child.kill('SIGTERM');
    await new Promise((resolve) => gerbang.child.once('exit', resolve));
    await admin.query(`DROP DATABASE ${gerbang.dbName}`);
  }
  writeReport(rows, soaked ? { ...soaked, name: soakOn.name } : null, audited);
  await admin.end();
}

/**
 * Two Gerbang processes on a three-node Galera cluster (one on node 1, one on node 2 with node 3
 * as its next host), the load split evenly: each takes half the rate (and half the peak's
 * requests in flight). Requests/s are summed; p50 and p99 are the higher of the two gateways'
 * (an upper bound of the combined percentile); CPU per request sums both gateways (and all three
 * database servers) over every request. Null when Galera is not installed or BENCH_GALERA=0.
 */
async function measureOnGalera(bank: Bank): Promise<Measured | null> {
  const missing = galeraMissing();
  if (process.env.BENCH_GALERA === '0' || missing) {
    process.stderr.write(`bench: Galera row skipped (${missing ?? 'BENCH_GALERA=0'})\n`);
    return null;
  }
  process.stderr.write('bench: starting a three-node Galera cluster\n');
  const cluster = await GaleraCluster.start();
  try {
    const dbName = await cluster.createDatabase();
    const envA = gerbangEnv(bank, cluster.url(0, dbName));
    cli(['migrate'], envA);
    // Far from the ids the other rows used today (the simulator refuses an id it has seen).
    await cluster.sql(0, `INSERT INTO ${dbName}.sequences (name, value) VALUES ('bca:transaction-id', 40000000)`);
    const client = JSON.parse(cli(['client', 'create', '--name', 'bench', '--cidr', '127.0.0.1/32', '--json'], envA)) as { clientId: string; clientSecret: string };
    cli(['client', 'grant-account', '--id', client.clientId, '--account', '0201245680'], envA);
    const gateways = [await serveGerbang(envA, client), await serveGerbang(gerbangEnv(bank, cluster.url([1, 2], dbName)), client)];
    const name = 'Gerbang × 2 on a three-node Galera cluster (each on its own node, TCP)';
    const pids = gateways.map((g) => g.child.pid!);
    const dbPids = cluster.nodes.map((n) => n.child!.pid!);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const both = (rate: number, seconds: number) =>
      Promise.all(gateways.map((g) => openLoop(g.origin, { rate: rate / 2, seconds, expectStatus: 201, make: gatewayTransfers(g.token) })));
    process.stderr.write(`bench: ${name}: warm-up ${WARMUP_SECONDS} s, then ${SECONDS} s at ${RATE}/s\n`);
    await both(RATE, WARMUP_SECONDS);
    const cpuBefore = sum(pids.map(cpuMicros));
    const dbBefore = sum(dbPids.map(cpuMicros));
    const halves = await both(RATE, SECONDS);
    const cpuUsed = sum(pids.map(cpuMicros)) - cpuBefore;
    const dbUsed = sum(dbPids.map(cpuMicros)) - dbBefore;
    const sent = sum(halves.map((h) => h.sent));
    const unexpected: Record<string, number> = {};
    for (const half of halves) for (const [k, v] of Object.entries(half.unexpected)) unexpected[k] = (unexpected[k] ?? 0) + v;
    const atRate: LoadResult = {
      ...halves[0],
      sent,
      ok: sum(halves.map((h) => h.ok)),
      errors: sum(halves.map((h) => h.errors)),
      maxMs: Math.max(...halves.map((h) => h.maxMs)),
      p50Ms: Math.max(...halves.map((h) => h.p50Ms)),
      p99Ms: Math.max(...halves.map((h) => h.p99Ms)),
      requestsPerSecond: sum(halves.map((h) => h.requestsPerSecond)),
      unexpected,
    };
    let peak: LoadResult | null = null;
    if (PEAK_SECONDS > 0) {
      process.stderr.write(`bench: ${name}: peak, ${PEAK_SECONDS} s closed loop, 16 in flight per gateway\n`);
      const peaks = await Promise.all(gateways.map((g) => closedLoop(g.origin, { concurrency: 16, seconds: PEAK_SECONDS, expectStatus: 201, make: gatewayTransfers(g.token) })));
      peak = { ...peaks[0], requestsPerSecond: sum(peaks.map((p) => p.requestsPerSecond)) };
    }
    const result = { name, atRate, peak, cpuPerRequestUs: cpuUsed / sent, dbCpuPerRequestUs: dbUsed / sent, rssMb: sum(pids.map(rssBytes)) / 1024 / 1024 };
    process.stderr.write(`bench: ${name}: ${JSON.stringify(result)}\n`);
    for (const g of gateways) {
      g.child.kill('SIGTERM');
      await new Promise((resolve) => g.child.once('exit', resolve));
    }
    return result;
  } finally {
    await cluster.stop();
  }
}

function writeReport(rows: Measured[], soaked: (Awaited<ReturnType<typeof soak>> & { name: string }) | null, auditRows: number): void {
  const base = rows[0].atRate;
  const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, ` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end (a shared machine: other work ran beside it).`,
    `Fixed rate ${RATE} requests/s, open loop, ${SECONDS} s measured after ${WARMUP_SECONDS} s of warm-up; peak: closed loop, 32 in flight, ${PEAK_SECONDS} s.`,
    '',
    '| Path | p50 (ms) | p99 (ms) | added p50 / p99 vs bank (ms) | req/s at fixed rate | peak req/s | CPU per request (µs) | database CPU per request (µs) | RSS after (MiB) | non-2xx / errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r, i) => {
      const added = i === 0 ? '—' : `${f(r.atRate.p50Ms - base.p50Ms, 2)} / ${f(r.atRate.p99Ms - base.p99Ms, 2)}`;
      const bad = Object.values(r.atRate.unexpected).reduce((a, b) => a + b, 0);
      return `| ${r.name} | ${f(r.atRate.p50Ms, 2)} | ${f(r.atRate.p99Ms, 2)} | ${added} | ${f(r.atRate.requestsPerSecond)} | ${r.peak ? f(r.peak.requestsPerSecond, 0) : '—'} | ${f(r.cpuPerRequestUs, 0)} | ${r.dbCpuPerRequestUs === null ? '—' : f(r.dbCpuPerRequestUs, 0)} | ${f(r.rssMb)} | ${bad} |`;
    }),
    '',
    `CPU per request is the user + system time (/proc/<pid>/stat) of the process in front of the bank — for the first row the simulator itself — divided by the requests of the fixed-rate phase; the database's column is the same for the MariaDB server process. Audit rows written for /v1/transfers during the run: ${auditRows}.`,
    ...(rows.some((r) => r.name.includes('Galera'))
      ? [
          '',
          'Galera row: two Gerbang processes, each on its own node of a three-node MariaDB Galera cluster on this same machine, each taking half the rate; its p50/p99 are the higher of the two gateways\' (an upper bound), requests/s and peak are summed, CPU per request sums both gateways (and, in the database column, all three nodes), RSS sums both gateways.',
        ]
      : []),
  ];
  if (soaked) {
    const first = soaked.samples[1] ?? soaked.samples[0];
    const last = soaked.samples[soaked.samples.length - 1];
    lines.push(
      '',
      `Soak: ${soaked.name} at ${SOAK_RATE}/s for ${SOAK_SECONDS} s (${soaked.result.sent} transfers, p50 ${f(soaked.result.p50Ms, 2)} ms, p99 ${f(soaked.result.p99Ms, 2)} ms): ` +
        `RSS ${f(first.rssMb)} MiB at ${first.second} s, ${f(last.rssMb)} MiB at ${last.second} s, max ${f(Math.max(...soaked.samples.map((s) => s.rssMb)))} MiB.`,
      '',
      `RSS samples (s: MiB): ${soaked.samples.map((s) => `${s.second}: ${f(s.rssMb)}`).join(', ')}`,
    );
  }
  const file = join(ROOT, 'docs', 'performance.md');
  const doc = readFileSync(file, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const next = doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${lines.join('\n')}\n${end}`);
  writeFileSync(file, next);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(stopChildren);
