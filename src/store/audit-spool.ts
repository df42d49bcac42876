import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../host/index.js';
import { getLogger } from '../log/index.js';
import type { KeyRing } from '../security/index.js';
import { DependencyRefusedError, UniqueViolationError, type AuditExchangeRow, type AuditQuery, type AuditRepository, type BankCallAudit, type InboundCompletion, type InboundExchange } from './types.js';

const log = getLogger('audit-spool');

/** One audit write that the database could not take, as kept on disk until it can. */
type SpooledWrite =
  | { op: 'record'; exchange: InboundExchange; completion: InboundCompletion }
  | { op: 'complete'; id: number; completion: InboundCompletion }
  /** `entry`: the id its first write already carried (a line written by an older build has none: its digest is used). */
  | { op: 'bank-call'; call: BankCallAudit; entry?: string };

/**
 * How long a claim on a journal file holds without being renewed. The replaying process renews
 * it before every line it writes back (a line is one short transaction, far below this), so
 * only a claimant that is dead or hung lets it lapse; then any process takes the file over.
 */
export const SPOOL_LEASE_MS = 30_000;

const CLAIM = /^(.+\.jsonl)\.replaying-(\d+)-[0-9a-f]+$/;

/**
 * A local, fsync'd journal of audit writes the database refused (it was down or unreachable),
 * replayed into the database when it is back, so an answered request never lacks its record.
 * Each process appends to its own file; files are named after the database they belong to, so a
 * replay never writes one database's records into another.
 *
 * Replay is crash-safe. A process claims a file by renaming it to `<file>.replaying-<pid>-<rand>`
 * (atomic: of several processes, one gets each file; the writer simply starts a new file on its
 * next append). The claim is a lease: its holder renews it (the file's mtime) before each line,
 * and any process takes over a claimed file whose holder's pid is no longer alive on this host
 * or whose lease lapsed (SPOOL_LEASE_MS), by renaming it again. Each line is written back under
 * its own entry id (a digest of the line), which the database keeps unique, so a line written
 * back twice (its replayer died after the commit, before the file was done) is one record.
 *
 * The journal holds the same bodies and headers as the audit, so each line is sealed with the
 * audit key ring like the audit's columns: the disk never holds them in clear either.
 */
export class AuditSpool {
  private readonly prefix: string;
  private readonly file: string;

