import type { KeyRing } from '../security/index.js';
import type { AuditChainBreak, AuditVerifyReport, Store } from '../store/types.js';
import { AuditScrub, type ScrubbedAudit } from './audit-scrub.js';
import { appendCheckpoint, compareWithCheckpoints, readCheckpoints, type CheckpointHistory } from './checkpoints.js';

/**
 * A break that an operator accepted (`gerbang audit accept-rollback`, a signed line of the
 * checkpoint file, at `acceptedAt`): `exactly` (that very link, the line's `skips`, or that very
 * payment, its `lostPayments`), `through-link` (an acceptance line written before `skips` existed
 * accepted the chain as it stood through link `through`, and this break is at or before it), or
 * `as-gone` (the chain's head row was deleted and the chain accepted as gone).
 */
export type AcceptedChainBreak = AuditChainBreak & { acceptedAt: number; how: 'exactly' | 'through-link' | 'as-gone'; through?: number };

/**
 * verify's report: `breaks` names every break of every chain not accepted (each chain walked on
 * past each break), then the rest; `accepted` the breaks an operator accepted, not counted as
 * breaks.
 */
export type CheckedAuditReport = AuditVerifyReport & { checkpointFile: string; checkpoints: number; accepted: AcceptedChainBreak[] };

/**
 * `gerbang audit verify` as a story: verify every chain and stored value in the database, walk on
 * past each break of a broken chain (as an acceptance does: every break named, those an operator
 * accepted set apart), then compare the chain heads with the checkpoints kept outside it (a
 * deleted tail, a vanished chain, a rollback to an older copy are only visible there), then, when
 * nothing is broken but what was accepted, checkpoint the heads just verified. The result is
 * recorded, signed, for the console's overview.
 */
export async function verifyAudit(store: Store, ring: KeyRing, checkpointFile: string, clock: () => number = Date.now): Promise<CheckedAuditReport> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  const report = await store.audit.verify({ acceptedPayments: new Set(history.acceptedDeletions.keys()) });
  const { breaks, accepted } = await everyChainBreak(store.audit, history, report.breaks);
  accepted.push(
    ...report.acceptedPayments.map(({ paymentId, problem, detail }): AcceptedChainBreak => ({ writerId: null, seq: null, table: 'payments', recordId: paymentId, problem, detail, acceptedAt: history.acceptedDeletions.get(paymentId)!, how: 'exactly' })),
  );
  breaks.push(...(await compareWithCheckpoints(history, checkpointFile, report.heads, (wanted) => store.audit.linksAt(wanted))));
  // Only a state with no break but what was accepted is vouched for: a checkpoint of a broken one would hide the break next time.
  if (breaks.length === 0) appendCheckpoint(checkpointFile, ring, { store: store.db.description, at: clock(), by: 'verify', heads: report.heads });
  const first = breaks[0];
  await store.auditVerifications.record({
    checkedAt: clock(),
    ok: breaks.length === 0,
    links: report.links,
    breaks: breaks.length,
    firstBreak: first ? `${first.problem.toUpperCase()}: ${first.detail}` : null,
  });
  return { ...report, breaks, accepted, checkpointFile, checkpoints: history.checkpoints };
}

/**
 * Every break of the chains verify's own walk found broken (`found`: its first break of each, and
 * the rest of its report): each such chain walked again by the scrub's acceptance walk (AuditScrub
 * with `walkOn`), on past each break and over those accepted exactly. A first break the walk did
 * not find again is kept (it was seen: nothing proves it gone), unless an acceptance covers it.
 */
async function everyChainBreak(audit: ScrubbedAudit, history: CheckpointHistory, found: AuditChainBreak[]): Promise<{ breaks: AuditChainBreak[]; accepted: AcceptedChainBreak[] }> {
  const firsts = found.filter((b): b is AuditChainBreak & { writerId: string } => b.writerId !== null);
  const rest = found.filter((b) => b.writerId === null);
  if (firsts.length === 0) return { breaks: rest, accepted: [] };
  const chains = [...new Set(firsts.map((b) => b.writerId))];
  const scrub = new AuditScrub(audit, { history }, { linksPerPass: Number.POSITIVE_INFINITY, confirmMs: 0, quiet: true, walkOn: true, chains });
  await scrub.pass();
  const same = (a: AuditChainBreak, b: AuditChainBreak) => a.writerId === b.writerId && a.seq === b.seq;
  // A break verify's own walk named is named as it named it (the scrub's confirmation walks a piece, and words a gap so).
  const asNamed = <T extends AuditChainBreak>(b: T): T => ({ ...b, ...firsts.find((first) => same(first, b)) });
  const walked = scrub.breaks.filter((b) => b.writerId !== null).map(asNamed);
  const accepted: AcceptedChainBreak[] = scrub.acceptedBreaks.map(({ resume: _, ...b }) => ({ ...asNamed(b), acceptedAt: history.acceptedSkips.get(b.writerId)?.get(b.seq!)?.at ?? 0, how: 'exactly' }));
  const kept: AuditChainBreak[] = [];
  for (const first of firsts) {
    if (walked.some((b) => same(b, first)) || accepted.some((b) => same(b, first))) continue;
    const acceptance = history.acceptedBreaks.get(first.writerId);
    if (acceptance && acceptance.seq === 0) accepted.push({ ...first, acceptedAt: acceptance.at, how: 'as-gone' });
    else if (acceptance && first.seq !== null && first.seq <= acceptance.seq) accepted.push({ ...first, acceptedAt: acceptance.at, how: 'through-link', through: acceptance.seq });
    else kept.push(first);
  }
  return { breaks: [...walked, ...kept, ...rest], accepted };
}
