import type { KeyRing } from '../security/index.js';
import type { AuditChainBreak, Store } from '../store/types.js';
import { ACCEPTED_ROLLBACK, appendCheckpoint, readCheckpoints, storeAgainstCheckpoints } from './checkpoints.js';

export interface RollbackAcceptance {
  /** What the database lacked (each chain named), empty when it held all the checkpoints vouched for. */
  accepted: AuditChainBreak[];
}

/**
 * `gerbang audit accept-rollback`: an operator who has looked at a database found behind its
 * audit checkpoints (restored from a backup after a disaster, say) accepts it as it now is. One
 * signed line is appended to the checkpoint file, naming the operator's reason and, for each chain
 * behind or gone, the head the database now holds (seq 0: gone); the checkpoints read from then on
 * start there, so the gateways stop holding payments and verify no longer names those chains. The
 * line stays in the file: what was accepted, when and why can always be read back.
 */
export async function acceptRollback(store: Store, ring: KeyRing, checkpointFile: string, reason: string, clock: () => number = Date.now): Promise<RollbackAcceptance> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  const { breaks, heads: now } = await storeAgainstCheckpoints(store.audit, history, checkpointFile);
  const accepted = breaks.filter((b) => b.writerId !== null);
  if (accepted.length === 0) return { accepted: [] };
  const chains = [...new Set(accepted.map((b) => b.writerId!))];
  appendCheckpoint(checkpointFile, ring, {
    store: store.db.description,
    at: clock(),
    by: `${ACCEPTED_ROLLBACK}: ${reason}`,
    heads: chains.map((writerId) => now.get(writerId) ?? { writerId, seq: 0, hash: '' }),
  });
  return { accepted: breaks };
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
