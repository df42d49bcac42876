import type { AuditExchangeRow, AuditRepository } from '../../store/types.js';

/** The audit method of each delivery attempt (CallbackDispatcher.deliver) and of each refusal to send. */
export const CALLBACK_METHOD = 'CALLBACK';

/** What a delivery attempt's audit record asks (its request) and answers (its response), as deliver writes them. */
export type AttemptAsked = { url: string; body: unknown };
export type AttemptAnswered = {
  delivery: 'DELIVERED' | 'PENDING' | 'FAILED';
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
    for (let afterId: number | undefined; ; ) {
      const page = await audit.list({ transactionId, afterId, limit: PAGE });
      for (const record of page) {
        if (record.integrityProblem !== undefined) return { untellable: `audit_exchanges id ${record.id} of transactionId ${transactionId} does not hold (${record.integrityProblem})` };
        if (record.method !== CALLBACK_METHOD || record.clientId !== clientId) continue;
        const found = deliveredBy(record);
        if (typeof found === 'string') return { untellable: found };
        if (recordsAnAttempt(record)) attempts += 1;
        if (found === null) continue;
        times += 1;
        delivered = found;
      }
      if (page.length < PAGE) return { delivered, times, attempts };
      afterId = page[page.length - 1].id;
    }
  } catch (error) {
    return { untellable: `its audit records cannot be read (${error instanceof Error ? error.message : String(error)})` };
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
