import { IntegrityError } from '../../errors/index.js';
import type { KeyRing } from '../../security/index.js';
import type { BatchLineRecord, BatchLineState, Db, NewTransferBatch, Queryable, TransferBatchRecord, TransferBatchRepository } from '../types.js';
import { maskAccount } from './audit-records.js';
import { checkedRow, recordMac, recordMacProblem, type MacedRow, type MacedTable } from './record-macs.js';
import { toNumber, toNumberOrNull, toStringOrNull } from './row-values.js';
import { KEY_ID_AFTER_PARTIAL_WRITE, place, ValueSealer } from './sealed-values.js';

export const BATCH_COLUMNS = 'id, client_id, batch_id, request_hash, line_count, state, created_at, updated_at';

/** A line's run, read with it (correlated by the run's primary key), for its MAC. */
const RUN_OF_LINE = (column: string, as: string) => `(SELECT b.${column} FROM transfer_batches b WHERE b.id = transfer_batch_lines.batch_pk) AS ${as}`;

/**
 * Payment-run lines carry a MAC of the key ring (migration 033, record-macs.ts): over their run
 * (client, batchId, line count), their place in it, their transaction id, state, HTTP status and
 * answer, so a line turned REJECTED, given another line's transaction id, moved to another run or
 * cut from it in SQL is refused where it is read (500 AUDIT_INTEGRITY) and named by `audit verify`.
 * The gateway writes each line with its MAC; `keys rotate` renews it.
 */
export const BATCH_LINES: MacedTable = {
  table: 'transfer_batch_lines',
  purpose: 'payment run line',
  key: ['batch_pk', 'line_no'],
  columns:
    'batch_pk, line_no, transaction_id, request_json, state, http_status, result_json, key_id, mac_key_id, mac, ' +
    `${RUN_OF_LINE('client_id', 'run_client_id')}, ${RUN_OF_LINE('batch_id', 'run_batch_id')}, ${RUN_OF_LINE('line_count', 'run_line_count')}`,
  fields: (row, sealer) => lineFields(
    { clientId: toStringOrNull(row.run_client_id), batchId: toStringOrNull(row.run_batch_id), lineCount: toNumberOrNull(row.run_line_count), id: toNumber(row.batch_pk) },
    { lineNo: toNumber(row.line_no), transactionId: String(row.transaction_id), state: String(row.state), httpStatus: toNumberOrNull(row.http_status), resultJson: sealer.open(toStringOrNull(row.result_json), linePlace(toNumber(row.batch_pk), toNumber(row.line_no), 'result_json')) },
  ),
  describe: (row) => `transfer_batch_lines line ${toNumber(row.line_no)} of run ${String(row.run_batch_id ?? '(deleted)')} (batch_pk ${toNumber(row.batch_pk)}, client ${String(row.run_client_id ?? '?')}, transaction ${String(row.transaction_id)})`,
  covers: 'its run, line number, transaction id, state, HTTP status or answer',
};

/** What a line's MAC covers, in its order. */
function lineFields(
  run: { clientId: string | null; batchId: string | null; lineCount: number | null; id: number },
  line: { lineNo: number; transactionId: string; state: string; httpStatus: number | null; resultJson: string | null },
): readonly unknown[] {
  return [run.clientId, run.batchId, run.lineCount, run.id, line.lineNo, line.transactionId, line.state, line.httpStatus, line.resultJson];
}

function linePlace(batchPk: number, lineNo: number, column: 'request_json' | 'result_json') {
  return place('transfer_batch_lines', column, [batchPk, lineNo]);
}

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

type LineRow = MacedRow & {
  batch_pk: number | string;
  line_no: number | string;
  transaction_id: string;
  request_json: string;
  state: BatchLineState;
  http_status: number | string | null;
  result_json: string | null;
  key_id: string | null;
  run_client_id: string | null;
  run_batch_id: string | null;
  run_line_count: number | string | null;
};

