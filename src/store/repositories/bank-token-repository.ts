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

  /** Stores the partner's token, replacing the previous one. */
  async put(record: BankTokenRecord): Promise<void> {
    const sql = upsertSql(this.db.dialect, {
      table: 'bank_tokens',
      insert: ['partner', 'token', 'expires_at', 'fetched_at'],
      conflict: ['partner'],
      update: [
        ['token', '?'],
        ['expires_at', '?'],
        ['fetched_at', '?'],
      ],
    });
    await this.db.execute(sql, [record.partner, record.token, record.expiresAt, record.fetchedAt, record.token, record.expiresAt, record.fetchedAt]);
  }

  /**
   * Deletes the token only while it is still `token`: a worker whose call was refused with an
   * old token must not throw away the fresh one another worker has just stored.
   */
  async invalidate(partner: string, token: string): Promise<void> {
    await this.db.execute('DELETE FROM bank_tokens WHERE partner = ? AND token = ?', [partner, token]);
  }

  /** The claim is a row of the same table under a key no partner name can take (names have no `:`). */
  async claimRefresh(partner: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const key = refreshKey(partner);
    try {
      await this.db.execute('INSERT INTO bank_tokens (partner, token, expires_at, fetched_at) VALUES (?, ?, ?, ?)', [key, owner, now + leaseMs, now]);
      return true;
    } catch (error) {
      if (!(error instanceof UniqueViolationError)) throw error;
    }
    // Taken: it is ours only once the holder's lease has run out (it died or hung mid-fetch).
    const taken = await this.db.execute('UPDATE bank_tokens SET token = ?, expires_at = ?, fetched_at = ? WHERE partner = ? AND expires_at <= ?', [
      owner,
      now + leaseMs,
      now,
      key,
      now,
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
