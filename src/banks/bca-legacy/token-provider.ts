import { AppError } from '../../errors/index.js';
import { createTokenProvider as createSharedTokenProvider, type TokenProvider } from '../common/token-provider.js';
import type { BankCallContext, BankTokenCache } from '../types.js';
import type { ExchangeFn } from './bank-exchange.js';
import { readBcaError, readTokenAnswer } from './response-mapper.js';
import { TOKEN_PATH } from './protocol.js';

export { TOKEN_REFRESH_MARGIN_MS } from '../common/token-provider.js';
export type { TokenProvider } from '../common/token-provider.js';

export interface TokenProviderOptions {
  partner: string;
  clientId: string;
  clientSecret: string;
  tokens: BankTokenCache;
  exchange: ExchangeFn;
  now: () => Date;
}

/**
 * BCA's OAuth2 client-credentials token, through the shared token provider (one fetch per
 * lifetime across workers). Every failure throws AppError('BANK_UNAVAILABLE').
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  return createSharedTokenProvider({ partner: options.partner, tokens: options.tokens, now: options.now, request: (ctx) => requestToken(options, ctx) });
}

async function requestToken(options: TokenProviderOptions, ctx: BankCallContext): Promise<{ accessToken: string; expiresInSeconds: number }> {
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
  return answer;
}
