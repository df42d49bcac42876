import { setTimeout as sleep } from 'node:timers/promises';
import { OriginAllowlist } from '../../security/index.js';
import { RecentReads, type ClientRepository } from '../../store/index.js';
import { elapsedClock } from '../../time/index.js';

export interface ClientOrigins {
  /**
   * True when some active client whose row holds its MAC allows `origin`. When the last read does
   * not allow it, `beforeRecheck` runs before the request waits for a new read (the guard counts
   * the request against its address's limit there: past it, it throws and no read is waited for).
   */
  allows(origin: string, beforeRecheck?: () => Promise<void>): Promise<boolean>;
}

const KEY = 'origins';
/** The least time between two reads made for origins the last read did not allow (at most the bound). */
const RECHECK_GAP_MS = 100;

/**
 * The union of every active client's origins, for the guard that runs before authentication.
 * An allowed origin is answered from a read of the clients made less than `ttlMs` before
 * (GERBANG_CACHE_STALENESS_MS: an origin removed from its client, or a client disabled, stops
 * being allowed, CORS preflights included, on every node within it, as the client's own lists do
 * after authentication). The reads are RecentReads': a read's age counts from when it was sent,
 * on the monotonic `clock` (elapsedClock; tests inject their own), and a newer read always
 * replaces an older one, however late the older one is answered.
 *
 * An origin that read does not allow is judged on a read sent after the request came, so a
 * client created a moment ago (by the CLI, in another process) is served at once. Those re-reads
 * cost a read of the whole clients table, so anonymous requests with made-up origins must not
 * each force one: every request waiting for one shares it, and they are sent at most every 100 ms
 * (the bound, if shorter): at most 10 a second in a process however many come, each such request
 * waiting at most that long for its answer. The guard counts such a request against its address's
 * limit first (`beforeRecheck`), so an address past it gets no re-read at all.
 */
export function clientOriginsCache(clients: ClientRepository, ttlMs: number, clock: () => number = elapsedClock): ClientOrigins {
  const reads = new RecentReads(ttlMs, clock);
  const gapMs = Math.min(RECHECK_GAP_MS, ttlMs);
  const load = async () => {
    const all = await clients.list();
    // A client whose row does not hold its MAC (an origin added in SQL) lets no origin in.
    return new OriginAllowlist(all.filter((c) => c.status === 'active' && c.integrityProblem === undefined).flatMap((c) => c.allowedOrigins));
  };
  /** The last re-read for unknown origins: when it is (or was) sent, and its answer. */
  let recheck: { sentAt: number; list: Promise<OriginAllowlist> } | null = null;

  /** A read sent no earlier than `arrived`: the one scheduled or under way if it is, else a new one after the gap. */
  const readSince = (arrived: number): Promise<OriginAllowlist> => {
    if (recheck && recheck.sentAt >= arrived) return recheck.list;
    const now = clock();
    const sentAt = recheck ? Math.max(now, recheck.sentAt + gapMs) : now;
    const list = (async () => {
      if (sentAt > now) await sleep(sentAt - now);
      reads.drop(KEY);
      return reads.read(KEY, load);
    })();
    recheck = { sentAt, list };
    return list;
  };

  return {
    async allows(origin, beforeRecheck) {
      const arrived = clock();
      if ((await reads.read(KEY, load)).allows(origin)) return true;
      await beforeRecheck?.();
      return (await readSince(arrived)).allows(origin);
    },
  };
}
