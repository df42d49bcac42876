import { AppError } from '../errors/index.js';
import { getLogger } from '../log/index.js';
import type { BankAdapter, BankCall, BankCallContext } from './types.js';

const log = getLogger('circuit-breaker');

export interface CircuitBreakerOptions {
  /** Consecutive failed exchanges (no connection, timeout, or a 5xx) that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through. */
  cooldownMs: number;
  clock?: () => number;
  /**
   * Also given every exchange this breaker sees (the metrics, the log line) with the context of
   * the call that made it, so no second wrapper has to list the adapter's operations again.
   * Synchronous and must not throw.
   */
  observe?: (call: BankCall, ctx: BankCallContext) => void;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface BreakingAdapter extends BankAdapter {
  readonly circuit: () => CircuitState;
}

/**
 * Wraps a bank adapter with a circuit breaker, per partner and per process. After
 * `failureThreshold` consecutive failed exchanges with the bank the circuit opens: calls answer
 * BANK_UNAVAILABLE at once (nothing is sent, so a transfer is released for a retry) instead of
 * each waiting for a dead bank's timeouts. After `cooldownMs` one call goes through as a probe;
 * its success closes the circuit, its failure opens it again.
 *
 * Failures are read from the exchanges the adapter reports (the same reports the audit gets), so
 * the breaker needs no knowledge of the protocol. A business refusal (4xx) is a healthy bank.
 */
export function withCircuitBreaker(adapter: BankAdapter, options: CircuitBreakerOptions): BreakingAdapter {
  const clock = options.clock ?? Date.now;
  let state: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probing = false;

  // `ctx`: the call that saw the exchange; its request's context goes on the line.
  const trip = (ctx: BankCallContext) => {
    if (state !== 'open') log.warn({ ...ctx.requestContext, partner: adapter.partner, failures }, 'bank circuit opened: answering 503 without calling the bank');
    state = 'open';
    openedAt = clock();
  };

  const observe = (call: BankCall, ctx: BankCallContext) => {
    const failed = call.statusCode === null || call.statusCode >= 500;
    if (failed) {
      failures += 1;
      if (state === 'half-open' || failures >= options.failureThreshold) trip(ctx);
    } else {
      if (state !== 'closed') log.info({ ...ctx.requestContext, partner: adapter.partner }, 'bank circuit closed: the bank answers again');
      state = 'closed';
      failures = 0;
    }
  };

  /** Runs one adapter call through the circuit. */
  async function guarded<T>(ctx: BankCallContext, run: (ctx: BankCallContext) => Promise<T>): Promise<T> {
    if (state === 'open') {
      const remaining = openedAt + options.cooldownMs - clock();
      if (remaining > 0) {
        throw new AppError('BANK_UNAVAILABLE', `Bank ${adapter.partner} is not answering; nothing was sent. Retry later.`, {
          headers: { 'Retry-After': String(Math.max(1, Math.ceil(remaining / 1000))) },
          extensions: { circuit: 'open' },
        });
      }
      state = 'half-open';
    }
    const probe = state === 'half-open';
    if (probe) {
      if (probing) throw new AppError('BANK_UNAVAILABLE', `Bank ${adapter.partner} is being probed; nothing was sent. Retry shortly.`, { headers: { 'Retry-After': '1' } });
      probing = true;
    }
    try {
      return await run({ ...ctx, onCall: async (call) => {
        observe(call, ctx);
        options.observe?.(call, ctx);
        await ctx.onCall(call);
      } });
    } finally {
      if (probe) probing = false;
    }
  }

  return {
    partner: adapter.partner,
    protocol: adapter.protocol,
    circuit: () => state,
    interbankMethods: adapter.interbankMethods,
    transferIntrabank: (order, ctx) => guarded(ctx, (c) => adapter.transferIntrabank(order, c)),
    transferInterbank: (order, ctx) => guarded(ctx, (c) => adapter.transferInterbank(order, c)),
    transferStatus: (query, ctx) => guarded(ctx, (c) => adapter.transferStatus(query, c)),
    accountInquiry: (query, ctx) => guarded(ctx, (c) => adapter.accountInquiry(query, c)),
    balance: (account, ctx) => guarded(ctx, (c) => adapter.balance(account, c)),
    statement: (query, ctx) => guarded(ctx, (c) => adapter.statement(query, c)),
    ping: (ctx) => guarded(ctx, (c) => adapter.ping(c)),
    // Checking a notification's signature calls no bank: no circuit to guard.
    ...(adapter.verifyNotification ? { verifyNotification: adapter.verifyNotification.bind(adapter) } : {}),
    close: () => adapter.close(),
  };
}
