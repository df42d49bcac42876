import type { KeyRing } from '../security/index.js';
import type { AuditVerifyReport, Store } from '../store/types.js';
import { appendCheckpoint, compareWithCheckpoints, readCheckpoints } from './checkpoints.js';

export type CheckedAuditReport = AuditVerifyReport & { checkpointFile: string; checkpoints: number };

/**
 * `gerbang audit verify` as a story: verify every chain and stored value in the database, then
 * compare the chain heads with the checkpoints kept outside it (a deleted tail, a vanished chain,
 * a rollback to an older copy are only visible there), then, when all is intact, checkpoint the
 * heads just verified. The result is recorded, signed, for the console's overview.
 */
export async function verifyAudit(store: Store, ring: KeyRing, checkpointFile: string, clock: () => number = Date.now): Promise<CheckedAuditReport> {
  const report = await store.audit.verify();
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  report.breaks.push(...(await compareWithCheckpoints(history, checkpointFile, report.heads, (wanted) => store.audit.linksAt(wanted))));
  // Only an intact state is vouched for: a checkpoint of a broken one would hide the break next time.
  if (report.breaks.length === 0) appendCheckpoint(checkpointFile, ring, { store: store.db.description, at: clock(), by: 'verify', heads: report.heads });
  const first = report.breaks[0];
  await store.auditVerifications.record({
    checkedAt: clock(),
    ok: report.breaks.length === 0,
    links: report.links,
    breaks: report.breaks.length,
    firstBreak: first ? `${first.problem.toUpperCase()}: ${first.detail}` : null,
  });
  return { ...report, checkpointFile, checkpoints: history.checkpoints };
}
