import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ChainDependency, createStore, type BankCallAudit, type InboundCompletion, type InboundExchange, type PaymentRecord, type PaymentUpdate } from '../../src/store/index.js';
import { TEST_AUDIT_KEYS } from '../support/audit-keys.js';
import { recordingSessions } from '../support/counting-db.js';
import { forEachBackend } from '../support/databases.js';

const exchange = (overrides: Partial<InboundExchange> = {}): InboundExchange => ({
  requestId: `req-${randomBytes(6).toString('hex')}`,
  receivedAt: 1_000,
  remoteIp: '203.0.113.7',
  origin: 'https://erp.example.co.id',
  method: 'POST',
  path: '/v1/transfers',
  clientId: 'gbc_audit',
  transactionId: `INV-${randomBytes(6).toString('hex')}`,
  amount: '10.00',
  requestHeaders: { 'content-type': 'application/json', authorization: '[REDACTED]' },
  requestBody: '{"transactionId":"x"}',
  ...overrides,
});

const completion = (overrides: Partial<InboundCompletion> = {}): InboundCompletion => ({
  outcome: 'completed',
  statusCode: 201,
  errorCode: null,
  clientId: null,
  transactionId: null,
  amount: null,
  responseBody: '{"status":"SUCCESS"}',
  completedAt: 1_500,
  ...overrides,
});

const bankCall = (exchangeId: number | null, requestId: string, operation: string): BankCallAudit => ({
  exchangeId,
  requestId,
  partner: 'bca',
  operation,
  method: 'POST',
  url: 'https://sandbox.bca.co.id/banking/corporates/transfers',
  requestHeaders: { 'x-bca-signature': '[REDACTED]' },
  requestBody: '{"Amount":"10.00"}',
  statusCode: 200,
  responseBody: '{"Status":"Success"}',
  errorCode: null,
  startedAt: 1_100,
  durationMs: 12.6,
});

