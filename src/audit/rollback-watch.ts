import { statSync } from 'node:fs';
import { getLogger } from '../log/index.js';
import type { KeyRing } from '../security/index.js';
import type { AuditChainBreak, AuditRepository, ChainReader, VouchedChains } from '../store/types.js';
import { CheckpointReader, storeAgainstCheckpoints, type CheckpointHistory } from './checkpoints.js';

const log = getLogger('audit');

/** What the watch holds on: the database lacks what a checkpoint vouched for. */
export const HELD_ON: readonly AuditChainBreak['problem'][] = ['rolled-back', 'vanished', 'altered'];

/**
 * Compares the database's chain heads with the checkpoints outside it (the lines of the file, and
 * the head file each writer overwrites at every commit: CheckpointReader), at start and every few
 * seconds, and holds the gateway's payments while the database lacks what a checkpoint vouched
 * for: a chain cut back or deleted, or the whole database restored from an older copy. Such a
 * database has forgotten payments the bank executed (a resend would pay them again) and changes
 * that decide who may pay (a disable, a revoked grant); nothing is sent from it until an operator
 * has looked and accepted it as it is (`gerbang audit accept-rollback`, a signed line of the
 * checkpoint file, which the next check reads).
 *
 * A line of the file that is not a valid checkpoint does not hold anything (anyone who can write
 * the file could delete it as well); `audit verify` names it.
 *
 * The console asks it too (`recent`), when its overview is opened: an attacker with SQL and no
 * key who deletes the newest failed verification run whole (its result, its links, its chain's
 * head row) leaves an older "intact" result that holds in the database alone; the checkpoint that
 * the run's process wrote as it closed (and its head file before) names the chain gone.
 */
export class RollbackWatch {
  private readonly reader: CheckpointReader;
  private breaks: AuditChainBreak[] = [];
  /** When the last check that completed began, and the checkpoint file's size then (recent). */
  private checked: { at: number; size: number } | null = null;
  private checking: Promise<void> | null = null;

  /** `holds`: what this process holds while the database lacks what was vouched for (its log lines name it). */
  constructor(
    private readonly audit: Pick<AuditRepository, 'chainHeads' | 'linksAt' | 'walkChain' | 'inSnapshot'>,
    ring: KeyRing,
    private readonly path: string,
    store: string,
    private readonly confirmMs = 2_000,
    private readonly holds = 'payments',
  ) {
    this.reader = new CheckpointReader(path, ring, store);
  }

  /** Why payments are held (the chains the database lacks), or null when it holds all the checkpoints vouched for. */
  get held(): string | null {
    return this.lacking(this.breaks);
  }

  /**
   * The checkpoints as the file and head files stand now, for a proof to compare the chains of its
   * own snapshot with (PaymentRepository.laterHistory): read before that snapshot begins, so that
   * it holds every link they vouch for unless it was taken out; every link vouched for is read
   * where it lies in it (readLinks), not taken from a head row that could be set back and forth.
   * Holds nothing: what it finds is that proof's problem. Throws when the file cannot be read.
   */
  vouched(): VouchedChains {
    const read = this.reader.read();
    // The reader's history grows in place at its next read: these heads are the ones read now.
    const history: CheckpointHistory = { ...read, heads: new Map(read.heads) };
    return async (chains) => {
      if (history.heads.size === 0) return null;
      const { breaks } = await storeAgainstCheckpoints(chains, history, this.path, { readLinks: true });
      return this.lacking(breaks.filter((b) => HELD_ON.includes(b.problem)));
    };
  }

  /** Reads what was appended to the file and compares the database with it. Throws when the database cannot be read. */
  async check(): Promise<void> {
    const history = this.reader.read();
    if (history.heads.size === 0) {
      this.hold([]);
      return;
    }
    let found = await this.compare(history, this.audit);
    // On a cluster, this node may not have applied another node's last commit yet when its
    // checkpoint is read: a new finding is held only if it is still there a moment later, read
    // once the node applied every commit the cluster made before (a causal snapshot: on a Galera
    // node held up longer, a backup's FLUSH TABLES WITH READ LOCK, it waits for it to catch up).
    if (found.length > 0 && this.breaks.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, this.confirmMs));
      found = await this.audit.inSnapshot((audit) => this.compare(history, audit), { causal: true });
    }
    this.hold(found);
  }

  /**
   * Why the database is held (`held`), as found by a check begun at most `maxAgeMs` ago and after
   * the checkpoint file last grew (a new line: new heads to compare); else one check now, shared
   * by whoever asks meanwhile. The console's overview asks it when opened, so an overview costs a
   * comparison at most once per `maxAgeMs` (the gateway's interval). Throws as `check` does.
   */
  async recent(maxAgeMs: number, clock: () => number = Date.now): Promise<string | null> {
    const fresh = () => this.checked !== null && this.checked.size === this.fileSize() && clock() - this.checked.at <= maxAgeMs;
    if (fresh()) return this.held;
    // One begun before the file grew, or too long ago by the time it ends, is followed by one more.
    if (this.checking !== null) await this.checking.catch(() => undefined);
    if (!fresh()) await this.checkOnce(clock);
    return this.held;
  }

  /** A check, the one in progress if any; `checked` says when it began and how long the file was then. */
  private checkOnce(clock: () => number): Promise<void> {
    this.checking ??= (async () => {
      const begun = { at: clock(), size: this.fileSize() };
      try {
        await this.check();
        this.checked = begun;
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  /** The checkpoint file's length; 0 while there is none (in one call: a file removed meanwhile does not throw). */
  private fileSize(): number {
    return statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
  }

  private async compare(history: CheckpointHistory, audit: ChainReader): Promise<AuditChainBreak[]> {
    const { breaks } = await storeAgainstCheckpoints(audit, history, this.path);
    return breaks.filter((b) => HELD_ON.includes(b.problem));
  }

  /** What `breaks` say the database lacks, in words (the first three named), or null when none. */
  private lacking(breaks: readonly AuditChainBreak[]): string | null {
    if (breaks.length === 0) return null;
    const named = breaks.slice(0, 3).map((b) => b.detail);
    const more = breaks.length > named.length ? ` (and ${breaks.length - named.length} more)` : '';
    return `the database holds less than the audit checkpoints in ${this.path} vouched for: ${named.join('; ')}${more}`;
  }

  private hold(breaks: AuditChainBreak[]): void {
    const was = this.breaks.length > 0;
    this.breaks = breaks;
    if (breaks.length > 0 && !was) log.error({ breaks: breaks.map((b) => b.detail) }, `${this.holds} held: the database was rolled back or cut behind its audit checkpoints; see \`gerbang audit verify\``);
    if (breaks.length === 0 && was) log.warn(`${this.holds} resumed: the database holds what the audit checkpoints vouch for (a rollback was accepted)`);
  }
}
