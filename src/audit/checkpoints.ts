import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { sameSecretText, type KeyRing } from '../security/index.js';
import { getLogger } from '../log/index.js';
import type { AuditChainBreak, AuditRepository, ChainReader } from '../store/types.js';

const log = getLogger('audit');

/**
 * Checkpoints of the audit chains, kept OUTSIDE the database: an append-only file of signed
 * lines, one per checkpoint, each holding every chain head it vouches for (writer, seq, link
 * MAC). A database writer without the keys can delete a chain's newest records and move its
 * head back, delete a whole chain, or restore an older dump: every remaining link still verifies
 * by itself. Only a record kept elsewhere shows what is missing; these lines are that record.
 *
 * Each line is MAC'd (HMAC-SHA256 under a key derived from the key ring for this purpose), so a
 * line added by someone without the keys is noticed too. The file is 0600 and only ever appended
 * to; ship it off the host as it grows (docs/operator-guide.md) so that whoever can rewrite the
 * host cannot quietly rewrite it either.
 */

const PURPOSE = 'audit checkpoint';
/**
 * Every line ever written is `v: 1`; the fields added since are optional, and each line's MAC
 * covers only those it has, so a file keeps lines of every shape and all are read: heads alone (a
 * checkpoint, or an acceptance before `broken`), then `broken`, `lostPayments`, `skips`, and `next`
 * in a skip (test/audit/checkpoint-old-lines.test.ts reads a file of each); then what each acceptance
 * saw: `seen` in a skip, `remained` in a chain accepted as gone, and `lost` (payments with their kind)
 * in place of `lostPayments`.
 */
const VERSION = 1;

export interface ChainHead {
  writerId: string;
  seq: number;
  hash: string;
}

/** A chain accepted as gone (`broken` at link 0) with what remained of it then (ChainRemains without its head: it had none). */
export interface GoneChain extends ChainHead {
  /** The links that remained (0: none), the newest's seq and a digest of them all; absent in lines written before it (they said nothing of what remained). */
  remained?: { links: number; maxSeq: number; digest: string };
}

export interface Checkpoint {
  /** Which database the heads are of (Db.description: backend, host, database; never a password). */
  store: string;
  at: number;
  /** Who wrote it: `verify`, or `gateway <writer id>` for a gateway's own chains. */
  by: string;
  heads: ChainHead[];
  /**
   * Only in an acceptance (ACCEPTED_ROLLBACK): chains found broken inside (a link or record
   * missing or altered: the background scrub, AuditScrub), each accepted as it stands through the
   * head given; the scrub walks them from that link on. Written since `skips` only for a chain whose
   * head row is gone (link 0: accepted as gone); older lines accepted any broken chain so.
   */
  broken?: GoneChain[];
  /**
   * Only in an acceptance, in lines written before `lost`: payments the scrub found with their row deleted while their history does
   * not end in their release, or altered away from its MAC, by id; the scrub holds no more on them.
   */
  lostPayments?: number[];
  /**
   * Only in an acceptance: each break accepted inside a chain, exactly (its link `seq`, and
   * `resume`, the first link after it then, 0 when none followed). The scrub walks every chain from
   * its first link and steps over these breaks only, from `resume` (taken as it says, its own MAC
   * checked): a break elsewhere, or another link gone after `seq`, holds again.
   */
  skips?: AcceptedBreak[];
  /**
   * Only in an acceptance: each payment accepted as lost, as it was found: `deleted` (its row gone),
   * or `altered` with `digest` (PaymentRow digest of its row as it stood). Another state of it later
   * (the altered row deleted, or altered again) is a new finding.
   */
  lost?: AcceptedPayment[];
}

export interface AcceptedPayment {
  id: number;
  kind: 'deleted' | 'altered';
  digest?: string;
}

/**
 * What an acceptance saw at a break it accepted exactly: the break (its problem, table and record),
 * the link at its seq (its MAC, or null: absent) and, when no link followed (a tail cut), the
 * chain's head then. The break is accepted only while all of it is so.
 */
export interface SeenBreak {
  problem: string;
  table: string;
  recordId: number | null;
  link: string | null;
  head?: { seq: number; hash: string };
}