forEachBackend('AuditRepository', (ctx) => {
  describe('open, recordBankCall, complete', () => {
    it('lists the exchange with its outcome and its bank calls in order', async () => {
      const { audit } = ctx.store();
      const inbound = exchange();
      const id = await audit.open(inbound);
      const [opened] = await audit.list({ requestId: inbound.requestId });
      expect(opened).to.deep.include({ id, outcome: 'in_progress', statusCode: null, completedAt: null, bankCalls: [] });

      const tokenCall = await audit.recordBankCall(bankCall(id, inbound.requestId, 'token'));
      const transferCall = await audit.recordBankCall(bankCall(id, inbound.requestId, 'transfer-intrabank'));
      await audit.complete(id, completion());

      const [row] = await audit.list({ requestId: inbound.requestId });
      expect(row).to.deep.include({ ...inbound, id, outcome: 'completed', statusCode: 201, errorCode: null, responseBody: '{"status":"SUCCESS"}', completedAt: 1_500 });
      expect(row.requestHeaders).to.deep.equal(inbound.requestHeaders);
      expect(row.bankCalls.map((c) => [c.id, c.operation])).to.deep.equal([
        [tokenCall, 'token'],
        [transferCall, 'transfer-intrabank'],
      ]);
      expect(row.bankCalls[0]).to.deep.include({ exchangeId: id, requestHeaders: { 'x-bca-signature': '[REDACTED]' }, durationMs: 13, statusCode: 200 });
    });

    it('fills client, transaction and amount at completion when open did not know them', async () => {
      const { audit } = ctx.store();
      const inbound = exchange({ clientId: null, transactionId: null, amount: null });
      const id = await audit.open(inbound);
      await audit.complete(id, completion({ clientId: 'gbc_late', transactionId: 'INV-late', amount: '5.00' }));
      const [row] = await audit.list({ requestId: inbound.requestId });
      expect(row).to.deep.include({ clientId: 'gbc_late', transactionId: 'INV-late', amount: '5.00' });
    });
  });

  describe('record', () => {
    it('inserts a whole rejected exchange at once', async () => {
      const { audit } = ctx.store();
      const inbound = exchange({ path: '/v1/auth/token', clientId: null, transactionId: null, amount: null });
      const id = await audit.record(inbound, completion({ outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_CLIENT', clientId: 'gbc_guess' }));
      const [row] = await audit.list({ requestId: inbound.requestId });
      expect(row).to.deep.include({ id, path: '/v1/auth/token', outcome: 'rejected', statusCode: 401, errorCode: 'INVALID_CLIENT', clientId: 'gbc_guess' });
    });

    describe('when caller-controlled values are longer than their columns', () => {
      it('still writes the row, with the values cut', async () => {
        const { audit } = ctx.store();
        const inbound = exchange({ path: `/v1/${'x'.repeat(5_000)}`, clientId: 'c'.repeat(500), transactionId: 't'.repeat(500), amount: '9'.repeat(100) });
        await audit.record(inbound, completion({ outcome: 'rejected', statusCode: 404, errorCode: 'NOT_FOUND' }));
        const [row] = await audit.list({ requestId: inbound.requestId });
        expect(row.path).to.have.length(1024);
        expect(row.clientId).to.have.length(191);
        expect(row.amount).to.have.length(64);
      });
    });
  });

  describe('the hash chain', () => {
    it('verifies after writes whose values the store cuts, masks or normalises', async () => {
      const { audit } = ctx.store();
      const odd = {
        path: `/v1/accounts/0201245680/balance/${'p'.repeat(2_000)}`,
        origin: `https://${'o'.repeat(600)}.example`,
        clientId: 'c'.repeat(300),
        transactionId: `INV-\ud800-${'t'.repeat(300)}`,
        amount: '9'.repeat(100),
        sourceAccount: '0201245680',
        beneficiaryAccount: '12',
        receivedAt: 1_000.6,
        requestHeaders: { 'x-odd': 'é\u0000\ud83d', 'x-undefined': undefined as unknown as string },
        requestBody: '{"note":"\udc00 lone surrogate"}',
      };
      const opened = await audit.open(exchange(odd));
      await audit.recordBankCall({ ...bankCall(opened, 'r'.repeat(100), 'o'.repeat(100)), url: 'https://bank/\ud800', startedAt: 1_100.4, durationMs: 0.5 });
      await audit.complete(opened, completion({ errorCode: 'E'.repeat(100), clientId: 'late', sourceAccount: '99887766', completedAt: 1_500.5, responseBody: 'tail \ud800' }));
      await audit.record(exchange(odd), completion({ outcome: 'rejected', statusCode: 400, transactionId: 'x'.repeat(400), beneficiaryAccount: '', completedAt: 2_000.2 }));
      const report = await audit.verify();
      expect(report.breaks).to.deep.equal([]);
      expect(report.links).to.be.at.least(4);
    });
  });

  describe('a transfer\'s two chain transactions', () => {
    /** The one after the bank: its bank call, the payment's outcome (built from `since`) and the exchange's completion, in one group. */
    const afterBank = async (store: ReturnType<typeof createStore>, id: number, requestId: string, paymentId: number, outcome: PaymentUpdate, since: PaymentRecord) => {
      const leg = new ChainDependency();
      const [, stored] = await Promise.all([
        store.audit.recordBankCall(bankCall(id, requestId, 'transfer-intrabank'), undefined, leg),
        store.payments.storeSendOutcome(paymentId, outcome, 3, since, leg),
        store.audit.complete(id, completion(), leg),
      ]);
      return stored;
    };

    it('sends the records of each together with the payment\'s event, then the rest with the links, the head\'s move and the COMMIT; the chain verifies', async () => {
      const { db, calls } = recordingSessions(ctx.store().db);
      const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
      const inbound = exchange();
      const sending = { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000042', bankTransactionDate: '2026-12-05' };
      const payment = { clientId: 'gbc_audit', transactionId: inbound.transactionId!, requestHash: 'a'.repeat(64), amount: '10.00', currency: 'IDR', sending };
      const [id, reserved] = await Promise.all([store.audit.open(inbound), store.payments.reserve(payment, 1)]);
      const outcome = { state: 'SUCCESS' as const, bankReference: '00000042', resultJson: '{"status":"SUCCESS","note":"it\'s \\ é"}', httpStatus: 201 };
      expect(await afterBank(store, id, inbound.requestId, reserved.id, outcome, reserved)).to.equal(true);
      expect(calls()).to.deep.equal([
        ['INSERT audit_exchanges', 'INSERT payments', 'INSERT payment_events'],
        ['INSERT payment_search_grams', 'INSERT audit_chain', 'UPDATE audit_writers', 'COMMIT'],
        ['INSERT audit_bank_calls', 'UPDATE payments', 'INSERT payment_events'],
        ['INSERT audit_completions', 'INSERT audit_chain', 'UPDATE audit_writers', 'COMMIT'],
      ]);
      expect(await store.payments.find(payment.clientId, payment.transactionId)).to.deep.include({ state: 'SUCCESS', resultJson: outcome.resultJson, eventSeq: 2 });
      const [listed] = await store.audit.list({ requestId: inbound.requestId });
      expect(listed).to.deep.include({ id, outcome: 'completed', statusCode: 201 });
      expect(listed.bankCalls).to.have.length(1);
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
    });

    it('writes no event when the payment\'s UPDATE sent with the bank call matches no row (the payment is not in doubt)', async () => {
      const { db, calls } = recordingSessions(ctx.store().db);
      const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
      const inbound = exchange();
      const payment = { clientId: 'gbc_audit', transactionId: inbound.transactionId!, requestHash: 'a'.repeat(64), amount: '10.00', currency: 'IDR' };
      const [id, reserved] = await Promise.all([store.audit.open(inbound), store.payments.reserve(payment, 1)]);
      const leg = new ChainDependency();
      const before = calls().length;
      const [, stored] = await Promise.all([
        store.audit.recordBankCall(bankCall(id, inbound.requestId, 'transfer-intrabank'), undefined, leg),
        // RECEIVED, never sent: the outcome's condition (in doubt) does not hold.
        store.payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', resultJson: '{}', httpStatus: 201 }, 3, { ...reserved, eventSeq: undefined }, leg),
      ]);
      expect(stored).to.equal(false);
      expect(calls().slice(before)).to.deep.equal([['INSERT audit_bank_calls', 'UPDATE payments'], ['INSERT audit_chain', 'UPDATE audit_writers', 'COMMIT']]);
      const [events] = await ctx.store().db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM payment_events WHERE payment_id = ?', [reserved.id]);
      expect(Number(events.n)).to.equal(1);
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
    });
    it('leaves a chain that audit verify finds whole after 24 transfers at once, a third of them written by another process between the two transactions', async () => {
      const store = createStore(ctx.store().db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
      const results = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const inbound = exchange();
          const sending = { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: `0000${1000 + i}`, bankTransactionDate: '2026-12-05' };
          const payment = { clientId: 'gbc_audit', transactionId: inbound.transactionId!, requestHash: 'd'.repeat(64), amount: `${i + 1}.00`, currency: 'IDR', sending };
          const [id, reserved] = await Promise.all([store.audit.open(inbound), store.payments.reserve(payment, 1)]);
          // Another writer meanwhile: the resolver puts it in review (its event number taken), or it is settled (the outcome's UPDATE matches no row).
          if (i % 6 === 1) await store.payments.enterReview(reserved.id, 2);
          if (i % 6 === 4) await store.payments.settle(reserved.id, { state: 'FAILED', resultJson: '{"status":"FAILED"}', httpStatus: 422 }, 2, reserved);
          const stored = await afterBank(store, id, inbound.requestId, reserved.id, { state: 'SUCCESS', bankReference: `REF-${i}`, resultJson: `{"status":"SUCCESS","i":${i}}`, httpStatus: 201 }, reserved);
          const found = await store.payments.find(payment.clientId, payment.transactionId);
          return [i % 6, stored, found?.state, found?.eventSeq];
        }),
      );
      for (const [kind, stored, state, eventSeq] of results) {
        if (kind === 4) expect([stored, state, eventSeq]).to.deep.equal([false, 'FAILED', 2]);
        else if (kind === 1) expect([stored, state, eventSeq]).to.deep.equal([true, 'SUCCESS', 3]);
        else expect([stored, state, eventSeq]).to.deep.equal([true, 'SUCCESS', 2]);
      }
      const report = await store.audit.verify();
      expect(report.breaks).to.deep.equal([]);
    });

    it('writes the event only when the UPDATE matched, also when the group\'s statements go prepared one by one (a bank answer too large to write into the text)', async () => {
      const { db, calls } = recordingSessions(ctx.store().db);
      const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
      // Over 1 MiB of SQL text once sealed and written in hex: the session sends each statement prepared.
      const large = JSON.stringify({ Status: 'Success', filler: randomBytes(900_000).toString('base64') });
      const outcomeOf = async (sending: boolean) => {
        const inbound = exchange();
        const payment = { clientId: 'gbc_audit', transactionId: inbound.transactionId!, requestHash: 'e'.repeat(64), amount: '10.00', currency: 'IDR', ...(sending ? { sending: { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000045', bankTransactionDate: '2026-12-05' } } : {}) };
        const [id, reserved] = await Promise.all([store.audit.open(inbound), store.payments.reserve(payment, 1)]);
        const leg = new ChainDependency();
        const before = calls().length;
        const [, stored] = await Promise.all([
          store.audit.recordBankCall({ ...bankCall(id, inbound.requestId, 'transfer-intrabank'), responseBody: large }, undefined, leg),
          // Not sending: RECEIVED, never sent, so the outcome's UPDATE matches no row.
          store.payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 3, reserved, leg),
        ]);
        const events = await ctx.store().db.query<{ seq: number | string; cause: string }>('SELECT seq, cause FROM payment_events WHERE payment_id = ? ORDER BY seq', [reserved.id]);
        // The event the UPDATE's outcome decided, nothing read back (an event skipped although the UPDATE matched would be).
        return [stored, events.map((e) => [Number(e.seq), e.cause]), calls().slice(before)];
      };
      const sentTogether = [['INSERT audit_bank_calls', 'UPDATE payments', 'INSERT payment_events'], ['INSERT audit_chain', 'UPDATE audit_writers', 'COMMIT']];
      expect(await outcomeOf(true)).to.deep.equal([true, [[1, 'reserve'], [2, 'send']], sentTogether]);
      expect(await outcomeOf(false)).to.deep.equal([false, [[1, 'reserve']], sentTogether]);
      expect((await store.audit.verify()).breaks).to.deep.equal([]);
    });

    describe('when the payment is no longer as this process last wrote it (another process wrote it meanwhile)', () => {
      /** A SENDING reservation and its exchange, as the transaction before the bank leaves them. */
      async function sent(store: ReturnType<typeof createStore>) {
        const inbound = exchange();
        const sending = { bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00000043', bankTransactionDate: '2026-12-05' };
        const payment = { clientId: 'gbc_audit', transactionId: inbound.transactionId!, requestHash: 'b'.repeat(64), amount: '10.00', currency: 'IDR', sending };
        const [id, reserved] = await Promise.all([store.audit.open(inbound), store.payments.reserve(payment, 1)]);
        return { inbound, id, reserved };
      }
      const events = async (paymentId: number) =>
        (await ctx.store().db.query<{ seq: number | string; cause: string; state: string }>('SELECT seq, cause, state FROM payment_events WHERE payment_id = ? ORDER BY seq', [paymentId])).map(
          (e) => [Number(e.seq), e.cause, e.state],
        );

      it('writes no event when its UPDATE, sent with the event built from that view, matches no row (settled meanwhile)', async () => {
        const { db, calls } = recordingSessions(ctx.store().db);
        const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
        const { inbound, id, reserved } = await sent(store);
        expect(await store.payments.settle(reserved.id, { state: 'FAILED', resultJson: '{"status":"FAILED"}', httpStatus: 422 }, 2, reserved)).to.equal(true);
        const before = calls().length;
        expect(await afterBank(store, id, inbound.requestId, reserved.id, { state: 'SUCCESS', bankReference: 'REF-9', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, reserved)).to.equal(false);
        expect(calls().slice(before)).to.deep.equal([
          ['INSERT audit_bank_calls', 'UPDATE payments', 'INSERT payment_events'],
          ['INSERT audit_completions', 'INSERT audit_chain', 'UPDATE audit_writers', 'COMMIT'],
        ]);
        expect(await events(reserved.id)).to.deep.equal([
          [1, 'reserve', 'SENDING'],
          [2, 'settle', 'FAILED'],
        ]);
        const settled = await store.payments.find(reserved.clientId, reserved.transactionId);
        expect(settled).to.deep.include({ state: 'FAILED', httpStatus: 422, eventSeq: 2 });
        // A late outcome from the settled view: its UPDATE matches no row, and its event number (3) is free, yet it is not written.
        expect(await store.payments.storeSendOutcome(reserved.id, { state: 'SUCCESS', bankReference: 'REF-9', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, 4, settled!)).to.equal(false);
        expect(await events(reserved.id)).to.have.length(2);
        expect((await store.audit.verify()).breaks).to.deep.equal([]);
      });

      it('writes the event of the row as it then stands, read back in the same transaction, when that view\'s event number is taken (put in review meanwhile)', async () => {
        const { db, calls } = recordingSessions(ctx.store().db);
        const store = createStore(db, { auditKeys: TEST_AUDIT_KEYS, sealPaymentsAtInsert: true });
        const { inbound, id, reserved } = await sent(store);
        await store.payments.enterReview(reserved.id, 2);
        const before = calls().length;
        expect(await afterBank(store, id, inbound.requestId, reserved.id, { state: 'SUCCESS', bankReference: 'REF-8', resultJson: '{"status":"SUCCESS"}', httpStatus: 201 }, reserved)).to.equal(true);
        const sentTogether = calls().slice(before);
        expect(sentTogether[0]).to.deep.equal(['INSERT audit_bank_calls', 'UPDATE payments', 'INSERT payment_events']);
        expect(sentTogether.slice(-1)[0]).to.include('COMMIT');
        expect(await events(reserved.id)).to.deep.equal([
          [1, 'reserve', 'SENDING'],
          [2, 'review', 'SENDING'],
          [3, 'send', 'SUCCESS'],
        ]);
        // The settled state clears the review, as the row says: find trusts it against event 3.
        expect(await store.payments.find(reserved.clientId, reserved.transactionId)).to.deep.include({ state: 'SUCCESS', bankReference: 'REF-8', reviewSince: null, eventSeq: 3 });
        expect((await store.audit.verify()).breaks).to.deep.equal([]);
      });
    });
  });

  describe('list', () => {
    // Rows of this block only, far from the other tests' receivedAt values.
    const base = 9_000_000_000;
    const client = `gbc_${randomBytes(4).toString('hex')}`;
    let ids: number[] = [];
    let inbound: InboundExchange[] = [];

    before(async () => {
      const { audit } = ctx.store();
      inbound = [0, 1, 2, 3].map((i) => exchange({ receivedAt: base + i * 1_000, clientId: i === 3 ? 'gbc_someone_else' : client }));
      ids = [];
      for (const e of inbound) ids.push(await audit.record(e, completion()));
      await audit.recordBankCall(bankCall(ids[1], inbound[1].requestId, 'transfer-intrabank'));
    });

    it('filters by a time window: from inclusive, to exclusive', async () => {
      const rows = await ctx.store().audit.list({ from: base + 1_000, to: base + 3_000 });
      expect(rows.map((r) => r.id)).to.deep.equal([ids[1], ids[2]]);
    });

    it('filters by client and by transaction id', async () => {
      const { audit } = ctx.store();
      expect((await audit.list({ clientId: client, from: base })).map((r) => r.id)).to.deep.equal(ids.slice(0, 3));
      expect((await audit.list({ transactionId: inbound[2].transactionId! })).map((r) => r.id)).to.deep.equal([ids[2]]);
    });

    it('pages by afterId and limit, in id order', async () => {
      const { audit } = ctx.store();
      const first = await audit.list({ from: base, limit: 2 });
      expect(first.map((r) => r.id)).to.deep.equal([ids[0], ids[1]]);
      expect(first[1].bankCalls.map((c) => c.operation)).to.deep.equal(['transfer-intrabank']);
      const second = await audit.list({ from: base, limit: 2, afterId: first[1].id });
      expect(second.map((r) => r.id)).to.deep.equal([ids[2], ids[3]]);
      expect(await audit.list({ from: base, afterId: ids[3] })).to.deep.equal([]);
    });
  });

  describe('recordBankCall', () => {
    it('accepts a call that belongs to no exchange', async () => {
      const id = await ctx.store().audit.recordBankCall(bankCall(null, 'startup', 'token'));
      expect(id).to.be.greaterThan(0);
    });
  });
});
