/**
 * What the domain knows of a bank: an adapter per protocol, configured per bank partner.
 * The domain never sees HTTP, signatures or the bank's field names; the adapter never sees
 * the ERP's request or the store's tables.
 */

/** One HTTP exchange with a bank, reported as it happens so the audit trail holds every leg. */
export interface BankCall {
  partner: string;
  /** `token`, `transfer-intrabank`, … */
  operation: string;
  method: string;
  url: string;
  /** Raw headers; the audit layer redacts Authorization, signatures and keys before storing. */
  requestHeaders: Record<string, string>;
  requestBody: string | null;
  statusCode: number | null;
  responseBody: string | null;
  /** Egress error code (see src/egress) or the bank's own error code, when any. */
  errorCode: string | null;
  startedAt: number;
  durationMs: number;
}

export type BankCallListener = (call: BankCall) => Promise<void>;

export interface BankCallContext {
  /** Awaited after every exchange; if it throws, the adapter stops and rethrows. */
  onCall: BankCallListener;
}

export type TransferStatus = 'SUCCESS' | 'FAILED' | 'PENDING' | 'UNKNOWN';

export interface TransferOutcome {
  status: TransferStatus;
  bankReference: string | null;
  bankResponseCode: string | null;
  bankMessage: string | null;
}

export interface IntrabankTransferOrder {
  /** The id the bank sees (BCA legacy: exactly 8 digits, never reused). Issued by the store. */
  bankTransactionId: string;
  /** yyyy-MM-dd in UTC+7. */
  transactionDate: string;
  /** The ERP's transactionId, sent as the bank's reference so statements can be matched. */
  referenceId: string;
  sourceAccountNumber: string;
  beneficiaryAccountNumber: string;
  /** Decimal string with two fraction digits, e.g. `100000.00`. */
  amount: string;
  currency: 'IDR';
  remark1: string;
  remark2: string;
}

/** Where a transfer is at the bank, as its status inquiry tells. */
export interface TransferStatusQuery {
  bankTransactionId: string;
  /** yyyy-MM-dd (UTC+7) the transfer was sent with. */
  transactionDate: string;
}

/**
 * A status inquiry's answer: the outcome as for a transfer, or NOT_FOUND — which means "not
 * executed" only after a delay and a second check (bank-apis.md §3), so callers keep the
 * transfer in doubt until then.
 */
export type StatusOutcome = TransferOutcome | { status: 'NOT_FOUND'; bankReference: null; bankResponseCode: string | null; bankMessage: string | null };

export interface BankAdapter {
  /** Partner name from the configuration, e.g. `bca`. */
  readonly partner: string;
  readonly protocol: 'bca-legacy' | 'snap';
  /**
   * Sends an intrabank transfer. Never re-sends once the bank may have received it: a timeout
   * or reset after sending yields status UNKNOWN. Throws AppError('BANK_UNAVAILABLE') only when
   * the bank was certainly not reached (connection refused, token fetch failed), so the
   * transfer can be reported as not sent.
   */
  transferIntrabank(order: IntrabankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome>;
  /**
   * Asks the bank where a transfer stands. Safe to repeat (it moves no money). A failed inquiry
   * (timeout, unreadable answer) is UNKNOWN; a refusal before processing throws BANK_UNAVAILABLE.
   */
  transferStatus(query: TransferStatusQuery, ctx: BankCallContext): Promise<StatusOutcome>;
  /** Fetches a fresh token, for `bin/gerbang bank ping` and the doctor. */
  ping(ctx: BankCallContext): Promise<void>;
  close(): Promise<void>;
}

/** Shared bank-token cache (the store's bank_tokens table), so workers and nodes share one token. */
export interface BankTokenCache {
  get(partner: string): Promise<{ token: string; expiresAt: number } | null>;
  put(partner: string, token: string, expiresAt: number): Promise<void>;
  invalidate(partner: string, token: string): Promise<void>;
}
