import type { AuditExchangeRow, AuditRepository } from '../../store/types.js';

/** The audit method of each delivery attempt (CallbackDispatcher.deliver) and of each refusal to send. */
export const CALLBACK_METHOD = 'CALLBACK';

/** The audit method of an operator's requeue of a notification (requeueCallback). */
export const REQUEUE_METHOD = 'CALLBACK-REQUEUE';

/**
 * A record of the transaction that did not hold when a requeue queued its delivery again (asked
 * with --send-again): its id and its row as found (AuditExchangeRow.asFound). Named in the
 * requeue's own keyed record (`overrides`), so the dispatcher sends that delivery over it as the
 * operator saw it, and over nothing else that does not hold.
 */
export type Overridden = { id: number; asFound: string };

/** What a delivery attempt's audit record asks (its request) and answers (its response), as deliver writes them. */
export type AttemptAsked = {
  url: string;
  body: unknown;
  /** The delivery's row (its MAC-covered id) and the attempt this is of it (its attempts as claimed, plus one): read back before each send (attemptNotOnItsRow). Absent from records written before. */
  deliveryId?: number;
  attempt?: number;
};
export type AttemptAnswered = {
  /** NOT SENT: the attempt stood back, its record open, for another process sending it (no POST). */
  delivery: 'DELIVERED' | 'PENDING' | 'FAILED' | 'NOT SENT';
  status: number | null;
  error: string | null;
  attempts: number;
  /** Why the attempt is not recorded on the delivery's row (its lease lost, its row changed or deleted meanwhile, the store failing), when it is not. */
  notRecorded?: string;
};

/** A notification the ERP's endpoint took (answered 2xx), as its attempt's audit record says. */
export interface Delivered {
  url: string;
  /** When the attempt was recorded (right after the endpoint answered). */
  at: number;
  status: number;
  /** The attempt's audit record. */
  exchangeId: number;
}

/**
 * What the keyed audit says of earlier deliveries of a notification: `delivered`, the newest of
 * its attempts the endpoint answered 2xx (null: none), and how many there were (`times`);
 * `attempts`, how many attempts it records in all (each one the dispatcher records on the
 * delivery's row: sent, or refused and marked FAILED); or `untellable`, why that cannot be told.
 */
export type EarlierDeliveries = { delivered: Delivered | null; times: number; attempts: number } | { untellable: string };

/** Exchanges read a page. */
const PAGE = 500;

/**
 * The delivery attempts of `clientId`'s notification of `transactionId` that reached the ERP,
 * from its CALLBACK audit records, each held to its own chain links as `audit verify` holds it
 * (AuditRepository.list): only a record that holds counts. Untellable (fail closed: it may have
 * been delivered) when the audit cannot be read (a key not configured, the store failing), or when
 * a record of that transaction id does not hold, whatever its method or client: changed or
 * inserted in SQL, its values are the writer's, and a delivery's record altered may be one of them.
 * A record deleted from the audit is not seen here: `audit verify` names it (its chain's gap).
 */
export async function earlierDeliveries(audit: Pick<AuditRepository, 'list'>, clientId: string, transactionId: string): Promise<EarlierDeliveries> {
  let delivered: Delivered | null = null;
  let times = 0;
  let attempts = 0;
  try {
    for await (const record of callbackRecords(audit, clientId, transactionId)) {
      if (record.integrityProblem !== undefined) return { untellable: `audit_exchanges id ${record.id} of transactionId ${transactionId} does not hold (${record.integrityProblem})` };
      const found = deliveredBy(record);
      if (typeof found === 'string') return { untellable: found };
      if (recordsAnAttempt(record)) attempts += 1;
      if (found === null) continue;
      times += 1;
      delivered = found;
    }
    return { delivered, times, attempts };
  } catch (error) {
    return { untellable: `its audit records cannot be read (${error instanceof Error ? error.message : String(error)})` };
  }
}

/**
 * The CALLBACK records (or those of `methods`) of `clientId`'s notification of `transactionId`,
 * page by page, each held to its own chain links (AuditRepository.list), and every record of that
 * transaction id that does not hold (`integrityProblem`), whatever its method or client: its
 * values are the writer's.
 */
