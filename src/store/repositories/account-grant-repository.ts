import { UniqueViolationError, type AccountGrantRepository, type Db } from '../types.js';

/**
 * The company accounts each API client may use (table client_account_grants). No row, no
 * access: a client is never granted an account by default.
 */
export class SqlAccountGrantRepository implements AccountGrantRepository {
  constructor(private readonly db: Db) {}

  async grant(clientId: string, accountNumber: string, now: number): Promise<boolean> {
    try {
      await this.db.execute('INSERT INTO client_account_grants (client_id, account_number, granted_at) VALUES (?, ?, ?)', [clientId, accountNumber, now]);
      return true;
    } catch (error) {
      // Granted already (maybe by another node a moment ago): nothing to change.
      if (error instanceof UniqueViolationError) return false;
      throw error;
    }
  }

  async revoke(clientId: string, accountNumber: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM client_account_grants WHERE client_id = ? AND account_number = ?', [clientId, accountNumber])).affectedRows > 0;
  }

  async isGranted(clientId: string, accountNumber: string): Promise<boolean> {
    const rows = await this.db.query<{ n: number }>('SELECT 1 AS n FROM client_account_grants WHERE client_id = ? AND account_number = ?', [clientId, accountNumber]);
    return rows.length > 0;
  }

  async list(clientId: string): Promise<string[]> {
    const rows = await this.db.query<{ account_number: string }>('SELECT account_number FROM client_account_grants WHERE client_id = ? ORDER BY account_number', [clientId]);
    return rows.map((row) => row.account_number);
  }
}
