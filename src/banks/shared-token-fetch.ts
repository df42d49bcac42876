import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BankTokenCache } from './types.js';

/**
 * How long a token fetch holds the claim without renewing it: the holder renews it every third of
 * this while its fetch runs (a bank may take its connect, headers and body timeouts, 65 s by
 * default, to answer), so another worker takes it over only from a holder that died or lost the
 * store for a whole lease.
 */
export const TOKEN_CLAIM_LEASE_MS = 15_000;
const POLL_MS = 50;

/**
 * Fetches a partner's token once for every worker and node: the worker that claims the refresh
 * in the shared store fetches it (and stores it); the others poll the store until the new token
 * is there, or until the claim is free again (its holder failed or died) and they may claim it.
 * So the bank sees one token request per token lifetime, however many workers start at once.
 * Should two fetches overlap anyway (a holder cut off from the store past its lease), the store
 * keeps the token that expires later (BankTokenRepository.put).
 */
export async function fetchTokenOnce(
  tokens: BankTokenCache,
  partner: string,
  usable: (cached: { token: string; expiresAt: number }) => boolean,
  fetch: () => Promise<string>,
  leaseMs = TOKEN_CLAIM_LEASE_MS,
): Promise<string> {
  const owner = randomUUID();
  for (;;) {
    if (await tokens.claimRefresh(partner, owner, leaseMs)) {
      // Claiming again renews the lease; a renewal that fails leaves the lease to run out.
      let renewing: Promise<unknown> = Promise.resolve();
      const renewal = setInterval(() => {
        renewing = tokens.claimRefresh(partner, owner, leaseMs).catch(() => false);
      }, leaseMs / 3);
      renewal.unref();
      try {
        // Another worker may have stored a token between our read and our claim.
        const cached = await tokens.get(partner);
        return cached && usable(cached) ? cached.token : await fetch();
      } finally {
        clearInterval(renewal);
        // A renewal still under way would otherwise claim again after the release.
        await renewing;
        await tokens.releaseRefresh(partner, owner);
      }
    }
    await sleep(POLL_MS);
    const cached = await tokens.get(partner);
    if (cached && usable(cached)) return cached.token;
  }
}
