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

export interface SnapProfile {
  /** `bca`, `bni`, `bri`: for logs and error messages. */
  name: string;
  /** Path (with its version) of each service, relative to the partner's base URL. */
  paths: Record<SnapService, string>;
  /** Two-digit service codes (SNAP's standard ones unless a bank deviates). */
  serviceCodes: Record<SnapCodedService, string>;
  /** Which secret keys the HMAC-SHA512 of service calls: the client secret (BCA) or a separate API secret (BNI). */
  hmacKey: 'clientSecret' | 'apiSecret';
  /** X-TIMESTAMP with milliseconds (`…:ss.SSS+07:00`, BRI) or without (BCA). */
  timestampMillis: boolean;
  /** Headers added to every service call (a bank's own, e.g. a product key). */
  extraHeaders: Record<string, string>;
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

/** The same resources as BCA's (SNAP's standard names) under another prefix, all at one version. */
function prefixed(prefix: string, version: string): Record<SnapService, string> {
  const out = {} as Record<SnapService, string>;
  for (const service of SNAP_SERVICES) out[service] = BCA_PATHS[service].replace(/^\/openapi\/v\d+\.\d+/, `${prefix}/${version}`);
  return out;
}

/**
 * Built-in profiles. BCA's is from its documentation; the BNI and BRI ones are examples of the
 * differences the sources describe (HMAC keyed by the API secret and X-PARTNER-ID = API key at
 * BNI; milliseconds at BRI). Their exact paths are unconfirmed: override them in the partner block.
 */
export const SNAP_PROFILES: Readonly<Record<'bca' | 'bni' | 'bri', SnapProfile>> = {
  bca: {
    name: 'bca',
    paths: BCA_PATHS,
    serviceCodes: STANDARD_SERVICE_CODES,
    hmacKey: 'clientSecret',
    timestampMillis: false,
    extraHeaders: {},
    channelId: '95051',
    interbankMethods: ['ONLINE', 'BIFAST', 'SKN', 'RTGS'],
  },
  bni: {
    name: 'bni',
    paths: prefixed('/snap-service', 'v1.0'),
    serviceCodes: STANDARD_SERVICE_CODES,
    hmacKey: 'apiSecret',
    timestampMillis: true,
    extraHeaders: {},
    channelId: '95221',
    interbankMethods: ['ONLINE', 'BIFAST', 'SKN', 'RTGS'],
  },
  bri: {
    name: 'bri',
    paths: prefixed('/snap', 'v1.0'),
    serviceCodes: STANDARD_SERVICE_CODES,
    hmacKey: 'clientSecret',
    timestampMillis: true,
    extraHeaders: {},
    channelId: '95221',
    interbankMethods: ['ONLINE', 'BIFAST', 'SKN', 'RTGS'],
  },
};

/** Profile fields a partner block may override; paths, service codes and headers merge key by key. */
export interface SnapProfileOverrides {
  paths?: Partial<Record<SnapService, string>>;
  serviceCodes?: Partial<Record<SnapCodedService, string>>;
  hmacKey?: SnapProfile['hmacKey'];
  timestampMillis?: boolean;
  extraHeaders?: Record<string, string>;
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

/** Joi schema of profile overrides: every field optional, unknown fields refused (a typo is an error, not a silent default). */
export const snapProfileOverridesSchema = Joi.object({
  paths: Joi.object(Object.fromEntries(SNAP_SERVICES.map((s) => [s, path]))),
  serviceCodes: Joi.object(Object.fromEntries(SNAP_SERVICES.filter((s) => s !== 'token').map((s) => [s, serviceCode]))),
  hmacKey: Joi.string().valid('clientSecret', 'apiSecret'),
  timestampMillis: Joi.boolean(),
  extraHeaders: Joi.object().pattern(headerName, headerValue),
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
    channelId: config.channelId ?? o.channelId ?? base.channelId,
    interbankMethods: o.interbankMethods ?? base.interbankMethods,
  };
}
