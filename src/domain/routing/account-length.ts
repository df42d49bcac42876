import type { CustomHelpers } from 'joi';
import { accountNumberRule } from './bank-codes.js';

/** The message of an account number of the wrong length for its bank (`… must be 15 digits for a Bank Rakyat Indonesia account`). */
export const ACCOUNT_LENGTH_MESSAGES = { 'account.length': '{{#label}} must be {{#digits}} digits for a {{#bank}} account' };

/**
 * A Joi rule checking an account number against its bank's length, the bank read by `bankOf`
 * from the object being validated (the transfer's beneficiaryBankCode, a partner block's bank),
 * whatever spelling of its code: the one place the schemas apply accountNumberRule.
 */
export function accountLength(bankOf: (helpers: CustomHelpers) => unknown) {
  return (value: string, helpers: CustomHelpers) => {
    const bank = bankOf(helpers);
    const rule = typeof bank === 'string' ? accountNumberRule(bank) : null;
    return rule && value.length !== rule.digits ? helpers.error('account.length', rule) : value;
  };
}
