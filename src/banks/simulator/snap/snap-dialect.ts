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
  /** Headers this bank wants on every service call beyond SNAP's (BNI: X-DEVICE-ID); 400xx02 without one. */
  requiredHeaders?: string[];
  /** Fields the token request's body must carry besides grantType (BNI: additionalInfo). */
  tokenBodyFields?: string[];
  /** Mandatory body fields per service where the bank's list differs from BCA's (dotted names). */
  mandatory?: Partial<Record<SnapCodedServiceName, string[]>>;
  /** Whether transfer-interbank names its route in additionalInfo.transferType (BCA: "1" switching, "2" BI-FAST). Default true. */
  interbankTransferType?: boolean;
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

const STANDARD_CODES: SnapBankDialect['serviceCodes'] = BCA_SNAP_DIALECT.serviceCodes;

/**
 * BNI's SNAP as its official Node SDK (bni-api/bni-nodejs, src/lib/api/snapBI.js and README
 * "Snap BI Transfer Credit") calls it: token /snap/v1/access-token/b2b with additionalInfo in
 * the body, services under /snap-service/v1/, X-TIMESTAMP without milliseconds, HMAC keyed with
 * the API secret, X-DEVICE-ID on every call (X-IP-Address, X-LATITUDE, X-LONGITUDE optional).
 * Mandatory fields are those the README does not mark optional. No statement service is
 * published; the simulator answers one at the same prefix.
 */
export const BNI_SNAP_DIALECT: SnapBankDialect = {
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
  serviceCodes: STANDARD_CODES,
  hmacKey: 'apiSecret',
  timestampMillis: false,
  channelId: '95221',
  requiredHeaders: ['X-DEVICE-ID'],
  tokenBodyFields: ['additionalInfo'],
  interbankTransferType: false,
  mandatory: {
    'transfer-intrabank': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountNo', 'feeType', 'sourceAccountNo', 'transactionDate'],
    'transfer-interbank': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryBankCode', 'feeType', 'sourceAccountNo', 'transactionDate'],
    'transfer-rtgs': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryBankCode', 'beneficiaryCustomerResidence', 'beneficiaryCustomerType', 'customerReference', 'feeType', 'sourceAccountNo', 'transactionDate'],
    'transfer-skn': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryBankCode', 'beneficiaryCustomerResidence', 'beneficiaryCustomerType', 'customerReference', 'feeType', 'sourceAccountNo', 'transactionDate'],
    'account-inquiry-external': ['beneficiaryBankCode', 'beneficiaryAccountNo'],
    'transfer-status': ['originalPartnerReferenceNo', 'serviceCode', 'transactionDate', 'amount.value', 'amount.currency'],
  },
};

/**
 * BRI's SNAP as public client code calls it: token /snap/v1.0/access-token/b2b, balance and
 * status under /snap/v1.0/, internal inquiry and intrabank under /intrabank/snap/v2.0/, external
 * inquiry and interbank under /interbank/snap/v1.0/, X-TIMESTAMP with milliseconds (bank-apis.md
 * §2), HMAC keyed with the client secret. Statement, RTGS and SKN paths are not published in
 * that code (unconfirmed).
 */
export const BRI_SNAP_DIALECT: SnapBankDialect = {
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
  serviceCodes: STANDARD_CODES,
  hmacKey: 'clientSecret',
  timestampMillis: true,
  channelId: '95221',
  interbankTransferType: false,
  mandatory: {
    'transfer-interbank': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryBankCode', 'sourceAccountNo', 'transactionDate'],
    'account-inquiry-external': ['beneficiaryBankCode', 'beneficiaryAccountNo'],
    'transfer-status': ['originalPartnerReferenceNo', 'serviceCode', 'transactionDate'],
  },
};

/**
 * Mandiri's SNAP as public client code calls it: token /openapi/auth/v2.0/access-token/b2b,
 * customers services (balance 2.1, internal inquiry 2.0, external inquiry 2.1) and transactions
 * services (statement 2.1, intrabank 2.0, interbank 2.1, RTGS 2.1, SKN 2.0, status 2.1),
 * X-TIMESTAMP without milliseconds, HMAC keyed with the client secret.
 */
export const MANDIRI_SNAP_DIALECT: SnapBankDialect = {
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
  serviceCodes: STANDARD_CODES,
  hmacKey: 'clientSecret',
  timestampMillis: false,
  channelId: '95221',
  interbankTransferType: false,
  mandatory: {
    'transfer-interbank': ['partnerReferenceNo', 'amount.value', 'amount.currency', 'beneficiaryAccountName', 'beneficiaryAccountNo', 'beneficiaryBankCode', 'sourceAccountNo', 'transactionDate'],
    'account-inquiry-external': ['beneficiaryBankCode', 'beneficiaryAccountNo'],
  },
};
