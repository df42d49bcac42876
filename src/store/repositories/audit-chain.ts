import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AsyncMutex } from '../async-mutex.js';
import type { Db, Queryable, TransactionSession } from '../types.js';
import { toNumber } from './row-values.js';

/**
 * The audit's hash chains. Each writer (one store instance, i.e. one process) appends every
 * audit event it writes to its own chain in audit_chain:
 *
 *   hash = sha256(JSON [prev_hash, writer_id, seq, kind, record_id, recorded_at, content digest])
 *
 * with prev_hash the previous link's hash (64 zeros for seq 1) and the content digest of
 * audit-records.ts. audit_writers holds each chain's head (last seq and hash), so deleting the
 * newest record is noticed too. One chain per writer means no writer ever waits on another's
 * chain head: workers and nodes append in parallel; a MySQL-backed process keeps a few chains
 * (ChainLanes) so its own concurrent requests append in parallel too.
 *
 * An exchange is two events: `open` (committed before the bank is called) covers the fields
 * fixed at that moment, `complete` covers the final row. Recorded-whole exchanges are one
 * `record` event, bank calls one `bank_call` event.
 */

export const GENESIS = '0'.repeat(64);

export type LinkKind = 'open' | 'complete' | 'record' | 'bank_call';

export interface LinkFields {
  prevHash: string;
  writerId: string;
  seq: number;
  kind: LinkKind;
  recordId: number;
  recordedAt: number;
  contentDigest: string;
}

export function linkHash(l: LinkFields): string {
  return createHash('sha256')
    .update(JSON.stringify([l.prevHash, l.writerId, l.seq, l.kind, l.recordId, l.recordedAt, l.contentDigest]))
    .digest('hex');
}

/** A writer id: host, pid and a random part (a restarted process with a reused pid is a new writer). */
export function newWriterId(): string {
  return `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

interface Head {
  seq: number;
  hash: string;
}

export class ChainWriter {
  private readonly mutex = new AsyncMutex();
  /** Appends are serialised by the mutex, so they can share one session (no BEGIN, no pool trip). */
  private readonly session: TransactionSession;
  /** The chain head as committed; undefined until loaded (and after a failed append). */
  private head: Head | undefined;

  constructor(
    private readonly db: Db,
    readonly writerId: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.session = db.session();
  }

  /**
   * Runs `write` (which inserts or updates one record and returns its id and content digest)
   * and appends its link, in one transaction: the record and its link commit together or not
   * at all. After any failure the head is re-read from the database before the next append,
   * so an ambiguous commit cannot fork the chain.
   */
  async append(kind: LinkKind, write: (tx: Queryable) => Promise<{ recordId: number; contentDigest: string }>): Promise<number> {
    return this.mutex.runExclusive(async () => {
      try {
        const head = this.head ?? (await this.loadHead());
        const recordedAt = this.clock();
        const next = await this.session.run(async (tx) => {
          const { recordId, contentDigest } = await write(tx);
          const seq = head.seq + 1;
          const hash = linkHash({ prevHash: head.hash, writerId: this.writerId, seq, kind, recordId, recordedAt, contentDigest });
          await tx.execute(
            'INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
            [this.writerId, seq, kind, recordId, recordedAt, head.hash, hash],
          );
          await tx.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ?, updated_at = ? WHERE writer_id = ?', [seq, hash, recordedAt, this.writerId]);
          return { head: { seq, hash }, recordId };
        });
        this.head = next.head;
        return next.recordId;
      } catch (error) {
        this.head = undefined;
        throw error;
      }
    });
  }

  private async loadHead(): Promise<Head> {
    const rows = await this.db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [
      this.writerId,
    ]);
    if (rows.length > 0) return { seq: toNumber(rows[0].last_seq), hash: rows[0].last_hash };
    const now = this.clock();
    await this.db.execute('INSERT INTO audit_writers (writer_id, host, pid, started_at, last_seq, last_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      this.writerId,
      hostname().slice(0, 255),
      process.pid,
      now,
      0,
      GENESIS,
      now,
    ]);
    return { seq: 0, hash: GENESIS };
  }
}

/**
 * The chains of one process. On a pooled backend (MySQL) a process appends to several chains,
 * each to the chain with the fewest appends waiting, so concurrent requests of one worker do not
 * queue behind one chain head either; each chain still takes one link at a time. SQLite has one
 * connection per process, where one chain is as fast as several.
 */
export class ChainLanes {
  private readonly lanes: ChainWriter[];
  private readonly waiting: number[];

  constructor(db: Db, baseId: string, count: number) {
    this.lanes = Array.from({ length: count }, (_, i) => new ChainWriter(db, count === 1 ? baseId : `${baseId}-${i}`));
    this.waiting = this.lanes.map(() => 0);
  }

  async append(kind: LinkKind, write: (tx: Queryable) => Promise<{ recordId: number; contentDigest: string }>): Promise<number> {
    const lane = this.waiting.indexOf(Math.min(...this.waiting));
    this.waiting[lane] += 1;
    try {
      return await this.lanes[lane].append(kind, write);
    } finally {
      this.waiting[lane] -= 1;
    }
  }
}
