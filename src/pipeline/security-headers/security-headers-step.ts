import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers for a JSON API: nothing here renders HTML, so the strictest CSP costs
 * nothing; HSTS is sent so a browser that ever reaches the API over TLS stays on TLS.
 */
export const SECURITY_HEADER_OPTIONS = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
} as const satisfies Parameters<typeof helmet>[0];

/**
 * Sets helmet's headers (SECURITY_HEADER_OPTIONS) on every answer. helmet is asked once, when the
 * step is built, what it sets: with these options each of its headers is a constant (no nonce, no
 * header that depends on the request), so the step then sets the same headers itself on each
 * answer, without helmet's chain of fifteen middlewares per request.
 */
export function securityHeadersStep(): RequestHandler {
  const { set, removed } = helmetWrites();
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}

/** What helmet sets and removes on an answer, in its order; throws when it does not finish at once or refuses. */
function helmetWrites(): { set: [string, string][]; removed: string[] } {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const res = {
    setHeader: (name: string, value: string) => set.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  } as unknown as ServerResponse;
  let finished = false;
  helmet(SECURITY_HEADER_OPTIONS)({} as IncomingMessage, res, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not set its headers at once: they cannot be set ahead');
  return { set, removed };
}
