import { getLogger } from '../../log/index.js';
import type { BankCallContext } from '../types.js';
import type { TokenProvider } from './token-provider.js';

/** What one signed attempt came to: an outcome, or a refusal before processing (of the token, or of the call). */
export type AttemptVerdict<T, E> = { kind: 'outcome'; outcome: T } | { kind: 'reauth' | 'unavailable'; error: E };

const log = getLogger('banks');

/**
 * Runs a signed call with the current token; when the bank refuses the token (before processing
 * anything) drops it, takes a new one and runs the call once more, freshly signed. A refusal of
 * the call itself — or of the renewed token — throws `refused(error)`: nothing was executed.
 * Protocol-neutral: each adapter classifies its bank's answers into the verdict. `resend` tells
 * the attempt it is the second one, which SNAP sends under a new X-EXTERNAL-ID (bank-apis.md §6)
 * and BCA legacy reads differently: "TransactionID must be unique" then means the first send was
 * taken, so the transfer is in doubt.
 */
export async function withReauth<T, E extends { code: string }>(
  tokens: TokenProvider,
  ctx: BankCallContext,
  partner: string,
  attempt: (token: string, resend: boolean) => Promise<AttemptVerdict<T, E>>,
  refused: (error: E) => Error,
): Promise<T> {
  const token = await tokens.current(ctx);
  const first = await attempt(token, false);
  if (first.kind === 'outcome') return first.outcome;
  if (first.kind === 'unavailable') throw refused(first.error);
  log.info({ ...ctx.requestContext, partner, bankResponseCode: first.error.code }, 'bank refused the token; renewing it and sending once more');
  const second = await attempt(await tokens.renew(ctx, token), true);
  if (second.kind === 'outcome') return second.outcome;
  throw refused(second.error);
}
