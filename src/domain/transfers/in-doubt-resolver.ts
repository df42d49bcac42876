import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { methodOfOperation, type BankAdapter, type BankCall, type StatusOutcome, type TransferOutcome } from '../../banks/types.js';
import { isAppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import { auditIntegrityRefusal, bankCallAudit } from '../../audit/index.js';
import type { AuditRepository, PaymentRecord, PaymentRepository, RefusedPayment } from '../../store/types.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import type { BankRouter } from '../routing/index.js';
import { PeriodicTask } from '../periodic-task.js';
import { settle, type SettlementProof } from './settlement.js';
import { bankStatementLines, readStatementProof } from './statement-proof.js';

const log = getLogger('resolver');

/**
 * A resolver's claim on a payment lasts this long unless renewed. Its holder renews it every
 * third of it while it lives (an inquiry can take longer than this: the bank's timeouts), so
 * a holder that is killed blocks its payments, and the ERP's resend that waits on them, for
 * at most this long, not minutes.
 */
export const RESOLVER_LEASE_MS = 15_000;

export interface InDoubtResolverOptions {
  /** How often each process looks for payments to check; 0 turns the resolver off. */
  intervalMs: number;
  /** A SENDING payment untouched this long was interrupted (the process died mid-send). */
  sendingStaleMs: number;
  /**
   * HH:mm (WIB) on the day after the transaction date by which the bank has booked that date's
   * debits: only a statement read after it can prove a transfer the bank does not know was not
   * executed.
   */
  dayCloseWib: string;
  /** Still in doubt this long after it was received: the transfer goes to the review queue. */
  reviewAfterMs: number;
  /** Longest wait between two checks of one payment (the back-off doubles up to it). */
  maxBackoffMs?: number;
  /**
   * How long a claimed payment stays leased to this process unless renewed (default
   * RESOLVER_LEASE_MS). Renewed every third of it while this process works through its claims.
   */
  leaseMs?: number;
  batchSize?: number;
}

/** A check's verdict: a final outcome (with its proof when it is not the bank's own status), or why it stays in doubt. */
type Decision =
  | { final: TransferOutcome & { status: 'SUCCESS' | 'FAILED' }; proof?: SettlementProof; reason?: undefined }
  | { final: null; proof?: undefined; reason: string };

export interface InDoubtResolverDeps {
  payments: PaymentRepository;
  audit: AuditRepository;
  router: BankRouter;
  clock: () => number;
  /** Told when a transfer becomes final (the ERP's callback). */
  finals?: FinalStateNotifier;
}

/**
 * Resolves transfers in doubt — UNKNOWN, PENDING, or SENDING after a crash — by the bank's status
 * inquiry and the paying account's statement, never by sending them again. FAILED needs the
 * bank's positive word: a final failed status, or "not found" AND a statement read after the
 * bank's day closed without the debit (bank-apis.md §3). What stays unproved past reviewAfterMs
 * goes to the review queue, which only an admin with evidence empties. Every API process runs one; the store decides which of
 * them checks a payment (a lease in its row), so exactly one does, on every node. Checks back off
 * exponentially per payment. Each check is audited like a request: an exchange of method
 * RESOLVE with the bank's answer as its leg.
 */
export class InDoubtResolver {
  readonly owner = `${hostname().slice(0, 30)}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly task: PeriodicTask;

  constructor(private readonly deps: InDoubtResolverDeps, private readonly options: InDoubtResolverOptions) {
    this.task = new PeriodicTask('resolver', options.intervalMs, () => this.runOnce());
  }

  start(): void {
    this.task.start();
  }

  /** Stops scheduling and waits for a pass in progress. */
  stop(): Promise<void> {
    return this.task.stop();
  }

  private get stopped(): boolean {
    return this.task.stopped;
  }

  /** One pass: claims the payments due and checks each. Returns how many it checked and settled. */
  async runOnce(): Promise<{ checked: number; settled: number }> {
    const now = this.deps.clock();
    const leaseMs = this.options.leaseMs ?? RESOLVER_LEASE_MS;
    const claimed = await this.deps.payments.claimDue({
      owner: this.owner,
      now,
      leaseMs,
      sendingStaleBefore: now - this.options.sendingStaleMs,
      limit: this.options.batchSize ?? 50,
    });
    const due = claimed.filter((payment): payment is PaymentRecord => !('refused' in payment));
    for (const refusal of claimed) if ('refused' in refusal) await this.refusalAudited(refusal);
    let settled = 0;
    const held = new Set(due.map((payment) => payment.id));
    const renewal = setInterval(() => {
      for (const id of held) this.deps.payments.renewLease(id, this.owner, this.deps.clock(), leaseMs).catch(() => undefined);
    }, leaseMs / 3);
    renewal.unref();
    try {
      for (const payment of due) {
        if (this.stopped) {
          await this.deps.payments.releaseLease(payment.id, this.owner);
          held.delete(payment.id);
          continue;
        }
        try {
          if (await this.check(payment)) settled += 1;
        } catch (error) {
          log.error({ err: error, transactionId: payment.transactionId }, 'in-doubt check failed; it will be retried');
          await this.deps.payments.releaseLease(payment.id, this.owner).catch(() => undefined);
        }
        held.delete(payment.id);
      }
    } finally {
      clearInterval(renewal);
    }
    return { checked: due.length, settled };
  }

  /**
   * A payment in doubt changed outside Gerbang (the store refused it when claimed): never checked
   * with the bank nor written, and said so in the audit as well as the log, as internal work
   * answered 500 AUDIT_INTEGRITY naming what was found. The store holds it a day before it is named again.
   */
  private async refusalAudited(refusal: RefusedPayment): Promise<void> {
    log.error({ paymentId: refusal.id, transactionId: refusal.transactionId, problem: refusal.refused }, 'payment in doubt changed outside Gerbang: not checked with the bank nor written');
    const work = { method: 'RESOLVE', path: `/internal/resolver/${refusal.transactionId}`, requestBody: { payment: refusal.id } };
    await auditIntegrityRefusal(this.deps.audit, this.deps.clock, work, refusal, { refused: refusal.refused });
  }

  /** Checks one payment; true when it was settled (SUCCESS or FAILED). */
  private async check(payment: PaymentRecord): Promise<boolean> {
    const adapter = payment.bank ? this.deps.router.adapterFor(payment.bank) : null;
    if (!adapter || !payment.bankTransactionId || !payment.bankTransactionDate) {
      log.warn({ transactionId: payment.transactionId, bank: payment.bank }, 'no configured partner can be asked about this payment');
      await this.reviewIfOverdue(payment, this.deps.clock(), 'no configured partner can be asked about it');
      await this.reschedule(payment, 'UNKNOWN', payment.notFoundCount);
      return false;
    }
    const requestId = `resolver-${randomUUID()}`;
    const receivedAt = this.deps.clock();
    const exchange = {
      requestId,
      receivedAt,
      remoteIp: 'internal',
      origin: null,
      method: 'RESOLVE',
      path: `/internal/resolver/${payment.transactionId}`,
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      amount: payment.amount,
      requestHeaders: {},
      requestBody: JSON.stringify({ state: payment.state, checkAttempts: payment.checkAttempts, bankTransactionId: payment.bankTransactionId }),
    };
    // Audit first, as for any bank call: the check is recorded before the bank is asked.
    const exchangeId = await this.deps.audit.open(exchange);
    const onCall = async (call: BankCall) => void (await this.deps.audit.recordBankCall(bankCallAudit(call, exchangeId, requestId)));
    let outcome: StatusOutcome;
    try {
      outcome = await adapter.transferStatus(
        { bankTransactionId: payment.bankTransactionId, transactionDate: payment.bankTransactionDate, method: methodOfOperation(payment.operation), externalId: payment.bankExternalId, amount: payment.amount, bankReference: payment.bankReference },
        { onCall },
      );
    } catch (error) {
      if (!isAppError(error) || error.code !== 'BANK_UNAVAILABLE') throw error;
      outcome = { status: 'UNKNOWN', bankReference: null, bankResponseCode: error.code, bankMessage: error.message };
    }

    const now = this.deps.clock();
    const notFound = outcome.status === 'NOT_FOUND' ? payment.notFoundCount + 1 : payment.notFoundCount;
    const decision = await this.decide(adapter, payment, outcome, now, { onCall });
    let review = false;
    let settled: 'SUCCESS' | 'FAILED' | null = null;
    if (decision.final) {
      const result = await settle(this.deps.payments, payment, decision.final, now, this.deps.finals, decision.proof);
      await this.deps.payments.releaseLease(payment.id, this.owner);
      // Another status: settled by another process first, or sent under another bank id meanwhile
      // (a live sender's fallback route), and this answer was about the old one: nothing stored.
      settled = result.status === decision.final.status ? decision.final.status : null;
      log.info({ transactionId: payment.transactionId, status: decision.final.status, stored: settled !== null }, settled ? 'in-doubt transfer resolved' : 'in-doubt transfer moved on meanwhile: nothing stored');
    } else {
      review = await this.reviewIfOverdue(payment, now, decision.reason);
      await this.reschedule(payment, outcome.status === 'PENDING' ? 'PENDING' : 'UNKNOWN', notFound);
    }
    await this.deps.audit.complete(exchangeId, {
      outcome: 'completed',
      statusCode: 200,
      errorCode: null,
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      amount: payment.amount,
      responseBody: JSON.stringify({
        bankStatus: outcome.status,
        bankResponseCode: outcome.bankResponseCode,
        settled,
        ...(decision.final && !settled ? { notStored: decision.final.status } : {}),
        ...(decision.proof?.evidence ? { evidence: decision.proof.evidence } : {}),
        ...(decision.reason ? { unresolved: decision.reason } : {}),
        ...(review ? { inReview: true } : {}),
      }),
      completedAt: this.deps.clock(),
    });
    return settled !== null;
  }

  /**
   * The bank's status decides when it is final. When it does not know the transfer (or cannot
   * tell), the paying account's statement is read: a debit carrying the transfer's reference
   * proves SUCCESS (the line kept as evidence); no debit, read after the bank's day closed and
   * with the bank saying "not found", proves FAILED. Anything else proves nothing.
   */
  private async decide(
    adapter: BankAdapter,
    payment: PaymentRecord,
    outcome: StatusOutcome,
    now: number,
    ctx: { onCall: (call: BankCall) => Promise<void> },
  ): Promise<Decision> {
    if (outcome.status === 'SUCCESS' || outcome.status === 'FAILED') return { final: { ...outcome, status: outcome.status } };
    if (outcome.status === 'PENDING') return { final: null, reason: 'the bank reports it not final yet' };
    const verdict = await readStatementProof(bankStatementLines(adapter, ctx), payment, { now, dayCloseWib: this.options.dayCloseWib });
    const recordedAt = new Date(now).toISOString();
    if (verdict.kind === 'debited') {
      return {
        final: { status: 'SUCCESS', bankReference: payment.bankReference, bankResponseCode: outcome.bankResponseCode, bankMessage: 'Executed: the debit is on the paying account\'s statement.' },
        proof: { evidence: { kind: 'STATEMENT_LINE', detail: verdict.line, recordedBy: null, recordedAt } },
      };
    }
    if (verdict.kind === 'not-debited' && outcome.status === 'NOT_FOUND') {
      return {
        final: {
          status: 'FAILED',
          bankReference: null,
          bankResponseCode: outcome.bankResponseCode,
          bankMessage: 'Not executed: the bank does not know this transfer and the paying account\'s statement, read after the bank\'s day closed, shows no debit for it.',
        },
        proof: { failureConfirmedBy: 'STATEMENT', evidence: { kind: 'STATEMENT_WITHOUT_DEBIT', detail: verdict.detail, recordedBy: null, recordedAt } },
      };
    }
    if (verdict.kind === 'too-early') return { final: null, reason: `no debit on the statement yet; it proves nothing before ${new Date(verdict.readableAt).toISOString()} (the bank's day close)` };
    if (verdict.kind === 'inconclusive') return { final: null, reason: `statement inconclusive: ${verdict.reason}` };
    return { final: null, reason: 'no debit on the statement, but the bank has not said it does not know the transfer' };
  }

  /** Puts a transfer in doubt for longer than reviewAfterMs into the review queue; true when it is (or already was) there. */
  private async reviewIfOverdue(payment: PaymentRecord, now: number, reason: string): Promise<boolean> {
    if (payment.reviewSince !== null) return true;
    if (now - payment.createdAt < this.options.reviewAfterMs) return false;
    await this.deps.payments.enterReview(payment.id, now);
    log.warn({ transactionId: payment.transactionId, reason }, 'transfer still in doubt: put in the review queue for an admin to resolve with evidence');
    return true;
  }

  private async reschedule(payment: PaymentRecord, state: 'UNKNOWN' | 'PENDING', notFoundCount: number): Promise<void> {
    const attempts = payment.checkAttempts + 1;
    // Doubling from the pass interval (at least a second, also when passes are run by hand).
    const base = Math.max(this.options.intervalMs, 1_000);
    const backoff = Math.min(this.options.maxBackoffMs ?? 15 * 60_000, base * 2 ** Math.min(attempts, 20));
    const now = this.deps.clock();
    await this.deps.payments.recordCheck(payment.id, this.owner, { state, checkAttempts: attempts, notFoundCount, nextCheckAt: now + backoff }, now, payment);
  }
}
