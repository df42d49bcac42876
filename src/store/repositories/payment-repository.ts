import { createHmac, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from '../../errors/index.js';
import type { KeyRing } from '../../security/index.js';
import type { Db, InDoubtState, InDoubtSummary, NewPayment, PaymentDetails, PaymentRecord, PaymentRepository, PaymentState, PaymentUpdate, Queryable, SqlValue } from '../types.js';
import type { ChainLanes, Written } from './audit-chain.js';
import { eventPlace, lastTrustedEvent, paymentEventDigest, paymentEventProblem, RELEASED, snapshotOfRow, type PaymentEventCause, type PaymentSnapshot } from './payment-events.js';
import { amountMinor } from './amount-minor.js';
import { toNumber, toNumberOrNull, toStringOrNull } from './row-values.js';
import { maskAccount } from './audit-records.js';
import { KEY_ID_AFTER_PARTIAL_WRITE, place, ValueSealer } from './sealed-values.js';
import { gramHashesOf, insertGrams } from './payment-search-grams.js';

export interface PaymentRow {
  id: number | string;
  client_id: string;
  transaction_id: string;
  request_hash: string;
  state: PaymentState;
  bank: string | null;
  operation: string | null;
  bank_transaction_id: string | null;
  bank_transaction_date: string | null;
  bank_reference: string | null;
  amount: string;
  currency: string;
  result_json: string | null;
  http_status: number | string | null;
  created_at: number | string;
  updated_at: number | string;
  check_attempts: number | string;
  not_found_count: number | string;
  next_check_at: number | string | null;
  key_id: string | null;
  details_json: string | null;
  beneficiary_account: string | null;
  beneficiary_bank: string | null;
  mac_key_id: string | null;
  mac: string | null;
  source_account: string | null;
  bank_external_id: string | null;
  review_since: number | string | null;
}

/** Every column a PaymentRecord is read from (shared with the console's search). */
export const PAYMENT_COLUMNS =
  'id, client_id, transaction_id, request_hash, state, bank, operation, bank_transaction_id, bank_transaction_date, ' +
  'bank_reference, amount, currency, result_json, http_status, created_at, updated_at, check_attempts, not_found_count, next_check_at, key_id, mac_key_id, mac, ' +
  'source_account, bank_external_id, review_since, details_json, beneficiary_account, beneficiary_bank';

export function parseDetails(text: string | null): PaymentDetails | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as PaymentDetails;
    return value !== null && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

/** What a payment's MAC key is derived for (KeyRing.macKey). */
const PAYMENT_PURPOSE = 'payment';
/** The key of the paying accounts' search tags (HKDF from the ring key: never the encryption key). */
const ACCOUNT_TAG_PURPOSE = 'payment account tag';

/** The fields fixed when a payment is reserved, which its MAC covers (the id is not known before the INSERT; the pair is unique). */
export interface PaymentFixed {
  clientId: string;
  transactionId: string;
  requestHash: string;
  amount: string;
  currency: string;
  createdAt: number;
}

/** HMAC-SHA256 of a payment's fixed fields under the ring's payment key `keyId` (the newest when omitted). */
export function paymentMac(ring: KeyRing, p: PaymentFixed, keyId?: string): { keyId: string; mac: string } {
  const { keyId: id, key } = ring.macKey(PAYMENT_PURPOSE, keyId);
  const text = JSON.stringify([p.clientId, p.transactionId, p.requestHash, p.amount, p.currency, p.createdAt]);
  return { keyId: id, mac: createHmac('sha256', key).update(text).digest('hex') };
}

/**
 * The keyed tag of a paying account (migration 022): HMAC-SHA256 under the ring's account-tag key
 * `keyId` (the newest when omitted), its first 128 bits in hex. Searchable in SQL, opaque without the key.
 */
export function accountTag(ring: KeyRing, account: string, keyId?: string): string {
  const { key } = ring.macKey(ACCOUNT_TAG_PURPOSE, keyId);
  return createHmac('sha256', key).update(account).digest('hex').slice(0, 32);
}

/** The problem with a payment row's MAC in words, or null when it matches. */
export function paymentMacProblem(ring: KeyRing, row: PaymentRow): string | null {
  if (row.mac === null || row.mac_key_id === null) return `payments id ${toNumber(row.id)} carries no MAC: it was not written by the gateway`;
  const expected = paymentMac(ring, fixedOf(row), row.mac_key_id).mac;
  if (expected.length !== row.mac.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(row.mac))) {
    return `payments id ${toNumber(row.id)} (${row.client_id} / ${row.transaction_id}) was altered: its client, transaction id, request hash, amount, currency or creation time no longer match its MAC`;
  }
  return null;
}

