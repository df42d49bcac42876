import { AppError } from '../../errors/index.js';
import { EgressError, type BankHttpClient, type BankRequest, type BankResponse } from '../../egress/index.js';
import type { BankAdapter, BankCallContext, BankTokenCache, IntrabankTransferOrder, TransferOutcome } from '../types.js';
import { classifyLegacyError } from './error-codes.js';
import { mapTransferAnswer, parseJson, readLegacyError } from './response-mapper.js';
import { bcaTimestamp, relativeUrl, signBcaLegacy } from './signer.js';

export interface BcaLegacyAdapterOptions {
  partner: string;
  clientId: string;
  clientSecret: string;
  apiKey: string;
  apiSecret: string;
  corporateId: string;
  /** The domain registered with BCA, sent as Origin. */
  origin: string;
  http: BankHttpClient;
  tokens: BankTokenCache;
  now?: () => number;
}

const TOKEN_PATH = '/api/oauth/token';
const TRANSFER_PATH = '/banking/corporates/transfers';
/** Refresh a cached token this long before it expires, so no call goes out with a dying token. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * BCA's pre-SNAP corporate API: OAuth2 client-credentials token (cached in the shared store, so
 * workers and nodes share one) and HMAC-SHA256 signed calls. Every HTTP exchange is reported to
 * `ctx.onCall` as it happens, failed ones included.
 */
export function createBcaLegacyAdapter(options: BcaLegacyAdapterOptions): BankAdapter {
  const now = options.now ?? Date.now;
  const { http, partner } = options;

  /** Sends one request, reports it, and turns egress failures into reported exchanges. */
  async function exchange(ctx: BankCallContext, operation: string, req: BankRequest): Promise<BankResponse> {
    const startedAt = now();
    const started = performance.now();
    let res: BankResponse | undefined;
    let failure: unknown;
    try {
      res = await http.request(req);
    } catch (error) {
      failure = error;
    }
    const bankError = res ? readLegacyError(res.body) : null;
    await ctx.onCall({
      partner,
      operation,
      method: req.method,
      url: `${http.baseUrl}${req.path}`,
      requestHeaders: req.headers,
      requestBody: req.body ?? null,
      statusCode: res?.statusCode ?? null,
      responseBody: res?.body ?? null,
      errorCode: failure instanceof EgressError ? failure.code : (bankError?.code ?? null),
      startedAt,
      durationMs: performance.now() - started,
    });
    if (failure !== undefined) throw failure;
    return res!;
  }

  async function fetchToken(ctx: BankCallContext): Promise<string> {
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    let res: BankResponse;
    try {
      res = await exchange(ctx, 'token', {
        method: 'POST',
        path: TOKEN_PATH,
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    } catch (error) {
      // A token request moves no money: whatever happened, the transfer was not sent.
      throw new AppError('BANK_UNAVAILABLE', `The bank could not be reached for a token (${(error as { code?: string }).code ?? 'error'}).`, { cause: error });
    }
    const answer = parseJson(res.body) as { access_token?: unknown; expires_in?: unknown } | null;
    const token = answer?.access_token;
    const expiresIn = Number(answer?.expires_in);
    if (res.statusCode !== 200 || typeof token !== 'string' || token.length === 0 || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      const code = readLegacyError(res.body)?.code ?? `HTTP-${res.statusCode}`;
      throw new AppError('BANK_UNAVAILABLE', `The bank refused the token request (${code}).`);
    }
    await options.tokens.put(partner, token, now() + expiresIn * 1000);
    return token;
  }

  async function currentToken(ctx: BankCallContext): Promise<string> {
    const cached = await options.tokens.get(partner);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > now()) return cached.token;
    return fetchToken(ctx);
  }

  function signedRequest(method: 'GET' | 'POST', path: string, token: string, body: string): BankRequest {
    const timestamp = bcaTimestamp(now());
    const { signature } = signBcaLegacy({ method, relativeUrl: path, accessToken: token, body, timestamp, apiSecret: options.apiSecret });
    return {
      method,
      path,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        origin: options.origin,
        'x-bca-key': options.apiKey,
        'x-bca-timestamp': timestamp,
        'x-bca-signature': signature,
      },
      body: method === 'GET' ? undefined : body,
    };
  }

  return {
    partner,
    protocol: 'bca-legacy',

    async transferIntrabank(order: IntrabankTransferOrder, ctx: BankCallContext): Promise<TransferOutcome> {
      // Serialised once: these exact bytes are signed and sent.
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
      const path = relativeUrl(TRANSFER_PATH);
      let token = await currentToken(ctx);
      for (let attempt = 1; ; attempt += 1) {
        let res: BankResponse;
        try {
          res = await exchange(ctx, 'transfer-intrabank', signedRequest('POST', path, token, body));
        } catch (error) {
          if (error instanceof EgressError && !error.sent) {
            throw new AppError('BANK_UNAVAILABLE', `The bank could not be reached (${error.code}); the transfer was not sent.`, { cause: error });
          }
          const code = error instanceof EgressError ? error.code : 'BANK_ERROR';
          return { status: 'UNKNOWN', bankReference: null, bankResponseCode: code, bankMessage: 'No answer from the bank; the outcome will be resolved by status inquiry.' };
        }
        const bankError = readLegacyError(res.body);
        const outcome = bankError ? classifyLegacyError(bankError.code, res.statusCode) : null;
        // The bank refused the token before processing anything: one new token, one resend.
        if (outcome === 'reauth' && attempt === 1) {
          await options.tokens.invalidate(partner, token);
          token = await fetchToken(ctx);
          continue;
        }
        if (outcome === 'not-executed' || outcome === 'reauth') {
          throw new AppError('BANK_UNAVAILABLE', `The bank refused the call before processing the transfer (${bankError?.code}: ${bankError?.message ?? ''}); nothing was executed.`, {
            extensions: { bankResponseCode: bankError?.code, bankMessage: bankError?.message },
          });
        }
        return mapTransferAnswer(res.statusCode, res.body);
      }
    },

    async ping(ctx: BankCallContext): Promise<void> {
      await fetchToken(ctx);
    },

    close: () => http.close(),
  };
}
