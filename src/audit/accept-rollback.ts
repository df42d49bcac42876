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
 * Every chain is also walked whole as the gateways' background scrub walks it (AuditScrub, from
 * where an earlier acceptance left it): a chain with records deleted or altered inside it is named
 * in the same line (`broken`) with the head it has now, and the scrub walks it from that link on.
 * verify still names its first break: the records are gone, and the line says who accepted that.
 * Payments whose row alone was deleted (their history left, not ending in a release) or altered
 * away from its MAC are named in it too (`lostPayments`), and the scrub holds no more on them.
 */
export async function acceptRollback(store: Store, ring: KeyRing, checkpointFile: string, reason: string, clock: () => number = Date.now): Promise<RollbackAcceptance> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  const { breaks, heads: now } = await storeAgainstCheckpoints(store.audit, history, checkpointFile);
  const accepted = breaks.filter((b) => b.writerId !== null);
  const scrub = new AuditScrub(store.audit, { history }, { linksPerPass: Number.POSITIVE_INFINITY, confirmMs: 0, quiet: true });
  await scrub.pass();
  const broken = scrub.breaks.filter((b) => b.writerId !== null);
  const lostPayments = scrub.breaks.filter((b) => b.writerId === null && b.table === 'payments').map((b) => b.recordId!);
  if (accepted.length === 0 && broken.length === 0 && lostPayments.length === 0) return { accepted: [] };
  const chains = [...new Set(accepted.map((b) => b.writerId!))];
  // Each broken chain through its head as it stands after the walk (at or past its break).
  const after = new Map((broken.length === 0 ? [] : await store.audit.chainHeads()).map((h) => [h.writerId, h]));
  appendCheckpoint(checkpointFile, ring, {
    store: store.db.description,
    at: clock(),
    by: `${ACCEPTED_ROLLBACK}: ${reason}`,
    heads: chains.map((writerId) => now.get(writerId) ?? { writerId, seq: 0, hash: '' }),
    ...(broken.length === 0 ? {} : { broken: broken.map((b) => after.get(b.writerId!) ?? { writerId: b.writerId!, seq: 0, hash: '' }) }),
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
