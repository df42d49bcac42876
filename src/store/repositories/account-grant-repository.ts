import { createHash } from 'node:crypto';
import { UniqueViolationError, type AccountGrantRepository, type Db } from '../types.js';
import { maskAccount } from './audit-records.js';

/** The looked-up key of a grant: no account number is stored in clear. */
function digest(clientId: string, accountNumber: string): string {
  return createHash('sha256').update(`${clientId}:${accountNumber}`).digest('hex');
}

/**
 * The company accounts each API client may use (table client_account_grants). No row, no
 * access: a client is never granted an account by default.
 */
export class SqlAccountGrantRepository implements AccountGrantRepository {
  constructor(private readonly db: Db) {}

  async grant(clientId: string, accountNumber: string, now: number): Promise<boolean> {
    try {
      await this.db.execute('INSERT INTO client_account_grants (client_id, account_digest, account_masked, granted_at) VALUES (?, ?, ?, ?)', [
        clientId,
        digest(clientId, accountNumber),
        maskAccount(accountNumber) ?? '',
        now,
      ]);
      return true;
    } catch (error) {
      // Granted already (maybe by another node a moment ago): nothing to change.
      if (error instanceof UniqueViolationError) return false;
      throw error;
    }
  }

  async revoke(clientId: string, accountNumber: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM client_account_grants WHERE client_id = ? AND account_digest = ?', [clientId, digest(clientId, accountNumber)])).affectedRows > 0;
  }

  async isGranted(clientId: string, accountNumber: string): Promise<boolean> {
    const rows = await this.db.query<{ n: number }>('SELECT 1 AS n FROM client_account_grants WHERE client_id = ? AND account_digest = ?', [clientId, digest(clientId, accountNumber)]);
    return rows.length > 0;
  }

  async list(clientId: string): Promise<string[]> {
    const rows = await this.db.query<{ account_masked: string }>('SELECT account_masked FROM client_account_grants WHERE client_id = ? ORDER BY granted_at, account_masked', [clientId]);
    return rows.map((row) => row.account_masked);
  }
}
