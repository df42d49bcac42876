import { expect } from 'chai';
import { loadMigrationFiles } from '../../src/store/migration-files.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppError } from '../../src/errors/index.js';
import { describeDatabaseUrl, migrate, openDb, openStore, parseDatabaseUrl } from '../../src/store/index.js';
import { createMariaDbDatabase, TEST_MYSQL_URL } from '../support/databases.js';

describe('openStore', () => {
  describe('when GERBANG_DATABASE_URL has an unsupported scheme', () => {
    it('throws an error naming the variable and the accepted forms', async () => {
      const error = await openStore('postgres://user:secret@db/x').then(() => null, (e: Error) => e);
      expect(error?.message).to.contain('GERBANG_DATABASE_URL').and.to.contain('mysql://').and.to.contain('sqlite:');
      expect(error?.message).to.not.contain('secret');
    });
  });

  describe('with a sqlite: path whose folder does not exist yet', () => {
    it('creates the folder and the file, in WAL mode with foreign keys on', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gerbang-open-'));
      const file = join(dir, 'nested', 'deeper', 'g.sqlite');
      const store = await openStore(`sqlite:${file}`);
      try {
        expect(existsSync(file)).to.equal(true);
        expect(await store.db.query('PRAGMA journal_mode')).to.deep.equal([{ journal_mode: 'wal' }]);
        expect(await store.db.query('PRAGMA foreign_keys')).to.deep.equal([{ foreign_keys: 1 }]);
        expect(store.db.description).to.equal(`sqlite:${file}`);
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('with sqlite::memory:', () => {
    it('opens a private in-memory database that migrates', async () => {
      const store = await openStore('sqlite::memory:');
      try {
        expect((await migrate(store.db)).applied).to.deep.equal(loadMigrationFiles('sqlite').map((m) => m.name));
        expect(await store.sequences.next('x')).to.equal(1);
      } finally {
        await store.close();
      }
    });
  });

  describe('when the embedded store is used after close', () => {
    it('throws STORE_UNAVAILABLE', async () => {
      const store = await openStore('sqlite::memory:');
      await store.close();
      const error = await store.db.ping().then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(AppError);
      expect((error as AppError).code).to.equal('STORE_UNAVAILABLE');
    });
  });

  describe('with ?socketPath= in a mysql:// URL', () => {
    it('reaches MySQL through its Unix socket, not TCP', async function () {
      const database = await createMariaDbDatabase(this);
      const tcp = openDb(TEST_MYSQL_URL);
      const [{ socket }] = await tcp.query<{ socket: string }>('SELECT @@socket AS socket');
      await tcp.close();
      const url = new URL(database.url);
      const store = await openStore(`mysql://${url.username}@localhost${url.pathname}?socketPath=${encodeURIComponent(socket)}`);
      try {
        await migrate(store.db);
        const [{ host }] = await store.db.query<{ host: string }>('SELECT HOST AS host FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()');
        expect(host).to.equal('localhost');
      } finally {
        await store.close();
        await database.drop();
      }
    });

    it('refuses a relative socket path, naming GERBANG_DATABASE_URL', async () => {
      const error = await openStore('mysql://gerbang:hunter2@localhost/gerbang?socketPath=mysqld.sock').then(() => null, (e: Error) => e);
      expect(error?.message).to.match(/^GERBANG_DATABASE_URL: socketPath must be the absolute path/);
      expect(error?.message).to.not.contain('hunter2');
    });
  });

  describe('when the MySQL server refuses connections', () => {
    it('throws STORE_UNAVAILABLE quickly, with no credentials or host in the message', async () => {
      const store = await openStore('mysql://gerbang:hunter2@127.0.0.1:1/gerbang');
      try {
        const started = Date.now();
        for (const attempt of [() => store.db.ping(), () => store.payments.find('c', 't'), () => store.sequences.next('s')]) {
          const error = await attempt().then(() => null, (e: unknown) => e);
          expect(error).to.be.instanceOf(AppError);
          expect((error as AppError).code).to.equal('STORE_UNAVAILABLE');
          expect((error as AppError).status).to.equal(503);
          expect((error as AppError).message).to.not.match(/hunter2|gerbang@|127\.0\.0\.1|ECONNREFUSED/);
        }
        expect(Date.now() - started).to.be.lessThan(5_000);
      } finally {
        await store.close();
      }
    });
  });
});

describe('parseDatabaseUrl with several hosts', () => {
  it('keeps the hosts in the order written, the credentials and options on the first', () => {
    const target = parseDatabaseUrl('mysql://gerbang:p%40ss@db1:3306,db2,10.0.0.3:3310/gerbang?connectionLimit=5');
    if (target.kind !== 'mysql') throw new Error('expected mysql');
    expect(target.hosts).to.deep.equal([
      { host: 'db1', port: 3306 },
      { host: 'db2', port: 3306 },
      { host: '10.0.0.3', port: 3310 },
    ]);
    expect(decodeURIComponent(target.url.password)).to.equal('p@ss');
    expect(target.url.pathname).to.equal('/gerbang');
    expect(target.url.searchParams.get('connectionLimit')).to.equal('5');
  });

  it('refuses a host list with an empty or malformed host, naming the setting and not the password', () => {
    for (const bad of ['mysql://u:secret@db1:3306,/gerbang', 'mysql://u:secret@db1:3306,db2:notaport/gerbang']) {
      expect(() => parseDatabaseUrl(bad), bad).to.throw(/GERBANG_DATABASE_URL/);
      expect(() => parseDatabaseUrl(bad), bad).not.to.throw(/secret/);
    }
  });
});

describe('describeDatabaseUrl', () => {
  it('leaves the password out of a mysql:// URL', () => {
    expect(describeDatabaseUrl('mysql://gerbang:p%40ss@db.internal:3307/gerbang?ssl=true')).to.equal('mysql://gerbang@db.internal:3307/gerbang');
  });

  it('lists every host of a several-host mysql:// URL (a Galera cluster), password left out', () => {
    expect(describeDatabaseUrl('mysql://gerbang:s3cret@db1:3306,db2:3307,[::1]:3308/gerbang')).to.equal('mysql://gerbang@db1:3306,db2:3307,[::1]:3308/gerbang');
  });

  it('shows a sqlite: path resolved against the working directory', () => {
    expect(describeDatabaseUrl('sqlite:var/gerbang.sqlite')).to.equal(`sqlite:${resolve('var/gerbang.sqlite')}`);
    expect(describeDatabaseUrl('sqlite::memory:')).to.equal('sqlite::memory:');
  });

  it('never echoes an unsupported URL', () => {
    expect(describeDatabaseUrl('postgres://u:secret@h/db')).to.not.contain('secret');
  });
});
