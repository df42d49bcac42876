import type { SimAnswer } from '../esb-answers.js';

/**
 * How the simulated SNAP bank answers: `{responseCode: "HHHSSCC", responseMessage, …}` with HTTP
 * status HHH, SS the service code and CC the case (bank-apis.md §2).
 */

/** SNAP's standard message per HTTP status and case code. */
const MESSAGES: Record<string, string> = {
  '20000': 'Successful',
  '20200': 'Request In Progress',
  '40000': 'Bad Request',
  '40001': 'Invalid Field Format',
  '40002': 'Invalid Mandatory Field',
  '40100': 'Unauthorized',
  '40101': 'Invalid Token (B2B)',
  '40302': 'Exceeds Transaction Amount Limit',
  '40314': 'Insufficient Funds',
  '40315': 'Transaction Not Permitted',
  '40318': 'Inactive Account',
  '40401': 'Transaction Not Found',
  '40411': 'Invalid Account',
  '40413': 'Invalid Amount',
  '40900': 'Conflict',
  '40901': 'Duplicate partnerReferenceNo',
  '42900': 'Too Many Requests',
  '50000': 'General Error',
  '50001': 'Internal Server Error',
  '50400': 'Timeout',
};

/** The standard message of a 7-digit response code. */
export function snapMessage(code: string): string {
  return MESSAGES[`${code.slice(0, 3)}${code.slice(5, 7)}`] ?? 'Error';
}

/**
 * An answer with `HHH + service + case` as its responseCode and HHH as its HTTP status.
 * `detail` is appended in brackets, as banks name the field: `Invalid Mandatory Field [amount]`.
 */
export function snapAnswer(http: string, serviceCode: string, kase: string, detail?: string, extra: Record<string, unknown> = {}): SimAnswer {
  return snapCodeAnswer(`${http}${serviceCode}${kase}`, detail, extra);
}

/** An answer for a full 7-digit responseCode (forced scenarios use it too). */
export function snapCodeAnswer(code: string, detail?: string, extra: Record<string, unknown> = {}): SimAnswer {
  const message = detail ? `${snapMessage(code)} [${detail}]` : snapMessage(code);
  const success = /^20[02]\d{2}00$/.test(code);
  return { status: Number(code.slice(0, 3)), body: { responseCode: code, responseMessage: message, ...extra }, errorCode: success ? null : code };
}
