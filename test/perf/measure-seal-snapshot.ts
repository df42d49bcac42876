/**
 * What proving a day seal's rows and its walk of the audit chains in one snapshot (#16, H2) adds
 * to a reading, in statements, on SQLite and MariaDB:
 *   node dist/test/perf/measure-seal-snapshot.js [payments on the day]   (default 2,000)
 * Writes one account's payments on a closed day as the gateway does, then reads the day as a
 * console's page does (a store of its own: every row proved one by one, the day sealed), counting
 * the statements asked outside and inside snapshots; those inside are the walk (asked before the
 * change too, outside one) and the rows read again with their last events (new), plus the
 * snapshot's own BEGIN and COMMIT (MariaDB: SET TRANSACTION, START TRANSACTION, COMMIT). Then the
 * same day read again (sealed: nothing to seal, no snapshot). Prints counts; asserts nothing.
 */
import type { Db, Queryable } from '../../src/store/index.js';
import { createStore, migrate, openDb, openStore } from '../../src/store/index.js';
import { ringOf, testKeySpec } from '../support/audit-keys.js';
import { createMariaDbDatabase, createSqliteDatabase } from '../support/databases.js';
import { onEachBackend } from './perf-runs.js';

const PER_DAY = Number(process.argv[2] ?? 2_000);
const HOUR = 3_600_000;
/** The statements that hold the rows to the seal again in its snapshot (rowsNotAsProved): the rows, coverage, last events and their links. */
const RECHECK = [/FROM payments WHERE id IN \(/, /FROM chain_coverage/, /^SELECT e\.id, e\.payment_id/, /seq > 0 AND kind = 'payment_event' AND record_id IN \(/];

/** `real` with the statements asked of it counted: outside snapshots, and inside them each by its SQL. */
function counting(real: Db): { db: Db; outside: () => number; inside: string[]; snapshots: () => number; reset: () => void } {
  let outside = 0;
  let snapshots = 0;
  const inside: string[] = [];
  const db = Object.create(real) as Db;
  db.query = ((sql: string, ...rest: unknown[]) => {
    outside += 1;
    return (real.query as (sql: string, ...rest: unknown[]) => unknown)(sql, ...rest);
  }) as Db['query'];
  db.withSnapshot = (fn, options) => {
    snapshots += 1;
    return real.withSnapshot((q) => {
      const seen = Object.create(q) as Queryable;
      seen.query = ((sql: string, ...rest: unknown[]) => {
        inside.push(sql);
        return (q.query as (sql: string, ...rest: unknown[]) => unknown)(sql, ...rest);
      }) as Queryable['query'];
      return fn(seen);
    }, options);
  };
  return {
    db,
    outside: () => outside,
    inside,
    snapshots: () => snapshots,
    reset: () => {
      outside = 0;
      snapshots = 0;
      inside.length = 0;
    },
  };
}

async function measure(backend: 'sqlite' | 'mariadb'): Promise<void> {
  const database = backend === 'sqlite' ? createSqliteDatabase() : await createMariaDbDatabase();
  const keys = ringOf(testKeySpec('seal-snapshot'));
  const writer = await openStore(database.url, { auditKeys: keys });
  const counted = counting(openDb(database.url));
  const reader = createStore(counted.db, { auditKeys: keys });
  try {
    await migrate(writer.db, { keys });
    const account = '0201555099';
    const start = Date.UTC(2026, 9, 1) - 7 * HOUR;
    for (let k = 0; k < PER_DAY; k += 1) {
      await writer.payments.reserve(
        { clientId: 'perf-snapshot', transactionId: `SNAP-${k}`, requestHash: 'a'.repeat(64), amount: '1000.00', currency: 'IDR', sourceAccount: account },
        start + Math.floor((k * (24 * HOUR - HOUR)) / PER_DAY),
      );
    }
    const to = start + 24 * HOUR;
    for (const reading of ['first reading (proves and seals the day)', 'second reading (the day sealed)']) {
      counted.reset();
      const read = await reader.paymentSearch.fromAccount(account, start, to);
      if (read.rows.length !== PER_DAY || read.unprovable !== undefined) throw new Error(`the day was not read whole: ${JSON.stringify(read.unprovable ?? read.rows.length)}`);
      const recheck = counted.inside.filter((sql) => RECHECK.some((pattern) => pattern.test(sql))).length;
      const ends = counted.snapshots() * (backend === 'mariadb' ? 3 : 2);
      console.log(
        `${backend} ${reading}, ${PER_DAY} payments: ${counted.outside()} statements outside a snapshot; ${counted.snapshots()} snapshot(s): ${counted.inside.length - recheck} of the walk, ` +
          `${recheck} rows read again with their last events, ${ends} to begin and end it; added by the change: ${recheck + ends}`,
      );
    }
  } finally {
    await reader.close();
    await writer.close();
    await database.drop();
  }
}

onEachBackend(measure);
