import type { KeyRing } from '../security/index.js';
import type { AuditChainBreak, AuditVerifyReport, LostPaymentFacts, Store } from '../store/types.js';
import { acceptableIn, goneWithNothingLeft, vouchable } from './accept-rollback.js';
import { AuditScrub, goneChainBreaks, type ScrubbedAudit } from './audit-scrub.js';
import { absorbHeadFiles, appendCheckpoint, compareWithCheckpoints, linkHoldsIn, readCheckpoints, type CheckpointHistory } from './checkpoints.js';

/**
 * A break that an operator accepted (`gerbang audit accept-rollback`, a signed line of the
 * checkpoint file, at `acceptedAt`): `exactly` (that very link, the line's `skips`, or that very
 * payment, its `lostPayments`), `through-link` (an acceptance line written before `skips` existed
 * accepted the chain as it stood through link `through`, and this break is at or before it), or
 * `as-gone` (the chain's head row was deleted and the chain accepted as gone).
 */
export type AcceptedChainBreak = AuditChainBreak & { acceptedAt: number; how: 'exactly' | 'through-link' | 'as-gone'; through?: number; unproven?: true };

/**
 * verify's report: `breaks` names every break of every chain not accepted (each chain walked on
 * past each break), then the rest; `accepted` the breaks an operator accepted, not counted as
 * breaks. One accepted by a line that did not say what it saw (written before acceptances did)
 * is `unproven`: nothing shows it is the break that was accepted and not one made since, so the
 * report is not `ok` (accept-rollback again writes exact lines for them).
 */
export type CheckedAuditReport = AuditVerifyReport & {
  checkpointFile: string;
  checkpoints: number;
  accepted: AcceptedChainBreak[];
  ok: boolean;
  /** When not `ok`: the digest of what `accept-rollback` would accept now (null: nothing), for its `--expect`. */
  acceptDigest?: string | null;
  /** When not `ok`: every lost payment among what `accept-rollback` would accept now, as much as can be read back of each. */
  lostPayments?: LostPaymentFacts[];
};

/**
 * `gerbang audit verify` as a story: verify every chain and stored value in the database, walk on
 * past each break of a broken chain (as an acceptance does: every break named, those an operator
 * accepted set apart), then compare the chain heads with the checkpoints kept outside it (a
 * deleted tail, a vanished chain, a rollback to an older copy are only visible there; the head
 * files of the writers count as checkpoints), then, when nothing is broken but what was accepted,
 * checkpoint the heads just verified and remove the head files of ended processes it covers. The result is
 * recorded, signed, for the console's overview.
 *
 * The walk, the stored values, the walk on past each break, the comparison with the checkpoints
 * and the heads to checkpoint are all read in one snapshot of the database (AuditRepository.inSnapshot),
 * the checkpoints read before it begins (they vouch only for links committed before it, which it
 * holds unless they were taken out; a causal snapshot, SnapshotOptions: on a Galera node it begins
 * once the node applied what other nodes committed before), and so is what an acceptance would
 * take (the digest printed for `accept-rollback --expect`: of the breaks named, not of a state one
 * was added to since): an attacker who toggles a row or a chain's tail between two
 * states cannot show each read a state that holds while the whole never did (H2).
 */
export async function verifyAudit(store: Store, ring: KeyRing, checkpointFile: string, clock: () => number = Date.now): Promise<CheckedAuditReport> {
  const history = readCheckpoints(checkpointFile, ring, store.db.description);
  const { report, breaks, accepted, ok, heads, toAccept } = await store.audit.inSnapshot(async (audit) => {
    const report = await audit.verify({ acceptedPayments: history.acceptedDeletions });
    const { breaks, accepted } = await everyChainBreak(audit, history, report.breaks);
    accepted.push(
      ...report.acceptedPayments.map(({ paymentId, problem, detail, unproven }): AcceptedChainBreak => ({
        writerId: null,
        seq: null,
        table: 'payments',
        recordId: paymentId,
        problem,
        detail,
        acceptedAt: history.acceptedDeletions.get(paymentId)!.at,
        how: 'exactly',
        ...(unproven ? { unproven } : {}),
      })),
    );
    breaks.push(...(await compareWithCheckpoints(history, checkpointFile, report.heads, (wanted) => audit.linksAt(wanted), linkHoldsIn(audit))));
    const ok = breaks.length === 0 && !accepted.some((b) => b.unproven);
    // Only a state with no break but what was accepted exactly is vouched for: a checkpoint of a broken one would hide the break next time.
    // A head row at link 0 (its writer's first append refused by the database) has no link to vouch for.
    const heads = ok ? await vouchable(audit, history, report.heads.filter((h) => h.seq > 0)) : [];
    // What an acceptance would take, walked as it walks, over the state named here (only when something is not accepted: it walks everything once more).
    const toAccept = ok ? undefined : await acceptableIn(audit, history, checkpointFile);
    return { report, breaks, accepted, ok, heads, toAccept };
  }, { causal: true });
  if (ok) {
    appendCheckpoint(checkpointFile, ring, { store: store.db.description, at: clock(), by: 'verify', heads });
    // The head files of processes that ended, every head of theirs in that line now: no longer needed.
    absorbHeadFiles(history, heads, ring);
  }
  const first = breaks[0] ?? accepted.find((b) => b.unproven);
  await store.auditVerifications.record({
    checkedAt: clock(),
    ok,
    links: report.links,
    breaks: breaks.length,
    firstBreak: first ? `${first.problem.toUpperCase()}: ${first.detail}` : null,
  });
  return { ...report, breaks, accepted, checkpointFile, checkpoints: history.checkpoints, ok, ...(toAccept ? { acceptDigest: toAccept.digest, lostPayments: toAccept.lostPayments } : {}) };
}

