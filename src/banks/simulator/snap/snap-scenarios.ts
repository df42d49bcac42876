import Joi from 'joi';

/**
 * Misbehaviour on demand for the SNAP side of the simulator, as failure-scenarios.ts does for the
 * legacy API. A scenario applies to the next call of its operation that passes authentication
 * and the field checks; a call refused before that leaves it queued.
 */
export const SNAP_SCENARIO_OPERATIONS = ['transfer', 'token', 'status', 'inquiry', 'balance', 'statement'] as const;

export interface SnapScenario {
  /** The call it applies to: the next transfer (default, any kind), token, status inquiry, account inquiry, balance or statement. */
  operation?: (typeof SNAP_SCENARIO_OPERATIONS)[number];
  /** Answer this 7-digit responseCode (HTTP status = its first 3 digits) instead of executing (unless `execute`). */
  responseCode?: string;
  /** With no responseCode: answer this HTTP status with a non-SNAP body (a proxy's error page). */
  httpStatus?: number;
  /** Execute the transfer first, then answer responseCode/httpStatus: in doubt where the money DID move. */
  execute?: boolean;
  /** Accept the transfer as in progress (202xx00, or transactionStatus 03 for RTGS/SKN) and settle it later. */
  pending?: boolean;
  delayMs?: number;
  /** Execute, then destroy the socket without answering. */
  dropConnection?: boolean;
  /** Execute, then never answer. */
  hang?: boolean;
}

/** remark values that force a scenario (sandbox users can trigger them from the ERP's remark1). */
const MAGIC = /^SIM (\d{7}|HTTP-([1-5]\d\d)|TIMEOUT|RESET|DELAY|PENDING)(\s|$)/;

/**
 * The scenario a transfer's remark asks for:
 *   `SIM 4031714`  answer that responseCode without executing
 *   `SIM HTTP-nnn` answer HTTP nnn with a non-SNAP body, without executing
 *   `SIM TIMEOUT`  execute, never answer          `SIM RESET`   execute, destroy the connection
 *   `SIM DELAY`    execute, answer after 1.5 s     `SIM PENDING` in progress now, settled later
 */
export function snapScenarioFromRemark(remark: unknown): SnapScenario | undefined {
  const match = typeof remark === 'string' ? MAGIC.exec(remark.trim()) : null;
  if (!match) return undefined;
  switch (match[1]) {
    case 'TIMEOUT':
      return { hang: true };
    case 'RESET':
      return { dropConnection: true };
    case 'DELAY':
      return { delayMs: 1_500 };
    case 'PENDING':
      return { pending: true };
    default:
      return match[2] ? { httpStatus: Number(match[2]) } : { responseCode: match[1] };
  }
}

const scenarioSchema = Joi.object<SnapScenario>({
  operation: Joi.string().valid(...SNAP_SCENARIO_OPERATIONS),
  responseCode: Joi.string().pattern(/^[1-5]\d{6}$/),
  httpStatus: Joi.number().integer().min(100).max(599),
  execute: Joi.boolean(),
  pending: Joi.boolean(),
  delayMs: Joi.number().integer().min(0).max(600_000),
  dropConnection: Joi.boolean(),
  hang: Joi.boolean(),
});

/** A SnapScenario from untrusted JSON (the admin API), every field checked; the problem otherwise. */
export function parseSnapScenario(body: string): { scenario: SnapScenario } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(body || '{}');
  } catch {
    return { error: 'body must be JSON' };
  }
  const { value: scenario, error } = scenarioSchema.validate(value, { abortEarly: false });
  return error ? { error: error.message } : { scenario };
}
