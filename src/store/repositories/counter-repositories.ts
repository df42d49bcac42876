import type {
  BankTokenRepository,
  Db,
  LoginLockoutRepository,
  RateLimitRepository,
  SequenceRepository,
} from '../types.js';
import { num, upsert } from './sql-helpers.js';

/**
 * Fixed-window counters shared by every worker and node. One upsert starts a new window when the
 * old one has ended, or adds a hit; the read that follows is in the same transaction, so it sees
 * this increment whatever other writers do. (The `hits` assignment reads the old `reset_at`, so
 * it is listed first — MySQL applies ON DUPLICATE KEY assignments left to right.)
 */
export function rateLimitRepository(db: Db): RateLimitRepository {
  return {
    increment(key, windowMs, now) {
      return db.withTransaction(async (tx) => {
        await upsert(
          tx,
          'rate_limits',
          ['rl_key', 'hits', 'reset_at'],
          [key, 1, now + windowMs],
          'rl_key',
          `hits = CASE WHEN reset_at <= ${Number(now)} THEN 1 ELSE hits + 1 END,
           reset_at = CASE WHEN reset_at <= ${Number(now)} THEN excluded.reset_at ELSE reset_at END`,
        );
        const rows = await tx.query<{ hits: number; reset_at: number }>('SELECT hits, reset_at FROM rate_limits WHERE rl_key = ?', [key]);
        return { hits: num(rows[0].hits), resetAt: num(rows[0].reset_at) };
      });
    },
    async decrement(key) {
      await db.execute('UPDATE rate_limits SET hits = hits - 1 WHERE rl_key = ? AND hits > 0', [key]);
    },
    async reset(key) {
      await db.execute('DELETE FROM rate_limits WHERE rl_key = ?', [key]);
    },
    async purgeExpired(now) {
      return (await db.execute('DELETE FROM rate_limits WHERE reset_at <= ?', [now])).affectedRows;
    },
  };
}

/** Failed-login counting and lockout, per key (`client:<id>`, `ip:<address>`). */
export function loginLockoutRepository(db: Db): LoginLockoutRepository {
  return {
    async get(key, now) {
      const rows = await db.query<{ failures: number; window_reset_at: number; locked_until: number }>(
        'SELECT failures, window_reset_at, locked_until FROM login_lockouts WHERE lock_key = ?',
        [key],
      );
      const row = rows[0];
      if (!row) return { failures: 0, lockedUntil: 0 };
      return { failures: num(row.window_reset_at) > now ? num(row.failures) : 0, lockedUntil: num(row.locked_until) };
    },
    recordFailure(key, { maxFailures, windowMs, lockMs }, now) {
      return db.withTransaction(async (tx) => {
        const n = Number(now);
        await upsert(
          tx,
          'login_lockouts',
          ['lock_key', 'failures', 'window_reset_at', 'locked_until'],
          [key, 1, n + windowMs, maxFailures <= 1 ? n + lockMs : 0],
          'lock_key',
          `failures = CASE WHEN window_reset_at <= ${n} THEN 1 ELSE failures + 1 END,
           window_reset_at = CASE WHEN window_reset_at <= ${n} THEN excluded.window_reset_at ELSE window_reset_at END`,
        );
        const rows = await tx.query<{ failures: number; locked_until: number }>('SELECT failures, locked_until FROM login_lockouts WHERE lock_key = ?', [key]);
        let lockedUntil = num(rows[0].locked_until);
        const failures = num(rows[0].failures);
        if (failures >= maxFailures && lockedUntil <= n) {
          lockedUntil = n + lockMs;
          // The lock starts a fresh count: after it ends, the caller gets maxFailures new tries.
          await tx.execute('UPDATE login_lockouts SET locked_until = ?, failures = 0 WHERE lock_key = ?', [lockedUntil, key]);
        }
        return { failures, lockedUntil };
      });
    },
    async clear(key) {
      await db.execute('DELETE FROM login_lockouts WHERE lock_key = ?', [key]);
    },
  };
}

export function bankTokenRepository(db: Db): BankTokenRepository {
  return {
    async get(partner) {
      const rows = await db.query<{ partner: string; token: string; expires_at: number; fetched_at: number }>(
        'SELECT partner, token, expires_at, fetched_at FROM bank_tokens WHERE partner = ?',
        [partner],
      );
      const row = rows[0];
      return row ? { partner: row.partner, token: row.token, expiresAt: num(row.expires_at), fetchedAt: num(row.fetched_at) } : null;
    },
    async put(record) {
      await upsert(
        db,
        'bank_tokens',
        ['partner', 'token', 'expires_at', 'fetched_at'],
        [record.partner, record.token, record.expiresAt, record.fetchedAt],
        'partner',
        'token = excluded.token, expires_at = excluded.expires_at, fetched_at = excluded.fetched_at',
      );
    },
    async invalidate(partner, token) {
      await db.execute('DELETE FROM bank_tokens WHERE partner = ? AND token = ?', [partner, token]);
    },
  };
}

/** Named counters: the row lock of the UPDATE inside the transaction makes each value unique. */
export function sequenceRepository(db: Db): SequenceRepository {
  return {
    next(name) {
      return db.withTransaction(async (tx) => {
        await upsert(tx, 'sequences', ['name', 'value'], [name, 1], 'name', 'value = value + 1');
        const rows = await tx.query<{ value: number }>('SELECT value FROM sequences WHERE name = ?', [name]);
        return num(rows[0].value);
      });
    },
  };
}