export interface AcceptedBreak {
  writerId: string;
  seq: number;
  resume: number;
  /**
   * When no link followed the break (`resume` 0: the chain's newest links deleted, its head left):
   * the seq its writer appends next (its head's then, plus 1), where the walk may resume once it did.
   */
  next?: number;
  /** What was there (absent in lines written before it: they accepted whatever break is at `seq`, which verify does not take as proof). */
  seen?: SeenBreak;
}

interface Line extends Checkpoint {
  v: number;
  keyId: string;
  mac: string;
}

function macOf(ring: KeyRing, keyId: string, c: Checkpoint): string {
  const { key } = ring.macKey(PURPOSE, keyId);
  return createHmac('sha256', key)
    // `broken` only where a line has it: the lines written before it existed keep their MACs.
    .update(
      JSON.stringify([
        VERSION,
        c.store,
        c.at,
        c.by,
        c.heads.map((h) => [h.writerId, h.seq, h.hash]),
        ...(c.broken ? [c.broken.map((h) => [h.writerId, h.seq, h.hash, ...(h.remained === undefined ? [] : [['remained', h.remained.links, h.remained.maxSeq, h.remained.digest]])])] : []),
        // Tagged: a line with deleted payments and no broken chain is not read as one with broken chains.
        ...(c.lostPayments ? [['lostPayments', ...c.lostPayments]] : []),
        ...(c.skips ? [['skips', ...c.skips.map((k) => [k.writerId, k.seq, k.resume, ...(k.next === undefined ? [] : [k.next]), ...(k.seen === undefined ? [] : [seenFields(k.seen)])])]] : []),
        ...(c.lost ? [['lost', ...c.lost.map((p) => [p.id, p.kind, ...(p.digest === undefined ? [] : [p.digest])])]] : []),
      ]),
    )
    .digest('hex');
}

/** A skip's `seen` as its MAC covers it (tagged: never read as `next`). */
function seenFields(seen: SeenBreak): unknown[] {
  return ['seen', seen.problem, seen.table, seen.recordId, seen.link, ...(seen.head === undefined ? [] : [seen.head.seq, seen.head.hash])];
}

/**
 * The checkpoint of one process's own chains (StoreOptions.checkpoint): its heads appended to
 * `path` by `by`; false when it could not be written. A failure is logged, never thrown: what it
 * vouches for has committed, and the next checkpoint covers it.
 */
export function checkpointer(path: string, ring: KeyRing, by: string, clock: () => number = Date.now): (store: string, heads: ChainHead[]) => boolean {
  return (store, heads) => {
    try {
      appendCheckpoint(path, ring, { store, at: clock(), by, heads });
      return true;
    } catch (error) {
      log.error({ err: error, file: path }, 'audit checkpoint could not be written (GERBANG_AUDIT_CHECKPOINT_FILE)');
      return false;
    }
  };
}

/** Appends one signed checkpoint line (creating the file 0600 and its folder when missing). */
export function appendCheckpoint(path: string, ring: KeyRing, checkpoint: Checkpoint): void {
  if (checkpoint.heads.length === 0 && !checkpoint.broken?.length && !checkpoint.lostPayments?.length && !checkpoint.skips?.length && !checkpoint.lost?.length) return;
  const keyId = ring.currentKeyId;
  const line: Line = { v: VERSION, ...checkpoint, keyId, mac: macOf(ring, keyId, checkpoint) };
  mkdirSync(dirname(path), { recursive: true });
  const created = !existsSync(path);
  // One write of one line with O_APPEND: lines of several processes never interleave.
  appendFileSync(path, `${JSON.stringify(line)}\n`, { mode: 0o600, flag: 'a' });
  if (created) chmodSync(path, 0o600);
}

/**
 * What a process gives its store to vouch for its chain heads outside the database
 * (StoreOptions.checkpoint and .vouch): the checkpoint lines it appends by `by` (checkpointer),
 * and its head file beside them, written at every commit (HeadFile). One checkpoint file and key
 * ring for both, so no process has the one without the other.
 */
export function vouchingOptions(path: string, ring: KeyRing, by: string, clock: () => number = Date.now): { checkpoint: (store: string, heads: ChainHead[]) => boolean; vouch: HeadFile } {
  return { checkpoint: checkpointer(path, ring, by, clock), vouch: new HeadFile(path, ring) };
}

/** A head vouched for outside the database: when, under which ring key, and by a head file (`from`) rather than a line. */
export type VouchedHead = ChainHead & { at: number; keyId: string; from?: string };

