import type { KeyRing } from '../../security/index.js';
import { UniqueViolationError, type CallbackDelivery, type CallbackRepository, type Db, type RefusedCallback } from '../types.js';
import { toNumber } from './row-values.js';
import { IntegrityError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import type { ChainLanes } from './audit-chain.js';
import { changeRows } from './record-changes.js';
import { checkedCurrent, currentRowProblem, withLatestRecord, type LatestRecordColumns } from './record-history.js';
import { type MacedRow, type MacedTable } from './record-macs.js';
import { place, ValueSealer } from './sealed-values.js';

const log = getLogger('store');

/**
 * A callback endpoint carries a MAC (migration 025) of its client and URL: a URL rewritten or an
 * endpoint inserted in SQL does not match it, and nothing is ever signed for it nor posted to it.
 */
export const CALLBACK_ENDPOINTS: MacedTable = {
  table: 'client_callbacks',
  purpose: 'callback endpoint',
  key: ['client_id'],
  columns: 'client_id, url, updated_at, mac_key_id, mac',
  fields: (row) => [String(row.client_id), String(row.url)],
  describe: (row) => `client_callbacks of client ${String(row.client_id)}`,
  covers: 'its client or URL',
};

/**
 * Client callback endpoints and the outbox of notifications (sql/*\/007_callbacks.sql). A
 * notification's body (the transfer's answer) is sealed with the key ring until it is delivered
 * and after (migration 009); outbox rows from before are read as they are.
 */
export class SqlCallbackRepository implements CallbackRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null,
    private readonly chain: ChainLanes,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  /**
   * Sets (or with null removes) the client's endpoint, with its MAC and change record
   * (record-changes.ts). A URL is set over whatever the row holds, its MAC unchecked: both fields
   * the MAC covers are written. Guarded by the row read (another write meanwhile: read again).
   */
  async setEndpoint(clientId: string, url: string | null, now: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      // Another node set the first endpoint meanwhile (UniqueViolationError): set it over theirs.
      const written = await changeRows(this.chain, this.sealer, now, async (rows) => {
        if (url === null) return rows.delete(CALLBACK_ENDPOINTS, 'client_id = ?', [clientId]).then(() => true);
        const [row] = (await rows.tx.query<MacedRow>(`SELECT ${CALLBACK_ENDPOINTS.columns} FROM client_callbacks WHERE client_id = ?`, [clientId])).filter((r) => r.client_id === clientId);
        if (!row) return rows.insert(CALLBACK_ENDPOINTS, { client_id: clientId, url, updated_at: now }).then(() => true);
        return (await rows.update(CALLBACK_ENDPOINTS, row, { url, updated_at: now })) ? true : null;
      }).catch((error: unknown) => {
        if (error instanceof UniqueViolationError) return null;
        throw error;
      });
      if (written !== null) return;
    }
    throw new Error(`client_callbacks of client ${clientId} kept changing while it was written: try again`);
  }

  /**
   * Throws IntegrityError when the endpoint's row does not hold its MAC (its URL rewritten in SQL)
   * or is not its latest state (an older URL written back).
   */
  async endpointOf(clientId: string): Promise<string | null> {
    const latest = withLatestRecord(CALLBACK_ENDPOINTS, 'c', [clientId]);
    const rows = await this.db.query<MacedRow & LatestRecordColumns>(`SELECT ${latest.columns} FROM client_callbacks c ${latest.join} WHERE c.client_id = ?`, [...latest.params, clientId]);
    const row = rows.find((r) => r.client_id === clientId);
    return row ? String(checkedCurrent(CALLBACK_ENDPOINTS, row, row, this.sealer).url) : null;
  }

  async enqueue(delivery: { clientId: string; transactionId: string; url: string; body: string }, now: number): Promise<void> {
    try {
      await this.db.execute(
        "INSERT INTO callback_deliveries (client_id, transaction_id, url, body, key_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'PENDING', 0, ?, ?, ?)",
        [delivery.clientId, delivery.transactionId, delivery.url, this.sealer.seal(delivery.body, place('callback_deliveries', 'body', [delivery.clientId, delivery.transactionId])), this.sealer.keyRing.currentKeyId, now, now, now],
      );
    } catch (error) {
      // Settled twice (a late bank answer and the resolver): one notification is enough.
      if (!(error instanceof UniqueViolationError)) throw error;
    }
  }

  async claimDue(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<(CallbackDelivery | RefusedCallback)[]> {
    const { owner, now, leaseMs } = options;
    const candidates = await this.db.query<{ id: number | string }>(
      "SELECT id FROM callback_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?",
      [now, now, Math.max(1, Math.min(Math.trunc(options.limit), 100))],
    );
    const claimed: (CallbackDelivery | RefusedCallback)[] = [];
    for (const { id } of candidates) {
      const won = await this.db.execute("UPDATE callback_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ? AND state = 'PENDING' AND (lease_until IS NULL OR lease_until <= ?)", [
        owner,
        now + leaseMs,
        toNumber(id),
        now,
      ]);
      if (won.affectedRows !== 1) continue;
      // The endpoint's latest change record with it, in the same statement (one snapshot).
      const latest = withLatestRecord(CALLBACK_ENDPOINTS, 'c', { dialect: this.db.dialect, column: 'c.client_id' });
      const rows = await this.db.query<{ id: number | string; client_id: string; transaction_id: string; url: string; body: string; attempts: number | string; registered: string | null; registered_by: string | null; mac_key_id: string | null; mac: string | null } & LatestRecordColumns>(
        `SELECT d.id, d.client_id, d.transaction_id, d.url, d.body, d.attempts, c.url AS registered, c.client_id AS registered_by, c.mac_key_id, c.mac, ${latest.recordColumns} FROM callback_deliveries d ` +
          `LEFT JOIN client_callbacks c ON c.client_id = d.client_id ${latest.join} WHERE d.id = ? AND d.lease_owner = ?`,
        [...latest.params, toNumber(id), owner],
      );
      const row = rows[0];
      if (!row) continue;
      // The URL is looked up again now: a delivery goes to the client's registered endpoint only,
      // never to a URL rewritten in the queued row. Never signed nor sent: a body not sealed for
      // this row (forged, moved), a client with no endpoint any more, or an endpoint whose MAC does
      // not hold (its URL rewritten in SQL) or that is not its latest state (an older one written
      // back): returned refused, for the dispatcher to mark and audit.
      const endpoint: MacedRow = { client_id: row.registered_by, url: row.registered, mac_key_id: row.mac_key_id, mac: row.mac };
      const refusal =
        row.registered === null
          ? 'the client has no registered callback endpoint'
          : currentRowProblem(CALLBACK_ENDPOINTS, endpoint, row, this.sealer);
      let body: string | null = null;
      try {
        body = this.sealer.open(row.body, place('callback_deliveries', 'body', [row.client_id, row.transaction_id]));
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
      }
      const problem = refusal ?? (body === null ? 'the body failed its integrity check (not sealed for this delivery)' : null);
      if (problem !== null) {
        claimed.push({ id: toNumber(row.id), clientId: row.client_id, transactionId: row.transaction_id, refused: problem });
        continue;
      }
      if (row.registered !== row.url) log.warn({ deliveryId: toNumber(row.id), clientId: row.client_id }, 'queued callback URL differs from the registered endpoint: sent to the registered one');
      claimed.push({ id: toNumber(row.id), clientId: row.client_id, transactionId: row.transaction_id, url: row.registered!, body: body!, attempts: toNumber(row.attempts) });
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
