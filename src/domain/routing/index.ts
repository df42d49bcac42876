export { BankRouter } from './bank-router.js';
export type { BankPartner, RouteRequest, TransferRoute } from './bank-router.js';
export { accountNumberRule, bankName, canonicalBic, BCA_BIC } from './bank-codes.js';
export { ACCOUNT_LENGTH_MESSAGES, accountLength } from './account-length.js';
export { readRouteReason, readRouteResult, routeReasonText, routeResultText } from './route-reason.js';
export type { RouteReason, RouteResult } from './route-reason.js';
