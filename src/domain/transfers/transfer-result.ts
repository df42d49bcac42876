import { methodOfOperation, type TransferMethod, type TransferOutcome, type TransferStatus } from '../../banks/types.js';
import type { PaymentRecord } from '../../store/types.js';

/** The uniform answer for a transfer, whatever bank and protocol carried it. */
export interface TransferResult {
  transactionId: string;
  status: TransferStatus;
  amount: string;
  currency: string;
  bank: string | null;
  /** How it was paid (asked for, or chosen by beneficiary bank and amount). */
  transferMethod: TransferMethod | null;
  bankReference: string | null;
  bankResponseCode: string | null;
  bankMessage: string | null;
  createdAt: string;
  updatedAt: string;
  /** The routes tried, in order, and what became of each (the audit keeps it with the answer). */
  routing?: RoutingDecision[];
}

export interface RoutingDecision {
  partner: string;
  method: TransferMethod;
  reason: string;
  /** `sent`, or why the next route was tried. */
  result: string;
}

/**
 * HTTP status of a transfer answer: 201 when the money moved, 202 while the outcome is not
 * final (PENDING, or UNKNOWN until the status inquiry resolves it), 422 when the bank refused.
 */
export function httpStatusOf(status: TransferStatus): number {
  switch (status) {
    case 'SUCCESS':
      return 201;
    case 'FAILED':
      return 422;
    default:
      return 202;
  }
}

export function buildResult(payment: PaymentRecord, outcome: TransferOutcome, now: number, routing?: RoutingDecision[]): TransferResult {
  return {
    transactionId: payment.transactionId,
    status: outcome.status,
    amount: payment.amount,
    currency: payment.currency,
    bank: payment.bank,
    transferMethod: payment.operation ? methodOfOperation(payment.operation) : null,
    bankReference: outcome.bankReference,
    bankResponseCode: outcome.bankResponseCode,
    bankMessage: outcome.bankMessage,
    createdAt: new Date(payment.createdAt).toISOString(),
    updatedAt: new Date(now).toISOString(),
    ...(routing ? { routing } : {}),
  };
}
