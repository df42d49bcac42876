import { userInfo, hostname } from 'node:os';
import type { KeyRing } from '../security/index.js';
import type { AnonymousPurgeReport, Store } from '../store/types.js';
import { appendCheckpoint } from './checkpoints.js';

const DAY_MS = 86_400_000;

export interface AnonymousPurgeRequest {
  retentionDays: number;
  /** An earlier cut-off than the retention's (never a later one); default: now − retention. */
  before?: number;
  dryRun?: boolean;
  checkpointFile: string;
}

/** The purge was asked to reach into the retention period: nothing is deleted. */
export class RetentionError extends Error {
  constructor(readonly before: number, readonly limit: number) {
    super(`--before ${new Date(before).toISOString()} is inside the retention period: only exchanges received before ${new Date(limit).toISOString()} may be purged`);
    this.name = 'RetentionError';
  }
}

/**
 * `gerbang audit purge-anonymous` as a story: the cut-off is the retention's (or an earlier one
 * asked for); the store deletes the anonymous rejected exchanges received before it, each batch a
 * purge record in this process's keyed chain; the chain's head is then checkpointed outside the
 * database, so deleting the purge record itself is noticed like any other. Throws RetentionError
 * when asked for a cut-off inside the retention.
 */
export async function purgeAnonymousExchanges(store: Store, ring: KeyRing, request: AnonymousPurgeRequest, clock: () => number = Date.now): Promise<AnonymousPurgeReport> {
  const now = clock();
  const limit = now - request.retentionDays * DAY_MS;
  const before = request.before ?? limit;
  if (before > limit) throw new RetentionError(before, limit);
  const report = await store.audit.purgeAnonymous({
    receivedBefore: before,
    retentionDays: request.retentionDays,
    purgedBy: `gerbang audit purge-anonymous on ${hostname().slice(0, 80)} as ${osUser()}`.slice(0, 255),
    purgedAt: now,
    dryRun: request.dryRun,
  });
  if (report.purges > 0) appendCheckpoint(request.checkpointFile, ring, { store: store.db.description, at: clock(), by: 'purge-anonymous', heads: store.audit.ownHeads() });
  return report;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
