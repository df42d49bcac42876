import { expect } from 'chai';
import { openDb, type Db } from '../../src/store/index.js';
import { createMariaDbBehindProxy } from '../support/databases.js';

/**
 * The audit chain appends through one long-lived session connection per chain. When the
 * database goes away in the middle of a statement (a Galera node killed: the server's side of
 * the socket just closes), the statement must fail, not wait forever: a waiting append holds
 * its chain, and every later request of the process would queue behind it without an answer.
 */
describe('MySQL store: a session whose server goes away mid-statement (MariaDB)', function () {
  this.timeout(30_000);
  let database: Awaited<ReturnType<typeof createMariaDbBehindProxy>>;
  let db: Db;

  before(async function () {
    database = await createMariaDbBehindProxy(this);
    db = openDb(database.url);
  });

  after(async () => {
    await db?.close();
    await database?.drop();
  });

  it('fails the statement in flight with STORE_UNAVAILABLE, and the next transaction runs on a new connection', async () => {
    const session = db.session();
    expect(await session.run(async (tx) => tx.query<{ one: number }>('SELECT 1 AS one'))).to.deep.equal([{ one: 1 }]);
    const inFlight = session.run(async (tx) => tx.query('SELECT SLEEP(3) AS slept'));
    const settled = inFlight.then(
      () => 'answered',
      (error: { code?: string }) => error.code ?? 'error',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await database.proxy.cut();
    // Far less than the 3 s the statement would take: the loss itself ends it.
    const outcome = await Promise.race([settled, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000))]);
    expect(outcome).to.equal('STORE_UNAVAILABLE');
    await database.proxy.restore();
    expect(await session.run(async (tx) => tx.query<{ two: number }>('SELECT 2 AS two'))).to.deep.equal([{ two: 2 }]);
  });
});
