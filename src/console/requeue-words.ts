import { visibleText } from '../banks/common/bank-text.js';
import { translator, type Lang } from './i18n.js';

/**
 * Why a requeue of a notification was refused, in the clerk's language. requeueCallback answers
 * and audits its refusals in English (RequeueOutcome.refused, unchanged); each one it writes is
 * recognised here by its wording. A refusal of any other wording (a new one, an error's text) is
 * shown as it came, through visibleText (it may carry values read from the database).
 */
const KNOWN: [RegExp, Parameters<ReturnType<typeof translator>>[0]][] = [
  [/^only an active console admin may queue a notification again/, 'requeueRefusedNotAdmin'],
  [/^a reason is required$/, 'requeueRefusedReason'],
  [/^there is no payment of client /, 'requeueRefusedNoPayment'],
  [/^the payment of client .* does not hold itself /, 'requeueRefusedPaymentForged'],
  [/^the payment of client .* is not final /, 'requeueRefusedNotFinal'],
  [/^client .* has no callback endpoint /, 'requeueRefusedNoEndpoint'],
  [/^the callback endpoint of client .* does not hold /, 'requeueRefusedEndpointForged'],
  [/^the delivery of client .* holds \(it is [A-Z]+ as Gerbang left it\): nothing to queue again$/, 'requeueRefusedHolds'],
  [/^the delivery of client .* was never queued \(or Gerbang deleted it\): nothing to queue again$/, 'requeueRefusedNeverQueued'],
  [/^the delivery of client .* (changed while it was queued again|was queued meanwhile)/, 'requeueRefusedConcurrent'],
  [/^whether the ERP's endpoint took the payment of client .* already cannot be told while the audit chains do not hold as a whole/, 'requeueRefusedChainGap'],
  [/^its audit record could not be written /, 'requeueRefusedUnaudited'],
  [/; but .*, so queued again it would be sent a second time /, 'requeueRefusedSentBefore'],
];

/** The refusal `refused` in `lang` when it is one of requeueCallback's known refusals; else the text as it is. */
export function requeueRefusalWords(lang: Lang, refused: string): string {
  const known = KNOWN.find(([wording]) => wording.test(refused));
  return known ? translator(lang)(known[1]) : visibleText(refused);
}
