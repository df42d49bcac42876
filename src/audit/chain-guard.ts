import type { KeyRing } from '../security/index.js';
import type { AuditReads, ChainsAnswer } from '../store/types.js';
import { answerProblem, chainsAnswer } from '../store/repositories/audit-verify.js';
import { CheckpointReader, storeAgainstCheckpoints, type CheckpointHistory } from './checkpoints.js';
import { HELD_ON } from './rollback-watch.js';

/**
 * Whether the keyed audit chains hold as a whole right now, as far as can be cheaply proved (#16,
 * #14): what a reader that trusts one link's MAC asks before it acts on it. A record deleted with
 * its link leaves a gap in its writer's chain, and each link left still holds by itself: a
 * payment's newest event deleted with its link (its row set back to the event before) agrees with
 * its history; a day's seal deleted with its change records leaves the day as if never sealed; a
 * notification's delivery record and attempts deleted leave it as if never sent. `problem` says so
 * before the reconciliation seals a day or a notification is queued again:
 * - the database's own (AuditRepository.chainGaps): every chain holding links has its head row; a
 *   chain idle since `since` is proved by its head link's MAC; every other chain's links linked
 *   since then are walked in order as `audit verify` walks them, each MAC over its record (so a
 *   record deleted while its link stays, or a made-up link in a deleted one's place, is found);
 *   a link under a key the ring lacks is not provable; links an operator accepted as broken
 *   (`gerbang audit accept-rollback`) left out;
 * - and against the checkpoints outside the database (the lines of the checkpoint file and the
 *   head files beside it, read as the file grows): a chain cut back behind what a checkpoint
 *   vouched for (its newest links deleted and its head set back), or deleted whole, as the
 *   rollback watch holds on it (storeAgainstCheckpoints). A file that is there but cannot be read
 *   is a problem too (fail closed); one not written yet vouches for nothing.
 * Links older than `since` are `audit verify`'s (and the scrub's) to prove.
 */
export class ChainGuard {
  private readonly reader: CheckpointReader;

  constructor(
    private readonly audit: Pick<AuditReads, 'chainGaps' | 'chainHeads' | 'linksAt' | 'walkChain'>,
    ring: KeyRing,
    private readonly path: string,
    store: string,
  ) {
    this.reader = new CheckpointReader(path, ring, store);
  }

  /**
   * Null when the chains hold as above; else why not, in words naming each chain and its links
   * (the first NAMED). `since`: only links linked from then on need be there (a reader that
   * depends on nothing older: the seal of days from a day's start on). Reads the database as it
   * stands (a caller that reads in a snapshot of its own asks vouchedProblem before it begins).
   * Throws when the database cannot be read.
   */
  async problem(since?: number): Promise<string | null> {
    return this.vouchedProblem()(since, this.audit);
  }

  /**
   * problem in two steps, as vouched: the checkpoints read now, before the caller's snapshot
   * begins; then the problem over the chains as `audit` reads them, that snapshot (AuditRepository.inSnapshot).
   */
  vouchedProblem(): (since: number | undefined, audit: Pick<AuditReads, 'chainGaps' | 'chainHeads' | 'linksAt' | 'walkChain'>) => Promise<string | null> {
    const vouched = this.vouched();
    return async (since, audit) => answerProblem(await vouched(since, undefined, audit));
  }

  /**
   * The chains' answer (ChainsAnswer: the database's walk bounded by `maxLinks`, a reading's, is
   * `left` when it would be longer and the checkpoints name nothing; a break found, by the
   * checkpoints or without a walk, is the problem) in two steps, for a reader that walks the
   * chains in a snapshot of its own (a seal: SealGuard): the checkpoints as the file and head files stand now, read before that snapshot
   * begins (as RollbackWatch.vouched reads them), so that they vouch only for links committed
   * before it; then the answer over the chains as `audit` reads them, that snapshot. Read once it
   * has begun, they may vouch for a link another writer committed meanwhile (the seal sweep's, an
   * access-log entry's), which the snapshot lacks: its chain would be named cut back.
   */
  vouched(): (since: number | undefined, maxLinks: number | undefined, audit: Pick<AuditReads, 'chainGaps' | 'chainHeads' | 'linksAt' | 'walkChain'>) => Promise<ChainsAnswer> {
    let read: CheckpointHistory;
    try {
      read = this.reader.read();
    } catch (error) {
      const problem = `the audit checkpoint file ${this.path} cannot be read (${error instanceof Error ? error.message : String(error)}), so whether the chains were cut back cannot be told (GERBANG_AUDIT_CHECKPOINT_FILE)`;
      return async () => problem;
    }
    // The reader's history grows in place at its next read (another reading's): these are the ones read now.
    const history: CheckpointHistory = { ...read, heads: new Map(read.heads) };
    const excluded = acceptedLinks(history);
    const gone = goneChains(history);
    return async (since, maxLinks, audit) => {
      const breaks = await audit.chainGaps({ since, excluded, gone, maxLinks });
      if (history.heads.size > 0) breaks.push(...(await storeAgainstCheckpoints(audit, history, this.path, { readLinks: true })).breaks.filter((b) => HELD_ON.includes(b.problem)));
      return chainsAnswer(breaks);
    };
  }
}

/**
 * The links of each chain an operator accepted as broken (lines of `gerbang audit accept-rollback`):
 * a skip's links from its break up to the one the walk resumes at (or, after a tail cut, up to
 * the one its writer appended next), and a chain accepted as it stood through a link (older lines) up
 * to that link. A chain accepted as gone is not among them (goneChains).
 */
export function acceptedLinks(history: CheckpointHistory): Map<string, { from: number; to: number }[]> {
  const accepted = new Map<string, { from: number; to: number }[]>();
  const add = (writerId: string, range: { from: number; to: number }) => accepted.set(writerId, [...(accepted.get(writerId) ?? []), range]);
  for (const [writerId, acceptance] of history.acceptedBreaks) if (acceptance.seq > 0) add(writerId, { from: 1, to: acceptance.seq });
  for (const [writerId, skips] of history.acceptedSkips) {
    for (const [seq, skip] of skips) add(writerId, { from: seq, to: skip.resume > 0 ? skip.resume - 1 : skip.next !== undefined ? skip.next - 1 : Number.POSITIVE_INFINITY });
  }
  return accepted;
}

/**
 * The chains an operator accepted as gone (their head row deleted: `broken` at link 0). Accepting
 * one excuses its missing head and the breaks accepted in it exactly (acceptedLinks), not a record
 * of what remains that stops matching its link later: the guard walks what remains (chainGaps' `gone`).
 */
export function goneChains(history: CheckpointHistory): Set<string> {
  return new Set([...history.acceptedBreaks].filter(([, acceptance]) => acceptance.seq === 0).map(([writerId]) => writerId));
}
