/**
 * `npm run bench:outbox`: how long `gerbang audit verify` and `gerbang keys rotate` take on a
 * large outbox of queued callbacks (callback_deliveries, migration 038), and the memory each
 * needs. Seeds GERBANG_PERF_ROWS deliveries (default 100,000) into a fresh database as the gateway
 * writes them, through the store with a key ring of one key: each queued (enqueue), then claimed
 * and attempted by a dispatcher (claimDue, recordAttempt), so their MACs, change records and links
 * are the gateway's own. The mix: a fifth never tried (PENDING), a tenth PENDING after one or two
 * failed attempts, a tenth FAILED after three, the rest DELIVERED (a sixth of them at the second
 * attempt). Then runs the real `bin/gerbang audit verify` and `bin/gerbang keys rotate` (to a
 * second key) under /usr/bin/time, and verify again with the new key alone; prints the time, rows
 * a second and peak RSS of each. Fails when the seeded outbox does not verify INTACT, when a
 * delivery is left under the old key after the rotation, or when verify with the new key alone is
 * not INTACT. The database is dropped after.
 *
 *   GERBANG_PERF_MYSQL_URL  server to use (default mysql://root@127.0.0.1:3306)
 *   GERBANG_PERF_BACKEND    mariadb (default) or sqlite (the embedded store, in a temp file)
 *   GERBANG_PERF_ROWS       deliveries to seed (default 100000)
 *   GERBANG_PERF_ROTATE_BEFORE  (sqlite only) another build's bin/gerbang, e.g. of the release
 *                               before: `keys rotate` is run with it too, on a copy of the seeded
 *                               database, just before this build's, for a before/after in one run
 *
 * A measurement, not a test: it prints figures and fails only when a result is wrong.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureLogger } from '../../src/log/index.js';
import { migrate, openDb, openStore, type Store } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { runCli, type CliResult } from '../support/cli.js';

const SERVER = (process.env.GERBANG_PERF_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const BACKEND = process.env.GERBANG_PERF_BACKEND ?? 'mariadb';
const ROWS = Number(process.env.GERBANG_PERF_ROWS ?? 100_000);
const ROTATE_BEFORE = process.env.GERBANG_PERF_ROTATE_BEFORE;
const OLD = testKeySpec('k-old');
const NEW = testKeySpec('k-new');
/** Deliveries queued at once: their appends share the chains' group commits, as a busy gateway's do. */
const QUEUED_AT_ONCE = 256;
const LEASE_MS = 600_000;
const LATER = 3_600_000;

/** What the dispatcher's attempts do to delivery `i`: each attempt's outcome, in order (none: never tried). */
function planOf(i: number): ('DELIVERED' | 'PENDING' | 'FAILED')[] {
  const slot = i % 30;
  if (slot < 6) return [];
  if (slot < 9) return slot === 6 ? ['PENDING', 'PENDING'] : ['PENDING'];
  if (slot < 12) return ['PENDING', 'PENDING', 'FAILED'];
  if (slot < 15) return ['PENDING', 'DELIVERED'];
  return ['DELIVERED'];
}

function body(transactionId: string): string {
  return JSON.stringify({ event: 'transfer.final', transfer: { transactionId, status: 'SUCCESS', amount: '125000.00', currency: 'IDR', bankReference: `REF-${transactionId}` } });
}

