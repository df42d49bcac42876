import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { amountMinor, UniqueViolationError, type NewPayment } from '../../src/store/index.js';
import { forEachBackend } from '../support/databases.js';

const newPayment = (overrides: Partial<NewPayment> = {}): NewPayment => ({
  clientId: 'gbc_payments',
  transactionId: `INV-${randomBytes(6).toString('hex')}`,
  requestHash: 'a'.repeat(64),
  amount: '1500.25',
  currency: 'IDR',
  ...overrides,
});

forEachBackend('PaymentRepository', (ctx) => {
  describe('reserve', () => {
    it('inserts the payment in state RECEIVED and find returns it', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 100);
      expect(reserved).to.deep.include({ ...input, state: 'RECEIVED', bank: null, resultJson: null, httpStatus: null, createdAt: 100, updatedAt: 100 });
      expect(reserved.id).to.be.greaterThan(0);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.equal(reserved);
    });

    it('stores amount_minor in cents, exactly, for large amounts too', async () => {
      const { payments, db } = ctx.store();
      const reserved = await payments.reserve(newPayment({ amount: '987654321012.34' }), 1);
      const [row] = await db.query<{ amount_minor: number | string }>('SELECT amount_minor FROM payments WHERE id = ?', [reserved.id]);
      expect(String(row.amount_minor)).to.equal('98765432101234');
    });

    describe('when the transactionId was already reserved', () => {
      it('throws UniqueViolationError', async () => {
        const { payments } = ctx.store();
        const input = newPayment();
        await payments.reserve(input, 1);
        const error = await payments.reserve({ ...input, requestHash: 'b'.repeat(64) }, 2).then(() => null, (e: unknown) => e);
        expect(error).to.be.instanceOf(UniqueViolationError);
      });

      it('lets exactly one of 20 concurrent reservations win', async () => {
        const { payments } = ctx.store();
        const input = newPayment();
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => payments.reserve(input, 1)));
        expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(UniqueViolationError);
      });
    });

    describe('when another client uses the same transactionId', () => {
      it('reserves it separately', async () => {
        const { payments } = ctx.store();
        const input = newPayment();
        await payments.reserve(input, 1);
        const other = await payments.reserve({ ...input, clientId: 'gbc_other' }, 1);
        expect(other.clientId).to.equal('gbc_other');
      });
    });
  });

  describe('update', () => {
    it('sets the given fields and updated_at, leaving the others alone', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      await payments.update(reserved.id, { state: 'SENDING', bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000042' }, 2);
      await payments.update(reserved.id, { state: 'SUCCESS', bankReference: 'REF-1', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({
        state: 'SUCCESS',
        bank: 'bca',
        operation: 'transfer-intrabank',
        bankTransactionId: '00000042',
        bankReference: 'REF-1',
        resultJson: '{"status":"SUCCESS"}',
        httpStatus: 201,
        amount: '1500.25',
        createdAt: 1,
        updatedAt: 3,
      });
    });

    it('clears a field given as null', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      await payments.update(reserved.id, { bankReference: 'X' }, 2);
      await payments.update(reserved.id, { bankReference: null }, 3);
      expect((await payments.find(input.clientId, input.transactionId))!.bankReference).to.equal(null);
    });
  });

  describe('releaseStale', () => {
    it('deletes a RECEIVED reservation untouched since the given time, and nothing else', async () => {
      const { payments } = ctx.store();
      const fresh = await payments.reserve(newPayment(), 1_000);
      expect(await payments.releaseStale(fresh.id, 999)).to.equal(false);
      expect(await payments.releaseStale(fresh.id, 1_000)).to.equal(true);
      const sending = await payments.reserve(newPayment(), 1_000);
      await payments.update(sending.id, { state: 'SENDING' }, 1_000);
      expect(await payments.releaseStale(sending.id, 5_000)).to.equal(false);
    });

    it('makes a later update of the released row report that it is gone', async () => {
      const { payments } = ctx.store();
      const reserved = await payments.reserve(newPayment(), 1_000);
      expect(await payments.update(reserved.id, { state: 'RECEIVED' }, 1_000)).to.equal(true);
      await payments.releaseStale(reserved.id, 2_000);
      expect(await payments.update(reserved.id, { state: 'SENDING' }, 3_000)).to.equal(false);
    });
  });

  describe('storeSendOutcome', () => {
    it("stores the bank's answer while the payment is in doubt, however late", async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      await payments.update(reserved.id, { state: 'SENDING' }, 2);
      expect(await payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-1', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3)).to.equal(true);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SUCCESS', bankReference: 'REF-1', httpStatus: 201, resultJson: '{"status":"SUCCESS"}' });
    });

    it('never overwrites a final state another process stored first, and reports it', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      await payments.update(reserved.id, { state: 'SENDING' }, 2);
      expect(await payments.settle(reserved.id, { state: 'FAILED', resultJson: '{"status":"FAILED"}', httpStatus: 422 }, 3)).to.equal(true);
      expect(await payments.storeSendOutcome(reserved.id, { state: 'UNKNOWN', resultJson: '{"status":"UNKNOWN"}', httpStatus: 202 }, 4)).to.equal(false);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'FAILED', httpStatus: 422 });
    });
  });

  describe('release', () => {
    it('deletes a reservation that never reached the bank, so the id can be reserved again', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      expect(await payments.release(reserved.id)).to.equal(true);
      expect(await payments.find(input.clientId, input.transactionId)).to.equal(null);
      await payments.reserve(input, 2);
    });

    describe('when the payment is in doubt or final', () => {
      it('keeps it and returns false', async () => {
        const { payments } = ctx.store();
        for (const state of ['UNKNOWN', 'PENDING', 'SUCCESS', 'FAILED'] as const) {
          const input = newPayment();
          const reserved = await payments.reserve(input, 1);
          await payments.update(reserved.id, { state }, 2);
          expect(await payments.release(reserved.id), state).to.equal(false);
          expect(await payments.find(input.clientId, input.transactionId), state).to.not.equal(null);
        }
      });
    });
  });

  describe('inDoubtSummary', () => {
    it('counts the payments in doubt per state with the oldest one\'s reception, and the review queue, leaving settled ones out', async () => {
      const { payments } = ctx.store();
      const before = await payments.inDoubtSummary();
      const unknown = await payments.reserve(newPayment(), 1);
      await payments.update(unknown.id, { state: 'UNKNOWN' }, 10);
      const pending = await payments.reserve(newPayment(), 1_000);
      await payments.update(pending.id, { state: 'PENDING' }, 1_000);
      const settled = await payments.reserve(newPayment(), 1);
      await payments.update(settled.id, { state: 'UNKNOWN' }, 10);
      await payments.enterReview(unknown.id, 5_000);
      await payments.enterReview(settled.id, 4_000);
      await payments.settle(settled.id, { state: 'SUCCESS' }, 6_000);
      await payments.reserve(newPayment(), 1);
      const after = await payments.inDoubtSummary();
      expect(after.states.UNKNOWN.count).to.equal(before.states.UNKNOWN.count + 1);
      expect(after.states.PENDING.count).to.equal(before.states.PENDING.count + 1);
      expect(after.states.SENDING.count).to.equal(before.states.SENDING.count);
      expect(after.states.UNKNOWN.oldestCreatedAt).to.be.a('number').and.at.most(1);
      expect(after.states.PENDING.oldestCreatedAt).to.be.a('number').and.at.most(1_000);
      // The settled one left the queue; the one still in doubt is in it since 5000.
      expect(after.review.count).to.equal(before.review.count + 1);
      expect(after.review.oldestSince).to.equal(before.review.oldestSince === null ? 5_000 : Math.min(before.review.oldestSince, 5_000));
    });
  });

  describe('find', () => {
    it('returns null for an unknown transactionId', async () => {
      expect(await ctx.store().payments.find('gbc_payments', 'INV-none')).to.equal(null);
    });
  });
});

describe('amountMinor', () => {
  it('converts decimal strings to cents without floating point', () => {
    expect(amountMinor('100000.00')).to.equal(10_000_000n);
    expect(amountMinor('12.5')).to.equal(1_250n);
    expect(amountMinor('7')).to.equal(700n);
    expect(amountMinor('0.29')).to.equal(29n); // 0.29 * 100 is 28.999999999999996 in floating point
    expect(amountMinor('99999999999999999.99')).to.equal(9_999_999_999_999_999_999n);
  });

  it('refuses anything but a plain decimal with at most two fraction digits', () => {
    for (const bad of ['', '1.234', '1e5', 'abc', '1,000.00', '.5']) expect(() => amountMinor(bad), bad).to.throw(/amount/);
  });
});
