import type { BankHttpClient, BankRequest, BankResponse } from '../../egress/index.js';
import type { BankCallContext } from '../types.js';

/** The outcome of one HTTP exchange: an answer, or the error the egress raised. */
export type Exchange = { ok: true; response: BankResponse } | { ok: false; error: unknown };

export type ExchangeFn = (ctx: BankCallContext, operation: string, req: BankRequest) => Promise<Exchange>;

export interface ExchangeOptions {
  partner: string;
  baseUrl: string;
  http: BankHttpClient;
  now: () => Date;
  /** The bank's own error code in an answer body (the protocol's error shape), or null. */
  errorCodeOf: (body: string) => string | null;
}

/**
 * Sends one request and reports it to `ctx.onCall` with its timing before returning, failed
 * exchanges included, so the audit holds every leg. Transport errors are *returned* (the caller
 * decides what they mean); an error thrown by `onCall` itself propagates, as the contract says.
 * Protocol-neutral: each adapter says how its bank spells an error code.
 */
export function createExchange(options: ExchangeOptions): ExchangeFn {
  return async (ctx, operation, req) => {
    const startedAt = options.now().getTime();
    const started = performance.now();
    let result: Exchange;
    try {
      result = { ok: true, response: await options.http.request(req) };
    } catch (error) {
      result = { ok: false, error };
    }
    await ctx.onCall({
      partner: options.partner,
      operation,
      method: req.method,
      url: `${options.baseUrl}${req.path}`,
      requestHeaders: req.headers,
      requestBody: req.body ?? null,
      statusCode: result.ok ? result.response.statusCode : null,
      responseBody: result.ok ? result.response.body : null,
      errorCode: result.ok ? options.errorCodeOf(result.response.body) : errorCodeOf(result.error),
      startedAt,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return result;
  };
}

function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'BANK_ERROR';
}
