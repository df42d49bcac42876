import type {
  AccountStatement,
  BankAdapter,
  BankCallContext,
  IntrabankTransferOrder,
  InterbankTransferOrder,
  StatementEntry,
  StatementQuery,
  StatusOutcome,
  TransferMethod,
  TransferOutcome,
  TransferStatusQuery,
} from '../../src/banks/types.js';

/**
 * One scripted answer: what the bank answers, an error it throws after the exchange (reported
 * to `onCall` first, as an adapter reports a request that went out), or a function run at the
 * call instead of the exchange (to look at the world then, or to throw before anything is
 * reported: a bank never reached). A function's answer is reported as the exchange.
 */
export type Scripted<Q, A> = A | Error | ((query: Q, ctx: BankCallContext) => Promise<A>);

/** A transfer order as either send operation receives it. */
export type TransferOrder = IntrabankTransferOrder | InterbankTransferOrder;

/** A call the scripted bank received, with what `witness` saw at that moment. */
export interface ScriptedCall {
  operation: 'transfer-intrabank' | 'transfer-interbank' | 'transfer-status' | 'statement' | 'account-inquiry' | 'balance' | 'ping';
  query: unknown;
  seen: unknown;
}

/**
 * An in-process bank partner that answers status inquiries and statements as the test scripts
 * them, one answer per call in order, and records every call it receives. Each call is reported
 * to the caller's `onCall` as an adapter reports its HTTP exchange, so the audit gets its leg.
 * A transfer is answered only as scripted (`answerTransfer`, for the transfer use case); with
 * nothing scripted it is recorded and refused, so a test can assert that nothing was sent. `witness`, when given, runs at every call before the bank answers (a test
 * reads the store there: what had been written when the bank was asked).
 */
export class ScriptedBank implements BankAdapter {
  readonly protocol = 'bca-legacy' as const;
  readonly interbankMethods: readonly Exclude<TransferMethod, 'INTRABANK'>[] = ['BIFAST', 'ONLINE', 'SKN', 'RTGS'];
  readonly calls: ScriptedCall[] = [];
  private readonly statuses: Scripted<TransferStatusQuery, StatusOutcome>[] = [];
  private readonly statements: Scripted<StatementQuery, StatementEntry[]>[] = [];
  private readonly transfers: Scripted<TransferOrder, TransferOutcome>[] = [];

  constructor(
    readonly partner: string,
    private readonly witness: (operation: ScriptedCall['operation'], query: unknown) => Promise<unknown> = async () => null,
  ) {}

  /** Queues the answers to the next status inquiries. */
  answerStatus(...answers: Scripted<TransferStatusQuery, StatusOutcome>[]): this {
    this.statuses.push(...answers);
    return this;
  }

  /** Queues the next statements (their lines), or errors. */
  answerStatement(...answers: Scripted<StatementQuery, StatementEntry[]>[]): this {
    this.statements.push(...answers);
    return this;
  }

  /** Queues the answers to the next transfers, intrabank or interbank alike. */
  answerTransfer(...answers: Scripted<TransferOrder, TransferOutcome>[]): this {
    this.transfers.push(...answers);
    return this;
  }

  /** The transfers sent, intrabank and interbank, in order. */
  transfersSent(): ScriptedCall[] {
    return this.calls.filter((call) => call.operation === 'transfer-intrabank' || call.operation === 'transfer-interbank');
  }

  /** The calls of one operation, in order. */
  callsOf(operation: ScriptedCall['operation']): ScriptedCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  /** Answers scripted but never asked for. */
  unused(): { statuses: number; statements: number; transfers: number } {
    return { statuses: this.statuses.length, statements: this.statements.length, transfers: this.transfers.length };
  }

  transferIntrabank(order: IntrabankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome> {
    return this.transfer('transfer-intrabank', order, ctx);
  }

  transferInterbank(order: InterbankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome> {
    return this.transfer('transfer-interbank', order, ctx);
  }

  async transferStatus(query: TransferStatusQuery, ctx: BankCallContext): Promise<StatusOutcome> {
    const answer = await this.answer('transfer-status', query, this.statuses, ctx);
    await this.report(ctx, 'transfer-status', query, answer);
    return answer;
  }

  async statement(query: StatementQuery, ctx: BankCallContext): Promise<AccountStatement> {
    const entries = await this.answer('statement', query, this.statements, ctx);
    await this.report(ctx, 'statement', query, entries);
    return { accountNumber: query.accountNumber, currency: 'IDR', from: query.from, to: query.to, openingBalance: null, entries };
  }

  accountInquiry(query: unknown): Promise<never> {
    return this.unexpected('account-inquiry', query);
  }

  balance(accountNumber: string): Promise<never> {
    return this.unexpected('balance', accountNumber);
  }

  ping(): Promise<never> {
    return this.unexpected('ping', null);
  }

  async close(): Promise<void> {}

  private async transfer(operation: 'transfer-intrabank' | 'transfer-interbank', order: TransferOrder, ctx: BankCallContext): Promise<TransferOutcome> {
    if (this.transfers.length === 0) return this.refuseSend(operation, order);
    const outcome = await this.answer(operation, order, this.transfers, ctx);
    await this.report(ctx, operation, order, outcome);
    return outcome;
  }

  private async answer<Q, A>(operation: ScriptedCall['operation'], query: Q, queue: Scripted<Q, A>[], ctx: BankCallContext): Promise<A> {
    const call: ScriptedCall = { operation, query, seen: await this.witness(operation, query) };
    this.calls.push(call);
    const next = queue.shift();
    if (next === undefined) throw new Error(`scripted bank ${this.partner}: no answer scripted for ${operation} ${JSON.stringify(query)}`);
    if (next instanceof Error) {
      await this.report(ctx, operation, query, { error: next.message });
      throw next;
    }
    return typeof next === 'function' ? (next as (q: Q, c: BankCallContext) => Promise<A>)(query, ctx) : next;
  }

  private async report(ctx: BankCallContext, operation: string, query: unknown, answer: unknown): Promise<void> {
    await ctx.onCall({
      partner: this.partner,
      operation,
      method: 'POST',
      url: `https://scripted.bank.invalid/${operation}`,
      requestHeaders: {},
      requestBody: JSON.stringify(query),
      statusCode: 200,
      responseBody: JSON.stringify(answer),
      errorCode: null,
      startedAt: 0,
      durationMs: 0,
    });
  }

  private async refuseSend(operation: 'transfer-intrabank' | 'transfer-interbank', order: unknown): Promise<never> {
    this.calls.push({ operation, query: order, seen: null });
    throw new Error(`scripted bank ${this.partner}: a transfer was sent (${operation}); the resolver must never send`);
  }

  private async unexpected(operation: ScriptedCall['operation'], query: unknown): Promise<never> {
    this.calls.push({ operation, query, seen: null });
    throw new Error(`scripted bank ${this.partner}: unexpected ${operation}`);
  }
}
