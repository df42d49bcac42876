import Joi from 'joi';
import { canonicalBic } from '../routing/index.js';

/** One definition each, shared by the validator and the API description. */

const bankCode = Joi.string()
  .custom((value: string, helpers) => (canonicalBic(value) ? value : helpers.error('any.invalid')))
  .messages({ 'any.invalid': '{{#label}} must be a known 3-digit bank code or BIC' });

const accountNumber = Joi.string()
  .pattern(/^\d{5,34}$/)
  .messages({ 'string.pattern.base': '{{#label}} must be 5 to 34 digits' });

const isoDate = Joi.string()
  .pattern(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/)
  .messages({ 'string.pattern.base': '{{#label}} must be a date yyyy-MM-dd' });

export interface AccountInquiryRequest {
  beneficiaryBankCode: string;
  beneficiaryAccountNumber: string;
  sourceAccountNumber?: string;
}

export const accountInquiryRequestSchema = Joi.object<AccountInquiryRequest>({
  beneficiaryBankCode: bankCode.required().description("The vendor's bank: 3-digit code (`014`) or BIC (`CENAIDJA`)."),
  beneficiaryAccountNumber: accountNumber.required().description("The vendor's account number."),
  sourceAccountNumber: Joi.string()
    .pattern(/^\d{10}$/)
    .messages({ 'string.pattern.base': '{{#label}} must be 10 digits' })
    .description('The company account the payment would come from (some banks ask for it).'),
})
  .required()
  .label('body');

export const accountParamsSchema = Joi.object<{ accountNumber: string }>({
  accountNumber: Joi.string()
    .pattern(/^\d{10}$/)
    .required()
    .messages({ 'string.pattern.base': '{{#label}} must be 10 digits' })
    .description('A company account at a partner bank (10 digits).'),
}).label('path');

export interface BalanceQuery {
  bankCode?: string;
}

export const balanceQuerySchema = Joi.object<BalanceQuery>({
  bankCode: bankCode.description('The partner bank holding the account; default: the partner of best priority.'),
}).label('query');

export interface StatementRequestQuery {
  from: string;
  to: string;
  bankCode?: string;
}

export const statementQuerySchema = Joi.object<StatementRequestQuery>({
  from: isoDate.required().description('First day (yyyy-MM-dd, Jakarta time), inclusive.'),
  to: isoDate.required().description('Last day (yyyy-MM-dd, Jakarta time), inclusive; at most 31 days after `from`, not in the future.'),
  bankCode: bankCode.description('The partner bank holding the account; default: the partner of best priority.'),
}).label('query');
