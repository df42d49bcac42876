import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors/index.js';
import { REVIEW_STATES, type AuditRepository, type ConsoleUserRepository, type PaymentRecord, type PaymentRepository, type TransferBatchRepository } from '../../store/types.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import { crossCheckReview, type ReviewCrossCheck, type ReviewStatements } from './review-cross-check.js';
import { currentResult, settle } from './settlement.js';
import type { EvidenceKind, SettlementEvidence, TransferResult } from './transfer-result.js';

/**
 * The review queue: transfers still in doubt past GERBANG_REVIEW_AFTER_MS (the resolver puts them
 * there). Only an admin takes one out, by recording the evidence — a statement line, the bank's
 * reference, or the reference of a call with the bank — and the outcome it proves. Gerbang reads
 * the paying account's statement itself first and refuses an outcome it contradicts
 * (review-cross-check.ts). Nothing is ever sent again. Every resolution is audited (an exchange
 * of method REVIEW, with what the statement said) and reaches the ERP like any final state: its
 * callback, and GET /v1/transfers/{id}.
 */
export interface ReviewDeps {
  payments: PaymentRepository;
  audit: AuditRepository;
  consoleUsers: ConsoleUserRepository;
  /** The payment runs whose lines met a reservation released here: those lines are queued again. */
  batches: Pick<TransferBatchRepository, 'requeueReleased'>;
  clock: () => number;
  finals?: FinalStateNotifier;
  /** The paying account's statement, read to cross-check each resolution. */
  statements: ReviewStatements;
}

/** The evidence an admin may record (the kinds Gerbang reads from the bank itself are not among them). */
export const ADMIN_EVIDENCE_KINDS = ['STATEMENT_LINE', 'BANK_REFERENCE', 'CALL_REFERENCE'] as const satisfies readonly EvidenceKind[];
export type AdminEvidenceKind = (typeof ADMIN_EVIDENCE_KINDS)[number];

export interface ReviewResolution {
  paymentId: number;
  outcome: 'SUCCESS' | 'FAILED';
  evidenceKind: AdminEvidenceKind;
  evidence: string;
  /** Console username of the admin. */
  admin: string;
  /** Where it was recorded: `cli` or `console` (kept in the audit). */
  via: 'cli' | 'console';
  /** Caller's address for the audit (`internal` for the CLI). */
  remoteIp: string;
}

export interface ReviewItem {
  payment: PaymentRecord;
  result: TransferResult;
}

/**
 * What resolving a reservation (RECEIVED) as FAILED does: it was never sent, so it is released
 * (deleted with its RELEASED event) and the ERP's resend of its transactionId is paid as new; a
 * payment-run line that met it in review is queued again, so its run pays it (once: one transactionId).
 * No final state is announced: the transfer is not over, the ERP's resend goes on with it.
 */
export interface ReleasedReservation {
  transactionId: string;
  status: 'RELEASED';
  evidence: SettlementEvidence;
  bankMessage: string;
}

/** What a resolution did, with what the paying account's statement said of it (never `contradicted`: that is refused). */
export type ResolvedReview = (TransferResult | ReleasedReservation) & { crossCheck: ReviewCrossCheck };

/** True when `payment` is in the review queue: marked for review and still in doubt, or a reservation never proved sent or unsent. */
function inReview(payment: PaymentRecord): boolean {
  return payment.reviewSince !== null && REVIEW_STATES.includes(payment.state);
}

/**
 * True for a reservation in review: a request reserved it and stopped before routing it, and its
 * takeover could not prove that (the proof was beyond its bound), so it was never proved sent or unsent.
 */
export function isReservationInReview(payment: PaymentRecord): boolean {
  return payment.state === 'RECEIVED' && payment.reviewSince !== null;
}

/** The transfers waiting in the review queue, oldest first. */
export async function listReviewQueue(payments: Pick<PaymentRepository, 'listInReview'>, now: number, limit = 200): Promise<ReviewItem[]> {
  return (await payments.listInReview(limit)).map((payment) => ({ payment, result: currentResult(payment, now) }));
}

