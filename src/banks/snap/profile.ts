import Joi from 'joi';
import type { TransferMethod } from '../types.js';

/**
 * What differs between banks that implement SNAP BI (bank-apis.md §5): path prefixes and versions,
 * which secret keys the HMAC, timestamp milliseconds, extra headers, what X-PARTNER-ID holds. All of
 * it is configuration: a BNI or BRI partner is a profile name plus overrides, never new code.
 */

/** The SNAP services Gerbang calls; also the operation names reported to the audit (transfers use transferOperation()). */
export const SNAP_SERVICES = [
  'token',
  'balance',
  'statement',
  'account-inquiry-internal',
  'account-inquiry-external',
  'transfer-intrabank',
  'transfer-interbank',
  'transfer-rtgs',
  'transfer-skn',
  'transfer-status',
] as const;
export type SnapService = (typeof SNAP_SERVICES)[number];
/** Every service but the token has a service code (the SS of HHHSSCC). */
export type SnapCodedService = Exclude<SnapService, 'token'>;

export type InterbankMethod = Exclude<TransferMethod, 'INTRABANK'>;

/** A fragment of a JSON request body a bank wants added (strings, numbers, booleans, nested objects). */
export type BodyFields = Record<string, unknown>;

export interface SnapProfile {
  /** `bca`, `bni`, `bri`, `mandiri`: for logs and error messages. */
  name: string;
  /** Path (with its version) of each service, relative to the partner's base URL. */
  paths: Record<SnapService, string>;
  /** Two-digit service codes (SNAP's standard ones unless a bank deviates). */
  serviceCodes: Record<SnapCodedService, string>;
  /** Which secret keys the HMAC-SHA512 of service calls: the client secret (BCA) or a separate API secret (BNI). */
  hmacKey: 'clientSecret' | 'apiSecret';
  /** X-TIMESTAMP with milliseconds (`…:ss.SSS+07:00`, BRI) or without (BCA, BNI, Mandiri). */
  timestampMillis: boolean;
  /** Headers added to every service call (BNI's X-IP-Address, X-DEVICE-ID, X-LATITUDE, X-LONGITUDE). */
  extraHeaders: Record<string, string>;
  /** Fields the token request's body carries besides `grantType` (BNI: `additionalInfo: {}`). */
  tokenBody: BodyFields;
  /**
   * Fields a bank adds to a service's body (BNI's `additionalInfo {deviceId, channel}`, BRI's
   * `feeType`). Merged under the body Gerbang builds: a field Gerbang sets itself is never
   * replaced, nested objects (`additionalInfo`) are merged key by key.
   */
  bodyFields: Partial<Record<SnapCodedService, BodyFields>>;
  /** Fields that say which interbank route a `transfer-interbank` takes (BCA: `additionalInfo.transferType` "1" switching, "2" BI-FAST). */
  interbankMethodFields: Partial<Record<'ONLINE' | 'BIFAST', BodyFields>>;
  /** Time of day of the statement's `toDateTime` on the last day asked (`00:00:00`, as BCA documents it). */
  statementToTime: string;
  /**
   * Response codes of a BI-FAST transfer meaning "BI-FAST is not available for this beneficiary
   * bank" (nothing executed): the transfer falls back to online switching.
   */
  bifastUnavailableCodes: string[];
  /** CHANNEL-ID when the partner block gives none. */
  channelId: string;
  /** The interbank methods this bank offers over SNAP. */
  interbankMethods: InterbankMethod[];
}

/** SNAP's standard service codes (BCA uses them). */
const STANDARD_SERVICE_CODES: Record<SnapCodedService, string> = {
  balance: '11',
  statement: '14',
  'account-inquiry-internal': '15',
  'account-inquiry-external': '16',
  'transfer-intrabank': '17',
  'transfer-interbank': '18',
  'transfer-rtgs': '22',
  'transfer-skn': '23',
  'transfer-status': '36',
};