/** A chain head a writer committed, and when (its clock, just after the COMMIT). */
export interface CommittedHead extends ChainHead {
  at: number;
}

/** What a head file's MAC is keyed for (KeyRing.macKey): never taken for a checkpoint line. */
const HEAD_PURPOSE = 'audit head file';

/** What a head file holds: one signed record, overwritten in place (padded with spaces to the longest written). */
interface HeadRecord {
  v: number;
  store: string;
  host: string;
  pid: number;
  heads: CommittedHead[];
  keyId: string;
  mac: string;
}

/** A valid head file read (CheckpointHistory.headFiles): where, whose, and the heads of it that count. */
export interface HeadFileClaim {
  path: string;
  host: string;
  pid: number;
  heads: CommittedHead[];
  /** The record's MAC: which write of the file was read (absorbHeadFiles removes only that one). */
  mac: string;
}

function headMacOf(ring: KeyRing, keyId: string, r: Omit<HeadRecord, 'v' | 'keyId' | 'mac'>): string {
  const { key } = ring.macKey(HEAD_PURPOSE, keyId);
  return createHmac('sha256', key)
    .update(JSON.stringify([VERSION, r.store, r.host, r.pid, r.heads.map((h) => [h.writerId, h.seq, h.hash, h.at])]))
    .digest('hex');
}

/** The head files beside checkpoint file `path` are named `<path>.head-<owner>`. */
function headFilePrefix(path: string): string {
  return `${basename(path)}.head-`;
}

/**
 * The heads a process committed, vouched for outside the database at every commit, in constant
 * space: a file of its own beside the checkpoint file (`<checkpoint file>.head-<host>-<pid>-<random>`,
 * 0600), overwritten in place after each committed group of links with one record signed under
 * the key ring (each head its chain, seq, link MAC and commit time). A checkpoint line comes a
 * minute apart; without this, the links a process committed since its last one (a SIGKILL, a
 * crash) were vouched for by nothing outside the database, and a database writer could delete
 * that tail with its payments and set the head row back to the last checkpointed link unseen.
 *
 * One pwrite of a few hundred bytes a group, no fsync: the page cache outlives the process (a
 * SIGKILL), not the host (a power loss can lose the last writes; docs/operator-guide.md). A write
 * that fails is logged once, never thrown: the links have committed, and the lines cover them.
 * Removed when the store closes after its last heads were appended as a line (`close`); a file
 * left by a process that died is read by every reader of the checkpoints (CheckpointReader) and
 * removed by `audit verify` once a line it wrote covers it.
 */
export class HeadFile {
  readonly path: string;
  private readonly host = hostname();
  private fd: number | null = null;
  private longest = 0;
  private failing = false;

  constructor(
    checkpointFile: string,
    private readonly ring: KeyRing,
  ) {
    const owner = `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}`.replace(/[^A-Za-z0-9._-]/g, '_');
    this.path = join(dirname(checkpointFile), `${headFilePrefix(checkpointFile)}${owner}`);
  }

  /** Vouches for `heads` (every chain this process appends to) of database `store`: one write over the last. */
  committed(store: string, heads: CommittedHead[]): void {
    try {
      // Removed under it (a verify that took this process for ended, from a PID namespace of its
      // own on the same host name): written anew, so what it commits from now on is vouched for.
      if (this.fd !== null && fstatSync(this.fd).nlink === 0) {
        closeSync(this.fd);
        this.fd = null;
        this.longest = 0;
      }
      if (this.fd === null) {
        mkdirSync(dirname(this.path), { recursive: true });
        this.fd = openSync(this.path, 'w', 0o600);
      }
      const fields = { store, host: this.host, pid: process.pid, heads };
      const keyId = this.ring.currentKeyId;
      const text = JSON.stringify({ v: VERSION, ...fields, keyId, mac: headMacOf(this.ring, keyId, fields) });
      // Padded over what a longer record left (a chain's seq grew a digit, a lane left its chain): no truncate.
      const bytes = Buffer.from(`${text.padEnd(this.longest - 1)}\n`);
      writeSync(this.fd, bytes, 0, bytes.length, 0);
      this.longest = Math.max(this.longest, bytes.length);
      this.failing = false;
    } catch (error) {
      if (!this.failing) log.error({ err: error, file: this.path }, 'the audit head file could not be written: the links committed since the last checkpoint line are vouched for by nothing outside the database until the next one (GERBANG_AUDIT_CHECKPOINT_FILE)');
      this.failing = true;
    }
  }

