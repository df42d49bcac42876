import type { KeyRing } from '../../security/index.js';
import { UniqueViolationError, type CallbackDelivery, type CallbackRepository, type Db } from '../types.js';
import { toNumber } from './row-values.js';
import { ValueSealer } from './sealed-values.js';
import { upsertSql } from './sql-dialect.js';

/**
 * Client callback endpoints and the outbox of notifications (sql/*\/007_callbacks.sql). A
 * notification's body (the transfer's answer) is sealed with the key ring until it is delivered
 * and after (migration 009); outbox rows from before are read as they are.
 */
export class SqlCallbackRepository implements CallbackRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  async setEndpoint(clientId: string, url: string | null, now: number): Promise<void> {
    if (url === null) {
      await this.db.execute('DELETE FROM client_callbacks WHERE client_id = ?', [clientId]);
      return;
    }
    const sql = upsertSql(this.db.dialect, { table: 'client_callbacks', insert: ['client_id', 'url', 'updated_at'], conflict: ['client_id'], update: [['url', '?'], ['updated_at', '?']] });
    await this.db.execute(sql, [clientId, url, now, url, now]);
  }

  async endpointOf(clientId: string): Promise<string | null> {
    const rows = await this.db.query<{ url: string }>('SELECT url FROM client_callbacks WHERE client_id = ?', [clientId]);
    return rows[0]?.url ?? null;
  }

  async enqueue(delivery: { clientId: string; transactionId: string; url: string; body: string }, now: number): Promise<void> {
    try {
      await this.db.execute(
        "INSERT INTO callback_deliveries (client_id, transaction_id, url, body, key_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'PENDING', 0, ?, ?, ?)",
        [delivery.clientId, delivery.transactionId, delivery.url, this.sealer.seal(delivery.body), this.sealer.keyRing.currentKeyId, now, now, now],
      );
    } catch (error) {
      // Settled twice (a late bank answer and the resolver): one notification is enough.
      if (!(error instanceof UniqueViolationError)) throw error;
    }
  }

  async claimDue(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<CallbackDelivery[]> {
    const { owner, now, leaseMs } = options;
    const candidates = await this.db.query<{ id: number | string }>(
      "SELECT id FROM callback_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?",
      [now, now, Math.max(1, Math.min(Math.trunc(options.limit), 100))],
    );
    const claimed: CallbackDelivery[] = [];
    for (const { id } of candidates) {
      const won = await this.db.execute("UPDATE callback_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ? AND state = 'PENDING' AND (lease_until IS NULL OR lease_until <= ?)", [
        owner,
        now + leaseMs,
        toNumber(id),
        now,
      ]);
      if (won.affectedRows !== 1) continue;
      const rows = await this.db.query<{ id: number | string; client_id: string; transaction_id: string; url: string; body: string; attempts: number | string; key_id: string | null }>(
        'SELECT id, client_id, transaction_id, url, body, attempts, key_id FROM callback_deliveries WHERE id = ? AND lease_owner = ?',
        [toNumber(id), owner],
      );
      const row = rows[0];
      if (!row) continue;
      const body = this.sealer.open(row.body, row.key_id) ?? '';
      claimed.push({ id: toNumber(row.id), clientId: row.client_id, transactionId: row.transaction_id, url: row.url, body, attempts: toNumber(row.attempts) });
    }
    return claimed;
  }

  async recordAttempt(
    id: number,
    owner: string,
    attempt: { state: 'DELIVERED' | 'PENDING' | 'FAILED'; status: number | null; error: string | null; nextAttemptAt: number },
    now: number,
  ): Promise<void> {
    await this.db.execute(
      'UPDATE callback_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?',
      [attempt.state, attempt.status, attempt.error?.slice(0, 500) ?? null, attempt.nextAttemptAt, now, id, owner],
    );
  }
}
