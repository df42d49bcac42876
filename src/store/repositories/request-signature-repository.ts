import { UniqueViolationError, type Db, type RequestSignatureRepository } from '../types.js';

/**
 * The replay cache of accepted request signatures (table request_signatures). The primary key
 * (client, signature digest) decides: of two processes that see the same signature, on one
 * node or two, exactly one INSERT succeeds, so memory never has to agree with anything.
 */
export class SqlRequestSignatureRepository implements RequestSignatureRepository {
  constructor(private readonly db: Db) {}

  async remember(clientId: string, signatureHash: string, expiresAt: number): Promise<boolean> {
    try {
      await this.db.execute('INSERT INTO request_signatures (client_id, signature_hash, expires_at) VALUES (?, ?, ?)', [clientId, signatureHash, expiresAt]);
      return true;
    } catch (error) {
      if (error instanceof UniqueViolationError) return false;
      throw error;
    }
  }

  async purgeExpired(now: number): Promise<number> {
    return (await this.db.execute('DELETE FROM request_signatures WHERE expires_at <= ?', [now])).affectedRows;
  }
}
