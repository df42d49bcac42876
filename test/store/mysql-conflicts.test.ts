import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { type Db, type SqlStatement, type Transaction } from '../../src/store/index.js';
import { migratedMariaDb } from '../support/databases.js';

/**
 * A transaction that loses a deadlock (ER_LOCK_DEADLOCK 1213, also how Galera reports a
 * certification conflict) was rolled back whole, so the store runs it again instead of failing
 * the request: both sides of a real InnoDB deadlock complete, each exactly once.
 */
describe('MySQL store: a transaction that loses a deadlock (MariaDB)', function () {
  this.timeout(60_000);
  let database: Awaited<ReturnType<typeof migratedMariaDb>> | undefined;
  let db: Db;

  before(async function () {
    database = await migratedMariaDb(this);
    db = database.db;
  });

  after(async () => {
    await database?.close();
  });

  /**
   * Two transactions, each begun by `begin`, that each lock one row, wait until the other has
   * locked the other row, then ask for it (`askSecond`): a lock cycle InnoDB breaks by rolling one
   * back with 1213. How many times their work ran, and the two rows' hits after.
   */
  async function crossed(
    begin: (work: (tx: Transaction) => Promise<void>) => Promise<void>,
    askSecond: (tx: Transaction, statement: SqlStatement) => Promise<unknown>,
  ): Promise<{ runs: number; hits: number[] }> {
    const a = `dl-a-${randomBytes(4).toString('hex')}`;
    const b = `dl-b-${randomBytes(4).toString('hex')}`;
    for (const key of [a, b]) await db.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, 0, 1)', [key]);
    let runs = 0;
    let release!: () => void;
    const bothLocked = new Promise<void>((resolve) => (release = resolve));
    let locked = 0;
    const crossing = (first: string, second: string) =>
      begin(async (tx) => {
        runs++;
        await tx.execute('UPDATE rate_limits SET hits = hits + 1 WHERE rl_key = ?', [first]);
        if (++locked === 2) release();
        await bothLocked;
        await askSecond(tx, { sql: 'UPDATE rate_limits SET hits = hits + 10 WHERE rl_key = ?', params: [second] });
      });
    await Promise.all([crossing(a, b), crossing(b, a)]);
    const rows = await db.query<{ rl_key: string; hits: number }>('SELECT rl_key, hits FROM rate_limits WHERE rl_key IN (?, ?) ORDER BY rl_key', [a, b]);
    return { runs, hits: rows.map((r) => Number(r.hits)) };
  }

  it('is run again and completes; both transactions apply exactly once', async () => {
    const { runs, hits } = await crossed(
      (work) => db.withTransaction(work),
      (tx, { sql, params }) => tx.execute(sql, params),
    );
    expect(runs, 'one of them ran twice').to.equal(3);
    expect(hits).to.deep.equal([11, 11]);
  });

  it('runs a session transaction again when it loses in the statements sent with its COMMIT (commitWith); both apply exactly once', async () => {
    const { runs, hits } = await crossed(
      (work) => db.session().run(work),
      async (tx, statement) => tx.commitWith([{ ...statement, onlyOneRow: true }]),
    );
    expect(runs, 'one of them ran twice').to.equal(3);
    expect(hits).to.deep.equal([11, 11]);
  });
});
