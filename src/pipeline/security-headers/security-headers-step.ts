import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers for a JSON API: nothing here renders HTML, so the strictest CSP costs
 * nothing; HSTS is sent so a browser that ever reaches the API over TLS stays on TLS.
 */
export function securityHeadersStep(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
