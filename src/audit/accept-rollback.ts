import type { KeyRing } from '../security/index.js';
import type { AuditChainBreak, Store } from '../store/types.js';
import { AuditScrub } from './audit-scrub.js';
import { ACCEPTED_ROLLBACK, appendCheckpoint, readCheckpoints, storeAgainstCheckpoints } from './checkpoints.js';

export interface RollbackAcceptance {
  /** What the database lacked (each chain named) and the chains broken inside, empty when it held all the checkpoints vouched for and every chain held. */
  accepted: AuditChainBreak[];
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
 * through its head then (`broken`), and the scrub still walks such a chain from there.
 * verify still names its first break: the records are gone, and the line says who accepted that.
 * Payments whose row alone was deleted (their history left, not ending in a release) or altered
 * away from its MAC are named in it too (`lostPayments`), and the scrub holds no more on them.
 */
export async function acceptRollback(store: Store, ring: KeyRing, checkpointFile: string, reason: string, clock: () => number = Date.now): Promise<RollbackAcceptance> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  const { breaks, heads: now } = await storeAgainstCheckpoints(store.audit, history, checkpointFile);
  const accepted = breaks.filter((b) => b.writerId !== null);
  const scrub = new AuditScrub(store.audit, { history }, { linksPerPass: Number.POSITIVE_INFINITY, confirmMs: 0, quiet: true, walkOn: true });
  await scrub.pass();
  const found = scrub.chainBreaks;
  // A chain whose head row is gone while its links remain is accepted as gone (not walked again);
  // every other break exactly, with the link the walk resumes at.
  const gone = found.filter((b) => b.seq === null).map((b) => ({ writerId: b.writerId, seq: 0, hash: '' }));
  // A break nothing follows (the chain's newest links deleted, its head left) also names the seq its writer appends next.
  const heads = found.some((b) => b.seq !== null && b.resume === null) ? new Map((await store.audit.chainHeads()).map((h) => [h.writerId, h.seq])) : new Map<string, number>();
  const skips = found.flatMap((b) => {
    if (b.seq === null) return [];
    const head = heads.get(b.writerId);
    return [{ writerId: b.writerId, seq: b.seq, resume: b.resume ?? 0, ...(b.resume === null && head !== undefined ? { next: head + 1 } : {}) }];
  });
  const lostPayments = scrub.breaks.filter((b) => b.writerId === null && b.table === 'payments').map((b) => b.recordId!);
  if (accepted.length === 0 && found.length === 0 && lostPayments.length === 0) return { accepted: [] };
  const chains = [...new Set(accepted.map((b) => b.writerId!))];
  appendCheckpoint(checkpointFile, ring, {
    store: store.db.description,
    at: clock(),
    by: `${ACCEPTED_ROLLBACK}: ${reason}`,
    heads: chains.map((writerId) => now.get(writerId) ?? { writerId, seq: 0, hash: '' }),
    ...(gone.length === 0 ? {} : { broken: gone }),
    ...(skips.length === 0 ? {} : { skips }),
    ...(lostPayments.length === 0 ? {} : { lostPayments }),
  });
  return { accepted: [...breaks, ...scrub.breaks] };
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
