import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { amountMinor, createStore, UniqueViolationError, type NewPayment } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { recordingSessions } from '../support/counting-db.js';
import { forEachBackend } from '../support/databases.js';

const SENDING = { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000042', bankTransactionDate: '2026-12-05' };

type EventRow = { seq: number | string; cause: string; state: string; bank_transaction_id: string | null; review_since: number | string | null };
const EVENTS = 'SELECT seq, cause, state, bank_transaction_id, review_since FROM payment_events WHERE payment_id = ? ORDER BY seq';

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

    it('sends its event with the payment, and its search trigrams with its chain link, the head\'s move and the COMMIT (one round trip each on MySQL)', async () => {
      const { db, calls } = recordingSessions(ctx.store().db);
      const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
      const reserved = await store.payments.reserve(newPayment(), 5);
      expect(calls()).to.deep.equal([['INSERT payments', 'INSERT payment_events'], ['INSERT payment_search_grams', 'INSERT audit_chain', 'UPDATE audit_writers', 'COMMIT']]);
      const [grams] = await ctx.store().db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payment_search_grams WHERE payment_id = ?', [reserved.id]);
      expect(Number(grams.n)).to.be.greaterThan(0);
      const page = await ctx.store().paymentSearch.page({ clientId: reserved.clientId, text: reserved.transactionId.slice(4) }, 'oldest', null, 50);
      expect(page.rows.map((p) => p.id)).to.deep.equal([reserved.id]);
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

    describe('when the first route is given (reserved straight into SENDING)', () => {
      it('inserts it SENDING with its bank and bank id, its one event saying the same, and find trusts it', async () => {
        const { payments, db } = ctx.store();
        const input = newPayment({ sending: SENDING });
        const reserved = await payments.reserve(input, 100);
        expect(reserved).to.deep.include({ state: 'SENDING', ...SENDING, eventSeq: 1 });
        const [row] = await db.query<{ state: string; bank_transaction_id: string | null }>('SELECT state, bank_transaction_id FROM payments WHERE id = ?', [reserved.id]);
        expect(row).to.deep.equal({ state: 'SENDING', bank_transaction_id: '00000042' });
        const events = await db.query<EventRow>(EVENTS, [reserved.id]);
        expect(events.map((e) => [Number(e.seq), e.cause, e.state, e.bank_transaction_id])).to.deep.equal([[1, 'reserve', 'SENDING', '00000042']]);
        expect(await payments.find(input.clientId, input.transactionId)).to.deep.equal(reserved);
      });

      it('writes nothing when its event cannot be written: never a SENDING payment without its bank id, nor one without its history', async () => {
        const { payments, db } = ctx.store();
        // The event's INSERT fails after the payment's, inside the reservation's transaction.
        await db.execute(
          ctx.backend === 'sqlite'
            ? "CREATE TRIGGER refuse_events BEFORE INSERT ON payment_events BEGIN SELECT RAISE(ABORT, 'refused'); END"
            : "CREATE TRIGGER refuse_events BEFORE INSERT ON payment_events FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'",
        );
        const input = newPayment({ sending: SENDING });
        try {
          const error = await payments.reserve(input, 100).then(() => null, (e: unknown) => e);
          expect(error).to.be.instanceOf(Error);
        } finally {
          await db.execute('DROP TRIGGER refuse_events');
        }
        const rows = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payments WHERE transaction_id = ?', [input.transactionId]);
        expect(Number(rows[0].n)).to.equal(0);
        // The transactionId is free: the ERP's resend reserves it.
        expect((await payments.reserve(input, 200)).state).to.equal('SENDING');
      });

      it('numbers its first event after any its id already had (an id a backend reused), and find still trusts it', async () => {
        const { payments, db } = ctx.store();
        const before = await payments.reserve(newPayment(), 100);
        const nextId = before.id + 1;
        // Left by a released payment whose id the backend hands out again.
        await db.execute('INSERT INTO payment_events (payment_id, seq, cause, state, recorded_at) VALUES (?, 1, ?, ?, 50)', [nextId, 'release', 'RELEASED']);
        const input = newPayment({ sending: SENDING });
        const reserved = await payments.reserve(input, 100);
        expect(reserved.id).to.equal(nextId);
        expect(reserved.eventSeq).to.equal(2);
        const events = await db.query<EventRow>(EVENTS, [reserved.id]);
        expect(events.map((e) => [Number(e.seq), e.state])).to.deep.equal([[1, 'RELEASED'], [2, 'SENDING']]);
        expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SENDING', eventSeq: 2 });
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

    it('records each of two changes made in one turn (one chain group) with the row as that change left it', async () => {
      const { payments, db } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve({ ...input, sending: SENDING }, 1);
      // Appended in the same turn: one group, whose UPDATEs used to run together before either event read the row.
      const [updated, settled] = await Promise.all([payments.update(reserved.id, { state: 'PENDING' }, 2), payments.settle(reserved.id, { state: 'SUCCESS', bankReference: 'REF-2' }, 3, reserved)]);
      expect([updated, settled]).to.deep.equal([true, true]);
      const events = (await db.query<EventRow>(EVENTS, [reserved.id])).map((e) => [Number(e.seq), e.cause, e.state]);
      expect(events).to.deep.equal([
        [1, 'reserve', 'SENDING'],
        [2, 'update', 'PENDING'],
        [3, 'settle', 'SUCCESS'],
      ]);
      expect((await payments.find(input.clientId, input.transactionId))!.state).to.equal('SUCCESS');
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
      expect(await payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-1', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3, (await payments.findById(reserved.id))!)).to.equal(true);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SUCCESS', bankReference: 'REF-1', httpStatus: 201, resultJson: '{"status":"SUCCESS"}' });
    });

    describe('given the payment as this process last wrote it', () => {
      it('appends the event built from it and the values written, which find trusts', async () => {
        const { payments, db } = ctx.store();
        const input = newPayment({ sending: SENDING });
        const reserved = await payments.reserve(input, 1);
        expect(await payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-1', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3, reserved)).to.equal(true);
        expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SUCCESS', ...SENDING, bankReference: 'REF-1', httpStatus: 201, resultJson: '{"status":"SUCCESS"}', eventSeq: 2 });
        const events = await db.query<EventRow>(EVENTS, [reserved.id]);
        expect(events.map((e) => [Number(e.seq), e.cause, e.state, e.bank_transaction_id])).to.deep.equal([[1, 'reserve', 'SENDING', '00000042'], [2, 'send', 'SUCCESS', '00000042']]);
      });

      it('reads the row back when another process appended an event since (the resolver put it in review), keeping what that one wrote', async () => {
        const { payments, db } = ctx.store();
        const input = newPayment({ sending: SENDING });
        const reserved = await payments.reserve(input, 1);
        await payments.enterReview(reserved.id, 2);
        expect(await payments.storeSendOutcome(reserved.id, { state: 'UNKNOWN', resultJson: '{"status":"UNKNOWN"}', httpStatus: 202 }, 3, reserved)).to.equal(true);
        expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'UNKNOWN', reviewSince: 2, eventSeq: 3 });
        const events = await db.query<EventRow>(EVENTS, [reserved.id]);
        expect(events.map((e) => [Number(e.seq), e.cause, e.state, e.review_since === null ? null : Number(e.review_since)])).to.deep.equal([
          [1, 'reserve', 'SENDING', null],
          [2, 'review', 'SENDING', 2],
          [3, 'send', 'UNKNOWN', 2],
        ]);
      });

      describe('when the bank reference is the bank id it was reserved with', () => {
        const GRAMS = 'SELECT COUNT(*) AS n FROM payment_search_grams WHERE payment_id = ?';
        const refuseGrams = (db: ReturnType<typeof ctx.store>['db']) =>
          db.execute(
            ctx.backend === 'sqlite'
              ? "CREATE TRIGGER refuse_grams BEFORE INSERT ON payment_search_grams BEGIN SELECT RAISE(ABORT, 'refused'); END"
              : "CREATE TRIGGER refuse_grams BEFORE INSERT ON payment_search_grams FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'",
          );

        it('writes no trigram again: the reservation indexed that bank id already', async () => {
          const { payments, db } = ctx.store();
          const input = newPayment({ sending: SENDING });
          const reserved = await payments.reserve(input, 1);
          const [indexed] = await db.query<{ n: number | string }>(GRAMS, [reserved.id]);
          expect(Number(indexed.n)).to.be.greaterThan(0);
          // Any INSERT of trigrams now fails the outcome's transaction.
          await refuseGrams(db);
          try {
            expect(await payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: SENDING.bankTransactionId, resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3, reserved)).to.equal(true);
          } finally {
            await db.execute('DROP TRIGGER refuse_grams');
          }
          expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SUCCESS', bankReference: SENDING.bankTransactionId, eventSeq: 2 });
          const [after] = await db.query<{ n: number | string }>(GRAMS, [reserved.id]);
          expect(Number(after.n)).to.equal(Number(indexed.n));
        });

        it('writes its trigrams when the row changed since (another process appended an event)', async () => {
          const { payments, db } = ctx.store();
          const input = newPayment({ sending: SENDING });
          const reserved = await payments.reserve(input, 1);
          await payments.enterReview(reserved.id, 2);
          // As if the index had lost them: the write that does not trust its view of the row adds them.
          await db.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [reserved.id]);
          expect(await payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: SENDING.bankTransactionId, resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3, reserved)).to.equal(true);
          expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SUCCESS', eventSeq: 3 });
          const [after] = await db.query<{ n: number | string }>(GRAMS, [reserved.id]);
          expect(Number(after.n)).to.be.greaterThan(0);
        });
      });

      if (ctx.backend === 'mariadb') {
        it('fails, writing nothing, when its event is not stored as given (a value the server cut with a warning): never an event its link does not describe', async () => {
          const { payments, db } = ctx.store();
          const input = newPayment({ sending: SENDING });
          const reserved = await payments.reserve(input, 1);
          // Narrower than the payment's column: the event's INSERT (IGNORE, sent with the UPDATE) keeps the row with the value cut, and a warning.
          await db.execute('ALTER TABLE payment_events MODIFY http_status SMALLINT NULL');
          let error: unknown;
          try {
            error = await payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', resultJson: '{"status":"SUCCESS"}', httpStatus: 40_000 }, 3, reserved).then(() => null, (e: unknown) => e);
          } finally {
            await db.execute('ALTER TABLE payment_events MODIFY http_status INT NULL');
          }
          expect(error).to.be.instanceOf(Error).with.property('message').that.contains('was not stored as given');
          const events = await db.query<EventRow>(EVENTS, [reserved.id]);
          expect(events.map((e) => [Number(e.seq), e.state])).to.deep.equal([[1, 'SENDING']]);
          expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SENDING', eventSeq: 1 });
        });
      }

      it('stores nothing over a bank id changed in SQL meanwhile (not the one it was sent with): the payment reads as altered', async () => {
        const { payments, db } = ctx.store();
        const input = newPayment({ sending: SENDING });
        const reserved = await payments.reserve(input, 1);
        await db.execute('UPDATE payments SET bank_transaction_id = ? WHERE id = ?', ['00000099', reserved.id]);
        expect(await payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3, reserved)).to.equal(false);
        const error = await payments.find(input.clientId, input.transactionId).then(() => null, (e: unknown) => e);
        expect(error).to.have.property('code', 'AUDIT_INTEGRITY');
        expect(error).to.have.property('where').that.contains('bank transaction id "00000099" where its last event (seq 1) says "00000042"');
      });
    });

    it('never overwrites a final state another process stored first, and reports it', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      await payments.update(reserved.id, { state: 'SENDING' }, 2);
      expect(await payments.settle(reserved.id, { state: 'FAILED', resultJson: '{"status":"FAILED"}', httpStatus: 422 }, 3, reserved)).to.equal(true);
      expect(await payments.storeSendOutcome(reserved.id, { state: 'UNKNOWN', resultJson: '{"status":"UNKNOWN"}', httpStatus: 202 }, 4, reserved)).to.equal(false);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'FAILED', httpStatus: 422 });
    });
  });

  describe('when the row moved to another bank id (a fallback route) after a decision was made on it', () => {
    const FALLBACK = { ...SENDING, operation: 'transfer-online', bankTransactionId: '00000043' };
    /** A payment SENDING under SENDING's id, as read then, and the same row moved on to FALLBACK's since. */
    const moved = async () => {
      const { payments } = ctx.store();
      const input = newPayment({ sending: SENDING });
      const read = await payments.reserve(input, 1);
      expect(await payments.markSending(read.id, FALLBACK, 2, read)).to.equal(true);
      return { payments, input, read };
    };

    it('settles nothing, stores no send outcome and records no check for the old id, and the row stays SENDING under the new one', async () => {
      const { payments, input, read } = await moved();
      expect(await payments.settle(read.id, { state: 'FAILED', resultJson: '{"status":"FAILED"}', httpStatus: 422 }, 3, read), 'settle').to.equal(false);
      expect(await payments.storeSendOutcome(read.id, { state: 'FAILED', resultJson: '{"status":"FAILED"}', httpStatus: 422 }, 4, read), 'storeSendOutcome').to.equal(false);
      const claimed = await payments.claimDue({ owner: 'resolver-a', now: 10, leaseMs: 1_000, sendingStaleBefore: 10, limit: 500 });
      expect(claimed.map((p) => p.id)).to.include(read.id);
      await payments.recordCheck(read.id, 'resolver-a', { state: 'UNKNOWN', checkAttempts: 1, notFoundCount: 1, nextCheckAt: 20 }, 5, read);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'SENDING', bankTransactionId: '00000043', checkAttempts: 0, resultJson: null });
      // The lease is freed all the same: another resolver may check the row under its new id.
      expect((await payments.claimDue({ owner: 'resolver-b', now: 11, leaseMs: 1_000, sendingStaleBefore: 10, limit: 500 })).map((p) => p.id)).to.include(read.id);
      // What is learnt about the new id is stored.
      const current = (await payments.find(input.clientId, input.transactionId))!;
      expect(await payments.settle(current.id, { state: 'SUCCESS', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 12, current)).to.equal(true);
    });

    it('moves it no further from what its sender last wrote: a row settled or moved on meanwhile is not marked SENDING again', async () => {
      const { payments, input, read } = await moved();
      expect(await payments.markSending(read.id, { ...FALLBACK, bankTransactionId: '00000044' }, 3, read), 'from the old id').to.equal(false);
      const current = (await payments.find(input.clientId, input.transactionId))!;
      expect(await payments.settle(current.id, { state: 'FAILED', resultJson: '{"status":"FAILED"}', httpStatus: 422 }, 4, current)).to.equal(true);
      expect(await payments.markSending(current.id, { ...FALLBACK, bankTransactionId: '00000044' }, 5, current), 'from a settled row').to.equal(false);
      expect(await payments.find(input.clientId, input.transactionId)).to.deep.include({ state: 'FAILED', bankTransactionId: '00000043' });
    });
  });

  describe('release', () => {
    it('deletes a reservation that never reached the bank, so the id can be reserved again', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      expect(await payments.release(reserved.id, null)).to.equal(true);
      expect(await payments.find(input.clientId, input.transactionId)).to.equal(null);
      await payments.reserve(input, 2);
    });

    it('deletes a SENDING reservation only under the bank id the caller knows was never executed', async () => {
      const { payments } = ctx.store();
      const input = newPayment();
      const reserved = await payments.reserve(input, 1);
      await payments.update(reserved.id, { state: 'SENDING', bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000002', bankTransactionDate: '2026-11-21' }, 2);
      // Sent under 00000002 (a later route, or another attempt): a release for the earlier id, for
      // no id, or for another partner's 00000002 keeps it for the resolver.
      expect(await payments.release(reserved.id, { state: 'SENDING', bank: 'bca', bankTransactionId: '00000001' }), 'another bank id').to.equal(false);
      expect(await payments.release(reserved.id, null), 'no bank id').to.equal(false);
      expect(await payments.release(reserved.id, { state: 'SENDING', bank: 'bca-backup', bankTransactionId: '00000002' }), 'another partner').to.equal(false);
      expect((await payments.find(input.clientId, input.transactionId))?.state).to.equal('SENDING');
      expect(await payments.release(reserved.id, { state: 'SENDING', bank: 'bca', bankTransactionId: '00000002' })).to.equal(true);
      expect(await payments.find(input.clientId, input.transactionId)).to.equal(null);
    });

    describe('when the payment is in doubt or final', () => {
      it('keeps it and returns false', async () => {
        const { payments } = ctx.store();
        for (const state of ['UNKNOWN', 'PENDING', 'SUCCESS', 'FAILED'] as const) {
          const input = newPayment();
          const reserved = await payments.reserve(input, 1);
          await payments.update(reserved.id, { state }, 2);
          expect(await payments.release(reserved.id, { state: 'SENDING', bank: 'bca', bankTransactionId: '00000001' }), state).to.equal(false);
          expect(await payments.find(input.clientId, input.transactionId), state).to.not.equal(null);
        }
      });
    });
  });

  describe('a reservation in review (its takeover could not be proved)', () => {
    it('settles a reservation only once it is in the review queue, which lists and counts it, with an event each', async () => {
      const { payments, db } = ctx.store();
      const before = await payments.inDoubtSummary();
      const reserved = await payments.reserve(newPayment(), 100);
      expect(await payments.settle(reserved.id, { state: 'SUCCESS' }, 200, reserved), 'not in review: never settled from RECEIVED').to.equal(false);
      await payments.enterReview(reserved.id, 300);
      expect((await payments.listInReview(1000)).map((p) => p.id)).to.include(reserved.id);
      expect((await payments.inDoubtSummary()).review.count).to.equal(before.review.count + 1);
      expect(await payments.settle(reserved.id, { state: 'SUCCESS', resultJson: '{}', httpStatus: 201 }, 400, reserved)).to.equal(true);
      expect((await payments.listInReview(1000)).map((p) => p.id)).not.to.include(reserved.id);
      const events = await db.query<{ cause: string; state: string; review_since: number | string | null }>(EVENTS, [reserved.id]);
      expect(events.map((e) => [e.cause, e.state, e.review_since === null ? null : Number(e.review_since)])).to.deep.equal([
        ['reserve', 'RECEIVED', null],
        ['review', 'RECEIVED', 300],
        ['settle', 'SUCCESS', null],
      ]);
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
      await payments.settle(settled.id, { state: 'SUCCESS' }, 6_000, settled);
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
