import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptRollback, verifyAudit, type CheckedAuditReport } from '../../src/audit/index.js';
import type { Store } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { forEachBackend } from '../support/databases.js';
import { attackedSuite, laterEvents, tailEvents, type LaterEvents } from '../support/later-events.js';
import { copyRow, writeBack, type Row } from '../support/sql-rows.js';

/**
 * The attacker of docs/security/threat-model.md (writes the database, holds no key) against
 * `gerbang audit verify` (H2): a row or a paid transfer's later events toggled between two states,
 * each of which a read of verify's finds holding. verify walks the chains, then checks the stored
 * values against their MACs and histories, then compares the chain heads with the audit
 * checkpoints; read one by one, the walk could see the events in (the chains whole), the stored
 * values see them out (the payment rolled back to its reservation agrees with its last event) and
 * the comparison see them in again (the tail the checkpoints vouched for there), and verify said
 * INTACT (exit 0) over a state that never was. Here the attacker acts on its own connection right
 * after a chosen read: verify reads all it judges in one snapshot, so it judges one state, and
 * names what does not hold in it.
 */

/** verify's first read: the chains' heads (the walk follows). */
const HEADS = /FROM audit_writers ORDER BY started_at, writer_id/;
/** Read once the chains are walked, before the stored values are (chainCoverage). */
const AFTER_WALK = /FROM chain_coverage WHERE records IN/;
/** verify's last read of the database before the comparison with the checkpoints (purgeSummary). */
const BEFORE_CHECKPOINTS = /FROM audit_purges ORDER BY purged_at DESC/;
/** The acceptance walk's first read (the heads it compares with the checkpoints), made once verify's own walk is done. */
const ACCEPTANCE_HEADS = /^SELECT writer_id, last_seq, last_hash FROM audit_writers$/;

/** Every break verify named, in words. */
const named = (report: CheckedAuditReport) => report.breaks.map((b) => `${b.problem}: ${b.detail}`).join('\n');

/**
 * A payment made by `payer` (another process: its chain's tail is the payment's, with `after`
 * payments after it) and paid; its row as reserved, and as paid.
 */
async function paid(payer: Store, tx: string, after: number): Promise<{ id: number; reserved: Row; paidRow: Row }> {
  const now = Date.now();
  const p = await payer.payments.reserve({ clientId: 'verify-race', transactionId: tx, requestHash: 'a'.repeat(64), amount: '1001.00', currency: 'IDR', sourceAccount: '0201777001' }, now - 60_000);
  const reserved = await copyRow(payer.db, 'payments', 'id = ?', [p.id]);
  expect(await payer.payments.update(p.id, { state: 'SUCCESS', bank: 'bca', bankTransactionId: `BT-${tx}` }, now - 30_000)).to.equal(true);
  for (let i = 0; i < after; i += 1) {
    await payer.payments.reserve({ clientId: 'verify-race', transactionId: `${tx}-${i}`, requestHash: 'b'.repeat(64), amount: '5.00', currency: 'IDR', sourceAccount: '0201777002' }, now - 20_000);
  }
  return { id: p.id, reserved, paidRow: await copyRow(payer.db, 'payments', 'id = ?', [p.id]) };
}

