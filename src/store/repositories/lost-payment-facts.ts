import type { AuditExchangeRow, Queryable } from '../types.js';
import { isLink, STORED_LINK_COLUMNS, linkHolds, type StoredLink } from './audit-chain.js';
import { attempt, type LostPayment } from './audit-verify.js';
import { openEvent, PAYMENT_EVENT_COLUMNS, paymentEventDigest, type PaymentEventRow } from './payment-events.js';
import type { PaymentRow } from './payment-repository.js';
import { toNumber } from './row-values.js';
import type { ValueSealer } from './sealed-values.js';

/**
 * What can be read back of a lost payment (LostPayment: its row deleted without its release, or
 * altered away from its MAC) for the operator who must decide whether to accept it: once accepted,
 * the ERP's resend of its transactionId is paid as a new payment.
 */
export interface LostPaymentFacts {
  paymentId: number;
  kind: LostPayment['kind'];
  /**
   * As the newest event of its history whose own chain link holds and that carries the answer the
   * gateway gave (its transactionId, amount, currency and state then); null when no such event is
   * left: what it was cannot be read back from the database.
   */
  answered: { seq: number; state: string; transactionId: string; amount: string; currency: string; bankReference: string | null } | null;
  /** Its state at the newest event of its history whose own chain link holds (null: none does). */
  lastKnown: { seq: number; state: string } | null;
  /** The highest seq of its events in the database, holding or not (null: no event is left); above lastKnown's: what followed cannot be read back. */
  newestSeq: number | null;
  /** Set when its facts could not be read at all (the database's error): nothing else of it is read. */
  unreadable?: string;
  /** The clients whose audited transfer requests for that transactionId still hold to their chain links (empty: none can be read back). */
  clientIds: string[];
  /** `altered`: its row as it stands now, failing its MAC (not the gateway's values). */
  row?: { clientId: string; transactionId: string; amount: string; currency: string; state: string };
}

/**
 * Audited requests read a page for one transactionId. Every page is read: requests of other
 * clients, or rows inserted in SQL, never push the payment's own client out.
 */
export const EXCHANGES_PAGE = 200;

/** Events of one history read a page (each page's links read by its ids): rows inserted in SQL make it long, never a statement too big. */
const EVENTS_PAGE = 500;

/**
 * LostPaymentFacts of each of `lost`: its answer from its history, each event opened only through
 * `sealer` and taken only when its own link's MAC holds (an event written in SQL tells nothing);
 * its client from the audit of the transfer requests for that transactionId, each record held to
 * its chain links (`exchanges`: AuditRepository.list). Nothing is guessed: what does not hold is left out.
 */
export async function lostPaymentFacts(
  db: Queryable,
  sealer: ValueSealer,
  exchanges: (transactionId: string, afterId: number | undefined) => Promise<AuditExchangeRow[]>,
  lost: Pick<LostPayment, 'paymentId' | 'kind'>[],
): Promise<LostPaymentFacts[]> {
  const out: LostPaymentFacts[] = [];
  for (const { paymentId, kind } of lost) {
    // One payment the database cannot give back is named so; the others are still read.
    try {
      out.push(await factsOf(db, sealer, exchanges, paymentId, kind));
    } catch (error) {
      out.push({ paymentId, kind, answered: null, lastKnown: null, newestSeq: null, clientIds: [], unreadable: error instanceof Error ? error.message : String(error) });
    }
  }
  return out;
}

