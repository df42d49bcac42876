/** The one module that talks HTTP to banks (the only undici import). */
export { createBankHttpClient, EGRESS_DEFAULTS } from './bank-http-client.js';
export type { BankHttpClient, BankHttpClientOptions, BankRequest, BankResponse } from './bank-http-client.js';
export { EgressError, isEgressError } from './egress-error.js';
export type { EgressErrorCode } from './egress-error.js';
export { probeSourceAddress } from './source-address.js';
export type { SourceAddressProbe } from './source-address.js';
