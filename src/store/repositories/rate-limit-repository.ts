import type { CounterResult, Db, RateLimitRepository } from '../types.js';
import { counterKey, toNumber } from './row-values.js';

/** LAST_INSERT_ID packing of the MySQL upsert: hits * PACK + milliseconds left in the window. */
const PACK = 2 ** 32;

/** Ended windows deleted a statement by purgeExpired. */
const PURGE_BATCH = 500;
import { upsertSql } from './sql-dialect.js';

/**
 * Fixed-window hit counters shared by every worker and node. The window logic lives in one SQL
 * upsert, so the database's row lock (not a read-modify-write in JS) makes concurrent
 * increments from several processes add up exactly.
 */
export class SqlRateLimitRepository implements RateLimitRepository {
  constructor(private readonly db: Db) {}

  /** Adds `by` hits (1 by default) to `key`; when its window has ended, starts a new one at `now` with them. */
  async increment(key: string, windowMs: number, now: number, by = 1): Promise<CounterResult> {
    if (!Number.isSafeInteger(by) || by < 1) throw new RangeError(`hits are added one or more at a time, not ${by}`);
    const id = counterKey(key);
    const windowEnd = now + windowMs;
    if (this.db.dialect === 'mysql') {
      // MySQL/MariaDB: one statement, and no transaction holding the row lock across round trips
      // (every request of one client or IP goes through this row). The upsert hands this call's
      // own hit count and window end back in its OK packet through LAST_INSERT_ID(expr), packed
      // as hits * 2^32 + milliseconds left in the window. affectedRows 1: the row was just
      // created, with `by` hits. The assignments run left to right, so the packing (a no-op term of
      // the last one) sees the new hits and the new window end.
      const windowEndSql = 'CASE WHEN reset_at <= ? THEN ? ELSE reset_at END';
      const upsert =
        'INSERT INTO rate_limits (rl_key, hits, reset_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE ' +
        'hits = CASE WHEN reset_at <= ? THEN ? ELSE hits + ? END, ' +
        `reset_at = ${windowEndSql} + 0 * LAST_INSERT_ID(hits * ${PACK} + LEAST(GREATEST(${windowEndSql} - ?, 0), ${PACK - 1}))`;
      const result = await this.db.execute(upsert, [id, by, windowEnd, now, by, by, now, windowEnd, now, windowEnd, now]);
      if (result.affectedRows === 1) return { hits: by, resetAt: windowEnd };
      const packed = result.insertId;
      const hits = Math.floor(packed / PACK);
      // Exact up to 2^53 (two million hits in one window) and for windows under 49 days; beyond,
      // the window's end is read back as before.
      if (Number.isSafeInteger(packed) && windowMs < PACK) return { hits, resetAt: now + (packed % PACK) };
      const rows = await this.db.query<{ reset_at: number | string }>('SELECT reset_at FROM rate_limits WHERE rl_key = ?', [id]);
      return { hits, resetAt: rows.length > 0 ? toNumber(rows[0].reset_at) : windowEnd };
    }
    // SQLite (in-process: a transaction costs no round trips). Both CASEs test the OLD reset_at,
    // here and in the MySQL statement above, where hits is assigned first on purpose because
    // MySQL evaluates ON DUPLICATE KEY UPDATE assignments left to right (see upsertSql).
    const sql = upsertSql(this.db.dialect, {
      table: 'rate_limits',
      insert: ['rl_key', 'hits', 'reset_at'],
      conflict: ['rl_key'],
      update: [
        ['hits', 'CASE WHEN reset_at <= ? THEN ? ELSE hits + ? END'],
        ['reset_at', 'CASE WHEN reset_at <= ? THEN ? ELSE reset_at END'],
      ],
    });
    return this.db.withTransaction(async (tx) => {
      await tx.execute(sql, [id, by, windowEnd, now, by, by, now, windowEnd]);
      // Same transaction: the upsert still holds the row lock, so this reads our own hit.
      const rows = await tx.query<{ hits: number | string; reset_at: number | string }>('SELECT hits, reset_at FROM rate_limits WHERE rl_key = ?', [id]);
      return { hits: toNumber(rows[0].hits), resetAt: toNumber(rows[0].reset_at) };
    });
  }

  /** Takes one hit back (a request that should not count); never below zero. */
  async decrement(key: string): Promise<void> {
    await this.db.execute('UPDATE rate_limits SET hits = hits - 1 WHERE rl_key = ? AND hits > 0', [counterKey(key)]);
  }

  async reset(key: string): Promise<void> {
    await this.db.execute('DELETE FROM rate_limits WHERE rl_key = ?', [counterKey(key)]);
  }

  /**
   * Deletes the windows that ended at or before `now`, PURGE_BATCH a statement (by the index on
   * reset_at), so that no statement is a large write-set on Galera or holds many row locks; returns
   * how many. The window's end is tested again in the DELETE: one a request renewed since the
   * SELECT (another node's increment) is kept.
   */
  async purgeExpired(now: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const keys = (await this.db.query<{ rl_key: string }>('SELECT rl_key FROM rate_limits WHERE reset_at <= ? ORDER BY reset_at LIMIT ?', [now, PURGE_BATCH])).map((r) => r.rl_key);
      if (keys.length === 0) return deleted;
      deleted += (await this.db.execute(`DELETE FROM rate_limits WHERE rl_key IN (${keys.map(() => '?').join(', ')}) AND reset_at <= ?`, [...keys, now])).affectedRows;
      if (keys.length < PURGE_BATCH) return deleted;
    }
  }
}
