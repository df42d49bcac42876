import { fetchTokenOnce } from '../shared-token-fetch.js';
import type { BankCallContext, BankTokenCache } from '../types.js';

/** A cached token is replaced this long before it expires, so no call leaves with a dying token. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

export interface TokenProvider {
  /** A token valid for at least the refresh margin: the shared cache's, or a new one. */
  current(ctx: BankCallContext): Promise<string>;
  /** After the bank refused `refused` (invalid token): drops it, then another worker's newer token or a new one. */
  renew(ctx: BankCallContext, refused: string): Promise<string>;
  /** Always fetches a new token (and caches it). */
  fetch(ctx: BankCallContext): Promise<string>;
}

export interface TokenProviderOptions {
  partner: string;
  tokens: BankTokenCache;
  now: () => Date;
  /**
   * Asks the bank for a new token (the protocol's own request, reported through `ctx`). Throws
   * AppError('BANK_UNAVAILABLE') on any failure: a token request moves no money.
   */
  request(ctx: BankCallContext): Promise<{ accessToken: string; expiresInSeconds: number }>;
}

/**
 * A bank token shared through the store (BankTokenCache) so PM2 workers and gateway nodes use one
 * token instead of each fetching, and possibly invalidating, their own: when none is stored, one
 * worker of all nodes claims the fetch and the others wait for it (fetchTokenOnce). Within this
 * process concurrent fetches are merged into one for the same reason. Protocol-neutral: the
 * adapter supplies the token request.
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const { partner, tokens } = options;
  let inflight: Promise<string> | null = null;

  const isFresh = (entry: { expiresAt: number } | null): boolean =>
    entry !== null && entry.expiresAt - TOKEN_REFRESH_MARGIN_MS > options.now().getTime();

  async function request(ctx: BankCallContext): Promise<string> {
    // Its lifetime counts from when it was asked for (the bank issued it at most then): of two
    // fetches that overlapped, the one asked for later expires later, and the store keeps it.
    const askedAt = options.now().getTime();
    const answer = await options.request(ctx);
    await tokens.put(partner, answer.accessToken, askedAt + answer.expiresInSeconds * 1000);
    return answer.accessToken;
  }

  function fetch(ctx: BankCallContext): Promise<string> {
    inflight ??= request(ctx).finally(() => {
      inflight = null;
    });
    return inflight;
  }

  /**
   * A fresh token other than `refused`, fetched by one worker of all nodes when none is stored.
   * The requests of this process that need one share one claim and one wait: a claim held by a
   * node that died is polled once per poll here, not once per waiting request.
   */
  const waits = new Map<string, Promise<string>>();
  function shared(ctx: BankCallContext, refused?: string): Promise<string> {
    const key = refused ?? '';
    let wait = waits.get(key);
    if (!wait) {
      wait = fetchTokenOnce(tokens, partner, (cached) => cached.token !== refused && isFresh(cached), () => fetch(ctx)).finally(() => waits.delete(key));
      waits.set(key, wait);
    }
    return wait;
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
