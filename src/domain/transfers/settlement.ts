import type { TransferOutcome } from '../../banks/types.js';
import type { PaymentRecord, PaymentRepository } from '../../store/types.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import { buildResult, httpStatusOf, type TransferResult } from './transfer-result.js';

/** The result the ERP is shown: the stored one, or a provisional one while none is stored yet. */
export function currentResult(payment: PaymentRecord, now: number): TransferResult {
  if (payment.resultJson) return JSON.parse(payment.resultJson) as TransferResult;
  const status = payment.state === 'RECEIVED' || payment.state === 'SENDING' ? 'PENDING' : (payment.state as TransferResult['status']);
  const bankMessage = payment.state === 'SENDING' ? 'Being sent to the bank.' : null;
  return buildResult(payment, { status, bankReference: payment.bankReference, bankResponseCode: null, bankMessage }, Math.max(payment.updatedAt, now));
}

/**
 * Stores a final outcome (SUCCESS or FAILED) learnt after the transfer was answered — from the
 * status inquiry — so that reads and idempotent replays return it from now on.
 */
export async function settle(
  payments: PaymentRepository,
  payment: PaymentRecord,
  outcome: TransferOutcome & { status: 'SUCCESS' | 'FAILED' },
  now: number,
  finals?: FinalStateNotifier,
): Promise<TransferResult> {
  const base = currentResult(payment, now);
  const result: TransferResult = {
    ...base,
    status: outcome.status,
    bankReference: outcome.bankReference ?? base.bankReference,
    bankResponseCode: outcome.bankResponseCode,
    bankMessage: outcome.bankMessage,
    updatedAt: new Date(now).toISOString(),
  };
  await payments.update(payment.id, { state: outcome.status, bankReference: result.bankReference, resultJson: JSON.stringify(result), httpStatus: httpStatusOf(outcome.status) }, now);
  await finals?.notify(payment.clientId, result);
  return result;
}
