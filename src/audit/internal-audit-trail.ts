import { randomUUID } from 'node:crypto';
import type { BankCall } from '../banks/types.js';
import { AppError } from '../errors/index.js';
import { getLogger, redactValue } from '../log/index.js';
import { DependencyRefusedError, type AuditOutcome, type AuditRepository, type ChainDependency } from '../store/types.js';
import { bankCallAudit, type AuditFields, type ExchangeAudit } from './audit-trail.js';

const log = getLogger('audit');

/**
 * The audit record of work Gerbang does on its own behalf (a line of a payment run): an
 * exchange with an internal method and path, the work's input as its request and its result as
 * its answer, bank legs hanging off it as for any request.
 */
export class InternalAuditTrail implements ExchangeAudit {
  readonly requestId = `internal-${randomUUID()}`;
  private exchangeId: number | null = null;
  private fields: AuditFields = {};
  /** The completion's write, once begun (an exchange is completed once). */
  private finishing: Promise<void> | null = null;
  /** Whether the completion was written (false before it, or when it failed). */
  private completed = false;

  constructor(
    private readonly repository: AuditRepository,
    private readonly work: { method: string; path: string; requestBody: unknown },
    private readonly clock: () => number,
  ) {}

  set(fields: AuditFields): void {
    this.fields = { ...this.fields, ...fields };
  }

  /** Whether the record was opened (written, without its outcome yet). */
  get opened(): boolean {
    return this.exchangeId !== null;
  }

  async open(): Promise<number> {
    if (this.exchangeId !== null) return this.exchangeId;
    try {
      this.exchangeId = await this.repository.open({
        requestId: this.requestId,
        receivedAt: this.clock(),
        remoteIp: 'internal',
        origin: null,
        method: this.work.method,
        path: this.work.path.slice(0, 2048),
        clientId: this.fields.clientId ?? null,
        transactionId: this.fields.transactionId ?? null,
        amount: this.fields.amount ?? null,
        sourceAccount: this.fields.sourceAccount ?? null,
        beneficiaryAccount: this.fields.beneficiaryAccount ?? null,
        requestHeaders: {},
        requestBody: JSON.stringify(redactValue(this.work.requestBody)),
      });
    } catch (error) {
      throw new AppError('STORE_UNAVAILABLE', 'The audit store is unavailable, so the work was not done. It will be retried.', { cause: error });
    }
    return this.exchangeId;
  }

  async recordBankCall(call: BankCall, as?: ChainDependency): Promise<void> {
    // Opened before the bank was called: the leg is appended in this turn, so its dependents can name it.
    const exchangeId = this.exchangeId ?? (await this.open());
    await this.repository.recordBankCall(bankCallAudit(call, exchangeId, this.requestId), undefined, as);
  }

  answer(statusCode: number, body: unknown, after?: ChainDependency): Promise<void> {
    this.finishing ??= this.complete(statusCode, body, null, after);
    return this.finishing;
  }

  /** Completes the record with the work's result (or error) as its answer (once; a later call waits for that write). */
  finish(statusCode: number, body: unknown, errorCode: string | null = null): Promise<void> {
    this.finishing ??= this.complete(statusCode, body, errorCode);
    return this.finishing;
  }

  /**
   * Work never to be done unrecorded (an operator's command that changes what is sent): its record
   * is opened first, and when that cannot be written the work is not run (AppError
   * STORE_UNAVAILABLE, its cause the store's error). The record is then completed with
   * `answer(result)`, or, when the work throws, with 500 INTERNAL_ERROR naming the error (which is
   * thrown on). `completed` is false when the work was done but its completion could not be
   * written: the record stays open (no outcome), and the caller must say so.
   */
  async recorded<T>(work: () => Promise<T>, answer: (result: T) => { statusCode: number; body: unknown }): Promise<{ result: T; completed: boolean }> {
    await this.open();
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.finish(500, { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, 'INTERNAL_ERROR');
      throw error;
    }
    const { statusCode, body } = answer(result);
    await this.finish(statusCode, body);
    return { result, completed: this.completed };
  }

  private async complete(statusCode: number, body: unknown, errorCode: string | null, after?: ChainDependency): Promise<void> {
    const outcome: AuditOutcome = statusCode >= 500 ? 'failed' : statusCode >= 400 ? 'rejected' : 'completed';
    try {
      const exchangeId = await this.open();
      await this.repository.complete(exchangeId, {
        outcome,
        statusCode,
        errorCode,
        clientId: this.fields.clientId ?? null,
        transactionId: this.fields.transactionId ?? null,
        amount: this.fields.amount ?? null,
        sourceAccount: this.fields.sourceAccount ?? null,
        beneficiaryAccount: this.fields.beneficiaryAccount ?? null,
        responseBody: JSON.stringify(redactValue(body)),
        completedAt: this.clock(),
      }, after);
      this.completed = true;
    } catch (error) {
      // Not written, and not to be: the answer it carried was not given (its bank leg went nowhere).
      if (error instanceof DependencyRefusedError) {
        this.finishing = null;
        return;
      }
      log.error({ err: error, path: this.work.path }, 'audit record of internal work could not be completed');
    }
  }
}

/**
 * The audit record of internal work refused because a stored record failed its integrity check
 * (a queued callback's endpoint, a payment in doubt changed in SQL): the work answered 500
 * AUDIT_INTEGRITY with `answer` (what was found), for the client and transaction it concerns, so
 * `gerbang audit export` and the console show it, not only a log line.
 */
export async function auditIntegrityRefusal(
  repository: AuditRepository,
  clock: () => number,
  work: { method: string; path: string; requestBody: unknown },
  about: { clientId: string; transactionId: string },
  answer: Record<string, unknown>,
): Promise<void> {
  const trail = new InternalAuditTrail(repository, work, clock);
  trail.set({ clientId: about.clientId, transactionId: about.transactionId });
  await trail.finish(500, answer, 'AUDIT_INTEGRITY');
}
