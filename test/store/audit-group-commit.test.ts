import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { CHAIN_PURPOSE, ChainLanes, ChainWriter, GENESIS, linkHash, type LinkKind } from '../../src/store/repositories/audit-chain.js';
import { ChainDependency, CommitUnknownError, createStore, DependencyRefusedError, openDb, UniqueViolationError, type Db, type Queryable, type Transaction } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { countingSessions } from '../support/counting-db.js';
import { forEachBackend } from '../support/databases.js';
import { TcpProxy } from '../support/tcp-proxy.js';

interface LinkRow {
  seq: number | string;
  kind: LinkKind;
  record_id: number | string;
  recorded_at: number | string;
  prev_hash: string;
  hash: string;
}

/** `real` whose writer sessions' transactions commit through `commitWith` (a COMMIT made to go unanswered). */
function withCommitWith(real: Db, commitWith: (tx: Transaction, statements: Parameters<Transaction['commitWith']>[0]) => ReturnType<Transaction['commitWith']>): Db {
  const db = Object.create(real) as Db;
  db.session = () => {
    const session = real.session();
    return { run: <T>(fn: (tx: Transaction) => Promise<T>) => session.run((tx) => fn({ ...tx, commitWith: (statements) => commitWith(tx, statements) })) };
  };
  return db;
}