/** The deliveries, queued by the store and attempted by a dispatcher with its lease, as the gateway does. */
async function seed(store: Store, clientId: string): Promise<void> {
  const now = Date.now() - 2 * LATER;
  const tried = Array.from({ length: ROWS }, (_, i) => i).filter((i) => planOf(i).length > 0);
  const untried = Array.from({ length: ROWS }, (_, i) => i).filter((i) => planOf(i).length === 0);
  const enqueue = async (ids: number[]) => {
    for (let at = 0; at < ids.length; at += QUEUED_AT_ONCE) {
      await Promise.all(ids.slice(at, at + QUEUED_AT_ONCE).map((i) => store.callbacks.enqueue({ clientId, transactionId: `INV-OUTBOX-${i}`, url: 'https://erp.example/callbacks', body: body(`INV-OUTBOX-${i}`) }, now)));
    }
  };
  await enqueue(tried);
  // The dispatcher's rounds: every due delivery claimed, a page at a time, and its next attempt recorded.
  const done = new Map<number, number>();
  for (let round = 0; ; round += 1) {
    const claimNow = now + round;
    const owner = `bench-${round}`;
    let claimedThisRound = 0;
    for (;;) {
      const claimed = await store.callbacks.claimDue({ owner, now: claimNow, leaseMs: LEASE_MS, limit: 100 });
      if (claimed.length === 0) break;
      claimedThisRound += claimed.length;
      await Promise.all(
        claimed.map((delivery) => {
          if ('refused' in delivery) throw new Error(`seeded delivery refused: ${delivery.refused}`);
          const i = Number(delivery.transactionId.slice('INV-OUTBOX-'.length));
          const plan = planOf(i);
          const step = done.get(i) ?? 0;
          done.set(i, step + 1);
          const state = plan[step];
          const last = step === plan.length - 1;
          // Due again next round while its plan goes on; a last PENDING waits an hour (not due).
          const nextAttemptAt = last && state === 'PENDING' ? claimNow + LATER : claimNow + 1;
          return store.callbacks.recordAttempt(delivery, owner, { state, status: state === 'DELIVERED' ? 200 : 503, error: state === 'DELIVERED' ? null : 'HTTP 503', nextAttemptAt }, claimNow);
        }),
      );
    }
    if (claimedThisRound === 0) break;
  }
  await enqueue(untried);
}

/** The CLI under /usr/bin/time: its result, seconds and peak RSS (MiB). */
async function timed(args: string[], env: Record<string, string>, bin?: string): Promise<{ result: CliResult; seconds: number; rssMiB: number }> {
  const result = await runCli(args, env, undefined, ['/usr/bin/time', '-f', 'GERBANG-TIME %e %M'], bin);
  const match = /GERBANG-TIME ([\d.]+) (\d+)/.exec(result.stderr);
  if (!match) throw new Error(`no timing from /usr/bin/time: ${result.stderr}`);
  return { result, seconds: Number(match[1]), rssMiB: Number(match[2]) / 1024 };
}

function figure(what: string, t: { seconds: number; rssMiB: number }): string {
  return `${what}: ${t.seconds.toFixed(1)} s (${Math.round(ROWS / t.seconds).toLocaleString('en')} deliveries a second), peak RSS ${t.rssMiB.toFixed(0)} MiB`;
}

const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');

