import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyRing } from '../security/index.js';
import type { LostPayment } from '../store/repositories/audit-verify.js';
import type { AuditChainBreak, AuditReads, AuditRepository, ChainRemains, LostPaymentFacts, Store } from '../store/types.js';
import { AuditScrub, sortOf } from './audit-scrub.js';
import { ACCEPTED_ROLLBACK, appendCheckpoint, readCheckpoints, storeAgainstCheckpoints, type AcceptedBreak, type ChainHead, type CheckpointHistory, type GoneChain } from './checkpoints.js';

export interface RollbackAcceptance {
  /** What the database lacked (each chain named) and the chains broken inside, empty when it held all the checkpoints vouched for and every chain held. */
  accepted: AuditChainBreak[];
  /** What one of the two walks found and the other did not (a node behind, or a break made between them): nothing accepted (`differs`). */
  unconfirmed: AuditChainBreak[];
  /** The digest of what it would have accepted, when that is not the one expected or a walk found what the other did not (nothing accepted). */
  differs?: string;
  /** Every lost payment among what it accepted, or would have (refused, differs), as much as can be read back of it. */
  lostPayments: LostPaymentFacts[];
  /**
   * Without `expect`: nothing accepted, nothing written; what there is to accept (named as `audit
   * verify` names it) and its digest, for the operator to read in `audit verify` and accept by it.
   */
  refused?: { wouldAccept: AuditChainBreak[]; digest: string };
}

/** How long an acceptance waits before it walks again what it found (the scrub's own confirmation wait). */
const CONFIRM_MS = 2_000;

/** What one walk of the database found to accept. */
interface Found {
  /** Chains behind their checkpoints or gone (the rollback watch's breaks), and the heads the database holds. */
  behind: AuditChainBreak[];
  heads: Map<string, ChainHead>;
  /** Every break inside a chain (the scrub's), each with the first link after it (null: none), and what is accepted of it (insideKey). */
  inside: Inside[];
  /** Every payment lost (its row deleted without its release, or altered away from its MAC), as found (kind, and the digest of an altered row). */
  lost: (AuditChainBreak & { found: LostPayment })[];
}

/**
 * A break inside a chain as an acceptance takes it: `link`, the MAC of the link at its seq (null:
 * absent, or the break has no seq); `resumeAt`, where the walk goes on past it: the first link
 * after it, or when none follows (its newest links deleted, its head left) the seq its writer
 * appends next (AcceptedBreak's `next`: its head's plus 1), so that a tail cut its writer has linked
 * on after since is the same break, resumed at the very link that was to come; `remains`, for a
 * chain whose head row is gone (seq null), what remains of it (GoneChain's `remained`).
 */
type Inside = AuditChainBreak & { writerId: string; resume: number | null; link: string | null; resumeAt: number | null; remains?: ChainRemains };

/**
 * `gerbang audit accept-rollback`: an operator who has looked at a database found behind its
 * audit checkpoints (restored from a backup after a disaster, say) accepts it as it now is. One
 * signed line is appended to the checkpoint file, naming the operator's reason and, for each chain
 * behind or gone, the head the database now holds (seq 0: gone); the checkpoints read from then on
 * start there, so the gateways stop holding payments and verify no longer names those chains. The
 * line stays in the file: what was accepted, when and why can always be read back.
 *
 * Every chain is also walked whole as the gateways' background scrub walks it (AuditScrub), on
 * past each break: every record deleted or altered inside a chain is named, and accepted exactly
 * in the same line (`skips`: the break's link, the first link after it, and what was there,
 * SeenBreak), so the scrub goes on walking every chain from its first link, stepping over those
 * breaks only while they are as seen (a chain whose head row is gone is accepted as gone, `broken`
 * at link 0, with what remained of it). Payments whose row alone was deleted (their history left,
 * not ending in a release) or altered away from its MAC are named in it too, every one, each with
 * what was found (`lost`), and the scrub holds no more on them while they are so. What a line of an
 * older shape accepted without saying what it saw is found again and accepted exactly (the walk
 * honours only acceptances that say: `exactOnly`).
 *
 * An operator accepts only what they looked at: `expect` is the digest `audit verify` printed of
 * what there was to accept, and without it nothing is accepted, whatever there is (`refused`: what
 * there is, named, and its digest). A gap inside a chain can hide a payment deleted whole (its
 * row, events and links), whose resend only a gateway that remembered it stops: it is accepted
 * only once looked at, like a lost payment.
 *
 * As the scrub confirms a break before it holds, the acceptance accepts only what it finds twice:
 * everything is walked again after `confirmMs` (a Galera node behind its cluster can lack a link
 * for a moment); what only one walk found is named (`unconfirmed`) and nothing is accepted: run
 * verify and the acceptance again.
 */