forEachBackend('Audit chain: appends that queue are committed as one group', (ctx) => {
  let table: string;

  before(async () => {
    table = `gc_${randomBytes(4).toString('hex')}`;
    await ctx.store().db.execute(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, body VARCHAR(64) NOT NULL)`);
  });

  /** The real database, its writer sessions' transactions counted. */
  const countingDb = () => countingSessions(ctx.store().db);

  let nextId = 1;
  /** A record write as the audit's are: one INSERT, its id and a digest of what it wrote. */
  const writeRecord = (body: string) => async (tx: Queryable) => {
    const id = nextId++;
    await tx.execute(`INSERT INTO ${table} (id, body) VALUES (?, ?)`, [id, body]);
    return { recordId: id, contentDigest: body.padEnd(64, '0').slice(0, 64) };
  };

  /** Every link of the chain, checked against its predecessor and recomputed with the key. */
  async function checkedChain(writerId: string): Promise<LinkRow[]> {
    const db = ctx.store().db;
    const links = await db.query<LinkRow>('SELECT seq, kind, record_id, recorded_at, prev_hash, hash FROM audit_chain WHERE writer_id = ? ORDER BY seq', [writerId]);
    const { key } = TEST_AUDIT_KEYS.macKey(CHAIN_PURPOSE);
    let prev = GENESIS;
    for (const [i, link] of links.entries()) {
      expect(Number(link.seq)).to.equal(i + 1);
      expect(link.prev_hash).to.equal(prev);
      const [record] = await db.query<{ body: string }>(`SELECT body FROM ${table} WHERE id = ?`, [Number(link.record_id)]);
      const contentDigest = record.body.padEnd(64, '0').slice(0, 64);
      expect(link.hash).to.equal(
        linkHash({ prevHash: prev, writerId, seq: i + 1, kind: link.kind, recordId: Number(link.record_id), recordedAt: Number(link.recorded_at), contentDigest }, key),
      );
      prev = link.hash;
    }
    const [head] = await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]);
    expect(Number(head.last_seq)).to.equal(links.length);
    expect(head.last_hash).to.equal(prev);
    return links;
  }

  it('links 40 concurrent records in far fewer transactions, each record with its own link, in one unbroken chain', async () => {
    const { db, transactions } = countingDb();
    const writerId = `gc-${randomBytes(4).toString('hex')}`;
    const writer = new ChainWriter(db, writerId, () => TEST_AUDIT_KEYS);
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => writer.append('record', writeRecord(`r${i}`))));
    expect(new Set(ids).size).to.equal(40);
    const links = await checkedChain(writerId);
    expect(links.map((l) => Number(l.record_id)).sort((a, b) => a - b)).to.deep.equal([...ids].sort((a, b) => a - b));
    // Made in one turn, they go in groups of up to 32.
    expect(transactions()).to.be.at.most(3);
  });

  it('fails only the bad record of a group: the others are written on their own and the chain stays whole', async () => {
    const writerId = `gc-${randomBytes(4).toString('hex')}`;
    const writer = new ChainWriter(countingDb().db, writerId, () => TEST_AUDIT_KEYS);
    const first = writer.append('record', writeRecord('first'));
    const bad = writer.append('record', async (tx) => {
      await tx.execute(`INSERT INTO ${table} (id, body) VALUES (?, ?)`, [-1, 'bad']);
      throw new Error('this record cannot be written');
    });
    const good = Array.from({ length: 5 }, (_, i) => writer.append('record', writeRecord(`good${i}`)));
    const settled = await Promise.allSettled([first, bad, ...good]);
    expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const links = await checkedChain(writerId);
    expect(links).to.have.length(6);
    expect((await ctx.store().db.query(`SELECT id FROM ${table} WHERE id = -1`)).length, 'the bad record left nothing').to.equal(0);
  });

  /** A record write whose whole record is sent with the links and the COMMIT (`alongside`), as a payment's search trigrams are. */
  const writeAlongside = (body: string, id = nextId++) => async () => ({
    recordId: id,
    contentDigest: body.padEnd(64, '0').slice(0, 64),
    alongside: [{ sql: `INSERT INTO ${table} (id, body) VALUES (?, ?)`, params: [id, body] }],
  });

  /** A record write that leaves its INSERT to the writer (a deferred record), its id from the INSERT's result. */
  const writeDeferred = (body: string, id = nextId++) => async () => ({
    statements: [{ sql: `INSERT INTO ${table} (id, body) VALUES (?, ?)`, params: [id, body] }],
    finish: async ([{ affectedRows }]: readonly { affectedRows: number }[]) => {
      expect(affectedRows).to.equal(1);
      return { recordId: id, contentDigest: body.padEnd(64, '0').slice(0, 64) };
    },
  });

  it('fails only the deferred record the database refuses (a duplicate key among the records sent together): the others are written on their own', async () => {
    const writerId = `gc-${randomBytes(4).toString('hex')}`;
    const writer = new ChainWriter(countingDb().db, writerId, () => TEST_AUDIT_KEYS);
    const taken = nextId++;
    await writer.append('record', writeDeferred('deferred-first', taken));
    const settled = await Promise.allSettled([
      writer.append('record', writeDeferred('deferred-a')),
      writer.append('record', writeDeferred('deferred-dup', taken)),
      // A later write that catches a unique-key error as its own, as a payment's event does: the group still fails with the batch, and is written again alone.
      writer.append('record', async (tx: Queryable) => {
        const id = nextId++;
        try {
          await tx.execute(`INSERT INTO ${table} (id, body) VALUES (?, ?)`, [id, 'deferred-b']);
        } catch (error) {
          if (!(error instanceof UniqueViolationError)) throw error;
          await tx.execute(`INSERT INTO ${table} (id, body) VALUES (?, ?)`, [(id + 1_000_000), 'deferred-b']);
          return { recordId: id + 1_000_000, contentDigest: 'deferred-b'.padEnd(64, '0') };
        }
        return { recordId: id, contentDigest: 'deferred-b'.padEnd(64, '0') };
      }),
    ]);
    expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).to.be.instanceOf(UniqueViolationError);
    expect((await bodies('deferred-first', 'deferred-a', 'deferred-dup', 'deferred-b')).sort()).to.deep.equal(['deferred-a', 'deferred-b', 'deferred-first']);
    const links = await checkedChain(writerId);
    expect(links.map((l) => Number(l.record_id)).slice(1)).to.deep.equal([(settled[0] as PromiseFulfilledResult<number>).value, (settled[2] as PromiseFulfilledResult<number>).value]);
  });

  it('fails only the record the database refuses as the group commits (a duplicate key sent with the COMMIT): the others are written on their own', async () => {
    const writerId = `gc-${randomBytes(4).toString('hex')}`;
    const writer = new ChainWriter(countingDb().db, writerId, () => TEST_AUDIT_KEYS);
    const taken = nextId++;
    await writer.append('record', writeAlongside('taken', taken));
    const settled = await Promise.allSettled([
      writer.append('record', writeRecord('beside-a')),
      // Its own row goes in as it is written; its second, a duplicate, is refused with the group's COMMIT.
      writer.append('record', async (tx) => {
        const id = nextId++;
        await tx.execute(`INSERT INTO ${table} (id, body) VALUES (?, ?)`, [id, 'duplicate']);
        return { recordId: id, contentDigest: 'duplicate'.padEnd(64, '0'), alongside: [{ sql: `INSERT INTO ${table} (id, body) VALUES (?, ?)`, params: [taken, 'again'] }] };
      }),
      writer.append('record', writeAlongside('beside-b')),
    ]);
    expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).to.be.instanceOf(UniqueViolationError);
    expect(await bodies('duplicate', 'again'), 'nothing of the refused record').to.deep.equal([]);
    expect((await bodies('beside-a', 'beside-b')).sort()).to.deep.equal(['beside-a', 'beside-b']);
    expect(await checkedChain(writerId)).to.have.length(3);
  });

  describe('when keys rotate moved the chain\'s head meanwhile', () => {
    it('commits nothing of the group (no record, no link), then writes each after the head it reads again', async () => {
      const db = ctx.store().db;
      const writerId = `gc-${randomBytes(4).toString('hex')}`;
      const writer = new ChainWriter(db, writerId, () => TEST_AUDIT_KEYS);
      await writer.append('record', writeRecord('first'));
      // Another process re-links the chain (as `gerbang keys rotate` does): its last link and head get a new hash.
      const moved = 'ab'.repeat(32);
      await db.execute('UPDATE audit_chain SET hash = ? WHERE writer_id = ? AND seq = ?', [moved, writerId, 1]);
      await db.execute('UPDATE audit_writers SET last_hash = ? WHERE writer_id = ?', [moved, writerId]);
      const tried: number[] = [];
      const tracked = (body: string) => async (tx: Queryable) => {
        const written = await writeRecord(body)(tx);
        tried.push(written.recordId);
        return written;
      };
      const ids = await Promise.all([writer.append('record', tracked('moved-a')), writer.append('record', tracked('moved-b'))]);
      expect(tried, 'written in a group, refused, then each alone').to.have.length(4);
      const refused = tried.filter((id) => !ids.includes(id));
      expect(refused).to.have.length(2);
      const links = await db.query<LinkRow>('SELECT seq, kind, record_id, recorded_at, prev_hash, hash FROM audit_chain WHERE writer_id = ? ORDER BY seq', [writerId]);
      expect(links.map((l) => [Number(l.seq), Number(l.record_id)])).to.deep.equal([[1, Number(links[0].record_id)], [2, ids[0]], [3, ids[1]]]);
      expect(links[1].prev_hash, 'linked after the head as moved').to.equal(moved);
      const rows = await db.query<{ id: number | string }>(`SELECT id FROM ${table} WHERE body IN (?, ?) ORDER BY id`, ['moved-a', 'moved-b']);
      expect(rows.map((r) => Number(r.id)), 'the refused group wrote no record').to.deep.equal([...ids].sort((a, b) => a - b));
      const [head] = await db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]);
      expect([Number(head.last_seq), head.last_hash]).to.deep.equal([3, links[2].hash]);
    });
  });

  if (ctx.backend === 'mariadb') {
    describe('on a MariaDB session', () => {
      let proxy: TcpProxy;
      let db: Db;

      before(async () => {
        const url = new URL(ctx.url());
        proxy = new TcpProxy(url.hostname, Number(url.port || 3306));
        await proxy.start();
        url.host = `127.0.0.1:${proxy.port}`;
        db = openDb(url.toString());
      });

      after(async () => {
        await db.close();
        await proxy.cut();
      });

      it('sends a group\'s statements, its links, the head\'s move and the COMMIT in one round trip', async () => {
        const writerId = `gc-${randomBytes(4).toString('hex')}`;
        const writer = new ChainWriter(db, writerId, () => TEST_AUDIT_KEYS);
        // The first append reads the head and opens the session's connection.
        await writer.append('record', writeAlongside('trip-first'));
        const before = proxy.commands;
        await Promise.all([writer.append('record', writeAlongside('trip-a')), writer.append('record', writeAlongside('trip-b'))]);
        expect(proxy.commands - before).to.equal(1);
        expect(await checkedChain(writerId)).to.have.length(3);
      });

      it('sends the records of a group that leaves them to the writer in one round trip, then its links, the head\'s move and the COMMIT in one: two a chain transaction', async () => {
        const writerId = `gc-${randomBytes(4).toString('hex')}`;
        const writer = new ChainWriter(db, writerId, () => TEST_AUDIT_KEYS);
        await writer.append('record', writeDeferred('two-first'));
        const before = proxy.commands;
        // Values no plain word: quotes, a backslash, a ; and text outside ASCII travel written in too.
        const odd = ["two'a", 'two\\b;', 'two "c" é', 'two 😀 d', 'two\u0000e'];
        await Promise.all(odd.map((body) => writer.append('record', writeDeferred(body))));
        expect(proxy.commands - before).to.equal(2);
        expect((await bodies(...odd)).sort()).to.deep.equal([...odd].sort());
        expect(await checkedChain(writerId)).to.have.length(1 + odd.length);
      });

      it('writes each of a transfer\'s two chain transactions in two round trips: its records and the payment\'s event, then the rest with its links, the head\'s move and the COMMIT', async () => {
        const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
        const transfer = async () => {
          const requestId = `req-${randomBytes(6).toString('hex')}`;
          const transactionId = `INV-${randomBytes(6).toString('hex')}`;
          const inbound = { requestId, receivedAt: 1_000, remoteIp: '203.0.113.7', origin: null, method: 'POST', path: '/v1/transfers', clientId: 'gbc_trips', transactionId, amount: '10.00', requestHeaders: {}, requestBody: '{"note":"it\'s é"}' };
          const sending = { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000044', bankTransactionDate: '2026-12-05' };
          const payment = { clientId: 'gbc_trips', transactionId, requestHash: 'c'.repeat(64), amount: '10.00', currency: 'IDR', sending };
          const beforeBank = proxy.commands;
          const [id, reserved] = await Promise.all([store.audit.open(inbound), store.payments.reserve(payment, 1)]);
          const afterBank = proxy.commands;
          const leg = new ChainDependency();
          const call = { exchangeId: id, requestId, partner: 'bca', operation: 'transfer-intrabank', method: 'POST', url: 'https://bank.example/transfers', requestHeaders: {}, requestBody: '{}', statusCode: 200, responseBody: '{"Status":"Success"}', errorCode: null, startedAt: 1_100, durationMs: 12 };
          // The bank's own reference, not the bank id it was sent with (a SNAP bank's referenceNo): its trigrams are added too.
          const outcome = { state: 'SUCCESS' as const, bankReference: `REF-${randomBytes(4).toString('hex')}`, resultJson: '{"status":"SUCCESS","note":"it\'s \\ é"}', httpStatus: 201 };
          const done = { outcome: 'completed' as const, statusCode: 201, errorCode: null, clientId: null, transactionId: null, amount: null, responseBody: '{"status":"SUCCESS"}', completedAt: 1_500 };
          const [, stored] = await Promise.all([
            store.audit.recordBankCall(call, undefined, leg),
            store.payments.storeSendOutcome(reserved.id, outcome, 3, reserved, leg),
            store.audit.complete(id, done, leg),
          ]);
          const trips = [afterBank - beforeBank, proxy.commands - afterBank];
          expect(stored).to.equal(true);
          expect(await store.payments.find(payment.clientId, transactionId)).to.deep.include({ state: 'SUCCESS', bankReference: outcome.bankReference, resultJson: outcome.resultJson, eventSeq: 2 });
          const page = await store.paymentSearch.page({ clientId: payment.clientId, text: outcome.bankReference }, 'oldest', null, 50);
          expect(page.rows.map((p) => p.id)).to.deep.equal([reserved.id]);
          return trips;
        };
        // The first reads the chain's head and opens the session's connection.
        await transfer();
        expect(await transfer()).to.deep.equal([2, 2]);
      });

      it('fails the whole group when the COMMIT\'s answer is lost (it may have committed), and links the next append in a new chain, the one it left whole', async () => {
        const writerId = `gc-${randomBytes(4).toString('hex')}`;
        const writer = new ChainWriter(db, writerId, () => TEST_AUDIT_KEYS);
        await writer.append('record', writeAlongside('lost-first'));
        const lost = proxy.loseCommitAnswerAfter(table);
        const settled = await Promise.allSettled([writer.append('record', writeAlongside('lost-a')), writer.append('record', writeAlongside('lost-b'))]);
        await lost;
        expect(settled.map((s) => s.status)).to.deep.equal(['rejected', 'rejected']);
        expect((settled[0] as PromiseRejectedResult).reason).to.be.instanceOf(CommitUnknownError);
        // The server carries out the COMMIT of a connection it lost on its own time: the next
        // append reads the head after that (before it, the head read is the older one, and that
        // append is refused by the chain's guards, as it should be, which is not what this shows).
        for (const until = Date.now() + 10_000; (await bodies('lost-a', 'lost-b')).length < 2 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
        await writer.append('record', writeAlongside('lost-after'));
        // The server carried the COMMIT out: each record once (never written again alone), the chain unbroken.
        expect((await bodies('lost-a', 'lost-b', 'lost-after')).sort()).to.deep.equal(['lost-a', 'lost-after', 'lost-b']);
        expect(await checkedChain(writerId)).to.have.length(3);
        // Not knowing what it committed, it never links at that chain's seqs again (SQL could set its head row back).
        expect(writer.writerId).to.not.equal(writerId);
        expect(await checkedChain(writer.writerId)).to.have.length(1);
      });
    });
  }

  describe('a head row it cannot trust (#14)', () => {
    const headRow = async (writerId: string) => (await ctx.store().db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [writerId]))[0];
    const linkHashes = async (writerId: string) => (await ctx.store().db.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_chain WHERE writer_id = ? ORDER BY seq', [writerId])).map((l) => `${l.seq}:${l.hash}`);
    /** A writer with three links committed, its head row then set back in SQL to link 1 (its own hash) or deleted. */
    async function setBack(how: 'lowered' | 'deleted'): Promise<{ writer: ChainWriter; left: string; links: string[] }> {
      const db = ctx.store().db;
      const left = `gc-${randomBytes(4).toString('hex')}`;
      const writer = new ChainWriter(db, left, () => TEST_AUDIT_KEYS);
      for (const body of ['s1', 's2', 's3']) await writer.append('record', writeRecord(body));
      const [{ hash }] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = 1', [left]);
      if (how === 'lowered') await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [1, hash, left]);
      else await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [left]);
      return { writer, left, links: await linkHashes(left) };
    }

    for (const how of ['lowered', 'deleted'] as const) {
      it(`links on in a new chain when its head row was ${how === 'lowered' ? 'set back below what it committed' : 'deleted after it committed'}: no link made twice at a seq of the chain it left`, async () => {
        const { writer, left, links } = await setBack(how);
        await writer.append('record', writeRecord(`after-${how}`));
        expect(await linkHashes(left), 'the chain left as the SQL left it').to.deep.equal(links);
        expect(writer.writerId).to.not.equal(left);
        expect(await checkedChain(writer.writerId)).to.have.length(1);
        expect(Number((await headRow(writer.writerId)).last_seq)).to.equal(1);
        if (how === 'deleted') expect(await headRow(left), 'no new head row for the chain it left').to.equal(undefined);
        else expect(Number((await headRow(left)).last_seq)).to.equal(1);
      });
    }

    it('follows a head row re-linked at the same seq (keys rotate) and one moved forward: only a lower one is left', async () => {
      const db = ctx.store().db;
      const writerId = `gc-${randomBytes(4).toString('hex')}`;
      const writer = new ChainWriter(db, writerId, () => TEST_AUDIT_KEYS);
      await writer.append('record', writeRecord('f1'));
      await writer.append('record', writeRecord('f2'));
      // Another hash at the same seq (as keys rotate re-links): the next link follows it.
      await db.execute('UPDATE audit_writers SET last_hash = ? WHERE writer_id = ?', ['f'.repeat(64), writerId]);
      await writer.append('record', writeRecord('f3'));
      expect(writer.writerId).to.equal(writerId);
      const [l3] = await db.query<{ prev_hash: string }>('SELECT prev_hash FROM audit_chain WHERE writer_id = ? AND seq = 3', [writerId]);
      expect(l3.prev_hash).to.equal('f'.repeat(64));
    });

    it('links on in a new chain after a COMMIT whose answer was lost, so its committed links deleted and its head row set back to before them cannot make it link there again', async () => {
      const real = ctx.store().db;
      let loseAnswer = false;
      // The COMMIT goes through but its answer is lost (the connection killed after the server committed).
      const db = withCommitWith(real, async (tx, statements) => {
        const results = await tx.commitWith(statements);
        if (!loseAnswer) return results;
        loseAnswer = false;
        throw new CommitUnknownError(new Error('answer lost'));
      });
      const left = `gc-${randomBytes(4).toString('hex')}`;
      const writer = new ChainWriter(db, left, () => TEST_AUDIT_KEYS);
      await writer.append('record', writeRecord('u1'));
      await writer.append('record', writeRecord('u2'));
      const [h2] = await real.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = 2', [left]);
      loseAnswer = true;
      expect(await writer.append('record', writeRecord('u3')).catch((e: unknown) => e)).to.be.instanceOf(CommitUnknownError);
      expect(Number((await headRow(left)).last_seq), 'it did commit').to.equal(3);
      // SQL, no key: link 3 deleted (its record left, as a tail cut is), the head row set back to link 2.
      await real.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = 3', [left]);
      await real.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [2, h2.hash, left]);
      await writer.append('record', writeRecord('u4'));
      expect(await linkHashes(left), 'no new link 3').to.have.length(2);
      expect(writer.writerId).to.not.equal(left);
      expect(await checkedChain(writer.writerId)).to.have.length(1);
    });
  });

  it('writes the appends of one turn (an exchange\'s record and its reservation) to one chain in one transaction, though other chains are idle', async () => {
    const { db, transactions } = countingDb();
    const baseId = `gc-${randomBytes(4).toString('hex')}`;
    const lanes = new ChainLanes(db, baseId, 4, () => TEST_AUDIT_KEYS);
    const ids = await Promise.all([lanes.append('open', writeRecord('open')), lanes.append('payment_event', writeRecord('reserve'))]);
    expect(transactions()).to.equal(1);
    const heads = lanes.heads();
    expect(heads, 'one chain took both').to.have.length(1);
    const links = await checkedChain(heads[0].writerId);
    expect(links.map((l) => Number(l.record_id))).to.deep.equal(ids);
    // A later turn's append starts a group of its own at once.
    await lanes.append('record', writeRecord('later'));
    expect(transactions()).to.equal(2);
    // More than a group's worth in one turn: the rest go to the other chains, in parallel.
    await Promise.all(Array.from({ length: 40 }, (_, i) => lanes.append('record', writeRecord(`burst${i}`))));
    expect(transactions()).to.equal(4);
    expect(lanes.heads()).to.have.length(2);
  });

  /** A record write the database refuses (its INSERT goes in, then the write fails: the group rolls back). */
  const refusedRecord = (message: string) => async (tx: Queryable) => {
    await tx.execute(`INSERT INTO ${table} (id, body) VALUES (?, ?)`, [-(nextId++), 'refused']);
    throw new Error(message);
  };
  const bodies = async (...wanted: string[]) =>
    (await ctx.store().db.query<{ body: string }>(`SELECT body FROM ${table} WHERE body IN (${wanted.map(() => '?').join(', ')})`, wanted)).map((row) => row.body);

  it('commits a dependent append in its dependency\'s transaction, on its dependency\'s chain', async () => {
    const { db, transactions } = countingDb();
    const lanes = new ChainLanes(db, `gc-${randomBytes(4).toString('hex')}`, 4, () => TEST_AUDIT_KEYS);
    const leg = new ChainDependency();
    const [legId, outcomeId, completionId] = await Promise.all([
      lanes.append('bank_call', writeRecord('leg')),
      lanes.append('payment_event', writeRecord('outcome'), { after: leg }).catch((error: unknown) => error),
      lanes.append('complete', writeRecord('completion'), { after: leg }).catch((error: unknown) => error),
    ]);
    // Named as a dependency only once appended: before that, a dependent is refused, never written alone.
    expect(outcomeId).to.be.instanceOf(DependencyRefusedError);
    expect(completionId).to.be.instanceOf(DependencyRefusedError);
    expect(legId).to.be.a('number');
    const before = transactions();
    const ids = await Promise.all([
      lanes.append('bank_call', writeRecord('leg2'), { as: leg }),
      lanes.append('payment_event', writeRecord('outcome2'), { after: leg }),
      lanes.append('complete', writeRecord('completion2'), { after: leg }),
    ]);
    expect(transactions() - before, 'the leg and both dependents in one transaction').to.equal(1);
    const heads = lanes.heads();
    expect(heads).to.have.length(1);
    expect((await checkedChain(heads[0].writerId)).slice(-3).map((l) => Number(l.record_id))).to.deep.equal(ids);

    // A dependency on a chain other than the one a plain append would take: a turn's 33rd append
    // goes to a second chain; the dependent, a turn later, follows it there though two chains are idle.
    const spread = new ChainDependency();
    await Promise.all(Array.from({ length: 33 }, (_, i) => lanes.append('record', writeRecord(`fill${i}`), i === 32 ? { as: spread } : {})));
    const spreadLane = lanes.heads().find((head) => head.writerId !== heads[0].writerId)!;
    const followed = await lanes.append('payment_event', writeRecord('followed'), { after: spread });
    const links = await checkedChain(spreadLane.writerId);
    expect(Number(links[links.length - 1].record_id), 'the dependent is linked right after its dependency, on its chain').to.equal(followed);
    expect(links).to.have.length(2);
  });

  it('never writes a dependent whose dependency is refused when the group falls back to appends alone, and writes the rest', async () => {
    const writerId = `gc-${randomBytes(4).toString('hex')}`;
    const writer = new ChainWriter(countingDb().db, writerId, () => TEST_AUDIT_KEYS);
    const leg = new ChainDependency();
    const settled = await Promise.allSettled([
      writer.append('record', writeRecord('bystander-a')),
      writer.append('bank_call', refusedRecord('the leg is refused'), { as: leg }),
      writer.append('payment_event', writeRecord('dependent-outcome'), { after: leg }),
      writer.append('complete', writeRecord('dependent-completion'), { after: leg }),
      writer.append('record', writeRecord('bystander-b')),
    ]);
    expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    const [, legRefused, outcome, completion] = settled as PromiseRejectedResult[];
    expect((legRefused.reason as Error).message).to.equal('the leg is refused');
    for (const dependent of [outcome, completion]) {
      expect(dependent.reason).to.be.instanceOf(DependencyRefusedError);
      expect((dependent.reason as Error).cause, 'refused with the dependency\'s error').to.equal(legRefused.reason);
    }
    expect(await bodies('dependent-outcome', 'dependent-completion', 'refused'), 'nothing of the dependents was written').to.deep.equal([]);
    expect((await bodies('bystander-a', 'bystander-b')).sort()).to.deep.equal(['bystander-a', 'bystander-b']);
    expect(await checkedChain(writerId)).to.have.length(2);

    // A dependent appended after its dependency was refused: refused too, in a later group.
    const late = await writer.append('complete', writeRecord('late-dependent'), { after: leg }).catch((error: unknown) => error);
    expect(late).to.be.instanceOf(DependencyRefusedError);
    expect(await bodies('late-dependent')).to.deep.equal([]);
  });

  it('fails a dependent with its dependency when their group\'s COMMIT is lost (both, or neither, committed)', async () => {
    // The group's COMMIT goes unanswered, after every write went in (its outcome unknown; here it rolled back).
    const db = withCommitWith(ctx.store().db, async (tx, statements) => {
      await tx.executeAll(statements);
      throw new CommitUnknownError(new Error('commit lost'));
    });
    const writer = new ChainWriter(db, `gc-${randomBytes(4).toString('hex')}`, () => TEST_AUDIT_KEYS);
    const leg = new ChainDependency();
    const settled = await Promise.allSettled([
      writer.append('bank_call', writeRecord('leg-lost'), { as: leg }),
      writer.append('payment_event', writeRecord('outcome-lost'), { after: leg }),
    ]);
    expect(settled.map((s) => s.status)).to.deep.equal(['rejected', 'rejected']);
    expect(await bodies('leg-lost', 'outcome-lost')).to.deep.equal([]);
    // The dependency is refused from then on: a later dependent is never written.
    expect(await writer.append('complete', writeRecord('after-lost'), { after: leg }).catch((error: unknown) => error)).to.be.instanceOf(DependencyRefusedError);
  });
});
