import { AppError, IntegrityError } from '../../errors/index.js';
import { KeyRingError } from '../../security/index.js';
import { getLogger, type RequestContext } from '../../log/index.js';
import type { PaymentRecord, PaymentRepository, VouchedChains } from '../../store/types.js';

const log = getLogger('transfers');

/**
 * A reservation still RECEIVED this long after it was made belongs to a request that stopped
 * before routing it: its process died, or its database node died as it committed the row (that
 * request was answered 503 and does not know the row exists). A healthy request moves on to
 * SENDING within milliseconds. Taking it over is safe however soon: nothing is sent before
 * SENDING, the takeover deletes the row only while it is still RECEIVED, and the first request's
 * move to SENDING names the row by id, so after a takeover it changes nothing and that request
 * stops (409). The bound only keeps a slow request from being overtaken for nothing.
 */
export const RESERVATION_STALE_MS = 5_000;

/**
 * The most audit links read to prove a reservation was left behind: the links of every chain
 * since its reservation (about 5 a transfer, so some 4,000 transfers after it) and one for each
 * chain idle since. 20,000 took 1.0 to 1.4 s on MariaDB and 1.8 to 2.3 s on SQLite on the loaded
 * 2-core test machine (docs/security/threat-model.md); a takeover soon after a crash reads tens.
 */
export const TAKEOVER_PROOF_LINKS = 20_000;

export interface LeftBehindDeps {
  payments: Pick<PaymentRepository, 'laterHistory' | 'enterReview'>;
  clock: () => number;
  /**
   * Compares the database with the audit checkpoints outside it now (RollbackWatch): why it lacks
   * what they vouched for, or null. Asked before a reservation left behind is taken over or reported.
   */
  checkpoints: () => Promise<string | null>;
  /**
   * The audit checkpoints as they stand now (RollbackWatch.vouched), read before the proof's
   * snapshot begins and compared with the chains in it (laterHistory): the comparison above reads
   * the database apart from the proof's walk, and a chain whose tail an attacker cuts and puts
   * back meanwhile (its head row set back and forth) would look whole to each.
   */
  vouched: () => VouchedChains;
  /** The most audit links the proof may read (GERBANG_TAKEOVER_PROOF_LINKS); TAKEOVER_PROOF_LINKS when absent. */
  proofLinks?: number;
}

/**
 * How long a status read answers a reservation left behind as stored after this process proved
 * that very row (same id, same updated_at) for a status read: an ERP that polls every few seconds
 * then pays one chain walk per interval instead of one per poll (up to 1.0 to 1.4 s each at 20,000
 * links). Safe because a status read sends nothing and reports a reservation as PENDING (never pay
 * again); what it gives up: a paid transfer rolled back in SQL to a row proved less than this long
 * before is reported PENDING for the rest of the interval instead of 500 AUDIT_INTEGRITY. A
 * resend (the takeover) always proves in full.
 */
export const STATUS_PROOF_REUSE_MS = 30_000;

/** Reservations held in RecentProofs at most (the oldest forgotten first): a bound on its memory, whatever the polling. */
const RECENT_PROOFS_KEPT = 10_000;

/** The reservations left behind this process proved for a status read lately (STATUS_PROOF_REUSE_MS). */
export class RecentProofs {
  private readonly proved = new Map<number, { updatedAt: number; at: number }>();

  constructor(private readonly reuseMs = STATUS_PROOF_REUSE_MS) {}

  /** True when `payment`, as it stands, was proved left behind less than reuseMs before `now`. */
  holds(payment: PaymentRecord, now: number): boolean {
    const proof = this.proved.get(payment.id);
    if (proof === undefined) return false;
    if (proof.updatedAt === payment.updatedAt && now - proof.at < this.reuseMs && now >= proof.at) return true;
    this.proved.delete(payment.id);
    return false;
  }

  record(payment: PaymentRecord, now: number): void {
    this.proved.delete(payment.id);
    this.proved.set(payment.id, { updatedAt: payment.updatedAt, at: now });
    if (this.proved.size > RECENT_PROOFS_KEPT) this.proved.delete(this.proved.keys().next().value as number);
  }
}

