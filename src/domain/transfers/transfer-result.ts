import Joi from 'joi';
import { methodOfOperation, TRANSFER_METHODS, type TransferMethod, type TransferOutcome, type TransferStatus } from '../../banks/types.js';
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

const nullableText = (doc: string) => Joi.string().allow(null).required().description(doc);

/** The answer's schema, for the API documents (and the tests that hold answers to it). */
export const transferResultSchema = Joi.object<TransferResult>({
  transactionId: Joi.string().required().description('The ERP\'s id of the payment, as sent.'),
  status: Joi.string()
    .valid('SUCCESS', 'PENDING', 'FAILED', 'UNKNOWN')
    .required()
    .description('SUCCESS: paid. FAILED: refused, nothing paid. PENDING: accepted, not final. UNKNOWN: the bank\'s answer was lost; Gerbang resolves it through the status inquiry (never pay again).'),
  amount: Joi.string()
    .pattern(/^\d{1,13}\.\d{2}$/)
    .required()
    .example('2475000.00')
    .description('Amount, decimal string with two decimals.'),
  currency: Joi.string().required().description('Currency (IDR).'),
  bank: nullableText('Bank partner that carried the payment (e.g. `bca`); null if none was reached.'),
  transferMethod: Joi.string()
    .valid(...TRANSFER_METHODS)
    .allow(null)
    .required()
    .description('How it was paid (asked for, or chosen by beneficiary bank and amount); null if no route was found.'),
  bankReference: nullableText("The bank's reference of the payment, once known."),
  bankResponseCode: nullableText("The bank's own result code, kept as the bank sent it."),
  bankMessage: nullableText("The bank's message (English where the bank gives one)."),
  createdAt: Joi.string().isoDate().required().description('When Gerbang received the payment (ISO 8601, UTC).'),
  updatedAt: Joi.string().isoDate().required().description('When its state last changed (ISO 8601, UTC).'),
  routing: Joi.array()
    .items(
      Joi.object<RoutingDecision>({
        partner: Joi.string().required().description('Bank partner tried.'),
        method: Joi.string()
          .valid(...TRANSFER_METHODS)
          .required()
          .description('Transfer method used with it.'),
        reason: Joi.string().required().description('Why this route was chosen.'),
        result: Joi.string().required().description('`sent`, or why the next route was tried.'),
      }),
    )
    .description('The routes tried, in order, and what became of each.'),
}).label('TransferResult');

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
