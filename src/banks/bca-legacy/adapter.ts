import { AppError } from '../../errors/index.js';
import { isEgressError, type BankHttpClient, type BankRequest } from '../../egress/index.js';
import Joi from 'joi';
import { STATEMENT_MAX_BYTES, STATEMENT_MAX_LINES, transferOperation, type AccountBalance, type AccountInquiryResult, type AccountStatement, type BankAdapter, type BankCallContext, type BankTokenCache, type IntrabankTransferOrder, type InterbankTransferOrder, type StatusOutcome, type TransferOutcome, type TransferStatusQuery } from '../types.js';
import { requireReportedFields } from '../common/reported-fields.js';
import { withReauth as sharedWithReauth, type AttemptVerdict } from '../common/with-reauth.js';
import { createExchange, type ExchangeFn } from './bank-exchange.js';
import { DOMESTIC_ANSWER, INTRABANK_ANSWER, mapSentFailure, mapServiceResponse, mapStatusResponse, mapTransferResponse, type BcaError, type SentTransfer } from './response-mapper.js';
import { ACCOUNTS_PATH, CHANNEL_ID, DOMESTIC_INQUIRY_PATH, DOMESTIC_TRANSFER_PATH, DOMESTIC_TRANSFER_TYPES, STATUS_PATH, STATUS_TRANSFER_TYPES, TRANSFER_PATH } from './protocol.js';
import { bcaTimestamp, relativeUrl, sign } from './signer.js';
import { createTokenProvider } from './token-provider.js';

export interface BcaLegacyAdapterOptions {
  /** Partner name from the configuration, e.g. `bca`; the token cache key. */
  partner: string;
  /** The bank's origin, as given to the HTTP client; recorded in the audit. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** X-BCA-Key. */
  apiKey: string;
  /** HMAC key of X-BCA-Signature. */
  apiSecret: string;
  /** KlikBCA Bisnis corporate id, sent as CorporateID. */
  corporateId: string;
  /** The domain registered with BCA, sent as Origin. */
  origin: string;
  /**
   * The status inquiry's `TransferType` per interbank method. BCA documents only `BCA` (intrabank);
   * by default an interbank transfer is asked with its domestic code (ONL, LLG, RTG), unconfirmed:
   * change it here once BCA says otherwise. A "not found" from such a lookup never settles a
   * transfer by itself (only a statement read after the bank's day closed does).
   */
  statusTransferTypes?: Partial<Record<'ONLINE' | 'SKN' | 'RTGS', string>>;
  http: BankHttpClient;
  tokens: BankTokenCache;
  now?: () => Date;
}

/**
 * BCA's pre-SNAP corporate API. Every exchange (token fetches included) is reported to
 * `ctx.onCall` before this returns or throws. transferIntrabank:
 * - returns SUCCESS, FAILED (the bank's code and English message kept) or UNKNOWN (in doubt:
 *   timeout, reset, in-doubt code, unreadable answer — never re-sent);
 * - on ESB-14-009 drops the token, fetches a new one, re-signs and resends once (the bank refused
 *   before processing, so a resend cannot pay twice); a resend answered "TransactionID must be
 *   unique" (ESB-82-003) says the first send was taken after all: UNKNOWN, never FAILED;
 * - throws AppError('BANK_UNAVAILABLE') when nothing was executed: no connection, no token, or
 *   the call refused before processing (signature, timestamp, source address, maintenance…),
 *   with `extensions.bankResponseCode` when the bank gave one.
 */