export async function acceptRollback(
  store: Store,
  ring: KeyRing,
  checkpointFile: string,
  reason: string,
  clock: () => number = Date.now,
  /** `expect`: the digest `audit verify` printed of what there was to accept (digestOf); without it, or anything else, nothing is accepted. */
  options: { confirmMs?: number; expect?: string } = {},
): Promise<RollbackAcceptance> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  const first = await store.audit.inSnapshot((audit) => findToAccept(audit, history, checkpointFile), { causal: true });
  if (first.behind.length === 0 && first.inside.length === 0 && first.lost.length === 0) return { accepted: [], unconfirmed: [], lostPayments: [] };
  // Accepting a lost payment, or a gap that can hide one deleted whole, lets the ERP's resend of its
  // transactionId be paid again: only what the operator read in `audit verify` (its digest), never blind.
  if (options.expect === undefined) {
    const wouldAccept = [...first.behind, ...first.lost.map(withoutFound), ...first.inside.map(withoutResume)];
    return { accepted: [], unconfirmed: [], lostPayments: await store.audit.lostPaymentFacts(first.lost.map((l) => l.found)), refused: { wouldAccept, digest: digestOf(first) } };
  }
  await sleep(options.confirmMs ?? CONFIRM_MS);
  const again = await store.audit.inSnapshot((audit) => findToAccept(audit, history, checkpointFile), { causal: true });
  // A chain behind by its checkpointed link; a break inside by what is accepted of it (insideKey); a payment by its id.
  const behind = inBoth(first.behind, again.behind, behindKey);
  const inside = inBoth(first.inside, again.inside, insideKey);
  const lost = inBoth(first.lost, again.lost, lostKey);
  const unconfirmed = [...behind.once, ...lost.once.map(withoutFound), ...inside.once.map(withoutResume)];
  // What the operator looked at (verify's digest) is what is accepted, or nothing: not a break made since.
  const digest = digestOf({ behind: behind.both, inside: inside.both, lost: lost.both });
  const lostPayments = await store.audit.lostPaymentFacts(lost.both.map((l) => l.found));
  if (digest !== options.expect || unconfirmed.length > 0) return { accepted: [], unconfirmed, differs: digest, lostPayments };
  const accepted = behind.both.filter((b) => b.writerId !== null);
  // A chain whose head row is gone while its links remain is accepted as gone (not walked again),
  // with what remains of it as both walks found it (a link added under its writer id later is a new break);
  // every other break exactly, with the link the walk resumes at and what was there (SeenBreak).
  const gone = new Map<string, GoneChain>();
  for (const b of inside.both) {
    if (b.seq !== null || b.remains === undefined) continue;
    const { links, maxSeq, digest } = b.remains;
    gone.set(b.writerId, { writerId: b.writerId, seq: 0, hash: '', remained: { links, maxSeq, digest } });
  }
  const exact = inside.both.filter((b): b is typeof b & { seq: number } => b.seq !== null);
  // The link before a tail cut (the head its chain is checkpointed at from now on).
  const cuts = exact.filter((b) => b.resume === null && b.seq > 1 && history.heads.has(b.writerId));
  const links = new Map((await store.audit.linksAt(cuts.map((b) => ({ writerId: b.writerId, seq: b.seq - 1 })))).map((l) => [`${l.writerId} ${l.seq}`, l.hash]));
  // A break nothing follows (the chain's newest links deleted, its head left) also names the seq its writer appends next, and the head then.
  const skips = exact.map((b): AcceptedBreak => {
    const head = again.heads.get(b.writerId);
    const tail = b.resume === null && head !== undefined;
    return {
      writerId: b.writerId,
      seq: b.seq,
      resume: b.resume ?? 0,
      ...(tail ? { next: head.seq + 1 } : {}),
      seen: { problem: b.problem, table: b.table, recordId: b.recordId, link: b.link, ...(tail ? { head: { seq: head.seq, hash: head.hash } } : {}) },
    };
  });
  const lostSeen = lost.both.map(({ found }) => ({ id: found.paymentId, kind: found.kind, ...(found.digest === undefined ? {} : { digest: found.digest }) }));
  if (accepted.length === 0 && skips.length === 0 && gone.size === 0 && lostSeen.length === 0) return { accepted: [], unconfirmed, lostPayments: [] };
  const chains = [...new Set(accepted.map((b) => b.writerId!))];
  // A chain checkpointed at a head whose link was cut (the head row left) is checkpointed at the
  // link before the cut from now on: its next link is not taken for a rollback past its checkpoint.
  // So is a chain behind its checkpoint whose head row's own link was cut too (links made after an
  // accepted tail cut, deleted, the head row put back): its head row's link is not there to vouch for.
  const cutHeads = new Map(cuts.map((b) => [b.writerId, { writerId: b.writerId, seq: b.seq - 1, hash: links.get(`${b.writerId} ${b.seq - 1}`) ?? '' }]));
  const behindHead = (writerId: string) => {
    const cut = cutHeads.get(writerId);
    return cut !== undefined && cut.hash !== '' ? cut : again.heads.get(writerId) ?? { writerId, seq: 0, hash: '' };
  };
  // The head files' heads it looked at are taken by the line (CheckpointReader counts a head file's
  // head committed after the last acceptance naming its chain): timed no earlier than the latest of
  // them, so an operator's clock behind the writer's does not leave them counting (a hold that no
  // acceptance released until the clocks' difference had passed).
  const named = new Set([...chains, ...cuts.map((b) => b.writerId), ...gone.keys(), ...skips.map((b) => b.writerId)]);
  const lookedAt = (history.headFiles ?? []).flatMap((file) => file.heads.filter((h) => named.has(h.writerId)).map((h) => h.at));
  appendCheckpoint(checkpointFile, ring, {
    store: store.db.description,
    at: Math.max(clock(), ...lookedAt),
    by: `${ACCEPTED_ROLLBACK}: ${reason}`,
    heads: [...(await vouchable(store.audit, history, chains.map(behindHead))), ...[...cutHeads.values()].filter((h) => !chains.includes(h.writerId) && h.hash !== '')],
    ...(gone.size === 0 ? {} : { broken: [...gone.values()] }),
    ...(skips.length === 0 ? {} : { skips }),
    ...(lostSeen.length === 0 ? {} : { lost: lostSeen }),
  });
  return { accepted: [...behind.both, ...lost.both.map(withoutFound), ...inside.both.map(withoutResume)], unconfirmed, lostPayments };
}

