import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { CHAIN_PURPOSE, ChainLanes, ChainWriter, GENESIS, linkHash, type LinkKind } from '../../src/store/repositories/audit-chain.js';
import type { Db, Queryable } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';

interface LinkRow {
  seq: number | string;
  kind: LinkKind;
  record_id: number | string;
  recorded_at: number | string;
  prev_hash: string;
  hash: string;
}

forEachBackend('Audit chain: appends that queue are committed as one group', (ctx) => {
  let table: string;

  before(async () => {
    table = `gc_${randomBytes(4).toString('hex')}`;
    await ctx.store().db.execute(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, body VARCHAR(64) NOT NULL)`);
  });

  /** The real database, its writer sessions' transactions counted. */
  function countingDb(): { db: Db; transactions: () => number } {
    const real = ctx.store().db;
    let transactions = 0;
    const db = Object.create(real) as Db;
    db.session = () => {
      const session = real.session();
      return {
        run: <T>(fn: (tx: Queryable) => Promise<T>) => {
          transactions += 1;
          return session.run(fn);
        },
      };
    };
    return { db, transactions: () => transactions };
  }

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
});
