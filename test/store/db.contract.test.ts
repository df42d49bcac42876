import { expect } from 'chai';
import { CommitUnknownError, NotOneRowError, UniqueViolationError, type Queryable, type SqlValue } from '../../src/store/index.js';
import { inlineValues, ONE_ROW_GUARD } from '../../src/store/mysql/mysql-db.js';
import { forEachBackend } from '../support/databases.js';

forEachBackend('Db', (ctx) => {
  const key = (suffix: string) => `db-contract:${suffix}`;
  const hits = async (rlKey: string) =>
    (await ctx.store().db.query<{ hits: number }>('SELECT hits FROM rate_limits WHERE rl_key = ?', [rlKey])).map((r) => Number(r.hits));

  describe('withTransaction', () => {
    it('commits what fn wrote when fn resolves, and returns its value', async () => {
      const value = await ctx.store().db.withTransaction(async (tx) => {
        await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('commit'), 7, 1]);
        return 'done';
      });
      expect(value).to.equal('done');
      expect(await hits(key('commit'))).to.deep.equal([7]);
    });

    describe('when fn throws', () => {
      it('rolls back everything fn wrote and rethrows', async () => {
        const error = await ctx
          .store()
          .db.withTransaction(async (tx) => {
            await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('rollback'), 1, 1]);
            throw new Error('boom');
          })
          .then(() => null, (e: Error) => e);
        expect(error?.message).to.equal('boom');
        expect(await hits(key('rollback'))).to.deep.equal([]);
      });
    });

    describe('when another write happens while a transaction is open', () => {
      it('keeps that write even though the transaction rolls back', async () => {
        const { db } = ctx.store();
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const failing = db
          .withTransaction(async (tx) => {
            await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('tx-row'), 1, 1]);
            entered();
            await new Promise((resolve) => setTimeout(resolve, 50));
            throw new Error('rolled back');
          })
          .catch(() => undefined);
        await inside;
        await db.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('outside'), 1, 1]);
        await failing;
        expect(await hits(key('outside'))).to.deep.equal([1]);
        expect(await hits(key('tx-row'))).to.deep.equal([]);
      });
    });
  });

  describe('session', () => {
    it('commits each run, rolls back a run that throws, and keeps working after it', async () => {
      const session = ctx.store().db.session();
      await session.run((tx) => tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('s1'), 1, 1]));
      const error = await session
        .run(async (tx) => {
          await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('s2'), 2, 1]);
          throw new Error('boom');
        })
        .then(() => null, (e: Error) => e);
      expect(error?.message).to.equal('boom');
      await session.run((tx) => tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('s3'), 3, 1]));
      expect(await hits(key('s1'))).to.deep.equal([1]);
      expect(await hits(key('s2'))).to.deep.equal([]);
      expect(await hits(key('s3'))).to.deep.equal([3]);
    });

    it('has committed a run for every other connection by the time run() resolves', async () => {
      const { db } = ctx.store();
      const session = db.session();
      for (let i = 0; i < 5; i += 1) {
        await session.run((tx) => tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key(`seen-${i}`), i, 1]));
        // Read through another connection: a write left in an open transaction would not show.
        expect(await hits(key(`seen-${i}`))).to.deep.equal([i]);
      }
    });

    const insert = (suffix: string, hits: number | string) => ({ sql: 'INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', params: [key(suffix), hits, 1] });
    const guardedUpdate = (suffix: string, hits: number) => ({ sql: 'UPDATE rate_limits SET hits = ? WHERE rl_key = ?', params: [hits, key(suffix)], onlyOneRow: true });

    describe('executeAll', () => {

      it('runs the statements in order and answers each one\'s result', async () => {
        const session = ctx.store().db.session();
        const results = await session.run((tx) =>
          tx.executeAll([insert('all-1', 1), { sql: 'UPDATE rate_limits SET hits = hits + ? WHERE rl_key = ?', params: [10, key('all-1')] }, { sql: 'UPDATE rate_limits SET hits = ? WHERE rl_key = ?', params: [0, key('none')] }]),
        );
        expect(results.map((r) => r.affectedRows)).to.deep.equal([1, 1, 0]);
        expect(await hits(key('all-1'))).to.deep.equal([11]);
      });

      it('stops at the first statement that fails, or that does not affect the one row it must (onlyOneRow): the run rolls back and nothing after it ran', async () => {
        const session = ctx.store().db.session();
        const error = await session.run((tx) => tx.executeAll([insert('fail-1', 1), insert('fail-1', 2), insert('fail-2', 3)])).then(() => null, (e: Error) => e);
        expect(error).to.be.instanceOf(Error);
        const guarded = await session.run((tx) => tx.executeAll([insert('fail-3', 1), guardedUpdate('fail-none', 2), insert('fail-4', 3)])).then(() => null, (e: Error) => e);
        expect(guarded).to.be.instanceOf(NotOneRowError);
        for (const suffix of ['fail-1', 'fail-2', 'fail-3', 'fail-4']) expect(await hits(key(suffix)), suffix).to.deep.equal([]);
      });

      if (ctx.backend === 'mariadb') {
        /** Statements this connection has run as prepared statements so far. */
        const prepared = async (tx: Queryable) => Number((await tx.query<{ Value: string }>("SHOW SESSION STATUS LIKE 'Com_stmt_execute'"))[0].Value);

        it('sends a writer session\'s statements of numbers and plain words as one query, none of them prepared', async () => {
          const session = ctx.store().db.session();
          const ran = await session.run(async (tx) => {
            const before = await prepared(tx);
            await tx.executeAll([insert('one-trip-1', 1), insert('one-trip-2', 2), { sql: 'UPDATE rate_limits SET hits = ? WHERE rl_key = ?', params: [5, key('one-trip-1')] }]);
            return (await prepared(tx)) - before;
          });
          expect(ran).to.equal(0);
          expect(await hits(key('one-trip-1'))).to.deep.equal([5]);
          expect(await hits(key('one-trip-2'))).to.deep.equal([2]);
        });

        it('sends statements whose values hold quotes, backslashes, `;` and bytes as one query too: each value is stored as given, never read as SQL', async () => {
          const session = ctx.store().db.session();
          const hostile = "x'); DELETE FROM rate_limits; -- \\";
          const ran = await session.run(async (tx) => {
            const before = await prepared(tx);
            await tx.executeAll([insert('kept', 1), { sql: 'INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', params: [hostile, 2, 1] }]);
            return (await prepared(tx)) - before;
          });
          expect(ran).to.equal(0);
          expect(await hits(key('kept'))).to.deep.equal([1]);
          expect(await hits(hostile)).to.deep.equal([2]);
        });

        for (const sqlMode of ['', 'ANSI,NO_BACKSLASH_ESCAPES']) {
          it(`stores every text and byte value written into one query exactly as given, in sql_mode '${sqlMode}'`, async () => {
            const { db } = ctx.store();
            const texts = ['', "it's", 'a\\b\\', '"quoted" `ticked`', 'semi;colon -- /* */', 'nul\u0000byte', 'Rp 1.000,00 — é ü ß 中文', '😀 emoji 👩‍👩‍👧', '\\x27 \\0 \\n', 'x'.repeat(70_000), "\\'); DROP TABLE rate_limits; --"];
            const bytes = [Buffer.alloc(0), Buffer.from([0, 39, 92, 34, 59, 255, 128]), Buffer.from('😀', 'utf8')];
            await db.execute('CREATE TABLE IF NOT EXISTS inline_values (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(255) COLLATE utf8mb4_unicode_ci, t MEDIUMTEXT, b VARBINARY(255), j LONGTEXT) DEFAULT CHARSET=utf8mb4');
            const session = db.session();
            const ids = await session.run(async (tx) => {
              await tx.query(`SET SESSION sql_mode = '${sqlMode}'`);
              const before = await prepared(tx);
              const results = await tx.executeAll([
                ...texts.map((text) => ({ sql: 'INSERT INTO inline_values (v, t, j) VALUES (?, ?, ?)', params: [text.slice(0, 255), text, text] })),
                ...bytes.map((b) => ({ sql: 'INSERT INTO inline_values (b) VALUES (?)', params: [b] })),
              ]);
              expect((await prepared(tx)) - before, 'statements prepared').to.equal(0);
              await tx.query("SET SESSION sql_mode = DEFAULT");
              return results.map((r) => r.insertId);
            });
            const rows = await db.query<{ id: number; v: string | null; t: string | null; b: Buffer | null; j: string | null }>(`SELECT id, v, t, b, j FROM inline_values WHERE id IN (${ids.join(', ')}) ORDER BY id`);
            expect(rows.slice(0, texts.length).map((r) => [r.v, r.t, r.j])).to.deep.equal(texts.map((text) => [text.slice(0, 255), text, text]));
            expect(rows.slice(texts.length).map((r) => Buffer.from(r.b as Buffer).toString('hex'))).to.deep.equal(bytes.map((b) => b.toString('hex')));
            // A value compared with a column takes the column's collation (utf8mb4_unicode_ci), as a prepared one does.
            const [found] = await session.run((tx) => tx.executeAll([{ sql: 'UPDATE inline_values SET v = ? WHERE v = ?', params: ['é!', texts[6]] }, { sql: 'UPDATE inline_values SET j = ? WHERE id = ?', params: ['ok', 0] }]));
            expect(found.affectedRows).to.equal(1);
          });
        }

        it('sends statements whose text would pass 1 MiB prepared, one by one, each value stored as given: hex doubles a value, and the text must fit any max_allowed_packet of 4 MiB', async () => {
          const { db } = ctx.store();
          await db.execute('CREATE TABLE IF NOT EXISTS inline_large (id INT AUTO_INCREMENT PRIMARY KEY, j LONGTEXT) DEFAULT CHARSET=utf8mb4');
          const large = 'é'.repeat(300_000); // 600,000 bytes: 1.2 million hex digits
          const session = db.session();
          const { ran, ids } = await session.run(async (tx) => {
            const before = await prepared(tx);
            const results = await tx.executeAll([{ sql: 'INSERT INTO inline_large (j) VALUES (?)', params: [large] }, { sql: 'INSERT INTO inline_large (j) VALUES (?)', params: ['small'] }]);
            return { ran: (await prepared(tx)) - before, ids: results.map((r) => r.insertId) };
          });
          expect(ran, 'statements prepared').to.equal(2);
          const rows = await db.query<{ j: string }>(`SELECT j FROM inline_large WHERE id IN (${ids.join(', ')}) ORDER BY id`);
          expect(rows.map((r) => r.j)).to.deep.equal([large, 'small']);
        });

        it('keeps the values written into a query out of its error: the error names the statements with their `?`, as a prepared one does', async () => {
          const session = ctx.store().db.session();
          const secret = 'a secret value é';
          const error = await session
            .run((tx) => tx.executeAll([insert('err-1', 1), { sql: 'INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', params: [secret, 1, 1] }, { sql: 'INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', params: [secret, 2, 1] }]))
            .then(() => null, (e: Error) => e);
          expect(error).to.be.instanceOf(UniqueViolationError);
          const sql = String((error as Error & { cause: { sql?: string } }).cause.sql);
          expect(sql).to.include('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)');
          expect(sql).to.not.include(Buffer.from(secret, 'utf8').toString('hex'));
        });

        it('writes into SQL text safe integers, null, plain words as they are and any other text or bytes as hex digits only', () => {
          const one = (params: SqlValue[]) => inlineValues([{ sql: `SELECT ${params.map(() => '?').join(', ')}`, params }]);
          expect(one([1, -2, 3n, null, 'vm-1.a:b@c_d', ''])).to.equal("SELECT 1, -2, 3, NULL, 'vm-1.a:b@c_d', ''");
          expect(one(["it's", 'a\\b', 'é', Buffer.from([0, 39])])).to.equal("SELECT _utf8mb4 X'69742773', _utf8mb4 X'615c62', _utf8mb4 X'c3a9', X'0027'");
          for (const refused of [[1.5], [2 ** 53], [Number.NaN]] as SqlValue[][]) {
            expect(one(refused), String(refused[0])).to.equal(null);
          }
          expect(inlineValues([{ sql: 'SELECT ?; SELECT 1', params: [1] }]), 'a statement holding a ;').to.equal(null);
          expect(inlineValues([{ sql: 'SELECT ?, ?', params: [1] }]), 'a ? that is not a value').to.equal(null);
          expect(one(['x y'.repeat(1024 * 1024)]), 'a text past what one query carries').to.equal(null);
        });
      }
    });

    describe('commitWith', () => {
      it('commits the transaction with its last statements, and the transaction runs nothing after them', async () => {
        const session = ctx.store().db.session();
        const after = await session.run(async (tx) => {
          await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('cw-first'), 1, 1]);
          const results = await tx.commitWith([insert('cw-1', 1), guardedUpdate('cw-1', 4)]);
          expect(results.map((r) => r.affectedRows)).to.deep.equal([1, 1]);
          return tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('cw-after'), 1, 1]).then(() => null, (e: Error) => e);
        });
        expect(after?.message).to.match(/committed/);
        expect(await hits(key('cw-first'))).to.deep.equal([1]);
        expect(await hits(key('cw-1'))).to.deep.equal([4]);
        expect(await hits(key('cw-after'))).to.deep.equal([]);
      });

      describe('when a statement marked onlyOneRow matches no row', () => {
        it('fails with NotOneRowError, commits nothing of the transaction, and leaves the session clean for its next run', async () => {
          const session = ctx.store().db.session();
          const error = await session
            .run(async (tx) => {
              await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('guard-before'), 1, 1]);
              return tx.commitWith([insert('guard-1', 1), guardedUpdate('guard-none', 2), insert('guard-2', 3)]);
            })
            .then(() => null, (e: Error) => e);
          expect(error).to.be.instanceOf(NotOneRowError);
          // Were the refused transaction left open, its rows would commit with this one.
          await session.run((tx) => tx.commitWith([insert('guard-next', 5)]));
          expect(await hits(key('guard-next'))).to.deep.equal([5]);
          for (const refused of ['guard-before', 'guard-1', 'guard-none', 'guard-2']) expect(await hits(key(refused)), refused).to.deep.equal([]);
        });
      });

      describe('when the database refuses a statement (a duplicate key)', () => {
        it('answers its error (nothing committed, not an unknown commit) and leaves the session clean for its next run', async () => {
          const session = ctx.store().db.session();
          await session.run((tx) => tx.commitWith([insert('dup', 1)]));
          const error = await session
            .run(async (tx) => {
              await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('dup-before'), 1, 1]);
              return tx.commitWith([insert('dup-1', 1), insert('dup', 2)]);
            })
            .then(() => null, (e: Error) => e);
          expect(error).to.be.instanceOf(UniqueViolationError);
          expect(error).to.not.be.instanceOf(CommitUnknownError);
          await session.run((tx) => tx.commitWith([insert('dup-next', 5)]));
          expect(await hits(key('dup-next'))).to.deep.equal([5]);
          expect(await hits(key('dup-before'))).to.deep.equal([]);
          expect(await hits(key('dup-1'))).to.deep.equal([]);
          expect(await hits(key('dup'))).to.deep.equal([1]);
        });
      });

      if (ctx.backend === 'mariadb') {
        it('has the server check a statement marked onlyOneRow, with a guard written after it', () => {
          expect(inlineValues([insert('w', 1), guardedUpdate('w', 2)])).to.equal(
            `INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES ('${key('w')}', 1, 1); UPDATE rate_limits SET hits = 2 WHERE rl_key = '${key('w')}'; ${ONE_ROW_GUARD}`,
          );
        });
      }
    });

    if (ctx.backend === 'mariadb') {
      it('opens a new connection when the server closed its connection', async () => {
        const { db } = ctx.store();
        const session = db.session();
        const ids: number[] = [];
        await session.run(async (tx) => {
          ids.push(Number((await tx.query<{ id: number }>('SELECT CONNECTION_ID() AS id'))[0].id));
        });
        await db.execute(`KILL CONNECTION ${ids[0]}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await session.run(async (tx) => {
          ids.push(Number((await tx.query<{ id: number }>('SELECT CONNECTION_ID() AS id'))[0].id));
          await tx.execute('INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?)', [key('after-kill'), 9, 1]);
        });
        expect(ids[1]).to.not.equal(ids[0]);
        expect(await hits(key('after-kill'))).to.deep.equal([9]);
      });
    }
  });

  describe('execute', () => {
    it('reports affected rows and the insert id', async () => {
      const { db } = ctx.store();
      const inserted = await db.execute(
        "INSERT INTO audit_exchanges (request_id, received_at, remote_ip, method, path, outcome, request_headers) VALUES (?, ?, ?, ?, ?, 'completed', '{}')",
        ['db-contract', 1, '127.0.0.1', 'GET', '/'],
      );
      expect(inserted.affectedRows).to.equal(1);
      expect(inserted.insertId).to.be.greaterThan(0);
      const updated = await db.execute('UPDATE audit_exchanges SET status_code = ? WHERE id = ?', [200, inserted.insertId]);
      expect(updated).to.deep.equal({ affectedRows: 1, insertId: 0 });
      const unchanged = await db.execute('UPDATE audit_exchanges SET status_code = ? WHERE id = ?', [200, inserted.insertId]);
      expect(unchanged.affectedRows, 'a matched row counts even when nothing changed').to.equal(1);
    });
  });

  it('answers ping', async () => {
    await ctx.store().db.ping();
  });
});
