export { createBankHttpClient } from './bank-http-client.js';
export type { BankHttpClient, BankHttpClientOptions, BankRequest, BankResponse } from './bank-http-client.js';
export { EgressError } from './egress-error.js';
export type { EgressErrorCode } from './egress-error.js';
