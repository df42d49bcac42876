/**
 * Misbehaviour on demand. A scenario applies to the next call of its operation that gets past
 * the source-address, authentication and (for transfers) field checks: a call refused before
 * that leaves it queued, so an ESB-14-009 re-authentication still meets it on the resend.
 */
/** The calls a scenario can apply to. */
export const SCENARIO_OPERATIONS: readonly string[] = ['transfer', 'token', 'status', 'inquiry', 'balance', 'statement'];

export interface FailureScenario {
  /** The call it applies to: the next transfer (default, any kind), token request, status inquiry, account inquiry, balance or statement. */
  operation?: 'transfer' | 'token' | 'status' | 'inquiry' | 'balance' | 'statement';
  /** Answer this ESB code instead of executing (unless `execute`). */
  code?: string;
  /** HTTP status of the answer; with no `code`, a non-BCA body (a proxy's error page). */
  httpStatus?: number;
  /** Execute the transfer first, then answer `code`/`httpStatus`: an in-doubt answer where the money DID move. */
  execute?: boolean;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Execute, then destroy the socket without answering (a reset after sending: in doubt). */
  dropConnection?: boolean;
  /** Execute, then never answer (the caller's timeout fires: in doubt). */
  hang?: boolean;
}

/** Remark1 values that force a scenario (sandbox users can trigger them from the ERP). */
const MAGIC = /^SIM (ESB-\d{2}-\d{3}|HTTP-([1-5]\d\d)|TIMEOUT|RESET|DELAY)$/;

/**
 * The scenario a transfer's Remark1 asks for, if any:
 *   `SIM ESB-xx-yyy`  answer that code (its usual HTTP status) without executing
 *   `SIM HTTP-nnn`    answer HTTP nnn with a non-BCA body, without executing
 *   `SIM TIMEOUT`     execute, then never answer
 *   `SIM RESET`       execute, then destroy the connection
 *   `SIM DELAY`       execute, then answer normally after 1.5 s
 */
export function scenarioFromRemark(remark: unknown): FailureScenario | undefined {
  const match = typeof remark === 'string' ? MAGIC.exec(remark.trim()) : null;
  if (!match) return undefined;
  if (match[1] === 'TIMEOUT') return { hang: true };
  if (match[1] === 'RESET') return { dropConnection: true };
  if (match[1] === 'DELAY') return { delayMs: 1_500 };
  if (match[2]) return { httpStatus: Number(match[2]) };
  return { code: match[1] };
}