async function main(): Promise<void> {
  configureLogger('silent');
  const folder = mkdtempSync(join(tmpdir(), 'gerbang-outbox-'));
  let url: string;
  let drop: () => Promise<void>;
  if (BACKEND === 'sqlite') {
    url = `sqlite:${join(folder, 'gerbang.sqlite')}`;
    drop = async () => undefined;
  } else {
    const name = `gerbang_outbox_${randomBytes(4).toString('hex')}`;
    const server = openDb(SERVER);
    await server.execute(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await server.close();
    url = `${SERVER}/${name}`;
    drop = async () => {
      const cleanup = openDb(SERVER);
      await cleanup.execute(`DROP DATABASE IF EXISTS ${name}`);
      await cleanup.close();
    };
  }
  const env = (keys: string) => ({ GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: keys, GERBANG_AUDIT_CHECKPOINT_FILE: join(folder, 'audit-checkpoints.jsonl') });
  try {
    const store = await openStore(url, { auditKeys: ringOf(OLD) });
    try {
      await migrate(store.db, { keys: ringOf(OLD) });
      const clientId = `gbc_outbox_${randomBytes(3).toString('hex')}`;
      await store.clients.create({ id: clientId, name: clientId, secretHash: 'x', allowedOrigins: [], allowedCidrs: ['127.0.0.0/8'] }, Date.now());
      await store.callbacks.setEndpoint(clientId, 'https://erp.example/callbacks', Date.now());
      const began = Date.now();
      await seed(store, clientId);
      const states = await store.db.query<{ state: string; n: number | string; attempts: number | string }>('SELECT state, COUNT(*) AS n, SUM(attempts) AS attempts FROM callback_deliveries GROUP BY state ORDER BY state');
      const [{ n: records }] = await store.db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM record_changes WHERE table_name = 'callback_deliveries'");
      console.log(`${BACKEND}: seeded ${ROWS.toLocaleString('en')} deliveries in ${((Date.now() - began) / 1000).toFixed(1)} s: ${states.map((s) => `${s.n} ${s.state} (${s.attempts} attempts)`).join(', ')}; ${records} change records`);
    } finally {
      await store.close();
    }

    console.log(`load average before verify: ${load()}`);
    const verified = await timed(['audit', 'verify'], env(OLD));
    if (verified.result.code !== 0 || !verified.result.stdout.includes('INTACT')) throw new Error(`the seeded outbox does not verify INTACT: ${verified.result.stdout}${verified.result.stderr}`);
    console.log(figure('audit verify', verified));

    if (ROTATE_BEFORE !== undefined && BACKEND === 'sqlite') {
      // The same seeded database, copied (closed: no WAL left), rotated by the other build first.
      const file = url.slice('sqlite:'.length);
      const copy = join(folder, 'before.sqlite');
      copyFileSync(file, copy);
      if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
      console.log(`load average before rotate by ${ROTATE_BEFORE}: ${load()}`);
      const before = await timed(['keys', 'rotate', '--batch-size', '500'], { ...env(`${OLD},${NEW}`), GERBANG_DATABASE_URL: `sqlite:${copy}`, GERBANG_AUDIT_CHECKPOINT_FILE: join(folder, 'before-checkpoints.jsonl') }, ROTATE_BEFORE);
      if (before.result.code !== 0) throw new Error(`keys rotate by ${ROTATE_BEFORE} exited ${before.result.code}: ${before.result.stdout}${before.result.stderr}`);
      console.log(figure(`keys rotate by ${ROTATE_BEFORE}`, before));
      rmSync(copy, { force: true });
    }
    console.log(`load average before rotate: ${load()}`);
    const rotated = await timed(['keys', 'rotate', '--batch-size', '500'], env(`${OLD},${NEW}`));
    if (rotated.result.code !== 0) throw new Error(`keys rotate exited ${rotated.result.code}: ${rotated.result.stdout}${rotated.result.stderr}`);
    console.log(figure('keys rotate', rotated));

    const db = openDb(url);
    try {
      const [left] = await db.query<{ sealed: number | string; maced: number | string }>(
        "SELECT SUM(CASE WHEN key_id <> 'k-new' THEN 1 ELSE 0 END) AS sealed, SUM(CASE WHEN mac_key_id <> 'k-new' THEN 1 ELSE 0 END) AS maced FROM callback_deliveries",
      );
      if (Number(left.sealed) !== 0 || Number(left.maced) !== 0) throw new Error(`after keys rotate ${left.sealed} deliveries are sealed and ${left.maced} MACed under the old key`);
    } finally {
      await db.close();
    }
    console.log(`load average before verify with the new key alone: ${load()}`);
    const after = await timed(['audit', 'verify'], env(NEW));
    if (after.result.code !== 0 || !after.result.stdout.includes('INTACT')) throw new Error(`after keys rotate, verify with the new key alone is not INTACT: ${after.result.stdout}${after.result.stderr}`);
    console.log(figure('audit verify after rotation, new key alone', after));
    console.log(`load average at the end: ${load()}`);
  } finally {
    await drop();
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
