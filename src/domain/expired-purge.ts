import type { Store } from '../store/types.js';
import { PeriodicTask } from './periodic-task.js';

/**
 * How long after its end a row is purged: longer than any difference between the clocks of the
 * nodes, so that no node finds a window it still counts in (by its own clock) deleted by another,
 * which would restart that window at zero.
 */
export const EXPIRED_PURGE_MARGIN_MS = 60_000;

/**
 * Rows that count nothing any more, deleted at start and every minute by every gateway and every
 * console process: request signatures past their time window (they can never pass again), sign-in
 * lockout counters whose window and lock have ended, and rate-limit windows that have ended (the
 * API's per-address and per-client limits, the console's sign-in throttle `console-sign-in:ADDRESS`).
 * A flood of anonymous requests or sign-ins leaves no lasting rows. Only what ended more than
 * EXPIRED_PURGE_MARGIN_MS ago goes; rate-limit rows go a batch a statement (a small write-set on
 * Galera). Several processes purging at once delete the same rows: a conflict is retried as any.
 */
export function expiredPurgeTask(store: Pick<Store, 'requestSignatures' | 'lockouts' | 'rateLimits'>, clock: () => number): PeriodicTask {
  return new PeriodicTask('expired-purge', 60_000, async () => {
    const endedBefore = clock() - EXPIRED_PURGE_MARGIN_MS;
    await store.requestSignatures.purgeExpired(endedBefore);
    await store.lockouts.purgeExpired(endedBefore);
    await store.rateLimits.purgeExpired(endedBefore);
  });
}
