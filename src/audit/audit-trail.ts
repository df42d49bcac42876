import type { Request, Response } from 'express';
import type { BankCall } from '../banks/types.js';
import { AppError } from '../errors/index.js';
import { getLogger, redactBodyText, redactHeaders, redactUrl, redactValue, truncate, type RequestContext } from '../log/index.js';
import { DependencyRefusedError, type AuditOutcome, type AuditRepository, type BankCallAudit, type ChainDependency, type InboundExchange } from '../store/types.js';

const log = getLogger('audit');

/** A bank exchange as the audit stores it: headers and bodies redacted by the one redaction list. */
export function bankCallAudit(call: BankCall, exchangeId: number | null, requestId: string): BankCallAudit {
  return {
    exchangeId,
    requestId,
    partner: call.partner,
    operation: call.operation,
    method: call.method,
    url: redactUrl(call.url),
    requestHeaders: redactHeaders(call.requestHeaders),
    requestBody: redactBodyText(call.requestBody),
    statusCode: call.statusCode,
    responseBody: redactBodyText(call.responseBody),
    errorCode: call.errorCode,
    startedAt: call.startedAt,
    durationMs: call.durationMs,
  };
}

/**
 * The most characters of an anonymous rejected request's body the audit keeps (the rest is left
 * out, said as `…[truncated N chars]`, as bank bodies beyond their bound are): a caller no client
 * was identified for cannot make each refusal cost the audit a whole body up to the parser's limit
 * (GERBANG_BODY_LIMIT_BYTES, GERBANG_BATCH_BODY_LIMIT_BYTES). Its other fields are kept whole.
 */
export const ANONYMOUS_REJECTED_BODY_CHARS = 4096;

/** Fields a later step learns (who the client is, which transfer) and the audit row should carry. */
export interface AuditFields {
  clientId?: string | null;
  transactionId?: string | null;
  amount?: string | null;
  /** Full account numbers; the store keeps them masked (`******5680`). */
  sourceAccount?: string | null;
  beneficiaryAccount?: string | null;
}

/** What a use case needs of its exchange's audit record, whether an HTTP request or background work. */
export interface ExchangeAudit {
  /**
   * The HTTP request this exchange is, for the log lines written while handling it (spread into
   * the line: RequestContext); none for background work. Use cases and bank adapters have it here.
   */
  readonly requestContext?: RequestContext;
  set(fields: AuditFields): void;
  /** Commits the exchange before anything goes to the bank; STORE_UNAVAILABLE when it cannot. */
  open(): Promise<number>;
  /** Records one bank leg; `as` names it for the writes that depend on it (`after`). Throws when nothing takes it. */
  recordBankCall(call: BankCall, as?: ChainDependency): Promise<void>;
  /**
   * Completes the record now with the answer the use case is about to give (its write then joins
   * the use case's last store write in one chain group); the answer given must be this one. The
   * later completion of that answer waits for this write instead of writing again. Never throws.
   * `after`: the record this completion depends on (the bank leg that brought the answer); when
   * that record was refused, nothing is written and the exchange may be answered again.
   */
  answer(statusCode: number, body: unknown, after?: ChainDependency): Promise<void>;
}

/**
 * The audit record of one inbound exchange. Every request gets one (rejected ones included):
 * the step writes it when the answer is sent. A money-moving use case calls `open()` first, so
 * the exchange is committed before anything goes to the bank; the answer then completes it.
 * Secrets are redacted here, on the way in, by the one redaction list of src/log.
 */
export class AuditTrail implements ExchangeAudit {
  private exchangeId: number | null = null;
  private fields: AuditFields = {};
  /** The completion's write, once begun (an exchange is completed once). */
  private finishing: Promise<void> | null = null;

  constructor(
    private readonly repository: AuditRepository,
    private readonly req: Request,
    private readonly res: Response,
    private readonly receivedAt: number,
    private readonly clock: () => number,
  ) {}

  get requestContext(): RequestContext {
    return this.res.locals.requestContext;
  }

  set(fields: AuditFields): void {
    this.fields = { ...this.fields, ...fields };
  }

  /**
   * Commits the inbound exchange now, as in progress. Throws AppError('STORE_UNAVAILABLE') when
   * the store cannot take it: the caller must then not contact the bank.
   */
  async open(): Promise<number> {
    if (this.exchangeId !== null) return this.exchangeId;
    try {
      this.exchangeId = await this.repository.open(this.snapshot());
    } catch (error) {
      log.error({ ...this.requestContext, err: error }, 'audit record could not be written; refusing to proceed');
      throw new AppError('STORE_UNAVAILABLE', 'The audit store is unavailable, so the request was not processed. Retry later.', {
        headers: { 'Retry-After': '5' },
        cause: error,
      });
    }
    return this.exchangeId;
  }

