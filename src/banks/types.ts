import type { RequestContext } from '../log/index.js';

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
  /** The HTTP request the call is made for, carried by the adapter's log lines; none for background work. */
  requestContext?: RequestContext;
}

export type TransferStatus = 'SUCCESS' | 'FAILED' | 'PENDING' | 'UNKNOWN';

export interface TransferOutcome {
  status: TransferStatus;
  bankReference: string | null;
  bankResponseCode: string | null;
  bankMessage: string | null;
  /**
   * The X-EXTERNAL-ID the transfer went out under when it is not its bankTransactionId (SNAP:
   * the resend after an invalid-token answer carries a new one); the status inquiry asks with it.
   */
  externalId?: string;
}

/**
 * How a transfer travels: on-us inside the partner bank, or interbank by online switching,
 * BI-FAST, SKN (clearing) or RTGS. The public API's `transferMethod`.
 */
export const TRANSFER_METHODS = ['INTRABANK', 'ONLINE', 'BIFAST', 'SKN', 'RTGS'] as const;
export type TransferMethod = (typeof TRANSFER_METHODS)[number];

/** The operation name a transfer of this method is recorded under (payments.operation, the audit). */
export function transferOperation(method: TransferMethod): string {
  return method === 'INTRABANK' ? 'transfer-intrabank' : `transfer-${method.toLowerCase()}`;
}

/** The method of a stored operation name; INTRABANK for anything older or unknown. */
export function methodOfOperation(operation: string | null): TransferMethod {
  const found = TRANSFER_METHODS.find((method) => transferOperation(method) === operation);
  return found ?? 'INTRABANK';
}

export interface IntrabankTransferOrder {
  /**
   * The id the bank sees, issued by the store and never reused: BCA legacy's 8-digit
   * TransactionID; SNAP's partnerReferenceNo and the transfer's X-EXTERNAL-ID.
   */
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
  /** Optional e-mail the bank notifies (BCA domestic, SNAP). */
  beneficiaryEmail?: string;
}

/** An interbank transfer: the beneficiary is at another bank. */
export interface InterbankTransferOrder extends IntrabankTransferOrder {
  method: Exclude<TransferMethod, 'INTRABANK'>;
  /** The beneficiary's bank as its BIC, e.g. `BRINIDJA`. */
  beneficiaryBankCode: string;
  beneficiaryName: string;
  /** The beneficiary's address: mandatory at BCA for SNAP RTGS and SKN (String 100), reported to Bank Indonesia. */
  beneficiaryAddress?: string;
  /** 1 person, 2 company, 3 government (BCA and SNAP codes); absent when the ERP gave none (required for RTGS and SKN). */
  beneficiaryCustomerType?: '1' | '2' | '3';
  /** 1 resident, 2 non-resident; absent when the ERP gave none (required for RTGS and SKN). */
  beneficiaryCustomerResidence?: '1' | '2';
  /** BI-FAST purpose code (`01` investment, `02` transfer of wealth, `03` purchase, `99` other). */
  purposeCode?: string;
}

/** Where a transfer is at the bank, as its status inquiry tells. */
export interface TransferStatusQuery {
  bankTransactionId: string;
  /** yyyy-MM-dd (UTC+7) the transfer was sent with. */
  transactionDate: string;
  /** How it was sent (the stored operation's method): SNAP asks with its service code. */
  method: TransferMethod;
  /** SNAP: the X-EXTERNAL-ID the transfer went out under, when not its bankTransactionId. */
  externalId?: string | null;
  /** The transfer's amount (decimal string): SNAP status requests carry it at some banks (BNI). */
  amount?: string;
  /** The bank's reference, when its answer gave one (SNAP originalReferenceNo). */
  bankReference?: string | null;
}

/**
 * A status inquiry's answer: the outcome as for a transfer, or NOT_FOUND — which means "not
 * executed" only after a delay and a second check (bank-apis.md §3), so callers keep the
 * transfer in doubt until then.
 */
export type StatusOutcome = TransferOutcome | { status: 'NOT_FOUND'; bankReference: null; bankResponseCode: string | null; bankMessage: string | null };

/** Whose name an account number has: at the partner bank itself (internal) or another bank (external). */
export interface AccountInquiryQuery {
  accountNumber: string;
  /** BIC of the account's bank; the partner's own BIC for an internal inquiry. */
  bankCode: string;
  scope: 'internal' | 'external';
  /** The paying account, which some banks need for an external inquiry. */
  sourceAccountNumber: string;
}

export interface AccountInquiryResult {
  accountNumber: string;
  accountName: string;
  bankCode: string;
  /** The bank's own reference of the inquiry, when it gives one. */
  bankReference: string | null;
}

export interface AccountBalance {
  accountNumber: string;
  currency: string;
  /** Decimal strings with two fraction digits. */
  balance: string;
  availableBalance: string;
  holdAmount: string | null;
}

