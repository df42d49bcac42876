import { InternalAuditTrail } from '../../audit/index.js';
import { AppError, IntegrityError } from '../../errors/index.js';
import type { AuditReads, AuditRepository, CallbackRepository, ConsoleUserRepository, PaymentRepository } from '../../store/types.js';
import { currentResult } from '../transfers/settlement.js';
import { notificationBody } from './callback-dispatcher.js';
import { OPERATOR_REASON_MAX, reasonProblem } from '../operator-reason.js';
import { earlierDeliveries, notHolding, REQUEUE_METHOD, type EarlierDeliveries, type Overridden } from './earlier-deliveries.js';

/**
 * The operator's way out for a notification held back in SQL (its delivery deleted, or set
 * DELIVERED or FAILED, or otherwise changed so the dispatcher refuses it, and `audit verify`
 * names it): the delivery is queued again as Gerbang queues it, from the payment's own keyed
 * state, never from the row found (which proves nothing). It is then sent once, and verify no
 * longer names it. A notification the ERP's endpoint took already (its keyed audit says so) is
 * not sent a second time unless asked (`sendAgain`). Audited (method CALLBACK-REQUEUE) with who
 * asked and why, requeued or refused.
 */
export interface RequeueDeps {
  /** The payment, read in the snapshot its notification's records are read in (readingOn, AuditRepository.inSnapshot). */
  payments: Pick<PaymentRepository, 'readingOn'>;
  callbacks: Pick<CallbackRepository, 'endpointOf' | 'requeue'>;
  consoleUsers: Pick<ConsoleUserRepository, 'findByUsername'>;
  /**
   * Where the requeue is recorded, and where the notification's earlier deliveries are read
   * (CALLBACK records), in one snapshot with the walk of `chains` (AuditRepository.inSnapshot).
   */
  audit: AuditRepository;
  /**
   * Why the keyed audit chains do not hold as a whole for the records made from `since` (epoch ms)
   * on, or null (src/audit's ChainGuard.vouchedProblem): the CALLBACK records and change records
   * that say whether it was delivered prove nothing while a gap may be where one of them was.
   * Asked before the snapshot its CALLBACK records are read in begins (the checkpoints outside the
   * database read then: read later, they may vouch for a link another writer committed meanwhile,
   * which the snapshot lacks, and name its chain cut back); what it returns is walked on `audit`,
   * that snapshot.
   */
  chains: () => (since: number, audit: AuditReads) => Promise<string | null>;
  clock: () => number;
}

export interface RequeueRequest {
  clientId: string;
  transactionId: string;
  /** Console username of the admin who looked at what audit verify named. */
  admin: string;
  /** Why (kept in the audit). */
  reason: string;
  /** Where it was asked (kept in the audit); `cli` unless said. */
  via?: 'cli' | 'console';
  /** The CLI's: the operating-system user and host that ran it (kept in the audit beside `admin`, a name typed there). */
  ranBy?: { osUser: string; host: string };
  /**
   * Queue it even though the audit says the ERP's endpoint took it already, or cannot tell: a
   * deliberate second send, said so in the audit record.
   */
  sendAgain?: boolean;
}

/**
 * Queued again (`found`: what was wrong with the delivery, `url`: where it goes, `secondSend`:
 * asked with sendAgain over a delivery the audit records or cannot rule out, in words;
 * `deliveryId`: the row queued; `overrides`: the records of its transaction that did not hold,
 * as found, which sendAgain sends it over), or refused (`refused`: why, nothing written but the
 * audit). `unaudited`: its audit record could not be opened, so nothing was done;
 * `auditIncomplete`: done, but the record's outcome could not be written (the record stays open,
 * without an answer). The outcome is the requeue's audit record's answer: the dispatcher reads
 * `deliveryId` and `overrides` there (attemptNotOnItsRow), keyed, before it sends that row.
 */
export type RequeueOutcome = ({ requeued: true; found: string; url: string; secondSend?: string; deliveryId?: number; overrides?: Overridden[] } | { requeued: false; refused: string; unaudited?: true }) & { auditIncomplete?: true };

