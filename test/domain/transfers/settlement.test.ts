import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { FinalStateNotifier } from '../../../src/domain/callbacks/index.js';
import { currentResult, settle } from '../../../src/domain/transfers/settlement.js';
import { guidanceOf, type TransferResult } from '../../../src/domain/transfers/transfer-result.js';
import type { PaymentRecord } from '../../../src/store/types.js';
import { forEachBackend } from '../../support/databases.js';
import { paymentRecord } from '../../support/payment-records.js';

/**
 * What the ERP is shown of a transfer (currentResult) and how a final outcome learnt later is
 * stored (settle): only the first settlement counts and is announced. The resolver's own test
 * (in-doubt-resolver.test.ts) settles through these; here are the cases it cannot see.
 */
describe('currentResult()', () => {
  const DAY = '2026-11-20';
  /** paymentRecord() receives on DAY at 03:00 UTC; the payment was last touched an hour later. */
  const RECEIVED = Date.parse(`${DAY}T03:00:00Z`);
  const TOUCHED = RECEIVED + 3_600_000;
  const record = (over: Partial<PaymentRecord>): PaymentRecord => ({ ...paymentRecord(7, 'INV-CURRENT', '150000.00', 'RECEIVED', DAY), bankReference: 'REF-1', updatedAt: TOUCHED, ...over });

  it('shows a transfer received or being sent as PENDING, built from the row, as of the later of its last change and now', () => {
    const received = currentResult(record({ state: 'RECEIVED', operation: null, bank: null }), TOUCHED - 1);
    expect(received).to.deep.equal({
      transactionId: 'INV-CURRENT',
      status: 'PENDING',
      amount: '150000.00',
      currency: 'IDR',
      bank: null,
      transferMethod: null,
      bankReference: 'REF-1',
      bankResponseCode: null,
      bankMessage: null,
      createdAt: new Date(RECEIVED).toISOString(),
      updatedAt: new Date(TOUCHED).toISOString(),
      failureConfirmedBy: null,
      guidance: guidanceOf('PENDING', null, false),
    });
    const sending = currentResult(record({ state: 'SENDING' }), TOUCHED + 1);
    expect(sending).to.deep.include({ status: 'PENDING', bankMessage: 'Being sent to the bank.', bank: 'bca', transferMethod: 'INTRABANK', updatedAt: new Date(TOUCHED + 1).toISOString() });
    // Sending when its process died, and unresolved since: in the review queue, still PENDING to the ERP.
    const stuck = currentResult(record({ state: 'SENDING', reviewSince: TOUCHED }), TOUCHED);
    expect(stuck).to.deep.include({ status: 'PENDING', reviewSince: new Date(TOUCHED).toISOString(), guidance: guidanceOf('PENDING', null, true) });
  });

  it('shows a transfer in doubt without a stored answer in its own state', () => {
    for (const state of ['UNKNOWN', 'PENDING'] as const) {
      expect(currentResult(record({ state }), TOUCHED)).to.deep.include({ status: state, bankMessage: null, guidance: guidanceOf(state, null, false) });
    }
  });

  it('shows the stored answer of a transfer in doubt with today\'s guidance, and when it entered the review queue', () => {
    const stored = { transactionId: 'INV-CURRENT', status: 'UNKNOWN', bankResponseCode: 'ESB-14-006', guidance: 'old words' };
    const inReview = currentResult(record({ state: 'UNKNOWN', resultJson: JSON.stringify(stored), reviewSince: TOUCHED }), TOUCHED + 5);
    expect(inReview).to.deep.equal({ ...stored, reviewSince: new Date(TOUCHED).toISOString(), guidance: guidanceOf('UNKNOWN', null, true) });
    const pending = currentResult(record({ state: 'PENDING', resultJson: JSON.stringify({ ...stored, status: 'PENDING' }) }), TOUCHED);
    expect(pending).to.deep.equal({ ...stored, status: 'PENDING', guidance: guidanceOf('PENDING', null, false) });
    expect(pending).to.not.have.property('reviewSince');
  });

  it('shows a final transfer\'s stored answer exactly as stored', () => {
    for (const state of ['SUCCESS', 'FAILED'] as const) {
      const stored = { transactionId: 'INV-CURRENT', status: state, guidance: 'as stored', failureConfirmedBy: state === 'FAILED' ? 'ADMIN' : null };
      expect(currentResult(record({ state, resultJson: JSON.stringify(stored), reviewSince: TOUCHED }), TOUCHED)).to.deep.equal(stored);
    }
  });
});

forEachBackend('settle()', (db) => {
  const NOW = Date.parse('2026-11-21T05:00:00Z');
  let notified: TransferResult[];
  const finals: FinalStateNotifier = { notify: async (_clientId, result) => void notified.push(result) };
  beforeEach(() => {
    notified = [];
  });

  async function sending(): Promise<PaymentRecord> {
    const payments = db.store().payments;
    const reserved = await payments.reserve({ clientId: 'erp-settle', transactionId: `INV-${randomBytes(4).toString('hex')}`, requestHash: randomBytes(32).toString('hex'), amount: '99000.00', currency: 'IDR' }, NOW - 60_000);
    await payments.update(reserved.id, { state: 'SENDING', bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000001', bankTransactionDate: '2026-11-21' }, NOW - 60_000);
    return (await payments.findById(reserved.id))!;
  }

  it('stores the first outcome, answers it and announces it; a later one answers the stored outcome and announces nothing', async () => {
    const payment = await sending();
    const first = await settle(db.store().payments, payment, { status: 'SUCCESS', bankReference: 'B-1', bankResponseCode: '00', bankMessage: 'ok' }, NOW, finals);
    expect(first).to.deep.include({ status: 'SUCCESS', bankReference: 'B-1', failureConfirmedBy: null, evidence: null, updatedAt: new Date(NOW).toISOString() });
    expect(notified).to.deep.equal([first]);
    const late = await settle(db.store().payments, payment, { status: 'FAILED', bankReference: null, bankResponseCode: '06', bankMessage: 'failed' }, NOW + 1_000, finals);
    expect(late, 'the stored outcome, as a read shows it').to.deep.equal(first);
    expect(notified).to.have.length(1);
    expect((await db.store().payments.findById(payment.id))!.state).to.equal('SUCCESS');
  });

  it('never answers the outcome learnt, and stores and announces nothing, when the payment is gone (released meanwhile): the payment as it was read', async () => {
    const payment = await sending();
    expect(await db.store().payments.release(payment.id, payment)).to.equal(true);
    const result = await settle(db.store().payments, payment, { status: 'FAILED', bankReference: null, bankResponseCode: '06', bankMessage: 'failed' }, NOW, finals);
    // Nothing stored holds that outcome: the ERP is told what it was told before (still being sent), never FAILED.
    expect(result).to.deep.include({ status: 'PENDING', failureConfirmedBy: null });
    expect(notified).to.deep.equal([]);
  });
});
