import type { BankCall, TransferOutcome } from '../../banks/types.js';
import { AppError, isAppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import type { AuditTrail } from '../../pipeline/audit/index.js';
import { jakartaDate } from '../../time/index.js';
import { UniqueViolationError, type PaymentRecord, type PaymentRepository, type SequenceRepository } from '../../store/types.js';
import type { BankRouter } from '../routing/index.js';
import { requestHash } from './request-hash.js';
import { buildResult, httpStatusOf, type TransferResult } from './transfer-result.js';
import type { TransferRequest } from './transfer-schema.js';

const log = getLogger('transfers');

export interface CreateTransferDeps {
  payments: PaymentRepository;
  sequences: SequenceRepository;
  router: BankRouter;
  clock: () => number;
}

export interface TransferContext {
  clientId: string;
  audit: AuditTrail;
}

export interface TransferReply {
  httpStatus: number;
  result: TransferResult;
  /** True when this is the stored answer of an earlier identical request. */
  replayed: boolean;
}

/**
 * One vendor payment, in the order that keeps money safe:
 *  1. the inbound exchange is committed to the audit before anything else;
 *  2. (client, transactionId) is reserved in the store, which decides idempotency for every
 *     worker and node: a resend gets the stored answer, a changed payload 422, a resend while
 *     the first is in flight 409;
 *  3. the route is chosen and the bank's own transaction id is issued by the store and saved
 *     *before* sending, so a crash after sending leaves a record the status inquiry can follow;
 *  4. the bank adapter sends it, every bank exchange audited as it happens;
 *  5. the outcome is stored and answered.
 * A transfer that certainly did not reach the bank is released so the ERP may retry it with the
 * same transactionId; one that may have reached it is never released and never re-sent.
 */
export async function createTransfer(deps: CreateTransferDeps, request: TransferRequest, ctx: TransferContext): Promise<TransferReply> {
  ctx.audit.set({ clientId: ctx.clientId, transactionId: request.transactionId, amount: request.amount });
  await ctx.audit.open();

  const hash = requestHash(request);
  const reserved = await reserve(deps, request, ctx.clientId, hash);
  if ('replay' in reserved) return reserved.replay;
  const payment = reserved.payment;

  let sentToBank = false;
  try {
    const route = deps.router.route(request.beneficiaryBankCode);
    const bankTransactionId = formatBankTransactionId(await deps.sequences.next(`${route.partner}:transaction-id`));
    const transactionDate = jakartaDate(deps.clock());
    await deps.payments.update(
      payment.id,
      { state: 'SENDING', bank: route.partner, operation: route.operation, bankTransactionId, bankTransactionDate: transactionDate },
      deps.clock(),
    );
    log.info({ transactionId: request.transactionId, partner: route.partner, reason: route.reason }, 'transfer routed');

    const remark = request.remark ?? '';
    const outcome = await route.adapter
      .transferIntrabank(
        {
          bankTransactionId,
          transactionDate,
          referenceId: request.transactionId,
          sourceAccountNumber: request.sourceAccountNumber,
          beneficiaryAccountNumber: request.beneficiaryAccountNumber,
          amount: request.amount,
          currency: request.currency,
          remark1: remark.slice(0, 18).trim(),
          remark2: remark.slice(18, 36).trim(),
        },
        {
          onCall: async (call: BankCall) => {
            if (call.operation !== 'token') sentToBank = true;
            await ctx.audit.recordBankCall(call);
          },
        },
      )
      .catch((error: unknown): TransferOutcome => {
        // BANK_UNAVAILABLE is the adapter's word that nothing was executed (not reached, or
        // refused before processing): the reservation is released below.
        if (!sentToBank || (isAppError(error) && error.code === 'BANK_UNAVAILABLE')) {
          sentToBank = false;
          throw error;
        }
        // Once the transfer itself went out, any other failure leaves it in doubt: never re-send.
        log.error({ err: error, transactionId: request.transactionId }, 'transfer in doubt after an error past sending');
        return { status: 'UNKNOWN', bankReference: null, bankResponseCode: null, bankMessage: 'The outcome is not known yet; it will be resolved by status inquiry.' };
      });
    return await recordOutcome(deps, payment, route.partner, outcome);
  } catch (error) {
    if (!sentToBank) await release(deps, payment);
    throw error;
  }
}

type Reservation = { payment: PaymentRecord } | { replay: TransferReply };

async function reserve(deps: CreateTransferDeps, request: TransferRequest, clientId: string, hash: string): Promise<Reservation> {
  try {
    const payment = await deps.payments.reserve(
      { clientId, transactionId: request.transactionId, requestHash: hash, amount: request.amount, currency: request.currency },
      deps.clock(),
    );
    return { payment };
  } catch (error) {
    if (!(error instanceof UniqueViolationError)) throw error;
  }
  const existing = await deps.payments.find(clientId, request.transactionId);
  if (!existing) {
    throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This transactionId is being processed; retry shortly.', { headers: { 'Retry-After': '1' } });
  }
  if (existing.requestHash !== hash) {
    throw new AppError('IDEMPOTENCY_MISMATCH', 'This transactionId was already used for a different payment; use a new transactionId.', {
      fields: [{ field: 'transactionId', message: 'already used with a different payload' }],
    });
  }
  if (existing.resultJson === null || existing.httpStatus === null) {
    throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This transactionId is being processed; retry shortly.', { headers: { 'Retry-After': '1' } });
  }
  return { replay: { httpStatus: existing.httpStatus, result: JSON.parse(existing.resultJson) as TransferResult, replayed: true } };
}

async function recordOutcome(deps: CreateTransferDeps, payment: PaymentRecord, bank: string, outcome: TransferOutcome): Promise<TransferReply> {
  const now = deps.clock();
  const result = buildResult(payment, bank, outcome, now);
  const httpStatus = httpStatusOf(outcome.status);
  try {
    await deps.payments.update(
      payment.id,
      { state: outcome.status, bankReference: outcome.bankReference, resultJson: JSON.stringify(result), httpStatus },
      now,
    );
  } catch (error) {
    // The bank has answered: tell the ERP the truth even if the store cannot take it now. The
    // payment stays SENDING, which the status inquiry resolves; a resend meanwhile gets 409.
    log.error({ err: error, transactionId: payment.transactionId, status: outcome.status }, 'transfer outcome could not be stored');
  }
  return { httpStatus, result, replayed: false };
}

async function release(deps: CreateTransferDeps, payment: PaymentRecord): Promise<void> {
  try {
    await deps.payments.release(payment.id);
  } catch (error) {
    log.error({ err: error, transactionId: payment.transactionId }, 'reservation of an unsent transfer could not be released');
  }
}

/** BCA's TransactionID is exactly 8 digits; the store's counter makes it unique across nodes. */
function formatBankTransactionId(sequence: number): string {
  return String(sequence % 100_000_000).padStart(8, '0');
}