async function* callbackRecords(audit: Pick<AuditRepository, 'list'>, clientId: string, transactionId: string, methods: readonly string[] = [CALLBACK_METHOD]): AsyncGenerator<AuditExchangeRow> {
  for (let afterId: number | undefined; ; ) {
    const page = await audit.list({ transactionId, afterId, limit: PAGE });
    for (const record of page) {
      if (record.integrityProblem !== undefined || (methods.includes(record.method) && record.clientId === clientId)) yield record;
    }
    if (page.length < PAGE) return;
    afterId = page[page.length - 1].id;
  }
}

/**
 * The records of `clientId`'s notification of `transactionId` that do not hold (as earlierDeliveries
 * and attemptNotOnItsRow find them), each as found: what a requeue asked to send again sends over
 * (`overrides`).
 */
export async function notHolding(audit: Pick<AuditRepository, 'list'>, clientId: string, transactionId: string): Promise<Overridden[]> {
  const found: Overridden[] = [];
  for await (const record of callbackRecords(audit, clientId, transactionId)) {
    if (record.integrityProblem !== undefined && record.asFound !== undefined) found.push({ id: record.id, asFound: record.asFound });
  }
  return found;
}

/**
 * Why a claimed delivery must not be sent now, from its own attempts' CALLBACK records (those
 * naming its id): `refused`, one of them records an attempt its row does not (a later attempt
 * number than the row's attempts: sent, and its record on the row lost — its lease cleared in SQL
 * while it was sent, or its change record cut from its chain with the row written back as queued),
 * or a record of its transaction does not hold (altered in place: its values are the writer's, so
 * whether it records an attempt of this delivery cannot be read; the scrub finds it only within its
 * full cycle) and the requeue that queued this very delivery (its keyed CALLBACK-REQUEUE record,
 * naming the row it queued) did not name it as it is found now (`overrides`: an operator's
 * --send-again over that record as it then stood; one altered again since is refused too);
 * `inFlight`, an attempt of it opened after `openedSince` has no outcome yet (another process
 * sends it now, its lease cleared in SQL). An attempt opened before, with no outcome, is one whose
 * process stopped: sent again, as before these records. `requeueUnfinished`: a record does not
 * hold, no requeue named it, and a requeue --send-again of the transaction opened its record after
 * `openedSince` and has not written its answer yet (the row queued before the record names it and
 * what it sends over): not sent now, looked at again soon. One opened before is one whose process
 * stopped: refused, never sent over a record no requeue named. Null: send it.
 * `own`: the id of this process's own record of the attempt, opened before this second look: of
 * two processes sending the same attempt, each having opened its record, the one whose record has
 * the lower id sends it; so an attempt opened after `openedSince` with a higher id is not in flight
 * (its process stands back on its own look), and this process's record is not read.
 */
export async function attemptNotOnItsRow(
  audit: Pick<AuditRepository, 'list'>,
  delivery: { id: number; clientId: string; transactionId: string; attempts: number },
  openedSince: number,
  own?: number,
): Promise<{ refused: string } | { inFlight: number } | { requeueUnfinished: number } | null> {
  const what = `callback_deliveries id ${delivery.id} (client ${delivery.clientId}, transactionId ${delivery.transactionId})`;
  try {
    const unread: AuditExchangeRow[] = [];
    let sentOver: Overridden[] | null = null;
    let unfinished: number | null = null;
    for await (const record of callbackRecords(audit, delivery.clientId, delivery.transactionId, [CALLBACK_METHOD, REQUEUE_METHOD])) {
      if (record.id === own) continue;
      // Not holding: its values are the writer's, not read; judged once all are read (below).
      if (record.integrityProblem !== undefined) {
        unread.push(record);
        continue;
      }
      if (record.method === REQUEUE_METHOD) {
        if (record.outcome === 'in_progress' && record.receivedAt > openedSince && askedToSendAgain(record)) unfinished = record.id;
        sentOver = overriddenBy(record, delivery.id) ?? sentOver;
        continue;
      }
      // A refusal to send (a record that holds): no attempt.
      if (record.errorCode === 'AUDIT_INTEGRITY') continue;
      const asked = JSON.parse(record.requestBody ?? '{}') as Partial<AttemptAsked>;
      if (asked.deliveryId !== delivery.id) continue;
      if (record.outcome === 'in_progress') {
        if (record.receivedAt > openedSince && (own === undefined || record.id < own)) return { inFlight: record.id };
        continue;
      }
      const answered = JSON.parse(record.responseBody ?? '{}') as Partial<AttemptAnswered>;
      if (typeof answered.attempts === 'number' && answered.attempts > delivery.attempts) {
        const lost = answered.notRecorded === undefined ? '' : ` (not recorded: ${answered.notRecorded})`;
        return { refused: `${what} records ${delivery.attempts} attempt(s), but audit_exchanges id ${record.id} records attempt ${answered.attempts} of it, ${answered.delivery ?? 'its outcome unknown'} with status ${answered.status ?? 'none'}${lost}: its row lost that attempt (its lease or its change records altered in SQL?): not sent again` };
      }
    }
    const unnamed = unread.find((record) => !(sentOver ?? []).some((named) => named.id === record.id && named.asFound === record.asFound));
    if (unnamed === undefined) return null;
    // Queued by a requeue whose record does not name it yet: that record is written in two steps.
    if (sentOver === null && unfinished !== null) return { requeueUnfinished: unfinished };
    const named = (sentOver ?? []).some((n) => n.id === unnamed.id) ? ', and it was altered again after the requeue that queued it named it' : '';
    return { refused: `${what} cannot be told unsent: audit_exchanges id ${unnamed.id} of its transaction does not hold (${unnamed.integrityProblem}), so whether it records an attempt of it cannot be read${named}: not sent while it does not hold (see gerbang audit verify)` };
  } catch (error) {
    return { refused: `${what} cannot be told unsent: its audit records cannot be read (${error instanceof Error ? error.message : String(error)})` };
  }
}

