import type { Db, PaymentRecord, PaymentRepository, PaymentState, PaymentUpdate } from '../types.js';
import { num, numOrNull, strOrNull, toMinorUnits } from './sql-helpers.js';

const COLUMNS =
  'id, client_id, transaction_id, request_hash, state, bank, operation, bank_transaction_id, bank_transaction_date, bank_reference, amount, currency, result_json, http_status, created_at, updated_at';

const UPDATABLE: Record<keyof PaymentUpdate, string> = {
  state: 'state',
  bank: 'bank',
  operation: 'operation',
  bankTransactionId: 'bank_transaction_id',
  bankTransactionDate: 'bank_transaction_date',
  bankReference: 'bank_reference',
  resultJson: 'result_json',
  httpStatus: 'http_status',
};

function toRecord(row: Record<string, unknown>): PaymentRecord {
  return {
    id: num(row.id),
    clientId: String(row.client_id),
    transactionId: String(row.transaction_id),
    requestHash: String(row.request_hash),
    state: row.state as PaymentState,
    bank: strOrNull(row.bank),
    operation: strOrNull(row.operation),
    bankTransactionId: strOrNull(row.bank_transaction_id),
    bankTransactionDate: strOrNull(row.bank_transaction_date),
    bankReference: strOrNull(row.bank_reference),
    amount: String(row.amount),
    currency: String(row.currency),
    resultJson: strOrNull(row.result_json),
    httpStatus: numOrNull(row.http_status),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export function paymentRepository(db: Db): PaymentRepository {
  return {
    async reserve(payment, now) {
      const { insertId } = await db.execute(
        `INSERT INTO payments (client_id, transaction_id, request_hash, state, amount, amount_minor, currency, created_at, updated_at)
         VALUES (?, ?, ?, 'RECEIVED', ?, ?, ?, ?, ?)`,
        [payment.clientId, payment.transactionId, payment.requestHash, payment.amount, toMinorUnits(payment.amount), payment.currency, now, now],
      );
      return {
        id: insertId,
        ...payment,
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
      };
    },
    async find(clientId, transactionId) {
      const rows = await db.query(`SELECT ${COLUMNS} FROM payments WHERE client_id = ? AND transaction_id = ?`, [clientId, transactionId]);
      return rows[0] ? toRecord(rows[0]) : null;
    },
    async update(id, update, now) {
      const entries = (Object.keys(update) as (keyof PaymentUpdate)[]).filter((key) => update[key] !== undefined);
      const sets = entries.map((key) => `${UPDATABLE[key]} = ?`);
      const values = entries.map((key) => update[key] as string | number | null);
      await db.execute(`UPDATE payments SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE id = ?`, [...values, now, id]);
    },
    async release(id) {
      const result = await db.execute("DELETE FROM payments WHERE id = ? AND state IN ('RECEIVED', 'SENDING')", [id]);
      return result.affectedRows === 1;
    },
  };
}