/** BCA's SNAP paths (bank-apis.md §2). */
const BCA_PATHS: Record<SnapService, string> = {
  token: '/openapi/v1.0/access-token/b2b',
  balance: '/openapi/v1.0/balance-inquiry',
  statement: '/openapi/v1.0/bank-statement',
  'account-inquiry-internal': '/openapi/v1.0/account-inquiry-internal',
  'account-inquiry-external': '/openapi/v2.0/account-inquiry-external',
  'transfer-intrabank': '/openapi/v1.0/transfer-intrabank',
  'transfer-interbank': '/openapi/v2.0/transfer-interbank',
  'transfer-rtgs': '/openapi/v1.0/transfer-rtgs',
  'transfer-skn': '/openapi/v1.0/transfer-skn',
  'transfer-status': '/openapi/v1.0/transfer/status',
};

/** What BNI's and BRI's published clients put in `additionalInfo` of transfers and inquiries. */
const DEVICE_AND_CHANNEL: BodyFields = { additionalInfo: { deviceId: 'gerbang', channel: 'API' } };
/** Who pays the transfer fee: OUR, the payer (BNI's default; BEN the beneficiary, SHA shared). */
const FEE_OURS: BodyFields = { feeType: 'OUR', ...DEVICE_AND_CHANNEL };

/**
 * Built-in profiles, each from the bank's published material (docs/bank-partners.md lists, per
 * bank, what is documented and what is not):
 * - BCA: its SNAP documentation (2025 pages).
 * - BNI: its official Node SDK (bni-api/bni-nodejs, `SnapBI`): token `/snap/v1/access-token/b2b`
 *   with `additionalInfo: {}`, services under `/snap-service/v1/`, X-TIMESTAMP without
 *   milliseconds, X-IP-Address / X-DEVICE-ID / X-LATITUDE / X-LONGITUDE on every call,
 *   `additionalInfo {deviceId, channel}` and `feeType` in bodies, HMAC keyed with the API secret.
 *   No statement service is published: its path is a guess to override.
 * - BRI: public client code: token `/snap/v1.0/…`, intrabank services `/intrabank/snap/v2.0/…`,
 *   interbank `/interbank/snap/v1.0/…`, `feeType`, milliseconds. Statement, RTGS and SKN paths unconfirmed.
 * - Mandiri: public client code: token `/openapi/auth/v2.0/…`, customers/transactions prefixes
 *   at versions 2.0 and 2.1. CHANNEL-ID unconfirmed.
 * BI-FAST over SNAP is documented by BCA only; the others offer switching, SKN and RTGS until
 * their BI-FAST fields are known (add them with `interbankMethods` and `interbankMethodFields`).
 */