function fixedOf(row: PaymentRow): PaymentFixed {
  return { clientId: row.client_id, transactionId: row.transaction_id, requestHash: row.request_hash, amount: row.amount, currency: row.currency, createdAt: toNumber(row.created_at) };
}

/** PaymentUpdate field → column. The only column names an UPDATE is built from (result_json, sealed, is written apart). */
const UPDATABLE: Record<Exclude<keyof PaymentUpdate, 'resultJson'>, string> = {
  state: 'state',
  bank: 'bank',
  operation: 'operation',
  bankTransactionId: 'bank_transaction_id',
  bankTransactionDate: 'bank_transaction_date',
  bankReference: 'bank_reference',
  httpStatus: 'http_status',
  bankExternalId: 'bank_external_id',
};

/** States in which the bank has certainly not been asked to move the money. */
const RELEASABLE: PaymentState[] = ['RECEIVED', 'SENDING'];

/**
 * A stored payment in clear: its answer (result_json, sealed for its row) opened with `sealer`.
 * With `verified`, its MAC is checked first: IntegrityError (AUDIT_INTEGRITY) when it does not
 * match, so nothing is reported from a payment changed in the database.
 */
export function toPaymentRecord(row: PaymentRow, sealer: ValueSealer, verified = true): PaymentRecord {
  if (verified) {
    const problem = paymentMacProblem(sealer.keyRing, row);
    if (problem !== null) throw new IntegrityError(problem);
  }
  return {
    id: toNumber(row.id),
    clientId: row.client_id,
    transactionId: row.transaction_id,
    requestHash: row.request_hash,
    state: row.state,
    bank: toStringOrNull(row.bank),
    operation: toStringOrNull(row.operation),
    bankTransactionId: toStringOrNull(row.bank_transaction_id),
    bankTransactionDate: toStringOrNull(row.bank_transaction_date),
    bankReference: toStringOrNull(row.bank_reference),
    amount: row.amount,
    currency: row.currency,
    resultJson: sealer.open(toStringOrNull(row.result_json), place('payments', 'result_json', [toNumber(row.id)])),
    httpStatus: toNumberOrNull(row.http_status),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
    checkAttempts: toNumber(row.check_attempts),
    notFoundCount: toNumber(row.not_found_count),
    nextCheckAt: toNumberOrNull(row.next_check_at),
    sourceAccount: sealer.open(toStringOrNull(row.source_account), place('payments', 'source_account', [toNumber(row.id)])),
    bankExternalId: toStringOrNull(row.bank_external_id),
    reviewSince: toNumberOrNull(row.review_since),
    details: parseDetails(sealer.open(toStringOrNull(row.details_json), place('payments', 'details_json', [toNumber(row.id)]))),
    beneficiaryAccountMasked: toStringOrNull(row.beneficiary_account),
    beneficiaryBank: toStringOrNull(row.beneficiary_bank),
  };
}

/**
 * Payments keyed by (clientId, transactionId): the idempotency record of every transfer. The
 * UNIQUE key, not a read-then-insert, decides which of two concurrent requests owns the id.
 * The answer kept for replays and status reads (result_json: the bank's message can quote
 * anything), the paying account (source_account) and the details the finance console shows
 * (details_json) are sealed with the key ring; everything else is clear and searchable.
 */
