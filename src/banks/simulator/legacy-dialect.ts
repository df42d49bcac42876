/**
 * BCA's legacy API as its documents publish it (developer.bca.co.id "Dokumentasi", the saved 2023
 * and 2025 pages, and "BCA API OAuth & Signature" v0.1.4; summarised in bank-apis.md §1 and §6),
 * written here for the simulator alone. The adapter has its own table: the two are compared only
 * through the conformance fixtures (test/conformance/bca-legacy/), so a wrong path or code on
 * either side shows up as a failing test instead of agreeing with itself.
 */

/** The documented paths ("Overview of BCA Sandbox APIs"). */
export const LEGACY_PATHS = {
  token: '/api/oauth/token',
  transfer: '/banking/corporates/transfers',
  domesticTransfer: '/banking/corporates/transfers/v2/domestic',
  /** `/banking/corporates/transfers/status/{TransactionNumber}`. */
  statusPrefix: '/banking/corporates/transfers/status/',
  /** `…/v2/domestic/beneficiaries/banks/{beneficiary_bank_code}/accounts/{beneficiary_account_number}`. */
  domesticInquiryPrefix: '/banking/corporates/transfers/v2/domestic/beneficiaries/banks/',
  /** `/banking/v3/corporates/{CorporateID}/accounts/{AccountNumber1},…` and `…/{AccountNumber}/statements`. */
  accountsPrefix: '/banking/v3/corporates/',
} as const;

/** The channel id BCA gives corporate API callers (`channel-id`, `ChannelID`). */
export const LEGACY_CHANNEL_ID = '95051';

/** Domestic v2 `transfer_type`: online switching, SKN (LLG) and RTGS (RTG). */
export const LEGACY_DOMESTIC_TRANSFER_TYPES: readonly string[] = ['ONL', 'LLG', 'RTG'];

/**
 * Status inquiry `TransferType`: `BCA` is the only documented value. The domestic codes are
 * accepted too because BCA does not say what an interbank transfer is asked with (unconfirmed).
 */
export const LEGACY_STATUS_TRANSFER_TYPES: readonly string[] = ['BCA', ...LEGACY_DOMESTIC_TRANSFER_TYPES];

/** A statement reaches this many days back, and spans at most this many days (ESB-99-158 beyond). */
export const LEGACY_STATEMENT_DAYS = 31;

/** The documented `beneficiary_cust_type` (1 person, 2 company, 3 government) and residence (1 resident, 2 not). */
export const LEGACY_CUSTOMER_TYPES: readonly string[] = ['1', '2', '3'];
export const LEGACY_CUSTOMER_RESIDENCES: readonly string[] = ['1', '2'];

/**
 * Mandatory body fields per operation, from the documents' request tables. The conformance
 * fixtures list the same fields from the same tables; a test checks the simulator refuses a
 * request missing each one.
 */
export const LEGACY_MANDATORY = {
  transfer: ['CorporateID', 'SourceAccountNumber', 'TransactionID', 'TransactionDate', 'ReferenceID', 'CurrencyCode', 'Amount', 'BeneficiaryAccountNumber'],
  domesticTransfer: [
    'transaction_id',
    'transaction_date',
    'source_account_number',
    'beneficiary_account_number',
    'beneficiary_bank_code',
    'beneficiary_name',
    'amount',
    'transfer_type',
    'beneficiary_cust_type',
    'beneficiary_cust_residence',
    'currency_code',
  ],
} as const;
