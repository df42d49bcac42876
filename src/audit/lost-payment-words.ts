import { visibleText } from '../banks/common/bank-text.js';
import type { LostPaymentFacts } from '../store/types.js';

/**
 * Lost payments in words a finance person can act on: which payment, for whom, which
 * transactionId, how much, and what Gerbang last knew of it, each from what still holds in the
 * database (LostPaymentFacts); what cannot be read back is said to be so, never guessed.
 */

/** What Gerbang last knew of a payment in its state, in words. */
const OUTCOMES: Record<string, string> = {
  SUCCESS: 'the bank executed it (SUCCESS)',
  FAILED: 'the bank refused it or it failed, no money moved (FAILED)',
  PENDING: 'in doubt: sent, the bank had not said whether it was executed (PENDING)',
  UNKNOWN: 'in doubt: sent, the bank had not said whether it was executed (UNKNOWN)',
  SENDING: 'in doubt: being sent to the bank (SENDING)',
  RECEIVED: 'received, not yet sent to the bank (RECEIVED)',
};

/** The sentence every acceptance of lost payments carries: why the bank statement comes first. */
export const RESEND_WARNING =
  'Once accepted, the ERP\'s next request with each transactionId named here is sent to the bank as a NEW payment: if the bank executed the lost one, the vendor is paid twice. ' +
  'Check the paying account\'s bank statement for each of them first.';

/**
 * One lost payment, on one line. Every value read from the database goes through visibleText: one
 * written in SQL with control characters is shown escaped and quoted, never forging a line.
 */
export function describeLostPayment(p: LostPaymentFacts): string {
  const how = p.kind === 'deleted' ? 'its row was deleted from the database' : 'its row was altered in the database (it no longer matches its MAC)';
  if (p.unreadable !== undefined) return `payment ${p.paymentId}: cannot be read back (${visibleText(p.unreadable)}); ${how}`;
  const now = p.row
    ? `; its row now says client ${visibleText(p.row.clientId)}, transactionId ${visibleText(p.row.transactionId)}, ${visibleText(p.row.amount)} ${visibleText(p.row.currency)} (not the gateway's values)`
    : '';
  const held = p.lastKnown?.seq ?? p.answered?.seq;
  // Events above the newest that holds: the history went on, and what it said is not known.
  const after = p.newestSeq !== null && held !== undefined && p.newestSeq > held ? `; event ${p.newestSeq} exists but does not hold its link: what followed event ${held} cannot be read back` : '';
  if (p.answered === null) {
    const last =
      p.lastKnown === null
        ? `nothing of its history holds to its audit links${p.newestSeq === null ? '' : ` (its events up to ${p.newestSeq} exist but none holds its link)`}`
        : `the newest event of its history that holds to its audit link, event ${p.lastKnown.seq}, says: ${outcome(p.lastKnown.state)}${after}`;
    return `payment ${p.paymentId}: its client and transactionId cannot be read back from the database (${how}, and no event of its history that holds to its audit link carries its answer); ${last}${now}`;
  }
  const a = p.answered;
  const clientIds = p.clientIds.map(visibleText);
  const client =
    clientIds.length === 0
      ? 'client cannot be read back from the database (no audited request for its transactionId holds)'
      : clientIds.length === 1
        ? `client ${clientIds[0]}`
        : `client one of ${clientIds.join(', ')} (each sent a request for this transactionId)`;
  const reference = a.bankReference === null ? '' : `, bank reference ${visibleText(a.bankReference)}`;
  return `payment ${p.paymentId}: ${client}, transactionId ${visibleText(a.transactionId)}, ${visibleText(a.amount)} ${visibleText(a.currency)}; last outcome Gerbang knew: ${outcome(a.state)}${reference} (its history, event ${a.seq})${after}; ${how}${now}`;
}

function outcome(state: string): string {
  return OUTCOMES[state] ?? visibleText(state);
}