/** True when `payment` is a reservation its process left behind, as the row says (provedLeftBehind says whether it is). */
export function looksLeftBehind(payment: PaymentRecord, now: number): boolean {
  return payment.state === 'RECEIVED' && payment.updatedAt <= now - RESERVATION_STALE_MS;
}

/**
 * Proves that a reservation that looks left behind is still what its process left: a database
 * writer without the keys can delete a sent payment's newer events with their links from the
 * middle of a chain and write its row back as it was while RECEIVED; the row and its last event
 * then agree, and only the chains show the hole (or, cut at a chain's tail with its head row set
 * back, only the checkpoints). So the database must hold what the audit checkpoints vouched for,
 * and every chain must be whole from that reservation's event to its head, all read in one
 * snapshot with the row itself (PaymentRepository.laterHistory, given `vouched`); a break found
 * before any walk is a problem however long the walk would be. A row changed
 * since `payment` was read is IDEMPOTENCY_IN_FLIGHT (409, Retry-After 1): the retry reads it anew.
 * Throws IntegrityError (500 AUDIT_INTEGRITY) naming what does not hold; false when the proof would read more than `proofLinks` links: never a guess, the
 * reservation enters the review queue (once) for a person to check with the bank and resolve.
 * STORE_UNAVAILABLE (503) when that history holds a record under a ring key this process has not
 * loaded (laterHistoryHere). All are logged (with `request`, the request that asked, if any);
 * `use` says what was refused (`taken over`, `reported`).
 */
export async function provedLeftBehind(deps: LeftBehindDeps, payment: PaymentRecord, use: string, request?: RequestContext): Promise<boolean> {
  const lacking = await deps.checkpoints();
  const bound = deps.proofLinks ?? TAKEOVER_PROOF_LINKS;
  const later = lacking === null ? await laterHistoryHere(deps, payment, bound, use, request) : { problem: lacking };
  if ('moved' in later) {
    // Moved on (or released) since it was read, by its own request or another's takeover: what it is now is for the retry to read.
    log.warn({ ...request, transactionId: payment.transactionId }, `a reservation left behind was not ${use}: it changed while it was being proved`);
    throw new AppError('IDEMPOTENCY_IN_FLIGHT', 'This transactionId is being processed; retry shortly.', { headers: { 'Retry-After': '1' } });
  }
  if ('problem' in later) {
    log.error({ ...request, transactionId: payment.transactionId, where: later.problem }, `a reservation left behind was not ${use}: its history does not hold`);
    throw new IntegrityError(`payments id ${payment.id} (${payment.clientId} / ${payment.transactionId}) was not ${use} as a reservation left behind: ${later.problem}`);
  }
  if ('beyond' in later) {
    log.error({ ...request, transactionId: payment.transactionId, links: later.beyond, bound }, `a reservation left behind was not ${use}: proving it unsent would read too many audit links; run gerbang audit verify`);
    if (payment.reviewSince === null) await deps.payments.enterReview(payment.id, deps.clock());
    return false;
  }
  return true;
}

/**
 * PaymentRepository.laterHistory, where a record after the reservation sealed under a ring key
 * this process has not loaded (during a reload that adds a key, processes already reloaded seal
 * with it) is STORE_UNAVAILABLE (503, Retry-After 5): this process cannot prove it, one with the
 * key can, so nothing is taken over here and the ERP's retry goes on elsewhere or after the
 * reload. A key id no ring holds (written in SQL) is refused the same way on every process;
 * `audit verify` names it.
 */
async function laterHistoryHere(deps: LeftBehindDeps, payment: PaymentRecord, bound: number, use: string, request: RequestContext | undefined): ReturnType<LeftBehindDeps['payments']['laterHistory']> {
  try {
    return await deps.payments.laterHistory(payment, bound, deps.vouched());
  } catch (error) {
    if (!(error instanceof KeyRingError) || error.reason !== 'unknown-key') throw error;
    log.error({ ...request, transactionId: payment.transactionId, err: error }, `a reservation left behind was not ${use}: its later history holds a record under a key this process has not loaded; reload it with the key ring of the others`);
    throw new AppError('STORE_UNAVAILABLE', 'This transactionId cannot be checked by this gateway process yet (its audit key ring is being reloaded); retry shortly.', { headers: { 'Retry-After': '5' } });
  }
}
