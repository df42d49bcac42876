import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sameSecretText, type KeyRing } from '../../security/index.js';
import { hostname } from 'node:os';
import { CommitUnknownError, DependencyRefusedError, NotOneRowError, type ChainDependency, type Db, type ExecuteResult, type Queryable, type SqlStatement, type TransactionSession } from '../types.js';
import { toNumber } from './row-values.js';
import { getLogger } from '../../log/index.js';

const log = getLogger('audit-chain');

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
 * and every console audit entry has a `console_audit` link (console-audit-repository.ts); since 027
 * every change of a row that decides who may do what appends a row of record_changes with a
 * `record_change` link (record-changes.ts), several in one write when it changes several rows;
 * and every result of `audit verify` a `verification` link (audit-verification-repository.ts).
 */

/**
 * What a write appended under a link: the record's id and content digest; `alongside`, statements
 * of the record that no later write needs the result of (a payment's search trigrams), sent with
 * the group's links in the same transaction (one round trip with its COMMIT on a MySQL session: commitWith).
 */
export type Written = { recordId: number; contentDigest: string; alongside?: readonly SqlStatement[] };

/**
 * A record whose statements the writer runs itself, together with those of the records deferred
 * next to it in the group (one round trip on a MySQL writer session: executeAll), before any
 * later write's own statement; `finish` then builds the record from their results (an INSERT's
 * insertId, an UPDATE's affectedRows), and may run more statements on `tx` (an event that a
 * conditional UPDATE decides). Its statements must not need any other write's results, nor
 * another write any of theirs, but through `finish` and the database.
 */
export interface DeferredRecord<W extends Written | readonly Written[] | null = Written | readonly Written[] | null> {
  statements: readonly SqlStatement[];
  /**
   * The row its statements change (`payments:12`), when its `finish` reads that row back: a
   * record of the same row already waiting is run and finished first, so each `finish` reads the
   * row as its own statements left it, not as a later change of the same group did.
   */
  row?: string;
  finish: (results: readonly ExecuteResult[], tx: Queryable) => Promise<W>;
}

export const GENESIS = '0'.repeat(64);

export type LinkKind = 'open' | 'complete' | 'record' | 'bank_call' | 'purge' | 'payment_event' | 'console_audit' | 'record_change' | 'verification';

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

/** One link as audit_chain holds it (its kind and record are the caller's). */
export interface StoredLink {
  writer_id: string;
  seq: number | string;
  record_id: number | string;
  recorded_at: number | string;
  prev_hash: string;
  hash: string;
  key_id: string | null;
}

/** The columns of a StoredLink, for a SELECT from audit_chain. */
export const STORED_LINK_COLUMNS = 'writer_id, seq, record_id, recorded_at, prev_hash, hash, key_id';

/**
 * True when `link` is the gateway's keyed link of record `recordId` of `kind` with this content:
 * its own MAC holds (its place in its chain is what `audit verify`'s walk checks).
 */
export function linkHolds(ring: KeyRing, kind: LinkKind, recordId: number, contentDigest: string, link: StoredLink | undefined): boolean {
  if (!link || link.key_id === null) return false;
  const { key } = ring.macKey(CHAIN_PURPOSE, link.key_id);
  return sameSecretText(linkHash({ prevHash: link.prev_hash, writerId: link.writer_id, seq: toNumber(link.seq), kind, recordId, recordedAt: toNumber(link.recorded_at), contentDigest }, key), link.hash);
}

function linkText(l: LinkFields): string {
  return JSON.stringify([l.prevHash, l.writerId, l.seq, l.kind, l.recordId, l.recordedAt, l.contentDigest]);
}

/**
 * Where `keys rotate` stands in a chain it re-links a page a transaction (audit-verify.ts
 * relinkChains): a row of audit_chain at seq 0 (no link has it: a chain starts at 1, and every walk
 * reads from there) saying that links 1 to `seq` are re-linked under key `keyId` and that link `seq`
 * was `was` before, the prev_hash the link after it still carries. Its MAC (relinkMarkHash) binds
 * the two hashes of that link, so a walk crosses the seam only where a holder of the chain key put
 * it; the row is deleted in the transaction that re-links the chain's last page.
 */
