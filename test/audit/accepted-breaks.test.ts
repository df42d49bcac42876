import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptRollback, AuditScrub } from '../../src/audit/index.js';
import { createStore, openStore, type AuditReads, type Db, type Queryable, type Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { acceptAsVerified, auditVerify } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { databasePerTest, recordExchanges, recordInOneChain } from '../support/recorded-exchanges.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) deletes
 * records inside the audit chains and payment rows, in plain SQL. An operator looks and accepts
 * what was found (`gerbang audit accept-rollback`); `audit verify` must still name every break
 * that was not accepted, each one, and only those.
 */

forEachBackend('gerbang audit verify after records deleted inside a chain, some accepted by an operator (#14)', (ctx) => {
  const database = databasePerTest(ctx.backend);
  let checkpoints = '';
  const env = () => ({ GERBANG_DATABASE_URL: database.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  const verify = () => auditVerify(env());
  beforeEach(() => {
    checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-accepted-')), 'audit-checkpoints.jsonl');
  });

  it('names every break of a chain (not only its first), then each accepted one as accepted (exit 0), then a new break alone as a break (exit 1)', async function () {
    this.timeout(60_000);
    const inside = await recordInOneChain(database.url(), 8);
    const writer = inside[0].writerId;
    const db = database.db();
    const cut = async (l: { id: number }) => db.execute('DELETE FROM audit_exchanges WHERE id = ?', [l.id]);
    const named = (l: { id: number; seq: number }) => `audit_exchanges id ${l.id} (chain ${writer} seq ${l.seq}, record) was deleted`;
    await cut(inside[1]);
    await cut(inside[4]);

    const broken = await verify();
    expect(broken.code, broken.text).to.equal(1);
    for (const l of [inside[1], inside[4]]) expect(broken.text, `link ${l.seq}`).to.contain(`DELETED: ${named(l)}`);
    expect(broken.report.breaks.map((b) => b.recordId)).to.deep.equal([inside[1].id, inside[4].id]);
    expect(broken.report.accepted).to.deep.equal([]);

    const accepted = await acceptAsVerified(env(), 'test: two records deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    const after = await verify();
    expect(after.code, after.text).to.equal(0);
    expect(after.text).to.contain('audit verify: INTACT (').and.to.contain('but for accepted breaks');
    for (const l of [inside[1], inside[4]]) expect(after.text, `link ${l.seq}`).to.contain(`ACCEPTED DELETED: ${named(l)} (an operator accepted this break on `);
    expect(after.report.breaks).to.deep.equal([]);
    expect(after.report.accepted.map((b) => [b.recordId, b.how])).to.deep.equal([[inside[1].id, 'exactly'], [inside[4].id, 'exactly']]);

    await cut(inside[6]);
    const again = await verify();
    expect(again.code, again.text).to.equal(1);
    expect(again.report.breaks.map((b) => b.recordId), 'the new break alone').to.deep.equal([inside[6].id]);
    expect(again.report.accepted.map((b) => b.recordId)).to.deep.equal([inside[1].id, inside[4].id]);
    expect(again.text).to.contain(`DELETED: ${named(inside[6])}`).and.to.contain(`ACCEPTED DELETED: ${named(inside[1])}`);
  });

  it('names a chain whose head row was deleted (its links left), then, once accepted as gone, as accepted (exit 0)', async function () {
    this.timeout(60_000);
    const links = await recordInOneChain(database.url(), 3);
    const writer = links[0].writerId;
    await database.db().execute('DELETE FROM audit_writers WHERE writer_id = ?', [writer]);
    const broken = await verify();
    expect(broken.code, broken.text).to.equal(1);
    expect(broken.text).to.contain(`DELETED: the head of chain ${writer} was deleted from audit_writers`);
    const accepted = await acceptAsVerified(env(), 'test: head row deleted, looked at');
    expect(accepted.code, accepted.stderr).to.equal(0);
    const after = await verify();
    expect(after.code, after.text).to.equal(0);
    expect(after.report.accepted.map((b) => [b.detail, b.how])).to.deep.equal([[`the head of chain ${writer} was deleted from audit_writers`, 'as-gone']]);
  });

  it('refuses verify\'s digest of a chain whose head row was deleted once one more of its links is deleted after verify (what remains of it is what the operator looked at)', async function () {
    this.timeout(60_000);
    const links = await recordInOneChain(database.url(), 3);
    const writer = links[0].writerId;
    await database.db().execute('DELETE FROM audit_writers WHERE writer_id = ?', [writer]);
    const refused = await acceptAsVerified(env(), 'test: head row deleted, looked at before a link was', async () => {
      await database.db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [writer, links[2].seq]);
      await database.db().execute('DELETE FROM audit_exchanges WHERE id = ?', [links[2].id]);
    });
    expect(refused.code, refused.stdout).to.not.equal(0);
    expect(refused.stderr + refused.stdout).to.contain('is not what audit verify named');
    expect(existsSync(checkpoints) ? readFileSync(checkpoints, 'utf8') : '', 'no acceptance line').to.not.contain('accept-rollback:');
    // Looked at again: accepted as it now is.
    expect((await acceptAsVerified(env(), 'test: head row and a link deleted, looked at')).code).to.equal(0);
    expect((await verify()).code).to.equal(0);
  });

  it('accepts every one of 25 payment rows deleted in one acceptance (more than a scrub range holds), so no gateway holds on any after it and verify exits 0', async function () {
    this.timeout(60_000);
    const store = await openStore(database.url(), { auditKeys: TEST_AUDIT_KEYS });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 25; i += 1) {
        ids.push((await store.payments.reserve({ clientId: 'gbc_accept', transactionId: `INV-LOST-${i}-${randomBytes(3).toString('hex')}`, requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR' }, Date.now())).id);
      }
      // The attack: the payment rows deleted in SQL, their histories left.
      await database.db().execute(`DELETE FROM payments WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);

      const accepted = await acceptAsVerified(env(), 'test: 25 payment rows deleted, looked at');
      expect(accepted.code, accepted.stderr).to.equal(0);
      for (const id of ids) expect(accepted.stdout, `payment ${id}`).to.contain(`payments id ${id} was deleted`);
      // Each accepted as what was found: its row deleted.
      const line = JSON.parse(readFileSync(checkpoints, 'utf8').trim().split('\n').at(-1)!) as { lost?: { id: number; kind: string }[] };
      expect(line.lost?.map((p) => [p.id, p.kind]).sort((a, b) => Number(a[0]) - Number(b[0]))).to.deep.equal(ids.slice().sort((a, b) => a - b).map((id) => [id, 'deleted']));

      // A gateway's scrub reading the file holds on none of them.
      const scrub = new AuditScrub(store.audit, { ring: TEST_AUDIT_KEYS, path: checkpoints, store: store.db.description }, { linksPerPass: 10_000, confirmMs: 0, quiet: true });
      await scrub.pass();
      expect(scrub.held).to.equal(null);
      const verified = await verify();
      expect(verified.code, verified.text).to.equal(0);
      expect(verified.report.accepted.map((b) => b.recordId).sort((a, b) => a! - b!)).to.deep.equal(ids.slice().sort((a, b) => a - b));
    } finally {
      await store.close();
    }
  });

  it('does not accept a link missing on the first walk and back before the second (a node behind): nothing is accepted, it being not what verify named; verify\'s digest then accepts the one still missing', async function () {
    this.timeout(60_000);
    const links = await recordInOneChain(database.url(), 6);
    const writer = links[0].writerId;
    const db = database.db();
    const [healing, staying] = [links[1], links[4]];
    const [row] = await db.query<Record<string, string | number | null>>('SELECT writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq = ?', [writer, healing.seq]);
    await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [writer, healing.seq]);
    await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [staying.id]);
    // The link comes back once the first walk has read that chain's links twice (its walk and the
    // scrub's confirmation, 0 ms in an acceptance's walk) and ended: as a node that caught up would show it.
    const heal = () => db.execute(`INSERT INTO audit_chain (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map(() => '?').join(', ')})`, Object.values(row));
    let reads = 0;
    let healed: Promise<unknown> | null = null;
    const watched = await openStore(database.url(), { auditKeys: TEST_AUDIT_KEYS });
    // Each walk reads in a snapshot of its own: its reads are watched on the snapshot's connection.
    const watchedReads = <Q extends Queryable>(on: Q): Q =>
      new Proxy(on, {
        get(target, prop) {
          if (prop === 'query') {
            return async (sql: string, params?: unknown[]) => {
              const rows = await target.query(sql, params as never);
              if (sql.startsWith('SELECT writer_id, seq, kind') && params?.[0] === writer) reads += 1;
              return rows;
            };
          }
          // The link comes back once the walk whose snapshot read them twice has ended (before the next walk's).
          if (prop === 'withSnapshot') {
            return async <T>(fn: (q: Queryable) => Promise<T>) => {
              const result = await (target as unknown as Db).withSnapshot((q) => fn(watchedReads(q)));
              if (reads >= 2 && healed === null) healed = heal();
              return result;
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const proxied = watchedReads(watched.db);
    const accepting = createStore(proxied, { auditKeys: TEST_AUDIT_KEYS });
    try {
      // The operator looked at both breaks (verify's digest); the second walk finds one of them back.
      const looked = (await verify()).report.acceptDigest!;
      const result = await acceptRollback(accepting, TEST_AUDIT_KEYS, checkpoints, 'test: one link gone for a moment', Date.now, { confirmMs: 500, expect: looked });
      expect(healed, 'the link came back between the two walks').to.not.equal(null);
      await healed;
      expect(result.unconfirmed.map((b) => b.seq), 'named, not accepted').to.deep.equal([healing.seq]);
      expect(result.accepted, 'nothing accepted').to.deep.equal([]);
      expect(result.differs).to.be.a('string').and.to.not.equal(looked);
      expect(existsSync(checkpoints) ? readFileSync(checkpoints, 'utf8') : '', 'no acceptance line').to.not.contain('accept-rollback:');
      // Looked at again: the one still missing, accepted by verify's digest.
      const again = await acceptRollback(watched, TEST_AUDIT_KEYS, checkpoints, 'test: one link gone, looked at again', Date.now, { confirmMs: 500, expect: (await verify()).report.acceptDigest! });
      expect(again.unconfirmed).to.deep.equal([]);
      expect(again.accepted.map((b) => b.recordId)).to.deep.equal([staying.id]);
      const line = JSON.parse(readFileSync(checkpoints, 'utf8').trim().split('\n').at(-1)!) as { skips?: { seq: number }[] };
      expect(line.skips?.map((k) => k.seq), 'the acceptance line').to.deep.equal([staying.seq]);
    } finally {
      await watched.close();
    }
    // The chain holds again but for the break accepted: verify exits 0.
    const verified = await verify();
    expect(verified.code, verified.text).to.equal(0);
    expect(existsSync(checkpoints)).to.equal(true);
  });

  it('accepts by verify\'s digest the newest links of a chain deleted (its head left) though its writer linked on after verify and between the two walks; verify exits 0 as it links on', async function () {
    this.timeout(60_000);
    const writer = await openStore(database.url(), { auditKeys: TEST_AUDIT_KEYS });
    const accepting = await openStore(database.url(), { auditKeys: TEST_AUDIT_KEYS });
    try {
      const links = await recordExchanges(writer, 6);
      const chain = links[0].writerId;
      expect(links.map((l) => l.writerId), 'one chain').to.deep.equal(links.map(() => chain));
      const cut = links[4].seq;
      // Its newest two records and their links deleted, its head row left.
      await database.db().execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq >= ?', [chain, cut]);
      await database.db().execute('DELETE FROM audit_exchanges WHERE id IN (?, ?)', [links[4].id, links[5].id]);
      const looked = (await verify()).report.acceptDigest!;
      // The writer links on while the operator reads verify, and again between the acceptance's two
      // walks (its second read of the heads): the first walk finds the chain cut at its end, the second a gap.
      let next = 7;
      await recordExchanges(writer, 1, next++);
      // Each walk reads in a snapshot of its own: the writer links on before the second opens.
      let walks = 0;
      const audit = new Proxy(accepting.audit, {
        get(target, prop) {
          if (prop === 'inSnapshot') {
            return async <T>(fn: (reads: AuditReads) => Promise<T>) => {
              if (++walks === 2) await recordExchanges(writer, 1, next++);
              return target.inSnapshot(fn);
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const result = await acceptRollback({ ...accepting, audit } as Store, TEST_AUDIT_KEYS, checkpoints, 'test: newest links deleted, looked at', Date.now, { confirmMs: 0, expect: looked });
      expect(walks, 'two walks').to.be.at.least(2);
      expect([result.differs, result.unconfirmed], 'accepted').to.deep.equal([undefined, []]);
      expect(result.accepted.map((b) => [b.writerId, b.seq])).to.deep.equal([[chain, cut]]);
      await recordExchanges(writer, 2, next);
      const verified = await verify();
      expect(verified.code, verified.text).to.equal(0);
    } finally {
      await accepting.close();
      await writer.close();
    }
  });
});