/**
 * What an acceptance would accept now (one walk of findToAccept, in a snapshot of its own): its
 * digest, or null when there is nothing (`audit verify` prints it, and `accept-rollback --expect`
 * accepts only that), and the lost payments among it, as much as can be read back of each (named by verify).
 */
export async function whatToAccept(store: Store, ring: KeyRing, checkpointFile: string): Promise<{ digest: string | null; lostPayments: LostPaymentFacts[] }> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  return store.audit.inSnapshot((audit) => acceptableIn(audit, history, checkpointFile), { causal: true });
}

/**
 * whatToAccept read in the caller's snapshot (`audit verify`'s own): the digest it prints is of
 * the very state its report names, never of one a break was added to after its walk.
 */
export async function acceptableIn(audit: AuditReads, history: CheckpointHistory, checkpointFile: string): Promise<{ digest: string | null; lostPayments: LostPaymentFacts[] }> {
  const found = await findToAccept(audit, history, checkpointFile);
  const digest = found.behind.length + found.inside.length + found.lost.length === 0 ? null : digestOf(found);
  return { digest, lostPayments: await audit.lostPaymentFacts(found.lost.map((l) => l.found)) };
}

/** Each thing to accept by the key its two walks are matched by, sorted, hashed (16 hex digits: to be typed). */
function digestOf(found: Pick<Found, 'behind' | 'inside' | 'lost'>): string {
  const keys = [...found.behind.map(behindKey), ...found.inside.map(insideKey), ...found.lost.map(lostKey)].sort();
  return createHash('sha256').update(JSON.stringify(keys)).digest('hex').slice(0, 16);
}

