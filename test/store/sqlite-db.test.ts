import { expect } from 'chai';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  describe('the embedded store file', () => {
    const modeOf = (path: string) => statSync(path).mode & 0o777;

    it('is created readable by its owner only (0600, -wal and -shm too; a new folder 0700), whatever the umask', async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'gerbang-mode-')), 'data');
      const path = join(dir, 'g.sqlite');
      const umask = process.umask(0o022); // the usual umask, under which a plain create is 0644
      const store = await openStore(`sqlite:${path}`).finally(() => process.umask(umask));
      try {
        await store.db.execute('CREATE TABLE t (n INTEGER)');
        await store.db.execute('INSERT INTO t (n) VALUES (1)');
        expect(modeOf(dir), 'folder').to.equal(0o700);
        for (const file of [path, `${path}-wal`, `${path}-shm`]) {
          expect(existsSync(file), file).to.equal(true);
          expect(modeOf(file), file).to.equal(0o600);
        }
      } finally {
        await store.close();
      }
    });

    it('is narrowed to 0600 when it was left readable by others', async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'gerbang-mode-')), 'old.sqlite');
      writeFileSync(path, '', { mode: 0o644 });
      const store = await openStore(`sqlite:${path}`);
      try {
        expect(modeOf(path)).to.equal(0o600);
      } finally {
        await store.close();
      }
    });
  });
});
