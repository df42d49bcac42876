import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainGuard, vouchingOptions } from '../../src/audit/index.js';
import type { StatementReader } from '../../src/console/statement-reader.js';
import { openStore, type Store } from '../../src/store/index.js';
import { accountTag } from '../../src/store/repositories/payment-repository.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { acceptAsVerified, runCli } from '../support/cli.js';
import { ConsoleClient } from '../support/console-client.js';
import { TestConsole } from '../support/console-harness.js';
import { forEachBackend } from '../support/databases.js';
import { copyRow, insertRow, writeBack, type Row } from '../support/sql-rows.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * A chain accepted as gone (its head row deleted, `audit accept-rollback` after verify named it)
 * still holds the history of the payments its process made. Accepting it excused its missing head,
 * not a record that stops matching its link afterwards: the chain guard a reading asks before it
 * seals a day, and `audit verify`, walk what remains of it with its records' MACs. Such a break,
 * once an operator looked at it (verify's digest), is accepted by `audit accept-rollback` exactly,
 * as a break inside any chain: the day is sealed again, and nothing else there is excused.
 */
forEachBackend('a chain accepted as gone, then a payment event of it deleted', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-gone-records-')), 'audit-checkpoints.jsonl');
  const env = () => ({ GERBANG_DATABASE_URL: ctx.url(), GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY, GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints });
  let con: TestConsole;
  let client: ConsoleClient;
  const dayStart = (n: number) => Date.UTC(2024, 2, n) - 7 * HOUR_MS;
  const label = (n: number) => `2024-03-${String(n).padStart(2, '0')}`;
  const now = dayStart(20) + 10 * HOUR_MS;
  const statements: StatementReader = { read: async (account, from, to) => ({ accountNumber: account, currency: 'IDR', from, to, openingBalance: null, bank: 'bca', entries: [] }) };

  before(async () => {
    con = await TestConsole.start(ctx.url(), { GERBANG_LOG_LEVEL: 'silent', GERBANG_AUDIT_CHECKPOINT_FILE: checkpoints }, { clock: () => now, statements, sealSweep: false });
    const user = await con.createUser('gone-records', 'viewer');
    client = new ConsoleClient(con.origin);
    expect((await client.signIn(user.username, user.password)).status).to.equal(303);
    await client.get('/console/lang?to=en');
  });
  after(() => con?.close());

  /**
   * A gateway (its chain vouched for in the checkpoint file and its head file) makes two payments
   * of day `n` and ends; the attacker deletes its chain's head row, the operator accepts the chain
   * as gone (verify first); then the attacker deletes the first payment's settle event (its link
   * kept, or with it) and writes the payment back as reserved. Returns what was deleted and how.
   */
  async function goneThenDeleted(account: string, n: number, withLink: boolean) {
    const gateway: Store = await openStore(ctx.url(), { auditKeys: TEST_AUDIT_KEYS, ...vouchingOptions(checkpoints, TEST_AUDIT_KEYS, 'gateway gone') });
    const p = await gateway.payments.reserve({ clientId: 'gone', transactionId: `GONE-${n}-A`, requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + 3 * HOUR_MS);
    const reserved = await copyRow(gateway.db, 'payments', 'id = ?', [p.id]);
    expect(await gateway.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${n}-A` }, dayStart(n) + 4 * HOUR_MS)).to.equal(true);
    const q = await gateway.payments.reserve({ clientId: 'gone', transactionId: `GONE-${n}-B`, requestHash: 'a'.repeat(64), amount: '1002.00', currency: 'IDR', sourceAccount: account }, dayStart(n) + 5 * HOUR_MS);
    expect(await gateway.payments.update(q.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${n}-B` }, dayStart(n) + 6 * HOUR_MS)).to.equal(true);
    const [settle] = await gateway.db.query<Row>('SELECT * FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1', [p.id]);
    const [link] = await gateway.db.query<Row>("SELECT * FROM audit_chain WHERE kind = 'payment_event' AND record_id = ?", [settle.id]);
    const writer = String(link.writer_id);
    await gateway.close();

    // The attacker, in SQL: the chain's head row deleted, nothing else. The operator: verify names it, every record is there; accepted as gone.
    const attacker = ctx.store().db;
    await attacker.execute('DELETE FROM audit_writers WHERE writer_id = ?', [writer]);
    const accepted = await acceptAsVerified(env(), 'head row lost in a database maintenance, FIN-99: every record checked');
    expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
    const intact = await runCli(['audit', 'verify'], env());
    expect(intact.code, intact.stdout + intact.stderr).to.equal(0);

    const paid = await copyRow(attacker, 'payments', 'id = ?', [p.id]);
    // The attacker again: the settle event deleted (its link kept, or with it), the payment written back as reserved.
    if (withLink) await attacker.execute('DELETE FROM audit_chain WHERE writer_id = ? AND seq = ?', [writer, link.seq]);
    await attacker.execute('DELETE FROM payment_events WHERE id = ?', [settle.id]);
    await writeBack(attacker, 'payments', reserved, 'id = ?', [p.id]);
    // What the attacker deleted and wrote back, put back as it was.
    const putBack = async () => {
      await insertRow(attacker, 'payment_events', settle);
      if (withLink) await insertRow(attacker, 'audit_chain', link);
      await writeBack(attacker, 'payments', paid, 'id = ?', [p.id]);
    };
    return { attacker, writer, link, putBack, other: q.id };
  }

  /** The reconciliation of `account`'s day `n` (English): whether it names the day not provable, and the day's seal rows. */
  async function reading(account: string, n: number): Promise<{ unprovable: boolean; seals: Row[] }> {
    const read = await client.get(`/console/reconciliation?account=${account}&from=${label(n)}&to=${label(n)}`);
    expect(read.status, read.text).to.equal(200);
    const seals = await ctx.store().db.query<Row>('SELECT * FROM reconciliation_seals WHERE account_tag = ? AND day = ?', [accountTag(TEST_AUDIT_KEYS, account), Date.UTC(2024, 2, n) / DAY_MS]);
    return { unprovable: read.text.includes('recon-unprovable'), seals };
  }

  const cases = [
    { what: 'its link kept', account: '0201888101', n: 6, withLink: false },
    { what: 'with its link', account: '0201888102', n: 9, withLink: true },
  ];
  for (const { what, account, n, withLink } of cases) {
    it(`${what}, its payment written back as reserved: the day is not sealed, and audit verify names the chain`, async function () {
      this.timeout(120_000);
      const { writer, link, putBack } = await goneThenDeleted(account, n, withLink);
      expect(await reading(account, n)).to.deep.equal({ unprovable: true, seals: [] });
      const verified = await runCli(['audit', 'verify'], env());
      expect(verified.code, verified.stdout).to.equal(1);
      expect(verified.stdout).to.contain(withLink ? writer : `chain ${writer} seq ${Number(link.seq)}`);

      // Put back, the chains hold again as accepted (what the acceptance covered was only the head).
      await putBack();
      const back = await runCli(['audit', 'verify'], env());
      expect(back.code, back.stdout + back.stderr).to.equal(0);
    });
  }

  const accepting = [
    { what: 'its link kept', account: '0201888103', n: 11, withLink: false },
    { what: 'with its link', account: '0201888104', n: 13, withLink: true },
  ];
  for (const { what, account, n, withLink } of accepting) {
    it(`${what}, looked at in audit verify and accepted by accept-rollback (its digest): exactly that break is excused, the day sealed, and a further break is not`, async function () {
      this.timeout(120_000);
      const { attacker, writer, other, putBack } = await goneThenDeleted(account, n, withLink);
      try {
        expect((await reading(account, n)).unprovable).to.equal(true);
        // Without the digest, nothing is accepted: the operator sees what there is and its digest.
        const blind = await runCli(['audit', 'accept-rollback', '--reason', 'FIN-100'], env());
        expect(blind.code, blind.stdout + blind.stderr).not.to.equal(0);
        expect(blind.stderr).to.contain('NOT accepted, nothing written').and.to.contain(writer).and.to.match(/digest [0-9a-f]{16}/);
        expect((await reading(account, n)).unprovable).to.equal(true);
        const accepted = await acceptAsVerified(env(), 'settle event lost after the head row, FIN-100: checked on the bank statement');
        expect(accepted.code, accepted.stdout + accepted.stderr).to.equal(0);
        const verified = await runCli(['audit', 'verify'], env());
        expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
        const read = await reading(account, n);
        expect(read.unprovable).to.equal(false);
        expect(read.seals.map((s) => Number(s.row_count))).to.deep.equal([2]);

        // Nothing else excused: the other payment's settle event deleted too is a break again, named by verify and by the guard.
        const [event] = await attacker.query<Row>('SELECT * FROM payment_events WHERE payment_id = ? ORDER BY seq DESC LIMIT 1', [other]);
        await attacker.execute('DELETE FROM payment_events WHERE id = ?', [event.id]);
        try {
          const again = await runCli(['audit', 'verify'], env());
          expect(again.code, again.stdout).to.equal(1);
          expect(again.stdout).to.contain(writer);
          expect(await new ChainGuard(ctx.store().audit, TEST_AUDIT_KEYS, checkpoints, ctx.store().db.description).problem()).to.contain(writer);
        } finally {
          await insertRow(attacker, 'payment_events', event);
        }
        const back = await runCli(['audit', 'verify'], env());
        expect(back.code, back.stdout + back.stderr).to.equal(0);
      } catch (error) {
        // Left as the next test expects the database: the break put back.
        await putBack();
        throw error;
      }
    });
  }
});
