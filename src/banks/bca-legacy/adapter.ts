import { AppError } from '../../errors/index.js';
import { isEgressError, type BankHttpClient, type BankRequest } from '../../egress/index.js';
import { getLogger } from '../../log/index.js';
import type { BankAdapter, BankCallContext, BankTokenCache, IntrabankTransferOrder, StatusOutcome, TransferOutcome, TransferStatusQuery } from '../types.js';
import { createExchange, type ExchangeFn } from './bank-exchange.js';
import { mapSentFailure, mapStatusResponse, mapTransferResponse, type BcaError } from './response-mapper.js';
import { CHANNEL_ID, STATUS_PATH, TRANSFER_PATH } from './protocol.js';
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
  http: BankHttpClient;
  tokens: BankTokenCache;
  now?: () => Date;
}

const log = getLogger('bca-legacy');

/**
 * BCA's pre-SNAP corporate API. Every exchange (token fetches included) is reported to
 * `ctx.onCall` before this returns or throws. transferIntrabank:
 * - returns SUCCESS, FAILED (the bank's code and English message kept) or UNKNOWN (in doubt:
 *   timeout, reset, in-doubt code, unreadable answer — never re-sent);
 * - on ESB-14-009 drops the token, fetches a new one, re-signs and resends once (the bank refused
 *   before processing, so a resend cannot pay twice);
 * - throws AppError('BANK_UNAVAILABLE') when nothing was executed: no connection, no token, or
 *   the call refused before processing (signature, timestamp, source address, maintenance…),
 *   with `extensions.bankResponseCode` when the bank gave one.
 */
export function createBcaLegacyAdapter(options: BcaLegacyAdapterOptions): BankAdapter {
  const now = options.now ?? (() => new Date());
  const exchange = createExchange({ partner: options.partner, baseUrl: options.baseUrl.replace(/\/+$/, ''), http: options.http, now });
  const tokens = createTokenProvider({ ...options, exchange, now });

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
      const send = (token: string) => sendTransfer(exchange, ctx, signed(options, now, 'POST', relativeUrl(TRANSFER_PATH), token, body), order.bankTransactionId);

      const token = await tokens.current(ctx);
      const first = await send(token);
      if (first.kind === 'outcome') return first.outcome;
      if (first.kind === 'unavailable') throw refusedBeforeProcessing(first.error);
      log.info({ partner: options.partner, bankResponseCode: first.error.code }, 'bank refused the token; renewing it and resending once');
      const second = await send(await tokens.renew(ctx, token));
      if (second.kind === 'outcome') return second.outcome;
      throw refusedBeforeProcessing(second.error);
    },

    async transferStatus(query: TransferStatusQuery, ctx: BankCallContext): Promise<StatusOutcome> {
      const path = relativeUrl(`${STATUS_PATH}/${encodeURIComponent(query.bankTransactionId)}`, { TransactionDate: query.transactionDate, TransferType: 'BCA' });
      const ask = async (token: string) => {
        const req = signed(options, now, 'GET', path, token, '');
        req.headers.ChannelID = CHANNEL_ID;
        req.headers.CredentialID = options.corporateId;
        const result = await exchange(ctx, 'transfer-status', req);
        if (result.ok) return mapStatusResponse(result.response, { transactionId: query.bankTransactionId });
        if (isEgressError(result.error) && !result.error.sent) {
          throw new AppError('BANK_UNAVAILABLE', `The bank could not be reached (${result.error.code}).`, { cause: result.error });
        }
        // An inquiry moves no money; one that failed in flight just leaves the transfer in doubt.
        const outcome: StatusOutcome = { status: 'UNKNOWN', bankReference: null, bankResponseCode: isEgressError(result.error) ? result.error.code : 'BANK_ERROR', bankMessage: 'The status inquiry got no answer; the transfer stays in doubt.' };
        return { kind: 'outcome' as const, outcome };
      };
      const token = await tokens.current(ctx);
      const first = await ask(token);
      if (first.kind === 'outcome') return first.outcome;
      if (first.kind === 'unavailable') throw refusedBeforeProcessing(first.error);
      const second = await ask(await tokens.renew(ctx, token));
      if (second.kind === 'outcome') return second.outcome;
      throw refusedBeforeProcessing(second.error);
    },

    interbankMethods: [],
    transferInterbank: () => Promise.reject(notYet('interbank transfer')),
    accountInquiry: () => Promise.reject(notYet('account inquiry')),
    balance: () => Promise.reject(notYet('balance')),
    statement: () => Promise.reject(notYet('statement')),

    async ping(ctx: BankCallContext): Promise<void> {
      await tokens.fetch(ctx);
    },

    close: () => options.http.close(),
  };
}

type SendResult = { kind: 'outcome'; outcome: TransferOutcome } | { kind: 'reauth' | 'unavailable'; error: BcaError };

/** One signed transfer exchange, mapped. A failure before sending throws BANK_UNAVAILABLE. */
async function sendTransfer(exchange: ExchangeFn, ctx: BankCallContext, req: BankRequest, transactionId: string): Promise<SendResult> {
  const result = await exchange(ctx, 'transfer-intrabank', req);
  if (result.ok) return mapTransferResponse(result.response, { transactionId });
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

function notYet(operation: string): AppError {
  return new AppError('ROUTE_UNAVAILABLE', `The BCA legacy adapter does not offer ${operation} yet.`);
}
