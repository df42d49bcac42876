import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { request } from 'undici';
import { getLogger, type RequestContext } from '../../log/index.js';
import { auditIntegrityRefusal, InternalAuditTrail } from '../../audit/index.js';
import { IntegrityError } from '../../errors/index.js';
import { LEASE_CLOCK_MARGIN_MS, type AuditRepository, type CallbackDelivery, type CallbackRepository, type LeasedCallback, type RecentReads, type RefusedCallback } from '../../store/index.js';
import { PeriodicTask } from '../periodic-task.js';
import type { TransferResult } from '../transfers/transfer-result.js';
import type { CallbackSigner } from './callback-signer.js';
import { attemptNotOnItsRow, CALLBACK_METHOD, type AttemptAnswered, type AttemptAsked } from './earlier-deliveries.js';

const log = getLogger('callbacks');

/** Attempts before a notification is given up (about a day with the back-off below). */
const MAX_ATTEMPTS = 12;
const TIMEOUT_MS = 5_000;

/** Tells the ERP a transfer is final: puts a notification in the outbox when the client registered an endpoint. */
export interface FinalStateNotifier {
  /** `request`: the HTTP request that made it final, if any, for the log lines. */
  notify(clientId: string, result: TransferResult, request?: RequestContext): Promise<void>;
}

/** What the outbox reads and writes for each transfer that becomes final. */
export type OutboxStore = Pick<CallbackRepository, 'endpointOf' | 'enqueue'>;

/**
 * The outbox's store with each client's endpoint read through `reads` (GERBANG_CACHE_STALENESS_MS):
 * one SELECT per client per interval instead of one per final transfer, a client without an
 * endpoint included. An endpoint registered, changed or removed (by the CLI, another process) is
 * used by every process within the bound. Safe because the queued URL is never trusted: the
 * dispatcher reads the endpoint again with its MAC and latest change record before it signs and
 * sends (claimDue), and a row failing its MAC check throws here and is never kept.
 */
export function recentEndpoints(callbacks: OutboxStore, reads: RecentReads): OutboxStore {
  return {
    endpointOf: (clientId) => reads.read(`endpoint ${clientId}`, () => callbacks.endpointOf(clientId)),
    enqueue: (delivery, now) => callbacks.enqueue(delivery, now),
  };
}

/** What the ERP is sent when a transfer is final: its answer, as GET /v1/transfers/{id} gives it. */
export function notificationBody(result: TransferResult): string {
  return JSON.stringify({ event: 'transfer.final', transfer: result });
}

/**
 * Queues a notification for the client's registered endpoint. An endpoint whose row fails its MAC
 * (its URL rewritten in SQL) gets nothing queued, and the refusal is audited (refusalAudited).
 */
export function outboxNotifier(callbacks: OutboxStore, audit: AuditRepository, clock: () => number): FinalStateNotifier {
  return {
    async notify(clientId, result, request) {
      try {
        const url = await callbacks.endpointOf(clientId);
        if (!url) return;
        await callbacks.enqueue({ clientId, transactionId: result.transactionId, url, body: notificationBody(result) }, clock());
      } catch (error) {
        // The transfer's state is stored; the ERP can still read it. Never fail a payment over this.
        log.error({ ...request, err: error, transactionId: result.transactionId }, 'callback could not be queued');
        if (error instanceof IntegrityError) await refusalAudited(audit, clock, { clientId, transactionId: result.transactionId, refused: error.where }, 'NOT QUEUED');
      }
    },
  };
}

/**
 * The audit record of a notification refused because its own row, its body or its client's
 * endpoint failed its integrity check: internal work answered 500 AUDIT_INTEGRITY, naming the
 * client and the row refused, so `gerbang audit export` and the console show it, not only a log line.
 */
async function refusalAudited(audit: AuditRepository, clock: () => number, refusal: Omit<RefusedCallback, 'id'>, delivery: 'FAILED' | 'NOT QUEUED' | 'NOT SENT'): Promise<void> {
  // What was refused: the delivery's own row (not Gerbang's latest state of it), or its body or its client's endpoint.
  const refused = refusal.leftAsIs ? { delivery: `callback_deliveries of client ${refusal.clientId}, transactionId ${refusal.transactionId}` } : { endpoint: `client_callbacks of client ${refusal.clientId}` };
  const work = { method: CALLBACK_METHOD, path: `/internal/callbacks/${refusal.transactionId}`, requestBody: refused };
  await auditIntegrityRefusal(audit, clock, work, refusal, { delivery, refused: refusal.refused });
}

