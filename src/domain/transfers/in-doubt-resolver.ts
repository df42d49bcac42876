import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { methodOfOperation, type BankCall, type StatusOutcome } from '../../banks/types.js';
import { isAppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import { bankCallAudit } from '../../pipeline/audit/index.js';
import type { AuditRepository, PaymentRecord, PaymentRepository } from '../../store/types.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import type { BankRouter } from '../routing/index.js';
import { PeriodicTask } from '../periodic-task.js';
import { settle } from './settlement.js';

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
  /** A bank "not found" counts as "not executed" only on a second check this long after the send. */
  notFoundConfirmMs: number;
  /** Longest wait between two checks of one payment (the back-off doubles up to it). */
  maxBackoffMs?: number;
  /**
   * How long a claimed payment stays leased to this process unless renewed (default
   * RESOLVER_LEASE_MS). Renewed every third of it while this process works through its claims.
   */
  leaseMs?: number;
  batchSize?: number;
}

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
 * inquiry, never by sending them again. Every API process runs one; the store decides which of
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
    const due = await this.deps.payments.claimDue({
      owner: this.owner,
      now,
      leaseMs,
      sendingStaleBefore: now - this.options.sendingStaleMs,
      limit: this.options.batchSize ?? 50,
    });
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

  /** Checks one payment; true when it was settled (SUCCESS or FAILED). */
  private async check(payment: PaymentRecord): Promise<boolean> {
    const adapter = payment.bank ? this.deps.router.adapterFor(payment.bank) : null;
    if (!adapter || !payment.bankTransactionId || !payment.bankTransactionDate) {
      log.warn({ transactionId: payment.transactionId, bank: payment.bank }, 'no configured partner can be asked about this payment');
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
    let outcome: StatusOutcome;
    try {
      outcome = await adapter.transferStatus(
        { bankTransactionId: payment.bankTransactionId, transactionDate: payment.bankTransactionDate, method: methodOfOperation(payment.operation) },
        { onCall: async (call: BankCall) => void (await this.deps.audit.recordBankCall(bankCallAudit(call, exchangeId, requestId))) },
      );
    } catch (error) {
      if (!isAppError(error) || error.code !== 'BANK_UNAVAILABLE') throw error;
      outcome = { status: 'UNKNOWN', bankReference: null, bankResponseCode: error.code, bankMessage: error.message };
    }

    const now = this.deps.clock();
    const notFound = outcome.status === 'NOT_FOUND' ? payment.notFoundCount + 1 : payment.notFoundCount;
    let final: (StatusOutcome & { status: 'SUCCESS' | 'FAILED' }) | null = null;
    if (outcome.status === 'SUCCESS' || outcome.status === 'FAILED') final = { ...outcome, status: outcome.status };
    else if (outcome.status === 'NOT_FOUND' && notFound >= 2 && now - payment.createdAt >= this.options.notFoundConfirmMs) {
      final = { status: 'FAILED', bankReference: null, bankResponseCode: outcome.bankResponseCode, bankMessage: 'The bank confirms it never executed this transfer (not found on two checks); send it again under a new transactionId.' };
    }

    if (final) {
      await settle(this.deps.payments, payment, final, now, this.deps.finals);
      await this.deps.payments.releaseLease(payment.id, this.owner);
      log.info({ transactionId: payment.transactionId, status: final.status }, 'in-doubt transfer resolved');
    } else {
      await this.reschedule(payment, outcome.status === 'PENDING' ? 'PENDING' : 'UNKNOWN', notFound);
    }
    await this.deps.audit.complete(exchangeId, {
      outcome: 'completed',
      statusCode: 200,
      errorCode: null,
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      amount: payment.amount,
      responseBody: JSON.stringify({ bankStatus: outcome.status, settled: final?.status ?? null, bankResponseCode: outcome.bankResponseCode }),
      completedAt: this.deps.clock(),
    });
    return final !== null;
  }

  private async reschedule(payment: PaymentRecord, state: 'UNKNOWN' | 'PENDING', notFoundCount: number): Promise<void> {
    const attempts = payment.checkAttempts + 1;
    // Doubling from the pass interval (at least a second, also when passes are run by hand).
    const base = Math.max(this.options.intervalMs, 1_000);
    const backoff = Math.min(this.options.maxBackoffMs ?? 15 * 60_000, base * 2 ** Math.min(attempts, 20));
    const now = this.deps.clock();
    await this.deps.payments.recordCheck(payment.id, this.owner, { state, checkAttempts: attempts, notFoundCount, nextCheckAt: now + backoff }, now);
  }
}
