/**
 * `node dist/test/load/chains-to-walk.js`: how long listing the chains the audit scrub walks takes
 * (chainsToWalk: every chain with a head row, and every chain holding links whose head row was
 * deleted) on a database kept by console-perf.ts (GERBANG_PERF_KEEP=1: about 2M links), each
 * reading timed on its own, the first one after the process opened its pool.
 *
 *   GERBANG_PERF_REUSE=name      the kept database (required)
 *   GERBANG_PERF_MYSQL_URL       server (default mysql://root@127.0.0.1:3306)
 *   GERBANG_PERF_READINGS=5      readings
 *
 * A measurement, not a test: it prints figures and never fails on a slow answer.
 */
import { loadavg } from 'node:os';
import { openDb } from '../../src/store/index.js';
import { chainsToWalk } from '../../src/store/repositories/audit-verify.js';

const SERVER = (process.env.GERBANG_PERF_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');

async function main(): Promise<void> {
  const name = process.env.GERBANG_PERF_REUSE;
  if (!name) throw new Error('give GERBANG_PERF_REUSE, a database kept by console-perf.ts');
  const db = openDb(`${SERVER}/${name}`);
  try {
    const [{ links }] = await db.query<{ links: number | string }>('SELECT COUNT(*) AS links FROM audit_chain');
    const [{ heads }] = await db.query<{ heads: number | string }>('SELECT COUNT(*) AS heads FROM audit_writers');
    const ms: number[] = [];
    let chains = 0;
    for (let i = 0; i < Number(process.env.GERBANG_PERF_READINGS ?? 5); i += 1) {
      const started = process.hrtime.bigint();
      chains = (await chainsToWalk(db)).length;
      ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    console.log(JSON.stringify({ links: Number(links), heads: Number(heads), chains, ms: ms.map((m) => +m.toFixed(1)), load: +loadavg()[0].toFixed(1) }));
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