const behindKey = (b: AuditChainBreak) => `${b.writerId} ${b.seq} ${b.problem}`;
/**
 * Never by its words: those of a gap or tail cut name the chain's head, which moves while its writer
 * links on (a gateway held by it still records its refusals). A different or new break, one moved,
 * a further link deleted (the walk resumes elsewhere), or more of a gone chain removed is another key.
 */
const insideKey = (b: Inside) => JSON.stringify([b.writerId, b.seq, sortOf(b.problem), b.table, b.recordId, b.link, b.resumeAt, b.remains ?? null]);
const lostKey = (b: Found['lost'][number]) => `${b.recordId} ${b.problem} ${b.found.digest ?? ''}`;

/**
 * One walk, in one snapshot (`audit`): the database against its checkpoints, and every chain and
 * payment as the scrub's acceptance walk sees them (AuditScrub with `walkOn`).
 */
async function findToAccept(audit: AuditReads, history: CheckpointHistory, checkpointFile: string): Promise<Found> {
  const { breaks: behind, heads } = await storeAgainstCheckpoints(audit, history, checkpointFile);
  // exactOnly: a break accepted by a line that did not say what it saw is found again and accepted exactly.
  const scrub = new AuditScrub(audit, { history }, { linksPerPass: Number.POSITIVE_INFINITY, confirmMs: 0, quiet: true, walkOn: true, exactOnly: true });
  await scrub.pass();
  const lost = scrub.lost.map((found) => ({ writerId: null, seq: null, table: 'payments' as const, recordId: found.paymentId, problem: found.kind, detail: found.detail, found }));
  const breaks = [...scrub.chainBreaks, ...(await insideGoneChains(audit, history))];
  const at = breaks.filter((b): b is typeof b & { seq: number } => b.seq !== null).map((b) => ({ writerId: b.writerId, seq: b.seq }));
  const links = new Map((await audit.linksAt(at)).map((l) => [`${l.writerId} ${l.seq}`, l.hash]));
  const inside: Inside[] = [];
  for (const b of breaks) {
    const head = heads.get(b.writerId);
    const resumeAt = b.resume ?? (b.seq === null || head === undefined ? null : head.seq + 1);
    const remains = b.seq === null ? { remains: await audit.chainRemains(b.writerId) } : {};
    inside.push({ ...b, link: b.seq === null ? null : (links.get(`${b.writerId} ${b.seq}`) ?? null), resumeAt, ...remains });
  }
  for (const b of await goneWithNothingLeft(audit, history, inside)) inside.push({ ...b, resume: null, link: null, resumeAt: null });
  return { behind, heads, inside, lost };
}

/**
 * The breaks inside what remains of each chain accepted as gone by a line that said what remained
 * (the acceptance walk, exactOnly, compares such a chain's remains with what remained then and does
 * not walk it): a record of it deleted or altered since, its link kept or not, found by walking the
 * remains as verify and the chain guard walk them (walkOn), each to be accepted exactly as any
 * break inside a chain (its link, where the walk resumes, what was there). Without this, what verify
 * and the guard name there could not be accepted, and days stayed unsealed until it was put back.
 * The chain's missing head is not among them: that is the acceptance as gone (goneChainBreaks).
 */
async function insideGoneChains(audit: AuditReads, history: CheckpointHistory): Promise<(AuditChainBreak & { writerId: string; resume: number | null })[]> {
  const chains = [...history.acceptedBreaks].filter(([, acceptance]) => acceptance.seq === 0 && acceptance.remained !== undefined).map(([writerId]) => writerId);
  if (chains.length === 0) return [];
  const scrub = new AuditScrub(audit, { history }, { linksPerPass: Number.POSITIVE_INFINITY, confirmMs: 0, quiet: true, walkOn: true, chains });
  await scrub.pass();
  return scrub.chainBreaks.filter((b) => b.seq !== null);
}

/**
 * Chains accepted as gone by a line that did not say what remained of them (written before
 * `remained`) of which nothing is left to walk (no head row, no link), none of `named` naming them:
 * each as a break at its head, with its acceptance's time and what remains (nothing). What
 * remained then may have been deleted since, payments with it: verify names them accepted but not
 * provably (exit 1), an acceptance takes them exactly (saying nothing remains), and until then the
 * gateways' memory of payments waits (AuditScrub's goneAwaited). Unnamed, verify passed, there was
 * nothing to accept, and the gateways waited forever.
 */