  constructor(
    private readonly dir: string,
    databaseUrl: string,
    private readonly keys: KeyRing,
    private readonly clock: () => number = Date.now,
  ) {
    this.prefix = `audit-${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 12)}-`;
    this.file = join(dir, `${this.prefix}${hostname().slice(0, 30)}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
  }

  /** Appends and fsyncs one write; throws only when the disk refuses too. */
  append(write: SpooledWrite): void {
    appendLines(this.dir, this.file, [this.keys.encrypt(JSON.stringify(write))]);
  }

  /** Records journaled for this database and not yet written to it (every process's files in the folder). */
  backlog(): number {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => name.startsWith(this.prefix) && name.includes('.jsonl'));
    } catch {
      return 0;
    }
    let lines = 0;
    for (const name of names) {
      try {
        lines += readFileSync(join(this.dir, name), 'utf8').split('\n').filter((line) => line.length > 0).length;
      } catch {
        // replayed and removed meanwhile
      }
    }
    return lines;
  }

  /**
   * Writes every spooled record of this database into it: the unclaimed files and the claimed
   * ones whose claimant died or let its lease lapse. A file that fails midway (the database went
   * away again) is kept from that line on. Returns how many lines were written back.
   */
  async replay(repository: AuditRepository): Promise<number> {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => name.startsWith(this.prefix));
    } catch {
      return 0;
    }
    let replayed = 0;
    for (const name of names) {
      const base = this.claimable(name);
      if (base === null) continue;
      const claimed = join(this.dir, `${base}.replaying-${process.pid}-${randomBytes(3).toString('hex')}`);
      try {
        renameSync(join(this.dir, name), claimed);
      } catch {
        continue; // another process claimed it first
      }
      if (name !== base) log.warn({ file: name }, 'taking over an audit journal whose replayer died or stopped renewing its lease');
      replayed += await this.replayFile(repository, claimed, base);
    }
    if (replayed > 0) log.info({ replayed }, 'spooled audit records written to the database');
    return replayed;
  }

  /** The journal name a file belongs to when this process may claim it now, else null. */
  private claimable(name: string): string | null {
    if (name.endsWith('.jsonl')) return name;
    const match = CLAIM.exec(name);
    if (!match) return null;
    const pid = Number(match[2]);
    if (pid !== process.pid && !processAlive(pid)) return match[1];
    try {
      return this.clock() - statSync(join(this.dir, name)).mtimeMs > SPOOL_LEASE_MS ? match[1] : null;
    } catch {
      return null; // gone meanwhile: its replayer finished
    }
  }

  private async replayFile(repository: AuditRepository, claimed: string, base: string): Promise<number> {
    const lines = readFileSync(claimed, 'utf8').split('\n').filter((line) => line.length > 0);
    let done = 0;
    try {
      for (const line of lines) {
        // Renew the lease; a claim taken over meanwhile (this process hung past the lease) is
        // the new holder's: stop here, it replays the rest, the entry ids keep it exactly once.
        const now = new Date(this.clock());
        try {
          utimesSync(claimed, now, now);
        } catch {
          log.warn({ file: base }, 'audit journal taken over by another process during replay');
          return done;
        }
        await apply(repository, JSON.parse(this.keys.decrypt(line)) as SpooledWrite, entryId(line));
        done++;
      }
      unlinkSync(claimed);
    } catch (error) {
      // The database went away again: keep what is left for the next replay (written before the
      // claimed file is removed, so a crash in between leaves lines twice, never none).
      appendLines(this.dir, join(this.dir, base), lines.slice(done));
      unlinkSync(claimed);
      log.warn({ err: error, left: lines.length - done }, 'audit replay interrupted; the rest stays spooled');
    }
    return done;
  }
}

/** A journal line's entry id: the digest of the line as written (sealed), the same on every replay. */
function entryId(line: string): string {
  return createHash('sha256').update(line).digest('hex').slice(0, 40);
}

function appendLines(dir: string, file: string, lines: string[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, lines.map((line) => `${line}\n`).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replays one write, at most once: a record or bank leg carries its entry id, which the database
 * keeps unique; a record the database already has under its request id (its first write
 * committed although the gateway was told it failed) and a completion already written are
 * skipped.
 */
async function apply(repository: AuditRepository, write: SpooledWrite, entry: string): Promise<void> {
  try {
    if (write.op === 'complete') {
      const [row] = await repository.list({ afterId: write.id - 1, limit: 1 });
      if (row?.id === write.id && row.outcome !== 'in_progress') return;
      return await repository.complete(write.id, write.completion);
    }
    if (write.op === 'record') {
      if ((await repository.list({ requestId: write.exchange.requestId, limit: 1 })).length > 0) return;
      await repository.record(write.exchange, write.completion, entry);
      return;
    }
    await repository.recordBankCall(write.call, write.entry ?? entry);
  } catch (error) {
    if (error instanceof UniqueViolationError) return; // written back before: one record
    throw error;
  }
}

/**
 * Whose write was spooled, for its log line: a whole record and a bank leg name their request;
 * a completion names its exchange's row, which holds the request id.
 */
function ownerOf(write: SpooledWrite): { requestId: string } | { exchangeId: number } {
  if (write.op === 'record') return { requestId: write.exchange.requestId };
  if (write.op === 'bank-call') return { requestId: write.call.requestId };
  return { exchangeId: write.id };
}

/**
 * The audit repository with the spool behind it: a completion, a whole record or a bank leg the
 * database refuses goes to the spool instead of being lost. `open()` is not spooled: it must
 * reach the database before anything goes to a bank (fail closed); nor is a write refused for
 * its dependency (DependencyRefusedError): its caller learns first whether that dependency went
 * anywhere, and what to write instead.
 */
export function withAuditSpool(repository: AuditRepository, spool: AuditSpool): AuditRepository {
  const spooled = async <T>(write: () => Promise<T>, entry: SpooledWrite, fallback: T): Promise<T> => {
    try {
      return await write();
    } catch (error) {
      if (error instanceof DependencyRefusedError) throw error;
      spool.append(entry);
      log.warn({ ...ownerOf(entry), err: error, op: entry.op }, 'audit write spooled to disk: the database refused it');
      return fallback;
    }
  };
  return {
    open: (exchange) => repository.open(exchange),
    complete: (id, completion, after) => spooled(() => repository.complete(id, completion, after), { op: 'complete', id, completion }, undefined),
    record: (exchange, completion) => spooled(() => repository.record(exchange, completion), { op: 'record', exchange, completion }, 0),
    recordBankCall: (call, _spoolEntry, as) => {
      // The bank leg carries its entry id from its first write: one whose COMMIT's answer was
      // lost (CommitUnknownError) may have committed, and its replay is then refused by the id.
      const entry = randomBytes(20).toString('hex');
      return spooled(() => repository.recordBankCall(call, entry, as), { op: 'bank-call', call, entry }, 0);
    },
    list: (query: AuditQuery): Promise<AuditExchangeRow[]> => repository.list(query),
    verify: (options) => repository.verify(options),
    purgeAnonymous: (purge) => repository.purgeAnonymous(purge),
    linksAt: (wanted) => repository.linksAt(wanted),
    ownHeads: () => repository.ownHeads(),
    chainRemains: (writerId) => repository.chainRemains(writerId),
    remainsPage: (writerId, fromSeq, maxLinks) => repository.remainsPage(writerId, fromSeq, maxLinks),
    chainHeads: () => repository.chainHeads(),
    chainGaps: (options) => repository.chainGaps(options),
    chains: () => repository.chains(),
    walkChain: (writerId, from, maxLinks) => repository.walkChain(writerId, from, maxLinks),
    resumeAfterBreak: (writerId, seq) => repository.resumeAfterBreak(writerId, seq),
    lostPayments: (range, limit) => repository.lostPayments(range, limit),
    lastPaymentEventId: () => repository.lastPaymentEventId(),
    linkCounts: (ranges) => repository.linkCounts(ranges),
    paymentKeys: (eventIds) => repository.paymentKeys(eventIds),
    lostPayment: (id, key) => repository.lostPayment(id, key),
    lostPaymentFacts: (lost) => repository.lostPaymentFacts(lost),
    checkKeys: () => repository.checkKeys(),
    readingOn: (q) => repository.readingOn(q),
    inSnapshot: (fn, options) => repository.inSnapshot(fn, options),
  };
}