forEachBackend('audit verify against a row or a chain\'s tail toggled between its reads (H2)', (ctx) => {
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'gerbang-verify-race-')), 'audit-checkpoints.jsonl');
  const suite = attackedSuite(ctx, [HEADS, AFTER_WALK, BEFORE_CHECKPOINTS, ACCEPTANCE_HEADS]);
  const verify = () => verifyAudit(suite.watched().store, TEST_AUDIT_KEYS, checkpoints);

  /** verify of the store as the gateway left it: INTACT, its heads checkpointed (the tail vouched for). */
  async function intact(): Promise<void> {
    const report = await verify();
    expect(report.ok, named(report)).to.equal(true);
  }

  it('a payment altered (its MAC fails) as verify begins, restored once the heads are read: the payment is named, not INTACT', async function () {
    this.timeout(60_000);
    const [attacker, watched] = [suite.attacker(), suite.watched()];
    const { id, paidRow } = await paid(ctx.store(), 'VRACE-MAC', 1);
    await intact();
    await attacker.execute("UPDATE payments SET amount = '9001.00' WHERE id = ?", [id]);
    const restore = () => writeBack(attacker, 'payments', paidRow, 'id = ?', [id]);
    watched.arm([HEADS, restore]);
    try {
      const report = await verify();
      expect(watched.fired(), 'restored during verify').to.equal(true);
      expect(report.ok, 'not INTACT').to.equal(false);
      expect(named(report)).to.contain(`payments id ${id}`);
    } finally {
      await restore();
    }
    // Restored since: the next verify finds it whole.
    await intact();
  });

  it('a paid payment written back as reserved, its later events in while the chains are walked and out while the stored values are read: the payment is named, not INTACT', async function () {
    this.timeout(60_000);
    const [attacker, watched] = [suite.attacker(), suite.watched()];
    const { id, reserved, paidRow } = await paid(ctx.store(), 'VRACE-MID', 2);
    await intact();
    const later: LaterEvents = await laterEvents(attacker, id);
    await writeBack(attacker, 'payments', reserved, 'id = ?', [id]);
    watched.arm([AFTER_WALK, later.takeOut]);
    try {
      const report = await verify();
      expect(watched.fired(), 'taken out during verify').to.equal(true);
      expect(report.ok, 'not INTACT').to.equal(false);
      expect(named(report)).to.contain(`payments id ${id}`);
    } finally {
      await later.putBack();
      await writeBack(attacker, 'payments', paidRow, 'id = ?', [id]);
    }
    await intact();
  });

  it('a paid transfer written back as reserved, its tail cut with the head row set back once the chains are walked and put back before the checkpoints are compared: the payment is named, not INTACT', async function () {
    this.timeout(60_000);
    const [attacker, watched] = [suite.attacker(), suite.watched()];
    const { id, reserved, paidRow } = await paid(ctx.store(), 'VRACE-TAIL', 0);
    // The tail checkpointed: cut, only the checkpoints tell it.
    await intact();
    const tail = await tailEvents(attacker, id);
    await writeBack(attacker, 'payments', reserved, 'id = ?', [id]);
    watched.arm([AFTER_WALK, tail.takeOut], [BEFORE_CHECKPOINTS, tail.putBack]);
    try {
      const report = await verify();
      expect(watched.fired(), 'cut and put back during verify').to.equal(true);
      expect(report.ok, 'not INTACT').to.equal(false);
      expect(named(report)).to.contain(`payments id ${id}`);
      // Cut and left so: the checkpoints name the chain behind them.
      await tail.takeOut();
      const cut = await verify();
      expect(cut.ok).to.equal(false);
      expect(cut.breaks.map((b) => b.problem)).to.include('rolled-back');
      await tail.putBack();
    } finally {
      watched.arm();
      await writeBack(attacker, 'payments', paidRow, 'id = ?', [id]);
    }
    await intact();
  });
  it('a second payment altered once verify has walked: the digest it prints is of what its report names, so accepting by it takes nothing it did not show', async function () {
    this.timeout(60_000);
    const [attacker, watched] = [suite.attacker(), suite.watched()];
    const shown = await paid(ctx.store(), 'VRACE-SHOWN', 0);
    const unseen = await paid(ctx.store(), 'VRACE-UNSEEN', 0);
    await intact();
    await attacker.execute("UPDATE payments SET amount = '9002.00' WHERE id = ?", [shown.id]);
    const alterUnseen = () => attacker.execute("UPDATE payments SET amount = '9003.00' WHERE id = ?", [unseen.id]).then(() => undefined);
    // verify's own walk done: the second payment altered as the acceptance walk begins.
    watched.arm([ACCEPTANCE_HEADS, alterUnseen]);
    try {
      const report = await verify();
      expect(watched.fired(), 'altered during verify').to.equal(true);
      expect(report.ok).to.equal(false);
      expect(named(report)).to.contain(`payments id ${shown.id}`);
      expect(named(report)).not.to.contain(`payments id ${unseen.id}`);
      expect(report.lostPayments?.map((l) => l.paymentId), 'the lost payments printed: those named').to.deep.equal([shown.id]);
      // The operator accepts by the digest printed: not over a payment the report did not name.
      const accepted = await acceptRollback(ctx.store(), TEST_AUDIT_KEYS, checkpoints, 'test: as verified', Date.now, { confirmMs: 0, expect: report.acceptDigest ?? undefined });
      expect(accepted.differs, 'what there is to accept now is not what was shown').to.be.a('string');
      expect(accepted.accepted, 'nothing accepted over a payment not shown').to.deep.equal([]);
    } finally {
      watched.arm();
      await writeBack(attacker, 'payments', shown.paidRow, 'id = ?', [shown.id]);
      await writeBack(attacker, 'payments', unseen.paidRow, 'id = ?', [unseen.id]);
    }
    await intact();
  });
});
