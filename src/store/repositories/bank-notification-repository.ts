import { UniqueViolationError, type BankNotificationRepository, type Db } from '../types.js';

/** Bank notifications by (partner, X-EXTERNAL-ID); the UNIQUE key decides which delivery is first. */
export class SqlBankNotificationRepository implements BankNotificationRepository {
  constructor(private readonly db: Db) {}

  async record(notification: { partner: string; externalId: string; bodyHash: string }, now: number): Promise<'new' | 'repeat' | 'conflict'> {
    try {
      await this.db.execute('INSERT INTO bank_notifications (partner, external_id, body_hash, received_at) VALUES (?, ?, ?, ?)', [
        notification.partner,
        notification.externalId,
        notification.bodyHash,
        now,
      ]);
      return 'new';
    } catch (error) {
      if (!(error instanceof UniqueViolationError)) throw error;
    }
    const rows = await this.db.query<{ body_hash: string }>('SELECT body_hash FROM bank_notifications WHERE partner = ? AND external_id = ?', [notification.partner, notification.externalId]);
    return rows[0]?.body_hash === notification.bodyHash ? 'repeat' : 'conflict';
  }
}