  /** The process stops: the file is closed, and removed when its last heads were appended as a checkpoint line (`checkpointed`). */
  close(checkpointed: boolean): void {
    try {
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      if (checkpointed && existsSync(this.path)) unlinkSync(this.path);
    } catch (error) {
      log.warn({ err: error, file: this.path }, 'the audit head file could not be closed or removed (audit verify removes it once its heads are checkpointed)');
    }
  }
}

/**
 * The valid head files beside checkpoint file `path`: each record of database `store` (those of
 * another kept apart), and the names of those that are not valid (forged, altered; one read while
 * its writer overwrote it is read again first).
 */
function readHeadFiles(path: string, ring: KeyRing, store: string): { files: (HeadFileClaim & { keyId: string })[]; invalid: string[] } {
  const prefix = headFilePrefix(path);
  const dir = dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.startsWith(prefix));
  } catch {
    return { files: [], invalid: [] };
  }
  const files: (HeadFileClaim & { keyId: string })[] = [];
  const invalid: string[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    const record = readHeadFile(file, ring);
    if (record === null) invalid.push(`head file ${file}`);
    if (!record || !ring.keyIds.includes(record.keyId) || record.store !== store) continue;
    files.push({ path: file, host: record.host, pid: record.pid, heads: record.heads, keyId: record.keyId, mac: record.mac });
  }
  return { files, invalid };
}

/**
 * One head file as it is now: its record, null when it is not signed with a ring key (forged,
 * altered; one read while its writer overwrote it is read again first), undefined when there is
 * none (removed meanwhile, created and not written yet) or it is under a key the ring no longer holds.
 */
function readHeadFile(file: string, ring: KeyRing): HeadRecord | null | undefined {
  let record: HeadRecord | null | undefined;
  for (let attempt = 0; attempt < 3 && !record; attempt += 1) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined; // removed meanwhile (its process stopped)
    }
    // Created, not written yet (its first write follows in the same turn of its event loop): nothing to read.
    if (text.trim() === '') return undefined;
    record = parseHeadRecord(text);
    // A key no longer in the ring (retired after keys rotate): it can only add claims, skipped.
    if (record && !ring.keyIds.includes(record.keyId)) return undefined;
    if (record && !sameSecretText(headMacOf(ring, record.keyId, record), record.mac)) record = null;
  }
  return record;
}

function parseHeadRecord(text: string): HeadRecord | null {
  try {
    const r = JSON.parse(text) as HeadRecord;
    const ok =
      r.v === VERSION && typeof r.store === 'string' && typeof r.host === 'string' && Number.isSafeInteger(r.pid) && typeof r.keyId === 'string' && typeof r.mac === 'string' &&
      Array.isArray(r.heads) && r.heads.every((h) => typeof h.writerId === 'string' && Number.isSafeInteger(h.seq) && typeof h.hash === 'string' && typeof h.at === 'number');
    return ok ? r : null;
  } catch {
    return null;
  }
}

/**
 * Removes the head files of `history` whose process has ended (this host, its pid gone) and whose
 * every head that counts a checkpoint line just appended (`line`) vouches for: what they held is
 * in the checkpoint file now. A file of a live process, or of another host, is left. Each is read
 * again just before, and removed only as it was read (`history` was read before the walk the line
 * ends: a process that committed since, then died, left heads no line vouches for). A pid is no
 * proof of an end (a verify in a PID namespace of its own sees no live gateway): a writer whose
 * file was removed under it writes it anew at its next commit (HeadFile.committed). The paths removed.
 */
