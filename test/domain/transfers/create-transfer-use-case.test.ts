import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecentClients } from '../../../src/pipeline/auth/index.js';
import { AuditScrub, InternalAuditTrail } from '../../../src/audit/index.js';
import type { BankCallContext, TransferOutcome } from '../../../src/banks/types.js';
import type { FinalStateNotifier } from '../../../src/domain/callbacks/index.js';
import { BankRouter } from '../../../src/domain/routing/index.js';
import { createTransfer, type CreateTransferDeps, type TransferReply } from '../../../src/domain/transfers/create-transfer-use-case.js';
import { TAKEOVER_PROOF_LINKS } from '../../../src/domain/transfers/left-behind.js';
import { requestHash } from '../../../src/domain/transfers/request-hash.js';
import { BankIdBlocks } from '../../../src/domain/transfers/bank-transaction-id.js';
import type { TransferResult } from '../../../src/domain/transfers/transfer-result.js';
import type { TransferRequest } from '../../../src/domain/transfers/transfer-schema.js';
import { AppError, type IntegrityError } from '../../../src/errors/index.js';
import { InDoubtResolver } from '../../../src/domain/transfers/in-doubt-resolver.js';
import { withAuditFailureCount } from '../../../src/metrics/index.js';
import { AuditSpool, createStore, withAuditSpool } from '../../../src/store/index.js';
import { UniqueViolationError, type AuditRepository, type PaymentRepository } from '../../../src/store/types.js';
import { TEST_AUDIT_KEYS } from '../../support/audit-keys.js';
import { countingSessions } from '../../support/counting-db.js';
import { forEachBackend } from '../../support/databases.js';
import { captureLogs } from '../../support/log-capture.js';
import { ScriptedBank, type ScriptedCall, type TransferOrder } from '../../support/scripted-bank.js';

/**
 * The transfer use case on its own (createTransfer(), as the HTTP route and the batch processor
 * call it), on the real store, with the real audit of background work (InternalAuditTrail) and a
 * BankRouter whose partners are scripted in-process banks (test/support/scripted-bank.ts). Two
 * connections hold the paying account at the same bank (main, then backup), so a route the main
 * one cannot take falls back to the backup. Every transfer call records what the store held at
 * that moment: the payment's row and the audit's exchanges of the transaction.
 * (test/component/transfers*.test.ts run the same through a whole gateway and the simulator.)
 */
