import type { RequestContext } from '../../log/index.js';
import type { TransferOutcome } from '../../banks/types.js';
import type { PaymentRecord, PaymentRepository } from '../../store/types.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import { buildResult, guidanceOf, httpStatusOf, type FailureProof, type SettlementEvidence, type TransferResult } from './transfer-result.js';

const IN_DOUBT_STATES = new Set(['RECEIVED', 'SENDING', 'UNKNOWN', 'PENDING']);

/**
 * The result the ERP is shown: the stored one, or a provisional one while none is stored yet.
 * While the transfer is in doubt it says so plainly (never pay again) and whether it is in the
 * review queue.
 */
export function currentResult(payment: PaymentRecord, now: number): TransferResult {
  const status = payment.state === 'RECEIVED' || payment.state === 'SENDING' ? 'PENDING' : (payment.state as TransferResult['status']);
  const bankMessage = payment.state === 'SENDING' ? 'Being sent to the bank.' : null;
  const result = payment.resultJson
    ? (JSON.parse(payment.resultJson) as TransferResult)
    : buildResult(payment, { status, bankReference: payment.bankReference, bankResponseCode: null, bankMessage }, Math.max(payment.updatedAt, now));
  if (!IN_DOUBT_STATES.has(payment.state)) return result;
  const inReview = payment.reviewSince !== null;
  return { ...result, ...(inReview ? { reviewSince: new Date(payment.reviewSince as number).toISOString() } : {}), guidance: guidanceOf(result.status, null, inReview) };
}

/** How a final outcome learnt after the answer was proved, beyond the bank's own status. */
export interface SettlementProof {
  /** FAILED: who confirmed no money moved (default BANK: a refusal or a failed status). */
  failureConfirmedBy?: FailureProof;
  evidence?: SettlementEvidence;
}

/**
 * Stores a final outcome (SUCCESS or FAILED) learnt after the transfer was answered — from the
 * status inquiry, the statement, the bank's notification or an admin's evidence — so that reads
 * and idempotent replays return it from now on, and tells the ERP's callback. Only the first
 * settlement counts: when another process settled it meanwhile, that stored result is returned
 * and nothing is announced twice. `payment` is the row the outcome was learnt for: it is stored
 * only while the row holds the same bank id, else what the row now holds is returned (a fallback
 * route's send in flight: in doubt), never an outcome about an id that is no longer the row's.
 * `request`: the HTTP request that learnt it, if any (log lines).
 */
export async function settle(
  payments: PaymentRepository,
  payment: PaymentRecord,
  outcome: TransferOutcome & { status: 'SUCCESS' | 'FAILED' },
  now: number,
  finals?: FinalStateNotifier,
  proof: SettlementProof = {},
  request?: RequestContext,
): Promise<TransferResult> {
  const base = currentResult(payment, now);
  const failureConfirmedBy = outcome.status === 'FAILED' ? (proof.failureConfirmedBy ?? 'BANK') : null;
  const { reviewSince: _left, ...rest } = base;
  const result: TransferResult = {
    ...rest,
    status: outcome.status,
    bankReference: outcome.bankReference ?? base.bankReference,
    bankResponseCode: outcome.bankResponseCode,
    bankMessage: outcome.bankMessage,
    updatedAt: new Date(now).toISOString(),
    failureConfirmedBy,
    evidence: proof.evidence ?? null,
    guidance: guidanceOf(outcome.status, failureConfirmedBy, false),
  };
  const won = await payments.settle(payment.id, { state: outcome.status, bankReference: result.bankReference, resultJson: JSON.stringify(result), httpStatus: httpStatusOf(outcome.status) }, now, payment);
  if (!won) {
    // Gone (released) or moved on: never the outcome learnt here, which nothing stored.
    const stored = await payments.find(payment.clientId, payment.transactionId);
    return currentResult(stored ?? payment, now);
  }
  await finals?.notify(payment.clientId, result, request);
  return result;
}