export interface RelinkMark {
  seq: number;
  was: string;
  mac: string;
  keyId: string;
}

/** The seq of a chain's RelinkMark row. */
export const RELINK_MARK_SEQ = 0;

/** The kind of a chain's RelinkMark row (no link has it). */
export const RELINK_MARK_KIND = 'relink';

/**
 * The condition that keeps a chain's RelinkMark out of a lookup of links by kind and record id
 * (`alias`: the table's, with its dot). The mark's kind and time are not under its MAC, so a row at
 * seq 0 altered in SQL could pass for any link: a reader finding a record's link never takes it
 * (`audit verify` names a row there that is not a mark holding where it stands: markBreak).
 */
export function isLink(alias = ''): string {
  return `${alias}seq > ${RELINK_MARK_SEQ}`;
}

/** The MAC of a RelinkMark: link `seq` of chain `writerId` was `was` and is `now` (a text no link's can be: a link's starts with a hash). */
export function relinkMarkHash(key: Buffer, writerId: string, seq: number, was: string, now: string): string {
  return createHmac('sha256', key).update(JSON.stringify(['relink', writerId, seq, was, now])).digest('hex');
}

/** Chain `writerId`'s row at seq 0 as stored (a RelinkMark, and the kind it has), or null (no rotation stopped half-way through it). */
export async function relinkMarkOf(q: Queryable, writerId: string): Promise<(RelinkMark & { kind: string }) | null> {
  const [row] = await q.query<{ kind: string; record_id: number | string; prev_hash: string; hash: string; key_id: string | null }>(
    'SELECT kind, record_id, prev_hash, hash, key_id FROM audit_chain WHERE writer_id = ? AND seq = ?',
    [writerId, RELINK_MARK_SEQ],
  );
  return row ? { kind: row.kind, seq: toNumber(row.record_id), was: row.prev_hash, mac: row.hash, keyId: row.key_id ?? '' } : null;
}

/**
 * Why `mark`, chain `writerId`'s row at seq 0, is not a rotation's mark holding over link
 * `mark.seq` whose MAC is `now` as it stands; null when it is: its kind is a mark's, and its MAC
 * under the ring key it names binds `was` to `now` for this very chain and link (a mark copied to
 * another chain, moved to another link, or left over a link re-linked since, does not hold).
 */
export function markProblem(ring: KeyRing, writerId: string, mark: RelinkMark & { kind: string }, now: string): string | null {
  const what = `the mark a key rotation left at link ${mark.seq}`;
  if (mark.kind !== RELINK_MARK_KIND) return `${what} is of kind ${JSON.stringify(mark.kind)}, not a mark's: it was written or altered in SQL`;
  if (!ring.keyIds.includes(mark.keyId)) return `${what} cannot be checked: it is under key ${JSON.stringify(mark.keyId)}, which GERBANG_AUDIT_KEYS lacks (known: ${ring.keyIds.join(', ')})`;
  const { key } = ring.macKey(CHAIN_PURPOSE, mark.keyId);
  return sameSecretText(relinkMarkHash(key, writerId, mark.seq, mark.was, now), mark.mac) ? null : `${what} does not hold: it was written or altered in SQL`;
}

/**
 * Whether a walk goes on from link `seq` of chain `writerId`, whose MAC is `now`, to a link that
 * follows `was` instead, across the mark of a rotation that stopped there (RelinkMark): true when
 * the chain's mark is at `seq` and holds (markProblem); why not, when a mark there says `was` but
 * does not hold (written or altered in SQL, or under a key the ring lacks); false when no mark is
 * there (the break stands as it is). Every walk that holds links to the link before them crosses
 * a rotation's seam here (`audit verify` and the scrub, an export's chain places).
 */
