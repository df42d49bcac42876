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

/** One lost payment, on one line. */
export function describeLostPayment(p: LostPaymentFacts): string {
  const how = p.kind === 'deleted' ? 'its row was deleted from the database' : 'its row was altered in the database (it no longer matches its MAC)';
  if (p.answered === null) {
    const now = p.row ? `; its row now says client ${p.row.clientId}, transactionId ${p.row.transactionId}, ${p.row.amount} ${p.row.currency} (not the gateway's values)` : '';
    const last = p.lastKnown === null ? 'nothing of its history holds to its audit links' : `last state Gerbang knew: ${OUTCOMES[p.lastKnown.state] ?? p.lastKnown.state} (its history, event ${p.lastKnown.seq})`;
    return `payment ${p.paymentId}: its client and transactionId cannot be read back from the database (${how}, and no event of its history that holds to its audit link carries its answer); ${last}${now}`;
  }
  const a = p.answered;
  const client =
    p.clientIds.length === 0
      ? 'client cannot be read back from the database (no audited request for its transactionId holds)'
      : p.clientIds.length === 1
        ? `client ${p.clientIds[0]}`
        : `client one of ${p.clientIds.join(', ')} (each sent a request for this transactionId)`;
  const reference = a.bankReference === null ? '' : `, bank reference ${a.bankReference}`;
  const now = p.row ? `; its row now says client ${p.row.clientId}, transactionId ${p.row.transactionId}, ${p.row.amount} ${p.row.currency} (not the gateway's values)` : '';
  return `payment ${p.paymentId}: ${client}, transactionId ${a.transactionId}, ${a.amount} ${a.currency}; last outcome Gerbang knew: ${OUTCOMES[a.state] ?? a.state}${reference} (its history, event ${a.seq}); ${how}${now}`;
}
