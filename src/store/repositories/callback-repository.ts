import { createHash } from 'node:crypto';
import type { KeyRing } from '../../security/index.js';
import { UniqueViolationError, type CallbackDelivery, type CallbackRepository, type Db, type LeasedCallback, type OverdueCallbacks, type Queryable, type RefusedCallback, type SqlValue } from '../types.js';
import { toNumber } from './row-values.js';
import { IntegrityError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import type { ChainLanes } from './audit-chain.js';
import { changeRows } from './record-changes.js';
import { KeyRingError } from '../../security/index.js';
import { checkedCurrent, currentRowProblem, latestRecordAs, trustedChangesOf, verifiedRowProblem, withLatestRecord, type LatestRecordColumns } from './record-history.js';
import { recordMacProblem, type MacedRow, type MacedTable } from './record-macs.js';
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
 * A queued notification carries a MAC (migration 038) of what decides whether and when it is sent:
 * its id (since 045: the row the dispatcher leases, sends and records the attempt on), its client
 * and transaction id (together its Gerbang-Event-Id and its body's sealed place, unique in the
 * outbox), its state, attempts and next attempt time; and every change of one (queued, each
 * attempt, refused) is recorded with the MAC it leaves (record-changes.ts). A row held back or sent
 * again in SQL (deleted, set DELIVERED or FAILED, its next attempt moved, set back to PENDING, its
 * attempts reset, inserted back, its id changed) either fails its MAC or is not its latest state:
 * never signed nor sent, and `audit verify` names it, or names it deleted. The id is known once the
 * row is inserted: the row is given its MAC then, in the same transaction (RowChanges.insert,
 * `generatedId`), as a payment event's link is written after its insert; each change record names
 * the id too (record_changes.row_id), so an id changed is named with the one it had. Not covered, as they
 * decide nothing: the queued URL (never used: the endpoint is read at sending), the last status
 * and error (words for a person), the times of the row and the lease (a lease further ahead than
 * Gerbang grants is not honoured: claimDue).
 */
export const CALLBACK_DELIVERIES: MacedTable = {
  table: 'callback_deliveries',
  purpose: 'callback delivery',
  key: ['client_id', 'transaction_id'],
  generatedId: 'id',
  columns: 'id, client_id, transaction_id, state, attempts, next_attempt_at, mac_key_id, mac',
  fields: (row) => [Number(row.id), String(row.client_id), String(row.transaction_id), String(row.state), Number(row.attempts), Number(row.next_attempt_at)],
  describe: (row) => `callback_deliveries id ${String(row.id)} (client ${String(row.client_id)}, transactionId ${String(row.transaction_id)})`,
  covers: 'its id, client, transaction id, state, attempts or next attempt time',
  frequent: true,
};

/**
 * What a delivery's MAC covered from migration 038 to 045 (its id left out, nor named by its
 * change records): what 038 keys the deliveries stored before it under, and what 045 reads, giving
 * each delivery that holds under it, as its latest state, the MAC covering its id.
 */
export const PRE_045_DELIVERIES: MacedTable = {
  table: CALLBACK_DELIVERIES.table,
  purpose: CALLBACK_DELIVERIES.purpose,
  key: CALLBACK_DELIVERIES.key,
  columns: CALLBACK_DELIVERIES.columns,
  describe: CALLBACK_DELIVERIES.describe,
  frequent: true,
  fields: (row, sealer) => CALLBACK_DELIVERIES.fields(row, sealer).slice(1),
  covers: 'its client, transaction id, state, attempts or next attempt time',
};

/**
 * A lease further ahead than a claim of now could have set, with a minute of margin for the other
 * nodes' clocks, was not set by Gerbang (a writer holding a delivery back): not honoured.
 */
export const LEASE_CLOCK_MARGIN_MS = 60_000;

/** A notification to queue: the client's endpoint and the transfer's answer, as the ERP gets it. */
type QueuedNotification = { clientId: string; transactionId: string; url: string; body: string };

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

  /** Queued with its MAC and change record (CALLBACK_DELIVERIES), on this process's audit chain. */
  async enqueue(delivery: QueuedNotification, now: number): Promise<void> {
    try {
      await changeRows(this.chain, this.sealer, now, (rows) => rows.insert(CALLBACK_DELIVERIES, this.queuedRow(delivery, now)), { checkpoint: !CALLBACK_DELIVERIES.frequent });
    } catch (error) {
      // Settled twice (a late bank answer and the resolver): one notification is enough.
      if (!(error instanceof UniqueViolationError)) throw error;
    }
  }

  /**
   * In one transaction: the delivery's row read, locked (FOR UPDATE on MySQL/MariaDB, node-local on
   * Galera, whose certification conflicts the transaction path runs again; SQLite's transactions
   * are serialized), and judged against its latest change record whose link holds; one that does
   * not hold is deleted (by its key, id and MAC as read, with its record), and the delivery queued
   * again as enqueue queues it (a new id, its own record after the deletion's): a delivery deleted
   * in SQL is queued again the same way. Two requeues at once: the second reads, once the first
   * commits, the row the first queued (it holds: refused), or its insert meets that row (refused:
   * queued meanwhile); never the first's fresh row deleted. With `judgeOnly` nothing is written:
   * what was found is returned (`queued` false), for a requeue refused once the delivery is judged
   * (it was delivered before: requeueCallback). Nor while its row is leased to a process (one
   * may be sending it: refused, naming when the lease ends). With `attemptsAudited`, nothing is written either
   * when the delivery's change records whose link holds record more attempts (recordAttempt's
   * updates) than its audit holds records of: one was deleted, and it may have been delivered
   * (`attemptsRecorded` says how many; with `queueUnaudited`, queued all the same, and said).
   */
  async requeue(delivery: QueuedNotification, now: number, options: { judgeOnly?: boolean; countAttempts?: boolean; attemptsAudited?: number; queueUnaudited?: boolean } = {}): Promise<{ found: string; queued: boolean; id?: number; attemptsRecorded?: number } | { notRequeued: string }> {
    const key = [delivery.clientId, delivery.transactionId];
    const what = `the delivery of client ${delivery.clientId}, transactionId ${delivery.transactionId}`;
    try {
      return await changeRows(this.chain, this.sealer, now, async (rows) => {
        const row = await this.deliveryRow(rows.tx, delivery.clientId, delivery.transactionId, { lock: true });
        // Judged as audit verify judges it: a change record inserted in SQL (unlinked) does not make a genuine row, a delivered one, look forged.
        const found = await verifiedRowProblem(rows.tx, CALLBACK_DELIVERIES, key, row, this.sealer);
        if (found === null) return { notRequeued: row ? `${what} holds (it is ${String(row.state)} as Gerbang left it)` : `${what} was never queued (or Gerbang deleted it)` };
        if (options.judgeOnly && !options.countAttempts) return { found, queued: false };
        // Each attempt recordAttempt wrote is an update record of the delivery's own history (a queued one deleted and queued again included).
        const recorded = options.attemptsAudited === undefined ? 0 : await trustedChangesOf(rows.tx, CALLBACK_DELIVERIES, key, 'update', this.sealer.keyRing);
        const unaudited = options.attemptsAudited !== undefined && recorded > options.attemptsAudited ? { attemptsRecorded: recorded } : {};
        if (options.judgeOnly || ('attemptsRecorded' in unaudited && !options.queueUnaudited)) return { found, queued: false, ...unaudited };
        // A process may be sending it now (its row changed in SQL since its claim): replaced, it would be sent twice. A row refused as it stands is leased by no one (claimDue).
        if (row && row.lease_owner !== null && row.lease_until !== null && toNumber(row.lease_until as number) > now) {
          return { notRequeued: `${what} is leased to ${String(row.lease_owner)} until ${new Date(toNumber(row.lease_until as number)).toISOString()} (a process may be sending it now); run it again after then` };
        }
        if (row && (await rows.delete(CALLBACK_DELIVERIES, 'client_id = ? AND transaction_id = ? AND id = ? AND (mac = ? OR (mac IS NULL AND ? IS NULL))', [...key, row.id, row.mac, row.mac])) !== 1) {
          return { notRequeued: `${what} changed while it was queued again (another requeue?); run it again` };
        }
        const id = await rows.insert(CALLBACK_DELIVERIES, this.queuedRow(delivery, now));
        return { found, queued: true, id, ...unaudited };
      });
    } catch (error) {
      if (!(error instanceof UniqueViolationError)) throw error;
      return { notRequeued: `${what} was queued meanwhile (by another requeue, at the same time)` };
    }
  }

  /** A delivery as enqueue writes it: its body sealed for its place, PENDING, no attempts, due `now`. */
  private queuedRow(delivery: QueuedNotification, now: number): Record<string, SqlValue> {
    const body = this.sealer.seal(delivery.body, place('callback_deliveries', 'body', [delivery.clientId, delivery.transactionId]));
    return { client_id: delivery.clientId, transaction_id: delivery.transactionId, url: delivery.url, body, key_id: this.sealer.keyRing.currentKeyId, state: 'PENDING', attempts: 0, next_attempt_at: now, created_at: now, updated_at: now };
  }

  async claimDue(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<(CallbackDelivery | RefusedCallback)[]> {
    const { owner, now, leaseMs } = options;
    // A lease beyond what a claim grants was written by someone else than Gerbang: claimed over.
    const forgedLease = now + leaseMs + LEASE_CLOCK_MARGIN_MS;
    const candidates = await this.db.query<{ id: number | string; lease_until: number | string | null }>(
      "SELECT id, lease_until FROM callback_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ? OR lease_until > ?) ORDER BY id LIMIT ?",
      [now, now, forgedLease, Math.max(1, Math.min(Math.trunc(options.limit), 100))],
    );
    const claimed: (CallbackDelivery | RefusedCallback)[] = [];
    for (const { id, lease_until: leaseUntil } of candidates) {
      const won = await this.db.execute("UPDATE callback_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ? AND state = 'PENDING' AND (lease_until IS NULL OR lease_until <= ? OR lease_until > ?)", [
        owner,
        now + leaseMs,
        toNumber(id),
        now,
        forgedLease,
      ]);
      if (won.affectedRows !== 1) continue;
      if (leaseUntil !== null && toNumber(leaseUntil) > forgedLease) log.error({ deliveryId: toNumber(id), leaseUntil: toNumber(leaseUntil) }, 'queued callback was leased further ahead than Gerbang leases (written in SQL): claimed over');
      // The delivery's and the endpoint's latest change records with them, in the same statement (one snapshot).
      const own = withLatestRecord(CALLBACK_DELIVERIES, 'd', { dialect: this.db.dialect, column: ['d.client_id', 'd.transaction_id'] }, 'd');
      const latest = withLatestRecord(CALLBACK_ENDPOINTS, 'c', { dialect: this.db.dialect, column: 'c.client_id' });
      const rows = await this.db.query<MacedRow & { url: string; body: string; registered: string | null; registered_by: string | null; registered_mac_key_id: string | null; registered_mac: string | null } & LatestRecordColumns>(
        `SELECT ${own.columns}, d.url, d.body, c.url AS registered, c.client_id AS registered_by, c.mac_key_id AS registered_mac_key_id, c.mac AS registered_mac, ${latest.recordColumns} FROM callback_deliveries d ` +
          `${own.join} LEFT JOIN client_callbacks c ON c.client_id = d.client_id ${latest.join} WHERE d.id = ? AND d.lease_owner = ?`,
        [...own.params, ...latest.params, toNumber(id), owner],
      );
      const row = rows[0];
      if (!row) continue;
      const clientId = String(row.client_id);
      const transactionId = String(row.transaction_id);
      // Its own row first: not Gerbang's latest state (altered, written back, inserted back), it is
      // neither sent nor written (which would record it as Gerbang's), left for verify to name.
      const heldBack = this.deliveryProblem(row);
      if (heldBack !== null) {
        // A digest, not the values: they are the writer's, of any size (SQLite enforces no column width), and a process remembers up to 20,000 of them.
        const asFound = createHash('sha256').update(JSON.stringify([toNumber(row.id), ...CALLBACK_DELIVERIES.fields(row, this.sealer), row.mac_key_id, row.mac, heldBack])).digest('base64');
        // Kept leased (claimed again once the lease ends), but by no process: nothing sends it, so a requeue may replace it meanwhile.
        await this.releaseLease(toNumber(row.id), owner);
        claimed.push({ id: toNumber(row.id), clientId, transactionId, refused: heldBack, leftAsIs: true, asFound });
        continue;
      }
      // The URL is looked up again now: a delivery goes to the client's registered endpoint only,
      // never to a URL rewritten in the queued row. Never signed nor sent: a body not sealed for
      // this row (forged, moved), a client with no endpoint any more, or an endpoint whose MAC does
      // not hold (its URL rewritten in SQL) or that is not its latest state (an older one written
      // back): returned refused, for the dispatcher to mark and audit.
      const endpoint: MacedRow = { client_id: row.registered_by, url: row.registered, mac_key_id: row.registered_mac_key_id, mac: row.registered_mac };
      const refusal =
        row.registered === null
          ? 'the client has no registered callback endpoint'
          : currentRowProblem(CALLBACK_ENDPOINTS, endpoint, row, this.sealer);
      let body: string | null = null;
      try {
        body = this.sealer.open(row.body, place('callback_deliveries', 'body', [clientId, transactionId]));
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
      }
      const problem = refusal ?? (body === null ? 'the body failed its integrity check (not sealed for this delivery)' : null);
      if (problem !== null) {
        claimed.push({ id: toNumber(row.id), clientId, transactionId, refused: problem });
        continue;
      }
      if (row.registered !== row.url) log.warn({ deliveryId: toNumber(row.id), clientId }, 'queued callback URL differs from the registered endpoint: sent to the registered one');
      claimed.push({ id: toNumber(row.id), clientId, transactionId, url: row.registered!, body: body!, attempts: toNumber(row.attempts) });
    }
    return claimed;
  }

  async releaseLease(id: number, owner: string, until?: number): Promise<void> {
    await this.db.execute('UPDATE callback_deliveries SET lease_owner = NULL, lease_until = COALESCE(?, lease_until) WHERE id = ? AND lease_owner = ?', [until ?? null, id, owner]);
  }

  async overdue(now: number): Promise<OverdueCallbacks> {
    // One range of ix_callback_deliveries_due (state, next_attempt_at): the due rows only, however many were delivered.
    const [row] = await this.db.query<{ n: number | string; oldest: number | string | null }>(
      "SELECT COUNT(*) AS n, MIN(next_attempt_at) AS oldest FROM callback_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ?",
      [now],
    );
    return { count: toNumber(row?.n ?? 0), oldestDueAt: row?.oldest === null || row?.oldest === undefined ? null : toNumber(row.oldest) };
  }

  async leasedDue(options: { now: number; leaseMs: number; limit: number }): Promise<LeasedCallback[]> {
    const { now, leaseMs } = options;
    // The same range of ix_callback_deliveries_due as claimDue's, the leases it honours (the others it claims over).
    const rows = await this.db.query<{ id: number | string; client_id: string; transaction_id: string; attempts: number | string; next_attempt_at: number | string; lease_owner: string | null; lease_until: number | string }>(
      "SELECT id, client_id, transaction_id, attempts, next_attempt_at, lease_owner, lease_until FROM callback_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ? AND lease_until > ? AND lease_until <= ? ORDER BY next_attempt_at LIMIT ?",
      [now, now, now + leaseMs + LEASE_CLOCK_MARGIN_MS, Math.max(1, Math.min(Math.trunc(options.limit), 1_000))],
    );
    return rows.map((r) => ({
      id: toNumber(r.id), clientId: String(r.client_id), transactionId: String(r.transaction_id), attempts: toNumber(r.attempts), nextAttemptAt: toNumber(r.next_attempt_at),
      leaseOwner: r.lease_owner === null ? null : String(r.lease_owner), leaseUntil: toNumber(r.lease_until),
    }));
  }

  /** Why a delivery's row (read with its latest record as `d`) is not Gerbang's latest state of it, or null. */
  private deliveryProblem(row: MacedRow & Record<string, unknown>): string | null {
    try {
      return currentRowProblem(CALLBACK_DELIVERIES, row, latestRecordAs(row, 'd'), this.sealer);
    } catch (error) {
      // MACed or linked under a key the ring does not hold: nothing proves it, so it is not sent.
      if (error instanceof KeyRingError && error.reason === 'unknown-key') return `${CALLBACK_DELIVERIES.describe(row)} cannot be checked: ${error.message}`;
      throw error;
    }
  }

  /**
   * Written with its MAC and change record, over the row as this owner leased it, which must be
   * Gerbang's latest state of it (else IntegrityError naming it: changed in SQL since its claim,
   * nothing written). The row is read by the delivery's client and transaction id (its key), not
   * by the id it was claimed under: one whose id was changed in SQL since its claim is found, and
   * refused as its MAC (which covers the id) says, naming both ids; it stays as it is, refused by
   * every claim after (never sent a second time). Its lease columns are outside the MAC: a row
   * whose lease was cleared in SQL while it was sent is recorded all the same when it is, as its
   * MAC and latest record prove, what this owner claimed (its id, PENDING, `attempts` as claimed);
   * else it would stay PENDING and be sent again. Nothing is written when the lease was lost
   * meanwhile (its row deleted, replaced by a requeue, leased to another, or its attempt recorded by
   * the process that claimed it after this lease ended): false then, else true.
   */
  async recordAttempt(
    delivery: { id: number; clientId: string; transactionId: string; attempts?: number },
    owner: string,
    attempt: { state: 'DELIVERED' | 'PENDING' | 'FAILED'; status: number | null; error: string | null; nextAttemptAt: number },
    now: number,
  ): Promise<boolean> {
    return changeRows(
      this.chain,
      this.sealer,
      now,
      async (rows) => {
        const latest = withLatestRecord(CALLBACK_DELIVERIES, 'd', { dialect: this.db.dialect, column: ['d.client_id', 'd.transaction_id'] });
        const [row] = (
          await rows.tx.query<MacedRow & LatestRecordColumns>(`SELECT ${latest.columns}, d.lease_owner FROM callback_deliveries d ${latest.join} WHERE d.client_id = ? AND d.transaction_id = ?`, [
            ...latest.params,
            delivery.clientId,
            delivery.transactionId,
          ])
        ).filter((r) => r.client_id === delivery.clientId && r.transaction_id === delivery.transactionId);
        // Leased to another process (its claim after this lease ended): left to it, which sends and records it.
        if (!row || (row.lease_owner !== null && row.lease_owner !== owner)) return false;
        if (toNumber(row.id as number) !== delivery.id && recordMacProblem(CALLBACK_DELIVERIES, row, this.sealer) !== null) {
          throw new IntegrityError(`${CALLBACK_DELIVERIES.describe(row)} was claimed as id ${delivery.id}: its id was changed since (it no longer matches its MAC)`);
        }
        const current = checkedCurrent(CALLBACK_DELIVERIES, row, row, this.sealer);
        const cleared = row.lease_owner === null;
        // Its lease cleared (in SQL, or by a record of this attempt another process wrote): recorded only over the row as this owner claimed it.
        if (cleared && (toNumber(current.id as number) !== delivery.id || String(current.state) !== 'PENDING' || toNumber(current.attempts as number) !== delivery.attempts)) return false;
        const leased = cleared ? { sql: 'lease_owner IS NULL', values: [] } : { sql: 'lease_owner = ?', values: [owner] };
        const changes = {
          state: attempt.state, attempts: toNumber(current.attempts) + 1, last_status: attempt.status, last_error: attempt.error?.slice(0, 500) ?? null,
          next_attempt_at: attempt.nextAttemptAt, lease_owner: null, lease_until: null, updated_at: now,
        };
        if (!(await rows.update(CALLBACK_DELIVERIES, current, changes, 'update', leased))) throw new IntegrityError(`${CALLBACK_DELIVERIES.describe(current)} changed while its attempt was written: not recorded`);
        return true;
      },
      { checkpoint: !CALLBACK_DELIVERIES.frequent },
    );
  }

  /**
   * What is wrong with the delivery of `clientId`'s `transactionId`, judged as requeue and `audit
   * verify` judge it (verifiedRowProblem), nothing written nor locked: null when its row holds, or
   * when none was ever recorded. For a page that offers the requeue (the console's payment detail).
   * The row and its records read in one transaction (one snapshot), as verify reads them: an
   * attempt the dispatcher records between the two reads is not mistaken for a row written back.
   */
  async deliveryProblemOf(clientId: string, transactionId: string): Promise<string | null> {
    return this.db.withTransaction(async (tx) => verifiedRowProblem(tx, CALLBACK_DELIVERIES, [clientId, transactionId], await this.deliveryRow(tx, clientId, transactionId), this.sealer));
  }

  /**
   * The delivery row of `clientId`'s `transactionId` as requeue and deliveryProblemOf judge it
   * (its MACed columns and its lease), its key compared exactly (MariaDB's collation finds 'a '
   * for 'a'), or undefined. `lock`: read FOR UPDATE on MySQL/MariaDB, for requeue, which deletes
   * and replaces it in the same transaction; a page that only looks locks nothing.
   */
  private async deliveryRow(tx: Queryable, clientId: string, transactionId: string, options: { lock?: boolean } = {}): Promise<MacedRow | undefined> {
    const locked = options.lock && this.db.dialect === 'mysql' ? ' FOR UPDATE' : '';
    const rows = await tx.query<MacedRow>(`SELECT ${CALLBACK_DELIVERIES.columns}, lease_owner, lease_until FROM callback_deliveries WHERE client_id = ? AND transaction_id = ?${locked}`, [clientId, transactionId]);
    return rows.find((r) => r.client_id === clientId && r.transaction_id === transactionId);
  }
}
