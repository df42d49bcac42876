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
  /**
   * FAILED only: who confirmed that no money moved — `BANK` (a refusal or a final failed status
   * from the bank), `STATEMENT` (the paying account's statement, read after the bank's day
   * closed, shows no debit) or `ADMIN` (an admin recorded the evidence). Null otherwise.
   */
  failureConfirmedBy?: FailureProof | null;
  /** The proof kept when a transfer in doubt was settled from a statement, a notification or an admin's evidence. */
  evidence?: SettlementEvidence | null;
  /** When the transfer entered the review queue (unresolved too long); absent when it is not in review. */
  reviewSince?: string | null;
  /** What the ERP should do now, in one sentence (never pay an in-doubt transfer again). */
  guidance?: string;
}

export type FailureProof = 'BANK' | 'STATEMENT' | 'ADMIN';
export const FAILURE_PROOFS: readonly FailureProof[] = ['BANK', 'STATEMENT', 'ADMIN'];

export type EvidenceKind = 'STATEMENT_LINE' | 'STATEMENT_WITHOUT_DEBIT' | 'BANK_REFERENCE' | 'CALL_REFERENCE' | 'BANK_NOTIFICATION';
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['STATEMENT_LINE', 'STATEMENT_WITHOUT_DEBIT', 'BANK_REFERENCE', 'CALL_REFERENCE', 'BANK_NOTIFICATION'];

export interface SettlementEvidence {
  kind: EvidenceKind;
  /** The statement line, the bank's reference or the call's reference, as recorded. */
  detail: string;
  /** The admin who recorded it; null when Gerbang read it from the bank. */
  recordedBy: string | null;
  recordedAt: string;
}

/** What the ERP should do with a transfer in this state, in plain words. */
export function guidanceOf(status: TransferStatus, failureConfirmedBy: FailureProof | null | undefined, inReview: boolean): string {
  switch (status) {
    case 'SUCCESS':
      return 'Paid: the bank executed this transfer. Do not pay it again.';
    case 'FAILED':
      if (failureConfirmedBy === 'STATEMENT') return "Not paid: the paying account's statement, read after the bank's day closed, shows no debit for it. If still owed, pay again under a new transactionId.";
      if (failureConfirmedBy === 'ADMIN') return 'Not paid: an administrator confirmed from evidence that no money moved. If still owed, pay again under a new transactionId.';
      return 'Not paid: the bank refused it or reported it failed, so no money moved. Fix the cause and, if still owed, pay again under a new transactionId.';
    case 'PENDING':
      return `Accepted by the bank, not final yet. Do NOT pay again: wait for the final status (callback, or GET /v1/transfers/{transactionId}).${inReview ? ' It is in the review queue.' : ''}`;
    default:
      return inReview
        ? 'Outcome not known and in the review queue: a person confirms it with the bank and records the evidence. Do NOT pay again under a new transactionId: the bank may have executed it.'
        : 'Outcome not known yet: Gerbang asks the bank and reads the account statement until it is proved. Do NOT pay again under a new transactionId: the bank may have executed it.';
  }
}

export interface RoutingDecision {
  partner: string;
  /** The BIC of the partner's bank; absent in a record written before it was kept. */
  bank?: string;
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
    .description(
      'SUCCESS: paid. FAILED: not paid, and `failureConfirmedBy` says who confirmed that no money moved. PENDING: accepted, not final (RTGS and SKN stay PENDING until the bank reports them settled); never pay again. UNKNOWN: the outcome is not proved yet; Gerbang resolves it through the status inquiry and the account statement, or an admin through the review queue; never pay again under a new transactionId.',
    ),
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
        bank: Joi.string().description("The BIC of the partner's bank (the bank the connection is at)."),
        method: Joi.string()
          .valid(...TRANSFER_METHODS)
          .required()
          .description('Transfer method used with it.'),
        reason: Joi.string().required().description('Why this route was chosen.'),
        result: Joi.string().required().description('`sent`, or why the next route was tried.'),
      }),
    )
    .description('The routes tried, in order, and what became of each.'),
  failureConfirmedBy: Joi.string()
    .valid(...FAILURE_PROOFS)
    .allow(null)
    .description(
      'FAILED only: who confirmed that no money moved. `BANK`: the bank refused it or reported it failed. `STATEMENT`: the paying account\'s statement, read after the bank\'s day closed, shows no debit. `ADMIN`: an admin recorded the evidence. Null for any other status.',
    ),
  evidence: Joi.object<SettlementEvidence>({
    kind: Joi.string()
      .valid(...EVIDENCE_KINDS)
      .required()
      .description('What proves the outcome: a statement line, a statement without the debit, the bank\'s reference, a call reference, or the bank\'s signed notification.'),
    detail: Joi.string().required().description('The proof as recorded (the statement line, the reference).'),
    recordedBy: Joi.string().allow(null).required().description('The admin who recorded it; null when Gerbang read it from the bank.'),
    recordedAt: Joi.string().isoDate().required().description('When it was recorded (ISO 8601, UTC).'),
  })
    .allow(null)
    .description('The proof kept when a transfer in doubt was settled from a statement, a notification or an admin\'s evidence.'),
  reviewSince: Joi.string().isoDate().allow(null).description('When the transfer entered the review queue (unresolved too long); absent when not in review.'),
  guidance: Joi.string().description('What the ERP should do now, in one sentence. For PENDING and UNKNOWN: never pay again under a new transactionId.'),
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
    // An outcome the adapter calls FAILED is the bank's own word: a refusal or a failed status.
    failureConfirmedBy: outcome.status === 'FAILED' ? 'BANK' : null,
    guidance: guidanceOf(outcome.status, outcome.status === 'FAILED' ? 'BANK' : null, false),
  };
}
