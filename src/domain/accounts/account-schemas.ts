import Joi from 'joi';
import { ACCOUNT_LENGTH_MESSAGES, accountLength, canonicalBic } from '../routing/index.js';

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
  beneficiaryAccountNumber: accountNumber
    .required()
    // The bank's own length, whatever spelling of its code was used (as for transfers).
    .custom(accountLength((helpers) => (helpers.state.ancestors[0] as { beneficiaryBankCode?: unknown }).beneficiaryBankCode))
    .messages(ACCOUNT_LENGTH_MESSAGES)
    .description("The vendor's account number (exactly 10 digits at BCA and BNI, 15 at BRI, 13 at Mandiri)."),
  sourceAccountNumber: Joi.string()
    .pattern(/^\d{5,34}$/)
    .messages({ 'string.pattern.base': '{{#label}} must be 5 to 34 digits' })
    .description('The company account the payment would come from (some banks ask for it).'),
})
  .required()
  .label('body')
  .meta({ component: 'AccountInquiryRequest' });

export const accountParamsSchema = Joi.object<{ accountNumber: string }>({
  accountNumber: Joi.string()
    .pattern(/^\d{5,34}$/)
    .required()
    .messages({ 'string.pattern.base': '{{#label}} must be 5 to 34 digits' })
    .description('A company account at a partner bank (its bank\'s length: 10 digits at BCA, 15 at BRI, 13 at Mandiri).'),
}).label('path');

export interface BalanceQuery {
  bankCode?: string;
}

export const balanceQuerySchema = Joi.object<BalanceQuery>({
  bankCode: bankCode.description('The partner bank holding the account; default: whichever partner holds it.'),
}).label('query');

export interface StatementRequestQuery {
  from: string;
  to: string;
  bankCode?: string;
}

export const statementQuerySchema = Joi.object<StatementRequestQuery>({
  from: isoDate.required().description('First day (yyyy-MM-dd, Jakarta time), inclusive.'),
  to: isoDate.required().description('Last day (yyyy-MM-dd, Jakarta time), inclusive; at most 31 days after `from`, not in the future.'),
  bankCode: bankCode.description('The partner bank holding the account; default: whichever partner holds it.'),
}).label('query');

/* The answers, for the API documents (and the tests that hold answers to them). */

const money = (doc: string) => Joi.string().pattern(/^-?\d+\.\d{2}$/).description(doc);

/** The partner that answered, by its id and by its bank: each answer read from a partner names both. */
const answeredBy = {
  bank: Joi.string().required().description('The partner that answered.'),
  bankCode: Joi.string().required().description("The bank of the partner that answered, as a BIC: two partners of one bank share it."),
};

export const accountInquiryAnswerSchema = Joi.object({
  beneficiaryBankCode: Joi.string().required().description("The vendor's bank as a BIC."),
  beneficiaryAccountNumber: Joi.string().required().description("The vendor's account number, as the bank knows it."),
  beneficiaryName: Joi.string().required().description('The account holder\'s name: compare it with the vendor master data before paying.'),
  ...answeredBy,
  scope: Joi.string().valid('internal', 'external').required().description('`internal`: the partner asked its own books; `external`: another bank\'s, through the network.'),
  inquiredAt: Joi.string().isoDate().required().description('When (ISO 8601, UTC).'),
}).label('AccountInquiry');

export const balanceAnswerSchema = Joi.object({
  accountNumber: Joi.string().required(),
  currency: Joi.string().required(),
  balance: money('Ledger balance.').required(),
  availableBalance: money('What can be paid out now.').required(),
  holdAmount: money('Amount on hold, when the bank tells it.').allow(null).required(),
  ...answeredBy,
  asOf: Joi.string().isoDate().required().description('When (ISO 8601, UTC).'),
}).label('Balance');

export const statementAnswerSchema = Joi.object({
  accountNumber: Joi.string().required(),
  currency: Joi.string().required(),
  from: Joi.string().required().description('First day (yyyy-MM-dd).'),
  to: Joi.string().required().description('Last day (yyyy-MM-dd).'),
  openingBalance: money('Balance before the first entry, when the bank tells it.').allow(null).required(),
  entries: Joi.array()
    .items(
      Joi.object({
        date: Joi.string().required().description('Day booked (yyyy-MM-dd, Jakarta time).'),
        type: Joi.string().valid('CREDIT', 'DEBIT').required(),
        amount: money('Amount, positive.').required(),
        description: Joi.string().allow('').required(),
        reference: Joi.string().allow('').description("The bank's remarks and references for the line (BCA: its Trailer), when it gives them."),
        pending: Joi.boolean().description('True for a line the bank has not booked yet (BCA: `PEND`); its date is then the last day asked for.'),
      }),
    )
    .required(),
  ...answeredBy,
}).label('Statement');
