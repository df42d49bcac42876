import type { BankCall } from '../banks/types.js';
import { isAppError } from '../errors/index.js';
import type { BankRouter } from '../domain/routing/index.js';

export interface PingReport {
  partner: string;
  protocol: string;
  ok: boolean;
  /** How long the token exchange took (ms), when there was one. */
  durationMs: number | null;
  /** Where the token request went. */
  url: string | null;
  /** Why it failed: the code (bank or egress) and message. */
  error: string | null;
}

/**
 * Fetches a fresh token from every partner, one after the other: a partner that answers proves
 * the credentials, the signature (SNAP) and the source address the bank whitelisted.
 */
export async function pingPartners(router: BankRouter): Promise<PingReport[]> {
  const reports: PingReport[] = [];
  for (const { name, adapter } of router.all()) {
    const calls: BankCall[] = [];
    let error: string | null = null;
    try {
      await adapter.ping({ onCall: async (call) => void calls.push(call) });
    } catch (caught) {
      const code = isAppError(caught) ? (caught.extensions.bankResponseCode ?? caught.code) : 'ERROR';
      error = `${String(code)}: ${(caught as Error).message}`;
    }
    const call = calls.at(-1);
    reports.push({ partner: name, protocol: adapter.protocol, ok: error === null, durationMs: call?.durationMs ?? null, url: call?.url ?? null, error });
  }
  return reports;
}
