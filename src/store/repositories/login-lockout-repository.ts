import type { Db, LockoutState, LoginLockoutRepository } from '../types.js';
import { counterKey, toNumber } from './row-values.js';
import { upsertSql } from './sql-dialect.js';

interface LockoutRow {
  failures: number | string;
  window_reset_at: number | string;
  locked_until: number | string;
}

/** Failures only count inside their window; an ended window reads as zero failures. */
function toState(row: LockoutRow | undefined, now: number): LockoutState {
  if (!row) return { failures: 0, lockedUntil: 0 };
  return { failures: toNumber(row.window_reset_at) > now ? toNumber(row.failures) : 0, lockedUntil: toNumber(row.locked_until) };
}

/** Failed-login counters and lockouts (per client id and per IP), shared by every worker and node. */
export class SqlLoginLockoutRepository implements LoginLockoutRepository {
  constructor(private readonly db: Db) {}

  /** The current state; `lockedUntil` is epoch ms (locked while it is after `now`), 0 when never locked. */
  async get(key: string, now: number): Promise<LockoutState> {
    const rows = await this.db.query<LockoutRow>('SELECT failures, window_reset_at, locked_until FROM login_lockouts WHERE lock_key = ?', [counterKey(key)]);
    return toState(rows[0], now);
  }

  /**
   * Counts one failure in the current window (starting a new window when the last one ended);
   * at `maxFailures` locks the key until now + lockMs. Failures during a lock do not extend it,
   * so an attacker cannot keep a client locked out for ever at no cost.
   */
  recordFailure(key: string, opts: { maxFailures: number; windowMs: number; lockMs: number }, now: number): Promise<LockoutState> {
    const id = counterKey(key);
    const windowEnd = now + opts.windowMs;
    // Every CASE reads the OLD window_reset_at: failures is assigned before window_reset_at
    // because MySQL evaluates the assignments left to right.
    const sql = upsertSql(this.db.dialect, {
      table: 'login_lockouts',
      insert: ['lock_key', 'failures', 'window_reset_at', 'locked_until'],
      conflict: ['lock_key'],
      update: [
        ['failures', 'CASE WHEN window_reset_at <= ? THEN 1 ELSE failures + 1 END'],
        ['window_reset_at', 'CASE WHEN window_reset_at <= ? THEN ? ELSE window_reset_at END'],
      ],
    });
    return this.db.withTransaction(async (tx) => {
      await tx.execute(sql, [id, 1, windowEnd, 0, now, now, windowEnd]);
      await tx.execute('UPDATE login_lockouts SET locked_until = ? WHERE lock_key = ? AND failures >= ? AND locked_until <= ?', [
        now + opts.lockMs,
        id,
        opts.maxFailures,
        now,
      ]);
      const rows = await tx.query<LockoutRow>('SELECT failures, window_reset_at, locked_until FROM login_lockouts WHERE lock_key = ?', [id]);
      return toState(rows[0], now);
    });
  }

  /** Removes the key's counter and lock; returns how many rows went (0 or 1). */
  async clear(key: string): Promise<number> {
    return (await this.db.execute('DELETE FROM login_lockouts WHERE lock_key = ?', [counterKey(key)])).affectedRows;
  }

  /**
   * Removes every counter whose key starts with `prefix` (an admin unlocking a user at every
   * address). Compared with SUBSTR, not LIKE: exact and case-sensitive on both backends, and no
   * character of the prefix is a wildcard. Returns how many rows went.
   */
  async clearPrefix(prefix: string): Promise<number> {
    return (await this.db.execute('DELETE FROM login_lockouts WHERE SUBSTR(lock_key, 1, ?) = ?', [prefix.length, prefix])).affectedRows;
  }

  /** Deletes counters whose window and lock have both ended (they read as zero anyway); returns how many. */
  async purgeExpired(now: number): Promise<number> {
    return (await this.db.execute('DELETE FROM login_lockouts WHERE window_reset_at <= ? AND locked_until <= ?', [now, now])).affectedRows;
  }
}