export async function relinkSeam(q: Queryable, ring: KeyRing, writerId: string, seq: number, now: string, was: string): Promise<boolean | string> {
  const mark = await relinkMarkOf(q, writerId);
  if (mark === null || mark.seq !== seq || mark.was !== was) return false;
  return markProblem(ring, writerId, mark, now) ?? true;
}

/**
 * The statement that leaves `mark` as chain `writerId`'s RelinkMark, where `before` was (null:
 * none): guarded by it, so two rotations of one chain at once cannot both move it (the later one
 * rolls back its page: NotOneRowError, or a duplicate key).
 */
export function relinkMarkStatement(writerId: string, mark: RelinkMark, before: RelinkMark | null, at: number): SqlStatement {
  if (before === null) {
    return {
      sql: 'INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      params: [writerId, RELINK_MARK_SEQ, RELINK_MARK_KIND, mark.seq, at, mark.was, mark.mac, mark.keyId],
    };
  }
  return {
    sql: 'UPDATE audit_chain SET record_id = ?, recorded_at = ?, prev_hash = ?, hash = ?, key_id = ? WHERE writer_id = ? AND seq = ? AND record_id = ? AND hash = ?',
    params: [mark.seq, at, mark.was, mark.mac, mark.keyId, writerId, RELINK_MARK_SEQ, before.seq, before.mac],
    onlyOneRow: true,
  };
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

/** A chain's head with its writer: what a checkpoint outside the database vouches for (StoreOptions.checkpoint). */
export type WriterHead = Head & { writerId: string };

/** A chain's head: its last link's seq and hash. */
export type ChainHead = Head;

/** What an append is to others: a dependency (`as`), or a dependent (`after`). */
export interface AppendOptions {
  as?: ChainDependency;
  after?: ChainDependency;
}

/** One record waiting for its link. */
interface PendingAppend {
  kind: LinkKind;
  write: RecordWrite;
  after: ChainDependency | undefined;
  resolve: (recordId: number | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes one record (or several, each then gets its link); null or none when it found nothing to
 * record (its conditional UPDATE matched no row): then no link. Or leaves its statements to the
 * writer (DeferredRecord).
 */
type RecordWrite = (tx: Queryable) => Promise<Written | readonly Written[] | null | DeferredRecord>;

/** Records linked in one transaction at most (group commit). */
const MAX_GROUP = 32;

/** Links per INSERT statement (MySQL binds at most 65,535 values; 8 a link). */
const LINKS_PER_INSERT = 1000;

export class ChainWriter {
  /** Appends are serialised (one group at a time), so they can share one session (no BEGIN, no pool trip). */
  private readonly session: TransactionSession;
  /** The chain head as committed; undefined until loaded (and after a failed append). */
  private head: Head | undefined;
  /** The chain appended to: `freshId()` replaces it when this writer cannot trust the chain's head row (loadHead). */
  private id: string;
  /** A COMMIT to chain `id` whose outcome is unknown: its head row cannot tell what this writer committed. */
  private unsure = false;
  /**
   * The last head this writer committed to chain `id`, kept through failures: the highest, as it
   * never links after a lower one (a head row re-read below it was set back), and what it vouches
   * for when it leaves the chain.
   */
  private lastCommitted: Head | undefined;
  /** When `lastCommitted` committed (this writer's clock, just after its COMMIT). */
  private lastCommittedAt = 0;
  private readonly queue: PendingAppend[] = [];
  private draining = false;
  /** A drain is due at the end of this turn of the event loop: appends made meanwhile join its group. */
  private gathering = false;

  constructor(
    private readonly db: Db,
    writerId: string,
    private readonly keys: () => KeyRing,
    private readonly clock: () => number = Date.now,
    private readonly freshId: () => string = newWriterId,
    private readonly left: (head: { writerId: string; seq: number; hash: string }) => void = () => undefined,
    /** Called after each group that linked a record has committed (ChainLanes: the process's head file). */
    private readonly committed: () => void = () => undefined,
  ) {
    this.id = writerId;
    this.session = db.session();
  }

  /** The chain this writer appends to now. */
  get writerId(): string {
    return this.id;
  }

  /** Appends waiting for this chain, the one being written included. */
  get waiting(): number {
    return this.queue.length + (this.draining ? 1 : 0);
  }

  /** True while this chain gathers the appends of the current turn for a group not yet begun. */
  get gatheringGroup(): boolean {
    return this.gathering;
  }

  /**
   * Runs `write` (which inserts or updates one record and returns its id and content digest)
   * and appends its link, in one transaction: the record and its link commit together or not
   * at all, and the promise settles only then. Appends made in the same turn of the event loop
   * (a request's audit record and its reservation), and those that arrive while a group is being
   * written, are written together: their records, their links in one multi-row INSERT, one head
   * update and one COMMIT (group commit). If that group does not commit (a write fails, the
   * database refuses a statement or the COMMIT), each of its records is written again on its
   * own, so one bad record fails only its own request; a COMMIT whose outcome is unknown
   * (CommitUnknownError: the connection lost) fails the whole group (it may have committed: the
   * caller treats it like any failed audit write). After any failure the head is re-read from
   * the database before the next append, so an ambiguous commit cannot fork the chain.
   *
   * `options.after`: this append depends on another (`as` of an earlier append to this chain):
   * in one group both commit in one transaction or neither; written on their own, it is refused
   * (DependencyRefusedError, nothing written) when its dependency was, or was never appended.
   */
  append(kind: LinkKind, write: (tx: Queryable) => Promise<Written | DeferredRecord<Written>>, options?: AppendOptions): Promise<number>;
  /**
   * With a write that may find nothing to record (null: its conditional UPDATE matched no row):
   * then no link is appended; or that records several (each its link): the last one's id.
   */
  append(kind: LinkKind, write: RecordWrite, options?: AppendOptions): Promise<number | null>;
  append(kind: LinkKind, write: RecordWrite, options: AppendOptions = {}): Promise<number | null> {
    const { as, after } = options;
    if (after && after.lane !== this) return Promise.reject(new DependencyRefusedError(after.refusal?.error ?? new Error('its dependency was not appended to this chain')));
    if (as) {
      if (as.lane) return Promise.reject(new Error('a chain dependency names one append'));
      as.lane = this;
    }
    return new Promise<number | null>((resolve, reject) => {
      this.queue.push({
        kind,
        write,
        after,
        resolve,
        reject: (error) => {
          if (as) as.refusal = { error };
          reject(error);
        },
      });
      if (this.draining || this.gathering) return;
      // Begun once this turn's synchronous work and promise jobs are done, so the appends they
      // make share the group's statements instead of each paying a transaction of its own.
      this.gathering = true;
      setImmediate(() => {
        this.gathering = false;
        void this.drain();
      });
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // A dependent whose dependency was refused in an earlier group is never written.
        const group = this.queue.splice(0, MAX_GROUP).filter((one) => !refusedForDependency(one));
        if (group.length > 1 && (await this.appendGroup(group))) continue;
        for (const one of group) {
          // Alone in order, so a dependency is settled before its dependents: refused, they are too.
          if (refusedForDependency(one)) continue;
          try {
            one.resolve(await this.appendAlone(one));
          } catch (error) {
            one.reject(error);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async appendAlone(one: PendingAppend): Promise<number | null> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.appendLinks([one]))[0];
      } catch (error) {
        this.forgetHead(error);
        // `keys rotate` re-linked this chain meanwhile: take its new head and write again.
        if (!(error instanceof HeadMovedError) || attempt === 2) throw error;
      }
    }
  }

  /**
   * True when the group committed (each settled), or may have (each rejected); false when it
   * did not commit (the database refused a statement or the COMMIT, or a write failed).
   */
  private async appendGroup(group: PendingAppend[]): Promise<boolean> {
    try {
      const ids = await this.appendLinks(group);
      group.forEach((one, i) => one.resolve(ids[i]));
      return true;
    } catch (error) {
      this.forgetHead(error);
      if (!(error instanceof CommitUnknownError)) return false;
      for (const one of group) one.reject(error);
      return true;
    }
  }

  /** After a failed append the head is read again (loadHead); after a COMMIT of unknown outcome, from a new chain. */
  private forgetHead(error: unknown): void {
    this.head = undefined;
    if (error instanceof CommitUnknownError) this.unsure = true;
  }

  /** Writes the records and links them after the current head, in one transaction. */
  private async appendLinks(group: PendingAppend[]): Promise<(number | null)[]> {
    const head = this.head ?? (await this.loadHead());
    const recordedAt = this.clock();
    const next = await this.session.run(async (tx) => {
      const { last, recordIds, links } = await writeLinked(tx, this.keys(), this.writerId, head, recordedAt, group);
      if (last === head) {
        await tx.commitWith(links);
        return { head, recordIds };
      }
      // The links, the head's move and the COMMIT in one round trip where the backend can
      // (commitWith). Guarded by the head these links follow: re-linked meanwhile (keys rotate),
      // the UPDATE matches no row and nothing commits.
      try {
        await tx.commitWith([
          ...links,
          {
            sql: 'UPDATE audit_writers SET last_seq = ?, last_hash = ?, updated_at = ? WHERE writer_id = ? AND last_seq = ? AND last_hash = ?',
            params: [last.seq, last.hash, recordedAt, this.writerId, head.seq, head.hash],
            onlyOneRow: true,
          },
        ]);
      } catch (error) {
        throw error instanceof NotOneRowError ? new HeadMovedError(this.writerId) : error;
      }
      return { head: last, recordIds };
    });
    this.head = next.head;
    if (next.head !== head && next.head.seq > 0) {
      this.lastCommitted = next.head;
      this.lastCommittedAt = this.clock();
      this.committed();
    }
    return next.recordIds;
  }

  /** The last head this writer committed to its chain and when, kept through failed appends (null before its first, and once it left a chain until it commits to the next). */
  get vouchedHead(): { writerId: string; seq: number; hash: string; at: number } | null {
    return this.lastCommitted ? { writerId: this.id, ...this.lastCommitted, at: this.lastCommittedAt } : null;
  }

  /** The head as this writer last committed it (null before its first append). */
  get committedHead(): { writerId: string; seq: number; hash: string } | null {
    return this.head && this.head.seq > 0 ? { writerId: this.writerId, ...this.head } : null;
  }

  /**
   * The head as the database holds it, read before the first append and after any failed one
   * (`keys rotate` re-linked the chain: the same seq, a new hash). A writer never links at a seq
   * of its chain twice: once it has committed a link, a head row re-read at another seq or gone
   * (set back or deleted in SQL, or a database rolled back under it; or moved forward, which no
   * process but this one does, so an attacker who moved it forward, had a tail cut to it
   * accepted and put it back could not have the links this writer made inside that cut, deleted,
   * pass as the cut its writer rejoined), or a COMMIT whose outcome it does
   * not know (an attacker could delete what it committed and set the head row back to where it
   * stood), makes it link on in a new chain of its own. Following such a head would make new links
   * with good MACs at seqs the chain used, inside a cut an operator may have accepted, where a
   * payment linked and then deleted whole leaves a gap that ends where the accepted one did. The
   * chain left behind stands as it is: the scrub and `audit verify` name it unless it is as an
   * operator accepted it.
   */
  private async loadHead(): Promise<Head> {
    const rows = await this.db.query<{ last_seq: number | string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_writers WHERE writer_id = ?', [this.id]);
    const found = rows.length > 0 ? { seq: toNumber(rows[0].last_seq), hash: rows[0].last_hash } : null;
    const committed = this.lastCommitted;
    const setBack = committed !== undefined && (found === null || found.seq !== committed.seq);
    if (!setBack && !this.unsure && found !== null) return found;
    if (setBack || this.unsure) {
      const left = this.id;
      const details = { chain: left, committed: committed?.seq ?? 0, headRow: found?.seq ?? null };
      // Vouched for outside the database at once (a checkpoint): the links it committed there,
      // deleted later with their records, are then a rollback the watch holds on, not a chain
      // that merely ends where its head row was set back to.
      if (committed) this.left({ writerId: left, ...committed });
      this.lastCommitted = undefined;
      this.id = this.freshId();
      if (setBack) log.error(details, `the head row of audit chain ${left} was set back, moved or deleted in the database (it is not at the link this process committed last): this process links on in a new chain, ${this.id}; see \`gerbang audit verify\``);
      else log.warn(details, `a COMMIT to audit chain ${left} had an unknown outcome: this process links on in a new chain, ${this.id}, so no link of ${left} is made twice`);
      this.unsure = false;
    }
    const now = this.clock();
    await this.db.execute('INSERT INTO audit_writers (writer_id, host, pid, started_at, last_seq, last_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      this.id,
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

/** Rejects `one` (true) when the append it depends on was refused. */
function refusedForDependency(one: PendingAppend): boolean {
  const refusal = one.after?.refusal;
  if (!refusal) return false;
  one.reject(new DependencyRefusedError(refusal.error));
  return true;
}

/**
 * Runs each write of `group` on `tx` and links every record it wrote after `head`. Returns the
 * new last link (`head` itself when nothing was written), per write its last record's id (null:
 * it wrote none), and the statements still to run: the records' `alongside` ones, then the
 * INSERTs of the links into audit_chain (multi-row), which the caller runs together with the
 * head's move and the COMMIT (one round trip on a MySQL session).
 *
 * The statements of consecutive deferred records (DeferredRecord) run together in one executeAll,
 * before any later write's own statement reaches `tx`, and then their `finish`es in order. Once
 * such a batch failed, the group fails with its error, even where a later write caught it as its own
 * (a unique key it expects to meet): nothing of it commits.
 */
async function writeLinked(
  tx: Queryable,
  ring: KeyRing,
  writerId: string,
  head: Head,
  recordedAt: number,
  group: readonly { kind: LinkKind; write: RecordWrite }[],
): Promise<{ last: Head; recordIds: (number | null)[]; links: SqlStatement[] }> {
  const { keyId, key } = ring.macKey(CHAIN_PURPOSE);
  const outcomes: (Written | readonly Written[] | null)[] = [];
  let deferred: { index: number; record: DeferredRecord }[] = [];
  let failed: { error: unknown } | undefined;
  const flush = async (): Promise<void> => {
    if (failed) throw failed.error;
    if (deferred.length === 0) return;
    const batch = deferred;
    deferred = [];
    try {
      const results = await tx.executeAll(batch.flatMap(({ record }) => record.statements));
      let at = 0;
      for (const { index, record } of batch) {
        outcomes[index] = await record.finish(results.slice(at, (at += record.statements.length)), ordered);
      }
    } catch (error) {
      failed = { error };
      throw error;
    }
  };
  // What each write is given: its statements run after those deferred before it.
  const ordered: Queryable = {
    dialect: tx.dialect,
    query: async (sql, params, options) => {
      await flush();
      return tx.query(sql, params, options);
    },
    execute: async (sql, params) => {
      await flush();
      return tx.execute(sql, params);
    },
    executeAll: async (statements) => {
      await flush();
      return tx.executeAll(statements);
    },
  };
  for (const [index, one] of group.entries()) {
    const written = await one.write(ordered);
    if (written !== null && 'finish' in written) {
      if (written.row !== undefined && deferred.some(({ record }) => record.row === written.row)) await flush();
      deferred.push({ index, record: written });
    } else outcomes[index] = written;
  }
  await flush();

  const links: (string | number | null)[][] = [];
  const recordIds: (number | null)[] = [];
  const inserts: SqlStatement[] = [];
  let last = head;
  for (const [index, one] of group.entries()) {
    const written = outcomes[index];
    const records = written === null ? [] : 'recordId' in written ? [written] : written;
    for (const { recordId, contentDigest, alongside } of records) {
      if (alongside) inserts.push(...alongside);
      const seq = last.seq + 1;
      const hash = linkHash({ prevHash: last.hash, writerId, seq, kind: one.kind, recordId, recordedAt, contentDigest }, key);
      links.push([writerId, seq, one.kind, recordId, recordedAt, last.hash, hash, keyId]);
      last = { seq, hash };
    }
    recordIds.push(records.length === 0 ? null : records[records.length - 1].recordId);
  }
  // At most LINKS_PER_INSERT a statement: a migration's baseline may link thousands of records.
  for (let i = 0; i < links.length; i += LINKS_PER_INSERT) {
    const some = links.slice(i, i + LINKS_PER_INSERT);
    inserts.push({ sql: `INSERT INTO audit_chain (writer_id, seq, kind, record_id, recorded_at, prev_hash, hash, key_id) VALUES ${some.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, params: some.flat() });
  }
  return { last, recordIds, links: inserts };
}

/**
 * A one-off writer's chain (a migration's): the records `write` makes on `q`, linked in a chain of
 * their own under the ring's chain key, its head written last. `q` should be a transaction, so the
 * records, links and head commit together. Returns how many records were linked.
 */
export async function appendOnNewChain(q: Queryable, ring: KeyRing, writerId: string, kind: LinkKind, write: RecordWrite, clock: () => number = Date.now): Promise<number> {
  return (await appendOnOwnChain(q, ring, writerId, null, kind, write, clock))?.seq ?? 0;
}

/**
 * `fn` in a transaction of its own when `db` is the store (a migration's step on MySQL, whose DDL
 * commits by itself: a transaction a batch), or in `db` as it is when it already is one (SQLite:
 * the migration's transaction).
 */
export function inOwnTransaction<T>(db: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return 'withTransaction' in db ? (db as Db).withTransaction(fn) : fn(db);
}

/**
 * appendOnNewChain for a one-off writer that links in several transactions (a migration's batches):
 * the records `write` makes on `q` linked after `head`, the head this writer last committed to its
 * chain `writerId` (null: none yet, the chain begins here), and the chain's head row moved to the
 * last, guarded by `head` (NotOneRowError when it is not there). Returns the new head (`head`
 * when `write` recorded nothing); the caller keeps it once `q`'s transaction has committed.
 */
export async function appendOnOwnChain(q: Queryable, ring: KeyRing, writerId: string, head: ChainHead | null, kind: LinkKind, write: RecordWrite, clock: () => number = Date.now): Promise<ChainHead | null> {
  const recordedAt = clock();
  const from = head ?? { seq: 0, hash: GENESIS };
  const { last, links } = await writeLinked(q, ring, writerId, from, recordedAt, [{ kind, write }]);
  if (last === from) return head;
  const moveHead: SqlStatement =
    head === null
      ? {
          sql: 'INSERT INTO audit_writers (writer_id, host, pid, started_at, last_seq, last_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          params: [writerId, hostname().slice(0, 255), process.pid, recordedAt, last.seq, last.hash, recordedAt],
        }
      : {
          sql: 'UPDATE audit_writers SET last_seq = ?, last_hash = ?, updated_at = ? WHERE writer_id = ? AND last_seq = ? AND last_hash = ?',
          params: [last.seq, last.hash, recordedAt, writerId, head.seq, head.hash],
          onlyOneRow: true,
        };
  await q.executeAll([...links, moveHead]);
  return last;
}

/**
 * The chains of one process. On a pooled backend (MySQL) a process appends to several chains,
 * each to the chain with the fewest appends waiting, so concurrent requests of one worker do not
 * queue behind one chain head either; each chain writes one group at a time, and the appends
 * that queued meanwhile form its next group. SQLite has one connection per process, where one
 * chain is as fast as several.
 */
export class ChainLanes {
  private readonly lanes: ChainWriter[];

  constructor(db: Db, baseId: string, count: number, keys: () => KeyRing) {
    const laneId = (base: string, i: number) => (count === 1 ? base : `${base}-${i}`);
    // A lane that leaves its chain (ChainWriter.loadHead) starts one named as a new process's would be.
    this.lanes = Array.from(
      { length: count },
      (_, i) =>
        new ChainWriter(
          db,
          laneId(baseId, i),
          keys,
          Date.now,
          () => laneId(newWriterId(), i),
          (left) => this.recordChanged([...this.heads(), left]),
          () => this.groupCommitted(this.lanes.flatMap((lane) => lane.vouchedHead ?? [])),
        ),
    );
  }

  /** Called with the heads once a change of a maced row committed (set by the store: a checkpoint). */
  private recordChanged: (heads: { writerId: string; seq: number; hash: string }[]) => void = () => undefined;

  /** Called with every chain's last committed head and when after each committed group (set by the store: the head file). */
  private groupCommitted: (heads: { writerId: string; seq: number; hash: string; at: number }[]) => void = () => undefined;

  /**
   * `vouch` is given this process's heads (each chain's last committed head, and when) after every
   * group of links that committed, so that no link waits for the next checkpoint line (a minute) to
   * be vouched for outside the database: src/audit's HeadFile, one write a group.
   */
  vouchCommits(vouch: (heads: { writerId: string; seq: number; hash: string; at: number }[]) => void): void {
    this.groupCommitted = vouch;
  }

  /** The committed heads of this process's chains (for checkpoints outside the database); a chain's last committed one after a failed append. */
  heads(): { writerId: string; seq: number; hash: string }[] {
    return this.lanes.flatMap((lane) => {
      const head = lane.committedHead ?? lane.vouchedHead;
      return head ? [{ writerId: head.writerId, seq: head.seq, hash: head.hash }] : [];
    });
  }

  /**
   * `checkpoint` is given this process's heads each time a change of a row that decides who may
   * do what has committed (record-changes.ts), so that change is vouched for outside the database
   * at once, not a minute later: deleting it at a chain's tail is then always a named rollback.
   */
  checkpointRecordChanges(checkpoint: (heads: { writerId: string; seq: number; hash: string }[]) => void): void {
    this.recordChanged = checkpoint;
  }

  /** A change of a maced row committed on one of these chains. */
  changeCommitted(): void {
    this.recordChanged(this.heads());
  }

  /**
   * A dependent (`options.after`) to its dependency's chain (ChainWriter.append says what it
   * guarantees). Else to the chain gathering this turn's appends, so they commit as one group (up
   * to a full group); else to the chain with the fewest appends waiting: an idle one when there
   * is one, else the shortest group.
   */
  append(kind: LinkKind, write: (tx: Queryable) => Promise<Written | DeferredRecord<Written>>, options?: AppendOptions): Promise<number>;
  append(kind: LinkKind, write: RecordWrite, options?: AppendOptions): Promise<number | null>;
  append(kind: LinkKind, write: RecordWrite, options: AppendOptions = {}): Promise<number | null> {
    const own = options.after?.lane;
    if (own && this.lanes.includes(own)) return own.append(kind, write, options);
    // A dependency never appended (or to another process's chains): the writer refuses it.
    if (options.after) return this.lanes[0].append(kind, write, options);
    const gathering = this.lanes.find((one) => one.gatheringGroup && one.waiting < MAX_GROUP);
    let lane = gathering ?? this.lanes[0];
    if (!gathering) for (const other of this.lanes) if (other.waiting < lane.waiting) lane = other;
    return lane.append(kind, write, options);
  }
}
