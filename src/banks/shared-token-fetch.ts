import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BankTokenCache } from './types.js';

/** How long a token fetch may hold the claim before another worker may take over. */
export const TOKEN_CLAIM_LEASE_MS = 15_000;
const POLL_MS = 50;

/**
 * Fetches a partner's token once for every worker and node: the worker that claims the refresh
 * in the shared store fetches it (and stores it); the others poll the store until the new token
 * is there, or until the claim is free again (its holder failed or died) and they may claim it.
 * So the bank sees one token request per token lifetime, however many workers start at once.
 */
export async function fetchTokenOnce(
  tokens: BankTokenCache,
  partner: string,
  usable: (cached: { token: string; expiresAt: number }) => boolean,
  fetch: () => Promise<string>,
): Promise<string> {
  const owner = randomUUID();
  for (;;) {
    if (await tokens.claimRefresh(partner, owner, TOKEN_CLAIM_LEASE_MS)) {
      try {
        // Another worker may have stored a token between our read and our claim.
        const cached = await tokens.get(partner);
        return cached && usable(cached) ? cached.token : await fetch();
      } finally {
        await tokens.releaseRefresh(partner, owner);
      }
    }
    await sleep(POLL_MS);
    const cached = await tokens.get(partner);
    if (cached && usable(cached)) return cached.token;
  }
}
