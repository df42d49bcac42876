import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { KeyRing } from '../../security/index.js';
import { hostname } from 'node:os';
import { AsyncMutex } from '../async-mutex.js';
import type { Db, Queryable, TransactionSession } from '../types.js';
import { toNumber } from './row-values.js';

/**
 * The audit's keyed chains. Each writer (one store instance, i.e. one process) appends every
 * audit event it writes to its own chain in audit_chain:
 *
 *   hash = HMAC-SHA256(chain key, JSON [prev_hash, writer_id, seq, kind, record_id, recorded_at, content digest])
 *
 * with prev_hash the previous link's hash (64 zeros for seq 1), the content digest of
 * audit-records.ts, and the chain key derived from a key-ring key (KeyRing.macKey; key_id names
 * it), which the database never holds: without it no one can append, alter or re-link a record
 * so that it verifies. Links from before migration 012 were plain SHA-256 (legacyLinkHash); the
 * migration re-linked the intact ones with the key. audit_writers holds each chain's head (last seq and hash), so deleting the
 * newest record is noticed too. One chain per writer means no writer ever waits on another's
 * chain head: workers and nodes append in parallel; a MySQL-backed process keeps a few chains
 * (ChainLanes) so its own concurrent requests append in parallel too.
 *
 * An exchange is two events: `open` (committed before the bank is called) covers the fields
 * fixed at that moment, `complete` covers the final row. Recorded-whole exchanges are one
 * `record` event, bank calls one `bank_call` event, a purge of anonymous rejected exchanges one
 * `purge` event (audit-purge.ts). Since migration 023 a `complete` link covers the exchange's
 * completion row (audit_completions), appended instead of an UPDATE; since 024 every change of a
 * payment's state appends a row of payment_events with a `payment_event` link (payment-repository.ts),
 * and every console audit entry has a `console_audit` link (console-audit-repository.ts).
 */

/** What a write appended under a link: the record's id and content digest. */
export type Written = { recordId: number; contentDigest: string };

export const GENESIS = '0'.repeat(64);

export type LinkKind = 'open' | 'complete' | 'record' | 'bank_call' | 'purge' | 'payment_event' | 'console_audit';

export interface LinkFields {
  prevHash: string;
  writerId: string;
  seq: number;
  kind: LinkKind;
  recordId: number;
  recordedAt: number;
  contentDigest: string;
}

/** What a chain key is derived for (KeyRing.macKey). */
export const CHAIN_PURPOSE = 'audit chain';

/** A link's MAC under the chain key `key` (KeyRing.macKey(CHAIN_PURPOSE, keyId)). */
export function linkHash(l: LinkFields, key: Buffer): string {
  return createHmac('sha256', key).update(linkText(l)).digest('hex');
}

/** A link as migration 003 made it (no key), checked once by migration 012 before re-linking. */
export function legacyLinkHash(l: LinkFields): string {
  return createHash('sha256').update(linkText(l)).digest('hex');
}

function linkText(l: LinkFields): string {
  return JSON.stringify([l.prevHash, l.writerId, l.seq, l.kind, l.recordId, l.recordedAt, l.contentDigest]);
}

/** A writer id: host, pid and a random part (a restarted process with a reused pid is a new writer). */
export function newWriterId(): string {
  return `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** The chain's head in the database is not the one this writer followed (re-linked by keys rotate). */
export class HeadMovedError extends Error {
  constructor(writerId: string) {
    super(`the head of audit chain ${writerId} moved under its writer`);
    this.name = 'HeadMovedError';
  }
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
    private readonly keys: () => KeyRing,
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
  async append(kind: LinkKind, write: (tx: Queryable) => Promise<Written>): Promise<number>;
  /** With a write that may find nothing to record (null: its conditional UPDATE matched no row): then no link is appended. */
  async append(kind: LinkKind, write: (tx: Queryable) => Promise<Written | null>): Promise<number | null>;
  async append(kind: LinkKind, write: (tx: Queryable) => Promise<Written | null>): Promise<number | null> {
    return this.mutex.runExclusive(async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await this.appendOnce(kind, write);
        } catch (error) {
          this.head = undefined;
          // `keys rotate` re-linked this chain meanwhile: take its new head and write again.
          if (!(error instanceof HeadMovedError) || attempt === 2) throw error;
        }
      }
    });
  }

  private async appendOnce(kind: LinkKind, write: (tx: Queryable) => Promise<Written | null>): Promise<number | null> {
    {
      {
        const head = this.head ?? (await this.loadHead());
        const recordedAt = this.clock();
        const { keyId, key } = this.keys().macKey(CHAIN_PURPOSE);
        const next = await this.session.run(async (tx) => {
          const written = await write(tx);
          if (written === null) return { head, recordId: null };
          const { recordId, contentDigest } = written;
          const seq = head.seq + 1;
          const hash = linkHash({ prevHash: head.hash, writerId: this.writerId, seq, kind, recordId, recordedAt, contentDigest }, key);
          await tx.execute(
            'INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            [this.writerId, seq, kind, recordId, recordedAt, head.hash, hash, keyId],
          );
          // Guarded by the head this link follows: re-linked meanwhile (keys rotate), nothing commits.
          const moved = await tx.execute('UPDATE audit_writers SET last_seq = ?, last_hash = ?, updated_at = ? WHERE writer_id = ? AND last_seq = ? AND last_hash = ?', [
            seq, hash, recordedAt, this.writerId, head.seq, head.hash,
          ]);
          if (moved.affectedRows !== 1) throw new HeadMovedError(this.writerId);
          return { head: { seq, hash }, recordId };
        });
        this.head = next.head;
        return next.recordId;
      }
    }
  }

  /** The head as this writer last committed it (null before its first append). */
  get committedHead(): { writerId: string; seq: number; hash: string } | null {
    return this.head && this.head.seq > 0 ? { writerId: this.writerId, ...this.head } : null;
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

  constructor(db: Db, baseId: string, count: number, keys: () => KeyRing) {
    this.lanes = Array.from({ length: count }, (_, i) => new ChainWriter(db, count === 1 ? baseId : `${baseId}-${i}`, keys));
    this.waiting = this.lanes.map(() => 0);
  }

  /** The committed heads of this process's chains (for checkpoints outside the database). */
  heads(): { writerId: string; seq: number; hash: string }[] {
    return this.lanes.flatMap((lane) => lane.committedHead ?? []);
  }

  async append(kind: LinkKind, write: (tx: Queryable) => Promise<Written>): Promise<number>;
  async append(kind: LinkKind, write: (tx: Queryable) => Promise<Written | null>): Promise<number | null>;
  async append(kind: LinkKind, write: (tx: Queryable) => Promise<Written | null>): Promise<number | null> {
    const lane = this.waiting.indexOf(Math.min(...this.waiting));
    this.waiting[lane] += 1;
    try {
      return await this.lanes[lane].append(kind, write);
    } finally {
      this.waiting[lane] -= 1;
    }
  }
}
