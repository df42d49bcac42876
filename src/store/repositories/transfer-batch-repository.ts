import type { KeyRing } from '../../security/index.js';
import type { BatchLineRecord, BatchLineState, Db, NewTransferBatch, TransferBatchRecord, TransferBatchRepository } from '../types.js';
import { maskAccount } from './audit-records.js';
import { toNumber } from './row-values.js';
import { KEY_ID_AFTER_PARTIAL_WRITE, place, ValueSealer } from './sealed-values.js';

export const BATCH_COLUMNS = 'id, client_id, batch_id, request_hash, line_count, state, created_at, updated_at';
const LINE_COLUMNS = 'line_no, transaction_id, request_json, state, http_status, result_json, key_id';
/** Lines per INSERT: 1,000 lines are 5 statements, each well under any packet limit. */
const INSERT_CHUNK = 200;

export interface BatchRow {
  id: number | string;
  client_id: string;
  batch_id: string;
  request_hash: string;
  line_count: number | string;
  state: TransferBatchRecord['state'];
  created_at: number | string;
  updated_at: number | string;
}

interface LineRow {
  line_no: number | string;
  transaction_id: string;
  request_json: string;
  state: BatchLineState;
  http_status: number | string | null;
  result_json: string | null;
  key_id: string | null;
}

/**
 * Payment runs and their lines (see sql/*\/006_transfer_batches.sql). A line's request (accounts,
 * beneficiary name, remark) and its result are sealed with the key ring (migration 009); its
 * accounts are also kept masked (`******5680`), clear and searchable like the audit's.
 */
export class SqlTransferBatchRepository implements TransferBatchRepository {
  private readonly sealer: ValueSealer;

  constructor(
    private readonly db: Db,
    keys: KeyRing | null = null,
  ) {
    this.sealer = new ValueSealer(keys);
  }

