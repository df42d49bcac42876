import { createHash, type Hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../errors/index.js';
import { getLogger } from '../log/index.js';
import type { KeyRing } from '../security/index.js';
import { acceptedAs, type LostPayment } from '../store/repositories/audit-verify.js';
import type { AuditChainBreak, AuditRepository, ChainPiece, ChainPosition, ChainRemains } from '../store/types.js';
import { CheckpointReader, type CheckpointHistory, type SeenBreak } from './checkpoints.js';
import { stampOf } from '../store/repositories/remembered-payments.js';
import { memorySecret, readMemoryFile, removeStaleTemporaries, writeMemoryFile } from './memory-file.js';
import { PaymentMemory } from './payment-memory.js';

const log = getLogger('audit');

/** The first link of every chain (it follows the chain's genesis). */
const FIRST_LINK: ChainPosition = { seq: 1, prevHash: null };

/** What the scrub reads of the audit. */
export type ScrubbedAudit = Pick<AuditRepository, 'chains' | 'chainHeads' | 'walkChain' | 'lostPayments' | 'lastPaymentEventId' | 'linkCounts' | 'paymentKeys' | 'lostPayment' | 'linksAt' | 'chainRemains' | 'remainsPage' | 'resumeAfterBreak'>;

/**
 * Each chain accepted as gone whose acceptance said what remained of it (GoneChain.remained)
 * and whose remains differ now: a link added under its writer id (a slot for forged records),
 * altered or removed, or its head row back. Lines that did not say are not compared.
 */
export async function goneChainBreaks(audit: Pick<AuditRepository, 'chainRemains'>, accepted: CheckpointHistory['acceptedBreaks']): Promise<(AuditChainBreak & { writerId: string })[]> {
  const breaks: (AuditChainBreak & { writerId: string })[] = [];
  for (const [writerId, acceptance] of accepted) {
    if (acceptance.seq !== 0 || acceptance.remained === undefined) continue;
    const found = goneChainBreak(writerId, acceptance, await audit.chainRemains(writerId));
    if (found !== null) breaks.push(found);
  }
  return breaks;
}

/** Chain `writerId` accepted as gone against what remains of it `now` (read whole, or as the scrub read it page by page): the break when it differs from what remained then, else null. */
function goneChainBreak(writerId: string, acceptance: { at: number; remained?: { links: number; maxSeq: number; digest: string } }, now: ChainRemains): (AuditChainBreak & { writerId: string }) | null {
  const was = acceptance.remained;
  if (was === undefined || (now.head === null && now.links === was.links && now.maxSeq === was.maxSeq && now.digest === was.digest)) return null;
  const what = [
    ...(now.head === null ? [] : [`its head row is back (link ${now.head.seq})`]),
    ...(now.links === was.links && now.maxSeq === was.maxSeq && now.digest === was.digest
      ? []
      : [`it holds ${now.links} link(s) up to link ${now.maxSeq} where ${was.links} up to link ${was.maxSeq} remained${now.links === was.links && now.maxSeq === was.maxSeq ? ', altered' : ''}`]),
  ];
  const when = new Date(acceptance.at).toISOString();
  return { writerId, seq: null, table: 'audit_chain', recordId: null, problem: 'forged', detail: `chain ${writerId}, accepted as gone on ${when}, is not as it was then: ${what.join('; ')} (links added, altered or removed under its writer id since)` };
}

/** What the scrub read so far of a chain accepted as gone (learnGone): as chainRemains counts and digests it. */
type GoneRead = { links: number; maxSeq: number; digest: Hash };

/**
 * A break's problem as a match of an accepted one compares it: a missing link is worded
 * `deleted` by one walk and `truncated` by another (a whole walk, a piece, its confirmation).
 */
export function sortOf(problem: string): string {
  return problem === 'truncated' ? 'deleted' : problem;
}

/** One full cycle of the scrub: every chain walked from its first link (or where it was accepted) to its head. */
export interface ScrubCycle {
  chains: number;
  links: number;
  ms: number;
  /** When it ended (epoch ms). */
  at: number;
}

/** What the scrub reads of the audit repository. */
/** A break found, with the acceptance of its chain there was then (the time of its line), if any. */
type Finding = AuditChainBreak & { writerId: string; acceptedAt: number | null; resume: number | null };

/**
 * What a piece costs beside its links, in links: its chain's head read, its page and record reads
 * (a few statements, about what 20 links cost). A store of many short chains (one a process that
 * ever ran) is walked at the same CPU a pass as one long chain.
 */
const PIECE_COST = 20;

/**
 * How long the passes may fail one after another (the database unreadable, a value the walk
 * cannot handle) before payments are held: the scrub that cannot move cannot see a deletion.
 */
const STALL_MS = 60_000;

/**
 * The links proved by the walk of new links whose presence is counted again every pass, in
 * passes' links (`linksPerPass`): by default the newest 4,000 of them, shared evenly among the
 * chains that grew (one index range COUNT per chain, made by the database, read nothing; a
 * deletion among them is found at the next pass).
 */
const COUNTED_PASSES = 2;

/**
 * The links appended since the last pass that one pass proves at most, in passes' links: each is
 * proved once, so this follows the traffic (20,000 links by default: about 1,600 transfers/s of
 * this store's gateways together); more are proved at the next passes (`linksBehind`).
 */
const NEW_PASSES = 10;

/** Deleted payments held on at most from one range's check (the others are found once those are accepted; an acceptance finds every one: lostIn). */
const HELD_SHOWN = 20;

/**
 * An acceptance (`walkOn`) checks the payment events a page of this many ids at a time, each page
 * asked for as many lost payments as it has ids (each payment's last event is one id): every lost
 * payment is found and named, not the first HELD_SHOWN.
 */
const ACCEPTANCE_PAGE = 5_000;

/**
 * How long a new payment whose key the memory does not know waits for the memory to be whole
 * (AuditScrub.complete) before it is refused unsent, and how often it looks meanwhile.
 */
const LEARNING_WAIT_MS = 5_000;
const LEARNING_POLL_MS = 100;

/** Completed cycles logged at info at most this often; the others at debug (a small store completes one every pass). */
const CYCLE_LOG_MS = 60_000;

/**
 * The background scrub: walks every audit chain from its first link to its head again and again,
 * as `audit verify` walks it (AuditRepository.walkChain), at most `linksPerPass` links a pass (each
 * chain's piece counting PIECE_COST more), a pass every GERBANG_AUDIT_SCRUB_MS, so a store of L
 * links in C chains is walked whole every (L + 20 C) / linksPerPass passes. A payment deleted whole in SQL (its row, its events and their links
 * from the middle of a chain, the heads left as they were) leaves every head and checkpoint as it
 * was, so the rollback watch sees nothing; its ERP's resend would be paid again. The walk names
 * the missing link, and payments are held as the rollback watch holds them (readyz 503, every
 * request refused naming the chain and the link) until an operator accepts the chain as it
 * stands (`gerbang audit accept-rollback`, a signed line of the checkpoint file naming it).
 *
 * A chain grown under the walk is walked up to its head as read; one `keys rotate` re-linked
 * between two pieces breaks the piece that carried the old MAC, and a purged record's link stands
 * as its purge saw it (as in verify). A break is held only when it is still there after
 * `confirmMs`, walked again from the link before the piece (a cluster node behind, a rotation).
 * A break accepted exactly (`skips` of an acceptance line) is stepped over, the walk going on at
 * the link that followed it then; a chain accepted by an older line (through its head) is walked
 * from that head on. An acceptance (`walkOn`) walks on past each break and lists every one, and
 * every lost payment; `audit verify` walks so the chains its own walk found broken (`chains`).
 *
 * Beside that slow walk, every pass proves the links appended since the last pass once each
 * (walkNew) and has the database count the newest of them again (countLinks): a deletion among
 * them is held within a pass and the confirmation, without MACing a link twice. And whatever the
 * walks reach, the double payment itself is closed at its source: every payment whose events'
 * links either walk proves is remembered by its idempotency key (`memory`, about 29-57 bytes a
 * payment), as is every payment of what remains of a chain accepted as gone, read each cycle
 * while it is as accepted (learnGone), and every payment this process reserves; a new payment for a remembered key is
 * checked against the remembered payment in the database first (beforeNewPayment), and refused
 * unsent when that payment was deleted, altered or replaced at its id, then held once confirmed. The
 * memory outlives the process (saveMemory, resume: a file beside the checkpoints), and until it is
 * whole (complete) a new payment whose key it does not know is not sent (afterLearning). What
 * this process has not seen (a payment deleted before a pass proved its links) is still found by
 * the walks only.
 */
export class AuditScrub {
  /** The acceptances: read from the checkpoint file as it grows (a gateway), or given once (accept-rollback). */
  private readonly reader: CheckpointReader | null;
  private readonly history: CheckpointHistory | null;
  private readonly findings = new Map<string, Finding>();
  /** With `walkOn`: every break walked over, in order. */
  private readonly walkedOver: Finding[] = [];
  /** With `walkOn`: every break stepped over as an operator accepted it exactly (`skips`), in order. */
  private readonly steppedOver: (AuditChainBreak & { writerId: string; resume: number; unproven?: true })[] = [];
  /** Payments the ERP's resend would not find (row deleted without its release, or altered away from its MAC), by id. */
  private readonly deleted = new Map<number, LostPayment>();
  /** Where the check of every payment's last event goes on (payment_events id): round and round as the chains are. */
  private sweep = 1;
  /**
   * Chains left in this cycle, and the one being walked with where its next piece starts (`gone`:
   * a chain accepted as gone whose remains are read for their payments, from link `from.seq`, with
   * the links read so far, the newest's seq and their running digest, as chainRemains counts them).
   */
  private queue: string[] = [];
  private at: { writerId: string; from: ChainPosition; gone?: GoneRead } | null = null;
  /** The chains accepted as gone whose remains were as accepted when this cycle started (checkGone): their payments are learned in it (learnGone). */
  private goneToLearn = new Set<string>();
  /** The cycle under way: when it started, its chains taken so far and their links. */
  private cycle: { started: number; walked: Set<string>; links: number } | null = null;
  /**
   * Whether the slow walk learned every payment (the memory is whole; later cycles learn again what
   * a pass missed): once a full cycle ended and every chain it stopped at a break in (`cutShort`)
   * was since walked on to its head (past the break, once accepted).
   */
  private learned = false;
  /**
   * Until the memory is whole, the chains the slow walk did not walk to a head the attacker cannot
   * lower (trustedHead): stopped at a break it holds on, their head read lower than one vouched for
   * or read before (set back in SQL for a pass, or a cluster node behind), or not walked at all
   * (vanished while the cycle ran). The payments of their links past where the walk stopped were
   * not learned, so a cycle that ended with one does not make the memory whole; the chain walked
   * to such a head later does. Only a chain accepted as gone leaves it otherwise.
   */
  private readonly cutShort = new Set<string>();
  /**
   * Until the memory is whole, the chains accepted as gone whose payments were not learned yet:
   * every one accepted when the first cycle started, one the walk cut short and accepted as gone
   * since (cutShortFirst), and one awaited (goneAwaited). One leaves it once its remains were read
   * to their end in a cycle and were as accepted (learnGone), or once walked to its head (an
   * acceptance of it no longer as gone); while one is left the memory is not whole, as with cutShort.
   */
  private readonly goneUnlearned = new Set<string>();
  /**
   * Until the memory is whole, the chains accepted as gone whose payments even a memory resumed from
   * a file may lack (awaitGone): each is in goneUnlearned too, and keeps a resumed memory from being
   * whole as well, until its remains were learned as accepted (learnGone). `unproven`: accepted by a
   * line that did not say what remained of it (written before `remained`), whose remains are not
   * learned as they stand, nothing showing that a payment was not deleted whole from them since (its
   * row, events and links leave no trace there), until an operator accepts again (`audit verify`
   * names such a line not provably the same break), saying what remains. Otherwise, resumed: its
   * remains reach past the link up to which that memory holds the payments of its links.
   */
  private readonly goneAwaited = new Map<string, { unproven: boolean }>();
  /** The chains accepted as gone whose remains this process learned as accepted (learnGone): not awaited again. */
  private readonly goneRead = new Set<string>();
  /**
   * Per chain, the highest head this process read (the walk of new links reads every head each
   * pass), since the last acceptance line it read (an acceptance may set a head back by right).
   */
  private readonly headsRead = new Map<string, number>();
  /**
   * Per chain, the first head this process read since the last acceptance line it read, and
   * whether a head read since was another (seq or MAC): a tail cut is as accepted only while every
   * head read since is its head then (seenAgain).
   */
  private readonly headsSince = new Map<string, { seq: number; hash: string; moved: boolean }>();
  /** Passes asked for while one runs: one more runs after it, shared by every caller meanwhile (pass()). */
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private lastLogged = 0;
  /** The last full cycle, and how many were completed. */
  last: ScrubCycle | null = null;
  cycles = 0;
  /** When the scrub was made (epoch ms): what a stalled scrub is measured from before its first cycle. */
  readonly since: number;
  /** Per chain, where the walk of its new links goes on (`next`), and the first link that walk proved. */
  private readonly newLinks = new Map<string, { next: ChainPosition; first: number }>();
  /** Passes that walked new links (the chain it starts with turns round). */
  private newPasses = 0;
  /** Links appended that the walk of new links had not proved yet at the last pass (0: it keeps up). */
  linksBehind = 0;
  /** Links proved before whose presence the last pass counted. */
  linksCounted = 0;
  /**
   * Every payment whose events' links the scrub proved while its row stood under its MAC, by its
   * idempotency key (client, transactionId), so that a new payment for that key is checked against
   * it (beforeNewPayment) whatever became of its records since.
   */
  memory: PaymentMemory;
  /** The ring key the memory's hashes are keyed under (memorySecret), when the memory can be written out; null: a random secret. */
  private memoryKeyId: string | null = null;
  /** Whether the memory and the walk of new links' positions were read from the file an earlier process wrote (resume). */
  private resumed = false;
  /** Whether, resumed, the walk of new links has proved every link after those positions (and every link of the chains it did not name), up to heads it cannot be made to take as the end (trustedHead). */
  private caughtUp = false;
  /** Resumed, not caught up yet: the chains whose head, as the walk of new links last read it, lies below one a checkpoint vouched for or it read before (or that it did not read at all). */
  private shortOfHead: string[] = [];
  /** The acceptance lines read: a payment held by the check of a new payment before the last one was accepted by it. */
  private epoch = 0;
  /** Payments the check of a new payment found lost, until confirmed after `confirmMs`: by id, with their key. */
  private readonly suspects = new Map<number, { clientId: string; transactionId: string; stamp: number; at: number }>();
  /** Payments held after that check, by id: their key, and the epoch they were held in (a later acceptance lets them go). */
  private readonly lostKeys = new Map<number, { clientId: string; transactionId: string; epoch: number }>();
  /** When a pass last ended without an error (epoch ms), or null before the first. */
  lastPass: number | null = null;
  /** Since when passes fail one after another, and the last error. */
  private failing: { since: number; error: string } | null = null;
  private readonly clock: () => number;
  /** How long a new finding waits before it is walked again to confirm it. */
  private readonly confirmMs: number;

  constructor(
    private readonly audit: ScrubbedAudit,
    checkpoints: { ring: KeyRing; path: string; store: string } | { history: CheckpointHistory },
    /**
     * `walkOn` with `chains`: only those chains walked, and no payment checked (`audit verify`, whose own walk found them broken and checks the payments itself).
     * `exactOnly`: acceptances that do not say what they saw (lines written before they did) are not honoured, so that an acceptance finds those breaks again and accepts them exactly.
     */
    private readonly options: { linksPerPass: number; confirmMs?: number; stallMs?: number; clock?: () => number; quiet?: boolean; walkOn?: boolean; chains?: readonly string[]; exactOnly?: boolean },
  ) {
    this.reader = 'history' in checkpoints ? null : new CheckpointReader(checkpoints.path, checkpoints.ring, checkpoints.store);
    this.memoryKeyId = 'ring' in checkpoints ? checkpoints.ring.currentKeyId : null;
    this.memory = 'ring' in checkpoints ? new PaymentMemory(memorySecret(checkpoints.ring, checkpoints.ring.currentKeyId)) : new PaymentMemory();
    this.history = 'history' in checkpoints ? checkpoints.history : null;
    this.clock = options.clock ?? Date.now;
    this.confirmMs = options.confirmMs ?? 2_000;
    this.since = this.clock();
  }

  /** How long the scrub's passes may fail one after another before payments are held. */
  get stallMs(): number {
    return this.options.stallMs ?? STALL_MS;
  }

  /** Why payments are held (each broken chain and its link, or a scrub that cannot make progress), or null. */
  get held(): string | null {
    const now = this.clock();
    const stalled =
      this.failing !== null && now - this.failing.since >= this.stallMs
        ? `the audit scrub cannot make progress: its passes have failed for ${Math.round((now - this.failing.since) / 1000)} s (${this.failing.error}), so records deleted inside the audit chains would go unseen`
        : null;
    if (this.findings.size === 0 && this.deleted.size === 0) return stalled;
    const all = [...[...this.deleted.values()].map((d) => d.detail), ...[...this.findings.values()].map((b) => `chain ${b.writerId} link ${b.seq ?? 'head'}: ${b.detail}`)];
    const named = all.slice(0, 3);
    const more = all.length > named.length ? ` (and ${all.length - named.length} more)` : '';
    const found = `the audit scrub found records deleted or altered inside audit chains: ${named.join('; ')}${more}`;
    return stalled === null ? found : `${found}; ${stalled}`;
  }

  /** The breaks held on (one per chain, one per payment deleted). */
  get breaks(): AuditChainBreak[] {
    const payments = [...this.deleted.values()].map((d): AuditChainBreak => ({ writerId: null, seq: null, table: 'payments', recordId: d.paymentId, problem: d.kind, detail: d.detail }));
    const chains = this.options.walkOn ? this.walkedOver : [...this.findings.values()];
    return [...payments, ...chains.map(({ acceptedAt: _, resume: __, ...b }) => b)];
  }

  /** With `walkOn` (an acceptance): every break found inside a chain, with the first link after it (null: none). */
  get chainBreaks(): (AuditChainBreak & { writerId: string; resume: number | null })[] {
    return this.walkedOver.map(({ acceptedAt: _, ...b }) => b);
  }

  /** With `walkOn`: every break found inside a chain that an operator accepted (`skips`), with the link the walk resumed at (0: none); `unproven` when its line did not say what it saw. */
  get acceptedBreaks(): (AuditChainBreak & { writerId: string; resume: number; unproven?: true })[] {
    return [...this.steppedOver];
  }

  /** The payments held on (row deleted without its release, or altered away from its MAC), as found. */
  get lost(): LostPayment[] {
    return [...this.deleted.values()];
  }

  /**
   * One pass: walks up to `linksPerPass` links, going on where the last pass stopped; a pass that
   * completes a cycle ends there. Throws when the database cannot be read (the walk goes on from
   * the same place next pass). One pass at a time: called while one runs (the pass at start, the
   * periodic one, a caller of its own), it runs one more after it, which every call made meanwhile
   * shares; the passes never interleave (two walks at the same place would each move it on).
   */
  pass(): Promise<void> {
    if (this.queued !== null) return this.queued;
    if (this.running === null) return this.runPass();
    const queued = this.running.catch(() => undefined).then(() => {
      this.queued = null;
      return this.runPass();
    });
    this.queued = queued;
    return queued;
  }

  private runPass(): Promise<void> {
    const running = this.passOnce().finally(() => {
      if (this.running === running) this.running = null;
    });
    this.running = running;
    return running;
  }

  private async passOnce(): Promise<void> {
    const clock = this.clock;
    try {
      await this.walk(clock);
      this.failing = null;
      this.lastPass = clock();
    } catch (error) {
      // The position does not move: a pass that throws again and again leaves the chains unwalked.
      const now = clock();
      const since = this.failing?.since ?? now;
      if (this.failing === null && !this.options.quiet) log.warn({ err: error }, 'audit scrub pass failed; payments are held if it cannot make progress for a while');
      this.failing = { since, error: error instanceof Error ? error.message : String(error) };
      if (now - since >= this.stallMs && !this.options.quiet) log.error({ err: error, sinceMs: now - since }, 'payments held: the audit scrub cannot make progress');
      throw error;
    }
  }

  /**
   * Before new payment `id` for (`clientId`, `transactionId`) goes to a bank (its reservation has
   * just found the key free): null at once, from memory, when the scrub remembers no other payment
   * for that key, or remembers this very payment (its id and its creation time, created at
   * `createdAt`). Otherwise the payment it remembers is checked exactly in the database, by id
   * (AuditRepository.lostPayment: the row there must carry its key and creation time and agree
   * with its history), however long ago it was learned: null when it was released, or an
   * acceptance names it as lost; else the reason, naming it. Such a payment is held as the scrub's
   * other findings are once confirmed after `confirmMs`, and let go by the next acceptance.
   */
  beforeNewPayment(clientId: string, transactionId: string, id: number, createdAt: number): Promise<string | null> | null {
    const known = this.memory.recall(clientId, transactionId);
    if (known === null) {
      // Not known, but the memory is not whole yet: a payment made before this process started may be the key's.
      if (!this.complete) return this.afterLearning(clientId, transactionId, id, createdAt);
      this.memory.remember(clientId, transactionId, id, createdAt);
      return null;
    }
    // This very payment (its id and creation time: an id alone may have been given out again).
    if (known.id === id && known.stamp === stampOf(createdAt)) return null;
    return this.checkRemembered({ clientId, transactionId, stamp: known.stamp }, known.id, id, createdAt);
  }

  private async checkRemembered(key: { clientId: string; transactionId: string; stamp: number }, known: number, id: number, createdAt: number): Promise<string | null> {
    const held = this.deleted.get(known);
    if (held) return held.detail;
    const lost = await this.audit.lostPayment(known, key);
    if (lost === null || this.acceptedLoss((this.history ?? this.reader!.read()).acceptedDeletions, lost)) {
      this.memory.remember(key.clientId, key.transactionId, id, createdAt);
      return null;
    }
    if (!this.suspects.has(known)) {
      this.suspects.set(known, { ...key, at: this.clock() });
      if (!this.options.quiet) log.error({ payment: known, newPayment: id, problem: lost.kind, detail: lost.detail }, 'a new payment refused: the audit scrub saw a payment for its transactionId that is lost now; it holds payments once this is confirmed');
    }
    return lost.detail;
  }

  /**
   * Whether the memory holds every payment a new payment's key could have been paid as before:
   * once the slow walk's first cycle proved every link and learned every payment of them (a chain
   * it stopped at a break in, once walked on to its head past the break accepted since), or,
   * resumed from an earlier process's memory (resume), once the walk of new links proved every
   * link after where that memory ended and learned what remains of each chain accepted as gone
   * that it lacks (goneAwaited). Until then a new payment whose key it does not know is
   * not sent (afterLearning): a payment deleted in SQL before this process could see it would be
   * paid again.
   */
  get complete(): boolean {
    return this.learned || (this.caughtUp && this.goneAwaited.size === 0);
  }

  /**
   * A new payment whose key the memory does not know while it is not whole: waits up to
   * LEARNING_WAIT_MS for it to be (a process just started on a memory resumed), then checks it as
   * any; else throws STORE_UNAVAILABLE (503, Retry-After), the reservation released unsent.
   */
  private async afterLearning(clientId: string, transactionId: string, id: number, createdAt: number): Promise<string | null> {
    // A chain only an operator can let be learned (goneAwaited, unproven) is not waited for.
    const unproven = () => [...this.goneAwaited].filter(([, a]) => a.unproven).map(([writerId]) => writerId);
    for (let waited = 0; !this.complete && this.held === null && unproven().length === 0 && waited < LEARNING_WAIT_MS; waited += LEARNING_POLL_MS) await sleep(LEARNING_POLL_MS);
    // What learning found meanwhile (a link or a payment deleted) holds this payment too: it passed the check of holds before it waited.
    if (this.held !== null) return this.held;
    if (this.complete) return this.beforeNewPayment(clientId, transactionId, id, createdAt);
    throw new AppError(
      'STORE_UNAVAILABLE',
      `This gateway process has not yet learned every payment made before it started (its audit scrub is ${this.learning(unproven())}); a new payment is not sent until it has, so that a payment deleted in the database meanwhile is never paid twice. ${unproven().length > 0 ? 'Retry once an operator has done so.' : 'Retry shortly.'}`,
      { headers: { 'Retry-After': '5' } },
    );
  }

  /** What the scrub does before its memory is whole, as the refusal of a new payment says it (afterLearning); `unproven`: the chains awaited for an operator. */
  private learning(unproven: string[]): string {
    if (unproven.length > 0) {
      return `waiting for an operator: audit chain(s) ${unproven.join(', ')} were accepted as gone by a checkpoint line written by an older version, which does not say what remained of them, so the payments of what remains cannot be learned from it (one deleted whole from there would go unseen); run \`gerbang audit verify\`, look at what it names, then \`gerbang audit accept-rollback --expect <digest>\` again: its line says what remains, and the gateway learns it`;
    }
    if (this.resumed) {
      if (this.linksBehind === 0 && this.shortOfHead.length === 0 && this.goneAwaited.size > 0) {
        return `reading what remains of audit chain(s) ${[...this.goneAwaited.keys()].join(', ')}, accepted as gone, for the payments of their links past those the memory it resumed from holds`;
      }
      return this.linksBehind === 0 && this.shortOfHead.length > 0
        ? `waiting to read the head of audit chain(s) ${this.shortOfHead.join(', ')} at least as far as a checkpoint vouched for or it read before (set back or moved aside in the database, or a cluster node behind): the links appended there since the memory of payments it resumed from was written are not proved yet`
        : `proving the ${this.linksBehind} audit link(s) appended since the memory of payments it resumed from was written`;
    }
    return this.cycles > 0
      ? `walking on to their heads the audit chain(s) its first cycle did not walk to a head it cannot be made to take as the end (stopped at a break, its head read lower than before, or not there to walk), or reading what remains of those accepted as gone as accepted (${[...this.cutShort, ...this.goneUnlearned].join(', ')}): the payments of their links are not all learned yet`
      : 'walking every audit link once (no memory of payments written by an earlier process could be read)';
  }

  /**
   * Takes the memory of payments and the walk of new links' positions from `path`, written by an
   * earlier process (saveMemory), so that the memory is whole once the links appended since are
   * proved, not after a full cycle. Nothing there, or a file that cannot be taken (logged), leaves
   * the memory to be learned by the first full cycle.
   */
  async resume(path: string): Promise<void> {
    const ring = this.reader === null ? null : this.reader.ring;
    if (ring === null) return;
    const removed = await removeStaleTemporaries(path, Date.now());
    if (removed.length > 0 && !this.options.quiet) log.warn({ file: path, removed }, 'audit scrub: removed the temporary files of memory writes that were killed midway');
    const read = await readMemoryFile(path, ring, this.reader!.store);
    if (read === null) return;
    if ('problem' in read) {
      if (!this.options.quiet) log.error({ file: path, problem: read.problem }, 'the audit scrub\'s memory of payments could not be read: new payments wait until its first full cycle has learned every payment again');
      return;
    }
    this.memory = read.memory;
    this.memoryKeyId = read.keyId;
    for (const [writerId, seq] of read.positions) this.newLinks.set(writerId, { next: { seq: seq + 1, prevHash: null }, first: seq + 1 });
    this.resumed = true;
    if (!this.options.quiet) log.info({ file: path, payments: read.memory.size, writtenAt: new Date(read.at).toISOString() }, 'audit scrub: memory of payments resumed; new payments wait until the links appended since are proved');
  }

  /**
   * Writes the memory of payments to `path` for the next process (resume), with, per chain, the
   * link up to which every link was proved and its payments remembered: only once the memory is
   * whole (complete). False when not written (not whole yet, or changed while written).
   */
  async saveMemory(path: string): Promise<boolean> {
    if (!this.complete || this.reader === null || this.memoryKeyId === null) return false;
    const positions = new Map([...this.newLinks].map(([writerId, at]) => [writerId, at.next.seq - 1]));
    return writeMemoryFile(path, this.reader.ring, this.reader.store, this.memory, this.memoryKeyId, positions, this.clock());
  }

  /** The payments the check of a new payment found lost, checked again after `confirmMs`: held when still lost; let go after a later acceptance. */
  private async confirmLost(accepted: CheckpointHistory['acceptedDeletions']): Promise<void> {
    for (const [id, { epoch }] of this.lostKeys) if (this.epoch > epoch) this.letGo(id, 'an operator accepted the database as it stands since');
    const now = this.clock();
    for (const [id, key] of this.suspects) {
      if (now - key.at < this.confirmMs) continue;
      this.suspects.delete(id);
      const lost = this.deleted.has(id) ? null : await this.audit.lostPayment(id, key);
      if (lost === null || this.acceptedLoss(accepted, lost)) continue;
      this.deleted.set(id, lost);
      this.lostKeys.set(id, { clientId: key.clientId, transactionId: key.transactionId, epoch: this.epoch });
      if (!this.options.quiet) log.error({ payment: id, problem: lost.kind, detail: lost.detail }, 'payments held: a new payment was about to be made for the transactionId of a payment the audit scrub had seen, and that payment is lost; see `gerbang audit verify`, then `gerbang audit accept-rollback`');
    }
  }

  private async walk(clock: () => number): Promise<void> {
    const read = this.history ?? this.reader!.read();
    const { acceptedDeletions, acceptedSkips } = read;
    // An acceptance walk (exactOnly) takes a chain as accepted only where its line said what remained of it;
    // a walk that lists every break (walkOn) walks what remains of every chain accepted as gone, for verify to name what is missing or
    // altered there (accepting a chain as gone accepted its head's absence, not a record that stops matching its link since).
    const accepted = this.options.exactOnly
      ? new Map([...read.acceptedBreaks].filter(([, a]) => a.seq === 0 && a.remained !== undefined))
      : this.options.walkOn
        ? new Map([...read.acceptedBreaks].filter(([, a]) => a.seq !== 0))
        : read.acceptedBreaks;
    // An acceptance sets heads as they stand (a chain cut back, accepted through a link): the heads read before it no longer bind.
    if ((read.acceptances ?? 0) !== this.epoch) {
      this.headsRead.clear();
      this.headsSince.clear();
    }
    this.epoch = read.acceptances ?? 0;
    if (!this.options.walkOn && this.options.chains === undefined) this.awaitGone(accepted);
    if (this.options.chains === undefined) await this.checkPayments(acceptedDeletions);
    await this.confirmLost(acceptedDeletions);
    /**
     * A walk begun inside a gap accepted exactly (a new process's first window, a head read back)
     * finds it at the link it began at: an accepted deletion whose gap holds that link and ends
     * where this one does (the link after it then, or the one its writer appended next; or, a tail
     * cut nothing follows yet, nowhere, as then), and whose links before it are still none. A link
     * there now (one its writer was made to append inside the accepted gap, its head row set back
     * in SQL) makes it another gap, not the one accepted. Every such acceptance (two tail cuts
     * accepted, the later from below the earlier, both hold the link): skipOf takes the first
     * still as seen.
     */
    const gapsAround = async (writerId: string, found: AuditChainBreak, resume: number | null) => {
      if (found.seq === null || sortOf(found.problem) !== 'deleted' || found.table !== 'audit_chain') return [];
      const around = [];
      for (const [seq, skip] of acceptedSkips.get(writerId) ?? []) {
        const end = skip.resume || skip.next;
        const endsAsThen = end === resume || (resume === null && skip.resume === 0);
        if (!(seq < found.seq && skip.seen?.link === null && sortOf(skip.seen.problem) === 'deleted' && endsAsThen && end !== undefined && found.seq < end)) continue;
        const before = await this.audit.linkCounts([{ writerId, fromSeq: seq, toSeq: found.seq - 1 }]);
        if ((before.get(writerId) ?? 0) === 0) around.push(skip);
      }
      return around;
    };
    /**
     * The acceptance of exactly this break (its link, the first link after it as it was then, and
     * what was there: SeenBreak), if any; one whose line did not say what it saw is `unproven`.
     */
    const skipOf = async (writerId: string, found: AuditChainBreak, resume: number | null) => {
      if (found.seq === null) return undefined;
      const exact = acceptedSkips.get(writerId)?.get(found.seq);
      for (const skip of exact ? [exact] : await gapsAround(writerId, found, resume)) {
        if (skip.seen === undefined && this.options.exactOnly) continue;
        // Nothing followed it then: the link its writer appended next is where the walk resumes once there.
        const rejoined = skip.resume === 0 && skip.next !== undefined && resume === skip.next;
        if (skip.resume !== (resume ?? 0) && !rejoined) continue;
        if (skip.seen === undefined) return { resume: resume ?? 0, unproven: true as const };
        if (await this.seenAgain(writerId, found, resume, skip.seen, rejoined)) return { resume: resume ?? 0 };
        // A tail cut the walk found nothing after, its writer appending the link it was to append
        // next once the walk had looked (its head compared since has moved on): rejoined, as a walk a
        // moment later finds it, and walked on from there.
        const next = skip.next;
        if (resume === null && skip.resume === 0 && next !== undefined && found.seq < next && (await this.rejoinedSince(writerId, found.seq, next)) && (await this.seenAgain(writerId, found, next, skip.seen, true))) return { resume: next };
      }
      return undefined;
    };
    // An acceptance made since the break was found (through a link at or past it: lines before
    // skips; or naming this very break) releases its chain.
    for (const [writerId, found] of this.findings) {
      const acceptance = accepted.get(writerId);
      if (acceptance && acceptance.at !== found.acceptedAt && (found.seq === null || acceptance.seq >= found.seq)) this.release(writerId, 'an operator accepted it as it stands');
      else if (await skipOf(writerId, found, found.resume)) this.release(writerId, 'an operator accepted the break');
    }
    if (!this.options.walkOn) await this.walkNew(accepted, acceptedSkips, skipOf, acceptedDeletions, read.heads);
    // Until the memory is whole new payments for keys it does not know wait: the walk goes NEW_PASSES times as far a pass.
    let budget = this.complete ? this.options.linksPerPass : NEW_PASSES * this.options.linksPerPass;
    while (budget > 0) {
      if (this.at === null) {
        // A chain accepted as gone (its head row deleted, accepted at link 0) is not walked.
        const toWalk = async () => (this.options.walkOn && this.options.chains ? [...this.options.chains] : await this.audit.chains()).filter((writerId) => accepted.get(writerId)?.seq !== 0);
        if (this.queue.length === 0 && this.cycle !== null) {
          // A chain that appeared since the cycle started (a process started since) is walked in it
          // too: else a record of it altered after the walk of new links proved it waited a cycle more.
          const walked = this.cycle.walked;
          this.queue = (await toWalk()).filter((writerId) => !walked.has(writerId));
          if (this.queue.length === 0) {
            this.endCycle(clock(), read.heads, accepted);
            return;
          }
        }
        if (this.queue.length === 0) {
          // A chain accepted as gone (its head row deleted, accepted at link 0) is not walked: what
          // remains of it is compared with what remained then (a link added, altered or removed, its
          // head row back, holds); as accepted, the payments of its links are learned in this cycle.
          const gone = this.options.chains === undefined ? await this.checkGone(accepted) : [];
          this.goneToLearn = new Set(this.options.walkOn ? [] : gone);
          if (!this.learned && this.cycles === 0 && !this.options.walkOn) for (const [writerId, acceptance] of accepted) if (acceptance.seq === 0 && acceptance.remained !== undefined) this.goneUnlearned.add(writerId);
          this.queue = [...(await toWalk()), ...this.goneToLearn];
          this.cycle = { started: clock(), walked: new Set(), links: 0 };
          if (!this.learned) this.cutShortFirst(accepted);
          if (this.queue.length === 0) continue;
        }
        const writerId = this.queue.shift()!;
        this.cycle!.walked.add(writerId);
        const acceptance = accepted.get(writerId);
        // A walk that lists every break (walkOn) starts at the first link: those an older line accepted through its head are listed too, for verify to name.
        this.at = this.goneToLearn.has(writerId)
          ? { writerId, from: FIRST_LINK, gone: { links: 0, maxSeq: 0, digest: createHash('sha256') } }
          : { writerId, from: acceptance && acceptance.seq > 0 && !this.options.walkOn ? { seq: acceptance.seq, prevHash: null } : FIRST_LINK };
      }
      const { writerId, from } = this.at;
      if (this.at.gone) {
        budget -= await this.learnGone(writerId, from.seq, this.at.gone, budget, accepted, acceptedDeletions);
        continue;
      }
      let piece = await this.audit.walkChain(writerId, from, budget);
      budget -= piece.links + PIECE_COST;
      this.cycle!.links += piece.links;
      // Every cycle, not the first only: a payment the walk of new links could not learn (its row
      // moved away in SQL for that pass, then back) is learned within the next cycle.
      await this.learn(piece, acceptedDeletions);
      // A new finding is confirmed before it holds anything; one already held is not waited for again.
      if ('break' in piece) {
        // A break accepted exactly is stepped over: the walk goes on at the link that followed it then.
        const skip = await skipOf(writerId, piece.break, piece.resume);
        if (skip) {
          if (this.options.walkOn) this.steppedOver.push({ ...piece.break, writerId, resume: skip.resume, ...('unproven' in skip ? { unproven: skip.unproven } : {}) });
          this.at = skip.resume === 0 ? null : { writerId, from: { seq: skip.resume, prevHash: null } };
          if (this.at === null) {
            this.release(writerId, 'its records hold again');
            this.walkedToHead(writerId);
          }
          continue;
        }
      }
      if ('break' in piece && !this.findings.has(writerId)) {
        piece = await this.confirm(writerId, from, piece.break);
        // Holding now (a node behind caught up): the links it proved past where the first walk broke are learned too.
        if (!('break' in piece)) await this.learn(piece, acceptedDeletions);
      }
      if ('break' in piece) {
        this.hold(writerId, piece.break, piece.resume, accepted.get(writerId)?.at ?? null);
        // An acceptance walks on past each break, so that it names and accepts every one of them.
        this.at = this.options.walkOn && piece.resume !== null ? { writerId, from: { seq: piece.resume, prevHash: null } } : null;
        // The payments of its links behind the break are not learned: the memory is not whole by this cycle.
        if (this.at === null && !this.learned && this.cycles === 0) this.cutShort.add(writerId);
      } else if ('behind' in piece || piece.next === null) {
        // Walked to its head as read (or it is behind where the walk stood: the rollback watch's to judge).
        if ('next' in piece) this.release(writerId, 'its records hold again');
        this.at = null;
        // Its head set back in SQL for this pass (or read on a node behind) would end the walk early: walked to a head it cannot lower, or walked again next cycle.
        const reached = 'behind' in piece ? from.seq - 1 : piece.after.seq - 1;
        const trusted = this.trustedHead(writerId, read.heads);
        if (reached >= trusted) this.walkedToHead(writerId);
        else this.notToHead(writerId, `its head was read at link ${reached}, below link ${trusted} (a checkpoint's, or read before)`);
      } else {
        this.at = { writerId, from: piece.next };
      }
    }
  }

  /**
   * The walk of new links: every link appended to a chain since the last pass, walked once as verify
   * walks it (its seq, its prev_hash the MAC of the link before, its MAC over its record) from where
   * the last pass stopped, the last MAC carried, at most NEW_PASSES × `linksPerPass` links a pass (the chains
   * taken in turn; the rest at the next pass: `linksBehind`). A chain known at the first pass is
   * walked from its newest links as many as are counted (the first taken as it says, its own MAC
   * checked: what came before is the slow walk's); one appearing later from its first link. Links are never MACed twice: what was proved
   * is then counted by the database, the newest COUNTED_PASSES passes' links every pass (countLinks).
   * A break is confirmed and held as the slow walk's are; one accepted exactly is stepped over.
   */
  private async walkNew(
    accepted: CheckpointHistory['acceptedBreaks'],
    skips: CheckpointHistory['acceptedSkips'],
    skipOf: (writerId: string, found: AuditChainBreak, resume: number | null) => Promise<{ resume: number } | undefined>,
    acceptedDeletions: CheckpointHistory['acceptedDeletions'],
    vouched: CheckpointHistory['heads'],
  ): Promise<void> {
    const heads = (await this.audit.chainHeads()).filter((h) => h.seq > 0 && accepted.get(h.writerId)?.seq !== 0);
    for (const { writerId, seq, hash } of heads) {
      this.headsRead.set(writerId, Math.max(seq, this.headsRead.get(writerId) ?? 0));
      const since = this.headsSince.get(writerId);
      if (!since) this.headsSince.set(writerId, { seq, hash, moved: false });
      else if (since.seq !== seq || since.hash !== hash) since.moved = true;
    }
    // Resumed, every chain is walked from where the earlier process's memory ends (resume), one it did not name from its first link.
    const first = this.newPasses === 0 && !this.resumed;
    const turn = heads.length === 0 ? 0 : this.newPasses % heads.length;
    this.newPasses += 1;
    let budget = NEW_PASSES * this.options.linksPerPass;
    let behind = 0;
    // At the first pass each chain is walked from as far back as its links are counted, so a link
    // deleted among the newest before the process started is found as soon as after.
    const back = Math.max(1, Math.floor((COUNTED_PASSES * this.options.linksPerPass) / Math.max(1, heads.length)));
    for (const head of [...heads.slice(turn), ...heads.slice(0, turn)]) {
      const { writerId } = head;
      let at = this.newLinks.get(writerId);
      // The chain's head moved back (cut, or another node read): the rollback watch's; walked on from there.
      if (!at || at.next.seq > head.seq + 1) {
        const from = !at && !first ? 1 : Math.max(1, head.seq - (at ? 0 : back - 1));
        at = { next: from === 1 ? FIRST_LINK : { seq: from, prevHash: null }, first: from };
        this.newLinks.set(writerId, at);
      }
      if (at.next.seq <= head.seq && budget > 0) {
        const piece = await this.audit.walkChain(writerId, at.next, budget);
        budget -= piece.links + PIECE_COST;
        await this.learn(piece, acceptedDeletions);
        // Nothing followed a break (or a head moved back): the walk goes on at the next link appended.
        const past = (resume: number | null): ChainPosition => ({ seq: resume || head.seq + 1, prevHash: null });
        if ('behind' in piece) at.next = { seq: head.seq, prevHash: null };
        else if (!('break' in piece)) at.next = piece.after;
        else {
          const skip = await skipOf(writerId, piece.break, piece.resume);
          if (skip || this.findings.has(writerId)) at.next = past(skip ? skip.resume : piece.resume);
          else {
            const confirmed = await this.confirm(writerId, at.next, piece.break);
            if ('break' in confirmed) {
              this.hold(writerId, confirmed.break, confirmed.resume, accepted.get(writerId)?.at ?? null);
              at.next = past(confirmed.resume);
            } else if ('after' in confirmed) {
              await this.learn(confirmed, acceptedDeletions);
              at.next = confirmed.after;
            }
          }
        }
      }
      behind += Math.max(0, head.seq - at.next.seq + 1);
    }
    this.linksBehind = behind;
    // Resumed, caught up only once past every head it cannot be made to take as the end (trustedHead):
    // heads set back in SQL (or moved aside) as it starts would leave the links appended since unproved.
    if (this.resumed && !this.caughtUp) {
      this.shortOfHead = this.trustedChains(vouched, accepted).filter((writerId) => !this.newLinksReached(writerId, vouched));
      if (behind === 0 && this.shortOfHead.length === 0) this.caughtUp = true;
    }
    await this.countLinks(accepted, skips, skipOf);
  }

  /**
   * The links the walk of new links proved, counted again by the database every pass: the newest
   * COUNTED_PASSES × `linksPerPass` of them, shared evenly among the chains that grew, a chain held
   * or a break accepted exactly left out. A chain that holds fewer links there than were proved is
   * walked there (from its first link counted, taken as it says) to name the missing link, which is
   * confirmed and held as any break. A link replaced in SQL by one with the same seq counts as one:
   * the slow walk's to find, and a payment deleted so is still never paid again (beforeNewPayment).
   */
  private async countLinks(
    accepted: CheckpointHistory['acceptedBreaks'],
    skips: CheckpointHistory['acceptedSkips'],
    skipOf: (writerId: string, found: AuditChainBreak, resume: number | null) => Promise<unknown>,
  ): Promise<void> {
    // A chain accepted as gone is not counted; one accepted through a link is counted from there.
    const grown = [...this.newLinks].filter(([writerId, at]) => !this.findings.has(writerId) && accepted.get(writerId)?.seq !== 0 && at.next.seq - 1 > at.first);
    const share = Math.max(2, Math.floor((COUNTED_PASSES * this.options.linksPerPass) / Math.max(1, grown.length)));
    const ranges = grown.flatMap(([writerId, at]) => {
      const toSeq = at.next.seq - 1;
      let fromSeq = Math.max(at.first, toSeq - share + 1, accepted.get(writerId)?.seq ?? 0);
      // The links an accepted break took are not there: counted from the link after it.
      for (const [seq, skip] of skips.get(writerId) ?? []) if (seq <= toSeq) fromSeq = Math.max(fromSeq, skip.resume || skip.next || toSeq + 1);
      return fromSeq < toSeq ? [{ writerId, fromSeq, toSeq }] : [];
    });
    this.linksCounted = ranges.reduce((n, r) => n + r.toSeq - r.fromSeq + 1, 0);
    if (ranges.length === 0) return;
    const counts = await this.audit.linkCounts(ranges);
    for (const { writerId, fromSeq, toSeq } of ranges) {
      if ((counts.get(writerId) ?? 0) >= toSeq - fromSeq + 1 || this.findings.has(writerId)) continue;
      const from: ChainPosition = { seq: fromSeq, prevHash: null };
      const probe = await this.audit.walkChain(writerId, from, toSeq - fromSeq + 1);
      if (!('break' in probe) || (await skipOf(writerId, probe.break, probe.resume))) continue;
      const confirmed = await this.confirm(writerId, from, probe.break);
      if ('break' in confirmed) this.hold(writerId, confirmed.break, confirmed.resume, accepted.get(writerId)?.at ?? null);
    }
  }

  /**
   * Remembers the payments of the events whose links a piece proved, or a page of a gone chain's
   * remains as accepted listed (learnGone): their rows read once more, each under its MAC.
   */
  private async learn(piece: { links: number; paymentEvents?: number[] }, acceptedDeletions: CheckpointHistory['acceptedDeletions']): Promise<void> {
    if (this.options.walkOn || !piece.paymentEvents?.length) return;
    await this.lostAmong(piece.paymentEvents, acceptedDeletions);
    for (const p of await this.audit.paymentKeys(piece.paymentEvents)) {
      // The payment remembered, standing now at another id (its row moved there in SQL: the MAC
      // does not cover the id): the check of its key finds it gone from the id it was made with.
      const known = this.memory.recall(p.clientId, p.transactionId);
      if (known !== null && known.id !== p.paymentId && known.stamp === stampOf(p.createdAt)) continue;
      this.memory.remember(p.clientId, p.transactionId, p.paymentId, p.createdAt);
    }
  }

  /**
   * Whether an acceptance takes lost payment `d`: as what it is now (a payment accepted as altered
   * and deleted since is a new finding); by an older line (no kind said) as before, but by an
   * acceptance walk.
   */
  private acceptedLoss(acceptances: CheckpointHistory['acceptedDeletions'], d: LostPayment): boolean {
    const acceptance = acceptances.get(d.paymentId);
    const as = acceptance === undefined ? 'another' : acceptedAs(acceptance, d.kind, d.digest);
    return as === 'exactly' || (as === 'unproven' && !this.options.exactOnly);
  }

  /**
   * Payments whose row alone was deleted or altered away from its MAC in SQL (the chains hold; the
   * ERP's resend would be a new payment, paid again): every pass checks the last events among the newest `linksPerPass`
   * payment events and the next `linksPerPass` of all of them in turn (round and round, as the
   * chains are). A finding is checked again after `confirmMs`; an acceptance naming it lets it go.
   */
  private async checkPayments(acceptances: CheckpointHistory['acceptedDeletions']): Promise<void> {
    const accepted = { has: (d: LostPayment) => this.acceptedLoss(acceptances, d) };
    for (const [id, d] of this.deleted) if (accepted.has(d)) this.letGo(id, 'an operator accepted it as deleted');
    const span = this.options.linksPerPass;
    const end = await this.audit.lastPaymentEventId();
    if (this.sweep > end) this.sweep = 1;
    const sweep = { fromId: this.sweep, toId: Math.min(end, this.sweep + span - 1) };
    this.sweep = sweep.toId >= end ? 1 : sweep.toId + 1;
    const recent = { fromId: Math.max(sweep.toId + 1, end - span + 1), toId: end };
    for (const range of recent.fromId <= recent.toId ? [sweep, recent] : [sweep]) {
      const found = (await this.lostIn(range)).filter((d) => !accepted.has(d));
      // A payment held before and no longer found where its last event is: its row is back (or released).
      for (const [id, was] of this.deleted) if (was.eventId >= range.fromId && was.eventId <= range.toId && !found.some((d) => d.paymentId === id)) this.letGo(id, 'its row holds again');
      await this.holdLost(found);
    }
  }

  /** Payments found lost (and not accepted): each held once still lost after `confirmMs` (a Galera node may not have applied the commit that released it yet). */
  private async holdLost(found: LostPayment[]): Promise<void> {
    const fresh = found.filter((d) => !this.deleted.has(d.paymentId));
    if (fresh.length > 0) await sleep(this.confirmMs);
    for (const one of fresh) {
      if ((await this.audit.lostPayments({ fromId: one.eventId, toId: one.eventId }, 1)).length === 0) continue;
      this.deleted.set(one.paymentId, one);
      if (!this.options.quiet) log.error({ payment: one.paymentId, problem: one.kind, detail: one.detail }, 'payments held: the audit scrub found a payment row deleted (its history not ending in its release) or altered away from its MAC; see `gerbang audit verify`, then `gerbang audit accept-rollback`');
    }
  }

  /**
   * Until the memory is whole (complete), the payments of every payment event a walk proved are
   * checked as the payment check checks them, the lost ones held: learning skips a payment whose
   * row was deleted or altered (it cannot be remembered), so a row deleted or altered in SQL before
   * this process could learn its key holds payments before the memory is taken as whole, not when
   * the payment check's sweep comes round to it. Only the ids given are checked, a run of ids at most
   * `linksPerPass` apart at a time: a record id forged into what remains of a chain accepted as gone
   * (read before it is compared) does not stretch the check over the whole table.
   */
  private async lostAmong(eventIds: number[], acceptances: CheckpointHistory['acceptedDeletions']): Promise<void> {
    if (this.complete || eventIds.length === 0 || this.options.chains !== undefined) return;
    const ids = [...eventIds].sort((a, b) => a - b);
    const runs: { fromId: number; toId: number }[] = [];
    for (const id of ids) {
      const run = runs[runs.length - 1];
      if (run !== undefined && id - run.toId <= this.options.linksPerPass) run.toId = id;
      else runs.push({ fromId: id, toId: id });
    }
    for (const run of runs) await this.holdLost((await this.lostIn(run)).filter((d) => !this.acceptedLoss(acceptances, d)));
  }

  /**
   * What an acceptance saw at a break (SeenBreak) against the break found at its seq now: the same
   * problem, table and record, the same link there (or none), and for a tail cut nothing followed
   * then the same head. Once the writer appended where the walk resumes (`rejoined`) the head moved
   * on by right, and the cut is worded as a gap: only the absent link is compared.
   */
  private async seenAgain(writerId: string, found: AuditChainBreak, resume: number | null, seen: SeenBreak, rejoined: boolean): Promise<boolean> {
    const [link] = await this.audit.linksAt([{ writerId, seq: found.seq! }]);
    if ((link?.hash ?? null) !== seen.link) return false;
    if (rejoined) return true;
    if (sortOf(found.problem) !== sortOf(seen.problem) || found.table !== seen.table || found.recordId !== seen.recordId) return false;
    if (resume !== null || seen.head === undefined) return true;
    // A tail cut as accepted: its head row as then, and every head this process read since the
    // acceptance that one (links its writer linked on with since, proved here, then deleted and the
    // head row put back as accepted, are a rollback, not the cut as accepted: whether the head row
    // was put back lower, or higher, as when the cut accepted was a head row moved forward in SQL).
    const since = this.headsSince.get(writerId);
    if (since && (since.moved || since.seq !== seen.head.seq || since.hash !== seen.head.hash)) return false;
    const head = (await this.audit.chainHeads()).find((h) => h.writerId === writerId);
    return head !== undefined && head.seq === seen.head.seq && head.hash === seen.head.hash;
  }

  /**
   * Whether chain `writerId`, walked with no link found after link `seq` (a tail cut), goes on now
   * at link `next` with none between, at or below its head: the walk's own look for the first link
   * after the break (verifyChainPiece's `resume`), made again once its writer has appended since.
   */
  private async rejoinedSince(writerId: string, seq: number, next: number): Promise<boolean> {
    return (await this.audit.resumeAfterBreak(writerId, seq)) === next;
  }

  /**
   * Chains accepted as gone whose line said what remained of them, each compared with what remains
   * now (goneChainBreaks): held while it differs. Those as accepted, whose payments may be learned
   * (learnGone).
   */
  private async checkGone(accepted: CheckpointHistory['acceptedBreaks']): Promise<string[]> {
    const changed = await goneChainBreaks(this.audit, accepted);
    const asAccepted: string[] = [];
    for (const [writerId, acceptance] of accepted) {
      if (acceptance.seq !== 0 || acceptance.remained === undefined) continue;
      const found = changed.find((b) => b.writerId === writerId);
      if (found) this.hold(writerId, found, null, acceptance.at);
      else {
        asAccepted.push(writerId);
        if (this.findings.get(writerId)?.seq === null) this.release(writerId, 'what remains of it is as accepted again');
      }
    }
    return asAccepted;
  }

  /**
   * A page of the links of chain `writerId` from link `fromSeq` on, a chain accepted as gone whose
   * remains were as accepted when the cycle started (checkGone): the payments of its payment events
   * learned as the walks' are (learn), at most `budget` links read as they stand (what remains is
   * compared whole with the acceptance, not walked), each page added to what was `read` of it so
   * far. A process that did not know them (started after the acceptance, or without a memory to
   * resume) learns them in its first cycle, before the memory is whole. Read to its end, the chain
   * is compared as it was read (count, newest seq, digest) with the acceptance: pages altered while
   * they were read hold it, its payments not taken as learned. While the memory is not whole yet it
   * is compared once more as it stands: a payment deleted with its link after its page was read and
   * before it was learned is held then, not left out of a memory taken as whole (goneUnlearned).
   * Returns what the page cost, in links.
   */
  private async learnGone(writerId: string, fromSeq: number, read: GoneRead, budget: number, accepted: CheckpointHistory['acceptedBreaks'], acceptedDeletions: CheckpointHistory['acceptedDeletions']): Promise<number> {
    const page = await this.audit.remainsPage(writerId, fromSeq, budget);
    for (const row of page.rows) read.digest.update(row);
    read.links += page.links;
    read.maxSeq = page.maxSeq ?? read.maxSeq;
    this.cycle!.links += page.links;
    await this.learn(page, acceptedDeletions);
    this.at = page.next === null ? null : { writerId, from: { seq: page.next, prevHash: null }, gone: read };
    const acceptance = accepted.get(writerId);
    if (this.at !== null || acceptance === undefined) return page.links + PIECE_COST;
    const found = goneChainBreak(writerId, acceptance, { head: null, links: read.links, maxSeq: read.maxSeq, digest: read.digest.digest('hex') });
    if (found !== null) this.hold(writerId, found, null, acceptance.at);
    else if (this.learned || (await this.checkGone(new Map([[writerId, acceptance]]))).includes(writerId)) {
      this.goneRead.add(writerId);
      if (this.goneLearned(writerId)) this.learnedAll();
    }
    return page.links + PIECE_COST;
  }

  /** The lost payments of `range`: at most HELD_SHOWN, or with `walkOn` every one, a page of ACCEPTANCE_PAGE event ids at a time. */
  private async lostIn(range: { fromId: number; toId: number }): Promise<LostPayment[]> {
    if (!this.options.walkOn) return this.audit.lostPayments(range, HELD_SHOWN);
    const lost: LostPayment[] = [];
    for (let fromId = range.fromId; fromId <= range.toId; fromId += ACCEPTANCE_PAGE) {
      const toId = Math.min(range.toId, fromId + ACCEPTANCE_PAGE - 1);
      lost.push(...(await this.audit.lostPayments({ fromId, toId }, toId - fromId + 1)));
    }
    return lost;
  }

  private letGo(paymentId: number, why: string): void {
    // Let go: the key's next payment is made (the operator accepted the payment as lost).
    const key = this.lostKeys.get(paymentId);
    if (key) {
      this.lostKeys.delete(paymentId);
      this.memory.forget(key.clientId, key.transactionId, paymentId);
      // The operator is told what the acceptance costs: the resend this process refused is paid next time.
      if (!this.options.quiet) log.warn({ payment: paymentId, clientId: key.clientId, transactionId: key.transactionId }, `payments id ${paymentId} (${key.clientId} / ${key.transactionId}) accepted as lost: ${why}; the next request for its transactionId is paid as a new payment`);
    }
    if (!this.deleted.delete(paymentId) || this.options.quiet) return;
    log.warn({ payment: paymentId }, `deleted payment no longer held by the scrub: ${why}`);
    this.logResumed();
  }

  /**
   * A piece that broke, walked again after `confirmMs` from the link before it (taken as it says:
   * its own MAC is checked) to the break: the break, or where the walk goes on when it holds now.
   */
  private async confirm(writerId: string, from: ChainPosition, found: AuditChainBreak): Promise<ChainPiece> {
    await sleep(this.confirmMs);
    const start: ChainPosition = from.prevHash === null || from.seq === 1 ? from : { seq: from.seq - 1, prevHash: null };
    // A chain's head row gone is found once what remains of it was walked to its newest link (no more than the piece walked).
    return this.audit.walkChain(writerId, start, found.seq === null ? Number.POSITIVE_INFINITY : Math.max(1, found.seq - start.seq + 1));
  }

  private hold(writerId: string, found: AuditChainBreak, resume: number | null, acceptedAt: number | null): void {
    const was = this.findings.get(writerId);
    if (this.options.walkOn) this.walkedOver.push({ ...found, writerId, acceptedAt, resume });
    if (was && this.options.walkOn) return;
    this.findings.set(writerId, { ...found, writerId, resume, acceptedAt: was ? was.acceptedAt : acceptedAt });
    if (!was && !this.options.quiet) log.error({ chain: writerId, seq: found.seq, problem: found.problem, detail: found.detail }, 'payments held: the audit scrub found records deleted or altered inside an audit chain; see `gerbang audit verify`, then `gerbang audit accept-rollback`');
  }

  private release(writerId: string, why: string): void {
    if (!this.findings.delete(writerId) || this.options.quiet) return;
    log.warn({ chain: writerId }, `audit chain no longer held by the scrub: ${why}`);
    this.logResumed();
  }

  /** After a release: says so when nothing is held any more. */
  private logResumed(): void {
    if (this.findings.size === 0 && this.deleted.size === 0) log.warn('payments resumed: nothing is held by the scrub');
  }

  /**
   * A new cycle before the memory is whole: the chains an earlier cycle did not walk to their heads
   * (cutShort) are walked first, listed or not (a chain whose rows were moved away for a while is
   * walked when they are back); only one accepted as gone leaves them, its remains read for their
   * payments before the memory is whole (goneUnlearned).
   */
  private cutShortFirst(accepted: CheckpointHistory['acceptedBreaks']): void {
    // One accepted as gone leaves it for goneUnlearned: its remains are read for their payments.
    for (const writerId of this.cutShort) {
      const acceptance = accepted.get(writerId);
      if (acceptance?.seq !== 0) continue;
      this.cutShort.delete(writerId);
      if (acceptance.remained !== undefined) this.goneUnlearned.add(writerId);
    }
    const unlisted = this.options.walkOn ? [] : [...this.cutShort].filter((w) => !this.queue.includes(w));
    this.queue = [...unlisted, ...this.queue.filter((w) => this.cutShort.has(w)), ...this.queue.filter((w) => !this.cutShort.has(w))];
    this.learnedAll();
  }

  /**
   * The head of chain `writerId` the attacker cannot set back in SQL: the higher of the furthest
   * head a checkpoint vouched for (signed, outside the database: a line, or a writer's head file
   * committed after the last acceptance of the chain; as an acceptance set it) and the
   * highest this process read since the last acceptance (headsRead).
   */
  private trustedHead(writerId: string, vouched: CheckpointHistory['heads']): number {
    return Math.max(vouched.get(writerId)?.seq ?? 0, this.headsRead.get(writerId) ?? 0);
  }

  /** The chains with a head the attacker cannot lower (trustedHead), but those accepted as gone. */
  private trustedChains(vouched: CheckpointHistory['heads'], accepted: CheckpointHistory['acceptedBreaks']): string[] {
    return [...new Set([...vouched.keys(), ...this.headsRead.keys()])].filter((writerId) => accepted.get(writerId)?.seq !== 0 && this.trustedHead(writerId, vouched) > 0);
  }

  /** Whether the walk of new links went on past a head of chain `writerId` it cannot be made to take as the end (trustedHead). */
  private newLinksReached(writerId: string, vouched: CheckpointHistory['heads']): boolean {
    const at = this.newLinks.get(writerId);
    return at !== undefined && at.next.seq - 1 >= this.trustedHead(writerId, vouched);
  }

  /** Whether the walk of new links proved chain `writerId` from its first link to a head it cannot be made to take as the end (trustedHead), holding nothing on it. */
  private provedWhole(writerId: string, vouched: CheckpointHistory['heads']): boolean {
    return this.newLinks.get(writerId)?.first === 1 && !this.findings.has(writerId) && this.newLinksReached(writerId, vouched);
  }

  /** The slow walk ended on chain `writerId` short of a head it cannot lower: until the memory is whole, it is walked again next cycle. */
  private notToHead(writerId: string, why: string): void {
    if (this.learned || this.options.walkOn || this.cutShort.has(writerId)) return;
    this.cutShort.add(writerId);
    if (!this.options.quiet) log.warn({ chain: writerId }, `audit scrub: chain ${writerId} not walked to its head: ${why}; the memory of payments is not whole until it is`);
  }

  /** The slow walk reached the head of chain `writerId`: every payment of its links is learned. */
  private walkedToHead(writerId: string): void {
    const cut = this.cutShort.delete(writerId);
    if (this.goneLearned(writerId) || cut) this.learnedAll();
  }

  /** The payments of chain `writerId`, accepted as gone, learned (or it is no longer gone): it keeps the memory from being whole no more. */
  private goneLearned(writerId: string): boolean {
    this.goneAwaited.delete(writerId);
    return this.goneUnlearned.delete(writerId);
  }

  /**
   * Until the memory is whole, the chains accepted as gone whose payments even a memory resumed
   * from a file may lack (goneAwaited; logged at error when one waits for an operator): accepted by
   * a line that did not say what remained of it, or, resumed, whose remains reach past the link up
   * to which the memory holds the payments of its links (where the file's position for it ends, or
   * where the walk of new links proved it to before it was accepted as gone; none for a chain
   * neither named). The walk of new links never walks a chain accepted as gone: those payments are
   * only in its remains.
   */
  private awaitGone(accepted: CheckpointHistory['acceptedBreaks']): void {
    if (this.complete) return;
    for (const [writerId, acceptance] of accepted) {
      if (acceptance.seq !== 0 || this.goneRead.has(writerId)) continue;
      const unproven = acceptance.remained === undefined;
      const awaited = this.goneAwaited.get(writerId);
      // Accepted again since, saying what remains: learned as any, no operator awaited.
      if (awaited) awaited.unproven = unproven;
      const covered = (this.newLinks.get(writerId)?.next.seq ?? 1) - 1;
      if (awaited || !(unproven || (this.resumed && acceptance.remained!.maxSeq > covered))) continue;
      this.goneAwaited.set(writerId, { unproven });
      this.goneUnlearned.add(writerId);
      if (unproven && !this.options.quiet) {
        log.error(
          { chain: writerId, acceptedAt: new Date(acceptance.at).toISOString() },
          `new payments wait: audit chain ${writerId} was accepted as gone by a checkpoint line written by an older version, which does not say what remained of it, so the memory of payments cannot learn what remains of it (a payment deleted whole from there would go unseen and its resend be paid twice); run \`gerbang audit verify\` (it names the chain not provably the same break), look at what it names, then \`gerbang audit accept-rollback --expect <digest>\` again`,
        );
      }
    }
  }

  /** The memory is whole once a full cycle ended and no chain it stopped at a break in is left unwalked to its head. */
  private learnedAll(): void {
    if (this.learned || this.cycles === 0 || this.cutShort.size > 0 || this.goneUnlearned.size > 0) return;
    this.learned = true;
    if (!this.options.quiet) log.info('audit scrub: every chain its first cycle did not walk to its head walked to it since: the memory of payments is whole');
  }

  private endCycle(now: number, vouched: CheckpointHistory['heads'], accepted: CheckpointHistory['acceptedBreaks']): void {
    const { started, links, walked } = this.cycle!;
    const chains = walked.size;
    // A chain a checkpoint vouched for or this process read, not listed while the cycle ran (its rows moved away meanwhile): not learned.
    // One the walk of new links proved from its first link to such a head (a chain begun since the cycle started: a process or a verify run) had every payment learned there.
    for (const writerId of this.trustedChains(vouched, accepted)) {
      if (walked.has(writerId) || this.provedWhole(writerId, vouched)) continue;
      this.notToHead(writerId, 'it was not there to walk in the cycle');
    }
    // Whole only when no chain's walk stopped at a break before its head (cutShort) and every chain accepted as gone had its remains learned as accepted (goneUnlearned).
    if (this.cutShort.size === 0 && this.goneUnlearned.size === 0) this.learned = true;
    this.cycle = null;
    this.last = { chains, links, ms: now - started, at: now };
    this.cycles += 1;
    if (this.options.quiet) return;
    const line = { chains, links, ms: this.last.ms, broken: this.findings.size };
    if (now - this.lastLogged >= CYCLE_LOG_MS) {
      this.lastLogged = now;
      log.info(line, 'audit scrub: every chain walked from its first link to its head');
    } else log.debug(line, 'audit scrub: every chain walked from its first link to its head');
  }
}