export function absorbHeadFiles(history: CheckpointHistory, line: readonly ChainHead[], ring: KeyRing): string[] {
  const vouched = new Map(line.map((h) => [h.writerId, h.seq]));
  const removed: string[] = [];
  for (const file of history.headFiles ?? []) {
    if (file.host !== hostname() || processAlive(file.pid)) continue;
    if (!file.heads.every((h) => (vouched.get(h.writerId) ?? -1) >= h.seq)) continue;
    if (readHeadFile(file.path, ring)?.mac !== file.mac) continue;
    try {
      unlinkSync(file.path);
      removed.push(file.path);
    } catch {
      // removed meanwhile, or not ours to remove: read again next time
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface CheckpointHistory {
  /**
   * Per chain, the furthest head any valid checkpoint vouched for, and when: a line of the file, or
   * a writer's head file (HeadFile; `from` names it) with a head committed after the last
   * acceptance line that named its chain.
   */
  heads: Map<string, VouchedHead>;
  /** Per chain, where an operator accepted it as it stands after it was found broken inside (Checkpoint.broken), and when. */
  acceptedBreaks: Map<string, GoneChain & { at: number }>;
  /** Payments an operator accepted as lost, by id: when, and as what (Checkpoint.lost; no `kind` from `lostPayments`: not said). */
  acceptedDeletions: Map<number, { at: number; kind?: 'deleted' | 'altered'; digest?: string }>;
  /** Per chain, each break accepted exactly (Checkpoint.skips): its seq → the link the walk resumes at (0: none), what was seen there, and when. */
  acceptedSkips: Map<string, Map<number, { resume: number; next?: number; seen?: SeenBreak; at: number }>>;
  /** How many acceptance lines (ACCEPTED_ROLLBACK) were read: the scrub's memory of payments lets go what was lost before the last. */
  acceptances?: number;
  checkpoints: number;
  /** Lines that are not valid checkpoints (forged, altered, cut): each named by its line number; and head files that are not valid, by name. */
  invalid: string[];
  /** The valid head files of writers of this database (HeadFile), each with the heads that count (those no acceptance line after them named). */
  headFiles?: HeadFileClaim[];
}

/** Reads every checkpoint of the file for database `store` (none when the file does not exist yet). */
export function readCheckpoints(path: string, ring: KeyRing, store: string): CheckpointHistory {
  return new CheckpointReader(path, ring, store).read();
}

/**
 * What `by` of a checkpoint line says when an operator accepted the database as it now is
 * (`gerbang audit accept-rollback`): its heads replace what earlier lines vouched for, a head at
 * seq 0 saying the chain is gone. It is signed like any line, so only a holder of the keys can
 * write one.
 */
export const ACCEPTED_ROLLBACK = 'accept-rollback';

/**
 * The checkpoints of one file for database `store`, read as it grows: each `read()` reads only
 * the lines appended since the last (the whole file again if it was replaced or cut), so a
 * process can compare the database with it every few seconds however long the file gets. Each
 * `read()` also reads the head files beside it (HeadFile) as they are then, and takes their heads
 * as a line's, on top of the lines (a head file only ever raises a chain's head).
 */
export class CheckpointReader {
  private readonly history: CheckpointHistory = { heads: new Map(), acceptedBreaks: new Map(), acceptedDeletions: new Map(), acceptedSkips: new Map(), acceptances: 0, checkpoints: 0, invalid: [] };
  private offset = 0;
  private lineNumber = 0;
  /** Lines that are not valid checkpoints (CheckpointHistory.invalid without the head files). */
  private readonly lineInvalid: string[] = [];
  /** Per chain, the head the lines alone vouched for where a head file's replaced it (undefined: none). */
  private readonly overlaid = new Map<string, VouchedHead | undefined>();
  /** Per chain, when the last acceptance line named it (its head, or as gone): a head file's head committed before is not a claim. */
  private readonly acceptedAt = new Map<string, number>();

  constructor(
    private readonly path: string,
    readonly ring: KeyRing,
    readonly store: string,
  ) {}

  read(): CheckpointHistory {
    this.withoutHeadFiles();
    this.readLines();
    this.withHeadFiles();
    return this.history;
  }

  private readLines(): void {
    // Opened first, its length then read from the open file: one removed or replaced meanwhile is
    // either no file yet or the file as opened, never an error between two looks at its name.
    const fd = openIfThere(this.path);
    if (fd === null) return;
    let text: string;
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) this.restart();
      if (size === this.offset) return;
      const bytes = Buffer.alloc(size - this.offset);
      readSync(fd, bytes, 0, bytes.length, this.offset);
      text = bytes.toString('utf8');
    } finally {
      closeSync(fd);
    }
    // A line still being appended (no newline yet) is read next time.
    const complete = text.lastIndexOf('\n') + 1;
    this.offset += Buffer.byteLength(text.slice(0, complete));
    for (const line of text.slice(0, complete).split('\n').slice(0, -1)) this.take(line);
  }

  /** The heads as the lines alone vouch for them (what the head files added last time taken back), before more lines are read. */
  private withoutHeadFiles(): void {
    for (const [writerId, line] of this.overlaid) {
      if (line) this.history.heads.set(writerId, line);
      else this.history.heads.delete(writerId);
    }
    this.overlaid.clear();
  }

  /**
   * The head files (HeadFile) read as they are now, each head a claim like a line's: it counts
   * unless an acceptance line named its chain at or after its commit (the acceptance took the
   * chain as it stood then), and raises the chain's head where it is further than the lines'.
   */
  private withHeadFiles(): void {
    const { files, invalid } = readHeadFiles(this.path, this.ring, this.store);
    this.history.invalid = [...this.lineInvalid, ...invalid];
    const claims: HeadFileClaim[] = [];
    for (const file of files) {
      const heads = file.heads.filter((h) => h.at > (this.acceptedAt.get(h.writerId) ?? Number.NEGATIVE_INFINITY));
      claims.push({ path: file.path, host: file.host, pid: file.pid, heads, mac: file.mac });
      for (const head of heads) {
        const known = this.history.heads.get(head.writerId);
        if (known && known.seq >= head.seq) continue;
        if (!this.overlaid.has(head.writerId)) this.overlaid.set(head.writerId, known);
        this.history.heads.set(head.writerId, { writerId: head.writerId, seq: head.seq, hash: head.hash, at: head.at, keyId: file.keyId, from: `head file ${file.path}` });
      }
    }
    this.history.headFiles = claims;
  }

  private restart(): void {
    this.history.heads.clear();
    this.history.acceptedBreaks.clear();
    this.history.acceptedDeletions.clear();
    this.history.acceptedSkips.clear();
    this.history.acceptances = 0;
    this.history.checkpoints = 0;
    this.lineInvalid.length = 0;
    this.overlaid.clear();
    this.acceptedAt.clear();
    this.offset = 0;
    this.lineNumber = 0;
  }

  private take(text: string): void {
    this.lineNumber += 1;
    if (text.trim() === '') return;
    const { history, ring } = this;
    const line = parseLine(text);
    // A line under a key no longer in the ring (retired after keys rotate) can only add claims: skipped.
    if (line !== null && !ring.keyIds.includes(line.keyId)) return;
    const valid = line !== null && sameSecretText(macOf(ring, line.keyId, line), line.mac);
    if (!valid) {
      this.lineInvalid.push(`line ${this.lineNumber}`);
      return;
    }
    if (line.store !== this.store) return; // another database's (a file may serve several installations)
    history.checkpoints += 1;
    const accepted = line.by === ACCEPTED_ROLLBACK || line.by.startsWith(`${ACCEPTED_ROLLBACK}:`);
    if (accepted) history.acceptances = (history.acceptances ?? 0) + 1;
    if (accepted) for (const head of [...line.heads, ...(line.broken ?? [])]) this.acceptedAt.set(head.writerId, line.at);
    for (const head of line.heads) {
      const known = history.heads.get(head.writerId);
      if (accepted && head.seq === 0) history.heads.delete(head.writerId);
      // Another line's head at link 0 vouches for nothing, no link having been made (a head row whose
      // writer's first append the database refused, as verify checkpointed those before it left them out).
      else if (head.seq > 0 && (accepted || !known || head.seq >= known.seq)) history.heads.set(head.writerId, { ...head, at: line.at, keyId: line.keyId });
      // A chain accepted as gone is gone with whatever break was accepted in it.
      if (accepted && head.seq === 0) {
        history.acceptedBreaks.delete(head.writerId);
        history.acceptedSkips.delete(head.writerId);
      }
    }
    if (accepted) for (const head of line.broken ?? []) history.acceptedBreaks.set(head.writerId, { ...head, at: line.at });
    if (accepted) for (const id of line.lostPayments ?? []) history.acceptedDeletions.set(id, { at: line.at });
    if (accepted) for (const p of line.lost ?? []) history.acceptedDeletions.set(p.id, { at: line.at, kind: p.kind, digest: p.digest });
    if (accepted) {
      for (const skip of line.skips ?? []) {
        const chain = history.acceptedSkips.get(skip.writerId) ?? new Map<number, { resume: number; next?: number; seen?: SeenBreak; at: number }>();
        chain.set(skip.seq, { resume: skip.resume, next: skip.next, seen: skip.seen, at: line.at });
        history.acceptedSkips.set(skip.writerId, chain);
      }
    }
  }
}

function validSeen(seen: SeenBreak): boolean {
  return (
    typeof seen.problem === 'string' && typeof seen.table === 'string' && (seen.recordId === null || Number.isSafeInteger(seen.recordId)) && (seen.link === null || typeof seen.link === 'string') &&
    (seen.head === undefined || (Number.isSafeInteger(seen.head.seq) && typeof seen.head.hash === 'string'))
  );
}

function parseLine(text: string): Line | null {
  try {
    const line = JSON.parse(text) as Line;
    const ok =
      line.v === VERSION && typeof line.store === 'string' && typeof line.at === 'number' && typeof line.by === 'string' && typeof line.keyId === 'string' && typeof line.mac === 'string' &&
      [line.heads, ...(line.broken === undefined ? [] : [line.broken])].every((heads) => Array.isArray(heads) && heads.every((h) => typeof h.writerId === 'string' && Number.isSafeInteger(h.seq) && typeof h.hash === 'string')) &&
      (line.broken ?? []).every((h) => h.remained === undefined || (Number.isSafeInteger(h.remained.links) && Number.isSafeInteger(h.remained.maxSeq) && typeof h.remained.digest === 'string')) &&
      (line.lostPayments === undefined || (Array.isArray(line.lostPayments) && line.lostPayments.every((id) => Number.isSafeInteger(id)))) &&
      (line.lost === undefined || (Array.isArray(line.lost) && line.lost.every((p) => Number.isSafeInteger(p.id) && (p.kind === 'deleted' || p.kind === 'altered') && (p.digest === undefined || typeof p.digest === 'string')))) &&
      (line.skips === undefined ||
        (Array.isArray(line.skips) &&
          line.skips.every((k) => typeof k.writerId === 'string' && Number.isSafeInteger(k.seq) && Number.isSafeInteger(k.resume) && (k.next === undefined || Number.isSafeInteger(k.next)) && (k.seen === undefined || validSeen(k.seen)))));
    return ok ? line : null;
  } catch {
    return null;
  }
}


/** The links a comparison asks for (one a chain) and those the database holds (AuditRepository.linksAt). */
type LinksAt = (wanted: { writerId: string; seq: number }[]) => Promise<{ writerId: string; seq: number; hash: string; keyId: string | null }[]>;

/** Whether link `seq` of chain `writerId` holds where it stands: there, under a ring key, its MAC over its record (AuditRepository.walkChain of that one link). */
type LinkHolds = (writerId: string, seq: number) => Promise<boolean>;

/** LinkHolds answered by `audit`'s walk of the one link. */
export function linkHoldsIn(audit: Pick<AuditRepository, 'walkChain'>): LinkHolds {
  return async (writerId, seq) => 'next' in (await audit.walkChain(writerId, { seq, prevHash: null }, 1));
}

/**
 * What the database lacks that the checkpoints vouched for. `linksAt` answers the MACs the
 * database holds for the links asked for (a link gone is left out); `heads` are the database's
 * chain heads. Names each chain that vanished, was cut back (its newest records deleted, or the
 * database restored from an older copy), or holds another link where a checkpoint saw one. A link
 * under another key than the one checkpointed was re-linked by `keys rotate` only if its MAC holds
 * under a ring key (`holds`): a made-up one under a key id the ring lacks is `altered`.
 */
export async function compareWithCheckpoints(history: CheckpointHistory, path: string, heads: ChainHead[], linksAt: LinksAt, holds: LinkHolds): Promise<AuditChainBreak[]> {
  const breaks: AuditChainBreak[] = history.invalid.map((where) => ({
    writerId: null,
    seq: null,
    table: 'checkpoints' as const,
    recordId: null,
    problem: 'forged' as const,
    detail: where.startsWith('head file ') ? `${where} is not a record of chain heads signed with a ring key (written or altered by hand)` : `${path} ${where} is not a checkpoint signed with a ring key (added or altered by hand)`,
  }));
  const current = new Map(heads.map((h) => [h.writerId, h]));
  // The checkpointed link of every chain, all asked at once; one link a chain, so its chain names it.
  const inDatabase = new Map<string, { hash: string; keyId: string | null }>();
  for (const link of await linksAt([...history.heads].map(([writerId, seen]) => ({ writerId, seq: seen.seq })))) {
    if (history.heads.get(link.writerId)?.seq === link.seq) inDatabase.set(link.writerId, link);
  }
  const behind: string[] = [];
  for (const [writerId, seen] of history.heads) {
    // Made only for a break, not for each of thousands of chains.
    const when = () => `${new Date(seen.at).toISOString()}${seen.from === undefined ? '' : ` (${seen.from}, written as its writer committed it)`}`;
    const now = current.get(writerId);
    const link = inDatabase.get(writerId) ?? null;
    if (!now && link === null) {
      breaks.push({ writerId, seq: seen.seq, table: 'audit_writers', recordId: null, problem: 'vanished', detail: `chain ${writerId}, checkpointed at link ${seen.seq} on ${when()}, has vanished from the database (its records, links and head were deleted)` });
    } else if (link === null || (now && now.seq < seen.seq)) {
      behind.push(writerId);
      breaks.push({
        writerId,
        seq: seen.seq,
        table: 'audit_chain',
        recordId: null,
        problem: 'rolled-back',
        detail: `chain ${writerId} ends at link ${now?.seq ?? 0} but was checkpointed at link ${seen.seq} on ${when()}: its newest records were deleted, or the database was restored from an older copy`,
      });
    } else if (!sameSecretText(link.hash, seen.hash) && (link.keyId === seen.keyId || !(await holds(writerId, seen.seq)))) {
      // (A link under another key whose MAC holds was re-linked by keys rotate.)
      breaks.push({ writerId, seq: seen.seq, table: 'audit_chain', recordId: null, problem: 'altered', detail: `link ${seen.seq} of chain ${writerId} is not the one checkpointed on ${when()}: the chain was rewritten` });
    }
  }
  if (behind.length > 1) {
    breaks.push({
      writerId: null,
      seq: null,
      table: 'audit_chain',
      recordId: null,
      problem: 'rolled-back',
      detail: `${behind.length} chains are behind their checkpoints: the database was rolled back to an older copy (or their tails deleted)`,
    });
  }
  return breaks;
}

/**
 * What the database lacks that `history` vouched for (its lines that are not valid checkpoints
 * left aside), and the database's chain heads it was compared with: for the rollback watch,
 * `accept-rollback` and `audit export`. A chain still at the head a checkpoint saw needs no read of its link (most
 * chains: of processes that have ended), unless `readLinks`: the chain guard, whose walk read the
 * heads in another statement, reads every link vouched for where it lies (a head row switched
 * between an older link and the one checkpointed, its links after the older one deleted, would
 * show each read a head that holds); so does the takeover's proof (RollbackWatch.vouched), in the
 * snapshot its walk reads.
 */
export async function storeAgainstCheckpoints(
  audit: ChainReader,
  history: CheckpointHistory,
  path: string,
  options: { readLinks?: boolean } = {},
): Promise<{ breaks: AuditChainBreak[]; heads: Map<string, ChainHead> }> {
  const heads = new Map((await audit.chainHeads()).map((h) => [h.writerId, h]));
  const breaks = await compareWithCheckpoints({ ...history, invalid: [] }, path, [...heads.values()], async (wanted) => {
    // A chain whose head is the very link checkpointed is answered by its head row; the others are read.
    const answered: Awaited<ReturnType<LinksAt>> = [];
    const asked: typeof wanted = [];
    for (const link of wanted) {
      const head = heads.get(link.writerId);
      const seen = history.heads.get(link.writerId);
      if (!options.readLinks && head && seen && head.seq === link.seq && head.hash === seen.hash) answered.push({ writerId: link.writerId, seq: link.seq, hash: head.hash, keyId: seen.keyId });
      else asked.push(link);
    }
    return asked.length === 0 ? answered : [...answered, ...(await audit.linksAt(asked))];
  }, linkHoldsIn(audit));
  return { breaks, heads };
}

/** `path` opened for reading, or null when there is no such file (as it stands at the open itself). */
function openIfThere(path: string): number | null {
  try {
    return openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
