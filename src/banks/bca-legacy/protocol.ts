/**
 * BCA legacy API addresses and constants (bank-apis.md §1), shared by the adapter that calls
 * them and the simulator that answers them, so the two cannot drift apart.
 */
export const TOKEN_PATH = '/api/oauth/token';
export const TRANSFER_PATH = '/banking/corporates/transfers';
/** Followed by `/{TransactionID}?TransactionDate=yyyy-MM-dd&TransferType=BCA`. */
export const STATUS_PATH = '/banking/corporates/transfers/status';
/** BCA's channel id for corporate API calls (ChannelID / channel-id headers). */
export const CHANNEL_ID = '95051';
/** Interbank (domestic) transfer, v2: snake_case body, `channel-id` and `credential-id` headers. */
export const DOMESTIC_TRANSFER_PATH = '/banking/corporates/transfers/v2/domestic';
/** Followed by `/{bankCode}/accounts/{accountNo}`: the beneficiary's name at another bank. */
export const DOMESTIC_INQUIRY_PATH = '/banking/corporates/transfers/v2/domestic/beneficiaries/banks';
/** `/banking/v3/corporates/{CorporateID}/accounts/{acc1},{acc2}` (≤ 20 accounts) and `…/{acc}/statements`. */
export const ACCOUNTS_PATH = '/banking/v3/corporates';

/** Domestic v2 `transfer_type` per interbank method; BI-FAST has no legacy code (SNAP only). */
export const DOMESTIC_TRANSFER_TYPES = { ONLINE: 'ONL', SKN: 'LLG', RTGS: 'RTG' } as const;
/**
 * `TransferType` of the status inquiry: `BCA` for an intrabank transfer; for a domestic one the
 * domestic code (unconfirmed: BCA documents only `BCA`; kept here, in one place, to change).
 */
export const STATUS_TRANSFER_TYPES = { INTRABANK: 'BCA', ...DOMESTIC_TRANSFER_TYPES } as const;