  async create(batch: NewTransferBatch, now: number): Promise<TransferBatchRecord> {
    const keyId = this.sealer.keyRing.currentKeyId;
    const lines = batch.lines.map((line, i) => [
      i + 1,
      line.transactionId,
      line.requestJson,
      maskAccount(line.sourceAccount),
      maskAccount(line.beneficiaryAccount),
      keyId,
    ]);
    return this.db.withTransaction(async (tx) => {
      const inserted = await tx.execute(
        "INSERT INTO transfer_batches (client_id, batch_id, request_hash, line_count, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'QUEUED', ?, ?)",
        [batch.clientId, batch.batchId, batch.requestHash, batch.lines.length, now, now],
      );
      const id = inserted.insertId;
      for (let start = 0; start < lines.length; start += INSERT_CHUNK) {
        const chunk = lines.slice(start, start + INSERT_CHUNK);
        // A line's request is sealed for its place: the run's id (known only now) and its line number.
        const values = chunk.flatMap(([lineNo, transactionId, requestJson, ...rest]) => [
          id,
          lineNo,
          transactionId,
          this.sealer.seal(requestJson as string, place('transfer_batch_lines', 'request_json', [id, lineNo as number])),
          ...rest,
          'QUEUED',
          now,
        ]);
        await tx.execute(
          'INSERT INTO transfer_batch_lines (batch_pk, line_no, transaction_id, request_json, source_account, beneficiary_account, key_id, state, updated_at) ' +
            `VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          values,
        );
      }
      return { id, clientId: batch.clientId, batchId: batch.batchId, requestHash: batch.requestHash, lineCount: batch.lines.length, state: 'QUEUED', createdAt: now, updatedAt: now };
    });
  }

  async find(clientId: string, batchId: string): Promise<TransferBatchRecord | null> {
    const rows = await this.db.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM transfer_batches WHERE client_id = ? AND batch_id = ?`, [clientId, batchId]);
    return rows[0] ? toBatch(rows[0]) : null;
  }

  async claimDue(options: { owner: string; now: number; leaseMs: number; limit: number }): Promise<TransferBatchRecord[]> {
    const { owner, now, leaseMs } = options;
    const candidates = await this.db.query<{ id: number | string }>(
      "SELECT id FROM transfer_batches WHERE state IN ('QUEUED', 'PROCESSING') AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?",
      [now, Math.max(1, Math.min(Math.trunc(options.limit), 100))],
    );
    const claimed: TransferBatchRecord[] = [];
    for (const { id } of candidates) {
      // The conditional UPDATE is the lease: of several processes racing for the row, one wins.
      const won = await this.db.execute(
        "UPDATE transfer_batches SET state = 'PROCESSING', lease_owner = ?, lease_until = ?, updated_at = ? WHERE id = ? AND state <> 'DONE' AND (lease_until IS NULL OR lease_until <= ?)",
        [owner, now + leaseMs, now, toNumber(id), now],
      );
      if (won.affectedRows !== 1) continue;
      const rows = await this.db.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM transfer_batches WHERE id = ? AND lease_owner = ?`, [toNumber(id), owner]);
      if (rows[0]) claimed.push(toBatch(rows[0]));
    }
    return claimed;
  }

  async renewLease(id: number, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const result = await this.db.execute('UPDATE transfer_batches SET lease_until = ?, updated_at = ? WHERE id = ? AND lease_owner = ?', [now + leaseMs, now, id, owner]);
    return result.affectedRows === 1;
  }

  async queuedLines(batchPk: number, afterLineNo: number, limit: number): Promise<BatchLineRecord[]> {
    const rows = await this.db.query<LineRow>(
      `SELECT ${LINE_COLUMNS} FROM transfer_batch_lines WHERE batch_pk = ? AND state = 'QUEUED' AND line_no > ? ORDER BY line_no LIMIT ?`,
      [batchPk, afterLineNo, limit],
    );
    return rows.map((row) => this.toLine(batchPk, row));
  }

  async lines(batchPk: number, afterLineNo: number, limit: number): Promise<BatchLineRecord[]> {
    const rows = await this.db.query<LineRow>(`SELECT ${LINE_COLUMNS} FROM transfer_batch_lines WHERE batch_pk = ? AND line_no > ? ORDER BY line_no LIMIT ?`, [
      batchPk,
      afterLineNo,
      limit,
    ]);
    return rows.map((row) => this.toLine(batchPk, row));
  }

  async recordLine(batchPk: number, lineNo: number, outcome: { state: BatchLineState; httpStatus: number | null; resultJson: string | null }, now: number): Promise<void> {
    await this.db.execute(
      // The request stays as it was sealed, maybe under an older key: see KEY_ID_AFTER_PARTIAL_WRITE.
      `UPDATE transfer_batch_lines SET state = ?, http_status = ?, result_json = ?, key_id = ${KEY_ID_AFTER_PARTIAL_WRITE}, updated_at = ? WHERE batch_pk = ? AND line_no = ?`,
      [outcome.state, outcome.httpStatus, this.sealer.seal(outcome.resultJson, place('transfer_batch_lines', 'result_json', [batchPk, lineNo])), this.sealer.keyRing.currentKeyId, now, batchPk, lineNo],
    );
  }

  async counts(batchPk: number): Promise<Record<BatchLineState, number>> {
    const rows = await this.db.query<{ state: BatchLineState; n: number | string }>('SELECT state, COUNT(*) AS n FROM transfer_batch_lines WHERE batch_pk = ? GROUP BY state', [batchPk]);
    const counts: Record<BatchLineState, number> = { QUEUED: 0, SUBMITTED: 0, REJECTED: 0 };
    for (const row of rows) counts[row.state] = toNumber(row.n);
    return counts;
  }

  async finish(id: number, owner: string, now: number): Promise<void> {
    await this.db.execute(
      "UPDATE transfer_batches SET state = CASE WHEN EXISTS (SELECT 1 FROM transfer_batch_lines l WHERE l.batch_pk = transfer_batches.id AND l.state = 'QUEUED') THEN 'QUEUED' ELSE 'DONE' END, " +
        'lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?',
      [now, id, owner],
    );
  }

  async requeueReleased(clientId: string, transactionId: string, now: number): Promise<number> {
    return this.db.withTransaction(async (tx) => {
      const lines = await tx.execute(
        "UPDATE transfer_batch_lines SET state = 'QUEUED', http_status = NULL, result_json = NULL, updated_at = ? " +
          "WHERE batch_pk IN (SELECT id FROM transfer_batches WHERE client_id = ?) AND state = 'SUBMITTED' AND http_status = 202 AND transaction_id = ?",
        [now, clientId, transactionId],
      );
      if (lines.affectedRows === 0) return 0;
      // A run being paid now keeps its lease: its finish sees the queued line and leaves it QUEUED.
      await tx.execute(
        "UPDATE transfer_batches SET state = 'QUEUED', updated_at = ? WHERE client_id = ? AND state = 'DONE' " +
          "AND EXISTS (SELECT 1 FROM transfer_batch_lines l WHERE l.batch_pk = transfer_batches.id AND l.state = 'QUEUED' AND l.transaction_id = ?)",
        [now, clientId, transactionId],
      );
      return lines.affectedRows;
    });
  }


  /** A line in clear; IntegrityError when a sealed value is not the one sealed for it. */
  private toLine(batchPk: number, row: LineRow): BatchLineRecord {
    const at = (column: string) => place('transfer_batch_lines', column, [batchPk, toNumber(row.line_no)]);
    return {
      lineNo: toNumber(row.line_no),
      transactionId: row.transaction_id,
      requestJson: this.sealer.open(row.request_json, at('request_json')) ?? '',
      state: row.state,
      httpStatus: row.http_status === null ? null : toNumber(row.http_status),
      resultJson: this.sealer.open(row.result_json, at('result_json')),
    };
  }
}

export function toBatch(row: BatchRow): TransferBatchRecord {
  return {
    id: toNumber(row.id),
    clientId: row.client_id,
    batchId: row.batch_id,
    requestHash: row.request_hash,
    lineCount: toNumber(row.line_count),
    state: row.state,
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}


