/**
 * `node dist/test/load/last-events-cold.js`: how long the proof of a text search's 1,000 matches
 * takes to read their last events and links (lastTrustedEvents) on a database kept by
 * console-perf.ts (GERBANG_PERF_KEEP=1), in one statement pair or in slices sent together, cold
 * (the buffer pool turned over first by scanning the audit tables) and warm, with the pages read
 * from disk (Innodb_buffer_pool_reads). The matches are those of "makmur 16" over the week the
 * console-perf.ts case reads (seq % 400 in 16, 160, 168), newest first.
 *
 *   GERBANG_PERF_REUSE=name      the kept database (required)
 *   GERBANG_PERF_AUDIT_KEY       its `id:base64key` (required)
 *   GERBANG_PERF_MYSQL_URL       server (default mysql://root@127.0.0.1:3306)
 *   GERBANG_PERF_SLICES=1,4,1,4  statements at once, one cold and one warm reading each
 *
 * A measurement, not a test: it prints figures and never fails on a slow answer.
 */
import { loadavg } from 'node:os';
import { openDb } from '../../src/store/index.js';
import { lastTrustedEvents } from '../../src/store/repositories/payment-events.js';
import { ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { ringOf } from '../support/audit-keys.js';

const SERVER = (process.env.GERBANG_PERF_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const ROWS = 1_000_000;

async function main(): Promise<void> {
  const name = process.env.GERBANG_PERF_REUSE;
  const key = process.env.GERBANG_PERF_AUDIT_KEY;
  if (!name || !key) throw new Error('give GERBANG_PERF_REUSE and GERBANG_PERF_AUDIT_KEY of a database kept by console-perf.ts');
  const ring = ringOf(key);
  const sealer = new ValueSealer(ring);
  const db = openDb(`${SERVER}/${name}`);
  // The week of the "makmur 16", 7 days case: from 9 days before the seeding's end to 2 days before it.
  const lo = Math.floor((ROWS * 21) / 30);
  const hi = Math.floor((ROWS * 28) / 30);
  const ids: number[] = [];
  for (let seq = hi; seq >= lo && ids.length < 1000; seq -= 1) if ([16, 160, 168].includes(seq % 400)) ids.push(seq);
  const poolReads = async () => Number((await db.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_reads'"))[0].Value);
  const reading = async (parts: number): Promise<string> => {
    const size = Math.ceil(ids.length / parts);
    const slices = Array.from({ length: parts }, (_, i) => ids.slice(i * size, (i + 1) * size));
    const before = await poolReads();
    const began = process.hrtime.bigint();
    const read = await Promise.all(slices.map((slice) => lastTrustedEvents(db, ring, sealer, slice)));
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    const held = read.reduce((n, events) => n + [...events.values()].filter((e) => !('problem' in e)).length, 0);
    return `${ms.toFixed(0)} ms (${(await poolReads()) - before} pages from disk, ${held} events held)`;
  };
  try {
    for (const parts of (process.env.GERBANG_PERF_SLICES ?? '1,4,1,4').split(',').map(Number)) {
      // The pool turned over: the audit tables (1 GB) scanned, none of their rows matching.
      await db.query("SELECT COUNT(*) AS n FROM audit_exchanges WHERE request_body LIKE '%zzzz%'");
      await db.query("SELECT COUNT(*) AS n FROM audit_bank_calls WHERE response_body LIKE '%zzzz%'");
      const cold = await reading(parts);
      const warm = await reading(parts);
      console.log(`${parts} statement(s) at once: cold ${cold}; warm ${warm}; load ${loadavg()[0].toFixed(1)}`);
    }
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
