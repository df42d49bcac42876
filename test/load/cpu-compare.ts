/**
 * CPU per transfer of Gerbang builds side by side, against the baseline proxy of the same run: the
 * figure to read when a change is meant to cut the gateway's CPU, on a machine whose neighbours
 * move the absolute figures. Starts the simulator, the proxy and one `bin/gerbang serve` per build
 * (this tree, then each folder given: a copy of another build's bin/, dist/, sql/ and
 * package.json), each on its own MariaDB database over TCP, as `npm run bench` does; warms each up,
 * then measures them in turn, round after round, at a fixed rate (open loop).
 * Usage: node dist/test/load/cpu-compare.js [other build's root ...]; a root may be followed by
 * node flags for its gateway after `::` (`. ::--max-semi-space-size=32`: this tree again, so
 * flags are compared on the same build; `.` is this tree).
 * Settings (environment): CPU_RATE (150/s), CPU_SECONDS (10 per measurement), CPU_ROUNDS (3),
 * BENCH_CPU_PROF=<dir> (each gateway under node --cpu-prof). A measurement: it prints, it asserts nothing.
 */
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { openLoop, type LoadRequest } from './bench-load.js';
import { bankTransfers, gatewayTransfers, MYSQL_URL, startGerbang, startProxy, startSimulator, stopChildren } from './bench-processes.js';
import { cpuMicros } from './proc-stats.js';

const RATE = Number(process.env.CPU_RATE ?? 150);
const SECONDS = Number(process.env.CPU_SECONDS ?? 10);
const ROUNDS = Number(process.env.CPU_ROUNDS ?? 3);

interface Target {
  name: string;
  origin: string;
  pid: number;
  expectStatus: number;
  make: (i: number) => LoadRequest;
}

/** CPU µs per request of `target` over SECONDS at RATE, and the answers other than the expected status, by status or error code. */
async function cpuPerRequest(target: Target, seconds = SECONDS): Promise<{ us: number; bad: string }> {
  const before = cpuMicros(target.pid);
  const result = await openLoop(target.origin, { rate: RATE, seconds, expectStatus: target.expectStatus, make: target.make });
  const bad = Object.entries(result.unexpected).map(([what, count]) => `${count} × ${what}`).join(', ');
  return { us: (cpuMicros(target.pid) - before) / result.sent, bad };
}

async function main(): Promise<void> {
  const sim = await startSimulator();
  const proxy = await startProxy(sim.value.url);
  const admin = await mysql.createConnection(MYSQL_URL);
  const here = join(__dirname, '..', '..', '..');
  const builds = [here, ...process.argv.slice(2)].map((arg) => {
    const [root, ...flags] = arg.split('::');
    return { root: root.trim() === '.' ? here : root.trim(), flags: flags.join('::').split(/\s+/).filter(Boolean) };
  });
  const targets: Target[] = [{ name: 'proxy', origin: proxy.value, pid: proxy.child.pid!, expectStatus: 200, make: await bankTransfers(sim.value) }];
  const dbNames: string[] = [];
  for (const [i, { root, flags }] of builds.entries()) {
    const gerbang = await startGerbang(admin, sim.value, { name: root, bin: join(root, 'bin', 'gerbang'), bankIdsAhead: 3_000_000 * i, nodeFlags: flags });
    dbNames.push(gerbang.dbName);
    targets.push({ name: [root, ...flags].join(' '), origin: gerbang.origin, pid: gerbang.child.pid!, expectStatus: 201, make: gatewayTransfers(gerbang.token) });
  }
  try {
    for (const target of targets) await cpuPerRequest(target, 4);
    const sums = targets.map(() => 0);
    const micros = targets.map(() => 0);
    for (let round = 1; round <= ROUNDS; round += 1) {
      const line: string[] = [];
      let proxyUs = NaN;
      for (const [i, target] of targets.entries()) {
        const { us, bad } = await cpuPerRequest(target);
        if (i === 0) proxyUs = us;
        sums[i] += us / proxyUs;
        micros[i] += us;
        line.push(`${target.name === 'proxy' ? 'proxy' : `#${i}`} ${us.toFixed(0)} µs${i === 0 ? '' : ` (${(us / proxyUs).toFixed(2)}×)`}${bad ? ` (unexpected: ${bad})` : ''}`);
      }
      process.stdout.write(`round ${round}: ${line.join(', ')}\n`);
    }
    process.stdout.write(`mean ratio to the proxy over ${ROUNDS} rounds at ${RATE}/s:\n`);
    for (const [i, target] of targets.entries()) {
      if (i > 0) process.stdout.write(`  #${i} ${(sums[i] / ROUNDS).toFixed(2)}×, ${(micros[i] / ROUNDS).toFixed(0)} µs (proxy ${(micros[0] / ROUNDS).toFixed(0)} µs)  ${target.name}\n`);
    }
  } finally {
    stopChildren();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const name of dbNames) await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`cpu-compare failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
