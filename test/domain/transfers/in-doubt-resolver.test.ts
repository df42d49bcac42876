import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { StatementEntry, StatusOutcome, TransferStatus, TransferStatusQuery } from '../../../src/banks/types.js';
import type { FinalStateNotifier } from '../../../src/domain/callbacks/index.js';
import { BankRouter } from '../../../src/domain/routing/index.js';
import { InDoubtResolver, RESOLVER_LEASE_MS, type InDoubtResolverOptions } from '../../../src/domain/transfers/in-doubt-resolver.js';
import { buildResult, type TransferResult } from '../../../src/domain/transfers/transfer-result.js';
import { AppError } from '../../../src/errors/index.js';
import { REFUSED_PAYMENT_HOLD_MS } from '../../../src/store/repositories/payment-repository.js';
import type { AuditExchangeRow, PaymentRecord, PaymentState } from '../../../src/store/types.js';
import { forEachBackend } from '../../support/databases.js';
import { captureLogs } from '../../support/log-capture.js';
import { ScriptedBank } from '../../support/scripted-bank.js';

/**
 * The in-doubt resolver on its own, on the real store, with a clock the test moves: a BankRouter
 * whose one partner is a scripted in-process bank (test/support/scripted-bank.ts) answering the
 * status inquiry and the paying account's statement as each test says. What is checked is what
 * the resolver leaves behind (the payment's state, result and evidence, its schedule and lease,
 * the review queue, the RESOLVE exchange in the audit, the ERP's callback) and what it asked the
 * bank: never a transfer, and only after the audit held the check.
 * (test/component/in-doubt-resolver.test.ts runs the same through a whole gateway and the simulator.)
 */