async function factsOf(
  db: Queryable,
  sealer: ValueSealer,
  exchanges: (transactionId: string, afterId: number | undefined) => Promise<AuditExchangeRow[]>,
  paymentId: number,
  kind: LostPayment['kind'],
): Promise<LostPaymentFacts> {
  const { answered, lastKnown, newestSeq } = await trustedHistory(db, sealer, paymentId);
  const clients = new Set<string>();
  if (answered !== null) {
    for (let page = await exchanges(answered.transactionId, undefined); page.length > 0; page = await exchanges(answered.transactionId, page[page.length - 1].id)) {
      for (const e of page) if (e.integrityProblem === undefined && e.method === 'POST' && e.path.startsWith('/v1/transfers') && e.clientId !== null) clients.add(e.clientId);
    }
  }
  const [row] = kind === 'altered' ? await db.query<PaymentRow>('SELECT client_id, transaction_id, amount, currency, state FROM payments WHERE id = ?', [paymentId]) : [];
  return {
    paymentId,
    kind,
    answered,
    lastKnown,
    newestSeq,
    clientIds: [...clients].sort(),
    ...(row ? { row: { clientId: row.client_id, transactionId: row.transaction_id, amount: String(row.amount), currency: row.currency, state: row.state } } : {}),
  };
}

/**
 * Of payment `paymentId`'s events whose own link holds: the newest (`lastKnown`), and the newest
 * that carries an answer, read from that answer; and the highest seq present (`newestSeq`). Read
 * newest first a page at a time, up to the first event that answers.
 */
async function trustedHistory(db: Queryable, sealer: ValueSealer, paymentId: number): Promise<Pick<LostPaymentFacts, 'answered' | 'lastKnown' | 'newestSeq'>> {
  let lastKnown: LostPaymentFacts['lastKnown'] = null;
  let newestSeq: number | null = null;
  for (let below: number | null = null; ; ) {
    const rows = await db.query<PaymentEventRow>(
      `SELECT ${PAYMENT_EVENT_COLUMNS} FROM payment_events WHERE payment_id = ?${below === null ? '' : ' AND seq < ?'} ORDER BY seq DESC LIMIT ?`,
      below === null ? [paymentId, EVENTS_PAGE] : [paymentId, below, EVENTS_PAGE],
    );
    if (rows.length === 0) return { answered: null, lastKnown, newestSeq };
    newestSeq ??= toNumber(rows[0].seq);
    const last = toNumber(rows[rows.length - 1].seq);
    // A seq beyond what a number holds exactly (SQLite takes 64 bits) may not move on: read no further.
    if (below !== null && !(last < below)) return { answered: null, lastKnown, newestSeq };
    below = last;
    const links = await db.query<StoredLink>(
      `SELECT ${STORED_LINK_COLUMNS} FROM audit_chain WHERE ${isLink()} AND kind = 'payment_event' AND record_id IN (${rows.map(() => '?').join(', ')})`,
      rows.map((row) => toNumber(row.id)),
    );
    const linkOf = new Map(links.map((link) => [toNumber(link.record_id), link]));
    for (const row of rows) {
      // An answer that does not open for its place, or an event its link does not vouch for, is not read.
      // (A link under a key the ring lacks cannot vouch for it either: attempt() takes that KeyRingError.)
      const opened = attempt(() => {
        const event = openEvent(row, sealer);
        return linkHolds(sealer.keyRing, 'payment_event', event.id, paymentEventDigest(event), linkOf.get(event.id)) ? event : null;
      });
      if ('error' in opened || opened.value === null) continue;
      const { seq, snapshot } = opened.value;
      lastKnown ??= { seq, state: snapshot.state };
      const answer = parsed(snapshot.resultJson);
      if (answer !== null) return { answered: { seq, state: snapshot.state, ...answer }, lastKnown, newestSeq };
    }
    if (rows.length < EVENTS_PAGE) return { answered: null, lastKnown, newestSeq };
  }
}

function parsed(json: string | null): Omit<NonNullable<LostPaymentFacts['answered']>, 'seq' | 'state'> | null {
  if (json === null) return null;
  try {
    const value = JSON.parse(json) as Record<string, unknown>;
    const text = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : null);
    const [transactionId, amount, currency] = [text('transactionId'), text('amount'), text('currency')];
    if (transactionId === null || amount === null || currency === null) return null;
    return { transactionId, amount, currency, bankReference: text('bankReference') };
  } catch {
    return null;
  }
}