/**
 * What a requeue's record (one that holds) sent over when it queued the delivery `deliveryId` (its
 * `overrides`; none named: an empty list), or null when it did not queue that row (refused, not
 * completed yet, or it queued another).
 */
function overriddenBy(record: AuditExchangeRow, deliveryId: number): Overridden[] | null {
  if (record.statusCode !== 200) return null;
  try {
    const answered = JSON.parse(record.responseBody ?? '') as { requeued?: unknown; deliveryId?: unknown; overrides?: unknown };
    if (answered.requeued !== true || answered.deliveryId !== deliveryId) return null;
    const named = Array.isArray(answered.overrides) ? (answered.overrides as Partial<Overridden>[]) : [];
    return named.filter((n): n is Overridden => typeof n?.id === 'number' && typeof n.asFound === 'string');
  } catch {
    return null;
  }
}

/** Whether a requeue's record (one that holds) was asked with --send-again: the only requeue that queues a row while a record of it does not hold. */
function askedToSendAgain(record: AuditExchangeRow): boolean {
  try {
    return (JSON.parse(record.requestBody ?? '') as { sendAgain?: unknown }).sendAgain === true;
  } catch {
    return false;
  }
}

/**
 * The delivery a CALLBACK record that holds proves (an attempt the endpoint answered 2xx), null
 * when it proves none (an attempt that failed, a refusal to send), or why it cannot be read: an
 * attempt's record not completed (opened before the POST: being sent now, or the process stopped
 * before its outcome was written: it may have been delivered), or not as deliver writes it.
 */
function deliveredBy(record: AuditExchangeRow): Delivered | null | string {
  if (record.errorCode === 'AUDIT_INTEGRITY') return null;
  const what = `the delivery attempt recorded as audit_exchanges id ${record.id}`;
  if (record.outcome === 'in_progress') return `${what} has no outcome (it is being sent now, or its process stopped before the outcome was written): it may have been delivered`;
  try {
    const asked = JSON.parse(record.requestBody ?? '') as AttemptAsked;
    const answered = JSON.parse(record.responseBody ?? '') as AttemptAnswered;
    if (typeof asked.url !== 'string' || !('status' in answered)) throw new Error('not a delivery attempt');
    const { status } = answered;
    return status !== null && status >= 200 && status < 300 ? { url: asked.url, at: record.completedAt ?? record.receivedAt, status, exchangeId: record.id } : null;
  } catch (error) {
    return `${what} cannot be read (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Whether a CALLBACK record that holds answers for an attempt written on the delivery's row (sent, or refused and marked FAILED), not a refusal that left it as it was. */
function recordsAnAttempt(record: AuditExchangeRow): boolean {
  try {
    const { delivery } = JSON.parse(record.responseBody ?? '') as Partial<AttemptAnswered>;
    return delivery === 'DELIVERED' || delivery === 'PENDING' || delivery === 'FAILED';
  } catch {
    return false;
  }
}