export class SqlPaymentRepository implements PaymentRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
    /** The audit's keyed chains, which every state change of a payment is appended to (payment-events.ts). */
    private readonly chain: ChainLanes | null = null,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  /**
   * Runs `change` (a write of payment `id` returning whether it changed the row) and, when it did,
   * appends the payment's event in the same transaction, under a `payment_event` chain link.
   */
  private async changed(cause: PaymentEventCause, id: number, change: (tx: Queryable) => Promise<boolean>, now: number): Promise<boolean> {
    if (!this.chain) throw new Error('this store has no audit chain: payments cannot be written');
    const written = await this.chain.append('payment_event', async (tx) => ((await change(tx)) ? this.appendEvent(tx, cause, id, now) : null));
    return written !== null;
  }

  /** Inserts the event of payment `id` as the row now stands (`released`: the row that was deleted). */
  private async appendEvent(tx: Queryable, cause: PaymentEventCause, id: number, now: number, released?: PaymentRow): Promise<Written> {
    // The row as it now stands and the number of its last event, in one read.
    const lastSeq = '(SELECT MAX(e.seq) FROM payment_events e WHERE e.payment_id = ?) AS last_event_seq';
    const [read] = released
      ? await tx.query<{ last_event_seq: number | string | null }>(`SELECT ${lastSeq}`, [id])
      : await tx.query<PaymentRow & { last_event_seq: number | string | null }>(`SELECT ${PAYMENT_COLUMNS}, ${lastSeq} FROM payments WHERE id = ?`, [id, id]);
    if (!read) throw new Error(`payment ${id} vanished while its event was written`);
    const row = released ?? (read as PaymentRow & { last_event_seq: number | string | null });
    const result = this.sealer.open(toStringOrNull(row.result_json), place('payments', 'result_json', [id]));
    const snapshot: PaymentSnapshot = { ...snapshotOfRow(row, result), ...(released ? { state: RELEASED } : {}) };
    const seq = (read.last_event_seq === null ? 0 : toNumber(read.last_event_seq)) + 1;
    const { insertId } = await tx.execute(
      'INSERT INTO payment_events (payment_id, seq, cause, state, bank, operation, bank_transaction_id, bank_transaction_date, bank_reference, bank_external_id, ' +
        'http_status, review_since, result_json, recorded_at, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id, seq, cause, snapshot.state, snapshot.bank, snapshot.operation, snapshot.bankTransactionId, snapshot.bankTransactionDate, snapshot.bankReference,
        snapshot.bankExternalId, snapshot.httpStatus, snapshot.reviewSince, this.sealer.seal(result, eventPlace(id, seq)), now, this.sealer.currentKeyId,
      ],
    );
    return { recordId: insertId, contentDigest: paymentEventDigest({ id: insertId, paymentId: id, seq, cause, recordedAt: now, snapshot }) };
  }

  /**
   * A payment read for the API: its MAC (toPaymentRecord) and its current state against its last
   * event, itself checked against its chain link's MAC. IntegrityError (AUDIT_INTEGRITY) when
   * either does not hold, so a state written in SQL is never reported. Null when the payment was
   * released (deleted) while it was being read.
   */
  private async checkedRecord(row: PaymentRow): Promise<PaymentRecord | null> {
    const record = toPaymentRecord(row, this.sealer);
    if ((await this.historyProblem(this.db, row, record)) === null) return record;
    // The row and its history were read by two statements: another request moving this payment
    // on between them looks like a mismatch. Both are read again in one transaction, from one
    // snapshot; a state written in SQL without its event still does not match.
    return this.db.withTransaction(async (tx) => {
      const [fresh] = await tx.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [row.id]);
      if (!fresh) return null;
      const freshRecord = toPaymentRecord(fresh, this.sealer);
      const problem = await this.historyProblem(tx, fresh, freshRecord);
      if (problem !== null) throw new IntegrityError(problem);
      return freshRecord;
    });
  }

  /** What is wrong with the payment's history as `q` reads it, or null when its last event matches the row. */
  private async historyProblem(q: Queryable, row: PaymentRow, record: PaymentRecord): Promise<string | null> {
    const last = await lastTrustedEvent(q, this.sealer.keyRing, this.sealer, record.id);
    if (last === null) {
      const [since] = await q.query<{ since: number | string }>("SELECT since FROM chain_coverage WHERE records = 'payments'");
      if (since === undefined || record.createdAt >= toNumber(since.since)) return `payments id ${record.id} (${record.clientId} / ${record.transactionId}) has no event in its history: it was not written by the gateway`;
      return null;
    }
    if ('problem' in last) return last.problem;
    return paymentEventProblem({ id: record.id, clientId: record.clientId, transactionId: record.transactionId, snapshot: snapshotOfRow(row, record.resultJson) }, last);
  }

  /** Inserts in state RECEIVED. Throws UniqueViolationError when (clientId, transactionId) exists. */
  async reserve(payment: NewPayment, now: number): Promise<PaymentRecord> {
    const details = payment.details ?? null;
    const beneficiaryAccountMasked = details ? maskAccount(details.beneficiaryAccount) : null;
    const beneficiaryBank = details ? details.beneficiaryBankCode.trim().toUpperCase().slice(0, 16) : null;
    const { keyId, mac } = paymentMac(this.sealer.keyRing, { ...payment, createdAt: now });
    if (!this.chain) throw new Error('this store has no audit chain: payments cannot be written');
    let id = 0;
    await this.chain.append('payment_event', async (tx) => {
      id = await this.insertPayment(tx, payment, now, { keyId, mac, beneficiaryAccountMasked, beneficiaryBank, details });
      return this.appendEvent(tx, 'reserve', id, now);
    });
    return {
      id,
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      requestHash: payment.requestHash,
      amount: payment.amount,
      currency: payment.currency,
      sourceAccount: payment.sourceAccount ?? null,
      bankExternalId: null,
      reviewSince: null,
      details,
      beneficiaryAccountMasked,
      beneficiaryBank,
      state: 'RECEIVED',
      bank: null,
      operation: null,
      bankTransactionId: null,
      bankTransactionDate: null,
      bankReference: null,
      resultJson: null,
      httpStatus: null,
      createdAt: now,
      updatedAt: now,
      checkAttempts: 0,
      notFoundCount: 0,
      nextCheckAt: null,
    };
  }

  /** Inserts a payment in state RECEIVED with its sealed account and details, and returns its id. */
  private async insertPayment(
    tx: Queryable,
    payment: NewPayment,
    now: number,
    fixed: { keyId: string; mac: string; beneficiaryAccountMasked: string | null; beneficiaryBank: string | null; details: PaymentDetails | null },
  ): Promise<number> {
    const { keyId, mac, beneficiaryAccountMasked, beneficiaryBank, details } = fixed;
    const result = await tx.execute(
      'INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at, key_id, mac_key_id, mac, ' +
        'beneficiary_account, beneficiary_bank, search_key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      // Nothing is sealed yet: the row is under the current key.
      [
        payment.clientId,
        payment.transactionId,
        payment.requestHash,
        'RECEIVED',
        payment.amount,
        amountMinor(payment.amount),
        payment.currency,
        now,
        now,
        this.sealer.currentKeyId,
        keyId,
        mac,
        beneficiaryAccountMasked,
        beneficiaryBank,
        this.sealer.keyRing.currentKeyId,
      ],
    );
    // The paying account and the details are sealed for their row, whose id the INSERT has just
    // given: one UPDATE for both.
    const id = result.insertId;
    const sourceAccount = payment.sourceAccount || null;
    if (sourceAccount !== null || details !== null) {
      await tx.execute('UPDATE payments SET source_account = ?, source_account_tag = ?, details_json = ? WHERE id = ?', [
        this.sealer.seal(sourceAccount, place('payments', 'source_account', [id])),
        sourceAccount === null ? null : accountTag(this.sealer.keyRing, sourceAccount),
        this.sealer.seal(details === null ? null : JSON.stringify(details), place('payments', 'details_json', [id])),
        id,
      ]);
    }
    // The search's trigrams (migration 026) of what is known now, under the key named in search_key_id.
    const fields = { transactionId: payment.transactionId, beneficiaryName: details?.beneficiaryName, remark: details?.remark };
    await insertGrams(tx, [{ paymentId: id, hashes: gramHashesOf(this.sealer.keyRing, fields) }]);
    return id;
  }

  async find(clientId: string, transactionId: string): Promise<PaymentRecord | null> {
    const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE client_id = ? AND transaction_id = ?`, [clientId, transactionId]);
    return rows.length > 0 ? this.checkedRecord(rows[0]) : null;
  }

  /** Sets the given fields (undefined ones are left alone) and updated_at; a result is sealed, and the row's key id with it. */
  async update(id: number, update: PaymentUpdate, now: number): Promise<boolean> {
    return this.write('update', id, update, now, '');
  }

  async settle(id: number, update: PaymentUpdate & { state: 'SUCCESS' | 'FAILED' }, now: number): Promise<boolean> {
    // The state condition makes the first settlement win: a late one of another process changes nothing.
    return this.write('settle', id, update, now, ", review_since = NULL", " AND state IN ('SENDING', 'UNKNOWN', 'PENDING')");
  }

  async storeSendOutcome(id: number, update: PaymentUpdate, now: number): Promise<boolean> {
    const final = update.state === 'SUCCESS' || update.state === 'FAILED';
    return this.write('send', id, update, now, final ? ', review_since = NULL' : '', " AND state IN ('SENDING', 'UNKNOWN', 'PENDING')");
  }

  async enterReview(id: number, now: number): Promise<void> {
    await this.changed(
      'review',
      id,
      async (tx) => (await tx.execute("UPDATE payments SET review_since = ? WHERE id = ? AND review_since IS NULL AND state IN ('SENDING', 'UNKNOWN', 'PENDING')", [now, id])).affectedRows === 1,
      now,
    );
  }

  async listInReview(limit: number): Promise<PaymentRecord[]> {
    const rows = await this.db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE review_since IS NOT NULL AND state IN ('SENDING', 'UNKNOWN', 'PENDING') ORDER BY review_since, id LIMIT ?`,
      [Math.max(1, Math.min(Math.trunc(limit), 1000))],
    );
    return rows.map((row) => toPaymentRecord(row, this.sealer));
  }

  async findById(id: number): Promise<PaymentRecord | null> {
    const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
    return rows.length > 0 ? this.checkedRecord(rows[0]) : null;
  }

  async findByBankTransaction(bank: string, bankTransactionId: string): Promise<PaymentRecord | null> {
    const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE bank = ? AND bank_transaction_id = ?`, [bank, bankTransactionId]);
    return rows.length === 1 ? toPaymentRecord(rows[0], this.sealer) : null;
  }

  private async write(cause: PaymentEventCause, id: number, update: PaymentUpdate, now: number, extraSet: string, condition = ''): Promise<boolean> {
    const assignments: string[] = [];
    const params: SqlValue[] = [];
    for (const [field, column] of Object.entries(UPDATABLE) as [Exclude<keyof PaymentUpdate, 'resultJson'>, string][]) {
      const value = update[field];
      if (value === undefined) continue;
      assignments.push(`${column} = ?`);
      params.push(value);
    }
    if (update.resultJson !== undefined) {
      // source_account and details_json, sealed at reserve(), may be under an older key: the row keeps its key id
      // only while it is this one, else NULL so `keys rotate` seals the row whole.
      assignments.push('result_json = ?', `key_id = ${KEY_ID_AFTER_PARTIAL_WRITE}`);
      params.push(this.sealer.seal(update.resultJson, place('payments', 'result_json', [id])), this.sealer.currentKeyId);
    }
    assignments.push('updated_at = ?');
    params.push(now, id);
    // A bank id arriving is searchable from this write on: its trigrams join the payment's (migration 026).
    const bankIds = { bankReference: update.bankReference, bankTransactionId: update.bankTransactionId };
    const hashes = gramHashesOf(this.sealer.keyRing, bankIds);
    return this.changed(
      cause,
      id,
      async (tx) => {
        if ((await tx.execute(`UPDATE payments SET ${assignments.join(', ')}${extraSet} WHERE id = ?${condition}`, params)).affectedRows !== 1) return false;
        if (hashes.length > 0) await insertGrams(tx, [{ paymentId: id, hashes }], true);
        return true;
      },
      now,
    );
  }

  /** Deletes payment `id` when `condition` holds, with a RELEASED event (the row as it was): its history stays. */
  private async deleteWithEvent(id: number, condition: string, params: SqlValue[], now: number): Promise<boolean> {
    if (!this.chain) throw new Error('this store has no audit chain: payments cannot be written');
    const written = await this.chain.append('payment_event', async (tx) => {
      const [row] = await tx.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
      if (!row) return null;
      const deleted = await tx.execute(`DELETE FROM payments WHERE id = ? AND ${condition}`, [id, ...params]);
      if (deleted.affectedRows !== 1) return null;
      await tx.execute('DELETE FROM payment_search_grams WHERE payment_id = ?', [id]);
      return this.appendEvent(tx, 'release', id, now, row);
    });
    return written !== null;
  }

  async releaseStale(id: number, staleBefore: number): Promise<boolean> {
    return this.deleteWithEvent(id, "state = 'RECEIVED' AND updated_at <= ?", [staleBefore], Date.now());
  }

  async claimDue(options: { owner: string; now: number; leaseMs: number; sendingStaleBefore: number; limit: number }): Promise<PaymentRecord[]> {
    const { owner, now, leaseMs, sendingStaleBefore } = options;
    const limit = Math.max(1, Math.min(Math.trunc(options.limit), 500));
    const candidates = await this.db.query<{ id: number | string }>(
      'SELECT id FROM payments WHERE ' +
        "((state IN ('UNKNOWN', 'PENDING') AND (next_check_at IS NULL OR next_check_at <= ?)) OR (state = 'SENDING' AND updated_at <= ?)) " +
        'AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?',
      [now, sendingStaleBefore, now, limit],
    );
    const claimed: PaymentRecord[] = [];
    for (const { id } of candidates) {
      // The conditional UPDATE is the lease: of several processes racing for the row, one wins.
      const won = await this.db.execute('UPDATE payments SET lease_owner = ?, lease_until = ? WHERE id = ? AND (lease_until IS NULL OR lease_until <= ?)', [
        owner,
        now + leaseMs,
        toNumber(id),
        now,
      ]);
      if (won.affectedRows !== 1) continue;
      const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ? AND lease_owner = ?`, [toNumber(id), owner]);
      if (rows.length > 0) claimed.push(toPaymentRecord(rows[0], this.sealer));
    }
    return claimed;
  }

  async recordCheck(id: number, owner: string, check: { state: PaymentState; checkAttempts: number; notFoundCount: number; nextCheckAt: number }, now: number): Promise<void> {
    const update = async (tx: Queryable) =>
      (
        await tx.execute(
          'UPDATE payments SET state = ?, check_attempts = ?, not_found_count = ?, next_check_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? ' +
            // Never over a final state another process wrote meanwhile (the bank's answer arrived late).
            "WHERE id = ? AND lease_owner = ? AND state IN ('SENDING', 'UNKNOWN', 'PENDING')",
          [check.state, check.checkAttempts, check.notFoundCount, check.nextCheckAt, now, id, owner],
        )
      ).affectedRows === 1;
    await this.changed('check', id, update, now);
  }

  async releaseLease(id: number, owner: string): Promise<void> {
    await this.db.execute('UPDATE payments SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?', [id, owner]);
  }

  async renewLease(id: number, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const result = await this.db.execute('UPDATE payments SET lease_until = ? WHERE id = ? AND lease_owner = ?', [now + leaseMs, id, owner]);
    return result.affectedRows === 1;
  }

  async inDoubtSummary(): Promise<InDoubtSummary> {
    // Served by ix_payments_state_created_at: one index range per state, reading only the
    // payments in doubt, however large the table.
    const rows = await this.db.query<{ state: string; n: number | string; oldest: number | string | null }>(
      "SELECT state, COUNT(*) AS n, MIN(created_at) AS oldest FROM payments WHERE state IN ('SENDING', 'UNKNOWN', 'PENDING') GROUP BY state",
    );
    const states: InDoubtSummary['states'] = { SENDING: { count: 0, oldestCreatedAt: null }, UNKNOWN: { count: 0, oldestCreatedAt: null }, PENDING: { count: 0, oldestCreatedAt: null } };
    for (const row of rows) states[row.state as InDoubtState] = { count: toNumber(row.n), oldestCreatedAt: toNumberOrNull(row.oldest) };
    // Served by ix_payments_review_since: settling a payment clears review_since, so the range
    // holds the review queue only.
    const [review] = await this.db.query<{ n: number | string; oldest: number | string | null }>(
      "SELECT COUNT(*) AS n, MIN(review_since) AS oldest FROM payments WHERE review_since IS NOT NULL AND state IN ('SENDING', 'UNKNOWN', 'PENDING')",
    );
    return { states, review: { count: toNumber(review?.n ?? 0), oldestSince: toNumberOrNull(review?.oldest ?? null) } };
  }

  /** Deletes the reservation only while it is RECEIVED or SENDING; false otherwise. */
  async release(id: number): Promise<boolean> {
    return this.deleteWithEvent(id, `state IN (${RELEASABLE.map(() => '?').join(', ')})`, RELEASABLE, Date.now());
  }
}