/** One payment as the review shows it (in the queue or not); null when there is no such payment. */
export async function showReviewItem(payments: Pick<PaymentRepository, 'findById'>, id: number, now: number): Promise<(ReviewItem & { inReview: boolean }) | null> {
  const payment = await payments.findById(id);
  if (!payment) return null;
  return { payment, result: currentResult(payment, now), inReview: inReview(payment) };
}

/**
 * Resolves one transfer of the review queue. A reservation (RECEIVED, never proved sent or
 * unsent) resolved FAILED (the bank shows it was never sent) is released, so the ERP's resend is
 * paid once; resolved SUCCESS it is settled paid, so the resend replays it. Throws
 * REVIEW_FORBIDDEN when `admin` is not an active admin, VALIDATION_FAILED for a missing outcome or
 * evidence, NOT_FOUND for an unknown payment, REVIEW_CONFLICT when it is not in the queue or was
 * settled (or released, or taken on) meanwhile, REVIEW_CONTRADICTED when the paying account's
 * statement shows the opposite (the line, or the debit missing, named): nothing is changed then.
 * A statement that cannot be read or proves nothing lets the admin's word go ahead, and the
 * answer's `crossCheck` (kept in the audit) says why it was not cross-checked.
 */
export async function resolveReview(deps: ReviewDeps, input: ReviewResolution): Promise<ResolvedReview> {
  const user = await deps.consoleUsers.findByUsername(input.admin);
  if (!user || user.role !== 'admin' || user.status !== 'active') {
    throw new AppError('REVIEW_FORBIDDEN', `Only an active admin may resolve a transfer in review; ${JSON.stringify(input.admin)} is not one.`);
  }
  const evidence = input.evidence.trim();
  const fields = [
    ...(input.outcome === 'SUCCESS' || input.outcome === 'FAILED' ? [] : [{ field: 'outcome', message: 'must be SUCCESS or FAILED', rule: 'review-outcome' }]),
    ...((ADMIN_EVIDENCE_KINDS as readonly string[]).includes(input.evidenceKind) ? [] : [{ field: 'evidenceKind', message: `must be one of ${ADMIN_EVIDENCE_KINDS.join(', ')}`, rule: 'review-evidence-kind' }]),
    ...(evidence.length >= 4 && evidence.length <= 500 ? [] : [{ field: 'evidence', message: 'must be the statement line or reference, 4 to 500 characters', rule: 'review-evidence' }]),
  ];
  if (fields.length > 0) throw new AppError('VALIDATION_FAILED', 'The resolution needs an outcome and its evidence.', { fields });
  const payment = await deps.payments.findById(input.paymentId);
  if (!payment) throw new AppError('NOT_FOUND', `No payment #${input.paymentId}.`);
  if (!inReview(payment)) {
    throw new AppError('REVIEW_CONFLICT', `Payment #${payment.id} (${payment.transactionId}) is not in the review queue (state ${payment.state}).`);
  }

  const requestId = `review-${randomUUID()}`;
  const exchangeId = await deps.audit.open({
    requestId,
    receivedAt: deps.clock(),
    remoteIp: input.remoteIp,
    origin: null,
    method: 'REVIEW',
    path: `/internal/review/${payment.transactionId}`,
    clientId: payment.clientId,
    transactionId: payment.transactionId,
    amount: payment.amount,
    requestHeaders: {},
    requestBody: JSON.stringify({ admin: user.username, via: input.via, outcome: input.outcome, evidenceKind: input.evidenceKind, evidence }),
  });
  /** Completes the REVIEW exchange with `answer`, as done or as refused with `refusal`. */
  const complete = async (answer: unknown, refusal: AppError | null): Promise<void> => {
    await deps.audit.complete(exchangeId, {
      outcome: refusal === null ? 'completed' : refusal.status === 409 ? 'rejected' : 'failed',
      statusCode: refusal === null ? 200 : refusal.status,
      errorCode: refusal === null ? null : refusal.code,
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      amount: payment.amount,
      responseBody: JSON.stringify(answer),
      completedAt: deps.clock(),
    });
  };
  /** Completes the REVIEW exchange with `answer`; throws REVIEW_CONFLICT (`conflict`) unless `done`. */
  const finish = async (done: boolean, answer: unknown, conflict: string): Promise<void> => {
    const refusal = done ? null : new AppError('REVIEW_CONFLICT', `Payment #${payment.id} (${payment.transactionId}) ${conflict}.`);
    await complete(answer, refusal);
    if (refusal !== null) throw refusal;
  };

  // The admin's word is checked against the bank's own record before anything is changed.
  let crossCheck: ReviewCrossCheck;
  try {
    crossCheck = await crossCheckReview(deps.statements, payment, input.outcome, deps.clock());
  } catch (error) {
    await complete({ error: 'INTERNAL_ERROR', crossCheck: { result: 'unchecked', reason: 'the statement read failed unexpectedly' } }, new AppError('INTERNAL_ERROR', 'The statement read failed unexpectedly.'));
    throw error;
  }
  if (crossCheck.result === 'contradicted') {
    const wrong = input.outcome === 'FAILED' ? 'the money left the paying account for this transfer' : 'no debit of its amount is on the statement, read after the bank\'s day closed';
    const refusal = new AppError('REVIEW_CONTRADICTED', `Payment #${payment.id} (${payment.transactionId}) was not resolved ${input.outcome}: the paying account's statement contradicts it (${wrong}). ${crossCheck.found}`, {
      extensions: { found: crossCheck.found },
    });
    await complete({ error: 'REVIEW_CONTRADICTED', crossCheck }, refusal);
    throw refusal;
  }
  const now = deps.clock();
  const recorded: SettlementEvidence = { kind: input.evidenceKind, detail: evidence, recordedBy: user.username, recordedAt: new Date(now).toISOString() };
  if (input.outcome === 'FAILED' && isReservationInReview(payment)) {
    // Deleted only while it is still the row read here (RECEIVED, untouched since): a request that
    // moved it on meanwhile keeps it, and this resolution is refused.
    const released = await deps.payments.releaseStale(payment.id, payment.updatedAt);
    // A payment-run line that met it was answered 202 (in review) and would never be paid: the
    // run pays it now, as the ERP's resend would (the transactionId lets one of them through).
    const lines = released ? await deps.batches.requeueReleased(payment.clientId, payment.transactionId, deps.clock()) : 0;
    const answer: ReleasedReservation & { crossCheck: ReviewCrossCheck } = {
      transactionId: payment.transactionId,
      status: 'RELEASED',
      evidence: recorded,
      bankMessage:
        `Released in review by ${user.username}: never sent, from the recorded evidence; the ERP's resend of this transactionId is paid as a new transfer` +
        (lines > 0 ? `, and so is the payment-run line that met it (queued again: ${lines}).` : '.'),
      crossCheck,
    };
    await finish(released, released ? answer : { error: 'REVIEW_CONFLICT' }, 'changed meanwhile; it was not released');
    return answer;
  }
  // Stored only while the row holds the bank id the admin's evidence was checked against (settle).
  const result = await settle(
    deps.payments,
    payment,
    {
      status: input.outcome,
      bankReference: input.evidenceKind === 'BANK_REFERENCE' ? evidence.slice(0, 64) : payment.bankReference,
      bankResponseCode: null,
      bankMessage: `Resolved in review by ${user.username}: ${input.outcome === 'SUCCESS' ? 'executed' : 'not executed'}, from the recorded evidence.`,
    },
    now,
    deps.finals,
    { failureConfirmedBy: 'ADMIN', evidence: recorded },
  );
  const settledHere = result.evidence?.recordedBy === user.username && result.evidence.detail === evidence;
  await finish(settledHere, { ...result, crossCheck }, `was settled or sent under another bank id meanwhile (now ${result.status})`);
  return { ...result, crossCheck };
}
