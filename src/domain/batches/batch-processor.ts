import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isAppError, type AppError } from '../../errors/index.js';
import { getLogger } from '../../log/index.js';
import { InternalAuditTrail } from '../../audit/index.js';
import type { AuditRepository, BatchLineRecord, TransferBatchRecord, TransferBatchRepository } from '../../store/types.js';
import { PeriodicTask } from '../periodic-task.js';
import { createTransfer, type CreateTransferDeps } from '../transfers/create-transfer-use-case.js';
import { currentResult } from '../transfers/settlement.js';
import type { TransferRequest } from '../transfers/transfer-schema.js';

const log = getLogger('batches');

export interface BatchProcessorOptions {
  /** How often each process looks for runs with work left; 0: only when woken. */
  intervalMs: number;
  /** Lines of one run paid at the same time. */
  concurrency: number;
  /** How long a claimed run stays leased to this process between renewals. */
  leaseMs?: number;
  /** After the bank or the store was unavailable, how long the run waits before its next try. */
  retryDelayMs?: number;
}

export interface BatchProcessorDeps extends CreateTransferDeps {
  batches: TransferBatchRepository;
  audit: AuditRepository;
  /** Why no line may be paid now (the store is behind its audit checkpoints), or null. */
  held?: () => string | null;
}

/** Errors that mean "nothing was paid, try this line again later" rather than a refusal of the line. */
const TRANSIENT = new Set(['BANK_UNAVAILABLE', 'STORE_UNAVAILABLE', 'INTERNAL_ERROR']);

/**
 * Pays the lines of stored payment runs, in every API process. The store leases a run to one
 * process at a time (renewed as it goes; another process takes it over if this one dies). Lines
 * are read a page at a time and paid with bounded concurrency, each through the transfer use
 * case under its own transactionId, so a line paid before a crash is a replay, never a second
 * payment. Memory holds one page, whatever the run's size.
 */
export class BatchProcessor {
  readonly owner = `${hostname().slice(0, 30)}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly task: PeriodicTask;

  constructor(private readonly deps: BatchProcessorDeps, private readonly options: BatchProcessorOptions) {
    this.task = new PeriodicTask('batches', options.intervalMs, () => this.runOnce());
  }

  start(): void {
    this.task.start();
  }

  /** Work arrived: run a pass soon. */
  wake(): void {
    this.task.wake();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass: claims runs with work left and pays their lines. Returns the lines handled. */
  async runOnce(): Promise<number> {
    // A database rolled back may have forgotten lines already paid: nothing is paid from it.
    if (this.deps.held?.()) return 0;
    const leaseMs = this.options.leaseMs ?? 60_000;
    const batches = await this.deps.batches.claimDue({ owner: this.owner, now: this.deps.clock(), leaseMs, limit: 10 });
    let handled = 0;
    for (const batch of batches) handled += await this.process(batch, leaseMs);
    return handled;
  }

  private async process(batch: TransferBatchRecord, leaseMs: number): Promise<number> {
    const page = Math.max(this.options.concurrency * 4, 20);
    let afterLine = 0;
    let handled = 0;
    for (;;) {
      if (this.task.stopped) return handled;
      const lines = await this.deps.batches.queuedLines(batch.id, afterLine, page);
      if (lines.length === 0) {
        await this.deps.batches.finish(batch.id, this.owner, this.deps.clock());
        log.info({ batchId: batch.batchId, clientId: batch.clientId }, 'payment run done');
        return handled;
      }
      const outcomes = await mapBounded(lines, this.options.concurrency, (line) => this.payLine(batch, line));
      handled += outcomes.filter((o) => o === 'done').length;
      afterLine = lines.at(-1)!.lineNo;
      if (outcomes.includes('retry')) {
        // The bank or the store is unavailable: leave the rest queued and come back later.
        await this.deps.batches.renewLease(batch.id, this.owner, this.deps.clock(), this.options.retryDelayMs ?? 30_000);
        return handled;
      }
      if (!(await this.deps.batches.renewLease(batch.id, this.owner, this.deps.clock(), leaseMs))) return handled;
    }
  }

  /** Pays one line; 'retry' leaves it queued for a later pass. */
  private async payLine(batch: TransferBatchRecord, line: BatchLineRecord): Promise<'done' | 'retry'> {
    const request = JSON.parse(line.requestJson) as TransferRequest;
    const audit = new InternalAuditTrail(this.deps.audit, { method: 'BATCH-LINE', path: `/v1/transfer-batches/${batch.batchId}/lines/${line.lineNo}`, requestBody: request }, this.deps.clock);
    const now = () => this.deps.clock();
    try {
      const reply = await createTransfer(this.deps, request, { clientId: batch.clientId, audit });
      await this.deps.batches.recordLine(batch, line, { state: 'SUBMITTED', httpStatus: reply.httpStatus, resultJson: JSON.stringify(reply.result) }, now());
      await audit.finish(reply.httpStatus, reply.result);
      return 'done';
    } catch (error) {
      if (!isAppError(error)) {
        log.error({ err: error, batchId: batch.batchId, line: line.lineNo }, 'payment run line failed unexpectedly; it will be retried');
        await audit.finish(500, { code: 'INTERNAL_ERROR' }, 'INTERNAL_ERROR');
        return 'retry';
      }
      if (error.code === 'IDEMPOTENCY_IN_FLIGHT') {
        // Sent before a crash (or by the ERP directly) and not settled yet: the resolver owns it now.
        // Or a reservation left behind in the review queue: released there, this line is queued
        // again (TransferBatchRepository.requeueReleased) and paid by a later pass.
        const payment = await this.deps.payments.find(batch.clientId, request.transactionId);
        if (payment) {
          const result = currentResult(payment, now());
          await this.deps.batches.recordLine(batch, line, { state: 'SUBMITTED', httpStatus: 202, resultJson: JSON.stringify(result) }, now());
          await audit.finish(202, result);
          return 'done';
        }
      }
      await audit.finish(error.status, problem(error), error.code);
      if (TRANSIENT.has(error.code)) return 'retry';
      await this.deps.batches.recordLine(batch, line, { state: 'REJECTED', httpStatus: error.status, resultJson: JSON.stringify(problem(error)) }, now());
      return 'done';
    }
  }
}

function problem(error: AppError): Record<string, unknown> {
  return { code: error.code, status: error.status, detail: error.message, ...(error.fields.length > 0 ? { errors: error.fields } : {}), ...error.extensions };
}

/** Maps `items` with at most `limit` running at once, results in order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}
