import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyRing } from '../security/index.js';
import type { AuditChainBreak, Store } from '../store/types.js';
import { AuditScrub } from './audit-scrub.js';
import { ACCEPTED_ROLLBACK, appendCheckpoint, readCheckpoints, storeAgainstCheckpoints, type ChainHead, type CheckpointHistory } from './checkpoints.js';

export interface RollbackAcceptance {
  /** What the database lacked (each chain named) and the chains broken inside, empty when it held all the checkpoints vouched for and every chain held. */
  accepted: AuditChainBreak[];
  /** What one of the two walks found and the other did not (a node behind, or a break made between them): not accepted. */
  unconfirmed: AuditChainBreak[];
}

/** How long an acceptance waits before it walks again what it found (the scrub's own confirmation wait). */
const CONFIRM_MS = 2_000;

/** What one walk of the database found to accept. */
interface Found {
  /** Chains behind their checkpoints or gone (the rollback watch's breaks), and the heads the database holds. */
  behind: AuditChainBreak[];
  heads: Map<string, ChainHead>;
  /** Every break inside a chain (the scrub's), each with the first link after it (null: none). */
  inside: (AuditChainBreak & { writerId: string; resume: number | null })[];
  /** Every payment lost (its row deleted without its release, or altered away from its MAC). */
  lost: AuditChainBreak[];
}

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
 * in the same line (`skips`: the break's link and the first link after it), so the scrub goes on
 * walking every chain from its first link, stepping over those breaks only (a chain whose head row
 * is gone is accepted as gone, `broken` at link 0). Lines written before `skips` accepted a chain
 * through its head then (`broken`), and the scrub still walks such a chain from there. verify
 * names such breaks as accepted. Payments whose row alone was deleted (their history left, not
 * ending in a release) or altered away from its MAC are named in it too, every one
 * (`lostPayments`), and the scrub holds no more on them.
 *
 * As the scrub confirms a break before it holds, the acceptance accepts only what it finds twice:
 * everything is walked again after `confirmMs` (a Galera node behind its cluster can lack a link
 * for a moment), and what the second walk no longer finds is named apart and not accepted
 * (`unconfirmed`). What only the second walk found is not accepted either: run it again.
 */
export async function acceptRollback(
  store: Store,
  ring: KeyRing,
  checkpointFile: string,
  reason: string,
  clock: () => number = Date.now,
  options: { confirmMs?: number } = {},
): Promise<RollbackAcceptance> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  const first = await findToAccept(store, history, checkpointFile);
  if (first.behind.length === 0 && first.inside.length === 0 && first.lost.length === 0) return { accepted: [], unconfirmed: [] };
  await sleep(options.confirmMs ?? CONFIRM_MS);
  const again = await findToAccept(store, history, checkpointFile);
  // A chain behind by its checkpointed link; a break inside by its link, the link after it and what it is; a payment by its id.
  const behind = inBoth(first.behind, again.behind, (b) => `${b.writerId} ${b.seq} ${b.problem}`);
  const inside = inBoth(first.inside, again.inside, (b) => `${b.writerId} ${b.seq} ${b.resume} ${b.problem} ${b.detail}`);
  const lost = inBoth(first.lost, again.lost, (b) => `${b.recordId} ${b.problem}`);
  const unconfirmed = [...behind.once, ...lost.once, ...inside.once.map(withoutResume)];
  const accepted = behind.both.filter((b) => b.writerId !== null);
  // A chain whose head row is gone while its links remain is accepted as gone (not walked again);
  // every other break exactly, with the link the walk resumes at.
  const gone = inside.both.filter((b) => b.seq === null).map((b) => ({ writerId: b.writerId, seq: 0, hash: '' }));
  // A break nothing follows (the chain's newest links deleted, its head left) also names the seq its writer appends next.
  const skips = inside.both.flatMap((b) => {
    if (b.seq === null) return [];
    const head = again.heads.get(b.writerId);
    return [{ writerId: b.writerId, seq: b.seq, resume: b.resume ?? 0, ...(b.resume === null && head !== undefined ? { next: head.seq + 1 } : {}) }];
  });
  const lostPayments = lost.both.map((b) => b.recordId!);
  if (accepted.length === 0 && skips.length === 0 && gone.length === 0 && lostPayments.length === 0) return { accepted: [], unconfirmed };
  const chains = [...new Set(accepted.map((b) => b.writerId!))];
  appendCheckpoint(checkpointFile, ring, {
    store: store.db.description,
    at: clock(),
    by: `${ACCEPTED_ROLLBACK}: ${reason}`,
    heads: chains.map((writerId) => again.heads.get(writerId) ?? { writerId, seq: 0, hash: '' }),
    ...(gone.length === 0 ? {} : { broken: gone }),
    ...(skips.length === 0 ? {} : { skips }),
    ...(lostPayments.length === 0 ? {} : { lostPayments }),
  });
  return { accepted: [...behind.both, ...lost.both, ...inside.both.map(withoutResume)], unconfirmed };
}

/** One walk: the database against its checkpoints, and every chain and payment as the scrub's acceptance walk sees them (AuditScrub with `walkOn`). */
async function findToAccept(store: Store, history: CheckpointHistory, checkpointFile: string): Promise<Found> {
  const { breaks: behind, heads } = await storeAgainstCheckpoints(store.audit, history, checkpointFile);
  const scrub = new AuditScrub(store.audit, { history }, { linksPerPass: Number.POSITIVE_INFINITY, confirmMs: 0, quiet: true, walkOn: true });
  await scrub.pass();
  return { behind, heads, inside: scrub.chainBreaks, lost: scrub.breaks.filter((b) => b.writerId === null && b.table === 'payments') };
}

/** What two walks both found (the second's), and what only one of them did (`once`, each named once). */
function inBoth<T>(one: T[], two: T[], key: (x: T) => string): { both: T[]; once: T[] } {
  const [inOne, inTwo] = [new Set(one.map(key)), new Set(two.map(key))];
  const once = new Map([...one.filter((x) => !inTwo.has(key(x))), ...two.filter((x) => !inOne.has(key(x)))].map((x) => [key(x), x]));
  return { both: two.filter((x) => inOne.has(key(x))), once: [...once.values()] };
}

function withoutResume(b: AuditChainBreak & { resume?: number | null }): AuditChainBreak {
  const { resume: _, ...rest } = b;
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
