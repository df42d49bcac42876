/**
 * What holds a gateway's event loop under load: one gateway (this tree's build, or TAIL_BIN's
 * bin/gerbang) on a fresh MariaDB database over TCP against the simulator, as `npm run bench` starts
 * them, TAIL_RATE transfers/s (200) open loop for TAIL_SECONDS (20) after 5 s of warm-up, with
 * loop-probe.js preloaded (LOOP_PROBE_HOOKS=1 for the callbacks) and, unless TAIL_NO_PROFILE=1,
 * `--cpu-prof`; TAIL_NODE_FLAGS: node flags for the gateway (space-separated). Writes into TAIL_OUT (/tmp/gerbang-tail): probe.json, requests.json (each
 * request's due time, latency and status) and the profile; prints p50/p90/p99 and what the probe
 * saw. docs/performance.md, "The audit scrub's long turns".
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { Pool } from 'undici';
import { gatewayTransfers, MYSQL_URL, startGerbang, startSimulator, stopChildren } from './bench-processes.js';
import type { LoadRequest } from './bench-load.js';

const RATE = Number(process.env.TAIL_RATE ?? 200);
const SECONDS = Number(process.env.TAIL_SECONDS ?? 20);
const OUT = process.env.TAIL_OUT ?? '/tmp/gerbang-tail';
const BIN = process.env.TAIL_BIN;

async function load(origin: string, seconds: number, make: (i: number) => LoadRequest) {
  const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 10_000 });
  const total = Math.round(RATE * seconds);
  const rows: [number, number, number][] = [];
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const req = make(i);
    inflight.push(pool.request({ method: req.method, path: req.path, headers: req.headers, body: req.body }).then(async (res) => {
      await res.body.text();
      rows.push([performance.timeOrigin + due, performance.now() - due, res.statusCode]);
    }));
  }
  await Promise.all(inflight);
  await pool.close();
  return rows;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (f.endsWith('.cpuprofile')) unlinkSync(join(OUT, f));
  process.env.LOOP_PROBE_OUT = join(OUT, 'probe.json');
  const sim = await startSimulator();
  const admin = await mysql.createConnection(MYSQL_URL);
  const flags = [...(process.env.TAIL_NODE_FLAGS ?? '').split(' ').filter(Boolean), '--require', join(__dirname, 'loop-probe.js'), ...(process.env.TAIL_NO_PROFILE === '1' ? [] : ['--cpu-prof', `--cpu-prof-dir=${OUT}`])];
  const g = await startGerbang(admin, sim.value, { name: 'probe', bin: BIN, nodeFlags: flags });
  const make = gatewayTransfers(g.token);
  await load(g.origin, 5, make);
  const measuredFrom = Date.now();
  const rows = await load(g.origin, SECONDS, (i) => make(i + 100000));
  g.child.kill('SIGTERM');
  await new Promise((r) => g.child.once('exit', r));
  await admin.query(`DROP DATABASE ${g.dbName}`);
  await admin.end();
  stopChildren();
  writeFileSync(join(OUT, 'requests.json'), JSON.stringify(rows));
  const lat = rows.map((r) => r[1]).sort((a, b) => a - b);
  const q = (p: number) => lat[Math.ceil(p * lat.length) - 1];
  const bad = rows.filter((r) => r[2] !== 201).length;
  console.log(JSON.stringify({ n: rows.length, bad, p50: q(0.5).toFixed(2), p90: q(0.9).toFixed(2), p99: q(0.99).toFixed(2), max: q(1).toFixed(1) }));
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
