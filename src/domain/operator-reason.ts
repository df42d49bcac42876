import { visibleText } from '../banks/common/bank-text.js';

/** How long an operator's reason may be (an accept-day, a callback requeue): it must leave room in the console audit's record (CONSOLE_AUDIT_DETAIL_MAX) for what was done. */
export const OPERATOR_REASON_MAX = 300;

/**
 * Why an operator's reason cannot be kept (null when it can): it is kept as typed in the audit
 * and shown on the access log, so it is plain text of at most OPERATOR_REASON_MAX characters, no
 * control or direction character (visibleText would show it escaped), not blank. The same
 * whether it is typed on the CLI or in the console.
 */
export function reasonProblem(reason: string): string | null {
  if (reason.trim() === '') return 'is required: say what was investigated (it is kept in the console audit)';
  if (reason.length > OPERATOR_REASON_MAX) return `is ${reason.length} characters long; at most ${OPERATOR_REASON_MAX} are kept (name the ticket that holds the rest)`;
  if (visibleText(reason) !== reason) return 'must be plain text on one line: it holds a control or direction character (a new line, an escape, a right-to-left mark)';
  return null;
}
