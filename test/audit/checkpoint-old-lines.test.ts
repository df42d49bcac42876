import { expect } from 'chai';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditScrub, RollbackWatch } from '../../src/audit/index.js';
import { openStore } from '../../src/store/index.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { acceptAsVerified, runCli } from '../support/cli.js';
import { forEachBackend } from '../support/databases.js';
import { oldLine, type OldHead } from '../support/old-checkpoint-lines.js';
import { databasePerTest, recordExchanges } from '../support/recorded-exchanges.js';

/**
 * A checkpoint file kept for years holds lines in every shape the gateway ever wrote (oldLine): a
 * checkpoint of heads; an acceptance of heads only (before `broken`); one accepting a chain broken
 * inside through its head then (`broken`); one naming deleted payments (`lostPayments`); one
 * accepting a break exactly (`skips` without `next`).
 */
forEachBackend('A checkpoint file with lines in every older shape, read by verify, the rollback watch and the scrub (#14)', (ctx) => {
  const database = databasePerTest(ctx.backend);

  it('reads each as its gateway meant it: what they accepted holds nothing; verify names it accepted but not provably the same break (exit 1) until accept-rollback again accepts it exactly (exit 0); a break they do not cover is still held and named', async function () {
    this.timeout(60_000);
    const path = join(mkdtempSync(join(tmpdir(), 'gerbang-old-lines-')), 'audit-checkpoints.jsonl');
    const db = database.db();
    const url = database.url();
    const env = { GERBANG_DATABASE_URL: url, GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: path };
    const [a, b] = [await openStore(url, { auditKeys: TEST_AUDIT_KEYS }), await openStore(url, { auditKeys: TEST_AUDIT_KEYS })];
    try {
      const records = await recordExchanges(a, 10);
      const payment = await a.payments.reserve({ clientId: 'gbc_audit', transactionId: 'INV-OLD-LINES', requestHash: 'h'.repeat(64), amount: '10.00', currency: 'IDR' }, Date.now());
      const other = await recordExchanges(b, 2, 100);
      const chain = records[0].writerId;
      expect(records.every((r) => r.writerId === chain) && other.every((r) => r.writerId === other[0].writerId && r.writerId !== chain), 'two chains').to.equal(true);
      const store = a.db.description;
      const headsNow = async (): Promise<OldHead[]> =>
        (await db.query<{ writer_id: string; last_seq: number | string; last_hash: string }>('SELECT writer_id, last_seq, last_hash FROM audit_writers WHERE last_seq > 0')).map((w) => ({ writerId: w.writer_id, seq: Number(w.last_seq), hash: w.last_hash }));
      const linkOf = async (writerId: string, seq: number): Promise<OldHead> => {
        const [link] = await db.query<{ hash: string }>('SELECT hash FROM audit_chain WHERE writer_id = ? AND seq = ?', [writerId, seq]);
        return { writerId, seq, hash: link.hash };
      };
      const t = Date.now() - 60_000;
      // A checkpoint of every head (the shape since the start).
      appendFileSync(path, oldLine({ store, at: t, by: 'verify', heads: await headsNow() }));

      // The attacks, in plain SQL: chain B cut back to its first link (record and link deleted, head moved back);
      const b1 = await linkOf(other[0].writerId, other[0].seq);
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [other[1].writerId, other[1].seq]);
      await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [other[1].id]);
      await db.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ? WHERE writer_id = ?', [b1.seq, b1.hash, b1.writerId]);
      // chain A: the records of its 3rd and 9th links deleted; the payment's row deleted.
      await db.execute('DELETE FROM audit_exchanges WHERE id IN (?, ?)', [records[2].id, records[8].id]);
      await db.execute('DELETE FROM payments WHERE id = ?', [payment.id]);

      // The acceptances, as the gateways of their time wrote them.
      appendFileSync(path, oldLine({ store, at: t + 1_000, by: 'accept-rollback: restored chain B from a backup', heads: [b1] }));
      appendFileSync(path, oldLine({ store, at: t + 2_000, by: 'accept-rollback: record 3 deleted, looked at', heads: [], broken: [await linkOf(chain, records[7].seq)] }));
      appendFileSync(path, oldLine({ store, at: t + 3_000, by: 'accept-rollback: payment row deleted, looked at', heads: [], lostPayments: [payment.id] }));
      appendFileSync(path, oldLine({ store, at: t + 4_000, by: 'accept-rollback: record 9 deleted, looked at', heads: [], skips: [{ writerId: chain, seq: records[8].seq, resume: records[9].seq }] }));

      const watch = new RollbackWatch(a.audit, TEST_AUDIT_KEYS, path, store, 0);
      await watch.check();
      expect(watch.held, 'the rollback watch').to.equal(null);
      const scrub = new AuditScrub(a.audit, { ring: TEST_AUDIT_KEYS, path, store }, { linksPerPass: 10_000, confirmMs: 0, quiet: true });
      await scrub.pass();
      expect(scrub.cycles, 'a whole cycle walked').to.equal(1);
      expect(scrub.held, 'the scrub').to.equal(null);
      // Those lines do not say what they saw: a break at their place may have been made since. verify names them so and does not pass.
      type Report = { breaks: unknown[]; ok: boolean; accepted: { writerId: string | null; seq: number | null; recordId: number | null; how: string; through?: number; unproven?: boolean }[] };
      const verified = await runCli(['audit', 'verify', '--format', 'json'], env);
      expect(verified.code, verified.stdout).to.equal(1);
      const report = JSON.parse(verified.stdout) as Report;
      expect(report.breaks).to.deep.equal([]);
      expect(report.accepted.map((x) => [x.writerId, x.seq, x.recordId, x.how, x.through, x.unproven])).to.have.deep.members([
        [chain, records[2].seq, records[2].id, 'through-link', records[7].seq, true],
        [chain, records[8].seq, records[8].id, 'exactly', undefined, true],
        [null, null, payment.id, 'exactly', undefined, true],
      ]);
      const told = await runCli(['audit', 'verify'], env);
      expect(told.code, told.stdout).to.equal(1);
      expect(told.stdout).to.contain('audit verify: NOT PROVEN (').and.to.contain('not provably the same break').and.to.contain('run gerbang audit accept-rollback again');

      // accept-rollback again: each accepted exactly, as it is now; verify then passes.
      const again = await acceptAsVerified(env, 'test: old acceptances looked at again');
      expect(again.code, again.stderr).to.equal(0);
      const line = JSON.parse(readFileSync(path, 'utf8').trim().split('\n').at(-1)!) as { skips?: { seq: number; seen?: { problem: string } }[]; lost?: { id: number; kind: string }[] };
      expect(line.skips?.map((k) => [k.seq, k.seen?.problem])).to.deep.equal([
        [records[2].seq, 'deleted'],
        [records[8].seq, 'deleted'],
      ]);
      expect(line.lost).to.deep.equal([{ id: payment.id, kind: 'deleted' }]);
      const exact = await runCli(['audit', 'verify', '--format', 'json'], env);
      expect(exact.code, exact.stdout).to.equal(0);
      expect((JSON.parse(exact.stdout) as Report).accepted.map((x) => [x.recordId, x.how, x.unproven])).to.have.deep.members([
        [records[2].id, 'exactly', undefined],
        [records[8].id, 'exactly', undefined],
        [payment.id, 'exactly', undefined],
      ]);

      // What no line accepted: a record deleted after the break accepted exactly.
      const [later] = await recordExchanges(a, 2, 20);
      await db.execute('DELETE FROM audit_exchanges WHERE id = ?', [later.id]);
      await scrub.pass();
      await scrub.pass();
      expect(scrub.held, 'the scrub').to.contain(`chain ${chain} link ${later.seq}`);
      const broken = await runCli(['audit', 'verify'], env);
      expect(broken.code, broken.stdout).to.equal(1);
      expect(broken.stdout).to.contain(`DELETED: audit_exchanges id ${later.id} (chain ${chain} seq ${later.seq}, record) was deleted`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a chain accepted as gone by an older line with nothing of it left since (no head row, no link): the memory of payments waits, verify offers it to accept, and once accepted exactly the memory is whole', async function () {
    this.timeout(60_000);
    const path = join(mkdtempSync(join(tmpdir(), 'gerbang-old-gone-')), 'audit-checkpoints.jsonl');
    const db = database.db();
    const env = { GERBANG_DATABASE_URL: database.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: path };
    const a = await openStore(database.url(), { auditKeys: TEST_AUDIT_KEYS });
    try {
      const records = await recordExchanges(a, 3);
      const chain = records[0].writerId;
      const store = a.db.description;
      // Its head row deleted and accepted as gone by a line of the older shape (no `remained`); since, its links and records deleted too.
      await db.execute('DELETE FROM audit_writers WHERE writer_id = ?', [chain]);
      appendFileSync(path, oldLine({ store, at: Date.now() - 1_000, by: 'accept-rollback: chain A gone, looked at', heads: [{ writerId: chain, seq: 0, hash: '' }], broken: [{ writerId: chain, seq: 0, hash: '' }] }));
      await db.execute('DELETE FROM audit_chain WHERE writer_id = ?', [chain]);
      await db.execute(`DELETE FROM audit_exchanges WHERE id IN (${records.map(() => '?').join(', ')})`, records.map((r) => r.id));
      const scrub = () => new AuditScrub(a.audit, { ring: TEST_AUDIT_KEYS, path, store }, { linksPerPass: 10_000, confirmMs: 0, quiet: true });
      const waiting = scrub();
      for (let i = 0; i < 5; i += 1) await waiting.pass();
      expect(waiting.complete, 'the memory waits for an operator').to.equal(false);

      const verified = await runCli(['audit', 'verify', '--format', 'json'], env);
      expect(verified.code, verified.stdout).to.equal(1);
      expect((JSON.parse(verified.stdout) as { acceptDigest?: string | null }).acceptDigest, 'something to accept').to.be.a('string');
      const again = await acceptAsVerified(env, 'test: chain A gone, nothing of it left, looked at');
      expect(again.code, again.stdout + again.stderr).to.equal(0);
      const line = JSON.parse(readFileSync(path, 'utf8').trim().split('\n').at(-1)!) as { broken?: { writerId: string; seq: number; remained?: { links: number } }[] };
      expect(line.broken?.map((g) => [g.writerId, g.seq, g.remained?.links])).to.deep.equal([[chain, 0, 0]]);
      const exact = await runCli(['audit', 'verify'], env);
      expect(exact.code, exact.stdout).to.equal(0);
      const whole = scrub();
      for (let i = 0; i < 5 && !whole.complete; i += 1) await whole.pass();
      expect(whole.complete, 'the memory is whole').to.equal(true);
      expect(whole.held).to.equal(null);
    } finally {
      await a.close();
    }
  });
});
