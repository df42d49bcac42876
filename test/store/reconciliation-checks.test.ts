import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { placeOf } from '../../src/security/index.js';
import { paymentMac } from '../../src/store/repositories/payment-repository.js';
import { ReconciliationChecks, type CheckedRow } from '../../src/store/repositories/reconciliation-checks.js';
import { paymentPlace, ValueSealer } from '../../src/store/repositories/sealed-values.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';

/** A month of a busy account as the reconciliation reads it: each account sealed for its row, each payment under its MAC. */
function sealedRows(count: number): CheckedRow[] {
  return Array.from({ length: count }, (_, i) => {
    const id = i + 1;
    const fixed = { clientId: 'erp-1', transactionId: `INV-${id}`, requestHash: 'a'.repeat(64), amount: `${1000 + id}.00`, currency: 'IDR', createdAt: 1_800_000_000_000 + id };
    const { keyId, mac } = paymentMac(TEST_AUDIT_KEYS, fixed);
    return {
      id,
      source_account: TEST_AUDIT_KEYS.encrypt(`02012400${id % 7}`, placeOf('payments', 'source_account', [id])),
      client_id: fixed.clientId,
      transaction_id: fixed.transactionId,
      request_hash: fixed.requestHash,
      amount: fixed.amount,
      currency: fixed.currency,
      created_at: fixed.createdAt,
      mac_key_id: keyId,
      mac,
    };
  });
}

describe('the reconciliation checks on worker threads', function () {
  this.timeout(60_000);

  it('open every account and check every MAC of a long period across threads, naming the rows that do not hold, until closed', async () => {
    const rows = sealedRows(6_000);
    // As an attacker with the database but no key, in the worker's share (the second half): row
    // 5,000's account moved from row 10, row 5,500's amount rewritten.
    rows[4_999] = { ...rows[4_999], source_account: rows[9].source_account };
    rows[5_499] = { ...rows[5_499], amount: '1.00' };
    const checks = new ReconciliationChecks(TEST_AUDIT_KEYS, 1);
    try {
      const answer = await checks.check(rows);
      expect(checks.threads).to.equal(1);
      expect(answer.accounts).to.deep.equal(rows.map((_, i) => (i === 4_999 ? null : `02012400${(i + 1) % 7}`)));
      expect(answer.macHolds).to.deep.equal(rows.map((_, i) => i !== 5_499));
    } finally {
      await checks.close();
    }
    expect(checks.threads).to.equal(0);
    // Closed with the store: a late check still answers, in the caller's thread.
    expect((await checks.check(rows.slice(0, 3))).accounts).to.deep.equal(['020124001', '020124002', '020124003']);
    expect(checks.threads).to.equal(0);
  });

  it('keep their process alive while a worker owes an answer: a script with nothing else running gets its answer, not a silent exit 0', () => {
    // A command or script reconciling a long period: the only thing its event loop waits for is the worker's answer.
    const script = `
      const { ReconciliationChecks } = require(${JSON.stringify(join(__dirname, '../../src/store/repositories/reconciliation-checks.js'))});
      const { TEST_AUDIT_KEYS } = require(${JSON.stringify(join(__dirname, '../support/audit-keys.js'))});
      const rows = Array.from({ length: 4000 }, (_, i) => ({ id: i + 1, source_account: 'not sealed', client_id: 'erp-1', transaction_id: 'INV-' + i, request_hash: 'a', amount: '1.00', currency: 'IDR', created_at: 0, mac_key_id: null, mac: null }));
      const checks = new ReconciliationChecks(TEST_AUDIT_KEYS, 1);
      checks.check(rows).then((answer) => { console.log('answered ' + answer.macHolds.length + ' on ' + checks.threads + ' worker'); return checks.close(); });
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).to.equal('');
    expect(child.stdout.trim()).to.equal('answered 4000 on 1 worker');
    expect(child.status).to.equal(0);
  });

  it('open accounts sealed in their payment\'s INSERT (gcm3) beside those sealed for its id, in either thread', async () => {
    const sealer = new ValueSealer(TEST_AUDIT_KEYS);
    // Every third payment as a node with GERBANG_SEAL_PAYMENTS_AT_INSERT wrote it.
    const rows = sealedRows(4_500).map((row, i) =>
      i % 3 === 0 ? { ...row, source_account: sealer.sealAtInsert(`02012400${(i + 1) % 7}`, paymentPlace('source_account', row)) } : row,
    );
    expect(rows.map((r) => r.source_account?.slice(0, 5)).filter((f) => f === 'gcm3.')).to.have.length(1_500);
    const checks = new ReconciliationChecks(TEST_AUDIT_KEYS, 1);
    try {
      const answer = await checks.check(rows);
      expect(checks.threads).to.equal(1);
      expect(answer.accounts).to.deep.equal(rows.map((_, i) => `02012400${(i + 1) % 7}`));
    } finally {
      await checks.close();
    }
  });
});