  /** Records one bank exchange of this request, redacted. Throws when the store cannot take it. */
  async recordBankCall(call: BankCall, as?: ChainDependency): Promise<void> {
    // A bank leg always hangs off its inbound exchange (callers open it before calling the bank).
    if (this.exchangeId === null) await this.open();
    await this.repository.recordBankCall(bankCallAudit(call, this.exchangeId, this.res.locals.requestId), undefined, as);
  }

  answer(statusCode: number, body: unknown, after?: ChainDependency): Promise<void> {
    this.finishing ??= this.complete(statusCode, body, false, after);
    return this.finishing;
  }

  /** Writes the final state of the exchange with the answer's body (once; a later call waits for that write). */
  finish(responseBody: unknown, aborted = false): Promise<void> {
    this.finishing ??= this.complete(this.res.statusCode, responseBody, aborted);
    return this.finishing;
  }

  private async complete(status: number, responseBody: unknown, aborted: boolean, after?: ChainDependency): Promise<void> {
    const outcome: AuditOutcome = aborted ? 'failed' : status >= 500 ? 'failed' : status >= 400 ? 'rejected' : 'completed';
    const completion = {
      outcome,
      statusCode: status,
      errorCode: this.res.locals.errorCode ?? (aborted ? 'CLIENT_CLOSED_REQUEST' : null),
      clientId: this.fields.clientId ?? null,
      transactionId: this.fields.transactionId ?? null,
      amount: this.fields.amount ?? null,
      sourceAccount: this.fields.sourceAccount ?? null,
      beneficiaryAccount: this.fields.beneficiaryAccount ?? null,
      responseBody: responseBody === undefined ? null : JSON.stringify(redactValue(responseBody)),
      completedAt: this.clock(),
    };
    try {
      if (this.exchangeId === null) await this.repository.record(this.snapshot(anonymousRejected(completion) ? ANONYMOUS_REJECTED_BODY_CHARS : undefined), completion);
      else await this.repository.complete(this.exchangeId, completion, after);
    } catch (error) {
      // Not written, and not to be: the answer it carried was not given (its bank leg went nowhere).
      if (error instanceof DependencyRefusedError) {
        this.finishing = null;
        return;
      }
      log.error({ ...this.requestContext, err: error, statusCode: status }, 'audit record could not be completed');
    }
  }

  /** The exchange as received; its body cut at `bodyChars` characters when given. */
  private snapshot(bodyChars?: number): InboundExchange {
    const { req } = this;
    return {
      requestId: this.res.locals.requestId,
      receivedAt: this.receivedAt,
      remoteIp: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      origin: req.get('origin') ?? null,
      method: req.method,
      // A token or secret put in the query string is never stored in clear.
      path: redactUrl(req.originalUrl).slice(0, 2048),
      clientId: this.fields.clientId ?? null,
      transactionId: this.fields.transactionId ?? null,
      amount: this.fields.amount ?? null,
      sourceAccount: this.fields.sourceAccount ?? null,
      beneficiaryAccount: this.fields.beneficiaryAccount ?? null,
      requestHeaders: redactHeaders(req.headers as Record<string, unknown>),
      requestBody: this.requestBodyText(bodyChars),
    };
  }

  private requestBodyText(bodyChars?: number): string | null {
    const body: unknown = this.req.body;
    if (body !== undefined && body !== null && typeof body === 'object' && Object.keys(body).length > 0) {
      const text = JSON.stringify(redactValue(body));
      return bodyChars === undefined ? text : truncate(text, bodyChars);
    }
    const raw = this.res.locals.rawBody;
    return raw && raw.length > 0 ? redactBodyText(raw.toString('utf8'), bodyChars) : null;
  }
}

/**
 * A rejection nothing identified (no client, transfer, amount or account): what `gerbang audit
 * purge-anonymous` deletes after GERBANG_AUDIT_ANONYMOUS_RETENTION_DAYS (audit-purge.ts).
 */
function anonymousRejected(completion: { outcome: AuditOutcome } & Required<AuditFields>): boolean {
  return (
    completion.outcome === 'rejected' &&
    completion.clientId === null &&
    completion.transactionId === null &&
    completion.amount === null &&
    completion.sourceAccount === null &&
    completion.beneficiaryAccount === null
  );
}
