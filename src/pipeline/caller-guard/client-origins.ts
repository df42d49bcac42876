import { OriginAllowlist } from '../../security/index.js';
import { RecentReads, type ClientRepository } from '../../store/index.js';

export interface ClientOrigins {
  /** True when some active client whose row holds its MAC allows `origin`. */
  allows(origin: string): Promise<boolean>;
}

const KEY = 'origins';

/**
 * The union of every active client's origins, for the guard that runs before authentication.
 * An allowed origin is answered from a read of the clients made less than `ttlMs` before
 * (GERBANG_CACHE_STALENESS_MS: an origin removed from its client, or a client disabled, stops
 * being allowed, CORS preflights included, on every node within it, as the client's own lists do
 * after authentication); one that read does not allow makes it read the store again, so a client
 * created a moment ago (by the CLI, in another process) is served at once. A refused origin thus
 * costs one read of the small clients table, no more than the rate limiter's write that follows
 * for an allowed one. The reads are RecentReads': a read's age counts from when it was sent, on
 * the monotonic `clock` (elapsedClock; tests inject their own), and a newer read always replaces
 * an older one, however late the older one is answered.
 */
export function clientOriginsCache(clients: ClientRepository, ttlMs: number, clock?: () => number): ClientOrigins {
  const reads = new RecentReads(ttlMs, clock);
  const load = async () => {
    const all = await clients.list();
    // A client whose row does not hold its MAC (an origin added in SQL) lets no origin in.
    return new OriginAllowlist(all.filter((c) => c.status === 'active' && c.integrityProblem === undefined).flatMap((c) => c.allowedOrigins));
  };
  return {
    async allows(origin) {
      if ((await reads.read(KEY, load)).allows(origin)) return true;
      reads.drop(KEY);
      return (await reads.read(KEY, load)).allows(origin);
    },
  };
}