export const SNAP_PROFILES: Readonly<Record<'bca' | 'bni' | 'bri' | 'mandiri', SnapProfile>> = {
  bca: {
    name: 'bca',
    paths: BCA_PATHS,
    serviceCodes: STANDARD_SERVICE_CODES,
    hmacKey: 'clientSecret',
    timestampMillis: false,
    extraHeaders: {},
    tokenBody: {},
    // External inquiry through the switcher ("2", BI-FAST, also wants an amount and purpose code,
    // which an inquiry before paying lacks); without it BCA answers 4001602.
    bodyFields: { 'account-inquiry-external': { additionalInfo: { inquiryService: '1' } } },
    interbankMethodFields: { ONLINE: { additionalInfo: { transferType: '1' } }, BIFAST: { additionalInfo: { transferType: '2' } } },
    statementToTime: '00:00:00',
    // SNAP's "Transaction Not Permitted" on the interbank service (unconfirmed as BCA's word for
    // a beneficiary bank outside BI-FAST): configurable.
    bifastUnavailableCodes: ['4031815'],
    channelId: '95051',
    interbankMethods: ['ONLINE', 'BIFAST', 'SKN', 'RTGS'],
  },
  bni: {
    name: 'bni',
    paths: {
      token: '/snap/v1/access-token/b2b',
      balance: '/snap-service/v1/balance-inquiry',
      statement: '/snap-service/v1/bank-statement',
      'account-inquiry-internal': '/snap-service/v1/account-inquiry-internal',
      'account-inquiry-external': '/snap-service/v1/account-inquiry-external',
      'transfer-intrabank': '/snap-service/v1/transfer-intrabank',
      'transfer-interbank': '/snap-service/v1/transfer-interbank',
      'transfer-rtgs': '/snap-service/v1/transfer-rtgs',
      'transfer-skn': '/snap-service/v1/transfer-skn',
      'transfer-status': '/snap-service/v1/transfer/status',
    },
    serviceCodes: STANDARD_SERVICE_CODES,
    hmacKey: 'apiSecret',
    timestampMillis: false,
    // The SDK sends all four on every call, empty when not configured; set them in profileOverrides.extraHeaders.
    extraHeaders: { 'X-IP-Address': '', 'X-DEVICE-ID': 'gerbang', 'X-LATITUDE': '', 'X-LONGITUDE': '' },
    tokenBody: { additionalInfo: {} },
    bodyFields: {
      'account-inquiry-external': DEVICE_AND_CHANNEL,
      'transfer-status': DEVICE_AND_CHANNEL,
      'transfer-intrabank': FEE_OURS,
      'transfer-interbank': FEE_OURS,
      'transfer-rtgs': FEE_OURS,
      'transfer-skn': FEE_OURS,
    },
    interbankMethodFields: {},
    statementToTime: '00:00:00',
    bifastUnavailableCodes: [],
    channelId: '95221',
    interbankMethods: ['ONLINE', 'SKN', 'RTGS'],
  },
  bri: {
    name: 'bri',
    paths: {
      token: '/snap/v1.0/access-token/b2b',
      balance: '/snap/v1.0/balance-inquiry',
      statement: '/snap/v1.0/bank-statement',
      'account-inquiry-internal': '/intrabank/snap/v2.0/account-inquiry-internal',
      'account-inquiry-external': '/interbank/snap/v1.0/account-inquiry-external',
      'transfer-intrabank': '/intrabank/snap/v2.0/transfer-intrabank',
      'transfer-interbank': '/interbank/snap/v1.0/transfer-interbank',
      'transfer-rtgs': '/interbank/snap/v1.0/transfer-rtgs',
      'transfer-skn': '/interbank/snap/v1.0/transfer-skn',
      'transfer-status': '/snap/v1.0/transfer/status',
    },
    serviceCodes: STANDARD_SERVICE_CODES,
    hmacKey: 'clientSecret',
    timestampMillis: true,
    extraHeaders: {},
    tokenBody: {},
    bodyFields: {
      'account-inquiry-internal': DEVICE_AND_CHANNEL,
      'account-inquiry-external': DEVICE_AND_CHANNEL,
      'transfer-intrabank': FEE_OURS,
      'transfer-interbank': FEE_OURS,
      'transfer-rtgs': FEE_OURS,
      'transfer-skn': FEE_OURS,
    },
    interbankMethodFields: {},
    statementToTime: '00:00:00',
    bifastUnavailableCodes: [],
    channelId: '95221',
    interbankMethods: ['ONLINE', 'SKN', 'RTGS'],
  },
  mandiri: {
    name: 'mandiri',
    paths: {
      token: '/openapi/auth/v2.0/access-token/b2b',
      balance: '/openapi/customers/v2.1/balance-inquiry',
      statement: '/openapi/transactions/v2.1/bank-statement',
      'account-inquiry-internal': '/openapi/customers/v2.0/account-inquiry-internal',
      'account-inquiry-external': '/openapi/customers/v2.1/account-inquiry-external',
      'transfer-intrabank': '/openapi/transactions/v2.0/transfer-intrabank',
      'transfer-interbank': '/openapi/transactions/v2.1/transfer-interbank',
      'transfer-rtgs': '/openapi/transactions/v2.1/transfer-rtgs',
      'transfer-skn': '/openapi/transactions/v2.0/transfer-skn',
      'transfer-status': '/openapi/transactions/v2.1/transfer/status',
    },
    serviceCodes: STANDARD_SERVICE_CODES,
    hmacKey: 'clientSecret',
    timestampMillis: false,
    extraHeaders: {},
    tokenBody: {},
    bodyFields: {},
    interbankMethodFields: {},
    statementToTime: '00:00:00',
    bifastUnavailableCodes: [],
    channelId: '95221',
    interbankMethods: ['ONLINE', 'SKN', 'RTGS'],
  },
};

