import type { RequestHandler } from 'express';

/** The header every answer of a sandbox gateway carries: a client can never mistake it for a bank. */
export const MODE_HEADER = 'Gerbang-Mode';

/**
 * In sandbox mode (GERBANG_SANDBOX=true) every answer, refusals and probes included, carries
 * `Gerbang-Mode: sandbox`: the transfers it reports went to the built-in simulator and moved no
 * money. A gateway with a live bank sends nothing, so the header cannot be forged into meaning.
 */
export function sandboxModeStep(options: { mode: 'sandbox' | 'live' }): RequestHandler {
  return (_req, res, next) => {
    if (options.mode === 'sandbox') res.setHeader(MODE_HEADER, 'sandbox');
    next();
  };
}
