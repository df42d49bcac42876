import { expect } from 'chai';
import { openStore } from '../../src/store/index.js';
import { createSqliteDatabase } from '../support/databases.js';

describe('SqliteDb', () => {
  describe('when fn calls the Db itself instead of its tx', () => {
    it('fails at once instead of waiting for itself forever', async () => {
      const store = await openStore('sqlite::memory:');
      try {
        const error = await store.db.withTransaction(() => store.db.query('SELECT 1')).then(() => null, (e: Error) => e);
        expect(error?.message).to.contain('use the tx');
      } finally {
        await store.close();
      }
    });
  });

  describe('when two stores of one process share a file', () => {
    it('serialises their transactions instead of deadlocking on the file lock', async () => {
      const database = createSqliteDatabase();
      const [a, b] = [await openStore(database.url), await openStore(database.url)];
      try {
        await a.db.execute('CREATE TABLE t (n INTEGER)');
        const slow = (store: typeof a) =>
          store.db.withTransaction(async (tx) => {
            await tx.execute('INSERT INTO t (n) VALUES (?)', [1]);
            await new Promise((resolve) => setTimeout(resolve, 20));
          });
        const started = Date.now();
        await Promise.all([slow(a), slow(b), slow(a), slow(b)]);
        expect(Date.now() - started).to.be.lessThan(2_000);
        expect(await b.db.query('SELECT COUNT(*) AS n FROM t')).to.deep.equal([{ n: 4 }]);
      } finally {
        await a.close();
        await b.close();
        await database.drop();
      }
    });
  });
});