/** Deliveries claimed at a time. */
const CLAIM_SIZE = 20;

/** Claims one run makes at most while its claims hold refused rows (CLAIM_SIZE × this: 1,000 rows). */
const CLAIMS_A_RUN = 50;

/** How long a claim leases what it claims: a process stopped while sending leaves it to another after this. */
const LEASE_MS = 60_000;

/**
 * The longest a due delivery stays under leases of Gerbang's claims without an attempt recorded:
 * a lease, with another node's clock ahead by the margin claimDue allows. A claim sends within
 * seconds and records the attempt (freeing the lease, moving the next attempt time); a refused row
 * stays leased to the end and is claimed again when the lease ends, which every run watching it sees.
 */
const HELD_LONGER_THAN_A_CLAIM_MS = LEASE_MS + LEASE_CLOCK_MARGIN_MS;

/**
 * How soon a delivery is looked at again while the requeue that queued it has not written its
 * answer yet (attemptNotOnItsRow: requeueUnfinished): that answer follows the row within moments,
 * so the row is not held for a lease.
 */
const REQUEUE_ANSWER_WAIT_MS = 1_000;

/** Due leased deliveries watched a run (leasedDue): beyond these, the oldest due are watched. */
const LEASES_WATCHED = 200;

/** Forged rows whose refusal a process remembers (reportedAlready), the least recently refused forgotten first. */
const REFUSALS_REMEMBERED = 20_000;

/**
 * Delivers queued notifications from every API process: the store leases each to one process.
 * A 2xx answer delivers it; anything else is tried again with back-off (GERBANG_CALLBACK_RETRY_BASE_MS doubling to 4 h),
 * then given up. Redirects are not followed (undici request never follows them). Every attempt is audited as internal work.
 */
