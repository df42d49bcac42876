export { inquireAccount, getBalance, getStatement } from './account-use-cases.js';
export type { AccountDeps, AccountInquiryAnswer } from './account-use-cases.js';
export {
  accountInquiryRequestSchema,
  accountParamsSchema,
  balanceQuerySchema,
  statementQuerySchema,
  accountInquiryAnswerSchema,
  balanceAnswerSchema,
  statementAnswerSchema,
} from './account-schemas.js';
export type { AccountInquiryRequest, BalanceQuery, StatementRequestQuery } from './account-schemas.js';
export { checkAccountGranted } from './account-grants.js';
