import { expect } from 'chai';
import { type Db } from '../../src/store/index.js';
import { migratedMariaDb } from '../support/databases.js';

const COUNT = "ANALYZE FORMAT=JSON SELECT COUNT(*) AS n, SUM(amount_minor) AS total FROM payments WHERE state = ?";

/** The index the analysed statement read and whether it read that index alone. */
async function plan(db: Db, options: { freshPlan?: boolean } = {}): Promise<{ key: string; indexOnly: boolean }> {
  const [row] = await db.query<{ ANALYZE: string }>(COUNT, ['UNKNOWN'], options);
  const table = (JSON.parse(row.ANALYZE) as { query_block: { nested_loop: { table: { key: string; using_index?: boolean } }[] } }).query_block.nested_loop[0].table;
  return { key: table.key, indexOnly: table.using_index === true };
}

/**
 * MariaDB keeps a statement with values prepared on its connection; run again after a statement
 * that read whole payment rows, it costs every index as if it did not hold the columns read, and
 * the list's count and sum over a rare state opened each matching row (1.5-2.6 s over a million
 * payments instead of 10 ms). A read asked with freshPlan is planned for its run and keeps to the
 * index alone.
 */
describe('MySQL store: a read planned afresh (MariaDB)', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof migratedMariaDb>> | undefined;
  let db: Db;

  before(async function () {
    // One connection: the kept statement and the whole-row read share it, as they do in a busy pool.
    database = await migratedMariaDb(this, '?connectionLimit=1');
    db = database.db;
    await db.execute(
      'INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at, details_json) ' +
        "SELECT 'c', CONCAT('T-', seq), REPEAT('a', 64), IF(seq % 97 = 0, 'UNKNOWN', IF(seq % 20 = 0, 'FAILED', 'SUCCESS')), '10.00', 1000 + seq, 'IDR', " +
        "1700000000000 + seq * 1000, 1700000000000 + seq * 1000, REPEAT('x', 200) FROM seq_1_to_20000",
    );
    await db.execute('ANALYZE TABLE payments');
  });

  after(async () => {
    await database?.close();
  });

  it('reads the count and sum of a state from the index alone, also after a whole-row read on the same connection', async () => {
    // Kept prepared on the connection, as every read with values is.
    expect((await plan(db)).indexOnly).to.equal(true);
    await db.query('SELECT * FROM payments WHERE id = ?', [5]);
    const fresh = await plan(db, { freshPlan: true });
    expect(fresh.indexOnly, `read ${fresh.key} and opened the rows`).to.equal(true);
    expect(fresh.key).to.equal('ix_payments_state_created_amount');
    // And again, the statement having been kept meanwhile by a run without the option.
    await plan(db);
    await db.query('SELECT * FROM payments WHERE id = ?', [7]);
    expect((await plan(db, { freshPlan: true })).indexOnly).to.equal(true);
  });

  it('gives its connection back when the statement fails, so the next read is served (the pool holds one)', async () => {
    let failed: unknown = null;
    await db.query('SELECT no_such_column FROM payments WHERE state = ?', ['UNKNOWN'], { freshPlan: true }).catch((error: unknown) => (failed = error));
    expect(failed).to.be.instanceOf(Error);
    const [row] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM payments WHERE state = ?', ['UNKNOWN'], { freshPlan: true });
    expect(Number(row.n)).to.equal(Math.floor(20_000 / 97));
  });
});