/**
 * Queues the delivery of `clientId`'s `transactionId` again when its row does not hold or was
 * deleted in SQL. Refused, with nothing queued, when `admin` is not an active console admin, the
 * reason cannot be kept (reasonProblem: blank, too long, a control or direction character; the
 * same from the CLI and the console), the payment is not there, not final, or does not hold itself (changed in SQL:
 * its state proves nothing either), the client has no callback endpoint or one that does not hold,
 * or the delivery holds (it goes or went as Gerbang left it) or was never queued; and, unless
 * `sendAgain`, when a CALLBACK record that holds under the audit chain's key says the ERP's
 * endpoint answered 2xx to it (queued again, it would be sent a second time), or when that cannot
 * be told (earlierDeliveries: fail closed), or when the delivery's keyed change records record
 * more attempts than its CALLBACK records that hold answer for (one deleted: it may have been
 * delivered), or when the audit chains do not hold as a whole since the payment was made
 * (`chains`: a CALLBACK record and the attempts' change records deleted with their links leave
 * them agreeing, and only the gap says so). With `sendAgain`, its record's answer names the row it
 * queued (`deliveryId`) and the records of the transaction that do not hold, as found
 * (`overrides`): the dispatcher sends that row over those alone, as they then stood
 * (attemptNotOnItsRow), and over no record altered since. Never done unrecorded: its audit record is opened
 * first, and when it cannot be written nothing is queued (refused, `unaudited`); an error thrown
 * meanwhile is recorded as 500 and thrown on.
 */
export async function requeueCallback(deps: RequeueDeps, input: RequeueRequest): Promise<RequeueOutcome> {
  const reason = input.reason.trim();
  // Kept in bounded form when refused for its length (the record says how long it was).
  const kept = reason.length > OPERATOR_REASON_MAX ? `${reason.slice(0, OPERATOR_REASON_MAX)}… (${reason.length} characters)` : reason;
  const asked = { admin: input.admin, via: input.via ?? 'cli', ...(input.ranBy === undefined ? {} : { ranBy: input.ranBy }), reason: kept, ...(input.sendAgain ? { sendAgain: true } : {}) };
  const audit = new InternalAuditTrail(deps.audit, { method: REQUEUE_METHOD, path: `/internal/callbacks/${input.transactionId}`, requestBody: asked }, deps.clock);
  audit.set({ clientId: input.clientId, transactionId: input.transactionId });
  try {
    const { result, completed } = await audit.recorded(() => requeued(deps, input, reason), (outcome) => ({ statusCode: outcome.requeued ? 200 : 409, body: outcome }));
    return completed ? result : { ...result, auditIncomplete: true };
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'STORE_UNAVAILABLE' || audit.opened) throw error;
    const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
    return { requeued: false, refused: `its audit record could not be written (${cause}), and nothing is queued again unrecorded`, unaudited: true };
  }
}