export function createBcaLegacyAdapter(options: BcaLegacyAdapterOptions): BankAdapter {
  const now = options.now ?? (() => new Date());
  const exchange = createExchange({ partner: options.partner, baseUrl: options.baseUrl.replace(/\/+$/, ''), http: options.http, now });
  const tokens = createTokenProvider({ ...options, exchange, now });
  const statusTransferType = (method: TransferStatusQuery['method']): string => {
    if (method === 'INTRABANK') return STATUS_TRANSFER_TYPES.INTRABANK;
    const interbank = method === 'BIFAST' ? 'ONLINE' : method;
    return options.statusTransferTypes?.[interbank] ?? STATUS_TRANSFER_TYPES[interbank];
  };

  /**
   * Runs a signed call with the current token; when the bank refuses the token (ESB-14-009,
   * before processing anything) drops it, takes a new one and runs the call once more, freshly
   * signed. A refusal of the call itself throws BANK_UNAVAILABLE: nothing was executed.
   */
  async function withReauth<T>(ctx: BankCallContext, attempt: (token: string, resend: boolean) => Promise<AttemptVerdict<T, BcaError>>): Promise<T> {
    return sharedWithReauth(tokens, ctx, options.partner, attempt, refusedBeforeProcessing);
  }

  /** A call that moves no money: its validated answer, BANK_REFUSED for a business refusal, else BANK_UNAVAILABLE. */
  function readOnly<T>(ctx: BankCallContext, operation: string, build: (token: string) => BankRequest, schema: Joi.ObjectSchema<T>): Promise<T> {
    return withReauth(ctx, async (token) => {
      const result = await exchange(ctx, operation, build(token));
      if (!result.ok) throw unreachable(result.error);
      const verdict = mapServiceResponse(result.response, schema);
      if (verdict.kind === 'ok') return { kind: 'outcome' as const, outcome: verdict.value };
      if (verdict.kind === 'refused') {
        throw new AppError('BANK_REFUSED', `The bank refused the ${operation} (${verdict.error.code}: ${verdict.error.message}).`, {
          extensions: { bankResponseCode: verdict.error.code, bankMessage: verdict.error.message },
        });
      }
      return { kind: verdict.kind, error: verdict.error };
    });
  }

  return {
    partner: options.partner,
    protocol: 'bca-legacy',

    async transferIntrabank(order: IntrabankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome> {
      // Serialised once: these exact bytes are signed and sent, on the first try and the resend.
      const body = JSON.stringify({
        CorporateID: options.corporateId,
        SourceAccountNumber: order.sourceAccountNumber,
        TransactionID: order.bankTransactionId,
        TransactionDate: order.transactionDate,
        ReferenceID: order.referenceId,
        CurrencyCode: order.currency,
        Amount: order.amount,
        BeneficiaryAccountNumber: order.beneficiaryAccountNumber,
        Remark1: order.remark1,
        Remark2: order.remark2,
      });
      return withReauth(ctx, (token, resend) =>
        sendTransfer(exchange, ctx, 'transfer-intrabank', signed(options, now, 'POST', relativeUrl(TRANSFER_PATH), token, body), { transactionId: order.bankTransactionId, resend }, INTRABANK_ANSWER),
      );
    },

    interbankMethods: Object.keys(DOMESTIC_TRANSFER_TYPES) as (keyof typeof DOMESTIC_TRANSFER_TYPES)[],

    async transferInterbank(order: InterbankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome> {
      if (order.method === 'BIFAST') {
        throw new AppError('ROUTE_UNAVAILABLE', `Partner ${options.partner} speaks BCA's legacy API, which has no BI-FAST transfer.`, {
          fields: [{ field: 'transferMethod', message: 'BIFAST is not available through this partner' }],
        });
      }
      // The domestic transfer carries the customer type and residence for every method. For SKN
      // (LLG) and RTGS they are reported to Bank Indonesia: the ERP must give them. Switching
      // (ONL) is not reported there, and absent values go as the API documents: company, resident.
      if (order.method !== 'ONLINE') requireReportedFields(order, options.partner, ['beneficiaryCustomerType', 'beneficiaryResident']);
      const body = JSON.stringify({
        transaction_id: order.bankTransactionId,
        transaction_date: order.transactionDate,
        source_account_number: order.sourceAccountNumber,
        beneficiary_account_number: order.beneficiaryAccountNumber,
        beneficiary_bank_code: order.beneficiaryBankCode,
        beneficiary_name: order.beneficiaryName,
        amount: order.amount,
        transfer_type: DOMESTIC_TRANSFER_TYPES[order.method],
        beneficiary_cust_type: order.beneficiaryCustomerType ?? SWITCHING_CUSTOMER_TYPE,
        beneficiary_cust_residence: order.beneficiaryCustomerResidence ?? SWITCHING_RESIDENCE,
        currency_code: order.currency,
        remark1: order.remark1,
        remark2: order.remark2,
        beneficiary_email: order.beneficiaryEmail ?? '',
      });
      const operation = transferOperation(order.method);
      return withReauth(ctx, (token, resend) =>
        sendTransfer(exchange, ctx, operation, domesticHeaders(signed(options, now, 'POST', relativeUrl(DOMESTIC_TRANSFER_PATH), token, body), options.corporateId), { transactionId: order.bankTransactionId, settlesLater: order.method !== 'ONLINE', resend }, DOMESTIC_ANSWER),
      );
    },

    async accountInquiry(query, ctx): Promise<AccountInquiryResult> {
      const path = relativeUrl(`${DOMESTIC_INQUIRY_PATH}/${encodeURIComponent(query.bankCode)}/accounts/${encodeURIComponent(query.accountNumber)}`);
      const value = await readOnly(ctx, 'account-inquiry', (token) => domesticHeaders(signed(options, now, 'GET', path, token, ''), options.corporateId), INQUIRY_ANSWER);
      return { accountNumber: query.accountNumber, accountName: (value.beneficiary_name ?? value.BeneficiaryAccountName)!, bankCode: query.bankCode, bankReference: null };
    },

    async balance(accountNumber, ctx): Promise<AccountBalance> {
      const path = relativeUrl(`${ACCOUNTS_PATH}/${encodeURIComponent(options.corporateId)}/accounts/${encodeURIComponent(accountNumber)}`);
      const value = await readOnly(ctx, 'balance', (token) => signed(options, now, 'GET', path, token, ''), BALANCE_ANSWER);
      const found = value.AccountDetailDataSuccess.find((row) => row.AccountNumber === accountNumber);
      if (!found) {
        const failed = value.AccountDetailDataFailed.find((row) => row.AccountNumber === accountNumber);
        throw new AppError('BANK_REFUSED', `The bank gave no balance for account ${accountNumber}.`, {
          extensions: { bankResponseCode: 'ESB-82-014', bankMessage: failed?.English ?? 'Invalid account' },
        });
      }
      return { accountNumber, currency: found.Currency, balance: found.Balance, availableBalance: found.AvailableBalance, holdAmount: found.HoldAmount ?? null };
    },

    async statement(query, ctx): Promise<AccountStatement> {
      const path = relativeUrl(`${ACCOUNTS_PATH}/${encodeURIComponent(options.corporateId)}/accounts/${encodeURIComponent(query.accountNumber)}/statements`, {
        StartDate: query.from,
        EndDate: query.to,
      });
      const value = await readOnly(ctx, 'statement', (token) => ({ ...signed(options, now, 'GET', path, token, ''), maxResponseBytes: STATEMENT_MAX_BYTES }), STATEMENT_ANSWER);
      return {
        accountNumber: query.accountNumber,
        currency: value.Currency,
        from: query.from,
        to: query.to,
        openingBalance: value.StartBalance ?? null,
        entries: value.Data.map((row) => ({
          ...statementDate(row.TransactionDate, query.from, query.to),
          type: row.TransactionType === 'C' ? ('CREDIT' as const) : ('DEBIT' as const),
          amount: row.TransactionAmount,
          description: row.TransactionName,
          ...(row.Trailer ? { reference: row.Trailer } : {}),
        })),
      };
    },

    async transferStatus(query: TransferStatusQuery, ctx: BankCallContext): Promise<StatusOutcome> {
      const path = relativeUrl(`${STATUS_PATH}/${encodeURIComponent(query.bankTransactionId)}`, { TransactionDate: query.transactionDate, TransferType: statusTransferType(query.method) });
      return withReauth(ctx, async (token) => {
        const req = signed(options, now, 'GET', path, token, '');
        req.headers.ChannelID = CHANNEL_ID;
        req.headers.CredentialID = options.corporateId;
        const result = await exchange(ctx, 'transfer-status', req);
        if (result.ok) return mapStatusResponse(result.response, { transactionId: query.bankTransactionId });
        if (isEgressError(result.error) && !result.error.sent) throw unreachable(result.error);
        // An inquiry moves no money; one that failed in flight just leaves the transfer in doubt.
        const outcome: StatusOutcome = { status: 'UNKNOWN', bankReference: null, bankResponseCode: isEgressError(result.error) ? result.error.code : 'BANK_ERROR', bankMessage: 'The status inquiry got no answer; the transfer stays in doubt.' };
        return { kind: 'outcome' as const, outcome };
      });
    },

    async ping(ctx: BankCallContext): Promise<void> {
      await tokens.fetch(ctx);
    },

    close: () => options.http.close(),
  };
}

type SendResult = { kind: 'outcome'; outcome: TransferOutcome } | { kind: 'reauth' | 'unavailable'; error: BcaError };

/** One signed transfer exchange, mapped. A failure before sending throws BANK_UNAVAILABLE. */
async function sendTransfer(
  exchange: ExchangeFn,
  ctx: BankCallContext,
  operation: string,
  req: BankRequest,
  sent: SentTransfer,
  reader: typeof INTRABANK_ANSWER,
): Promise<SendResult> {
  const result = await exchange(ctx, operation, req);
  if (result.ok) return mapTransferResponse(result.response, sent, reader);
  const { error } = result;
  if (isEgressError(error) && !error.sent) {
    throw new AppError('BANK_UNAVAILABLE', `The bank could not be reached (${error.code}); the transfer was not sent.`, {
      cause: error,
      extensions: { bankResponseCode: error.code },
    });
  }
  // Sent, or a failure of unknown kind: the bank may have the payment. In doubt, never re-sent.
  if (isEgressError(error)) return { kind: 'outcome', outcome: mapSentFailure(error) };
  return {
    kind: 'outcome',
    outcome: { status: 'UNKNOWN', bankReference: null, bankResponseCode: 'BANK_ERROR', bankMessage: 'The call to the bank failed in an unexpected way; it will be resolved by status inquiry.' },
  };
}

/** Builds the signed request; a new timestamp for each send, so a resend is freshly signed. */
function signed(options: BcaLegacyAdapterOptions, now: () => Date, method: 'GET' | 'POST', path: string, token: string, body: string): BankRequest {
  const timestamp = bcaTimestamp(now());
  const { signature } = sign({ method, relativeUrl: path, accessToken: token, body, timestamp, apiSecret: options.apiSecret });
  return {
    method,
    path,
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Origin: options.origin,
      'X-BCA-Key': options.apiKey,
      'X-BCA-Timestamp': timestamp,
      'X-BCA-Signature': signature,
    },
    body: method === 'GET' ? undefined : body,
  };
}

function refusedBeforeProcessing(error: BcaError): AppError {
  return new AppError('BANK_UNAVAILABLE', `The bank refused the call before processing the transfer (${error.code}: ${error.message}); nothing was executed.`, {
    extensions: { bankResponseCode: error.code, bankMessage: error.message },
  });
}


/** Domestic v2 and its inquiry also carry lower-case `channel-id` and `credential-id`. */
function domesticHeaders(req: BankRequest, corporateId: string): BankRequest {
  req.headers['channel-id'] = CHANNEL_ID;
  req.headers['credential-id'] = corporateId;
  return req;
}

/** The bank was not reached, or the exchange failed in a way that tells nothing: nothing to show but "try later". */
function unreachable(error: unknown): AppError {
  const code = isEgressError(error) ? error.code : 'BANK_ERROR';
  return new AppError('BANK_UNAVAILABLE', `The bank could not be reached (${code}).`, { cause: error, extensions: { bankResponseCode: code } });
}

/**
 * The domestic inquiry's answer: the name as `beneficiary_name` or `BeneficiaryAccountName` (BCA's
 * saved pages disagree, bank-apis.md §6); whichever is given is read, the first when both are.
 */
/** What an online (switching) transfer sends when the ERP gave no customer type or residence: company, resident. */
const SWITCHING_CUSTOMER_TYPE = '2';
const SWITCHING_RESIDENCE = '1';

const INQUIRY_ANSWER = Joi.object<{ beneficiary_name?: string; BeneficiaryAccountName?: string }>({
  beneficiary_name: Joi.string().max(256),
  BeneficiaryAccountName: Joi.string().max(256),
})
  .or('beneficiary_name', 'BeneficiaryAccountName')
  .unknown(true)
  .required();

const decimal = Joi.string().pattern(/^-?\d{1,16}(\.\d{1,2})?$/);

const BALANCE_ANSWER = Joi.object<{
  AccountDetailDataSuccess: { AccountNumber: string; Currency: string; Balance: string; AvailableBalance: string; HoldAmount?: string }[];
  AccountDetailDataFailed: { AccountNumber: string; English?: string }[];
}>({
  AccountDetailDataSuccess: Joi.array()
    .items(Joi.object({ AccountNumber: Joi.string().max(34).required(), Currency: Joi.string().max(3).required(), Balance: decimal.required(), AvailableBalance: decimal.required(), HoldAmount: decimal }).unknown(true))
    .max(20)
    .default([]),
  AccountDetailDataFailed: Joi.array()
    .items(Joi.object({ AccountNumber: Joi.string().max(34).required(), English: Joi.string().allow('').max(1024) }).unknown(true))
    .max(20)
    .default([]),
})
  .unknown(true)
  .required();

/**
 * A statement line's TransactionDate as yyyy-MM-dd. BCA gives `dd/MM` without a year (the year is
 * the one that puts the day inside the period asked for) or `PEND` for a line not booked yet
 * (dated the period's last day, marked pending); a full yyyy-MM-dd is taken as it is.
 */
function statementDate(value: string, from: string, to: string): { date: string; pending?: true } {
  if (/^PEND$/i.test(value.trim())) return { date: to, pending: true };
  const short = /^(\d{2})\/(\d{2})$/.exec(value.trim());
  if (!short) return { date: value.slice(0, 10) };
  const [, day, month] = short;
  const inPeriod = [to.slice(0, 4), from.slice(0, 4)].map((year) => `${year}-${month}-${day}`).find((date) => date >= from && date <= to);
  return { date: inPeriod ?? `${to.slice(0, 4)}-${month}-${day}` };
}

const STATEMENT_ANSWER = Joi.object<{
  Currency: string;
  StartBalance?: string;
  Data: { TransactionDate: string; TransactionType: string; TransactionAmount: string; TransactionName: string; Trailer?: string }[];
}>({
  Currency: Joi.string().max(3).required(),
  StartBalance: decimal,
  Data: Joi.array()
    .items(
      Joi.object({
        TransactionDate: Joi.string().max(32).required(),
        TransactionType: Joi.string().valid('C', 'D').required(),
        TransactionAmount: decimal.required(),
        TransactionName: Joi.string().allow('').max(512).required(),
        Trailer: Joi.string().allow('').max(512),
      }).unknown(true),
    )
    .max(STATEMENT_MAX_LINES)
    .required(),
})
  .unknown(true)
  .required();