/** Profile fields a partner block may override; paths, service codes and headers merge key by key. */
export interface SnapProfileOverrides {
  paths?: Partial<Record<SnapService, string>>;
  serviceCodes?: Partial<Record<SnapCodedService, string>>;
  hmacKey?: SnapProfile['hmacKey'];
  timestampMillis?: boolean;
  extraHeaders?: Record<string, string>;
  tokenBody?: BodyFields;
  bodyFields?: Partial<Record<SnapCodedService, BodyFields>>;
  interbankMethodFields?: Partial<Record<'ONLINE' | 'BIFAST', BodyFields>>;
  statementToTime?: string;
  bifastUnavailableCodes?: string[];
  channelId?: string;
  interbankMethods?: InterbankMethod[];
}

/** One SNAP bank partner as configured (a block of the partners file). */
export interface SnapPartnerConfig {
  /** Partner name, e.g. `bca-snap`: the audit's partner and the shared token cache key. */
  partner: string;
  /** The partner bank's BIC, e.g. `CENAIDJA` (on-us routing and internal inquiries). */
  bic: string;
  /** Scheme, host and port of the bank's API; no path. */
  baseUrl: string;
  /** X-CLIENT-KEY. */
  clientId: string;
  /** PEM file of the RSA private key whose public key the bank registered; or give `privateKeyPem`. */
  privateKeyFile?: string;
  privateKeyPem?: string;
  /**
   * The bank's public key (PEM file, or `bankPublicKeyPem`), to verify the notifications it sends
   * (RTGS/SKN final outcome, SHA256withRSA). Without it, this partner's notifications are refused.
   */
  bankPublicKeyFile?: string;
  bankPublicKeyPem?: string;
  /** Client secret: the HMAC key of service calls unless the profile says `apiSecret`. */
  clientSecret: string;
  /** The HMAC key at banks whose profile says `hmacKey: apiSecret` (BNI). */
  apiSecret?: string;
  /** X-PARTNER-ID (BCA: the KlikBCA Bisnis corporate id; BNI: the API key). */
  partnerId: string;
  /** CHANNEL-ID; the profile's when omitted. */
  channelId?: string;
  /** ORIGIN: the domain registered with the bank. */
  origin: string;
  /** Built-in profile this partner starts from. Default `bca`. */
  profile?: keyof typeof SNAP_PROFILES;
  profileOverrides?: SnapProfileOverrides;
}

