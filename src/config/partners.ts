import Joi from 'joi';
import { readFileSync } from 'node:fs';
import { readableByOthers } from '../security/index.js';
import { canonicalBic } from '../domain/routing/bank-codes.js';
import { ACCOUNT_LENGTH_MESSAGES, accountLength } from '../domain/routing/account-length.js';

/**
 * Bank partners: the banks Gerbang holds accounts and API credentials with. Each has a name
 * (the audit's and the token cache's key), the bank it is (its BIC: a beneficiary there is paid
 * on-us), the protocol it speaks, its credentials and a priority (1 is tried first when a
 * transfer goes to another bank). They come from GERBANG_BANK_PARTNERS_FILE, a JSON file
 * `{"partners": [...]}` readable by the gateway's user only, and from the GERBANG_BCA_*
 * variables, which are a shorthand for one BCA legacy partner named `bca`.
 */
interface PartnerBase {
  /** Unique name, e.g. `bca` or `bri-snap`. */
  partner: string;
  /** The partner bank's BIC (a 3-digit code in the file is turned into it). */
  bic: string;
  /** 1 is the best; partners of equal priority keep the file's order. */
  priority: number;
  baseUrl: string;
  /**
   * The company accounts this partner pays from and reads (10 digits), its default first (used
   * when the ERP leaves `sourceAccountNumber` out). Several partners of the same bank may list
   * the same account; partners of different banks never do.
   */
  accounts: string[];
}

export interface BcaLegacyPartnerConfig extends PartnerBase {
  protocol: 'bca-legacy';
  clientId: string;
  clientSecret: string;
  apiKey: string;
  apiSecret: string;
  corporateId: string;
  origin: string;
  /** The status inquiry's TransferType per interbank method (BCA documents only `BCA`; see the adapter). */
  statusTransferTypes?: Partial<Record<'ONLINE' | 'SKN' | 'RTGS', string>>;
}

/** A SNAP BI partner: its block is validated and read by the SNAP adapter's own schema. */
export interface SnapPartnerBlock extends PartnerBase {
  protocol: 'snap';
  [setting: string]: unknown;
}

export type PartnerConfig = BcaLegacyPartnerConfig | SnapPartnerBlock;

const bankCode = Joi.string()
  .custom((value: string, helpers) => canonicalBic(value) ?? helpers.error('any.invalid'))
  .messages({ 'any.invalid': '{{#label}} must be a known 3-digit bank code or BIC' });

const base = {
  partner: Joi.string().pattern(/^[a-z0-9][a-z0-9-]{0,31}$/).required().messages({ 'string.pattern.base': '{{#label}} must be lower-case letters, digits and dashes (≤ 32)' }),
  bank: bankCode.required(),
  priority: Joi.number().integer().min(1).max(1000).default(100),
  baseUrl: Joi.string().uri({ scheme: ['https', 'http'] }).required(),
  // As long as the block's bank's account numbers are (BCA 10 digits, BRI 15, Mandiri 13…), whatever spelling of its code.
  accounts: Joi.array()
    .items(
      Joi.string()
        .pattern(/^\d{5,34}$/)
        .custom(accountLength((helpers) => (helpers.state.ancestors[1] as { bank?: unknown }).bank))
        .messages({ 'string.pattern.base': '{{#label}} must be an account number of 5 to 34 digits', ...ACCOUNT_LENGTH_MESSAGES }),
    )
    .unique()
    .default([]),
};

const legacyPartner = Joi.object({
  ...base,
  protocol: Joi.string().valid('bca-legacy').required(),
  clientId: Joi.string().min(1).required(),
  clientSecret: Joi.string().min(1).required(),
  apiKey: Joi.string().min(1).required(),
  apiSecret: Joi.string().min(1).required(),
  corporateId: Joi.string().min(1).required(),
  origin: Joi.string().min(1).required(),
  // BCA documents TransferType=BCA only; the values for interbank transfers are configurable.
  statusTransferTypes: Joi.object({
    ONLINE: Joi.string().pattern(/^[A-Z]{3}$/),
    SKN: Joi.string().pattern(/^[A-Z]{3}$/),
    RTGS: Joi.string().pattern(/^[A-Z]{3}$/),
  }).messages({ 'string.pattern.base': '{{#label}} must be three capital letters, e.g. LLG' }),
});

const snapPartner = Joi.object({ ...base, protocol: Joi.string().valid('snap').required() }).unknown(true);

export const partnersFileSchema = Joi.object({
  partners: Joi.array()
    .items(
      Joi.alternatives().conditional('.protocol', {
        switch: [
          { is: 'bca-legacy', then: legacyPartner },
          { is: 'snap', then: snapPartner },
        ],
        otherwise: Joi.object({ protocol: Joi.string().valid('bca-legacy', 'snap').required() }).unknown(true),
      }),
    )
    .min(1)
    .unique('partner')
    .required(),
}).required();

/**
 * Reads and validates the partners file. Problems are pushed as `GERBANG_BANK_PARTNERS_FILE:
 * partners[1].baseUrl …` so the operator sees which block and field is wrong.
 */
export function readPartnersFile(path: string, problems: string[]): PartnerConfig[] {
  const setting = 'GERBANG_BANK_PARTNERS_FILE';
  let text: string;
  try {
    // Credentials live in this file: refuse one that other users of the machine can read.
    if (readableByOthers(path)) {
      problems.push(`${setting}: ${path} holds bank credentials and must be readable by its owner only (chmod 600)`);
      return [];
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${setting}: cannot read ${path} (${(error as Error).message})`);
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    problems.push(`${setting}: ${path} is not JSON (${(error as Error).message})`);
    return [];
  }
  const { value, error } = partnersFileSchema.validate(parsed, { abortEarly: false, errors: { label: 'path' } });
  if (error) {
    for (const detail of error.details) problems.push(`${setting}: ${detail.message.replace(/^"([^"]+)"/, '$1')}`);
    return [];
  }
  return (value.partners as Record<string, unknown>[]).map(({ bank, ...rest }) => ({ ...rest, bic: bank }) as PartnerConfig);
}

/**
 * An account belongs to one bank: partners of different banks listing the same account number
 * would let a payment leave from an account the sending bank does not hold. One problem per
 * such account, naming the partners.
 */
export function accountOwnershipProblems(partners: readonly PartnerConfig[]): string[] {
  const banks = new Map<string, PartnerConfig[]>();
  for (const partner of partners) for (const account of partner.accounts) banks.set(account, [...(banks.get(account) ?? []), partner]);
  const problems: string[] = [];
  for (const [account, holders] of banks) {
    if (new Set(holders.map((p) => p.bic)).size > 1) {
      problems.push(`GERBANG_BANK_PARTNERS_FILE: account ${account} is listed by partners of different banks (${holders.map((p) => `${p.partner} ${p.bic}`).join(', ')}); an account belongs to one bank`);
    }
  }
  return problems;
}

/** Partners by priority (stable: equal priorities keep their order). */
export function byPriority<T extends { priority: number }>(partners: readonly T[]): T[] {
  return [...partners].sort((a, b) => a.priority - b.priority);
}