/** Days a statement may span, at BCA (legacy and SNAP) and under SNAP generally (bank-apis.md). */
export const MAX_STATEMENT_DAYS = 31;

/**
 * Lines one statement answer holds at most: BCA's SNAP statement (14) gives at most 9000 rows
 * (bank-apis.md §2), and the legacy adapter reads no more. A statement of that many lines may have
 * been cut short by the bank, its later lines missing: it proves no line is absent.
 */
export const STATEMENT_MAX_LINES = 9000;

/**
 * Bytes of a statement answer read at most (BankRequest.maxResponseBytes), where any other answer
 * is cut at the egress's 1 MiB: lines as the bank writes them (a SNAP line with its amounts,
 * remark and ids is 300-500 bytes) fill 1 MiB after 2,000-3,500 of the STATEMENT_MAX_LINES, and
 * a statement cut short by that bound proves nothing, so a busy account's payments in doubt went
 * to review. 8 MiB holds the cap's lines at over 900 bytes each.
 */
export const STATEMENT_MAX_BYTES = 8 * 1024 * 1024;

export interface StatementQuery {
  accountNumber: string;
  /** yyyy-MM-dd (UTC+7), inclusive; at most 31 days apart. */
  from: string;
  to: string;
}

export interface StatementEntry {
  /** yyyy-MM-dd (UTC+7) the entry was booked. */
  date: string;
  type: 'CREDIT' | 'DEBIT';
  /** Decimal string with two fraction digits. */
  amount: string;
  description: string;
  /** The bank's remarks and references for the line (BCA legacy: its `Trailer`), when it gives them. */
  reference?: string;
  /** A line the bank has not booked yet (BCA legacy: TransactionDate `PEND`); `date` is then the period's last day. */
  pending?: boolean;
}

export interface AccountStatement {
  accountNumber: string;
  currency: string;
  from: string;
  to: string;
  /** Balance before the first entry, when the bank tells it. */
  openingBalance: string | null;
  entries: StatementEntry[];
}

/** A notification as received: what its signature covers. */
export interface SignedNotification {
  method: string;
  /** Path (and query) as received. */
  path: string;
  /** The body as received. */
  body: string;
  timestamp: string;
  signature: string;
}

export interface BankAdapter {
  /** Partner name from the configuration, e.g. `bca`. */
  readonly partner: string;
  readonly protocol: 'bca-legacy' | 'snap';
  /** The interbank methods this partner's protocol can send (INTRABANK is always supported). */
  readonly interbankMethods: readonly Exclude<TransferMethod, 'INTRABANK'>[];
  /**
   * Sends an intrabank transfer. Never re-sends once the bank may have received it: a timeout
   * or reset after sending yields status UNKNOWN. Throws AppError('BANK_UNAVAILABLE') only when
   * the bank was certainly not reached (connection refused, token fetch failed), so the
   * transfer can be reported as not sent.
   */
  transferIntrabank(order: IntrabankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome>;
  /** Sends an interbank transfer; the same guarantees as transferIntrabank. */
  transferInterbank(order: InterbankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome>;
  /**
   * Asks the bank where a transfer stands. Safe to repeat (it moves no money). A failed inquiry
   * (timeout, unreadable answer) is UNKNOWN; a refusal before processing throws BANK_UNAVAILABLE.
   */
  transferStatus(query: TransferStatusQuery, ctx: BankCallContext): Promise<StatusOutcome>;
  /**
   * The read-only operations below move no money. A business refusal (unknown account, period
   * too long…) throws AppError('BANK_REFUSED') with the bank's code and message in
   * `extensions`; anything else that fails throws AppError('BANK_UNAVAILABLE').
   */
  accountInquiry(query: AccountInquiryQuery, ctx: BankCallContext): Promise<AccountInquiryResult>;
  balance(accountNumber: string, ctx: BankCallContext): Promise<AccountBalance>;
  statement(query: StatementQuery, ctx: BankCallContext): Promise<AccountStatement>;
  /**
   * Whether a notification the bank sent (SNAP: RTGS/SKN final outcome) carries this partner
   * bank's signature; absent for a partner with no bank public key configured.
   */
  verifyNotification?(notification: SignedNotification): boolean;
  /** Fetches a fresh token, for `bin/gerbang bank ping` and the doctor. */
  ping(ctx: BankCallContext): Promise<void>;
  close(): Promise<void>;
}

/** Shared bank-token cache (the store's bank_tokens table), so workers and nodes share one token. */
export interface BankTokenCache {
  get(partner: string): Promise<{ token: string; expiresAt: number } | null>;
  /** Stores the token, unless the one stored expires later. */
  put(partner: string, token: string, expiresAt: number): Promise<void>;
  invalidate(partner: string, token: string): Promise<void>;
  /** Claims the next fetch of the partner's token for `leaseMs` across workers and nodes, or renews `owner`'s claim (see fetchTokenOnce). */
  claimRefresh(partner: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseRefresh(partner: string, owner: string): Promise<void>;
}
