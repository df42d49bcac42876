import { createHash } from 'node:crypto';
import { AppError } from '../../errors/index.js';
import type { ExchangeAudit } from '../../audit/index.js';
import { UniqueViolationError, type BatchLineRecord, type PaymentRepository, type TransferBatchRecord, type TransferBatchRepository } from '../../store/types.js';
import { currentResult } from '../transfers/settlement.js';
import type { TransferResult } from '../transfers/transfer-result.js';
import type { BatchRequest } from './batch-schema.js';

export interface BatchDeps {
  batches: TransferBatchRepository;
  payments: PaymentRepository;
  clock: () => number;
  /** Tells the batch processor there is work (it also polls). */
  wake: () => void;
}

export interface BatchLineView {
  line: number;
  transactionId: string;
  /** QUEUED (not paid yet), SUBMITTED (paid: see result) or REJECTED (not paid: see error). */
  state: BatchLineRecord['state'];
  result: TransferResult | null;
  error: Record<string, unknown> | null;
}

export interface BatchView {
  batchId: string;
  state: TransferBatchRecord['state'];
  lineCount: number;
  /** Lines by processing state, and paid lines by transfer status (the latest, in-doubt ones resolved). */
  progress: { queued: number; submitted: number; rejected: number };
  createdAt: string;
  updatedAt: string;
  lines: BatchLineView[];
  /** Set when more lines follow: ask again with `afterLine`. */
  nextAfterLine: number | null;
}

/**
 * Takes a payment run: stored whole (every line already validated) before it is answered, then
 * paid line by line in the background. (client, batchId) is the run's idempotency key: the
 * same run again answers its state, a different run under the same id 422.
 */
export async function submitBatch(deps: BatchDeps, clientId: string, request: BatchRequest, audit: ExchangeAudit): Promise<{ view: BatchView; replayed: boolean }> {
  audit.set({ clientId, transactionId: request.batchId });
  await audit.open();
  const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  let batch: TransferBatchRecord;
  let replayed = false;
  try {
    batch = await deps.batches.create(
      {
        clientId,
        batchId: request.batchId,
        requestHash,
        lines: request.transfers.map((t) => ({
          transactionId: t.transactionId,
          requestJson: JSON.stringify(t),
          sourceAccount: t.sourceAccountNumber ?? '',
          beneficiaryAccount: t.beneficiaryAccountNumber,
        })),
      },
      deps.clock(),
    );
    deps.wake();
  } catch (error) {
    if (!(error instanceof UniqueViolationError)) throw error;
    const existing = await deps.batches.find(clientId, request.batchId);
    if (!existing) throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This batchId is being stored; retry shortly.', { headers: { 'Retry-After': '1' } });
    if (existing.requestHash !== requestHash) {
      throw new AppError('IDEMPOTENCY_MISMATCH', 'This batchId was already used for a different payment run; use a new batchId.', {
        fields: [{ field: 'batchId', message: 'already used with different lines' }],
      });
    }
    batch = existing;
    replayed = true;
  }
  return { view: await view(deps, batch, 0, 0), replayed };
}

/** A run's progress and a page of its lines; another client's run is NOT_FOUND, as one that does not exist. */
export async function getBatch(deps: BatchDeps, clientId: string, batchId: string, afterLine: number, limit: number): Promise<BatchView> {
  const batch = await deps.batches.find(clientId, batchId);
  if (!batch) throw new AppError('NOT_FOUND', `No payment run ${batchId} for this client.`);
  return view(deps, batch, afterLine, limit);
}

async function view(deps: BatchDeps, batch: TransferBatchRecord, afterLine: number, limit: number): Promise<BatchView> {
  const counts = await deps.batches.counts(batch.id);
  const lines = limit > 0 ? await deps.batches.lines(batch.id, afterLine, limit) : [];
  const views: BatchLineView[] = [];
  for (const line of lines) views.push(await lineView(deps, batch.clientId, line));
  const last = lines.at(-1)?.lineNo ?? afterLine;
  return {
    batchId: batch.batchId,
    state: batch.state,
    lineCount: batch.lineCount,
    progress: { queued: counts.QUEUED, submitted: counts.SUBMITTED, rejected: counts.REJECTED },
    createdAt: new Date(batch.createdAt).toISOString(),
    updatedAt: new Date(batch.updatedAt).toISOString(),
    lines: views,
    nextAfterLine: limit > 0 && last < batch.lineCount ? last : null,
  };
}

/** A paid line shows its transfer's latest state: one in doubt then may have been settled since. */
async function lineView(deps: BatchDeps, clientId: string, line: BatchLineRecord): Promise<BatchLineView> {
  const base = { line: line.lineNo, transactionId: line.transactionId, state: line.state };
  if (line.state === 'REJECTED') return { ...base, result: null, error: JSON.parse(line.resultJson ?? '{}') as Record<string, unknown> };
  if (line.state === 'QUEUED') return { ...base, result: null, error: null };
  let result = JSON.parse(line.resultJson ?? 'null') as TransferResult | null;
  if (!result || result.status === 'UNKNOWN' || result.status === 'PENDING') {
    const payment = await deps.payments.find(clientId, line.transactionId);
    if (payment) result = currentResult(payment, deps.clock());
  }
  return { ...base, result, error: null };
}
