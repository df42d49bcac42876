import { performance } from 'node:perf_hooks';

/**
 * The clock ages and intervals within this process are measured on: monotonic milliseconds since
 * the process started, which no NTP step, VM resume or `date -s` moves. The wall clock (Date.now,
 * the injected `clock`) is for what is compared with other processes' or the store's times (a
 * rate-limit window's end, a token's expiry, a claim's lease); stepped back an hour it would keep
 * every cached read "fresh" for that hour.
 */
export const elapsedClock = (): number => performance.now();

/** True for an age from 0 up to (not including) `boundMs`; a negative age (a clock that went back) is not young. */
export function isYoung(ageMs: number, boundMs: number): boolean {
  return ageMs >= 0 && ageMs < boundMs;
}
