import type { BankCall, IntrabankTransferOrder, InterbankTransferOrder, TransferOutcome } from '../../banks/types.js';
import { cents } from '../../config/index.js';
import { AppError, isAppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import type { ExchangeAudit } from '../../audit/index.js';
import { jakartaDate } from '../../time/index.js';
import { ChainDependency, DependencyRefusedError, UniqueViolationError, type AccountGrantRepository, type PaymentDetails, type PaymentRecord, type PaymentRepository, type SendingFields, type SequenceRepository } from '../../store/types.js';
import { checkAccountGranted } from '../accounts/index.js';
import { canonicalBic, routeResultText, type BankRouter, type RouteResult, type TransferRoute } from '../routing/index.js';
import type { FinalStateNotifier } from '../callbacks/index.js';
import { nextBankTransactionId } from './bank-transaction-id.js';
import { looksLeftBehind, provedLeftBehind, RESERVATION_STALE_MS, type LeftBehindDeps } from './left-behind.js';
import { currentResult } from './settlement.js';
import { requestHash } from './request-hash.js';
import { buildResult, httpStatusOf, type RoutingDecision, type TransferResult } from './transfer-result.js';
import type { TransferRequest } from './transfer-schema.js';
import { writeNowOrLater } from './write-again.js';

const log = getLogger('transfers');

export interface CreateTransferDeps extends LeftBehindDeps {
  payments: PaymentRepository;
  /** The bank-id counters (a gateway hands them out in blocks: BankIdBlocks). */
  sequences: Pick<SequenceRepository, 'next'>;
  /** Read through RecentClients on the request path (a revoked grant is refused within GERBANG_CACHE_STALENESS_MS). */
  accountGrants: Pick<AccountGrantRepository, 'isGranted'>;
  router: BankRouter;
  clock: () => number;
  /** Told when a transfer becomes final (the ERP's callback). */
  finals?: FinalStateNotifier;
  /**
   * Asked once a reservation found its key free, before anything is sent: null when no payment was
   * made for that key before, or the one made was released; why not otherwise (that payment was
   * deleted or altered in the database, so this one would pay it again: AuditScrub.beforeNewPayment).
   * Answers from memory unless the key was used before.
   */
  newPaymentCheck?: (clientId: string, transactionId: string, paymentId: number, createdAt: number) => Promise<string | null> | null;
}

export interface TransferContext {
  clientId: string;
  audit: ExchangeAudit;
}

export interface TransferReply {
  httpStatus: number;
  result: TransferResult;
  /** True when this is the stored answer of an earlier identical request. */
  replayed: boolean;
}

/**
 * One vendor payment, in the order that keeps money safe:
 *  1. the inbound exchange is committed to the audit before anything goes on (written together
 *     with the reservation of step 3 when it can: one COMMIT makes both durable);
 *  2. the paying account is settled (asked for, or the default one) and must be a company
 *     account of a partner (400) granted to the client (404 otherwise, as if it did not exist);
 *  3. (client, transactionId) is reserved in the store, which decides idempotency for every
 *     worker and node: a resend gets the stored answer, a changed payload 422, a resend while
 *     the first is in flight 409;
 *  4. the route (the partners holding the paying account) is chosen and the bank's own
 *     transaction id is issued by the store and saved *before* sending, so a crash after
 *     sending leaves a record the status inquiry can follow; for the first route both are
 *     chosen before step 3 and written by the reservation itself (reserved SENDING, one write);
 *  5. the bank adapter sends it, every bank exchange audited as it happens;
 *  6. the outcome is stored and answered, the exchange's audit record completed beside it.
 * A transfer that certainly did not reach the bank is released so the ERP may retry it with the
 * same transactionId; one that may have reached it is never released and never re-sent.
 */
export async function createTransfer(deps: CreateTransferDeps, request: TransferRequest, ctx: TransferContext): Promise<TransferReply> {
  ctx.audit.set({
    clientId: ctx.clientId,
    transactionId: request.transactionId,
    amount: request.amount,
    sourceAccount: request.sourceAccountNumber ?? null,
    beneficiaryAccount: request.beneficiaryAccountNumber,
  });
  // Begun first and awaited before any answer: the grants and the first route are read from
  // memory meanwhile, so the reservation usually joins the exchange's chain group (one COMMIT).
  const opened = ctx.audit.open();
  let sourceAccountNumber: string;
  let first: FirstRoute | null;
  try {
    // An account asked for is checked against the grants first, so a client learns nothing about
    // the company's accounts it may not use (404 whether or not a partner holds it).
    if (request.sourceAccountNumber !== undefined) await checkAccountGranted(deps.accountGrants, ctx.clientId, request.sourceAccountNumber, 'sourceAccountNumber');
    sourceAccountNumber = deps.router.payingAccount(request.sourceAccountNumber, request.beneficiaryBankCode);
    ctx.audit.set({ sourceAccount: sourceAccountNumber });
    // The account Gerbang chose (none was asked for) is checked too; one asked for was just checked.
    if (sourceAccountNumber !== request.sourceAccountNumber) await checkAccountGranted(deps.accountGrants, ctx.clientId, sourceAccountNumber, 'sourceAccountNumber');
    first = await firstRoute(deps, { ...request, sourceAccountNumber }, ctx);
  } catch (error) {
    // The exchange's record is settled first (its failure, STORE_UNAVAILABLE, is the answer).
    await opened;
    throw error;
  }

  const hash = requestHash(request);
  const reserved = await reserveOnceOpened(deps, request, ctx, hash, first?.sending, opened);
  if ('replay' in reserved) return reserved.replay;
  const payment = reserved.payment;

  // An error thrown by send() may come after a bank executed the transfer (its outcome or its
  // answer not recorded): the reservation is kept for the resolver, never released for a resend.
  const sent = await send(deps, { ...request, sourceAccountNumber }, payment, ctx, first);
  if ('reply' in sent) return sent.reply;
  // No route executed the transfer: the ERP may retry the same id.
  await release(deps, sent.payment, ctx);
  throw sent.unsent;
}

/** The routes, the first one's bank id issued, for a reservation made straight into SENDING. */
interface FirstRoute {
  routes: TransferRoute[];
  sending: SendingFields;
}

/** The routes of a transfer, in the order they are tried (BankRouter.route; throws ROUTE_UNAVAILABLE or VALIDATION_FAILED). */
function routesOf(deps: CreateTransferDeps, request: TransferRequest & { sourceAccountNumber: string }): TransferRoute[] {
  return deps.router.route({
    sourceAccountNumber: request.sourceAccountNumber,
    beneficiaryBankCode: request.beneficiaryBankCode,
    amountCents: cents(request.amount),
    transferMethod: request.transferMethod,
  });
}

/**
 * The route the transfer will be sent through first, with its bank id issued, so that the
 * reservation, the route, the bank id and SENDING are one write. Null whenever that is not plain
 * (no route, a route it must skip, no bank id to issue now, the store refusing): the transfer is
 * then reserved RECEIVED and routed after, as the loop in send() does for every later route, so
 * a resend still meets its stored answer, 409 or 422 before any routing error. A bank id issued
 * for a reservation that loses to an existing one (a resend) is never used: ids are unique, not
 * contiguous, and a day holds 13.6 million of them per corporate.
 */
async function firstRoute(deps: CreateTransferDeps, request: TransferRequest & { sourceAccountNumber: string }, ctx: TransferContext): Promise<FirstRoute | null> {
  try {
    const routes = routesOf(deps, request);
    const route = routes[0];
    if (!route || route.onlyAfter || (route.method !== 'INTRABANK' && !request.beneficiaryName)) return null;
    const now = deps.clock();
    const bankTransactionId = await nextBankTransactionId(deps.sequences, route, now);
    return { routes, sending: { bank: route.partner, operation: route.operation, bankTransactionId, bankTransactionDate: jakartaDate(now) } };
  } catch (error) {
    log.debug({ ...ctx.audit.requestContext, err: error, transactionId: request.transactionId }, 'first route not prepared before the reservation; routing after it');
    return null;
  }
}

/**
 * What became of a reservation sent: the answer, or `unsent` (the error to throw) while no route
 * executed the transfer, with the payment as last written, its bank id certainly never executed.
 */
type Sent = { reply: TransferReply } | { unsent: unknown; payment: PaymentRecord };

/**
 * Tries the routes in order. A route whose partner certainly did not take the transfer
 * (BANK_UNAVAILABLE: not reached, circuit open, refused before processing; or a method it
 * cannot send) gives way to the next, each under a fresh bank id; the first that takes it
 * decides the outcome. Every decision is kept in the result, so the audit shows the route.
 * Only what proves nothing was executed is returned `unsent`; anything thrown (an outcome or
 * its answer not recorded once a bank took the transfer) leaves the reservation in place.
 */
async function send(
  deps: CreateTransferDeps,
  request: TransferRequest & { sourceAccountNumber: string },
  reserved: PaymentRecord,
  ctx: TransferContext,
  first: FirstRoute | null,
): Promise<Sent> {
  // The payment as last written, for the outcome's event (its eventSeq is unknown after an update()).
  let payment = reserved;
  let routes: TransferRoute[];
  try {
    routes = first?.routes ?? routesOf(deps, request);
  } catch (error) {
    return { unsent: error, payment };
  }
  const decisions: RoutingDecision[] = [];
  let failure: AppError | null = null;
  for (const [index, route] of routes.entries()) {
    // A fallback route (online switching after BI-FAST) is for one reason of failure only.
    if (route.onlyAfter && failure?.extensions.reason !== route.onlyAfter) continue;
    // Last unless an unconditional route follows (a fallback is taken only for its reason).
    const last = !routes.slice(index + 1).some((next) => !next.onlyAfter);
    if (route.method !== 'INTRABANK' && !request.beneficiaryName) {
      decisions.push(decision(route, { kind: 'skipped-no-name' }));
      if (!last) continue;
      const unsent = new AppError('VALIDATION_FAILED', 'A transfer to another bank needs the beneficiary name.', {
        fields: [{ field: 'beneficiaryName', message: 'is required for a transfer to another bank' }],
      });
      return { unsent, payment };
    }
    // The first route was written with the reservation (reserved SENDING); a later one is marked now.
    const reservedSending = index === 0 && first !== null;
    let sending: SendingFields;
    try {
      sending = reservedSending ? first.sending : await nextSending(deps, route);
    } catch (error) {
      return { unsent: error, payment };
    }
    // Thrown, never `unsent`: the row moved on (a status read settled it, a resolver checked it,
    // it was released as stale), so it is no longer this request's to send or to release.
    if (!reservedSending) await markSending(deps, payment, sending);
    if (!reservedSending) payment = { ...payment, state: 'SENDING', ...sending, eventSeq: undefined };
    const { bankTransactionId, bankTransactionDate: transactionDate } = sending;
    // The plain first choice at debug (the access log has the request, the audit the route and its
    // reason); a later route, taken because an earlier one failed or was skipped, at info.
    (index === 0 ? log.debug : log.info)({ ...ctx.audit.requestContext, transactionId: request.transactionId, partner: route.partner, method: route.method, reason: route.reason }, 'transfer routed');
    let sent: Awaited<ReturnType<typeof sendThrough>>;
    try {
      sent = await sendThrough(route, orderOf(request, bankTransactionId, transactionDate), ctx);
    } catch (error) {
      // sendThrough throws only while nothing was executed.
      if (!isAppError(error) || (error.code !== 'BANK_UNAVAILABLE' && error.code !== 'ROUTE_UNAVAILABLE')) return { unsent: error, payment };
      const usable = routes.slice(index + 1).some((next) => !next.onlyAfter || next.onlyAfter === error.extensions.reason);
      if (!usable) return { unsent: error, payment };
      failure = error;
      decisions.push(decision(route, { kind: 'not-sent', why: error.message }));
      log.warn({ ...ctx.audit.requestContext, transactionId: request.transactionId, partner: route.partner, code: error.code }, 'partner could not take the transfer; trying the next route');
      continue;
    }
    decisions.push(decision(route, { kind: 'sent' }));
    return { reply: await recordOutcome(deps, payment, route, sent.outcome, decisions, ctx, sent.leg) };
  }
  return { unsent: failure ?? new AppError('ROUTE_UNAVAILABLE', 'No route is left for this transfer.'), payment };
}

/** A route tried, as the routing record keeps it: the connection and its bank, the method, why, and what became of it. */
function decision(route: TransferRoute, result: RouteResult): RoutingDecision {
  return { partner: route.partner, ...(route.bank ? { bank: route.bank } : {}), method: route.method, reason: route.reason, result: routeResultText(result) };
}

/** Issues a later route's bank id. */
async function nextSending(deps: CreateTransferDeps, route: TransferRoute): Promise<SendingFields> {
  const now = deps.clock();
  return { bank: route.partner, operation: route.operation, bankTransactionId: await nextBankTransactionId(deps.sequences, route, now), bankTransactionDate: jakartaDate(now) };
}

/**
 * Moves the payment to SENDING under `sending`, only from what this request last wrote (`payment`).
 * IDEMPOTENCY_IN_FLIGHT when the row moved on meanwhile (this request was slow enough to be taken
 * for stale): a status read settled the earlier id, the resolver checked it, or the reservation was
 * released and the ERP's resend owns the transactionId. Nothing is sent then, and nothing released:
 * the ERP's resend meets what the row holds.
 */
async function markSending(deps: CreateTransferDeps, payment: PaymentRecord, sending: SendingFields): Promise<void> {
  if (await deps.payments.markSending(payment.id, sending, deps.clock(), payment)) return;
  log.warn({ transactionId: payment.transactionId, bankTransactionId: payment.bankTransactionId }, 'the payment moved on while its next route was prepared; not sent');
  throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This transactionId is being processed; retry shortly.', { headers: { 'Retry-After': '1' } });
}

/** What a transfer is stored and answered as when the bank's outcome cannot be: in doubt, for the status inquiry. */
const IN_DOUBT: TransferOutcome = { status: 'UNKNOWN', bankReference: null, bankResponseCode: null, bankMessage: 'The outcome is not known yet; it will be resolved by status inquiry.' };

/**
 * The bank leg that brought a transfer's answer, its audit write begun but not awaited: the
 * outcome and the exchange's completion are written after it (`dependency`), so all three
 * usually commit in one chain group. `written` settles once the leg is durable (the database or
 * the spool took it), or rejects when nothing took it.
 */
interface PendingLeg {
  dependency: ChainDependency;
  written: Promise<void>;
}

/**
 * Sends through one route. Throws the adapter's error only while nothing was executed (the
 * caller may fall back, or release); once the transfer itself went out, any other failure
 * (an audit write included) is UNKNOWN: kept, never re-sent, resolved by status inquiry.
 *
 * Token exchanges and every leg before the last are recorded as the adapter reports them and
 * awaited (an error stops the adapter, as its contract says). The last leg's write is begun and
 * returned with the outcome instead (PendingLeg): the caller never stores or answers that outcome
 * unless its leg is durable (recordOutcome). On an error from the adapter it is awaited here.
 */
async function sendThrough(route: TransferRoute, order: IntrabankTransferOrder, ctx: TransferContext): Promise<{ outcome: TransferOutcome; leg: PendingLeg | null }> {
  let sentToBank = false;
  let leg: PendingLeg | null = null;
  const bankCtx = {
    requestContext: ctx.audit.requestContext,
    onCall: async (call: BankCall) => {
      if (call.operation === 'token') return ctx.audit.recordBankCall(call);
      sentToBank = true;
      // An earlier leg of this transfer is awaited before the next is begun: only the last is pending.
      if (leg) await leg.written;
      const dependency = new ChainDependency();
      const written = ctx.audit.recordBankCall(call, dependency);
      // Settled by the caller (recordOutcome, or the catch below); never an unhandled rejection.
      written.catch(() => undefined);
      leg = { dependency, written };
    },
  };
  try {
    const outcome =
      route.method === 'INTRABANK'
        ? await route.adapter.transferIntrabank(order, bankCtx)
        : await route.adapter.transferInterbank({ ...(order as InterbankTransferOrder), method: route.method }, bankCtx);
    return { outcome, leg };
  } catch (error) {
    let legLost: unknown = null;
    // The leg of a failed exchange is durable, or the transfer is in doubt, before anything else is decided.
    await (leg as PendingLeg | null)?.written.catch((lost: unknown) => (legLost = lost ?? new Error('the bank leg was not recorded')));
    // BANK_UNAVAILABLE is the adapter's word that nothing was executed (not reached, or
    // refused before processing).
    if (legLost === null && (!sentToBank || (isAppError(error) && error.code === 'BANK_UNAVAILABLE'))) throw error;
    log.error({ ...ctx.audit.requestContext, err: legLost ?? error, transactionId: order.referenceId }, 'transfer in doubt after an error past sending');
    return { outcome: IN_DOUBT, leg: null };
  }
}

/** The order every adapter takes; interbank fields ride along and are read only by transferInterbank. */
function orderOf(request: TransferRequest & { sourceAccountNumber: string }, bankTransactionId: string, transactionDate: string): IntrabankTransferOrder & Omit<InterbankTransferOrder, 'method'> {
  const remark = request.remark ?? '';
  return {
    bankTransactionId,
    transactionDate,
    referenceId: request.transactionId,
    sourceAccountNumber: request.sourceAccountNumber,
    beneficiaryAccountNumber: request.beneficiaryAccountNumber,
    amount: request.amount,
    currency: request.currency,
    remark1: remark.slice(0, 18).trim(),
    remark2: remark.slice(18, 36).trim(),
    beneficiaryEmail: request.beneficiaryEmail,
    beneficiaryBankCode: canonicalBic(request.beneficiaryBankCode) ?? request.beneficiaryBankCode,
    beneficiaryName: request.beneficiaryName ?? '',
    beneficiaryAddress: request.beneficiaryAddress,
    beneficiaryCustomerType: request.beneficiaryCustomerType && CUSTOMER_TYPES[request.beneficiaryCustomerType],
    beneficiaryCustomerResidence: request.beneficiaryResident === undefined ? undefined : request.beneficiaryResident ? '1' : '2',
    purposeCode: request.purposeCode,
  };
}

const CUSTOMER_TYPES = { PERSON: '1', COMPANY: '2', GOVERNMENT: '3' } as const;

type Reservation = { payment: PaymentRecord } | { replay: TransferReply };

/**
 * Reserves the transfer beside the exchange's audit record being opened, so both usually commit in
 * one chain group. Nothing goes on unless the record committed: when it did not (STORE_UNAVAILABLE,
 * thrown), a reservation made meanwhile is released, as one that never reached a bank.
 */
async function reserveOnceOpened(deps: CreateTransferDeps, request: TransferRequest, ctx: TransferContext, hash: string, sending: SendingFields | undefined, opened: Promise<number>): Promise<Reservation> {
  const [record, reservation] = await Promise.allSettled([opened, reserve(deps, request, ctx, hash, sending)]);
  if (record.status === 'rejected') {
    if (reservation.status === 'fulfilled' && 'payment' in reservation.value) await release(deps, reservation.value.payment, ctx);
    throw record.reason;
  }
  if (reservation.status === 'rejected') throw reservation.reason;
  return reservation.value;
}

/** The facts the finance console shows and searches for this payment (stored sealed). */
function paymentDetails(request: TransferRequest): PaymentDetails {
  return {
    sourceAccount: request.sourceAccountNumber ?? null,
    beneficiaryAccount: request.beneficiaryAccountNumber,
    beneficiaryBankCode: request.beneficiaryBankCode,
    beneficiaryName: request.beneficiaryName ?? null,
    remark: request.remark ?? null,
    transferMethod: request.transferMethod ?? null,
  };
}

async function reserve(deps: CreateTransferDeps, request: TransferRequest, ctx: TransferContext, hash: string, sending: SendingFields | undefined, retried = false): Promise<Reservation> {
  const { clientId } = ctx;
  let reserved: PaymentRecord | undefined;
  try {
    reserved = await deps.payments.reserve(
      {
        clientId,
        transactionId: request.transactionId,
        requestHash: hash,
        amount: request.amount,
        currency: request.currency,
        sourceAccount: request.sourceAccountNumber,
        details: paymentDetails(request),
        sending,
      },
      deps.clock(),
    );
  } catch (error) {
    if (!(error instanceof UniqueViolationError)) {
      // The store may have committed the row and lost only its answer (a database node dying
      // as it commits): a row reserved SENDING under this attempt's bank id would then answer
      // every resend 409 and wait for the resolver, though nothing was sent under that id.
      if (sending) await takeBackOwn(deps, ctx, request.transactionId, hash, sending);
      throw error;
    }
  }
  if (reserved) return { payment: await notPaidBefore(deps, reserved, ctx) };
  const existing = await deps.payments.find(clientId, request.transactionId);
  // Our own reservation, committed by an attempt whose answer was lost and then refused as a
  // duplicate when the write was tried again: the bank id is this attempt's, so nothing was
  // sent under it and the transfer goes on from here, once nothing says its key was paid before.
  if (existing && sending && isOwnReservation(existing, hash, sending)) return { payment: await notPaidBefore(deps, existing, ctx) };
  // Reserved by a process that stopped before routing it (so it never reached a bank): release it
  // and take the transactionId over, once, when its history proves nothing happened to it since.
  if (!retried && existing && existing.requestHash === hash && looksLeftBehind(existing, deps.clock())) {
    if (!(await provedLeftBehind(deps, existing, 'taken over', ctx.audit.requestContext))) {
      // Never proved sent or unsent: in review, an admin checks with the bank and resolves it
      // (released: this resend goes through then; paid: it replays the success).
      throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This transactionId was reserved long ago and is held in the review queue for a person to check; do not pay it under another transactionId before they have.', { headers: { 'Retry-After': '3600' } });
    }
    if (await deps.payments.releaseStale(existing.id, deps.clock() - RESERVATION_STALE_MS)) {
      log.warn({ ...ctx.audit.requestContext, transactionId: request.transactionId }, 'released a reservation its process left behind; taking the transfer over');
      return reserve(deps, request, ctx, hash, sending, true);
    }
  }
  if (!existing) {
    throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This transactionId is being processed; retry shortly.', { headers: { 'Retry-After': '1' } });
  }
  if (existing.requestHash !== hash) {
    throw new AppError('IDEMPOTENCY_MISMATCH', 'This transactionId was already used for a different payment; use a new transactionId.', {
      fields: [{ field: 'transactionId', message: 'already used with a different payload' }],
    });
  }
  if (existing.resultJson === null || existing.httpStatus === null) {
    // In doubt with no answer stored: the request that sent it was cut off (its process or its
    // database died mid-send) and the resolver holds it now. The ERP is told the doubt (202:
    // never pay it again), not to retry, which it would do until it gave up.
    if (existing.state === 'UNKNOWN' || existing.state === 'PENDING') {
      const result = currentResult(existing, deps.clock());
      return { replay: { httpStatus: httpStatusOf(result.status), result, replayed: true } };
    }
    throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This transactionId is being processed; retry shortly.', { headers: { 'Retry-After': '1' } });
  }
  return { replay: { httpStatus: existing.httpStatus, result: JSON.parse(existing.resultJson) as TransferResult, replayed: true } };
}

/**
 * A new reservation, once nothing says its key was paid before (CreateTransferDeps.newPaymentCheck):
 * when the payment made for it before was deleted or altered in the database (the ERP's resend of a
 * paid transfer would be paid again), the reservation is released unsent and STORE_UNAVAILABLE
 * (503) names that payment; so it is when the check cannot be made.
 */
async function notPaidBefore(deps: CreateTransferDeps, payment: PaymentRecord, ctx: TransferContext): Promise<PaymentRecord> {
  const checked = deps.newPaymentCheck?.(payment.clientId, payment.transactionId, payment.id, payment.createdAt);
  if (!checked) return payment;
  const why = await checked.catch(async (error: unknown) => {
    await release(deps, payment, ctx);
    throw error;
  });
  if (why === null) return payment;
  await release(deps, payment, ctx);
  throw new AppError('STORE_UNAVAILABLE', `No request is served: ${why}. An operator must check it (gerbang audit verify) and accept it (gerbang audit accept-rollback) first.`, {
    headers: { 'Retry-After': '60' },
  });
}

/** A row reserved SENDING under this very attempt's bank id (unique: no other attempt holds it). */
function isOwnReservation(payment: PaymentRecord, hash: string, sending: SendingFields): boolean {
  return (
    payment.state === 'SENDING' &&
    payment.requestHash === hash &&
    payment.bank === sending.bank &&
    payment.bankTransactionId === sending.bankTransactionId &&
    payment.bankTransactionDate === sending.bankTransactionDate
  );
}

/**
 * After a reservation failed with an error that does not say whether the row was committed:
 * releases the row if it is this attempt's own (never sent), now or, while the store refuses, in
 * the background, so the ERP's resend is not answered 409 for a transfer no bank ever saw.
 */
async function takeBackOwn(deps: CreateTransferDeps, ctx: TransferContext, transactionId: string, hash: string, sending: SendingFields): Promise<void> {
  const takeBack = async (): Promise<boolean> => {
    const row = await deps.payments.find(ctx.clientId, transactionId);
    // Not there yet is not proof it never will be: the lost COMMIT may still be running on the
    // server, so this is asked again (writeAgainLater) until the row shows or the tries end.
    if (!row) throw new Error('the reservation is not visible (yet): its COMMIT may still be running');
    if (!isOwnReservation(row, hash, sending)) return true;
    log.warn({ ...ctx.audit.requestContext, transactionId, bankTransactionId: sending.bankTransactionId }, 'the reservation was committed though its write failed; released, nothing was sent');
    return deps.payments.release(row.id, row);
  };
  await writeNowOrLater('release of a reservation whose write failed', transactionId, takeBack, ctx.audit.requestContext);
}

/**
 * Stores and answers the bank's outcome. With the `leg` that brought it pending, the outcome and
 * the exchange's completion are written after the leg (usually one chain group, one COMMIT), and
 * neither is written when the database refuses the leg. Once the leg is durable (the database or
 * the spool took it) the outcome is stored and answered as the bank gave it; when nothing took the
 * leg, the transfer is stored and answered in doubt instead, never as the bank said.
 */
async function recordOutcome(
  deps: CreateTransferDeps,
  payment: PaymentRecord,
  route: TransferRoute,
  outcome: TransferOutcome,
  routing: RoutingDecision[],
  ctx: TransferContext,
  leg: PendingLeg | null,
): Promise<TransferReply> {
  const { audit } = ctx;
  const now = deps.clock();
  const result = buildResult({ ...payment, bank: route.partner, operation: route.operation }, outcome, now, routing);
  const httpStatus = httpStatusOf(outcome.status);
  const final = outcome.status === 'SUCCESS' || outcome.status === 'FAILED';
  // Conditional on the payment still being in doubt, so a late run (below) never overwrites a
  // final state the resolver or a bank notification stored meanwhile. The ERP's callback is
  // queued by whichever process stores the final state.
  const store = async (after?: ChainDependency): Promise<boolean> => {
    const stored = await deps.payments.storeSendOutcome(
      payment.id,
      { state: outcome.status, bankReference: outcome.bankReference, resultJson: JSON.stringify(result), httpStatus, bankExternalId: outcome.externalId },
      now,
      payment,
      after,
    );
    if (stored && final) await deps.finals?.notify(payment.clientId, result, ctx.audit.requestContext);
    return stored;
  };
  // The first try of the outcome's write: beside its leg when there is one (kept unless refused
  // for the leg: the leg then went to the spool, and the outcome is written now on its own).
  let firstTry: Promise<boolean> | null = null;
  if (leg) {
    const besideLeg = store(leg.dependency);
    const [written, stored] = await Promise.allSettled([leg.written, besideLeg, audit.answer(httpStatus, result, leg.dependency)]);
    if (written.status === 'rejected') {
      // Nothing took the leg, so neither its outcome nor its answer was written: in doubt.
      log.error({ ...ctx.audit.requestContext, err: written.reason, transactionId: payment.transactionId }, 'transfer in doubt: its bank leg could not be recorded');
      return recordOutcome(deps, payment, route, IN_DOUBT, routing, ctx, null);
    }
    if (!(stored.status === 'rejected' && stored.reason instanceof DependencyRefusedError)) firstTry = besideLeg;
  }
  const write = (): Promise<boolean> => {
    const attempt = firstTry ?? store();
    firstTry = null;
    return attempt;
  };
  // The bank has answered: tell the ERP the truth even if the store cannot take it now, and
  // store it as soon as the store (or, after a failover, another database node) takes it, so
  // a resend meets the stored answer rather than 409 until the resolver asks the bank.
  // The exchange's audit record is completed with this answer beside it (usually one chain
  // group); written beside the leg already, answer() writes nothing more.
  await Promise.all([writeNowOrLater('transfer outcome', payment.transactionId, write, ctx.audit.requestContext, { status: outcome.status }), audit.answer(httpStatus, result)]);
  return { httpStatus, result, replayed: false };
}

/**
 * Frees a reservation that certainly never reached a bank (`payment` as last written: RECEIVED,
 * or SENDING under a bank id never executed); when the store refuses now, again in the background.
 * A row that moved on meanwhile (another bank id, an outcome stored) is kept.
 */
async function release(deps: CreateTransferDeps, payment: PaymentRecord, ctx: TransferContext): Promise<void> {
  // Left in place, the reservation would answer the ERP's resend 409 until it went stale.
  await writeNowOrLater('release of an unsent reservation', payment.transactionId, () => deps.payments.release(payment.id, payment), ctx.audit.requestContext);
}
