import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../../errors/index.js';
import { IpAllowlist, OriginAllowlist } from '../../security/index.js';
import type { ClientRecord } from '../../store/types.js';
import type { ClientOrigins } from './client-origins.js';

export interface GlobalCallerGuardOptions {
  /** Global Origin allowlist; empty: only the clients' own lists decide. */
  allowedOrigins: string[];
  /** Global IP/CIDR allowlist; empty: only the clients' own lists decide. */
  allowedCidrs: string[];
  /** Origins that some active client allows (the union of their lists), for requests before authentication. */
  clientOrigins: ClientOrigins;
  /**
   * The per-IP rate limit (rateLimitStep, the one that follows the guard): run here on a request
   * before it is refused, and before a request waits for a new read of the clients' origins. It
   * counts a request once, so the same step after the guard does not count those it let through again.
   */
  perAddressLimit: RequestHandler;
}

const CORS_METHODS = 'GET, POST, OPTIONS';
const CORS_HEADERS = 'Authorization, Content-Type, X-Request-Id';

/**
 * First rejection of the pipeline, before any body is read or token checked (cheapest first):
 * - a caller outside the global CIDR list is refused;
 * - a request carrying an Origin that neither the global list nor any client allows is refused
 *   (server-to-server calls carry no Origin and are judged by IP and credentials);
 * - a CORS preflight from an allowed origin is answered here.
 * Fails closed: an address that cannot be read is not in any list.
 *
 * Every refusal counts against the caller's per-IP limit, and so does a request with an origin
 * the last read of the clients did not allow, before it waits for a new read: once its address is
 * past the limit the caller is answered 429 with Retry-After, as any caller past it, and its
 * made-up origins cost no read. A request the guard lets through is counted by the per-IP step
 * after it, as before, or here once if it waited for a read: each request counts once, so a
 * legitimate caller's count is what it was; only refused requests count now where they did not.
 * A CORS preflight answered here is counted too, before it is answered (once, as any request):
 * past the limit it gets the 429, with the CORS headers of its allowed origin.
 */
export function globalCallerGuardStep(options: GlobalCallerGuardOptions): RequestHandler {
  const cidrs = options.allowedCidrs.length > 0 ? new IpAllowlist(options.allowedCidrs) : null;
  const origins = new OriginAllowlist(options.allowedOrigins);
  /** Counts the request against its address's limit; throws RATE_LIMITED past it (or the store's error). */
  const count = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => {
      void options.perAddressLimit(req, res, (error?: unknown) => (error ? reject(error) : resolve()));
    });

  return async (req, res, next) => {
    if (cidrs && !cidrs.allows(req.ip)) {
      await count(req, res);
      throw new AppError('IP_NOT_ALLOWED', 'Requests from this address are not allowed.');
    }
    const origin = req.get('origin');
    if (origin !== undefined) {
      const allowed = origins.allows(origin) || (await options.clientOrigins.allows(origin, () => count(req, res)));
      if (!allowed) throw new AppError('ORIGIN_NOT_ALLOWED', `Origin ${JSON.stringify(origin)} is not allowed.`);
      allowCors(res, origin);
      if (req.method === 'OPTIONS') {
        // Counted like any request (once, if it waited for a read above): a 429 keeps the CORS
        // headers just set, so the browser shows the limit rather than a CORS failure.
        await count(req, res);
        res.setHeader('Access-Control-Allow-Methods', CORS_METHODS);
        res.setHeader('Access-Control-Allow-Headers', CORS_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/**
 * Each client row's lists, built once per row read rather than once per request: the client rows
 * (RecentClients) hand out the same row, and so the same arrays, until they read it again, and a
 * row read again (its lists changed, or not) brings arrays of its own, so a changed list is never
 * judged by the lists built for the one before.
 */
const ipLists = new WeakMap<readonly string[], IpAllowlist>();
const originLists = new WeakMap<readonly string[], OriginAllowlist>();

function built<L>(lists: WeakMap<readonly string[], L>, entries: readonly string[], build: (entries: readonly string[]) => L): L {
  let list = lists.get(entries);
  if (list === undefined) {
    list = build(entries);
    lists.set(entries, list);
  }
  return list;
}

/**
 * The authenticated client's own lists: its CIDRs must hold the caller's address (an empty list
 * allows nobody), and an Origin, when sent, must be one of its origins.
 */
export function assertClientMayCall(client: ClientRecord, req: Request): void {
  if (!built(ipLists, client.allowedCidrs, (entries) => new IpAllowlist(entries)).allows(req.ip)) {
    throw new AppError('IP_NOT_ALLOWED', 'This client may not call from this address.');
  }
  const origin = req.get('origin');
  if (origin !== undefined && !built(originLists, client.allowedOrigins, (entries) => new OriginAllowlist(entries)).allows(origin)) {
    throw new AppError('ORIGIN_NOT_ALLOWED', `Origin ${JSON.stringify(origin)} is not allowed for this client.`);
  }
}

function allowCors(res: Response, origin: string): void {
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id, Idempotent-Replayed, RateLimit, RateLimit-Policy, Retry-After');
  res.vary('Origin');
}