export class CallbackDispatcher {
  readonly owner = `${hostname().slice(0, 30)}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly task: PeriodicTask;
  /**
   * The due deliveries this process saw under a lease at its last run, by client and transaction
   * id (deliveryKey: its change records' key; a writer may change its id at each lease rewritten,
   * which its MAC then refuses once the lease ends): since when it has seen each held without a break, as it then stood
   * (attempts, next attempt time), the id it first had, and whether that was logged.
   */
  private leased = new Map<string, HeldDelivery>();
  /** The digest of the forged state (RefusedCallback.asFound) last audited and logged for each row refused as it stands, by id. */
  private readonly reported = new Map<number, string>();

  constructor(
    private readonly deps: {
      callbacks: CallbackRepository;
      audit: AuditRepository;
      signer: CallbackSigner;
      clock: () => number;
      /**
       * Why the store is held (the database lacks what the checkpoints vouched for, or the scrub
       * found records missing), or null: nothing is claimed nor sent meanwhile, as no payment is
       * made, so a delivery's newest change cut from a chain's tail with its row written back as
       * queued is not sent again.
       */
      held?: () => string | null;
    },
    private readonly options: { intervalMs: number; retryBaseMs: number },
  ) {
    this.task = new PeriodicTask('callbacks', options.intervalMs, () => this.runOnce());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /**
   * Claims and sends what is due, CLAIM_SIZE at a time. A claim holding rows refused as they stand
   * (left as they are, leased for a minute) is followed by another in the same run, up to
   * CLAIMS_A_RUN: rows forged in SQL ahead of the genuine ones in the claim's order do not hold the
   * genuine notifications back for a lease each.
   */
  async runOnce(): Promise<number> {
    let claimed = 0;
    if (this.deps.held?.()) return claimed;
    // Before the claims: a lease that ended is seen ended here, before a claim of this run takes the row again.
    await this.watchLeases(this.deps.clock());
    for (let claim = 0; claim < CLAIMS_A_RUN; claim += 1) {
      if (this.deps.held?.()) return claimed;
      const due = await this.deps.callbacks.claimDue({ owner: this.owner, now: this.deps.clock(), leaseMs: LEASE_MS, limit: CLAIM_SIZE });
      await Promise.all(due.map((delivery) => ('refused' in delivery ? this.refuse(delivery) : this.deliver(delivery))));
      claimed += due.length;
      if (due.length < CLAIM_SIZE || !due.some((delivery) => 'refused' in delivery && delivery.leftAsIs)) return claimed;
    }
    return claimed;
  }

  /**
   * `lease_until` is outside the MAC, and claimDue honours a lease up to a claim's length plus a
   * clock margin ahead: a writer who rewrites the lease of a due delivery before it ends holds
   * that notification back, unnamed by audit verify. Each run notes the due deliveries under such
   * a lease; one seen held at every run, unchanged (no attempt recorded), for longer than a claim of
   * Gerbang's holds one (HELD_LONGER_THAN_A_CLAIM_MS) is logged at warn level, naming it, once while
   * it stays held (gerbang_callbacks_overdue_oldest_age_seconds shows it too). A delivery is known
   * by its client and transaction id, so its id changed in SQL with each lease does not hide it
   * (nor does it get it sent: its MAC covers its id). On a cluster a row
   * another node refuses (forged) and claims again the moment its lease ends may be logged too.
   */
  private async watchLeases(now: number): Promise<void> {
    const rows = await this.deps.callbacks.leasedDue({ now, leaseMs: LEASE_MS, limit: LEASES_WATCHED });
    const seen = new Map<string, HeldDelivery>();
    for (const row of rows) {
      const key = deliveryKey(row);
      const before = this.leased.get(key);
      const held = before !== undefined && before.attempts === row.attempts && before.nextAttemptAt === row.nextAttemptAt ? before : { since: now, firstId: row.id, attempts: row.attempts, nextAttemptAt: row.nextAttemptAt, warned: false };
      if (!held.warned && now - held.since > HELD_LONGER_THAN_A_CLAIM_MS) {
        held.warned = true;
        log.warn(heldLease(row, held, now), 'due callback held under a lease longer than a claim of Gerbang lasts (its lease rewritten outside Gerbang?): not sent');
      }
      seen.set(key, held);
    }
    // A delivery no longer leased and due (claimable, sent, or changed) is forgotten.
    this.leased = seen;
  }

  /**
   * Never signed nor sent: audited, then marked FAILED for good; one whose own row does not hold
   * is audited and left as it is (claimed, and refused, again once its lease ends).
   */
  private async refuse(delivery: RefusedCallback): Promise<void> {
    if (this.reportedAlready(delivery)) return;
    log.error({ deliveryId: delivery.id, clientId: delivery.clientId, transactionId: delivery.transactionId, problem: delivery.refused }, 'queued callback refused: never signed nor sent');
    await refusalAudited(this.deps.audit, this.deps.clock, delivery, delivery.leftAsIs ? 'NOT SENT' : 'FAILED');
    if (delivery.leftAsIs) return this.remember(delivery);
    const now = this.deps.clock();
    await this.deps.callbacks.recordAttempt(delivery, this.owner, { state: 'FAILED', status: null, error: `refused: ${delivery.refused}`, nextAttemptAt: now }, now);
  }

  /**
   * True when this process already audited and logged `delivery` refused as it stands now: a
   * forged row left as it is is claimed and refused again each minute, and is reported once per
   * forged state (again when it is forged otherwise). In memory: a restarted process, or another
   * node, reports it once more; past REFUSALS_REMEMBERED rows, the least recently refused are
   * forgotten (reported again then).
   */
  private reportedAlready(delivery: RefusedCallback): boolean {
    if (delivery.asFound === undefined || this.reported.get(delivery.id) !== delivery.asFound) return false;
    this.remember(delivery);
    return true;
  }

  /** Remembers `delivery` as reported in the state it was found (once its audit record is written), as the most recently refused. */
  private remember(delivery: RefusedCallback): void {
    if (delivery.asFound === undefined) return;
    this.reported.delete(delivery.id);
    this.reported.set(delivery.id, delivery.asFound);
    if (this.reported.size > REFUSALS_REMEMBERED) this.reported.delete(this.reported.keys().next().value!);
  }

  /**
   * Not sent now, nor refused: a record of its transaction does not hold, and the requeue
   * --send-again that queued it, its record opened moments ago, has not written which row it
   * queued and over which records (attemptNotOnItsRow: requeueUnfinished). Its lease given up to
   * end in REQUEUE_ANSWER_WAIT_MS, so it is looked at again once that answer is written, not a
   * lease later. A requeue that never writes it (its process stopped) has the row refused once
   * its record is older than a claim.
   */
  private async requeueAwaited(delivery: CallbackDelivery, exchangeId: number): Promise<void> {
    await this.deps.callbacks.releaseLease(delivery.id, this.owner, this.deps.clock() + REQUEUE_ANSWER_WAIT_MS);
    log.info({ deliveryId: delivery.id, clientId: delivery.clientId, transactionId: delivery.transactionId, exchangeId }, `callback not sent yet: ${requeueUnfinished(exchangeId)}`);
  }

  /**
   * Its audit record is opened before the POST and finished after it whatever recording the
   * attempt on its row does: a send in flight, or one whose process stopped, leaves a record
   * without an outcome, which a requeue reads as "it may have been delivered" (earlierDeliveries)
   * and refuses without --send-again. When that record cannot be opened, nothing is sent (the
   * lease ends, and it is claimed again). Opening it first costs no round trip: the record was
   * opened (then completed) after the POST before. Before it, and again once it is open, the
   * delivery's own CALLBACK records are read (one query each, attemptNotOnItsRow): an attempt its
   * row lost is refused, never posted again, and one another process is posting now is left to it
   * (of two that opened their records, the lower id posts; the other finishes its record NOT SENT).
   */
  private async deliver(delivery: CallbackDelivery): Promise<void> {
    // At most one POST an attempt: one its row lost (or one another process sends now) is not sent again.
    const lost = await attemptNotOnItsRow(this.deps.audit, delivery, this.deps.clock() - HELD_LONGER_THAN_A_CLAIM_MS);
    if (lost !== null && 'requeueUnfinished' in lost) return this.requeueAwaited(delivery, lost.requeueUnfinished);
    if (lost !== null) {
      // Leased by no process (its lease end kept): the process sending it records the attempt over a lease it finds cleared (recordAttempt).
      await this.deps.callbacks.releaseLease(delivery.id, this.owner);
      if ('inFlight' in lost) {
        log.warn({ deliveryId: delivery.id, clientId: delivery.clientId, transactionId: delivery.transactionId, exchangeId: lost.inFlight }, 'callback not sent: an attempt of it is being sent now (its lease cleared outside Gerbang?)');
        return;
      }
      const asFound = createHash('sha256').update(JSON.stringify([delivery.id, delivery.attempts, lost.refused])).digest('base64');
      return this.refuse({ id: delivery.id, clientId: delivery.clientId, transactionId: delivery.transactionId, refused: lost.refused, leftAsIs: true, asFound });
    }
    // Read back by requeue (earlierDeliveries): an attempt the endpoint answered 2xx is not sent again unasked; and before each send (attemptNotOnItsRow).
    const asked: AttemptAsked = { url: delivery.url, body: JSON.parse(delivery.body), deliveryId: delivery.id, attempt: delivery.attempts + 1 };
    const audit = new InternalAuditTrail(this.deps.audit, { method: CALLBACK_METHOD, path: `/internal/callbacks/${delivery.transactionId}`, requestBody: asked }, this.deps.clock);
    audit.set({ clientId: delivery.clientId, transactionId: delivery.transactionId });
    let own: number;
    try {
      own = await audit.open();
    } catch (caught) {
      log.error({ err: caught, deliveryId: delivery.id, clientId: delivery.clientId, transactionId: delivery.transactionId }, 'callback not sent: its audit record could not be opened (sent once its lease ends and it can)');
      return;
    }
    // A second look, the record open: another process that claimed it between the first look and
    // here (its lease cleared in SQL) has opened its own; the lower record id sends, the other stands back.
    const sending = await attemptNotOnItsRow(this.deps.audit, delivery, this.deps.clock() - HELD_LONGER_THAN_A_CLAIM_MS, own);
    if (sending !== null) {
      const why =
        'inFlight' in sending ? `an attempt of it is being sent now by another process (audit_exchanges id ${sending.inFlight})` : 'requeueUnfinished' in sending ? requeueUnfinished(sending.requeueUnfinished) : sending.refused;
      // Waiting on a requeue's answer: looked at again soon (requeueAwaited); otherwise once its lease ends.
      await this.deps.callbacks.releaseLease(delivery.id, this.owner, 'requeueUnfinished' in sending ? this.deps.clock() + REQUEUE_ANSWER_WAIT_MS : undefined);
      log.warn({ deliveryId: delivery.id, clientId: delivery.clientId, transactionId: delivery.transactionId, problem: why }, 'callback not sent');
      const notSent: AttemptAnswered = { delivery: 'NOT SENT', status: null, error: why, attempts: delivery.attempts };
      await audit.finish(409, notSent);
      return;
    }
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await request(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Gerbang-Callback/1',
          'gerbang-event-id': `${delivery.clientId}:${delivery.transactionId}`,
          'gerbang-signature': this.deps.signer.signatureHeader(delivery.body, this.deps.clock()),
        },
        body: delivery.body,
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
      });
      status = res.statusCode;
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    } catch (caught) {
      error = (caught as Error).message;
    }
    const delivered = status !== null && status >= 200 && status < 300;
    const attempts = delivery.attempts + 1;
    const state = delivered ? 'DELIVERED' : attempts >= MAX_ATTEMPTS ? 'FAILED' : 'PENDING';
    const backoff = Math.min(this.options.retryBaseMs * 2 ** (attempts - 1), 4 * 3_600_000);
    const where = { deliveryId: delivery.id, clientId: delivery.clientId, transactionId: delivery.transactionId };
    let notRecorded: string | undefined;
    let failed: unknown;
    try {
      if (!(await this.deps.callbacks.recordAttempt(delivery, this.owner, { state, status, error, nextAttemptAt: this.deps.clock() + backoff }, this.deps.clock()))) {
        // Its lease taken over, or its row deleted (a requeue, SQL) while it was sent: said in its audit record, for whoever queues it again.
        notRecorded = 'its row was no longer leased to this process (deleted or taken over while it was sent): the attempt is not recorded on it';
        log.warn(where, `callback attempt not recorded: ${notRecorded}`);
      }
    } catch (caught) {
      // Its row was changed in SQL while it was being sent: the attempt stays audited (below), the row as it is, for verify to name.
      if (caught instanceof IntegrityError) {
        notRecorded = `its row is not Gerbang's latest state (${caught.where}): the attempt is not recorded on it`;
        log.error({ ...where, problem: caught.where }, 'callback attempt not recorded: its row is not Gerbang\'s latest state');
      } else {
        // The store failing: the outcome is audited all the same, then the error thrown on.
        notRecorded = `recording it failed (${caught instanceof Error ? caught.message : String(caught)})`;
        failed = caught;
      }
    }
    const answered: AttemptAnswered = { delivery: state, status, error, attempts, ...(notRecorded === undefined ? {} : { notRecorded }) };
    await audit.finish(delivered ? 200 : 502, answered);
    if (failed !== undefined) throw failed;
    if (!delivered) log.warn({ transactionId: delivery.transactionId, status, error, attempts, state }, 'callback not delivered');
  }
}

/** Why a delivery waits on the requeue that queued it (audit_exchanges id `exchangeId`), in words. */
function requeueUnfinished(exchangeId: number): string {
  return `the requeue --send-again that queued it (audit_exchanges id ${exchangeId}) has not written its answer yet (which row it queued, over which records that do not hold)`;
}

/** A due delivery seen under a lease at every run since `since`, as it then stood, by the id it had then. */
type HeldDelivery = { since: number; firstId: number; attempts: number; nextAttemptAt: number; warned: boolean };

/** A delivery's identity in its change records (its client and transaction id), as a map key. */
function deliveryKey(row: { clientId: string; transactionId: string }): string {
  return JSON.stringify([row.clientId, row.transactionId]);
}

/** The log fields naming a delivery held under a lease (`idWas`: the id it had when first seen held, when changed since: in SQL). */
function heldLease(row: LeasedCallback, held: HeldDelivery, now: number) {
  const idWas = held.firstId === row.id ? {} : { idWas: held.firstId };
  return { deliveryId: row.id, ...idWas, clientId: row.clientId, transactionId: row.transactionId, leaseOwner: row.leaseOwner, leaseUntil: row.leaseUntil, dueSince: row.nextAttemptAt, heldMs: now - held.since };
}