/**
 * Payment runs and their lines (see sql/*\/006_transfer_batches.sql). A line's request (accounts,
 * beneficiary name, remark) and its result are sealed with the key ring (migration 009); its
 * accounts are also kept masked (`******5680`), clear and searchable like the audit's. Every line
 * carries its MAC (BATCH_LINES, migration 033) and is read only through it: a line, or a run's
 * counts, that cannot be proved is IntegrityError, never reported.
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
        const run = { clientId: batch.clientId, batchId: batch.batchId, lineCount: batch.lines.length, id };
        const values = chunk.flatMap(([lineNo, transactionId, requestJson, ...rest]) => {
          const mac = this.lineMac(run, { lineNo: lineNo as number, transactionId: transactionId as string, state: 'QUEUED', httpStatus: null, resultJson: null });
          return [id, lineNo, transactionId, this.sealer.seal(requestJson as string, linePlace(id, lineNo as number, 'request_json')), ...rest, 'QUEUED', now, mac.keyId, mac.mac];
        });
        await tx.execute(
          'INSERT INTO transfer_batch_lines (batch_pk, line_no, transaction_id, request_json, source_account, beneficiary_account, key_id, state, updated_at, mac_key_id, mac) ' +
            `VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
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
      `SELECT ${BATCH_LINES.columns} FROM transfer_batch_lines WHERE batch_pk = ? AND state = 'QUEUED' AND line_no > ? ORDER BY line_no LIMIT ?`,
      [batchPk, afterLineNo, limit],
    );
    return rows.map((row) => this.toLine(row));
  }

  async lines(batchPk: number, afterLineNo: number, limit: number): Promise<BatchLineRecord[]> {
    const rows = await this.db.query<LineRow>(`SELECT ${BATCH_LINES.columns} FROM transfer_batch_lines WHERE batch_pk = ? AND line_no > ? ORDER BY line_no LIMIT ?`, [
      batchPk,
      afterLineNo,
      limit,
    ]);
    // Lines are numbered 1 to the run's count: a number skipped is a line deleted.
    rows.forEach((row, i) => {
      if (toNumber(row.line_no) !== afterLineNo + 1 + i) throw new IntegrityError(`transfer_batch_lines line ${afterLineNo + 1 + i} of batch_pk ${batchPk} was deleted`);
    });
    return rows.map((row) => this.toLine(row));
  }

  async recordLine(
    batch: Pick<TransferBatchRecord, 'id' | 'clientId' | 'batchId' | 'lineCount'>,
    line: Pick<BatchLineRecord, 'lineNo' | 'transactionId'>,
    outcome: { state: BatchLineState; httpStatus: number | null; resultJson: string | null },
    now: number,
  ): Promise<void> {
    const mac = this.lineMac(batch, { ...line, ...outcome });
    await this.db.execute(
      // The request stays as it was sealed, maybe under an older key: see KEY_ID_AFTER_PARTIAL_WRITE.
      `UPDATE transfer_batch_lines SET state = ?, http_status = ?, result_json = ?, key_id = ${KEY_ID_AFTER_PARTIAL_WRITE}, updated_at = ?, mac_key_id = ?, mac = ? ` +
        'WHERE batch_pk = ? AND line_no = ? AND transaction_id = ?',
      [
        outcome.state, outcome.httpStatus, this.sealer.seal(outcome.resultJson, linePlace(batch.id, line.lineNo, 'result_json')), this.sealer.keyRing.currentKeyId, now,
        mac.keyId, mac.mac, batch.id, line.lineNo, line.transactionId,
      ],
    );
  }

  /** Counted from every line of the run, each proved by its MAC, and all of them there: IntegrityError else. */
  async counts(batchPk: number): Promise<Record<BatchLineState, number>> {
    const rows = await this.db.query<LineRow>(`SELECT ${BATCH_LINES.columns} FROM transfer_batch_lines WHERE batch_pk = ? ORDER BY line_no`, [batchPk]);
    const counts: Record<BatchLineState, number> = { QUEUED: 0, SUBMITTED: 0, REJECTED: 0 };
    for (const row of rows) counts[checkedRow(BATCH_LINES, row, this.sealer).state] += 1;
    const [run] = await this.db.query<{ line_count: number | string }>('SELECT line_count FROM transfer_batches WHERE id = ?', [batchPk]);
    const expected = run ? toNumber(run.line_count) : 0;
    if (rows.length !== expected) throw new IntegrityError(`batch_pk ${batchPk} has ${rows.length} of its ${expected} transfer_batch_lines: lines were deleted or added`);
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
      const found = await tx.query<LineRow>(
        `SELECT ${BATCH_LINES.columns} FROM transfer_batch_lines ` +
          "WHERE batch_pk IN (SELECT id FROM transfer_batches WHERE client_id = ?) AND state = 'SUBMITTED' AND http_status = 202 AND transaction_id = ?",
        [clientId, transactionId],
      );
      let queued = 0;
      for (const row of found) {
        // A line that does not hold its MAC is left as it is (never signed anew): reading it and `audit verify` name it.
        if (recordMacProblem(BATCH_LINES, row, this.sealer) !== null) continue;
        const run = { clientId: row.run_client_id, batchId: row.run_batch_id, lineCount: toNumberOrNull(row.run_line_count), id: toNumber(row.batch_pk) };
        const mac = this.lineMac(run, { lineNo: toNumber(row.line_no), transactionId: row.transaction_id, state: 'QUEUED', httpStatus: null, resultJson: null });
        queued += (
          await tx.execute("UPDATE transfer_batch_lines SET state = 'QUEUED', http_status = NULL, result_json = NULL, updated_at = ?, mac_key_id = ?, mac = ? WHERE batch_pk = ? AND line_no = ? AND mac = ?", [
            now, mac.keyId, mac.mac, row.batch_pk, row.line_no, row.mac,
          ])
        ).affectedRows;
      }
      if (queued === 0) return 0;
      // A run being paid now keeps its lease: its finish sees the queued line and leaves it QUEUED.
      await tx.execute(
        "UPDATE transfer_batches SET state = 'QUEUED', updated_at = ? WHERE client_id = ? AND state = 'DONE' " +
          "AND EXISTS (SELECT 1 FROM transfer_batch_lines l WHERE l.batch_pk = transfer_batches.id AND l.state = 'QUEUED' AND l.transaction_id = ?)",
        [now, clientId, transactionId],
      );
      return queued;
    });
  }


  /** A line in clear; IntegrityError when it fails its MAC or a sealed value is not the one sealed for it. */
  private toLine(row: LineRow): BatchLineRecord {
    checkedRow(BATCH_LINES, row, this.sealer);
    const at = (column: 'request_json' | 'result_json') => linePlace(toNumber(row.batch_pk), toNumber(row.line_no), column);
    return {
      lineNo: toNumber(row.line_no),
      transactionId: row.transaction_id,
      requestJson: this.sealer.open(row.request_json, at('request_json')) ?? '',
      state: row.state,
      httpStatus: toNumberOrNull(row.http_status),
      resultJson: this.sealer.open(row.result_json, at('result_json')),
    };
  }

  private lineMac(
    run: { clientId: string | null; batchId: string | null; lineCount: number | null; id: number },
    line: { lineNo: number; transactionId: string; state: string; httpStatus: number | null; resultJson: string | null },
  ): { keyId: string; mac: string } {
    return recordMac(this.sealer.keyRing, BATCH_LINES.purpose, lineFields(run, line));
  }
}