forEachBackend('createTransfer', (db) => {
  /** 10:00 WIB on 2026-11-20. */
  const T0 = Date.parse('2026-11-20T03:00:00Z');
  const DAY = '2026-11-20';
  const SOURCE = '0201245680';
  /** Held by the main connection only: nothing to fall back to. */
  const SOLE = '0201245681';
  const LIMITS = { bifastMaxCents: 25_000_000, onlineMaxCents: 2_500_000_000, sknMaxCents: 50_000_000_000, rtgsMinCents: 10_000_000 };

  let now = T0;
  let serial = 0;
  let client = '';
  let main: ScriptedBank;
  let backup: ScriptedBank;
  let notified: { clientId: string; result: TransferResult }[];
  const finals: FinalStateNotifier = { notify: async (clientId, result) => void notified.push({ clientId, result }) };
  const store = () => db.store();

  /** What the store held when a transfer reached the bank: the payment and the transaction's audit exchanges. */
  const witness = async (operation: ScriptedCall['operation'], query: unknown) => {
    const order = query as TransferOrder;
    const payment = await store().payments.find(client, order.referenceId);
    const exchanges = await store().audit.list({ transactionId: order.referenceId });
    return {
      payment: payment && { state: payment.state, bank: payment.bank, operation: payment.operation, bankTransactionId: payment.bankTransactionId, bankTransactionDate: payment.bankTransactionDate },
      exchanges: exchanges.map((row) => ({ method: row.method, clientId: row.clientId, outcome: row.outcome })),
      operation,
    };
  };

  beforeEach(async () => {
    serial += 1;
    now = T0;
    notified = [];
    client = `erp-transfer-${serial}`;
    main = new ScriptedBank(`main-${serial}`, witness);
    backup = new ScriptedBank(`backup-${serial}`, witness);
    await store().accountGrants.grant(client, SOURCE, now);
    await store().accountGrants.grant(client, SOLE, now);
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'passed') return;
    expect(main.unused(), 'every scripted answer of main was asked for').to.deep.equal({ statuses: 0, statements: 0, transfers: 0 });
    expect(backup.unused(), 'every scripted answer of backup was asked for').to.deep.equal({ statuses: 0, statements: 0, transfers: 0 });
  });

  function deps(payments: PaymentRepository = store().payments): CreateTransferDeps {
    const router = new BankRouter(
      [
        { name: backup.partner, bic: 'CENAIDJA', priority: 2, accounts: [SOURCE], idNamespace: `CENAIDJA:${backup.partner}`, idFormat: 'legacy', adapter: backup },
        { name: main.partner, bic: 'CENAIDJA', priority: 1, accounts: [SOURCE, SOLE], idNamespace: `CENAIDJA:${main.partner}`, idFormat: 'legacy', adapter: main },
      ],
      LIMITS,
    );
    return { payments, sequences: store().sequences, accountGrants: store().accountGrants, router, clock: () => now, finals, checkpoints: async () => null, vouched: () => async () => null };
  }

  let invoices = 0;
  /** An on-us transfer from SOURCE; `over` changes or adds fields. */
  const onUs = (over: Partial<TransferRequest> = {}): TransferRequest => ({
    transactionId: `INV-${serial}-${(invoices += 1)}`,
    sourceAccountNumber: SOURCE,
    beneficiaryBankCode: 'CENAIDJA',
    beneficiaryAccountNumber: '0201245699',
    amount: '150000.00',
    currency: 'IDR',
    ...over,
  });
  /** A transfer to BRI (interbank: BI-FAST for this amount, online switching after a BI-FAST refusal). */
  const toBri = (over: Partial<TransferRequest> = {}): TransferRequest => onUs({ beneficiaryBankCode: 'BRINIDJA', beneficiaryAccountNumber: '001234567890123', beneficiaryName: 'PT Vendor Jaya', ...over });

  /** Runs the use case as the batch processor does: its own exchange audit for the request, completed with the answer. */
  async function pay(request: TransferRequest, d: CreateTransferDeps = deps()): Promise<TransferReply> {
    const audit = new InternalAuditTrail(store().audit, { method: 'TEST', path: `/test/transfers/${request.transactionId}`, requestBody: request }, () => now);
    try {
      const reply = await createTransfer(d, request, { clientId: client, audit });
      await audit.finish(reply.httpStatus, reply.result);
      return reply;
    } catch (error) {
      await audit.finish(error instanceof AppError ? error.status : 500, { error: (error as Error).message });
      throw error;
    }
  }

  async function refused(request: TransferRequest, d?: CreateTransferDeps): Promise<AppError> {
    try {
      await pay(request, d);
    } catch (error) {
      expect(error).to.be.instanceOf(AppError);
      return error as AppError;
    }
    expect.fail('expected createTransfer to refuse');
  }

  /** The error createTransfer throws, whatever it is (one that is not the gateway's own). */
  async function thrown(request: TransferRequest, d?: CreateTransferDeps): Promise<Error> {
    try {
      await pay(request, d);
    } catch (error) {
      return error as Error;
    }
    expect.fail('expected createTransfer to throw');
  }

  const outcome = (status: TransferOutcome['status'], over: Partial<TransferOutcome> = {}): TransferOutcome => ({
    status,
    bankReference: status === 'SUCCESS' ? `REF-${serial}` : null,
    bankResponseCode: status === 'FAILED' ? 'ESB-82-001' : '00',
    bankMessage: status === 'FAILED' ? 'Account closed' : 'OK',
    ...over,
  });
  const unavailable = (reason?: 'BIFAST_UNAVAILABLE') =>
    new AppError('BANK_UNAVAILABLE', 'The bank could not take the transfer; nothing was executed.', reason ? { extensions: { reason } } : {});
  /** A bank that was never reached: it throws before any exchange is reported. */
  const unreachable = (message = 'connect ECONNREFUSED') => async (): Promise<TransferOutcome> => {
    throw new Error(message);
  };
  const payment = (transactionId: string) => store().payments.find(client, transactionId);
  const exchanges = (transactionId: string) => store().audit.list({ transactionId });

  it('commits the exchange to the audit and the payment as SENDING under the bank id it sends, before the bank is called', async () => {
    main.answerTransfer(outcome('SUCCESS'));
    const request = onUs({ remark: 'Invoice 2026-11 for the vendor May', beneficiaryEmail: 'ap@vendor.example' });
    const reply = await pay(request);

    const [call] = main.transfersSent();
    const order = call.query as TransferOrder;
    expect(call.operation).to.equal('transfer-intrabank');
    expect(order).to.include({ referenceId: request.transactionId, sourceAccountNumber: SOURCE, beneficiaryAccountNumber: '0201245699', amount: '150000.00', currency: 'IDR', transactionDate: DAY });
    expect(order.bankTransactionId).to.match(/^\d{8}$/);
    expect(order).to.include({ remark1: 'Invoice 2026-11 fo', remark2: 'r the vendor May', beneficiaryEmail: 'ap@vendor.example' });
    expect(call.seen).to.deep.equal({
      payment: { state: 'SENDING', bank: main.partner, operation: 'transfer-intrabank', bankTransactionId: order.bankTransactionId, bankTransactionDate: DAY },
      exchanges: [{ method: 'TEST', clientId: client, outcome: 'in_progress' }],
      operation: 'transfer-intrabank',
    });

    expect(reply.httpStatus).to.equal(201);
    expect(reply.replayed).to.equal(false);
    expect(reply.result).to.include({ transactionId: request.transactionId, status: 'SUCCESS', bank: main.partner, bankReference: `REF-${serial}`, amount: '150000.00' });
    expect(reply.result.routing).to.have.length(1);
    expect(reply.result.routing![0]).to.include({ partner: main.partner, method: 'INTRABANK', result: 'sent' });
    const stored = (await payment(request.transactionId))!;
    expect(stored).to.include({ state: 'SUCCESS', httpStatus: 201, bankReference: `REF-${serial}`, bankTransactionId: order.bankTransactionId });
    expect(JSON.parse(stored.resultJson!)).to.deep.equal(reply.result);
    // The bank's exchange hangs off the committed exchange.
    const [exchange] = await exchanges(request.transactionId);
    expect(exchange.bankCalls.map((leg) => leg.operation)).to.deep.equal(['transfer-intrabank']);
    expect(notified).to.deep.equal([{ clientId: client, result: reply.result }]);
    expect(backup.calls).to.deep.equal([]);
  });

  it('commits the exchange\'s audit record and the reservation in one chain group: one writer, one moment, consecutive links', async () => {
    // The grants and bank ids as the API takes them (RecentClients, BankIdBlocks), warmed by a first
    // transfer: then both come from memory.
    const d = { ...deps(), accountGrants: new RecentClients(store(), 60_000, () => now), sequences: new BankIdBlocks(store().sequences) };
    main.answerTransfer(outcome('SUCCESS'));
    main.answerTransfer(outcome('SUCCESS'));
    await pay(onUs(), d);
    const request = onUs();
    await pay(request, d);
    const [exchange] = await exchanges(request.transactionId);
    const reserved = (await payment(request.transactionId))!;
    type Link = { writer_id: string; seq: number | string; recorded_at: number | string };
    const [opened] = await store().db.query<Link>("SELECT writer_id, seq, recorded_at FROM audit_chain WHERE kind = 'open' AND record_id = ?", [exchange.id]);
    const [reservation] = await store().db.query<Link>(
      "SELECT c.writer_id, c.seq, c.recorded_at FROM audit_chain c JOIN payment_events e ON e.id = c.record_id WHERE c.kind = 'payment_event' AND e.payment_id = ? AND e.seq = 1",
      [reserved.id],
    );
    expect(reservation.writer_id).to.equal(opened.writer_id);
    expect(Number(reservation.recorded_at)).to.equal(Number(opened.recorded_at));
    expect(Number(reservation.seq)).to.equal(Number(opened.seq) + 1);
  });

  it('completes the exchange\'s audit record with its answer beside the outcome, in one chain group, before the answer is returned', async () => {
    const d = { ...deps(), accountGrants: new RecentClients(store(), 60_000, () => now), sequences: new BankIdBlocks(store().sequences) };
    main.answerTransfer(outcome('SUCCESS'));
    const request = onUs();
    const audit = new InternalAuditTrail(store().audit, { method: 'TEST', path: `/test/transfers/${request.transactionId}`, requestBody: request }, () => now);
    const reply = await createTransfer(d, request, { clientId: client, audit });
    // Nobody has called finish(): the use case completed the record with the answer it returns.
    const [exchange] = await exchanges(request.transactionId);
    expect(exchange).to.include({ outcome: 'completed', statusCode: 201 });
    expect(JSON.parse(exchange.responseBody!)).to.deep.equal(JSON.parse(JSON.stringify(reply.result)));
    await audit.finish(reply.httpStatus, reply.result);
    expect(await exchanges(request.transactionId), 'finishing again writes nothing more').to.have.length(1);
    type Link = { writer_id: string; seq: number | string; recorded_at: number | string };
    const [completed] = await store().db.query<Link>("SELECT writer_id, seq, recorded_at FROM audit_chain WHERE kind = 'complete' AND record_id = ?", [exchange.id]);
    const [settled] = await store().db.query<Link>(
      "SELECT c.writer_id, c.seq, c.recorded_at FROM audit_chain c JOIN payment_events e ON e.id = c.record_id WHERE c.kind = 'payment_event' AND e.payment_id = ? AND e.seq = 2",
      [(await payment(request.transactionId))!.id],
    );
    expect(completed.writer_id).to.equal(settled.writer_id);
    expect(Number(completed.recorded_at)).to.equal(Number(settled.recorded_at));
    expect(Number(completed.seq)).to.equal(Number(settled.seq) + 1);
  });

  type Link = { writer_id: string; seq: number | string; recorded_at: number | string };
  /** The chain links of a transfer's bank leg (not the token's), its outcome (event 2) and its exchange's completion. */
  async function legOutcomeCompletion(transactionId: string): Promise<Link[]> {
    const [exchange] = await exchanges(transactionId);
    const q = store().db;
    const [leg] = await q.query<Link>(
      "SELECT c.writer_id, c.seq, c.recorded_at FROM audit_chain c JOIN audit_bank_calls b ON b.id = c.record_id WHERE c.kind = 'bank_call' AND b.exchange_id = ? AND b.operation LIKE 'transfer%'",
      [exchange.id],
    );
    const [outcome] = await q.query<Link>(
      "SELECT c.writer_id, c.seq, c.recorded_at FROM audit_chain c JOIN payment_events e ON e.id = c.record_id WHERE c.kind = 'payment_event' AND e.payment_id = ? AND e.seq = 2",
      [(await payment(transactionId))!.id],
    );
    const [completion] = await q.query<Link>("SELECT writer_id, seq, recorded_at FROM audit_chain WHERE kind = 'complete' AND record_id = ?", [exchange.id]);
    return [leg, outcome, completion];
  }

  it('commits the transfer\'s bank leg, its outcome and the exchange\'s completion in one chain transaction after the bank answered', async () => {
    // The suite's database, through a store whose chain transactions are counted.
    const { db: counting, transactions } = countingSessions(store().db);
    const counted = createStore(counting, { auditKeys: TEST_AUDIT_KEYS });
    let whenAnswered = -1;
    main.answerTransfer(async () => {
      whenAnswered = transactions();
      return outcome('SUCCESS');
    });
    const request = onUs();
    const audit = new InternalAuditTrail(counted.audit, { method: 'TEST', path: `/test/transfers/${request.transactionId}`, requestBody: request }, () => now);
    const reply = await createTransfer(deps(counted.payments), request, { clientId: client, audit });
    expect(reply).to.include({ httpStatus: 201, replayed: false });
    expect(transactions() - whenAnswered, 'the leg, the outcome and the completion: one transaction').to.equal(1);
    const [leg, settled, completed] = await legOutcomeCompletion(request.transactionId);
    expect([settled.writer_id, completed.writer_id]).to.deep.equal([leg.writer_id, leg.writer_id]);
    expect([Number(settled.recorded_at), Number(completed.recorded_at)]).to.deep.equal([Number(leg.recorded_at), Number(leg.recorded_at)]);
    expect([Number(settled.seq), Number(completed.seq)]).to.deep.equal([Number(leg.seq) + 1, Number(leg.seq) + 2]);
    expect((await payment(request.transactionId))!).to.include({ state: 'SUCCESS', httpStatus: 201 });
  });

  const rename = (from: string, to: string) => store().db.execute(db.backend === 'sqlite' ? `ALTER TABLE ${from} RENAME TO ${to}` : `RENAME TABLE ${from} TO ${to}`);

  it('stores and answers a transfer in doubt, never as the bank said, when the database refuses its bank leg; the resolver settles it later', async () => {
    // The bank executes the transfer; meanwhile the table its leg goes to is gone (and this
    // audit has no spool), so the leg cannot be recorded, while the outcome's write would succeed.
    main.answerTransfer(async () => {
      await rename('audit_bank_calls', 'audit_bank_calls_away');
      return outcome('SUCCESS');
    });
    const request = onUs();
    const refusals: string[] = [];
    const counted = withAuditFailureCount(store().audit, (operation) => void refusals.push(operation));
    const audit = new InternalAuditTrail(counted, { method: 'TEST', path: `/test/transfers/${request.transactionId}`, requestBody: request }, () => now);
    let reply: TransferReply;
    try {
      reply = await createTransfer(deps(), request, { clientId: client, audit });
    } finally {
      await rename('audit_bank_calls_away', 'audit_bank_calls').catch(() => undefined);
    }
    expect(reply).to.include({ httpStatus: 202, replayed: false });
    expect(reply.result.status).to.equal('UNKNOWN');
    expect(refusals, 'the leg\'s refusal counted; the completion not written for it is not a refusal of the store').to.deep.equal(['bank_call']);
    const stored = (await payment(request.transactionId))!;
    expect(stored).to.include({ state: 'UNKNOWN', httpStatus: 202 });
    const history = await store().db.query<{ state: string }>('SELECT state FROM payment_events WHERE payment_id = ? ORDER BY seq', [stored.id]);
    expect(history.map((event) => event.state), 'never stored as the bank said').to.deep.equal(['SENDING', 'UNKNOWN']);
    const [exchange] = await exchanges(request.transactionId);
    expect(exchange).to.include({ outcome: 'completed', statusCode: 202 });
    expect(JSON.parse(exchange.responseBody!).status, 'the completion holds the answer given').to.equal('UNKNOWN');
    expect(notified, 'no final callback').to.deep.equal([]);
    expect(main.transfersSent()).to.have.length(1);

    // The status inquiry settles it, as any transfer in doubt (asked of the same partner).
    const inquired = new ScriptedBank(main.partner).answerStatus({ status: 'SUCCESS', bankReference: `REF-${serial}`, bankResponseCode: '00', bankMessage: 'OK' });
    const router = new BankRouter([{ name: main.partner, bic: 'CENAIDJA', priority: 1, accounts: [SOURCE], idNamespace: `CENAIDJA:${main.partner}`, idFormat: 'legacy', adapter: inquired }], LIMITS);
    const resolver = new InDoubtResolver(
      { payments: store().payments, audit: store().audit, router, clock: () => now, finals },
      { intervalMs: 0, sendingStaleMs: 60_000, dayCloseWib: '06:00', reviewAfterMs: 3_600_000 },
    );
    await resolver.runOnce();
    expect((await payment(request.transactionId))!).to.include({ state: 'SUCCESS' });
    expect(notified.map((n) => n.result.status)).to.deep.equal(['SUCCESS']);
    expect(main.transfersSent().length + inquired.transfersSent().length, 'never sent again').to.equal(1);
    expect(inquired.unused().statuses).to.equal(0);
  });

  it('stores and answers the bank\'s outcome when the database refuses its bank leg and the spool takes it, as when the database is down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-leg-spool-'));
    const spool = new AuditSpool(dir, db.url(), TEST_AUDIT_KEYS);
    main.answerTransfer(async () => {
      await rename('audit_bank_calls', 'audit_bank_calls_away');
      return outcome('SUCCESS');
    });
    const request = onUs();
    const audit = new InternalAuditTrail(withAuditSpool(store().audit, spool), { method: 'TEST', path: `/test/transfers/${request.transactionId}`, requestBody: request }, () => now);
    let reply: TransferReply;
    try {
      reply = await createTransfer(deps(), request, { clientId: client, audit });
    } finally {
      await rename('audit_bank_calls_away', 'audit_bank_calls').catch(() => undefined);
    }
    try {
      expect(reply).to.include({ httpStatus: 201, replayed: false });
      expect((await payment(request.transactionId))!).to.include({ state: 'SUCCESS', httpStatus: 201 });
      expect(notified.map((n) => n.result.status)).to.deep.equal(['SUCCESS']);
      // The completion, refused beside the leg, was written again on its own: the answer given.
      const [exchange] = await exchanges(request.transactionId);
      expect(exchange).to.include({ outcome: 'completed', statusCode: 201 });
      expect(exchange.bankCalls, 'the leg is in the spool, not the database').to.have.length(0);
      expect(spool.backlog()).to.equal(1);
      expect(await spool.replay(store().audit)).to.equal(1);
      const [replayed] = await exchanges(request.transactionId);
      expect(replayed.bankCalls.map((call) => call.operation)).to.deep.equal(['transfer-intrabank']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends the interbank fields of the request as the bank wants them', async () => {
    main.answerTransfer(outcome('SUCCESS'));
    const request = toBri({ beneficiaryBankCode: '002', beneficiaryCustomerType: 'COMPANY', beneficiaryResident: false, beneficiaryAddress: 'Jl. Sudirman 1', purposeCode: '02', remark: '  short  ' });
    await pay(request);
    const [call] = main.transfersSent();
    expect(call.operation).to.equal('transfer-interbank');
    expect(call.query).to.include({ method: 'BIFAST', beneficiaryBankCode: 'BRINIDJA', beneficiaryName: 'PT Vendor Jaya', beneficiaryCustomerType: '2', beneficiaryCustomerResidence: '2', beneficiaryAddress: 'Jl. Sudirman 1', purposeCode: '02', remark1: 'short', remark2: '' });

    main.answerTransfer(outcome('SUCCESS'));
    await pay(toBri({ beneficiaryCustomerType: 'PERSON', beneficiaryResident: true }));
    expect(main.transfersSent()[1].query).to.include({ beneficiaryCustomerType: '1', beneficiaryCustomerResidence: '1', remark1: '', remark2: '' });
    main.answerTransfer(outcome('SUCCESS'));
    await pay(toBri({ beneficiaryCustomerType: 'GOVERNMENT' }));
    const third = main.transfersSent()[2].query as Record<string, unknown>;
    expect(third.beneficiaryCustomerType).to.equal('3');
    expect(third.beneficiaryCustomerResidence).to.equal(undefined);
  });

  it('answers a resend with the stored answer, a changed payload 422 naming transactionId, and never sends it again', async () => {
    main.answerTransfer(outcome('SUCCESS'));
    const request = onUs();
    const first = await pay(request);
    now += 60_000;

    const again = await pay({ ...request });
    expect(again).to.deep.equal({ httpStatus: 201, result: first.result, replayed: true });

    const changed = await refused({ ...request, amount: '150000.01' });
    expect(changed.code).to.equal('IDEMPOTENCY_MISMATCH');
    expect(changed.status).to.equal(422);
    expect(changed.fields).to.deep.equal([{ field: 'transactionId', message: 'already used with a different payload' }]);
    expect(main.transfersSent()).to.have.length(1);
    expect(notified).to.have.length(1);
    // Each attempt has its own exchange in the audit, the refused one included.
    expect(await exchanges(request.transactionId)).to.have.length(3);
  });

  it('answers 409 to a resend while the first is with the bank', async () => {
    const request = onUs();
    let inFlight: AppError | null = null;
    main.answerTransfer(async () => {
      inFlight = await refused({ ...request });
      return outcome('SUCCESS');
    });
    const reply = await pay(request);
    expect(reply.httpStatus).to.equal(201);
    expect(inFlight).to.be.instanceOf(AppError);
    expect(inFlight!.code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    expect(inFlight!.status).to.equal(409);
    expect(inFlight!.headers).to.deep.equal({ 'Retry-After': '1' });
    expect(main.transfersSent()).to.have.length(1);
  });

  it('keeps a FAILED answer final (422, the ERP told once) and a PENDING one in doubt (202, no callback yet)', async () => {
    main.answerTransfer(outcome('FAILED'), outcome('PENDING'));
    const failed = await pay(onUs());
    expect(failed.httpStatus).to.equal(422);
    expect(failed.result).to.include({ status: 'FAILED', bankResponseCode: 'ESB-82-001' });
    expect((await payment(failed.result.transactionId))!.state).to.equal('FAILED');
    expect(notified.map((n) => n.result.status)).to.deep.equal(['FAILED']);

    const pending = await pay(onUs());
    expect(pending.httpStatus).to.equal(202);
    expect((await payment(pending.result.transactionId))!).to.include({ state: 'PENDING', httpStatus: 202 });
    expect(notified).to.have.length(1);
  });

  it('keeps a transfer UNKNOWN after an error past sending, and never sends it again, nor through another route', async () => {
    const request = onUs();
    main.answerTransfer(new Error('socket hang up'));
    const reply = await pay(request);
    expect(reply.httpStatus).to.equal(202);
    expect(reply.result).to.include({ status: 'UNKNOWN', bankReference: null, bankResponseCode: null });
    const stored = (await payment(request.transactionId))!;
    expect(stored.state).to.equal('UNKNOWN');
    expect(notified).to.deep.equal([]);

    now += 60_000;
    const again = await pay(request);
    expect(again.replayed).to.equal(true);
    expect(again.result.status).to.equal('UNKNOWN');
    expect(main.transfersSent()).to.have.length(1);
    expect(backup.calls).to.deep.equal([]);
    expect((await payment(request.transactionId))!.bankTransactionId).to.equal(stored.bankTransactionId);
  });

  it('answers a resend of a transfer cut off in doubt (no answer stored) with the doubt, 202, and 409 while it is only SENDING', async () => {
    const request = onUs();
    const hash = requestHash(request);
    const row = await store().payments.reserve({ clientId: client, transactionId: request.transactionId, requestHash: hash, amount: request.amount, currency: 'IDR', sourceAccount: SOURCE }, now);
    await store().payments.update(row.id, { state: 'SENDING', bank: main.partner, operation: 'transfer-intrabank', bankTransactionId: '00000042', bankTransactionDate: DAY }, now);
    now += 60_000;
    expect((await refused(request)).code).to.equal('IDEMPOTENCY_IN_FLIGHT');

    await store().payments.update(row.id, { state: 'UNKNOWN' }, now);
    const reply = await pay(request);
    expect(reply.replayed).to.equal(true);
    expect(reply.httpStatus).to.equal(202);
    expect(reply.result).to.include({ transactionId: request.transactionId, status: 'UNKNOWN' });

    await store().payments.update(row.id, { state: 'PENDING' }, now);
    const pending = await pay(request);
    expect(pending).to.include({ replayed: true, httpStatus: 202 });
    expect(pending.result.status).to.equal('PENDING');
    expect(main.calls).to.deep.equal([]);
  });

  it('falls back to the next connection under a fresh bank id when the first certainly did not take the transfer', async () => {
    const request = onUs();
    main.answerTransfer(unavailable());
    backup.answerTransfer(outcome('SUCCESS'));
    const reply = await pay(request);

    const mainOrder = main.transfersSent()[0].query as TransferOrder;
    const [backupCall] = backup.transfersSent();
    const backupOrder = backupCall.query as TransferOrder;
    // Each connection has its own id counter (its corporate id): the backup's id was issued for it, after the main one's.
    expect(mainOrder.bankTransactionId).to.match(/^\d{8}$/);
    expect(backupOrder.bankTransactionId).to.match(/^\d{8}$/);
    expect((backupCall.seen as { payment: unknown }).payment).to.deep.equal({ state: 'SENDING', bank: backup.partner, operation: 'transfer-intrabank', bankTransactionId: backupOrder.bankTransactionId, bankTransactionDate: DAY });
    expect(reply.httpStatus).to.equal(201);
    expect(reply.result.bank).to.equal(backup.partner);
    expect(reply.result.routing!.map((r) => [r.partner, r.result])).to.deep.equal([
      [main.partner, 'not sent: The bank could not take the transfer; nothing was executed.'],
      [backup.partner, 'sent'],
    ]);
    expect((await payment(request.transactionId))!).to.include({ state: 'SUCCESS', bank: backup.partner, bankTransactionId: backupOrder.bankTransactionId });
    expect(notified).to.have.length(1);
  });

  it('releases the reservation when no route took the transfer, so a resend pays it', async () => {
    const request = onUs({ sourceAccountNumber: SOLE });
    main.answerTransfer(unavailable());
    const error = await refused(request);
    expect(error.code).to.equal('BANK_UNAVAILABLE');
    expect(await payment(request.transactionId)).to.equal(null);

    main.answerTransfer(outcome('SUCCESS'));
    const reply = await pay(request);
    expect(reply).to.include({ httpStatus: 201, replayed: false });
    const [first, second] = main.transfersSent().map((call) => (call.query as TransferOrder).bankTransactionId);
    expect(second).to.not.equal(first);
    expect(backup.calls).to.deep.equal([]);
  });

  it('releases the reservation when the bank was never reached', async () => {
    const never = onUs();
    main.answerTransfer(unreachable());
    const error = await thrown(never);
    expect(error.message).to.equal('connect ECONNREFUSED');
    expect(await payment(never.transactionId)).to.equal(null);
    expect(backup.calls).to.deep.equal([]);
  });

  it('releases the reservation when only the token exchange happened before the error', async () => {
    const request = onUs({ sourceAccountNumber: SOLE });
    main.answerTransfer(async (_order: TransferOrder, ctx: BankCallContext) => {
      await ctx.onCall({ partner: main.partner, operation: 'token', method: 'POST', url: 'https://scripted.bank.invalid/token', requestHeaders: {}, requestBody: '', statusCode: 200, responseBody: '{}', errorCode: null, startedAt: 0, durationMs: 0 });
      throw new Error('connect ETIMEDOUT');
    });
    expect((await thrown(request)).message).to.equal('connect ETIMEDOUT');
    expect(await payment(request.transactionId)).to.equal(null);
    const [exchange] = await exchanges(request.transactionId);
    expect(exchange.bankCalls.map((leg) => leg.operation)).to.deep.equal(['token']);
  });

  it('takes BANK_UNAVAILABLE as the bank\'s word that nothing was executed, even after an exchange', async () => {
    const request = onUs({ sourceAccountNumber: SOLE });
    main.answerTransfer(unavailable());
    expect((await refused(request)).code).to.equal('BANK_UNAVAILABLE');
    const [exchange] = await exchanges(request.transactionId);
    expect(exchange.bankCalls.map((leg) => leg.operation)).to.deep.equal(['transfer-intrabank']);
    expect(await payment(request.transactionId)).to.equal(null);
  });

  it('takes online switching at the same connection only when BI-FAST is refused for this bank, under a fresh bank id', async () => {
    const request = toBri();
    main.answerTransfer(unavailable('BIFAST_UNAVAILABLE'), outcome('SUCCESS'));
    const reply = await pay(request);
    const [bifast, online] = main.transfersSent().map((call) => call.query as TransferOrder & { method: string });
    expect([bifast.method, online.method]).to.deep.equal(['BIFAST', 'ONLINE']);
    expect(online.bankTransactionId).to.not.equal(bifast.bankTransactionId);
    expect(reply.result.routing!.map((r) => [r.partner, r.method, r.result.slice(0, 8)])).to.deep.equal([
      [main.partner, 'BIFAST', 'not sent'],
      [main.partner, 'ONLINE', 'sent'],
    ]);
    expect(backup.calls).to.deep.equal([]);

    // Another reason of refusal skips the online switching and goes to the next connection's BI-FAST.
    const other = toBri();
    main.answerTransfer(unavailable());
    backup.answerTransfer(outcome('SUCCESS'));
    const second = await pay(other);
    expect(second.result.routing!.map((r) => [r.partner, r.method])).to.deep.equal([
      [main.partner, 'BIFAST'],
      [backup.partner, 'BIFAST'],
    ]);
    expect((backup.transfersSent()[0].query as { method: string }).method).to.equal('BIFAST');
  });

  it('falls back after ROUTE_UNAVAILABLE from the adapter (a method it cannot send), BI-FAST to online switching for its reason', async () => {
    const request = toBri();
    // Refused by the adapter before any exchange (after one, only BANK_UNAVAILABLE says nothing was executed).
    main.answerTransfer(async () => {
      throw new AppError('ROUTE_UNAVAILABLE', 'BI-FAST is not available for this beneficiary bank.', { extensions: { reason: 'BIFAST_UNAVAILABLE' } });
    }, outcome('SUCCESS'));
    const reply = await pay(request);
    expect(main.transfersSent().map((call) => (call.query as { method: string }).method)).to.deep.equal(['BIFAST', 'ONLINE']);
    expect(reply).to.include({ httpStatus: 201 });
    expect(backup.calls).to.deep.equal([]);

    // Another adapter error, even one that says nothing was sent, is not a reason to fall back: it is thrown as it is.
    const other = onUs();
    main.answerTransfer(async () => {
      throw new AppError('VALIDATION_FAILED', 'The bank refused the beneficiary account.');
    });
    expect((await refused(other)).code).to.equal('VALIDATION_FAILED');
    expect(backup.calls).to.deep.equal([]);
    expect(await payment(other.transactionId)).to.equal(null);
  });

  it('gives up with the refusal when the only route left is a fallback for another reason', async () => {
    const request = toBri({ sourceAccountNumber: SOLE });
    main.answerTransfer(unavailable());
    const error = await refused(request);
    expect(error.code).to.equal('BANK_UNAVAILABLE');
    expect(main.transfersSent()).to.have.length(1);
    expect(await payment(request.transactionId)).to.equal(null);
  });

  it('refuses an account the client was not granted, 404, after the audit holds the request, and reserves nothing', async () => {
    const other = '0201245682';
    const asked = onUs({ sourceAccountNumber: other });
    const error = await refused(asked);
    expect(error.code).to.equal('NOT_FOUND');
    expect(error.status).to.equal(404);
    expect(await payment(asked.transactionId)).to.equal(null);
    expect(await exchanges(asked.transactionId)).to.have.length(1);

    // The default account Gerbang chooses must be granted too.
    await store().accountGrants.revoke(client, SOURCE);
    const chosen = onUs({ sourceAccountNumber: undefined });
    const refusal = await refused(chosen);
    expect(refusal.code).to.equal('NOT_FOUND');
    expect(await payment(chosen.transactionId)).to.equal(null);
    expect(main.calls).to.deep.equal([]);
  });

  it('sends nothing and releases the reservation made beside the record when the exchange\'s record is refused (503)', async () => {
    const request = onUs();
    // The audit store refuses the record (as a full disk or a lost node would) while the payments table takes the reservation.
    const refusing = Object.create(store().audit) as AuditRepository;
    refusing.open = async () => {
      throw new Error('the audit store refused the record');
    };
    const audit = new InternalAuditTrail(refusing, { method: 'TEST', path: `/test/transfers/${request.transactionId}`, requestBody: request }, () => now);
    const error = await createTransfer(deps(), request, { clientId: client, audit }).then(
      () => expect.fail('expected createTransfer to refuse'),
      (failure: unknown) => failure as AppError,
    );
    expect(error.code).to.equal('STORE_UNAVAILABLE');
    expect(main.calls).to.deep.equal([]);
    expect(await payment(request.transactionId), 'the reservation is released: a resend pays it').to.equal(null);
  });

  it('pays from the default account when none is asked for, and the audit names it', async () => {
    main.answerTransfer(outcome('SUCCESS'));
    const request = onUs({ sourceAccountNumber: undefined });
    await pay(request);
    expect((main.transfersSent()[0].query as TransferOrder).sourceAccountNumber).to.equal(SOURCE);
    const [exchange] = await exchanges(request.transactionId);
    expect(exchange).to.include({ sourceAccount: '******5680', outcome: 'completed' });
  });

  it('refuses an interbank route without beneficiaryName, 400 naming it, after a resend check, and frees the transactionId', async () => {
    const request = toBri({ beneficiaryName: undefined });
    const error = await refused(request);
    expect(error.code).to.equal('VALIDATION_FAILED');
    expect(error.status).to.equal(400);
    expect(error.fields).to.deep.equal([{ field: 'beneficiaryName', message: 'is required for a transfer to another bank' }]);
    expect(await payment(request.transactionId)).to.equal(null);
    expect(main.calls).to.deep.equal([]);
    expect(backup.calls).to.deep.equal([]);

    main.answerTransfer(outcome('SUCCESS'));
    const named = await pay({ ...request, beneficiaryName: 'PT Vendor Jaya' });
    expect(named.httpStatus).to.equal(201);
  });

  it('answers a resend 422 before any routing error, and frees an unroutable transfer', async () => {
    const request = onUs({ beneficiaryBankCode: 'XXXXIDJA' });
    const error = await refused(request);
    expect(error.code).to.equal('ROUTE_UNAVAILABLE');
    expect(await payment(request.transactionId)).to.equal(null);

    main.answerTransfer(outcome('SUCCESS'));
    const paid = onUs();
    await pay(paid);
    const mismatch = await refused({ ...paid, beneficiaryBankCode: 'XXXXIDJA' });
    expect(mismatch.code).to.equal('IDEMPOTENCY_MISMATCH');
  });

  it('takes over a reservation its process left RECEIVED, once it is stale, and leaves a fresh one alone (409)', async () => {
    const request = onUs();
    await store().payments.reserve({ clientId: client, transactionId: request.transactionId, requestHash: requestHash(request), amount: request.amount, currency: 'IDR', sourceAccount: SOURCE }, now);
    now += 4_000;
    expect((await refused(request)).code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    expect(main.calls).to.deep.equal([]);

    now += 2_000;
    main.answerTransfer(outcome('SUCCESS'));
    const reply = await pay(request);
    expect(reply).to.include({ httpStatus: 201, replayed: false });
    expect((main.transfersSent()[0].seen as { payment: { state: string } }).payment.state).to.equal('SENDING');
  });

  it('never takes over a stale reservation while the database lacks what the audit checkpoints vouched for: AUDIT_INTEGRITY, nothing sent', async () => {
    const request = onUs();
    await store().payments.reserve({ clientId: client, transactionId: request.transactionId, requestHash: requestHash(request), amount: request.amount, currency: 'IDR', sourceAccount: SOURCE }, now);
    now += 60_000;
    const lacking = 'chain w-1 ends at link 3 but was checkpointed at link 9';
    const error = await refused(request, { ...deps(), checkpoints: async () => lacking });
    expect(error.code).to.equal('AUDIT_INTEGRITY');
    expect((error as IntegrityError).where).to.contain(lacking).and.to.contain(request.transactionId);
    expect(main.calls).to.deep.equal([]);
    expect((await payment(request.transactionId))!.state).to.equal('RECEIVED');
  });

  it('answers 409, sending nothing, when proving a stale reservation was left behind would read more links than its bound', async () => {
    const request = onUs();
    await store().payments.reserve({ clientId: client, transactionId: request.transactionId, requestHash: requestHash(request), amount: request.amount, currency: 'IDR', sourceAccount: SOURCE }, now);
    now += 60_000;
    let bound = 0;
    const payments = faulty('laterHistory', (real) => (id, maxLinks, vouched) => {
      bound = maxLinks;
      return real(id, maxLinks, vouched).then(() => ({ beyond: maxLinks + 1 }));
    });
    const error = await refused(request, deps(payments));
    expect(bound).to.equal(TAKEOVER_PROOF_LINKS);
    expect([error.code, error.headers['Retry-After']]).to.deep.equal(['IDEMPOTENCY_IN_FLIGHT', '3600']);
    expect(main.calls).to.deep.equal([]);
    const held = (await payment(request.transactionId))!;
    expect([held.state, held.reviewSince], 'in the review queue, for a person').to.deep.equal(['RECEIVED', now]);

    // Its bound is the deps' when given (GERBANG_TAKEOVER_PROOF_LINKS); a resend keeps its first time in the queue.
    now += 60_000;
    expect((await refused(request, { ...deps(payments), proofLinks: 7 })).code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    expect(bound).to.equal(7);
    expect((await payment(request.transactionId))!.reviewSince).to.equal(held.reviewSince);
  });

  it('never takes over a stale reservation of a different payload', async () => {
    const request = onUs();
    await store().payments.reserve({ clientId: client, transactionId: request.transactionId, requestHash: requestHash({ ...request, amount: '1.00' }), amount: '1.00', currency: 'IDR', sourceAccount: SOURCE }, now);
    now += 60_000;
    expect((await refused(request)).code).to.equal('IDEMPOTENCY_MISMATCH');
    expect(main.calls).to.deep.equal([]);
  });

  it('stops with 409, sending nothing more, when its reservation was taken over before a fallback route', async () => {
    const request = onUs();
    main.answerTransfer(async (order: TransferOrder) => {
      const row = (await payment(order.referenceId))!;
      await store().payments.release(row.id, row);
      throw unavailable();
    });
    const error = await refused(request);
    expect(error.code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    expect(error.headers).to.deep.equal({ 'Retry-After': '1' });
    expect(backup.calls).to.deep.equal([]);
  });

  /**
   * The store's payments with one method changed (a database node dying as it commits, a store
   * refusing a write for a moment): `wrap` is given the real method and returns the one used.
   */
  function faulty<K extends keyof PaymentRepository>(method: K, wrap: (real: PaymentRepository[K]) => PaymentRepository[K]): PaymentRepository {
    const real = store().payments;
    return new Proxy(real, {
      get(target, name) {
        const value = Reflect.get(target, name) as unknown;
        const bound = typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return name === method ? wrap(bound as PaymentRepository[K]) : bound;
      },
    });
  }

  /** reserve() commits and then fails as `fail` says. */
  const losingAnswers = (fail: () => Error): PaymentRepository =>
    faulty('reserve', (reserve) => async (...args) => {
      await reserve(...args);
      throw fail();
    });

  /** The method refuses its first call (the store unavailable for a moment), then works. */
  function refusingOnce<K extends 'storeSendOutcome' | 'release' | 'find'>(method: K): PaymentRepository {
    let refused = false;
    return faulty(method, (real) =>
      (async (...args: unknown[]) => {
        if (!refused) {
          refused = true;
          throw new Error(`${method}: connection lost`);
        }
        return (real as (...a: unknown[]) => Promise<unknown>)(...args);
      }) as PaymentRepository[K],
    );
  }

  /** Waits past the first background retry (writeAgainLater pauses 100 ms first). */
  const afterRetry = () => new Promise((resolve) => setTimeout(resolve, 400));

  it('answers the bank\'s outcome when the store refuses it for a moment, and stores it on a later try', async () => {
    const request = onUs();
    main.answerTransfer(outcome('SUCCESS'));
    const reply = await pay(request, deps(refusingOnce('storeSendOutcome')));
    expect(reply).to.include({ httpStatus: 201, replayed: false });
    expect(reply.result.status).to.equal('SUCCESS');
    expect((await payment(request.transactionId))!.state).to.equal('SENDING');
    expect(notified).to.deep.equal([]);
    await afterRetry();
    expect((await payment(request.transactionId))!).to.include({ state: 'SUCCESS', httpStatus: 201 });
    expect(notified.map((n) => n.result.status)).to.deep.equal(['SUCCESS']);
  });

  it('releases an unsent reservation on a later try when the store refuses it for a moment, and throws the bank\'s refusal', async () => {
    const request = onUs({ sourceAccountNumber: SOLE });
    main.answerTransfer(unavailable());
    const error = await refused(request, deps(refusingOnce('release')));
    expect(error.code).to.equal('BANK_UNAVAILABLE');
    expect((await payment(request.transactionId))!.state).to.equal('SENDING');
    await afterRetry();
    expect(await payment(request.transactionId)).to.equal(null);
  });

  it('releases its own reservation on a later try when whether it committed cannot be read at first', async () => {
    const request = onUs();
    const reserveLost = losingAnswers(() => new Error('Connection lost'));
    let findRefused = false;
    const payments = new Proxy(reserveLost, {
      get(target, name) {
        if (name === 'find' && !findRefused) {
          return async () => {
            findRefused = true;
            throw new Error('find: connection lost');
          };
        }
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    expect((await thrown(request, deps(payments))).message).to.equal('Connection lost');
    expect(findRefused).to.equal(true);
    expect((await payment(request.transactionId))!.state).to.equal('SENDING');
    await afterRetry();
    expect(await payment(request.transactionId)).to.equal(null);
  });

  it('logs the route taken, a fallback and a transfer left in doubt, naming the transaction', async () => {
    const logs = captureLogs('debug');
    try {
      const fellBack = onUs();
      main.answerTransfer(unavailable(), new Error('socket hang up'));
      backup.answerTransfer(outcome('SUCCESS'));
      await pay(fellBack);
      const doubt = onUs({ sourceAccountNumber: SOLE });
      await pay(doubt);
      const unnamed = toBri({ beneficiaryName: undefined });
      await refused(unnamed);
      const unroutable = onUs({ beneficiaryBankCode: 'XXXXIDJA' });
      await refused(unroutable);
      const lines = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.component === 'transfers');
      const pick = (msg: string) => lines.filter((line) => line.msg === msg).map(({ transactionId, partner, code, method }) => ({ transactionId, partner, code, method }));
      expect(pick('transfer routed')).to.deep.equal([
        { transactionId: fellBack.transactionId, partner: main.partner, code: undefined, method: 'INTRABANK' },
        { transactionId: fellBack.transactionId, partner: backup.partner, code: undefined, method: 'INTRABANK' },
        { transactionId: doubt.transactionId, partner: main.partner, code: undefined, method: 'INTRABANK' },
      ]);
      expect(pick('partner could not take the transfer; trying the next route')).to.deep.equal([{ transactionId: fellBack.transactionId, partner: main.partner, code: 'BANK_UNAVAILABLE', method: undefined }]);
      expect(pick('transfer in doubt after an error past sending')).to.deep.equal([{ transactionId: doubt.transactionId, partner: undefined, code: undefined, method: undefined }]);
      // Only a routing error is logged there; a missing beneficiaryName is plain and answered 400 after the reservation.
      expect(pick('first route not prepared before the reservation; routing after it')).to.deep.equal([{ transactionId: unroutable.transactionId, partner: undefined, code: undefined, method: undefined }]);
      // The first route at debug (the audit has it); the fallback taken after it failed at info.
      expect(lines.filter((line) => line.msg === 'transfer routed').map((line) => line.level)).to.deep.equal([20, 30, 20]);
      const routed = lines.find((line) => line.msg === 'transfer routed')!;
      expect(routed.reason).to.be.a('string').and.match(/paid on-us$/);
      const inDoubt = lines.find((line) => line.msg === 'transfer in doubt after an error past sending')!;
      expect((inDoubt.err as { message: string }).message).to.equal('socket hang up');
    } finally {
      logs.stop();
    }
  });

  it('recognises its own reservation by its bank id when the write, retried after a lost answer, meets it, and sends once', async () => {
    const request = onUs();
    main.answerTransfer(outcome('SUCCESS'));
    const reply = await pay(request, deps(losingAnswers(() => new UniqueViolationError('duplicate (client, transactionId)'))));
    expect(reply).to.include({ httpStatus: 201, replayed: false });
    const [call] = main.transfersSent();
    expect((call.seen as { payment: { bankTransactionId: string } }).payment.bankTransactionId).to.equal((call.query as TransferOrder).bankTransactionId);
    expect(main.transfersSent()).to.have.length(1);
  });

  it('checks its own reservation, met by the write retried after a lost answer, against the payment the audit scrub remembers for its key: refused unsent when that payment was deleted in SQL', async () => {
    const scrub = new AuditScrub(store().audit, { ring: TEST_AUDIT_KEYS, path: join(mkdtempSync(join(tmpdir(), 'gerbang-own-')), 'c.jsonl'), store: store().db.description }, { linksPerPass: 50, quiet: true });
    const checked = (payments?: PaymentRepository): CreateTransferDeps => ({ ...deps(payments), newPaymentCheck: (c, t, id, createdAt) => scrub.beforeNewPayment(c, t, id, createdAt) });
    // It learns the payments made before it first (until then it lets no new payment go).
    for (let i = 0; i < 1_000 && !scrub.complete; i += 1) await scrub.pass();
    const request = onUs();
    main.answerTransfer(outcome('SUCCESS'));
    expect(await pay(request, checked())).to.include({ httpStatus: 201, replayed: false });
    // The attack, as a database writer without a key: the paid payment deleted with its history.
    const paid = (await payment(request.transactionId))!;
    await store().db.execute("DELETE FROM audit_chain WHERE kind = 'payment_event' AND record_id IN (SELECT id FROM payment_events WHERE payment_id = ?)", [paid.id]);
    await store().db.execute('DELETE FROM payment_events WHERE payment_id = ?', [paid.id]);
    await store().db.execute('DELETE FROM payments WHERE id = ?', [paid.id]);

    const error = await refused(request, checked(losingAnswers(() => new UniqueViolationError('duplicate (client, transactionId)'))));
    expect(error.code).to.equal('STORE_UNAVAILABLE');
    expect(error.message).to.contain(`payments id ${paid.id} (${client} / ${request.transactionId}) was deleted with its whole history`);
    expect(main.transfersSent(), 'the bank paid once').to.have.length(1);
    expect(await payment(request.transactionId), 'the reservation released unsent').to.equal(null);
  });

  it('releases its own reservation when the write failed without saying whether it committed, so a resend pays', async () => {
    const request = onUs();
    const error = await thrown(request, deps(losingAnswers(() => new Error('Connection lost: The server closed the connection.'))));
    expect(error.message).to.equal('Connection lost: The server closed the connection.');
    expect(await payment(request.transactionId)).to.equal(null);
    expect(main.calls).to.deep.equal([]);

    main.answerTransfer(outcome('SUCCESS'));
    expect((await pay(request)).httpStatus).to.equal(201);
  });

  it('answers 409 when the store refuses the reservation as a duplicate but the row is gone when read (released meanwhile)', async () => {
    const request = onUs();
    const error = await refused(request, deps(faulty('reserve', () => async () => {
      throw new UniqueViolationError('duplicate (client, transactionId)');
    })));
    expect(error.code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    expect(error.message).to.equal('This transactionId is being processed; retry shortly.');
    expect(error.headers).to.deep.equal({ 'Retry-After': '1' });
    expect(main.calls).to.deep.equal([]);
  });

  it('answers 409, not its own, for a row of the same payload under another bank id (another attempt\'s)', async () => {
    const request = onUs();
    const row = await store().payments.reserve({ clientId: client, transactionId: request.transactionId, requestHash: requestHash(request), amount: request.amount, currency: 'IDR', sourceAccount: SOURCE }, now);
    await store().payments.update(row.id, { state: 'SENDING', bank: main.partner, operation: 'transfer-intrabank', bankTransactionId: '00000001', bankTransactionDate: DAY }, now);
    const error = await refused(request);
    expect(error.code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    expect((await payment(request.transactionId))!.state).to.equal('SENDING');
    expect(main.calls).to.deep.equal([]);
  });
});
