/**
 * A SNAP bank's dialect as the simulator plays it: where each service lives, its service code (the
 * SS of the HHHSSCC response code), which secret keys the HMAC, and the X-TIMESTAMP form. The
 * simulator's own type and table, written from the bank's documents (bank-apis.md §2, §6): it
 * shares nothing with the adapters' profiles, so a path or code the adapters get wrong is refused
 * here instead of agreeing with itself. A test may hand the simulator another bank's dialect.
 */

/** The services the simulator answers, by SNAP's names. */
export type SnapServiceName =
  | 'token'
  | 'balance'
  | 'statement'
  | 'account-inquiry-internal'
  | 'account-inquiry-external'
  | 'transfer-intrabank'
  | 'transfer-interbank'
  | 'transfer-rtgs'
  | 'transfer-skn'
  | 'transfer-status';
export type SnapCodedServiceName = Exclude<SnapServiceName, 'token'>;

export interface SnapBankDialect {
  /** Path of each service on the bank's host. */
  paths: Record<SnapServiceName, string>;
  /** Two-digit service code of each service. */
  serviceCodes: Record<SnapCodedServiceName, string>;
  /** The secret that keys HMAC-SHA512: the client secret (BCA) or a separate API secret (BNI). */
  hmacKey: 'clientSecret' | 'apiSecret';
  /** X-TIMESTAMP `yyyy-MM-ddTHH:mm:ss.SSS+07:00` (true) or without milliseconds (false, BCA). */
  timestampMillis: boolean;
  /** CHANNEL-ID a partner registered without its own must send. */
  channelId: string;
}

/**
 * BCA's SNAP, from its 2025 API pages: each service's path and version, SNAP's standard service
 * codes, HMAC keyed with the client secret, X-TIMESTAMP without milliseconds, channel 95051.
 */
export const BCA_SNAP_DIALECT: SnapBankDialect = {
  paths: {
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
  },
  serviceCodes: {
    balance: '11',
    statement: '14',
    'account-inquiry-internal': '15',
    'account-inquiry-external': '16',
    'transfer-intrabank': '17',
    'transfer-interbank': '18',
    'transfer-rtgs': '22',
    'transfer-skn': '23',
    'transfer-status': '36',
  },
  hmacKey: 'clientSecret',
  timestampMillis: false,
  channelId: '95051',
};