/**
 * The lines of every run, each against its MAC and each run against its count: the problems in
 * words, for `audit verify` (a line deleted is named by its run; one altered, moved or inserted by itself).
 */
export async function batchLineProblems(db: Queryable, sealer: ValueSealer, page = 500): Promise<{ altered: string[]; deleted: string[] }> {
  const altered: string[] = [];
  let position: [number, number] = [0, 0];
  for (;;) {
    const rows = await db.query<LineRow>(
      `SELECT ${BATCH_LINES.columns} FROM transfer_batch_lines WHERE batch_pk > ? OR (batch_pk = ? AND line_no > ?) ORDER BY batch_pk, line_no LIMIT ?`,
      [position[0], position[0], position[1], page],
    );
    for (const row of rows) {
      const problem = recordMacProblem(BATCH_LINES, row, sealer);
      if (problem !== null) altered.push(problem);
    }
    if (rows.length < page) break;
    const last = rows[rows.length - 1];
    position = [toNumber(last.batch_pk), toNumber(last.line_no)];
  }
  const short = await db.query<{ id: number | string; client_id: string; batch_id: string; line_count: number | string; n: number | string }>(
    'SELECT b.id, b.client_id, b.batch_id, b.line_count, COUNT(l.line_no) AS n FROM transfer_batches b LEFT JOIN transfer_batch_lines l ON l.batch_pk = b.id ' +
      'GROUP BY b.id, b.client_id, b.batch_id, b.line_count HAVING COUNT(l.line_no) < b.line_count ORDER BY b.id',
  );
  const deleted = short.map((r) => `${toNumber(r.line_count) - toNumber(r.n)} of the ${toNumber(r.line_count)} transfer_batch_lines of run ${r.batch_id} (batch_pk ${toNumber(r.id)}, client ${r.client_id}) were deleted`);
  return { altered, deleted };
}

/** `keys rotate`: each line whose MAC holds under an older ring key gets the newest key's, guarded by the MAC read. */
export async function resignBatchLines(db: Queryable, sealer: ValueSealer, page = 500): Promise<number> {
  const ring = sealer.keyRing;
  let resigned = 0;
  let position: [number, number] = [0, 0];
  for (;;) {
    // A page at a time: a store keeps every run's lines.
    const rows = await db.query<LineRow>(
      `SELECT ${BATCH_LINES.columns} FROM transfer_batch_lines WHERE mac_key_id <> ? AND (batch_pk > ? OR (batch_pk = ? AND line_no > ?)) ORDER BY batch_pk, line_no LIMIT ?`,
      [ring.currentKeyId, position[0], position[0], position[1], page],
    );
    for (const row of rows) {
      // A line that does not hold, or whose key is gone, is left for `audit verify` to name.
      if (!ring.keyIds.includes(String(row.mac_key_id)) || recordMacProblem(BATCH_LINES, row, sealer) !== null) continue;
      const { keyId, mac } = recordMac(ring, BATCH_LINES.purpose, BATCH_LINES.fields(row, sealer));
      resigned += (await db.execute('UPDATE transfer_batch_lines SET mac_key_id = ?, mac = ? WHERE batch_pk = ? AND line_no = ? AND mac = ?', [keyId, mac, row.batch_pk, row.line_no, row.mac])).affectedRows;
    }
    if (rows.length < page) return resigned;
    const last = rows[rows.length - 1];
    position = [toNumber(last.batch_pk), toNumber(last.line_no)];
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


