import { addressNetwork } from '../pipeline/rate-limit/index.js';
import { decoyHash, verifySecret } from '../security/index.js';
import type { ConsoleAuditRepository, ConsoleUser, ConsoleUserRepository, LoginLockoutRepository, RateLimitRepository } from '../store/types.js';

export interface SignInThrottle {
  /** Attempts per minute from one address (an IPv6 address: its /56), counted before any hash is computed. */
  perIpPerMinute: number;
  /** Failures for one user from all addresses together before the user is locked. */
  userMaxFailures: number;
}

export interface SignInDeps {
  users: ConsoleUserRepository;
  lockouts: LoginLockoutRepository;
  /** The shared hit counters (the API's rate-limit table): one increment per attempt. */
  attempts: RateLimitRepository;
  audit: ConsoleAuditRepository;
  lockout: { maxFailures: number; windowMs: number; lockMs: number };
  throttle: SignInThrottle;
  clock: () => number;
}

export type SignInResult = { ok: true; user: ConsoleUser } | { ok: false; reason: 'invalid' | 'locked' | 'throttled'; retryAfterMs?: number };

const MINUTE = 60_000;

/**
 * Lockout counters of console users, shared with nothing else (client ids have their own keys).
 * A user's failures count overall (`console-user:NAME`) and per source (`console-user:NAME|SOURCE`,
 * SOURCE the caller's address as the API's rate limit groups it: an IPv6 address as its /56).
 * The name is percent-encoded, so no name (typed by anyone) can spell another user's key.
 */
const userKey = (username: string) => `console-user:${encodeURIComponent(username)}`;
const sourceKey = (username: string, ip: string) => `${userKey(username)}|${ip}`;

/**
 * Checks a console sign-in, cheapest refusals first. A source is the caller's address grouped as
 * the API's rate limit groups it (addressNetwork: an IPv6 address counts as its /56), so a host
 * cannot rotate through the addresses of its own prefix:
 *  1. every attempt from a source is counted (atomically, in the shared store) before anything
 *     else; past `perIpPerMinute` the attempt is refused without a hash, so a flood of sign-ins
 *     costs one counter update each, never an scrypt;
 *  2. a user locked for this source (GERBANG_LOGIN_MAX_FAILURES failures from it), or locked
 *     overall (`userMaxFailures` from all sources), is refused without checking the password
 *     (so the lock cannot be probed for the right one). An attacker at one source locks the user
 *     out at that source only: the user still signs in from their own;
 *  3. the password is checked (an unknown user costs the same scrypt as a wrong password). A
 *     failure counts towards the user-wide lock only while its source is within its own
 *     allowance (its first GERBANG_LOGIN_MAX_FAILURES failures of its window; a failure after its
 *     lock ended inside the same window relocks the source and no more). One window of the user's
 *     count then holds the counted failures of one window of the source (two when the lock is
 *     shorter than the window), so one source alone never reaches `userMaxFailures`, however long
 *     it keeps trying: loadConsoleConfig refuses a `userMaxFailures` that is not above that.
 * Every attempt, good or bad, is written to the console audit. A success clears the user's
 * counters; an admin clears them with unlockConsoleUser.
 */
export async function signIn(deps: SignInDeps, input: { username: string; password: string; remoteIp: string }): Promise<SignInResult> {
  const now = deps.clock();
  const username = input.username.trim().slice(0, 64);
  const record = (action: string, detail: string | null) =>
    deps.audit.record({ at: now, username: username || '(empty)', action, target: null, detail, remoteIp: input.remoteIp });

  const source = addressNetwork(input.remoteIp);
  const attempts = await deps.attempts.increment(`console-sign-in:${source}`, MINUTE, now);
  if (attempts.hits > deps.throttle.perIpPerMinute) {
    await record('sign_in_failed', 'throttled: too many attempts from this address');
    return { ok: false, reason: 'throttled', retryAfterMs: Math.max(1000, attempts.resetAt - now) };
  }
  const keys = [sourceKey(username, source), userKey(username)];
  for (const key of keys) {
    const state = await deps.lockouts.get(key, now);
    if (state.lockedUntil > now) {
      await record('sign_in_failed', key === keys[0] ? 'locked for this address' : 'locked');
      return { ok: false, reason: 'locked', retryAfterMs: state.lockedUntil - now };
    }
  }
  const user = username ? await deps.users.findByUsername(username) : null;
  const matches = await verifySecret(input.password, user?.passwordHash ?? (await decoyHash()));
  if (!user || !matches || user.status !== 'active') {
    const fromHere = await deps.lockouts.recordFailure(keys[0], deps.lockout, now);
    const overall =
      fromHere.failures <= deps.lockout.maxFailures
        ? await deps.lockouts.recordFailure(keys[1], { ...deps.lockout, maxFailures: deps.throttle.userMaxFailures }, now)
        : null;
    const locked = fromHere.lockedUntil > now || (overall !== null && overall.lockedUntil > now);
    await record('sign_in_failed', !user ? 'unknown user' : user.status !== 'active' ? 'disabled' : locked ? 'wrong password; now locked' : 'wrong password');
    return { ok: false, reason: locked ? 'locked' : 'invalid' };
  }
  await deps.lockouts.clear(keys[0]);
  await deps.lockouts.clear(keys[1]);
  await record('sign_in', null);
  return { ok: true, user };
}

/**
 * Lifts every lockout of a console user (from each address and overall): `gerbang user unlock`
 * and the admin page. Returns how many lockout counters were removed.
 */
export async function unlockConsoleUser(lockouts: LoginLockoutRepository, username: string): Promise<number> {
  return (await lockouts.clear(userKey(username))) + (await lockouts.clearPrefix(`${userKey(username)}|`));
}