forEachBackend('InDoubtResolver', (db) => {
  const DAY = '2026-11-20';
  const NEXT_DAY = '2026-11-21';
  /** 10:00 WIB on DAY: when each payment is received and sent. */
  const RECEIVED = Date.parse(`${DAY}T03:00:00Z`);
  /** 06:00 WIB on the next day: the bank's day close for DAY, with dayCloseWib 06:00. */
  const DAY_CLOSED = Date.parse(`${DAY}T23:00:00Z`);
  const HOUR = 3_600_000;
  const REVIEW_AFTER = 48 * HOUR;
  const SOURCE = '0201245680';
  const CLIENT = 'erp-resolver';
  const FAR = Date.parse('2100-01-01T00:00:00Z');
  const LIMITS = { bifastMaxCents: 25_000_000, onlineMaxCents: 2_500_000_000, sknMaxCents: 50_000_000_000, rtgsMinCents: 10_000_000 };

  let now = RECEIVED;
  let serial = 0;
  let bankIds = 0;
  let bank: ScriptedBank;
  let notified: { clientId: string; result: TransferResult }[];
  const finals: FinalStateNotifier = { notify: async (clientId, result) => void notified.push({ clientId, result }) };
  const store = () => db.store();

  /** The RESOLVE exchanges of a payment, as the audit holds them. */
  const checks = async (transactionId: string): Promise<AuditExchangeRow[]> =>
    (await store().audit.list({ transactionId })).filter((row) => row.method === 'RESOLVE');

  /** What the audit held for the payment asked about, at the moment the bank was asked. */
  const auditWhenAsked = async (operation: string, query: unknown) => {
    if (operation !== 'transfer-status') return null;
    const payment = await store().payments.findByBankTransaction(bank.partner, (query as TransferStatusQuery).bankTransactionId);
    return (await checks(payment!.transactionId)).map((row) => ({ id: row.id, outcome: row.outcome, bankCalls: row.bankCalls.length }));
  };

  beforeEach(() => {
    serial += 1;
    now = RECEIVED;
    notified = [];
    bank = new ScriptedBank(`scripted-${serial}`, auditWhenAsked);
  });

  /** Leases every payment still in doubt far beyond any test's clock, so later passes claim only payments made after. */
  const park = () => store().payments.claimDue({ owner: 'parked-by-test', now: FAR, leaseMs: FAR, sendingStaleBefore: FAR, limit: 500 });

  afterEach(async function () {
    // Park what this test left in doubt, so the next test's passes claim only its own payments.
    await park();
    if (this.currentTest?.state !== 'passed') return;
    expect(bank.callsOf('transfer-intrabank').concat(bank.callsOf('transfer-interbank')), 'the resolver never sends a transfer').to.deep.equal([]);
    expect(bank.unused(), 'every scripted answer was asked for').to.deep.equal({ statuses: 0, statements: 0, transfers: 0 });
  });

  function resolver(options: Partial<InDoubtResolverOptions> = {}): InDoubtResolver {
    const router = new BankRouter([{ name: bank.partner, bic: 'CENAIDJA', priority: 1, accounts: [SOURCE], idNamespace: `CENAIDJA:${bank.partner}`, idFormat: 'legacy', adapter: bank }], LIMITS);
    return new InDoubtResolver(
      { payments: store().payments, audit: store().audit, router, clock: () => now, finals },
      { intervalMs: 0, sendingStaleMs: 60_000, dayCloseWib: '06:00', reviewAfterMs: REVIEW_AFTER, ...options },
    );
  }

  interface Sent {
    state?: PaymentState;
    partner?: string | null;
    operation?: string;
    bankTransactionId?: string | null;
    bankTransactionDate?: string | null;
    bankReference?: string | null;
    bankExternalId?: string | null;
    sourceAccount?: string | null;
    amount?: string;
    at?: number;
  }

  /** A payment sent to the bank at `at` (default RECEIVED, 10:00 WIB on DAY) whose answer left it in doubt, as the transfer use case leaves it. */
  async function sent(over: Sent = {}): Promise<PaymentRecord> {
    const at = over.at ?? RECEIVED;
    const transactionId = `INV-${serial}-${randomBytes(4).toString('hex')}`;
    const payments = store().payments;
    const reserved = await payments.reserve(
      { clientId: CLIENT, transactionId, requestHash: randomBytes(32).toString('hex'), amount: over.amount ?? '150000.00', currency: 'IDR', sourceAccount: over.sourceAccount === undefined ? SOURCE : over.sourceAccount },
      at,
    );
    await payments.update(
      reserved.id,
      {
        state: 'SENDING',
        bank: over.partner === undefined ? bank.partner : over.partner,
        operation: over.operation ?? 'transfer-intrabank',
        bankTransactionId: over.bankTransactionId === undefined ? String(10_000_000 + (bankIds += 1)) : over.bankTransactionId,
        bankTransactionDate: over.bankTransactionDate === undefined ? DAY : over.bankTransactionDate,
        bankReference: over.bankReference ?? null,
        bankExternalId: over.bankExternalId ?? null,
      },
      at,
    );
    const state = over.state ?? 'UNKNOWN';
    if (state !== 'SENDING') {
      const payment = (await payments.findById(reserved.id))!;
      const answer = buildResult(payment, { status: state as TransferStatus, bankReference: payment.bankReference, bankResponseCode: 'ESB-14-006', bankMessage: 'Timeout' }, at, [
        { partner: bank.partner, method: 'INTRABANK', reason: 'on-us', result: 'sent' },
      ]);
      await payments.storeSendOutcome(reserved.id, { state, resultJson: JSON.stringify(answer), httpStatus: 202 }, at, payment);
    }
    return (await payments.findById(reserved.id))!;
  }

  const reread = async (payment: PaymentRecord): Promise<PaymentRecord> => (await store().payments.findById(payment.id))!;
  const resultOf = async (payment: PaymentRecord): Promise<TransferResult> => JSON.parse((await reread(payment)).resultJson!) as TransferResult;
  const lease = async (payment: PaymentRecord): Promise<{ owner: string | null; until: number | null }> => {
    const [row] = await store().db.query<{ lease_owner: string | null; lease_until: number | string | null }>('SELECT lease_owner, lease_until FROM payments WHERE id = ?', [payment.id]);
    return { owner: row.lease_owner, until: row.lease_until === null ? null : Number(row.lease_until) };
  };
  /** The only RESOLVE exchange of the payment, and its response body. */
  const onlyCheck = async (payment: PaymentRecord): Promise<{ row: AuditExchangeRow; body: Record<string, unknown> }> => {
    const rows = await checks(payment.transactionId);
    expect(rows).to.have.length(1);
    return { row: rows[0], body: JSON.parse(rows[0].responseBody ?? 'null') as Record<string, unknown> };
  };
  const lastCheckBody = async (payment: PaymentRecord): Promise<Record<string, unknown>> => {
    const rows = await checks(payment.transactionId);
    return JSON.parse(rows[rows.length - 1].responseBody ?? 'null') as Record<string, unknown>;
  };

  const status = (s: StatusOutcome['status'], over: Partial<StatusOutcome> = {}): StatusOutcome =>
    ({ status: s, bankReference: null, bankResponseCode: s === 'NOT_FOUND' ? 'ESB-99-127' : '00', bankMessage: `bank says ${s}`, ...over }) as StatusOutcome;
  const debit = (amount: string, description: string, extra: Partial<StatementEntry> = {}): StatementEntry => ({ date: DAY, type: 'DEBIT', amount, description, ...extra });
  /** The clock moves while the bank answers (so the check's reception, decision and completion times differ). */
  const after = <A>(ms: number, answer: A) => async () => {
    now += ms;
    return answer;
  };

  describe('when the status inquiry gives a final status', () => {
    it('settles SUCCESS with the bank\'s reference, tells the ERP once, frees the lease, and sends nothing', async () => {
      const payment = await sent({ operation: 'transfer-bifast', bankReference: 'OLD-REF', bankExternalId: 'EXT-0001' });
      now = RECEIVED + 5 * 60_000;
      const askedAt = now;
      bank.answerStatus(after(1_000, status('SUCCESS', { bankReference: 'BCA-REF-9', bankResponseCode: '00', bankMessage: 'Success' })));
      const r = resolver();
      expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 1 });

      const [asked] = bank.callsOf('transfer-status');
      expect(asked.query).to.deep.equal({ bankTransactionId: payment.bankTransactionId, transactionDate: DAY, method: 'BIFAST', externalId: 'EXT-0001', amount: '150000.00', bankReference: 'OLD-REF' });
      expect(bank.callsOf('statement'), 'a final status needs no statement').to.deep.equal([]);

      const stored = await reread(payment);
      expect(stored).to.deep.include({ state: 'SUCCESS', bankReference: 'BCA-REF-9', httpStatus: 201, checkAttempts: 0, reviewSince: null });
      const result = JSON.parse(stored.resultJson!) as TransferResult;
      expect(result).to.deep.equal({
        transactionId: payment.transactionId,
        status: 'SUCCESS',
        amount: '150000.00',
        currency: 'IDR',
        bank: bank.partner,
        transferMethod: 'BIFAST',
        bankReference: 'BCA-REF-9',
        bankResponseCode: '00',
        bankMessage: 'Success',
        createdAt: new Date(RECEIVED).toISOString(),
        updatedAt: new Date(askedAt + 1_000).toISOString(),
        routing: [{ partner: bank.partner, method: 'INTRABANK', reason: 'on-us', result: 'sent' }],
        failureConfirmedBy: null,
        evidence: null,
        guidance: 'Paid: the bank executed this transfer. Do not pay it again.',
      });
      expect(notified).to.deep.equal([{ clientId: CLIENT, result }]);
      expect(await lease(payment)).to.deep.equal({ owner: null, until: null });

      now += 24 * HOUR;
      expect(await r.runOnce(), 'a settled payment is never claimed again').to.deep.equal({ checked: 0, settled: 0 });
      expect(bank.calls).to.have.length(1);
      expect(notified).to.have.length(1);
    });

    it('opens the RESOLVE exchange in the audit before asking the bank, and completes it with the bank\'s answer and leg', async () => {
      const payment = await sent();
      now = RECEIVED + 60_000;
      bank.answerStatus(after(2_000, status('SUCCESS', { bankResponseCode: '00' })));
      await resolver().runOnce();

      const { row, body } = await onlyCheck(payment);
      expect(bank.callsOf('transfer-status')[0].seen, 'the check was in the audit, still open and without a bank leg, when the bank was asked').to.deep.equal([
        { id: row.id, outcome: 'in_progress', bankCalls: 0 },
      ]);
      expect(row.requestId).to.match(/^resolver-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row).to.deep.include({
        receivedAt: RECEIVED + 60_000,
        remoteIp: 'internal',
        origin: null,
        method: 'RESOLVE',
        path: `/internal/resolver/${payment.transactionId}`,
        clientId: CLIENT,
        transactionId: payment.transactionId,
        amount: '150000.00',
        requestHeaders: {},
        outcome: 'completed',
        statusCode: 200,
        errorCode: null,
        completedAt: RECEIVED + 62_000,
      });
      expect(JSON.parse(row.requestBody!)).to.deep.equal({ state: 'UNKNOWN', checkAttempts: 0, bankTransactionId: payment.bankTransactionId });
      expect(body).to.deep.equal({ bankStatus: 'SUCCESS', bankResponseCode: '00', settled: 'SUCCESS' });
      expect(row.bankCalls.map((c) => [c.operation, c.partner, c.requestId])).to.deep.equal([['transfer-status', bank.partner, row.requestId]]);
    });

    it('settles FAILED on the bank\'s final failed status, confirmed by the bank, keeping the reference it had', async () => {
      const payment = await sent({ state: 'PENDING', bankReference: 'KEPT-REF' });
      now = RECEIVED + HOUR;
      bank.answerStatus(status('FAILED', { bankResponseCode: '06', bankMessage: 'Rejected by beneficiary bank' }));
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 1 });
      const stored = await reread(payment);
      expect(stored).to.deep.include({ state: 'FAILED', httpStatus: 422, bankReference: 'KEPT-REF' });
      const result = JSON.parse(stored.resultJson!) as TransferResult;
      expect(result).to.deep.include({ status: 'FAILED', bankReference: 'KEPT-REF', bankResponseCode: '06', bankMessage: 'Rejected by beneficiary bank', failureConfirmedBy: 'BANK', evidence: null });
      expect(result.guidance).to.match(/^Not paid: the bank refused it or reported it failed/);
      expect(notified).to.deep.equal([{ clientId: CLIENT, result }]);
      expect(await lastCheckBody(payment)).to.deep.equal({ bankStatus: 'FAILED', bankResponseCode: '06', settled: 'FAILED' });
      expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
    });

    it('announces nothing when another process settled the payment while the bank was being asked', async () => {
      const payment = await sent();
      now = RECEIVED + HOUR;
      bank.answerStatus(async () => {
        // A bank notification (another process) settles it first.
        await store().payments.settle(payment.id, { state: 'FAILED', resultJson: JSON.stringify({ status: 'FAILED', by: 'notification' }), httpStatus: 422 }, now, payment);
        return status('SUCCESS');
      });
      // Settled by the other process, not by this pass: counted and audited as nothing stored.
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(await lastCheckBody(payment)).to.deep.include({ settled: null, notStored: 'SUCCESS' });
      const stored = await reread(payment);
      expect(stored.state, 'the first settlement stands').to.equal('FAILED');
      expect(JSON.parse(stored.resultJson!)).to.deep.equal({ status: 'FAILED', by: 'notification' });
      expect(notified, 'the ERP hears of it from whoever settled it, once').to.deep.equal([]);
      expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
    });

    it('keeps a transfer the bank reports not final PENDING without reading the statement, and asks again later', async () => {
      const payment = await sent({ state: 'UNKNOWN' });
      now = RECEIVED + HOUR;
      bank.answerStatus(status('PENDING', { bankResponseCode: '03' }));
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(bank.callsOf('statement')).to.deep.equal([]);
      expect(await reread(payment)).to.deep.include({ state: 'PENDING', checkAttempts: 1, notFoundCount: 0, nextCheckAt: now + 2_000, updatedAt: now, resultJson: payment.resultJson });
      expect(await lastCheckBody(payment)).to.deep.equal({ bankStatus: 'PENDING', bankResponseCode: '03', settled: null, unresolved: 'the bank reports it not final yet' });
      expect(notified).to.deep.equal([]);
      expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
    });
  });

  describe('when the bank does not know the transfer (NOT_FOUND)', () => {
    it('settles SUCCESS when one debit on the statement carries a reference of the transfer, kept as evidence', async () => {
      const payment = await sent({ state: 'PENDING', bankReference: 'PAY-REF' });
      now = DAY_CLOSED - 3 * HOUR;
      bank.answerStatus(status('NOT_FOUND', { bankResponseCode: 'ESB-82-024' }));
      bank.answerStatement([
        debit('150000.00', 'TRSF E-BANKING DB', { date: NEXT_DAY, reference: `0000 ${payment.bankTransactionId}` }),
        { date: DAY, type: 'CREDIT', amount: '150000.00', description: payment.transactionId },
      ]);
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 1 });
      expect(bank.callsOf('statement').map((c) => c.query)).to.deep.equal([{ accountNumber: SOURCE, from: DAY, to: NEXT_DAY }]);
      const line = `${NEXT_DAY} | DEBIT | 150000.00 | TRSF E-BANKING DB | 0000 ${payment.bankTransactionId}`;
      const result = await resultOf(payment);
      expect(result).to.deep.include({
        status: 'SUCCESS',
        bankReference: 'PAY-REF',
        bankResponseCode: 'ESB-82-024',
        bankMessage: "Executed: the debit is on the paying account's statement.",
        failureConfirmedBy: null,
        evidence: { kind: 'STATEMENT_LINE', detail: line, recordedBy: null, recordedAt: new Date(now).toISOString() },
      });
      expect(notified).to.deep.equal([{ clientId: CLIENT, result }]);
      expect(await lastCheckBody(payment)).to.deep.equal({
        bankStatus: 'NOT_FOUND',
        bankResponseCode: 'ESB-82-024',
        settled: 'SUCCESS',
        evidence: { kind: 'STATEMENT_LINE', detail: line, recordedBy: null, recordedAt: new Date(now).toISOString() },
      });
      const { row } = await onlyCheck(payment);
      expect(row.bankCalls.map((c) => c.operation), 'both legs audited under the check').to.deep.equal(['transfer-status', 'statement']);
    });

    it('settles FAILED, confirmed by the statement, when no debit is there when read at the bank\'s day close', async () => {
      const payment = await sent({ bankReference: 'SENT-REF' });
      now = DAY_CLOSED;
      bank.answerStatus(status('NOT_FOUND', { bankResponseCode: 'ESB-82-025' }));
      // Another payment's debit (another amount), a debit of this amount two days later, and a credit: none is this transfer's.
      bank.answerStatement([
        debit('150000.01', payment.transactionId),
        debit('150000.00', payment.transactionId, { date: '2026-11-22' }),
        { date: DAY, type: 'CREDIT', amount: '150000.00', description: payment.transactionId },
      ]);
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 1 });
      const stored = await reread(payment);
      expect(stored).to.deep.include({ state: 'FAILED', httpStatus: 422, bankReference: 'SENT-REF' });
      const detail = `No debit of 150000.00 on the statement of the paying account for ${DAY} and ${NEXT_DAY}, read ${new Date(DAY_CLOSED).toISOString()} (after the bank's day closed).`;
      const result = JSON.parse(stored.resultJson!) as TransferResult;
      expect(result).to.deep.include({
        status: 'FAILED',
        bankResponseCode: 'ESB-82-025',
        bankMessage: "Not executed: the bank does not know this transfer and the paying account's statement, read after the bank's day closed, shows no debit for it.",
        failureConfirmedBy: 'STATEMENT',
        evidence: { kind: 'STATEMENT_WITHOUT_DEBIT', detail, recordedBy: null, recordedAt: new Date(DAY_CLOSED).toISOString() },
      });
      expect(result.guidance).to.match(/^Not paid: the paying account's statement/);
      expect(notified).to.deep.equal([{ clientId: CLIENT, result }]);
      expect((await lastCheckBody(payment)).evidence).to.deep.include({ kind: 'STATEMENT_WITHOUT_DEBIT', detail });
    });

    it('stays UNKNOWN, counting the "not found", when no debit is there yet but the day has not closed (a millisecond before)', async () => {
      const payment = await sent({ state: 'PENDING' });
      now = DAY_CLOSED - 1;
      bank.answerStatus(status('NOT_FOUND'));
      bank.answerStatement([]);
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 1, notFoundCount: 1, reviewSince: null });
      expect(await lastCheckBody(payment)).to.deep.equal({
        bankStatus: 'NOT_FOUND',
        bankResponseCode: 'ESB-99-127',
        settled: null,
        unresolved: `no debit on the statement yet; it proves nothing before ${new Date(DAY_CLOSED).toISOString()} (the bank's day close)`,
      });
      expect(notified).to.deep.equal([]);
    });

    it('reads the transaction date alone while the next day has not begun, and never calls that proof', async () => {
      const payment = await sent();
      now = RECEIVED + 2 * HOUR;
      bank.answerStatus(status('NOT_FOUND'));
      bank.answerStatement([]);
      await resolver({ dayCloseWib: '00:00' }).runOnce();
      expect(bank.callsOf('statement').map((c) => c.query)).to.deep.equal([{ accountNumber: SOURCE, from: DAY, to: DAY }]);
      expect((await reread(payment)).state).to.equal('UNKNOWN');
      expect((await lastCheckBody(payment)).unresolved).to.equal(`no debit on the statement yet; it proves nothing before ${new Date(`${DAY}T17:00:00Z`).toISOString()} (the bank's day close)`);
    });

    it('never settles FAILED on "not found" alone, however often it is asked, while the statement proves nothing', async () => {
      const payment = await sent();
      const r = resolver();
      const unreadable = [
        new AppError('BANK_UNAVAILABLE', 'statement service down'),
        new AppError('BANK_REFUSED', 'period not allowed'),
        [debit('150000.00', 'TRSF VENDOR WITHOUT REFERENCE')],
        [debit('150000.00', `TRF ${payment.transactionId}`), debit('150000.00', `TRF ${payment.transactionId} CORR`, { date: NEXT_DAY })],
        [debit('150000.00', `TRF ${payment.transactionId}`, { pending: true, date: '2026-11-30' })],
      ];
      const reasons = [
        'statement inconclusive: no statement could be read (statement service down)',
        'statement inconclusive: no statement could be read (period not allowed)',
        "statement inconclusive: 1 debit(s) of 150000.00 without this transfer's reference",
        "statement inconclusive: 2 debits of 150000.00 carry this transfer's reference",
        "statement inconclusive: a pending debit of 150000.00 carries this transfer's reference (not booked yet)",
      ];
      for (const [i, statement] of unreadable.entries()) {
        now = DAY_CLOSED + (i + 1) * HOUR;
        bank.answerStatus(status('NOT_FOUND'));
        bank.answerStatement(statement);
        expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
        expect((await lastCheckBody(payment)).unresolved).to.equal(reasons[i]);
      }
      expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 5, notFoundCount: 5 });
      expect(notified).to.deep.equal([]);
    });

    it('asks nothing of the statement when the paying account is not recorded, and when the bank keeps no statement that old', async () => {
      const noAccount = await sent({ sourceAccount: null });
      now = DAY_CLOSED + HOUR;
      bank.answerStatus(status('NOT_FOUND'));
      await resolver().runOnce();
      expect((await lastCheckBody(noAccount)).unresolved).to.equal('statement inconclusive: the paying account is not recorded for this transfer, so its statement cannot be read');
      await park();

      // Until the end of 2026-12-20 (WIB) the bank's 31 days of statements still hold DAY; a millisecond later they do not.
      const old = await sent();
      now = Date.parse('2026-12-20T16:59:59.999Z');
      bank.answerStatus(status('NOT_FOUND'));
      bank.answerStatement([]);
      await resolver().runOnce();
      expect((await reread(old)).state, 'read on the 31st day: no debit, the day long closed').to.equal('FAILED');
      const older = await sent();
      now = Date.parse('2026-12-20T17:00:00Z');
      bank.answerStatus(status('NOT_FOUND'));
      await resolver().runOnce();
      expect((await reread(older)).state).to.equal('UNKNOWN');
      expect((await lastCheckBody(older)).unresolved).to.equal('statement inconclusive: the bank keeps statements 31 days only');
      expect(bank.callsOf('statement')).to.have.length(1);
    });

    it('leaves the payment untouched and the check open when the statement read fails otherwise, to try again', async () => {
      const payment = await sent();
      now = DAY_CLOSED + HOUR;
      bank.answerStatus(status('NOT_FOUND'));
      bank.answerStatement(new Error('socket hang up'));
      const r = resolver();
      expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 0, notFoundCount: 0, nextCheckAt: null });
      expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
      expect((await onlyCheck(payment)).row.outcome).to.equal('in_progress');
    });
  });

  describe('when the status inquiry cannot tell (UNKNOWN, or the bank unreachable)', () => {
    it('settles SUCCESS from the debit on the statement', async () => {
      const payment = await sent();
      now = DAY_CLOSED + HOUR;
      bank.answerStatus(status('UNKNOWN', { bankResponseCode: null }));
      bank.answerStatement([debit('-150000.00', `TRF ${payment.transactionId.toLowerCase()}`)]);
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 1 });
      expect((await resultOf(payment)).status).to.equal('SUCCESS');
    });

    it('never settles FAILED on a statement without the debit while the bank has not said it does not know the transfer', async () => {
      const payment = await sent();
      const r = resolver();
      now = DAY_CLOSED - HOUR;
      bank.answerStatus(status('NOT_FOUND'));
      bank.answerStatement([]);
      await r.runOnce();
      now = DAY_CLOSED + HOUR;
      bank.answerStatus(status('UNKNOWN', { bankResponseCode: 'ESB-14-006' }));
      bank.answerStatement([]);
      expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 2, notFoundCount: 1 });
      expect(await lastCheckBody(payment)).to.deep.equal({
        bankStatus: 'UNKNOWN',
        bankResponseCode: 'ESB-14-006',
        settled: null,
        unresolved: 'no debit on the statement, but the bank has not said it does not know the transfer',
      });
      expect(notified).to.deep.equal([]);
    });

    it('reads an unreachable bank\'s status as UNKNOWN: the statement decides, and nothing is FAILED', async () => {
      const payment = await sent();
      now = DAY_CLOSED + HOUR;
      bank.answerStatus(new AppError('BANK_UNAVAILABLE', 'connection refused'));
      bank.answerStatement([]);
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(await lastCheckBody(payment)).to.deep.equal({
        bankStatus: 'UNKNOWN',
        bankResponseCode: 'BANK_UNAVAILABLE',
        settled: null,
        unresolved: 'no debit on the statement, but the bank has not said it does not know the transfer',
      });
      expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 1, notFoundCount: 0 });
      await park();

      const executed = await sent();
      now += HOUR;
      bank.answerStatus(new AppError('BANK_UNAVAILABLE', 'connection refused'));
      bank.answerStatement([debit('150000.00', executed.transactionId)]);
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 1 });
      expect(await resultOf(executed)).to.deep.include({ status: 'SUCCESS', bankResponseCode: 'BANK_UNAVAILABLE' });
    });

    it('retries later, the payment untouched, the lease freed and the check left open, when the inquiry fails otherwise', async () => {
      const logs = captureLogs('error');
      try {
        for (const failure of [new AppError('BANK_REFUSED', 'refused'), new Error('unexpected answer')]) {
          const payment = await sent();
          now = RECEIVED + HOUR;
          bank.answerStatus(failure);
          const r = resolver();
          expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
          expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 0, notFoundCount: 0, nextCheckAt: null });
          expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
          expect((await onlyCheck(payment)).row.outcome).to.equal('in_progress');
          expect(logs.text()).to.contain('in-doubt check failed; it will be retried').and.contain(payment.transactionId);
          bank.answerStatus(status('PENDING'));
          expect(await r.runOnce(), 'asked again at once').to.deep.equal({ checked: 1, settled: 0 });
          await park();
        }
      } finally {
        logs.stop();
      }
    });
  });

  describe('the review queue', () => {
    it('puts a transfer still unproved reviewAfterMs after it was received into the review queue, not a millisecond earlier', async () => {
      const logs = captureLogs('warn');
      try {
        const payment = await sent();
        const younger = await sent({ at: RECEIVED + 1 });
        const r = resolver();
        now = RECEIVED + REVIEW_AFTER;
        bank.answerStatus(status('PENDING'), status('PENDING'));
        await r.runOnce();
        expect((await reread(younger)).reviewSince, 'received a millisecond later: not yet').to.equal(null);
        expect(await lastCheckBody(younger)).to.not.have.property('inReview');
        expect((await reread(payment)).reviewSince).to.equal(RECEIVED + REVIEW_AFTER);
        expect(await lastCheckBody(payment)).to.include({ inReview: true });
        expect((await store().payments.listInReview(1000)).map((p) => p.id)).to.include(payment.id);
        const warned = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'transfer still in doubt: put in the review queue for an admin to resolve with evidence');
        expect(warned.map(({ component, transactionId, reason }) => ({ component, transactionId, reason }))).to.deep.equal([
          { component: 'resolver', transactionId: payment.transactionId, reason: 'the bank reports it not final yet' },
        ]);

        now += HOUR;
        bank.answerStatus(status('PENDING'), status('PENDING'));
        await r.runOnce();
        expect((await reread(payment)).reviewSince, 'the first entry is kept').to.equal(RECEIVED + REVIEW_AFTER);
        expect(await lastCheckBody(payment)).to.include({ inReview: true });
      } finally {
        logs.stop();
      }
    });

    it('says a transfer already in the review queue is there, even before its own reviewAfterMs', async () => {
      const payment = await sent();
      await store().payments.enterReview(payment.id, RECEIVED + HOUR);
      now = RECEIVED + 2 * HOUR;
      bank.answerStatus(status('PENDING'));
      await resolver().runOnce();
      expect(await lastCheckBody(payment)).to.include({ inReview: true });
      expect((await reread(payment)).reviewSince).to.equal(RECEIVED + HOUR);
    });

    it('takes a transfer out of the review queue when it settles', async () => {
      const payment = await sent();
      await store().payments.enterReview(payment.id, RECEIVED + HOUR);
      now = RECEIVED + 2 * HOUR;
      bank.answerStatus(status('SUCCESS'));
      await resolver().runOnce();
      expect((await reread(payment)).reviewSince).to.equal(null);
      expect(await resultOf(payment)).to.not.have.property('reviewSince');
      expect(await lastCheckBody(payment)).to.not.have.property('inReview');
    });
  });

  describe('when no configured partner can be asked', () => {
    for (const [situation, over] of [
      ['its partner is no longer configured', { partner: 'gone-bank' }],
      ['it has no bank transaction id', { bankTransactionId: null }],
      ['it has no bank transaction date', { bankTransactionDate: null }],
    ] as const) {
      it(`reschedules it UNKNOWN without asking any bank or opening a check, and queues it for review when overdue (${situation})`, async () => {
        const logs = captureLogs('warn');
        try {
          const payment = await sent({ state: 'SENDING', ...over });
          const r = resolver();
          now = RECEIVED + HOUR;
          expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
          expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 1, notFoundCount: 0, nextCheckAt: now + 2_000, reviewSince: null });
          expect(await checks(payment.transactionId)).to.deep.equal([]);
          expect(bank.calls).to.deep.equal([]);
          expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
          expect(logs.text()).to.contain('no configured partner can be asked about this payment');

          now = RECEIVED + REVIEW_AFTER;
          await r.runOnce();
          expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 2, reviewSince: now });
          expect(logs.text()).to.contain('no configured partner can be asked about it');
        } finally {
          logs.stop();
        }
      });
    }
  });

  describe('the back-off', () => {
    it('doubles the wait from one second, and asks no earlier than the next check is due', async () => {
      const payment = await sent();
      const r = resolver({ intervalMs: 0 });
      now = RECEIVED + HOUR;
      for (const wait of [2_000, 4_000, 8_000, 16_000]) {
        bank.answerStatus(status('PENDING'));
        expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
        const { nextCheckAt } = await reread(payment);
        expect(nextCheckAt).to.equal(now + wait);
        now = nextCheckAt! - 1;
        expect(await r.runOnce(), 'not due yet').to.deep.equal({ checked: 0, settled: 0 });
        now = nextCheckAt!;
      }
      expect(bank.callsOf('transfer-status')).to.have.length(4);
    });

    it('doubles from the pass interval when it is longer than a second, up to maxBackoffMs', async () => {
      const payment = await sent();
      const r = resolver({ intervalMs: 1_500, maxBackoffMs: 10_000 });
      now = RECEIVED + HOUR;
      for (const wait of [3_000, 6_000, 10_000, 10_000]) {
        bank.answerStatus(status('PENDING'));
        await r.runOnce();
        expect((await reread(payment)).nextCheckAt! - now).to.equal(wait);
        now += wait;
      }
    });

    it('waits at most 15 minutes by default, and the doubling stops at 2^20 when a longer maximum is set', async () => {
      const payment = await sent();
      await store().db.execute('UPDATE payments SET check_attempts = ? WHERE id = ?', [24, payment.id]);
      now = RECEIVED + HOUR;
      bank.answerStatus(status('PENDING'));
      await resolver().runOnce();
      expect(await reread(payment)).to.deep.include({ checkAttempts: 25, nextCheckAt: now + 15 * 60_000 });
      now += 15 * 60_000;
      bank.answerStatus(status('PENDING'));
      await resolver({ maxBackoffMs: 10 ** 13 }).runOnce();
      expect(await reread(payment)).to.deep.include({ checkAttempts: 26, nextCheckAt: now + 1_000 * 2 ** 20 });
    });
  });

  describe('claims and leases', () => {
    it('claims a payment left SENDING (a process died mid-send) once untouched for sendingStaleMs, and never sends it again', async () => {
      const payment = await sent({ state: 'SENDING' });
      const r = resolver({ sendingStaleMs: 60_000 });
      now = RECEIVED + 60_000 - 1;
      expect(await r.runOnce()).to.deep.equal({ checked: 0, settled: 0 });
      now = RECEIVED + 60_000;
      bank.answerStatus(status('NOT_FOUND'));
      bank.answerStatement([]);
      expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', notFoundCount: 1, checkAttempts: 1 });
      expect(JSON.parse((await onlyCheck(payment)).row.requestBody!)).to.deep.include({ state: 'SENDING' });
    });

    it('never checks nor writes a payment in doubt whose row was changed in SQL: its history does not take the forged state in', async () => {
      const payment = await sent();
      // A database writer without the keys moves the bank id of a payment in doubt (where a status inquiry would look).
      await store().db.execute('UPDATE payments SET bank_transaction_id = ? WHERE id = ?', ['99999999', payment.id]);
      const events = async () => (await store().db.query<{ seq: number | string }>('SELECT seq FROM payment_events WHERE payment_id = ? ORDER BY seq', [payment.id])).map((row) => Number(row.seq));
      const before = await events();
      const logs = captureLogs('error');
      const r = resolver();
      try {
        now = RECEIVED + HOUR;
        expect(await r.runOnce()).to.deep.equal({ checked: 0, settled: 0 });
        expect(logs.text()).to.contain('payment in doubt changed outside Gerbang').and.contain(`payments id ${payment.id}`);
      } finally {
        logs.stop();
      }
      expect(await events(), 'no event appended over the forged row').to.deep.equal(before);
      // Said in the audit, once: internal work answered 500 AUDIT_INTEGRITY naming what was found, no bank leg.
      const [refusal, ...more] = await checks(payment.transactionId);
      expect(more).to.deep.equal([]);
      expect(refusal).to.deep.include({ statusCode: 500, errorCode: 'AUDIT_INTEGRITY', clientId: CLIENT });
      expect(refusal.bankCalls).to.deep.equal([]);
      expect(refusal.responseBody).to.contain(`payments id ${payment.id}`);
      // Held a day by the resolver that found it, so it is not named again every lease.
      expect(await lease(payment)).to.deep.equal({ owner: r.owner, until: RECEIVED + HOUR + REFUSED_PAYMENT_HOLD_MS });
      now = RECEIVED + HOUR + RESOLVER_LEASE_MS;
      expect(await resolver().runOnce()).to.deep.equal({ checked: 0, settled: 0 });
      expect(await checks(payment.transactionId)).to.have.length(1);
      const read = await store().payments.findById(payment.id).then(() => null, (error: Error) => error);
      expect(read?.name, 'still refused as forged').to.equal('IntegrityError');
      const byBank = await store().payments.findByBankTransaction(bank.partner, '99999999').then(() => null, (error: Error) => error);
      expect(byBank?.name, 'a bank notification finds it refused too').to.equal('IntegrityError');
    });

    it('holds the payment under its own lease of RESOLVER_LEASE_MS while it checks it', async () => {
      const payment = await sent();
      const r = resolver();
      now = RECEIVED + HOUR;
      let held: unknown;
      bank.answerStatus(async () => {
        held = await lease(payment);
        return status('PENDING');
      });
      await r.runOnce();
      expect(RESOLVER_LEASE_MS).to.equal(15_000);
      expect(held).to.deep.equal({ owner: r.owner, until: RECEIVED + HOUR + 15_000 });
      expect(r.owner).to.match(new RegExp(`^[^:]{1,30}:${process.pid}:[0-9a-f]{8}$`));
      expect(r.owner.startsWith(`${hostname().slice(0, 30)}:`)).to.equal(true);
      expect(resolver().owner, 'each resolver its own owner').to.not.equal(r.owner);
    });

    it('renews the lease every third of it while a check takes long, and no longer once the pass is over', async () => {
      const payment = await sent();
      const r = resolver({ leaseMs: 300 });
      now = RECEIVED + HOUR;
      let renewed = false;
      bank.answerStatus(async () => {
        now += 10_000;
        // Renewals come every 100 ms of real time; a lease renewed at a third of it is seen well within 600 ms.
        const deadline = Date.now() + 600;
        while (Date.now() < deadline && !renewed) {
          renewed = (await lease(payment)).until === now + 300;
          if (!renewed) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return status('PENDING');
      });
      await r.runOnce();
      expect(renewed, 'the lease was extended from the clock of the moment').to.equal(true);
      expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
    });

    it('claims at most batchSize payments a pass, the oldest first', async () => {
      const first = await sent();
      const second = await sent();
      now = RECEIVED + HOUR;
      bank.answerStatus(status('PENDING'), status('PENDING'));
      expect(await resolver({ batchSize: 1 }).runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect((await reread(first)).checkAttempts).to.equal(1);
      expect((await reread(second)).checkAttempts).to.equal(0);
      expect(await resolver().runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect((await reread(second)).checkAttempts).to.equal(1);
    });

    it('a stopped resolver asks nothing and frees the payments it claimed', async () => {
      const payment = await sent();
      const r = resolver();
      await r.stop();
      now = RECEIVED + HOUR;
      expect(await r.runOnce()).to.deep.equal({ checked: 1, settled: 0 });
      expect(bank.calls).to.deep.equal([]);
      expect(await lease(payment)).to.deep.equal({ owner: null, until: null });
      expect(await reread(payment)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 0, nextCheckAt: null });
      expect(await checks(payment.transactionId)).to.deep.equal([]);
    });

    it('stopped in the middle of a pass, finishes the check in progress and frees the rest', async () => {
      const first = await sent();
      const second = await sent();
      const r = resolver();
      now = RECEIVED + HOUR;
      let stopping: Promise<void> | undefined;
      bank.answerStatus(async () => {
        stopping = r.stop();
        return status('SUCCESS');
      });
      expect(await r.runOnce()).to.deep.equal({ checked: 2, settled: 1 });
      await stopping;
      expect((await reread(first)).state).to.equal('SUCCESS');
      expect(await reread(second)).to.deep.include({ state: 'UNKNOWN', checkAttempts: 0 });
      expect(await lease(second)).to.deep.equal({ owner: null, until: null });
      expect(bank.callsOf('transfer-status')).to.have.length(1);
    });

    it('started, checks by itself every intervalMs; stop() waits for the pass in progress', async () => {
      const payment = await sent();
      now = RECEIVED + HOUR;
      const r = resolver({ intervalMs: 20 });
      let answer: (outcome: StatusOutcome) => void = () => undefined;
      let asked: () => void = () => undefined;
      const wasAsked = new Promise<void>((resolve) => (asked = resolve));
      bank.answerStatus(
        () =>
          new Promise<StatusOutcome>((resolve) => {
            answer = resolve;
            asked();
          }),
      );
      r.start();
      await wasAsked;
      let stopped = false;
      const stopping = r.stop().then(() => (stopped = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stopped, 'stop() waits while the bank is being asked').to.equal(false);
      answer(status('SUCCESS'));
      await stopping;
      expect((await reread(payment)).state).to.equal('SUCCESS');
      expect(notified).to.have.length(1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(bank.calls, 'no pass after stop()').to.have.length(1);
    });
  });
});
