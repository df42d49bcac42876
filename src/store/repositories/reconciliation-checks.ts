import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KeyRing } from '../../security/index.js';
import { paymentMacProblem, type MacedColumn, type PaymentRow } from './payment-repository.js';
import { paymentPlace, ValueSealer } from './sealed-values.js';

/** What a reconciliation checks of each payment it proves row by row (its proof columns, migrations 029, 030 and 032). */
export type CheckedRow = Pick<PaymentRow, 'id' | 'source_account' | MacedColumn>;

/**
 * Each row's paying account opened for its row, and whether its MAC holds. A value that does not
 * open is null and a MAC that cannot be checked (its key not configured) does not hold: the caller
 * checks those rows again in place, where the error or the problem is named (they are the rare ones).
 */
export interface RowChecks {
  accounts: (string | null)[];
  macHolds: boolean[];
}

export function checkRows(ring: KeyRing, rows: readonly CheckedRow[]): RowChecks {
  const sealer = new ValueSealer(ring);
  const accounts: (string | null)[] = [];
  const macHolds: boolean[] = [];
  for (const row of rows) {
    try {
      accounts.push(sealer.open(row.source_account, paymentPlace('source_account', row)));
    } catch {
      accounts.push(null);
    }
    try {
      macHolds.push(paymentMacProblem(ring, row) === null);
    } catch {
      macHolds.push(false);
    }
  }
  return { accounts, macHolds };
}

/** Below this many rows the checks run in the caller's thread: a day of a busy account costs less than the messages. */
const PARALLEL_FROM = 2_000;

/** One worker thread and the requests it has not answered yet. */
interface CheckWorker {
  worker: Worker;
  pending: Map<number, { resolve: (checks: RowChecks) => void; reject: (error: Error) => void }>;
}

/**
 * The checks of a long reconciliation (a month of a busy account: tens of thousands of AES-GCM
 * openings and HMACs, most of its time) shared between the caller's thread and a small, fixed
 * number of worker threads (one less than the cores, at most two; none on one core), started on
 * first use and ended by close() with the store.
 *
 * The workers hold a copy of the key ring (KeyRing.keysForWorkerThread): they are threads of the
 * same process, whose memory already holds the keys, and they open values for it alone; nothing
 * leaves the process, and opened accounts are only handed back, never kept. A worker that fails
 * fails the reconciliation that asked (the page shows an error), never a check skipped.
 */
export class ReconciliationChecks {
  readonly #workers: CheckWorker[] = [];
  #asked = 0;
  #closed = false;

  constructor(
    private readonly ring: KeyRing,
    private readonly size = Math.min(2, availableParallelism() - 1),
  ) {}

  async check(rows: readonly CheckedRow[]): Promise<RowChecks> {
    if (rows.length < PARALLEL_FROM || this.size < 1 || this.#closed) return checkRows(this.ring, rows);
    const workers = this.#started();
    const share = Math.ceil(rows.length / (workers.length + 1));
    const theirs = workers.map((w, i) => this.#ask(w, rows.slice((i + 1) * share, (i + 2) * share)));
    // Settled before awaited, so a worker failing while this thread works is not an unhandled rejection.
    theirs.forEach((answer) => answer.catch(() => undefined));
    const parts = [checkRows(this.ring, rows.slice(0, share)), ...(await Promise.all(theirs))];
    return { accounts: parts.flatMap((p) => p.accounts), macHolds: parts.flatMap((p) => p.macHolds) };
  }

  /** Worker threads running now (started on the first long check, none after close()). */
  get threads(): number {
    return this.#workers.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.splice(0).map((w) => w.worker.terminate()));
  }

  #started(): CheckWorker[] {
    while (this.#workers.length < this.size) {
      const worker = new Worker(join(__dirname, 'reconciliation-checks-worker.js'), { workerData: { keys: this.ring.keysForWorkerThread(), setting: this.ring.setting } });
      const entry: CheckWorker = { worker, pending: new Map() };
      const fail = (error: Error) => {
        const at = this.#workers.indexOf(entry);
        if (at >= 0) this.#workers.splice(at, 1);
        for (const { reject } of entry.pending.values()) reject(error);
        entry.pending.clear();
      };
      worker.on('message', ({ id, checks }: { id: number; checks: RowChecks }) => {
        entry.pending.get(id)?.resolve(checks);
        entry.pending.delete(id);
        if (entry.pending.size === 0) worker.unref();
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`a reconciliation check worker stopped (exit code ${code})`)));
      // An idle worker keeps no process alive (close() ends it with the store); one that owes an
      // answer does (#ask): else a script whose only wait is that answer exits 0 half-way.
      worker.unref();
      this.#workers.push(entry);
    }
    return [...this.#workers];
  }

  #ask(entry: CheckWorker, rows: readonly CheckedRow[]): Promise<RowChecks> {
    const id = (this.#asked += 1);
    return new Promise((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.ref();
      entry.worker.postMessage({ id, rows });
    });
  }
}
