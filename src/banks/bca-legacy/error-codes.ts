/**
 * BCA legacy error codes (bank-apis.md §1) and what each means for a transfer:
 * - `failed`: final; the bank refused the payment itself. The ERP fixes the input and sends a new
 *   transactionId.
 * - `in-doubt`: the bank may have executed it. Never re-send; ask the status inquiry.
 * - `reauth`: the token was refused before anything was processed: new token, re-sign, resend once.
 * - `unavailable`: the bank refused the *call* before looking at the payment (maintenance, limits,
 *   our signature, timestamp, credentials, source address). Nothing moved; the same transactionId
 *   may be retried once the cause is gone.
 */
export type BcaOutcomeClass = 'failed' | 'in-doubt' | 'reauth' | 'unavailable';

export interface BcaErrorCode {
  /** English meaning, used when the bank's own message is missing. */
  meaning: string;
  outcome: BcaOutcomeClass;
  /**
   * For a refusal of the call ('unavailable', 'reauth'): the HTTP statuses BCA answers it with
   * (bank-apis.md §1, the saved answers in test/conformance/bca-legacy). Absent where none is
   * published: any 4xx then fits.
   */
  httpStatuses?: readonly number[];
}

export const BCA_ERROR_CODES: Readonly<Record<string, BcaErrorCode>> = {
  'ESB-14-001': { meaning: 'HMAC mismatch', outcome: 'unavailable', httpStatuses: [400] },
  'ESB-14-003': { meaning: 'Invalid timestamp', outcome: 'unavailable' },
  'ESB-14-005': { meaning: 'System under maintenance', outcome: 'unavailable', httpStatuses: [503] },
  'ESB-14-006': { meaning: 'Timeout, check your statement', outcome: 'in-doubt' },
  // Not marked "check your statement" in the sources, but a timeout says nothing about whether
  // the core executed the payment: treated as in doubt, which costs only a status inquiry.
  'ESB-14-007': { meaning: 'Timeout', outcome: 'in-doubt' },
  'ESB-14-008': { meaning: 'Invalid client credentials', outcome: 'unavailable', httpStatuses: [401] },
  'ESB-14-009': { meaning: 'Unauthorized (token expired or invalid)', outcome: 'reauth', httpStatuses: [401] },
  'ESB-14-010': { meaning: 'Limit exceeded', outcome: 'unavailable', httpStatuses: [429] },
  // The ESB's own refusals of the call, before it reaches the core: nothing moved.
  'ESB-14-015': { meaning: 'Invalid Content-Type', outcome: 'unavailable', httpStatuses: [400] },
  'ESB-14-016': { meaning: 'Invalid JSON format', outcome: 'unavailable', httpStatuses: [400] },
  'ESB-14-019': { meaning: 'Connection not allowed', outcome: 'unavailable' },
  'ESB-14-021': { meaning: 'API Key invalid', outcome: 'unavailable', httpStatuses: [401] },
  'ESB-14-022': { meaning: 'API Key and API Secret do not match', outcome: 'unavailable', httpStatuses: [401] },
  'ESB-82-001': { meaning: 'Mandatory field is missing or invalid', outcome: 'failed' },
  'ESB-82-003': { meaning: 'TransactionID must be unique', outcome: 'failed' },
  'ESB-82-006': { meaning: 'Maximum amount exceeded', outcome: 'failed' },
  'ESB-82-009': { meaning: 'Invalid currency', outcome: 'failed' },
  'ESB-82-010': { meaning: 'Invalid TransactionID format', outcome: 'failed' },
  'ESB-82-011': { meaning: 'Invalid amount', outcome: 'failed' },
  'ESB-82-014': { meaning: 'Invalid account', outcome: 'failed' },
  'ESB-82-018': { meaning: 'Account is dormant', outcome: 'failed' },
  'ESB-82-019': { meaning: 'Insufficient funds', outcome: 'failed' },
  'ESB-82-022': { meaning: 'Account is closed', outcome: 'failed' },
  'ESB-82-023': { meaning: 'Transaction failed', outcome: 'failed' },
  'ESB-82-024': { meaning: 'Timeout, check your statement', outcome: 'in-doubt' },
  'ESB-82-025': { meaning: 'Transaction in progress, check your statement', outcome: 'in-doubt' },
  'ESB-82-026': { meaning: 'Cut-off time exceeded', outcome: 'failed' },
  'ESB-99-127': { meaning: 'Transaction not found', outcome: 'failed' },
  'ESB-99-158': { meaning: 'Statement start date after the end date or more than 31 days back', outcome: 'failed' },
  // "System unavailable" may come from the core after the ESB passed the payment on; nothing says
  // it was not executed, so in doubt (the conservative side for money).
  'ESB-99-999': { meaning: 'System unavailable', outcome: 'in-doubt' },
};

/**
 * The outcome class of an ESB code answered with `httpStatus`. A code missing from the table is
 * in doubt unless it is a business refusal (a 4xx outside ESB-14-*). ESB-14-* is not only the
 * security layer's refusal of the call: its timeouts (-006, -007) come after the core may have
 * executed the payment, so an ESB-14 code no document names proves nothing was executed and is
 * never taken as "unavailable" (which would free the transactionId for a resend).
 */
export function classifyBcaError(code: string, httpStatus: number): BcaOutcomeClass {
  const known = BCA_ERROR_CODES[code];
  if (known) return known.outcome;
  if (httpStatus >= 400 && httpStatus < 500 && !code.startsWith('ESB-14-')) return 'failed';
  return 'in-doubt';
}

/**
 * Whether BCA answers `code` (of class `outcome`) with `httpStatus`. A refusal of the payment
 * ('failed') comes as a 4xx; a refusal of the call ('unavailable', 'reauth') with the status
 * documented for it, else a 4xx; an in-doubt code with any. A code on a status it never comes
 * with contradicts itself — a 2xx that says "refused before processing" — and proves nothing,
 * least of all that nothing was executed.
 */
export function statusFitsCode(code: string, outcome: BcaOutcomeClass, httpStatus: number): boolean {
  if (outcome === 'in-doubt') return true;
  const documented = outcome === 'failed' ? undefined : BCA_ERROR_CODES[code]?.httpStatuses;
  return documented ? documented.includes(httpStatus) : httpStatus >= 400 && httpStatus <= 499;
}
