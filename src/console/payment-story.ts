import { bankText } from '../banks/common/bank-text.js';
import type { AuditExchangeRow, BankCallAudit, PaymentRecord } from '../store/types.js';
import { maskAccount } from './format.js';

export type ExchangeKind = 'erpRequest' | 'earlierAttempt' | 'replay' | 'refusedResend' | 'erpStatusCheck' | 'resolverCheck' | 'reviewDecision' | 'otherExchange';

export interface StoryBankCall {
  operation: string;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  errorCode: string | null;
  /** Only for roles that see bodies. */
  url?: string;
  requestBody?: string | null;
  responseBody?: string | null;
  /** What was found when the call does not hold to its chain link (changed or inserted in the database): then none of its values is shown. */
  integrityProblem?: string;
}

export interface StoryExchange {
  kind: ExchangeKind;
  at: number;
  method: string;
  path: string;
  statusCode: number | null;
  errorCode: string | null;
  /** The uniform result's status in Gerbang's answer (SUCCESS, FAILED, …), when it has one. */
  answerStatus: string | null;
  /** A review decision's note in its answer (`Released in review by …`), as stored: shown in the reader's language (gerbangText). */
  note?: string | null;
  bankCalls: StoryBankCall[];
  requestBody?: string | null;
  responseBody?: string | null;
  /** What was found when the exchange does not hold to its chain links: then none of its values is shown nor counted. */
  integrityProblem?: string;
}

export interface RouteTried {
  partner: string;
  /** The BIC of the partner's bank, when the routing record keeps it (null in an older record). */
  bank: string | null;
  method: string;
  reason: string;
  result: string;
}

export interface PaymentStory {
  payment: PaymentRecord;
  /** From the stored answer (payments.result_json, no body): the routes tried in order, the bank's code and message. */
  routes: RouteTried[];
  transferMethod: string | null;
  bankResponseCode: string | null;
  bankMessage: string | null;
  /** From the ERP's request: masked for viewers, in full for auditors and admins. */
  sourceAccount: string | null;
  beneficiaryAccount: string | null;
  beneficiaryName: string | null;
  remark: string | null;
  exchanges: StoryExchange[];
  statusChanges: { at: number; status: string }[];
  bodiesShown: boolean;
  /** BCA's own Indonesian text (`ErrorMessage.Indonesian`) of the last answer with the stored answer's code, when it sent one. */
  bankIndonesian: string | null;
}

/**
 * The Indonesian text of the last bank answer that carries a BCA error body of `code` (the stored
 * answer's), read from the opened audit. Only of that code: a later call's error (a status
 * inquiry's "not found" after a timeout) is not what the stored answer says. Cleaned as every
 * bank text is (bankText: no control or direction character).
 */
function lastIndonesianText(exchanges: AuditExchangeRow[], code: string | null): string | null {
  if (code === null) return null;
  let found: string | null = null;
  for (const exchange of exchanges) {
    for (const call of exchange.bankCalls.filter(holds)) {
      const body = parseObject(call.responseBody);
      if (typeof body?.ErrorCode !== 'string' || body.ErrorCode.toUpperCase() !== code.toUpperCase()) continue;
      const message = body.ErrorMessage as { Indonesian?: unknown } | undefined;
      if (message && typeof message.Indonesian === 'string' && message.Indonesian.trim() !== '') found = bankText(message.Indonesian).trim().slice(0, 300);
    }
  }
  return found;
}

function parseObject(text: string | null): Record<string, unknown> | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Pretty JSON when the body is JSON (easier to read), else the text as stored. */
function pretty(body: string | null): string | null {
  const parsed = body ? parseObject(body) : null;
  return parsed ? JSON.stringify(parsed, null, 2) : body;
}

const isTransferPost = (e: AuditExchangeRow) => e.method === 'POST' && e.path.startsWith('/v1/transfers');

/** Refused for the id's sake: sent again while the first was in flight, or the same id with another payload. */
const refusedAsResend = (e: AuditExchangeRow) =>
  e.errorCode === 'IDEMPOTENCY_IN_FLIGHT' || e.errorCode === 'IDEMPOTENCY_MISMATCH' || (e.errorCode === null && (e.statusCode === 409 || e.statusCode === 422) && e.bankCalls.length === 0);

function kindOf(exchange: AuditExchangeRow, paying: AuditExchangeRow | undefined): ExchangeKind {
  if (isTransferPost(exchange)) {
    if (exchange.id === paying?.id) return 'erpRequest';
    if (refusedAsResend(exchange)) return 'refusedResend';
    // Before the paying request: an attempt with this id that was refused and released (nothing paid).
    return paying && exchange.receivedAt <= paying.receivedAt ? 'earlierAttempt' : 'replay';
  }
  if (exchange.method === 'GET' && exchange.path.startsWith('/v1/transfers/')) return 'erpStatusCheck';
  if (exchange.method === 'RESOLVE') return 'resolverCheck';
  if (exchange.method === 'REVIEW') return 'reviewDecision';
  return 'otherExchange';
}

/** False for a record the audit's read marked: changed or inserted in the database. */
const holds = (record: { integrityProblem?: string }) => record.integrityProblem === undefined;

