import { UniqueViolationError, type BankTokenRecord, type BankTokenRepository, type Db } from '../types.js';
import { toNumber } from './row-values.js';
import { upsertSql } from './sql-dialect.js';

/** The bank's OAuth access token per partner, shared so every worker and node reuses one token. */
export class SqlBankTokenRepository implements BankTokenRepository {
  constructor(private readonly db: Db) {}

  async get(partner: string): Promise<BankTokenRecord | null> {
    const rows = await this.db.query<{ partner: string; token: string; expires_at: number | string; fetched_at: number | string }>(
      'SELECT partner, token, expires_at, fetched_at FROM bank_tokens WHERE partner = ?',
      [partner],
    );
    const row = rows[0];
    return row ? { partner: row.partner, token: row.token, expiresAt: toNumber(row.expires_at), fetchedAt: toNumber(row.fetched_at) } : null;
  }

  /**
   * Stores the partner's token, replacing the previous one unless that one expires later: a fetch
   * answered late (a bank slower than a claim's lease) must not put an older token over the newer
   * one another node stored meanwhile, which the bank may already have made the only valid one.
   * Each assignment reads the row's expiry before this statement's own change to it (SQLite reads
   * the old row throughout; MySQL assigns left to right, so expires_at comes last).
   */
  async put(record: BankTokenRecord): Promise<void> {
    const newer = 'CASE WHEN expires_at <= ? THEN ? ELSE';
    const sql = upsertSql(this.db.dialect, {
      table: 'bank_tokens',
      insert: ['partner', 'token', 'expires_at', 'fetched_at'],
      conflict: ['partner'],
      update: [
        ['token', `${newer} token END`],
        ['fetched_at', `${newer} fetched_at END`],
        ['expires_at', `${newer} expires_at END`],
      ],
    });
    const { partner, token, expiresAt, fetchedAt } = record;
    await this.db.execute(sql, [partner, token, expiresAt, fetchedAt, expiresAt, token, expiresAt, fetchedAt, expiresAt, expiresAt]);
  }

  /**
   * Deletes the token only while it is still `token`: a worker whose call was refused with an
   * old token must not throw away the fresh one another worker has just stored.
   */
  async invalidate(partner: string, token: string): Promise<void> {
    await this.db.execute('DELETE FROM bank_tokens WHERE partner = ? AND token = ?', [partner, token]);
  }

  /**
   * The claim is a row of the same table under a key no partner name can take (names have no `:`).
   * Its holder claiming again renews its lease.
   */
  async claimRefresh(partner: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const key = refreshKey(partner);
    try {
      await this.db.execute('INSERT INTO bank_tokens (partner, token, expires_at, fetched_at) VALUES (?, ?, ?, ?)', [key, owner, now + leaseMs, now]);
      return true;
    } catch (error) {
      if (!(error instanceof UniqueViolationError)) throw error;
    }
    // Taken: it is ours only once the holder's lease has run out (it died or hung mid-fetch), or
    // ours already (the holder renewing its lease while its fetch runs).
    const taken = await this.db.execute('UPDATE bank_tokens SET token = ?, expires_at = ?, fetched_at = ? WHERE partner = ? AND (expires_at <= ? OR token = ?)', [
      owner,
      now + leaseMs,
      now,
      key,
      now,
      owner,
    ]);
    return taken.affectedRows === 1;
  }

  async releaseRefresh(partner: string, owner: string): Promise<void> {
    await this.db.execute('DELETE FROM bank_tokens WHERE partner = ? AND token = ?', [refreshKey(partner), owner]);
  }
}

function refreshKey(partner: string): string {
  return `refresh-claim:${partner}`;
}
