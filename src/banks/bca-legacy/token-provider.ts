import { AppError } from '../../errors/index.js';
import type { BankCallContext, BankTokenCache } from '../types.js';
import { fetchTokenOnce } from '../shared-token-fetch.js';
import type { ExchangeFn } from './bank-exchange.js';
import { readBcaError, readTokenAnswer } from './response-mapper.js';
import { TOKEN_PATH } from './protocol.js';

/** A cached token is replaced this long before it expires, so no call leaves with a dying token. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

export interface TokenProvider {
  /** A token valid for at least the refresh margin: the shared cache's, or a new one. */
  current(ctx: BankCallContext): Promise<string>;
  /** After the bank refused `refused` (ESB-14-009): drops it, then another worker's newer token or a new one. */
  renew(ctx: BankCallContext, refused: string): Promise<string>;
  /** Always fetches a new token (and caches it). */
  fetch(ctx: BankCallContext): Promise<string>;
}

export interface TokenProviderOptions {
  partner: string;
  clientId: string;
  clientSecret: string;
  tokens: BankTokenCache;
  exchange: ExchangeFn;
  now: () => Date;
}

/**
 * BCA's OAuth2 client-credentials token, shared through the store (BankTokenCache) so PM2
 * workers and gateway nodes use one token instead of each fetching, and possibly invalidating,
 * their own. Within this process concurrent fetches are merged into one for the same reason.
 * Every failure throws AppError('BANK_UNAVAILABLE'): a token request moves no money.
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const { partner, tokens } = options;
  let inflight: Promise<string> | null = null;

  const isFresh = (entry: { expiresAt: number } | null): boolean =>
    entry !== null && entry.expiresAt - TOKEN_REFRESH_MARGIN_MS > options.now().getTime();

  async function request(ctx: BankCallContext): Promise<string> {
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`, 'utf8').toString('base64');
    const result = await options.exchange(ctx, 'token', {
      method: 'POST',
      path: TOKEN_PATH,
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    if (!result.ok) {
      const code = (result.error as { code?: string } | null)?.code ?? 'BANK_ERROR';
      throw new AppError('BANK_UNAVAILABLE', `The bank could not be reached for a token (${code}); nothing was sent.`, {
        cause: result.error,
        extensions: { bankResponseCode: code },
      });
    }
    const answer = readTokenAnswer(result.response);
    if (!answer) {
      const bankError = readBcaError(result.response.body);
      const code = bankError?.code ?? `HTTP-${result.response.statusCode}`;
      throw new AppError('BANK_UNAVAILABLE', `The bank refused the token request (${code}); nothing was sent.`, {
        extensions: { bankResponseCode: code, ...(bankError ? { bankMessage: bankError.message } : {}) },
      });
    }
    await tokens.put(partner, answer.accessToken, options.now().getTime() + answer.expiresInSeconds * 1000);
    return answer.accessToken;
  }

  function fetch(ctx: BankCallContext): Promise<string> {
    inflight ??= request(ctx).finally(() => {
      inflight = null;
    });
    return inflight;
  }

  /** A fresh token other than `refused`, fetched by one worker of all nodes when none is stored. */
  function shared(ctx: BankCallContext, refused?: string): Promise<string> {
    return fetchTokenOnce(tokens, partner, (cached) => cached.token !== refused && isFresh(cached), () => fetch(ctx));
  }

  return {
    async current(ctx) {
      const cached = await tokens.get(partner);
      return cached && isFresh(cached) ? cached.token : shared(ctx);
    },
    async renew(ctx, refused) {
      await tokens.invalidate(partner, refused);
      const cached = await tokens.get(partner);
      return cached && cached.token !== refused && isFresh(cached) ? cached.token : shared(ctx, refused);
    },
    fetch,
  };
}