const path = Joi.string().pattern(/^\/[A-Za-z0-9\-._~/]*$/).max(200).messages({ 'string.pattern.base': '{#label} must be a path starting with "/" (letters, digits, - . _ ~ /)' });
const serviceCode = Joi.string().pattern(/^\d{2}$/).messages({ 'string.pattern.base': '{#label} must be two digits' });
const headerName = Joi.string().pattern(/^[A-Za-z0-9-]{1,64}$/);
const headerValue = Joi.string().pattern(/^[\x20-\x7e]{0,512}$/);
const interbankMethods = Joi.array().items(Joi.string().valid('ONLINE', 'BIFAST', 'SKN', 'RTGS')).unique();
/** A body fragment: names as SNAP spells them, values strings or nested fragments (what the banks' samples hold). */
const fieldName = Joi.string().pattern(/^[A-Za-z][A-Za-z0-9]{0,63}$/);
const fieldValue = Joi.string().max(256).allow('');
/** Three levels deep at most (`additionalInfo.x.y`): deeper than any bank's published addition. */
const bodyFields = Joi.object().pattern(fieldName, Joi.alternatives(fieldValue, Joi.object().pattern(fieldName, Joi.alternatives(fieldValue, Joi.object().pattern(fieldName, fieldValue)))));

/** Joi schema of profile overrides: every field optional, unknown fields refused (a typo is an error, not a silent default). */
export const snapProfileOverridesSchema = Joi.object({
  paths: Joi.object(Object.fromEntries(SNAP_SERVICES.map((s) => [s, path]))),
  serviceCodes: Joi.object(Object.fromEntries(SNAP_SERVICES.filter((s) => s !== 'token').map((s) => [s, serviceCode]))),
  hmacKey: Joi.string().valid('clientSecret', 'apiSecret'),
  timestampMillis: Joi.boolean(),
  extraHeaders: Joi.object().pattern(headerName, headerValue),
  tokenBody: bodyFields,
  bodyFields: Joi.object(Object.fromEntries(SNAP_SERVICES.filter((s) => s !== 'token').map((s) => [s, bodyFields]))),
  interbankMethodFields: Joi.object({ ONLINE: bodyFields, BIFAST: bodyFields }),
  statementToTime: Joi.string().pattern(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/).messages({ 'string.pattern.base': '{#label} must be a time HH:mm:ss' }),
  bifastUnavailableCodes: Joi.array().items(Joi.string().pattern(/^\d{7}$/).messages({ 'string.pattern.base': '{#label} must be a 7-digit SNAP response code' })).unique(),
  channelId: Joi.string().pattern(/^\d{1,16}$/),
  interbankMethods,
});

const secret = Joi.string().min(1).max(512);

/**
 * Joi schema of a SNAP partner block. Messages name the field (`"clientSecret" is required`,
 * `"profileOverrides.paths.balance" must be a path…`). It accepts the partners file's common keys
 * (`protocol`, `priority`, `accounts`, and `bank` in place of `bic`), so the file's validation can use it as
 * is, or tighten them with `snapPartnerSchema.keys({ bank: … })`.
 */