/** An exchange that does not hold: its time (where it stands in the story) and what was found; no request, answer or status of it. */
function forgedExchange(e: AuditExchangeRow, full: boolean): StoryExchange {
  return { kind: 'otherExchange', at: e.receivedAt, method: '', path: '', statusCode: null, errorCode: null, answerStatus: null, bankCalls: e.bankCalls.map((call) => bankCall(call, full)), integrityProblem: e.integrityProblem };
}

function bankCall(call: BankCallAudit & { integrityProblem?: string }, full: boolean): StoryBankCall {
  if (!holds(call)) return { operation: '', startedAt: call.startedAt, durationMs: 0, statusCode: null, errorCode: null, integrityProblem: call.integrityProblem };
  const base = { operation: call.operation, startedAt: call.startedAt, durationMs: call.durationMs, statusCode: call.statusCode, errorCode: call.errorCode };
  return full ? { ...base, url: call.url, requestBody: pretty(call.requestBody), responseBody: pretty(call.responseBody) } : base;
}

/**
 * One payment's whole story from its audit rows (read through the audit repository, which
 * hands back bodies already decrypted): the ERP's request and Gerbang's answer, each bank call
 * with its timing, replays, status checks and the status changes they reveal. A viewer gets
 * masked account numbers and no bodies; `full` (auditor, admin) gets everything.
 */
export function paymentStory(payment: PaymentRecord, exchanges: AuditExchangeRow[], full: boolean): PaymentStory {
  const ordered = [...exchanges].sort((a, b) => a.receivedAt - b.receivedAt || a.id - b.id);
  // The paying request is the one that reserved this payment: the last POST received before the
  // reservation that was not refused for the id's sake. An earlier attempt with the same id was
  // refused and its reservation released (the payment row is made anew), so it is not the one
  // sent to the bank, whatever account it named; a later POST is a replay or a refused resend.
  // An exchange changed or inserted in the database (marked by the audit's read) tells nothing: it is shown marked, never read.
  const paying = ordered.filter((e) => holds(e) && isTransferPost(e) && !refusedAsResend(e) && e.receivedAt <= payment.createdAt).at(-1);
  // The facts stored with the payment (migration 015), else the paying request as audited.
  const d = payment.details;
  const request = d
    ? { sourceAccountNumber: d.sourceAccount, beneficiaryAccountNumber: d.beneficiaryAccount, beneficiaryName: d.beneficiaryName, remark: d.remark }
    : parseObject(paying?.requestBody ?? null);
  const account = (value: unknown) => {
    const number = str(value);
    return number === null ? null : full ? number : maskAccount(number);
  };

  const story: StoryExchange[] = ordered.map((e) => {
    if (!holds(e)) return forgedExchange(e, full);
    const answer = parseObject(e.responseBody);
    const kind = kindOf(e, paying);
    return {
      kind,
      // What an admin decided is no body: every role reads it, as the banner's note of a payment decided in review.
      ...(kind === 'reviewDecision' ? { note: str(answer?.bankMessage) } : {}),
      at: e.receivedAt,
      method: e.method,
      path: e.path,
      statusCode: e.statusCode,
      errorCode: e.errorCode,
      answerStatus: str(answer?.status),
      bankCalls: e.bankCalls.map((call) => bankCall(call, full)),
      ...(full ? { requestBody: pretty(e.requestBody), responseBody: pretty(e.responseBody) } : {}),
    };
  });

  const statusChanges: { at: number; status: string }[] = [{ at: payment.createdAt, status: 'RECEIVED' }];
  for (const e of story) {
    if (e.answerStatus && e.answerStatus !== statusChanges[statusChanges.length - 1].status) statusChanges.push({ at: e.at, status: e.answerStatus });
  }
  if (payment.state !== statusChanges[statusChanges.length - 1].status) statusChanges.push({ at: payment.updatedAt, status: payment.state });

  const result = parseObject(payment.resultJson);
  // The router's reasons name the paying account ("account 0201245680 is held at …"): masked like
  // every account number for a viewer.
  const accounts = [str(request?.sourceAccountNumber), payment.sourceAccount].filter((a): a is string => a !== null && a !== '');
  const maskReason = (reason: string) => (full ? reason : accounts.reduce((text, a) => text.split(a).join(maskAccount(a)), reason));
  const routes = Array.isArray(result?.routing)
    ? (result.routing as unknown[]).filter((r): r is Record<string, unknown> => r !== null && typeof r === 'object').map((r) => ({
        partner: str(r.partner) ?? '—',
        bank: str(r.bank),
        method: str(r.method) ?? '—',
        reason: maskReason(str(r.reason) ?? ''),
        result: str(r.result) ?? '',
      }))
    : [];
  return {
    payment,
    routes,
    transferMethod: str(result?.transferMethod),
    bankResponseCode: str(result?.bankResponseCode),
    bankMessage: str(result?.bankMessage),
    // Omitted by the ERP: the account Gerbang chose, as the exchange's audit row keeps it (masked).
    sourceAccount: account(request?.sourceAccountNumber) ?? paying?.sourceAccount ?? null,
    beneficiaryAccount: account(request?.beneficiaryAccountNumber),
    beneficiaryName: str(request?.beneficiaryName),
    remark: str(request?.remark),
    exchanges: story,
    statusChanges,
    bodiesShown: full,
    bankIndonesian: lastIndonesianText(ordered, str(result?.bankResponseCode)),
  };
}
