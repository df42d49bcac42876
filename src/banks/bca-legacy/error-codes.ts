/**
 * BCA legacy error codes (bank-apis.md §1) and what each means for a transfer:
 * - `failed`: final, the bank refused the payment itself; the ERP fixes the input and sends a
 *   new transactionId;
 * - `in-doubt`: the bank may have executed it; never re-send, ask the status inquiry;
 * - `reauth`: the token was refused before processing; fetch a new one, re-sign, resend once;
 * - `not-executed`: the bank refused the *call* before looking at the payment (maintenance,
 *   limits, our signature, timestamp, credentials or source address): nothing moved, so the ERP
 *   may retry the same transactionId once the cause is gone.
 */
export type LegacyOutcomeClass = 'failed' | 'in-doubt' | 'reauth' | 'not-executed';

export const BCA_LEGACY_ERRORS: Record<string, { meaning: string; outcome: LegacyOutcomeClass }> = {
  'ESB-14-001': { meaning: 'HMAC mismatch', outcome: 'not-executed' },
  'ESB-14-003': { meaning: 'invalid timestamp', outcome: 'not-executed' },
  'ESB-14-005': { meaning: 'system under maintenance', outcome: 'not-executed' },
  'ESB-14-006': { meaning: 'timeout, check your statement', outcome: 'in-doubt' },
  'ESB-14-007': { meaning: 'timeout', outcome: 'in-doubt' },
  'ESB-14-008': { meaning: 'invalid client credentials', outcome: 'not-executed' },
  'ESB-14-009': { meaning: 'unauthorized (token expired or invalid)', outcome: 'reauth' },
  'ESB-14-010': { meaning: 'limit exceeded', outcome: 'not-executed' },
  'ESB-14-019': { meaning: 'connection not allowed (IP or origin)', outcome: 'not-executed' },
  'ESB-82-001': { meaning: 'mandatory field missing', outcome: 'failed' },
  'ESB-82-003': { meaning: 'TransactionID not unique', outcome: 'failed' },
  'ESB-82-006': { meaning: 'maximum amount exceeded', outcome: 'failed' },
  'ESB-82-011': { meaning: 'invalid amount', outcome: 'failed' },
  'ESB-82-014': { meaning: 'invalid account', outcome: 'failed' },
  'ESB-82-018': { meaning: 'dormant account', outcome: 'failed' },
  'ESB-82-019': { meaning: 'insufficient funds', outcome: 'failed' },
  'ESB-82-022': { meaning: 'account closed', outcome: 'failed' },
  'ESB-82-023': { meaning: 'transaction failed', outcome: 'failed' },
  'ESB-82-024': { meaning: 'timeout, check your statement', outcome: 'in-doubt' },
  'ESB-82-025': { meaning: 'in progress, check your statement', outcome: 'in-doubt' },
  'ESB-82-026': { meaning: 'cut-off time exceeded', outcome: 'failed' },
  'ESB-99-127': { meaning: 'transaction not found', outcome: 'failed' },
  'ESB-99-999': { meaning: 'system unavailable', outcome: 'in-doubt' },
};

/** An unknown code on a 4xx is a refusal; on a 5xx (or none) the outcome cannot be known. */
export function classifyLegacyError(code: string | null, httpStatus: number): LegacyOutcomeClass {
  const known = code ? BCA_LEGACY_ERRORS[code] : undefined;
  if (known) return known.outcome;
  return httpStatus >= 400 && httpStatus < 500 ? 'failed' : 'in-doubt';
}