export const snapPartnerSchema = Joi.object({
  partner: Joi.string().pattern(/^[a-z0-9][a-z0-9-]{0,31}$/).required().messages({ 'string.pattern.base': '{#label} must be lower-case letters, digits and dashes (≤ 32)' }),
  protocol: Joi.string().valid('snap'),
  priority: Joi.number().integer().min(1).max(1000),
  /** The company accounts the partner holds (read by the router from the partners file, not by the adapter). */
  accounts: Joi.array().items(Joi.string()),
  bic: Joi.string().pattern(/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/).messages({ 'string.pattern.base': '{#label} must be a BIC such as CENAIDJA' }),
  /** The partners file's spelling: a 3-digit code or BIC, turned into `bic` by the file reader. */
  bank: Joi.string().min(3).max(11),
  baseUrl: Joi.string().uri({ scheme: ['http', 'https'] }).pattern(/^[a-z]+:\/\/[^/?#]+\/?$/i).required().messages({ 'string.pattern.base': '{#label} must be an origin without path or query' }),
  clientId: secret.required(),
  privateKeyFile: Joi.string().min(1),
  privateKeyPem: Joi.string().pattern(/-----BEGIN [A-Z ]*PRIVATE KEY-----/).messages({ 'string.pattern.base': '{#label} must be a PEM private key' }),
  bankPublicKeyFile: Joi.string().min(1),
  bankPublicKeyPem: Joi.string().pattern(/-----BEGIN [A-Z ]*PUBLIC KEY-----/).messages({ 'string.pattern.base': '{#label} must be a PEM public key' }),
  clientSecret: secret.required(),
  apiSecret: secret,
  partnerId: Joi.string().min(1).max(64).required(),
  channelId: Joi.string().pattern(/^\d{1,16}$/),
  origin: Joi.string().min(1).max(255).required(),
  profile: Joi.string().valid(...Object.keys(SNAP_PROFILES)).default('bca'),
  profileOverrides: snapProfileOverridesSchema.default({}),
})
  .or('bic', 'bank')
  .xor('privateKeyFile', 'privateKeyPem')
  .oxor('bankPublicKeyFile', 'bankPublicKeyPem')
  .custom((value: SnapPartnerConfig, helpers) => {
    if (resolveSnapProfile(value).hmacKey === 'apiSecret' && !value.apiSecret) return helpers.error('any.custom', { error: new Error('"apiSecret" is required: this profile keys the HMAC with the API secret') });
    return value;
  })
  .messages({ 'any.custom': '{#error.message}' });

/** Validates a SNAP partner block; throws a TypeError whose message names every bad field. */
export function validateSnapPartner(value: unknown): SnapPartnerConfig {
  const { value: config, error } = snapPartnerSchema.validate(value, { abortEarly: false });
  if (error) throw new TypeError(`SNAP partner: ${error.details.map((d) => d.message).join('; ')}`);
  return config as SnapPartnerConfig;
}

/** The partner's effective profile: its built-in profile with its overrides merged in. */
export function resolveSnapProfile(config: Pick<SnapPartnerConfig, 'profile' | 'profileOverrides' | 'channelId'>): SnapProfile {
  const base = SNAP_PROFILES[config.profile ?? 'bca'];
  const o = config.profileOverrides ?? {};
  return {
    name: base.name,
    paths: { ...base.paths, ...o.paths },
    serviceCodes: { ...base.serviceCodes, ...o.serviceCodes },
    hmacKey: o.hmacKey ?? base.hmacKey,
    timestampMillis: o.timestampMillis ?? base.timestampMillis,
    extraHeaders: { ...base.extraHeaders, ...o.extraHeaders },
    tokenBody: mergeFields(base.tokenBody, o.tokenBody),
    bodyFields: mergeKeyed(base.bodyFields, o.bodyFields),
    interbankMethodFields: mergeKeyed(base.interbankMethodFields, o.interbankMethodFields),
    statementToTime: o.statementToTime ?? base.statementToTime,
    bifastUnavailableCodes: o.bifastUnavailableCodes ?? base.bifastUnavailableCodes,
    channelId: config.channelId ?? o.channelId ?? base.channelId,
    interbankMethods: o.interbankMethods ?? base.interbankMethods,
  };
}

const isObject = (value: unknown): value is BodyFields => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * `fields` filled in from `defaults` where absent, nested objects merged key by key: what is in
 * `fields` always wins. The body Gerbang builds is `fields`, so a bank's additions never replace it.
 */
export function mergeFields(defaults: BodyFields, fields: BodyFields = {}): BodyFields {
  const out: BodyFields = { ...fields };
  for (const [key, value] of Object.entries(defaults)) {
    if (!(key in out)) out[key] = structuredClone(value);
    else if (isObject(out[key]) && isObject(value)) out[key] = mergeFields(value, out[key] as BodyFields);
  }
  return out;
}

function mergeKeyed<K extends string>(base: Partial<Record<K, BodyFields>>, over: Partial<Record<K, BodyFields>> = {}): Partial<Record<K, BodyFields>> {
  const out: Partial<Record<K, BodyFields>> = { ...base };
  for (const key of Object.keys(over) as K[]) out[key] = mergeFields(base[key] ?? {}, over[key]);
  return out;
}