async function requeued(deps: RequeueDeps, input: RequeueRequest, reason: string): Promise<RequeueOutcome> {
  const refused = (why: string): RequeueOutcome => ({ requeued: false, refused: why });
  const user = await deps.consoleUsers.findByUsername(input.admin);
  if (!user || user.role !== 'admin' || user.status !== 'active') return refused(`only an active console admin may queue a notification again; ${JSON.stringify(input.admin)} is not one`);
  const problem = reasonProblem(reason);
  if (problem !== null) return refused(`the reason ${problem}`);
  const transfer = `payment of client ${input.clientId}, transactionId ${input.transactionId}`;
  // Read first; judged after the payment, read in the snapshot below (a missing payment is named first).
  const endpoint = await heldRecord(() => deps.callbacks.endpointOf(input.clientId));
  // Its audit saying it was not delivered proves that only while no record of it can be missing:
  // whatever says so (its CALLBACK records, its attempts' change records) was linked after the
  // payment was made. Both read in one snapshot: read one by one, a writer in SQL putting a
  // delivery's deleted record and its links back after the records were read (or taking them out
  // again) would have the walk prove a gap the records read never had (H2). The payment is read
  // there too: whether it is final, and the state its notification carries, are what the walk
  // walks over (read before, its row rolled back or changed in SQL meanwhile would be decided and
  // told from a state the snapshot no longer holds). Causal: on a Galera node behind another, the
  // checkpoints read first would vouch for links the snapshot lacks. Asked to send it again: the
  // records that do not hold are named as found (`overrides`), and the dispatcher sends the row
  // queued here over those alone, as they stand now.
  const chains = deps.chains();
  const read = await deps.audit.inSnapshot(
    async (audit, q) => {
      const payment = await heldRecord(() => deps.payments.readingOn(q).find(input.clientId, input.transactionId));
      if (payment === null) return refused(`there is no ${transfer}`);
      if ('problem' in payment) return refused(`the ${transfer} does not hold itself (${payment.problem}): its state proves nothing, so nothing is told the ERP from it; see gerbang audit verify`);
      if (payment.state !== 'SUCCESS' && payment.state !== 'FAILED') return refused(`the ${transfer} is not final (${payment.state}): the ERP is told when it becomes final`);
      if (endpoint === null) return refused(`client ${input.clientId} has no callback endpoint (gerbang client set-callback)`);
      if (typeof endpoint !== 'string') return refused(`the callback endpoint of client ${input.clientId} does not hold (${endpoint.problem}); register it again with gerbang client set-callback`);
      const earlier = await earlierDeliveries(audit, input.clientId, input.transactionId);
      const sentBefore = sentAlready(earlier);
      const overrides = input.sendAgain ? await notHolding(audit, input.clientId, input.transactionId) : [];
      return { payment, url: endpoint, earlier, sentBefore, gap: input.sendAgain || sentBefore !== null ? null : await chains(payment.createdAt, audit), overrides };
    },
    { causal: true },
  );
  if ('requeued' in read) return read;
  const { payment, url, earlier, sentBefore, gap, overrides } = read;
  const now = deps.clock();
  const notification = { clientId: input.clientId, transactionId: input.transactionId, url, body: notificationBody(currentResult(payment, now)) };
  // Judged first either way: a delivery that holds is refused as such, sent before or not. Not
  // asked to send again, its recorded attempts must each have their audit record (none 2xx).
  const audited = 'attempts' in earlier ? earlier.attempts : undefined;
  const written = await deps.callbacks.requeue(notification, now, input.sendAgain ? { attemptsAudited: audited, queueUnaudited: true } : { judgeOnly: sentBefore !== null || gap !== null, countAttempts: gap !== null, attemptsAudited: audited ?? 0 });
  if ('notRequeued' in written) return refused(`${written.notRequeued}: nothing to queue again`);
  const unaudited = written.attemptsRecorded === undefined ? null : `its change records (keyed) record ${written.attemptsRecorded} delivery attempt(s) and its audit holds records of ${audited ?? 0}: an attempt is on record whose audit record is missing (deleted? see gerbang audit verify)`;
  const tellErp = 'Tell the ERP to read the transfer (GET /v1/transfers/{transactionId}); to send it anyway, run again with --send-again (recorded as a deliberate second send)';
  if (!written.queued && unaudited !== null) return refused(`${written.found}; but ${unaudited}, so it may have been delivered, and queued again it may be sent a second time. ${tellErp}`);
  if (!written.queued && gap !== null) return refused(`whether the ERP's endpoint took the ${transfer} already cannot be told while ${gap.replace(/; run `gerbang audit verify`$/, '')}: a gap may be where its delivery's audit record or attempts were. Run gerbang audit verify first; to send it anyway, run again with --send-again (recorded as a deliberate second send)`);
  if (!written.queued) return refused(`${written.found}; but ${sentBefore}, so queued again it would be sent a second time and the ERP may act on it twice. ${tellErp}`);
  const although = sentBefore ?? unaudited;
  return {
    requeued: true, found: written.found, url, ...(although === null ? {} : { secondSend: `sent again as asked (--send-again), although ${although}` }),
    ...(written.id === undefined ? {} : { deliveryId: written.id }), ...(overrides.length === 0 ? {} : { overrides }),
  };
}

/** Why the notification may have reached the ERP already, in words, or null when its audit records no delivery. */
function sentAlready(earlier: EarlierDeliveries): string | null {
  if ('untellable' in earlier) return `whether the ERP's endpoint took it already cannot be told: ${earlier.untellable}`;
  const last = earlier.delivered;
  if (last === null) return null;
  const times = earlier.times === 1 ? '' : ` (${earlier.times} deliveries recorded, the last one here)`;
  return `the ERP's endpoint took it already: delivered to ${last.url} at ${new Date(last.at).toISOString()}, answered ${last.status}${times}, as its audit record (audit_exchanges id ${last.exchangeId}, holding under the audit chain's key) says`;
}

/** What `read` returns, or the problem of a record that failed its integrity check. */
async function heldRecord<T>(read: () => Promise<T>): Promise<T | { problem: string }> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof IntegrityError) return { problem: error.where };
    throw error;
  }
}