export async function goneWithNothingLeft(audit: Pick<Store['audit'], 'chainRemains'>, history: CheckpointHistory, named: readonly { writerId: string | null }[]): Promise<(AuditChainBreak & { writerId: string; at: number; remains: ChainRemains })[]> {
  const left: (AuditChainBreak & { writerId: string; at: number; remains: ChainRemains })[] = [];
  for (const [writerId, acceptance] of history.acceptedBreaks) {
    if (acceptance.seq !== 0 || acceptance.remained !== undefined || named.some((b) => b.writerId === writerId)) continue;
    const remains = await audit.chainRemains(writerId);
    if (remains.links > 0 || remains.head !== null) continue;
    const detail = `the head of chain ${writerId} was deleted from audit_writers and no link of it remains (it was accepted as gone by a line that did not say what remained of it)`;
    left.push({ writerId, seq: null, table: 'audit_writers', recordId: null, problem: 'deleted', detail, at: acceptance.at, remains });
  }
  return left;
}

/** What two walks both found (the second's), and what only one of them did (`once`, each named once). */
function inBoth<T>(one: T[], two: T[], key: (x: T) => string): { both: T[]; once: T[] } {
  const [inOne, inTwo] = [new Set(one.map(key)), new Set(two.map(key))];
  const once = new Map([...one.filter((x) => !inTwo.has(key(x))), ...two.filter((x) => !inOne.has(key(x)))].map((x) => [key(x), x]));
  return { both: two.filter((x) => inOne.has(key(x))), once: [...once.values()] };
}

function withoutFound(b: AuditChainBreak & { found: LostPayment }): AuditChainBreak {
  const { found: _, ...rest } = b;
  return rest;
}

function withoutResume(b: Inside): AuditChainBreak {
  const { resume: _, link: __, resumeAt: ___, remains: ____, ...rest } = b;
  return rest;
}

/**
 * A sandbox started on a new embedded database (its file did not exist): whatever the checkpoint
 * file vouched for about an earlier database at that path is about one that no longer exists, so
 * it is accepted as gone, with the reason, before the gateway compares (no money moves in a sandbox;
 * a live gateway never does this). Returns how many chains were let go.
 */
export function forgetEarlierDatabase(checkpointFile: string, ring: KeyRing, store: string, reason: string, clock: () => number = Date.now): number {
  const history = readCheckpoints(checkpointFile, ring, store);
  if (history.heads.size === 0) return 0;
  appendCheckpoint(checkpointFile, ring, { store, at: clock(), by: `${ACCEPTED_ROLLBACK}: ${reason}`, heads: [...history.heads.keys()].map((writerId) => ({ writerId, seq: 0, hash: '' })) });
  return history.heads.size;
}

/**
 * The heads verify and an acceptance vouch for: each as the database holds it (as `audit` reads it: verify's snapshot), but a head row an accepted tail
 * cut left without its link (nothing linked since) by the link before the cut, as the acceptance
 * checkpointed it. Vouched at the head row, the next verify found the chain behind a checkpoint
 * nothing accepts, and every rollback watch held once its writer linked on.
 */
export async function vouchable(audit: Pick<AuditRepository, 'linksAt'>, history: CheckpointHistory, heads: ChainHead[]): Promise<ChainHead[]> {
  const present = new Set((await audit.linksAt(heads.filter((h) => h.seq > 0))).map((l) => `${l.writerId} ${l.seq}`));
  const cutBefore = heads.flatMap((h) => {
    if (h.seq === 0 || present.has(`${h.writerId} ${h.seq}`)) return [];
    const cuts = [...(history.acceptedSkips.get(h.writerId)?.entries() ?? [])].filter(([, s]) => s.resume === 0 && s.seen?.head?.seq === h.seq && s.seen.head.hash === h.hash);
    return cuts.length === 0 ? [] : [{ writerId: h.writerId, seq: Math.min(...cuts.map(([seq]) => seq)) - 1 }];
  });
  const before = new Map((await audit.linksAt(cutBefore.filter((c) => c.seq > 0))).map((l) => [l.writerId, l]));
  return heads.flatMap((h) => {
    if (h.seq === 0 || present.has(`${h.writerId} ${h.seq}`)) return [h];
    const link = before.get(h.writerId);
    return link ? [{ writerId: h.writerId, seq: link.seq, hash: link.hash }] : [];
  });
}
