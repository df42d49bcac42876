import { decoyHash, verifySecret } from '../security/index.js';
import type { ConsoleAuditRepository, ConsoleUser, ConsoleUserRepository, LoginLockoutRepository } from '../store/types.js';

export interface SignInDeps {
  users: ConsoleUserRepository;
  lockouts: LoginLockoutRepository;
  audit: ConsoleAuditRepository;
  lockout: { maxFailures: number; windowMs: number; lockMs: number };
  clock: () => number;
}

export type SignInResult = { ok: true; user: ConsoleUser } | { ok: false; reason: 'invalid' | 'locked' };

/** One lockout counter per username, shared with nothing else (client ids have their own keys). */
const lockKey = (username: string) => `console-user:${username}`;

/**
 * Checks a console sign-in. A locked account is refused without checking the password (so the
 * lock cannot be probed for the right one); an unknown user costs the same scrypt time as a
 * wrong password; every attempt, good or bad, is written to the console audit.
 */
export async function signIn(deps: SignInDeps, input: { username: string; password: string; remoteIp: string }): Promise<SignInResult> {
  const now = deps.clock();
  const username = input.username.trim().slice(0, 64);
  const record = (action: string, detail: string | null) =>
    deps.audit.record({ at: now, username: username || '(empty)', action, target: null, detail, remoteIp: input.remoteIp });

  const state = await deps.lockouts.get(lockKey(username), now);
  if (state.lockedUntil > now) {
    await record('sign_in_failed', 'locked');
    return { ok: false, reason: 'locked' };
  }
  const user = username ? await deps.users.findByUsername(username) : null;
  const matches = await verifySecret(input.password, user?.passwordHash ?? (await decoyHash()));
  if (!user || !matches || user.status !== 'active') {
    const after = await deps.lockouts.recordFailure(lockKey(username), deps.lockout, now);
    const locked = after.lockedUntil > now;
    await record('sign_in_failed', !user ? 'unknown user' : user.status !== 'active' ? 'disabled' : locked ? 'wrong password; now locked' : 'wrong password');
    return { ok: false, reason: locked ? 'locked' : 'invalid' };
  }
  await deps.lockouts.clear(lockKey(username));
  await record('sign_in', null);
  return { ok: true, user };
}
