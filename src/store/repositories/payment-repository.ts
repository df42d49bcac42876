import type { KeyRing } from '../../security/index.js';
import type { Db, InDoubtState, NewPayment, PaymentDetails, PaymentRecord, PaymentRepository, PaymentState, PaymentUpdate, SqlValue } from '../types.js';
import { amountMinor } from './amount-minor.js';
import { toNumber, toNumberOrNull, toStringOrNull } from './row-values.js';
import { maskAccount } from './audit-records.js';
import { KEY_ID_AFTER_PARTIAL_WRITE, ValueSealer, type ValueOpener } from './sealed-values.js';

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
}

/** Every column a PaymentRecord is read from (shared with the console's search). */
export const PAYMENT_COLUMNS =
  'id, client_id, transaction_id, request_hash, state, bank, operation, bank_transaction_id, bank_transaction_date, ' +
  'bank_reference, amount, currency, result_json, http_status, created_at, updated_at, check_attempts, not_found_count, next_check_at, key_id, ' +
  'details_json, beneficiary_account, beneficiary_bank';

export function parseDetails(text: string | null): PaymentDetails | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as PaymentDetails;
    return value !== null && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
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
};

/** States in which the bank has certainly not been asked to move the money. */
const RELEASABLE: PaymentState[] = ['RECEIVED', 'SENDING'];

/** A stored payment in clear: its answer (result_json, sealed since migration 009) opened with `opener`. */
export function toPaymentRecord(row: PaymentRow, opener: ValueOpener): PaymentRecord {
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
    resultJson: opener.open(toStringOrNull(row.result_json), toStringOrNull(row.key_id)),
    httpStatus: toNumberOrNull(row.http_status),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
    checkAttempts: toNumber(row.check_attempts),
    notFoundCount: toNumber(row.not_found_count),
    nextCheckAt: toNumberOrNull(row.next_check_at),
    details: parseDetails(opener.open(toStringOrNull(row.details_json), toStringOrNull(row.key_id))),
    beneficiaryAccountMasked: toStringOrNull(row.beneficiary_account),
    beneficiaryBank: toStringOrNull(row.beneficiary_bank),
  };
}

/**
 * Payments keyed by (clientId, transactionId): the idempotency record of every transfer. The
 * UNIQUE key, not a read-then-insert, decides which of two concurrent requests owns the id.
 * The answer kept for replays and status reads (result_json: the bank's message can quote
 * anything) is sealed with the key ring; everything else is clear and searchable.
 */
export class SqlPaymentRepository implements PaymentRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  /** Inserts in state RECEIVED. Throws UniqueViolationError when (clientId, transactionId) exists. */
  async reserve(payment: NewPayment, now: number): Promise<PaymentRecord> {
    const details = payment.details ?? null;
    const result = await this.db.execute(
      'INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at, key_id, ' +
        'details_json, beneficiary_account, beneficiary_bank) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      // The details (if any) are sealed with the current key, so the row is under it (null for a store without keys).
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
        details ? this.sealer.seal(JSON.stringify(details)) : null,
        details ? maskAccount(details.beneficiaryAccount) : null,
        details ? details.beneficiaryBankCode.trim().toUpperCase().slice(0, 16) : null,
      ],
    );
    return {
      id: result.insertId,
      clientId: payment.clientId,
      transactionId: payment.transactionId,
      requestHash: payment.requestHash,
      amount: payment.amount,
      currency: payment.currency,
      details,
      beneficiaryAccountMasked: details ? maskAccount(details.beneficiaryAccount) : null,
      beneficiaryBank: details ? details.beneficiaryBankCode.trim().toUpperCase().slice(0, 16) : null,
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

  async find(clientId: string, transactionId: string): Promise<PaymentRecord | null> {
    const rows = await this.db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE client_id = ? AND transaction_id = ?`, [clientId, transactionId]);
    return rows.length > 0 ? toPaymentRecord(rows[0], this.sealer) : null;
  }

  /** Sets the given fields (undefined ones are left alone) and updated_at; a result is sealed, and the row's key id with it. */
  async update(id: number, update: PaymentUpdate, now: number): Promise<boolean> {
    const assignments: string[] = [];
    const params: SqlValue[] = [];
    for (const [field, column] of Object.entries(UPDATABLE) as [Exclude<keyof PaymentUpdate, 'resultJson'>, string][]) {
      const value = update[field];
      if (value === undefined) continue;
      assignments.push(`${column} = ?`);
      params.push(value);
    }
    if (update.resultJson !== undefined) {
      // details_json was sealed at reserve: if under another key (the ring changed in between),
      // the row's key id becomes NULL ("several keys") so `keys rotate` re-seals it whole.
      assignments.push('result_json = ?', `key_id = ${KEY_ID_AFTER_PARTIAL_WRITE}`);
      params.push(this.sealer.seal(update.resultJson), this.sealer.currentKeyId);
    }
    assignments.push('updated_at = ?');
    params.push(now, id);
    return (await this.db.execute(`UPDATE payments SET ${assignments.join(', ')} WHERE id = ?`, params)).affectedRows === 1;
  }

  async releaseStale(id: number, staleBefore: number): Promise<boolean> {
    const result = await this.db.execute("DELETE FROM payments WHERE id = ? AND state = 'RECEIVED' AND updated_at <= ?", [id, staleBefore]);
    return result.affectedRows === 1;
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
    await this.db.execute(
      'UPDATE payments SET state = ?, check_attempts = ?, not_found_count = ?, next_check_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? ' +
        // Never over a final state another process wrote meanwhile (the bank's answer arrived late).
        "WHERE id = ? AND lease_owner = ? AND state IN ('SENDING', 'UNKNOWN', 'PENDING')",
      [check.state, check.checkAttempts, check.notFoundCount, check.nextCheckAt, now, id, owner],
    );
  }

  async releaseLease(id: number, owner: string): Promise<void> {
    await this.db.execute('UPDATE payments SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?', [id, owner]);
  }

  async countInDoubt(): Promise<Record<InDoubtState, number>> {
    // Served by ix_payments_state_created_at: one index range per state, however large the table.
    const rows = await this.db.query<{ state: string; n: number | string }>(
      "SELECT state, COUNT(*) AS n FROM payments WHERE state IN ('SENDING', 'UNKNOWN', 'PENDING') GROUP BY state",
    );
    const counts: Record<InDoubtState, number> = { SENDING: 0, UNKNOWN: 0, PENDING: 0 };
    for (const row of rows) counts[row.state as InDoubtState] = toNumber(row.n);
    return counts;
  }

  /** Deletes the reservation only while it is RECEIVED or SENDING; false otherwise. */
  async release(id: number): Promise<boolean> {
    const result = await this.db.execute(`DELETE FROM payments WHERE id = ? AND state IN (${RELEASABLE.map(() => '?').join(', ')})`, [id, ...RELEASABLE]);
    return result.affectedRows > 0;
  }
}
