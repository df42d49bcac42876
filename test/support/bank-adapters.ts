import type { BankCall, BankTokenCache } from '../../src/banks/types.js';

/** The shared token cache's contract in memory; the real one (the store) has its own contract tests. */
export function memoryTokens(): BankTokenCache & { entries: Map<string, { token: string; expiresAt: number }> } {
  const entries = new Map<string, { token: string; expiresAt: number }>();
  const claims = new Map<string, string>();
  return {
    entries,
    get: async (partner) => entries.get(partner) ?? null,
    put: async (partner, token, expiresAt) => {
      if ((entries.get(partner)?.expiresAt ?? -Infinity) <= expiresAt) entries.set(partner, { token, expiresAt });
    },
    invalidate: async (partner, token) => {
      if (entries.get(partner)?.token === token) entries.delete(partner);
    },
    claimRefresh: async (partner, owner) => {
      if (claims.has(partner)) return claims.get(partner) === owner;
      claims.set(partner, owner);
      return true;
    },
    releaseRefresh: async (partner, owner) => {
      if (claims.get(partner) === owner) claims.delete(partner);
    },
  };
}

/** Records every exchange the adapter reports. */
export function recorder() {
  const calls: BankCall[] = [];
  return { calls, ctx: { onCall: async (call: BankCall) => void calls.push(call) } };
}

