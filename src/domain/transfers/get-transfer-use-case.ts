import { methodOfOperation, type BankCall, type StatusOutcome } from '../../banks/types.js';
import { AppError, isAppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import type { ExchangeAudit } from '../../audit/index.js';
import type { PaymentRecord, PaymentRepository } from '../../store/types.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import type { BankRouter } from '../routing/index.js';
import { looksLeftBehind, provedLeftBehind, type LeftBehindDeps, type RecentProofs } from './left-behind.js';
import { currentResult, settle } from './settlement.js';
import { guidanceOf, type TransferResult } from './transfer-result.js';

const log = getLogger('transfers');

export interface GetTransferDeps extends LeftBehindDeps {
  payments: PaymentRepository;
  router: BankRouter;
  clock: () => number;
  /** A transfer still SENDING after this long was interrupted (a crash): ask the bank about it. */
  sendingStaleMs: number;
  /** Told when a transfer becomes final (the ERP's callback). */
  finals?: FinalStateNotifier;
  /** This process's recent proofs of reservations left behind, so a poll does not walk the chains each time; absent: every read proves. */
  recentProofs?: RecentProofs;
}

export interface TransferStatusReply {
  result: TransferResult;
  /** True when the bank was asked during this request. */
  inquired: boolean;
}

/**
 * The latest state of one of the caller's transfers. A transfer another client made does not
 * exist for this caller (404, never 403, so ids cannot be probed). While a transfer is in doubt
 * (UNKNOWN, PENDING, or SENDING for longer than a request can take) the bank's status inquiry
 * is asked; a final answer (SUCCESS, FAILED) is stored. "Not found" at the bank does not make
 * it FAILED: only the resolver's statement proof does, so it stays UNKNOWN here. A reservation its
 * process left behind is reported only once its history proves it one (provedLeftBehind: a paid
 * transfer rolled back to it in SQL is 500 AUDIT_INTEGRITY); when that proof would be too long, as
 * stored (PENDING: never pay it again), and it enters the review queue.
 */
export async function getTransfer(deps: GetTransferDeps, clientId: string, transactionId: string, audit: ExchangeAudit): Promise<TransferStatusReply> {
  audit.set({ clientId, transactionId });
  const payment = await deps.payments.find(clientId, transactionId);
  if (!payment) throw new AppError('NOT_FOUND', `No transfer with transactionId ${transactionId} for this client.`);
  audit.set({ amount: payment.amount });
  // Never proved sent or unsent (the proof would be too long): reported as stored, and in the
  // review queue (provedLeftBehind), so a person looks even when the ERP only asks its status.
  // The same row proved lately by this process is reported as stored (STATUS_PROOF_REUSE_MS).
  const now = deps.clock();
  if (looksLeftBehind(payment, now) && !deps.recentProofs?.holds(payment, now)) {
    if (await provedLeftBehind(deps, payment, 'reported', audit.requestContext)) deps.recentProofs?.record(payment, now);
  }

  if (!needsInquiry(payment, deps)) return { result: currentResult(payment, deps.clock()), inquired: false };

  const adapter = payment.bank ? deps.router.adapterFor(payment.bank) : null;
  if (!adapter || !payment.bankTransactionId || !payment.bankTransactionDate) return { result: currentResult(payment, deps.clock()), inquired: false };

  // As for every bank call: the inbound exchange is recorded before the bank is asked.
  await audit.open();
  let outcome: StatusOutcome;
  try {
    outcome = await adapter.transferStatus(
      { bankTransactionId: payment.bankTransactionId, transactionDate: payment.bankTransactionDate, method: methodOfOperation(payment.operation), externalId: payment.bankExternalId, amount: payment.amount, bankReference: payment.bankReference },
      { onCall: (call: BankCall) => audit.recordBankCall(call), requestContext: audit.requestContext },
    );
  } catch (error) {
    if (!isAppError(error) || error.code !== 'BANK_UNAVAILABLE') throw error;
    log.warn({ ...audit.requestContext, transactionId, code: error.code }, 'status inquiry not possible now; answering the stored state');
    return { result: currentResult(payment, deps.clock()), inquired: false };
  }

  const settledAt = deps.clock();
  if (outcome.status === 'SUCCESS' || outcome.status === 'FAILED') {
    const result = await settle(deps.payments, payment, { ...outcome, status: outcome.status }, settledAt, deps.finals, {}, audit.requestContext);
    log.info({ ...audit.requestContext, transactionId, status: outcome.status }, 'in-doubt transfer resolved by status inquiry');
    return { result, inquired: true };
  }
  const base = currentResult(payment, settledAt);
  const status = outcome.status === 'PENDING' ? 'PENDING' : 'UNKNOWN';
  const message =
    outcome.status === 'NOT_FOUND'
      ? "The bank does not know this transfer; that alone never means it was not executed. It stays in doubt until the paying account's statement, read after the bank's day closed, proves it one way or the other."
      : outcome.bankMessage;
  return { result: { ...base, status, bankMessage: message ?? base.bankMessage, guidance: guidanceOf(status, null, payment.reviewSince !== null) }, inquired: true };
}

function needsInquiry(payment: PaymentRecord, deps: GetTransferDeps): boolean {
  if (payment.state === 'UNKNOWN' || payment.state === 'PENDING') return true;
  return payment.state === 'SENDING' && deps.clock() - payment.updatedAt > deps.sendingStaleMs;
}
