import Joi from 'joi';
import { TRANSFER_METHODS, type TransferMethod } from '../../banks/types.js';
import { ACCOUNT_LENGTH_MESSAGES, accountLength, canonicalBic } from '../routing/index.js';

/** Shared by the validator and (later) the OpenAPI generator: the one definition of a transfer request. */
export interface TransferRequest {
  transactionId: string;
  /** Omitted: Gerbang pays from a default account (see BankRouter.payingAccount). */
  sourceAccountNumber?: string;
  beneficiaryBankCode: string;
  beneficiaryAccountNumber: string;
  beneficiaryName?: string;
  beneficiaryEmail?: string;
  beneficiaryAddress?: string;
  amount: string;
  currency: 'IDR';
  remark?: string;
  transferMethod?: TransferMethod;
  beneficiaryCustomerType?: 'PERSON' | 'COMPANY' | 'GOVERNMENT';
  beneficiaryResident?: boolean;
  purposeCode?: string;
}

/** Characters every bank accepts in free text; keeps remarks safe inside signed bodies. */
const SAFE_TEXT = /^[A-Za-z0-9 .,\/()-]*$/;

export const transferRequestSchema = Joi.object<TransferRequest>({
  transactionId: Joi.string()
    .pattern(/^[A-Za-z0-9._:-]{1,36}$/)
    .required()
    .description("The ERP's unique id of this payment (1–36 letters, digits, `.`, `_`, `:`, `-`). It is the idempotency key: resend the same request with the same id to get its result."),
  sourceAccountNumber: Joi.string()
    .pattern(/^\d{5,34}$/)
    .description(
      "The company account to debit (its bank's length: 10 digits at BCA, 15 at BRI, 13 at Mandiri): it must be configured at a bank partner and granted to the calling client. The transfer is sent by the partner holding it (on-us when the vendor banks there, interbank otherwise). Omitted: the default account at the vendor's bank if the company has one there, else the default account of the partner of best priority.",
    )
    .messages({ 'string.pattern.base': '{{#label}} must be 5 to 34 digits' }),
  beneficiaryBankCode: Joi.string()
    .required()
    .custom((value: string, helpers) => (canonicalBic(value) ? value : helpers.error('any.invalid')))
    .description("The vendor's bank: 3-digit clearing code (`014`) or BIC (`CENAIDJA`).")
    .messages({ 'any.invalid': '{{#label}} must be a known 3-digit bank code or BIC' }),
  beneficiaryAccountNumber: Joi.string()
    .pattern(/^\d{5,34}$/)
    .required()
    // A rule rather than `.when()`: the documents are generated from this schema, and a
    // converter can only render the sibling-field condition as one of its branches.
    // The rule follows the bank, not its spelling: ` 014`, `cenaidja` and `CENAIDJAXXX` are all BCA.
    .custom(accountLength((helpers) => (helpers.state.ancestors[0] as { beneficiaryBankCode?: unknown }).beneficiaryBankCode))
    .description("The vendor's account number (digits; exactly 10 at BCA and BNI, 15 at BRI, 13 at Mandiri).")
    .messages({ 'string.pattern.base': '{{#label}} must be 5 to 34 digits', ...ACCOUNT_LENGTH_MESSAGES }),
  beneficiaryName: Joi.string().max(70).pattern(SAFE_TEXT).description("The vendor's account name."),
  beneficiaryEmail: Joi.string().email().max(50).description('Where the bank may send the vendor a notification.'),
  beneficiaryAddress: Joi.string()
    .max(100)
    .pattern(SAFE_TEXT)
    .description("The vendor's address (≤ 100 characters: letters, digits, space, `.,/()-`). Required for RTGS and SKN at a SNAP partner (BCA: mandatory); a transfer routed there without it is refused 400 naming this field."),
  amount: Joi.string()
    .pattern(/^(0|[1-9]\d{0,12})\.\d{2}$/)
    // A rule, not `.invalid('0.00')`: that renders as `not: {enum}` in the documents, and
    // client generators then type the field as "any" instead of a string.
    .custom((value: string, helpers) => (value === '0.00' ? helpers.error('any.invalid') : value))
    .required()
    .example('2475000.00')
    .description('Amount as a decimal string with exactly two decimals, greater than zero (e.g. `2475000.00`).')
    .messages({
      'string.pattern.base': '{{#label}} must be a decimal string with two decimals, e.g. "2475000.00"',
      'any.invalid': '{{#label}} must be greater than zero',
      'string.base': '{{#label}} must be a string such as "2475000.00" (not a number, to keep cents exact)',
    }),
  currency: Joi.string().valid('IDR').required().description('Currency; only `IDR`.'),
  remark: Joi.string()
    .max(36)
    .pattern(SAFE_TEXT)
    .allow('')
    .description('Text for the bank statement (≤ 36 characters: letters, digits, space, `.,/()-`).'),
  transferMethod: Joi.string()
    .valid(...TRANSFER_METHODS)
    .description(
      'How to pay: `INTRABANK` (the beneficiary banks with a partner), `ONLINE` (switching), `BIFAST`, `SKN` or `RTGS`. Omitted: chosen by beneficiary bank and amount (BI-FAST, then online, then RTGS or SKN, within the configured limits).',
    ),
  beneficiaryCustomerType: Joi.string()
    .valid('PERSON', 'COMPANY', 'GOVERNMENT')
    .description(
      'Who the vendor is. Required for RTGS and SKN (reported to Bank Indonesia): a transfer routed there without it is refused 400 naming this field. Online switching at a BCA legacy partner sends `COMPANY` when it is absent.',
    ),
  beneficiaryResident: Joi.boolean().description(
    'Whether the vendor is an Indonesian resident. Required for RTGS and SKN (reported to Bank Indonesia): a transfer routed there without it is refused 400 naming this field. Online switching at a BCA legacy partner sends `true` when it is absent.',
  ),
  purposeCode: Joi.string()
    .valid('01', '02', '03', '99')
    .default('99')
    .description('BI-FAST purpose: `01` investment, `02` transfer of wealth, `03` purchase, `99` other.'),
})
  .required()
  .label('body')
  // Published as the `Transfer` component of the API documents.
  .meta({ component: 'Transfer' });

/** Path of GET /v1/transfers/{transactionId}. */
export const transferIdParamsSchema = Joi.object({
  transactionId: Joi.string()
    .pattern(/^[A-Za-z0-9._:-]{1,36}$/)
    .required()
    .description('The transactionId the ERP gave the transfer.'),
}).label('path');
