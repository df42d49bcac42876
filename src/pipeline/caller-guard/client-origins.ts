import { OriginAllowlist } from '../../security/index.js';
import { elapsedClock, isYoung } from '../../time/index.js';
import type { ClientRepository } from '../../store/types.js';

export interface ClientOrigins {
  /** True when some active client whose row holds its MAC allows `origin`. */
  allows(origin: string): Promise<boolean>;
}

/**
 * The union of every active client's origins, for the guard that runs before authentication.
 * An allowed origin is answered from memory for `ttlMs` (GERBANG_CACHE_STALENESS_MS: an origin
 * removed from its client, or a client disabled, stops being allowed, CORS preflights included,
 * on every node within it, as the client's own lists do after authentication); one the cached
 * list does not allow makes it re-read the store, so a client created a moment ago (by the CLI,
 * in another process) is served at once. A refused origin thus costs one read of the small
 * clients table, no more than the rate limiter's write that follows for an allowed one. Ages are
 * measured on `clock`, a monotonic one (elapsedClock; tests inject their own).
 */
export function clientOriginsCache(clients: ClientRepository, ttlMs: number, clock: () => number = elapsedClock): ClientOrigins {
  let cached: { at: number; list: OriginAllowlist } | null = null;
  const load = async () => {
    const all = await clients.list();
    // A client whose row does not hold its MAC (an origin added in SQL) lets no origin in.
    const origins = all.filter((c) => c.status === 'active' && c.integrityProblem === undefined).flatMap((c) => c.allowedOrigins);
    cached = { at: clock(), list: new OriginAllowlist(origins) };
    return cached.list;
  };
  return {
    async allows(origin) {
      if (!cached || !isYoung(clock() - cached.at, ttlMs)) return (await load()).allows(origin);
      return cached.list.allows(origin) || (await load()).allows(origin);
    },
  };
}
