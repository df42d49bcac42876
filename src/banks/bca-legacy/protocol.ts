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
