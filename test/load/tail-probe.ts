/**
 * What holds a gateway's event loop under load: one gateway (this tree's build, or TAIL_BIN's
 * bin/gerbang) on a fresh MariaDB database over TCP against the simulator, as `npm run bench` starts
 * them, TAIL_RATE transfers/s (200) open loop for TAIL_SECONDS (20) after 5 s of warm-up, with
 * loop-probe.js preloaded (LOOP_PROBE_HOOKS=1 for the callbacks) and, unless TAIL_NO_PROFILE=1,
 * `--cpu-prof`; TAIL_NODE_FLAGS: node flags for the gateway (space-separated). Writes the probe's
 * probe.json and the profile into TAIL_OUT (/tmp/gerbang-tail); prints p50/p99 and what the probe
 * saw while the measured load ran. docs/performance.md, "The audit scrub's long turns".
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { gatewayTransfers, MYSQL_URL, startGerbang, startSimulator, stopChildren } from './bench-processes.js';
import { openLoop } from './bench-load.js';

const RATE = Number(process.env.TAIL_RATE ?? 200);
const SECONDS = Number(process.env.TAIL_SECONDS ?? 20);
const OUT = process.env.TAIL_OUT ?? '/tmp/gerbang-tail';
const BIN = process.env.TAIL_BIN;

async function main() {
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (f.endsWith('.cpuprofile')) unlinkSync(join(OUT, f));
  process.env.LOOP_PROBE_OUT = join(OUT, 'probe.json');
  const sim = await startSimulator();
  const admin = await mysql.createConnection(MYSQL_URL);
  const flags = [...(process.env.TAIL_NODE_FLAGS ?? '').split(' ').filter(Boolean), '--require', join(__dirname, 'loop-probe.js'), ...(process.env.TAIL_NO_PROFILE === '1' ? [] : ['--cpu-prof', `--cpu-prof-dir=${OUT}`])];
  const g = await startGerbang(admin, sim.value, { name: 'probe', bin: BIN, nodeFlags: flags });
  const make = gatewayTransfers(g.token);
  await openLoop(g.origin, { rate: RATE, seconds: 5, expectStatus: 201, make });
  const measuredFrom = Date.now();
  const result = await openLoop(g.origin, { rate: RATE, seconds: SECONDS, expectStatus: 201, make: (i) => make(i + 100_000) });
  g.child.kill('SIGTERM');
  await new Promise((r) => g.child.once('exit', r));
  await admin.query(`DROP DATABASE ${g.dbName}`);
  await admin.end();
  stopChildren();
  console.log(JSON.stringify({ sent: result.sent, unexpected: result.unexpected, p50Ms: result.p50Ms, p99Ms: result.p99Ms, maxMs: result.maxMs }));
  const probe = JSON.parse(readFileSync(join(OUT, 'probe.json'), 'utf8')) as { clock: { timeOrigin: number }; delay: Record<string, number>; collections: [number, number, number][]; callbacks: [number, number, number, string][] };
  // What the probe saw while the measured load ran (the loop's delay is the whole process's).
  const measured = <T extends [number, ...unknown[]]>(entries: T[]) => entries.filter((e) => probe.clock.timeOrigin + e[0] >= measuredFrom);
  const callbacks = measured(probe.callbacks);
  const collections = measured(probe.collections);
  const cpuAtLeast = (ms: number) => callbacks.filter((c) => c[2] >= ms).length;
  const scavenges = collections.filter((c) => c[2] === 1).map((c) => c[1]).sort((a, b) => a - b);
  console.log(JSON.stringify({
    loopDelayMs: probe.delay,
    callbacksCpuAtLeast3_5_10_20Ms: [3, 5, 10, 20].map(cpuAtLeast),
    scavenges: { n: scavenges.length, p50Ms: scavenges[scavenges.length >> 1], maxMs: scavenges[scavenges.length - 1] },
    markCompactsMs: collections.filter((c) => c[2] === 4).map((c) => +c[1].toFixed(1)),
  }));
}
main().catch((e) => { console.error(e); stopChildren(); process.exit(1); });