/**
 * Every break of the chains verify's own walk found broken (`found`: its first break of each, and
 * the rest of its report): each such chain walked again by the scrub's acceptance walk (AuditScrub
 * with `walkOn`), on past each break and over those accepted exactly. A first break the walk did
 * not find again is kept (it was seen: nothing proves it gone), unless an acceptance covers it.
 */
async function everyChainBreak(audit: ScrubbedAudit, history: CheckpointHistory, found: AuditChainBreak[]): Promise<{ breaks: AuditChainBreak[]; accepted: AcceptedChainBreak[] }> {
  const firsts = found.filter((b): b is AuditChainBreak & { writerId: string } => b.writerId !== null);
  // A chain accepted as gone is compared with what remained of it then, and what remains is walked below (the scrub's walk, walkOn).
  const gone = await goneChainBreaks(audit, history.acceptedBreaks);
  const rest = [...gone, ...found.filter((b) => b.writerId === null)];
  // Accepted as gone by an older line, nothing of it left: unproven (what remained may have been deleted since, payments with it).
  const emptied: AcceptedChainBreak[] = (await goneWithNothingLeft(audit, history, firsts)).map(({ remains: _, at, ...b }) => ({ ...b, acceptedAt: at, how: 'as-gone', unproven: true }));
  if (firsts.length === 0) return { breaks: rest, accepted: emptied };
  const chains = [...new Set(firsts.map((b) => b.writerId))];
  const scrub = new AuditScrub(audit, { history }, { linksPerPass: Number.POSITIVE_INFINITY, confirmMs: 0, quiet: true, walkOn: true, chains });
  await scrub.pass();
  const same = (a: AuditChainBreak, b: AuditChainBreak) => a.writerId === b.writerId && a.seq === b.seq;
  // A break verify's own walk named is named as it named it (the scrub's confirmation walks a piece, and words a gap so).
  const asNamed = <T extends AuditChainBreak>(b: T): T => ({ ...b, ...firsts.find((first) => same(first, b)) });
  const accepted: AcceptedChainBreak[] = scrub.acceptedBreaks.map(({ resume: _, ...b }) => ({ ...asNamed(b), acceptedAt: history.acceptedSkips.get(b.writerId)?.get(b.seq!)?.at ?? 0, how: 'exactly' }));
  // Lines that did not say what they saw: a break at or below what they accepted is named accepted, unproven.
  const unproven = (acceptance: { seq: number; remained?: unknown }) => (acceptance.seq === 0 && acceptance.remained !== undefined ? {} : { unproven: true as const });
  const through = (b: AuditChainBreak) => {
    const acceptance = b.writerId === null ? undefined : history.acceptedBreaks.get(b.writerId);
    return acceptance && acceptance.seq > 0 && b.seq !== null && b.seq <= acceptance.seq ? acceptance : undefined;
  };
  const walked: AuditChainBreak[] = [];
  for (const b of scrub.breaks.filter((x) => x.writerId !== null).map(asNamed)) {
    const acceptance = through(b);
    // A chain accepted as gone by a line that did not say what remained is walked (what is missing from it named): its head's break is the one accepted.
    const gone = b.seq === null ? history.acceptedBreaks.get(b.writerId!) : undefined;
    if (acceptance) accepted.push({ ...b, acceptedAt: acceptance.at, how: 'through-link', through: acceptance.seq, unproven: true });
    else if (gone?.seq === 0) accepted.push({ ...b, acceptedAt: gone.at, how: 'as-gone', ...unproven(gone) });
    else walked.push(b);
  }
  const kept: AuditChainBreak[] = [];
  for (const first of firsts) {
    if (walked.some((b) => same(b, first)) || accepted.some((b) => same(b, first))) continue;
    const acceptance = history.acceptedBreaks.get(first.writerId);
    if (acceptance && acceptance.seq === 0) accepted.push({ ...first, acceptedAt: acceptance.at, how: 'as-gone', ...unproven(acceptance) });
    else if (acceptance && first.seq !== null && first.seq <= acceptance.seq) accepted.push({ ...first, acceptedAt: acceptance.at, how: 'through-link', through: acceptance.seq, ...unproven(acceptance) });
    else kept.push(first);
  }
  return { breaks: [...walked, ...kept, ...rest], accepted: [...accepted, ...emptied] };
}

