import { createExchange as createCommonExchange, type ExchangeFn } from '../common/bank-exchange.js';
import type { BankHttpClient } from '../../egress/index.js';
import { readBcaError } from './response-mapper.js';

export type { Exchange, ExchangeFn } from '../common/bank-exchange.js';

/** The common exchange, reading BCA's `ErrorCode` from answers for the audit. */
export function createExchange(options: { partner: string; baseUrl: string; http: BankHttpClient; now: () => Date }): ExchangeFn {
  return createCommonExchange({ ...options, errorCodeOf: (body) => readBcaError(body)?.code ?? null });
}
