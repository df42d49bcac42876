import { isIP } from 'node:net';
import { redactHeaders } from '../../log/index.js';
import type { SimAnswer } from './esb-answers.js';
import { SCENARIO_OPERATIONS, type FailureScenario } from './failure-scenarios.js';
import type { SimAccount } from './simulator-state.js';
import { parseSnapScenario, type SnapScenario } from './snap/snap-scenarios.js';

/** What the admin API drives (the BankSimulator). */
export interface SimulatorControls {
  readonly calls: readonly { headers: Record<string, string> }[];
  failNext(scenario: FailureScenario): void;
  reset(): void;
  accounts(): SimAccount[];
  readonly snap: { failNext(scenario: SnapScenario): void };
}

/**
 * `/_simulator/*`, for manual sandbox use (curl from the gateway's host). Loopback callers only,
 * whatever the bank whitelist says: it can make payments fail, so nobody else may reach it.
 *   GET  /_simulator/calls      the last 200 calls, secrets redacted
 *   GET  /_simulator/accounts   accounts and balances
 *   POST /_simulator/fail-next  body: a FailureScenario as JSON → 204
 *   POST /_simulator/reset      forget calls and queued scenarios → 204
 *   POST /_simulator/snap/fail-next  body: a SnapScenario as JSON (SNAP calls) → 204
 */
export function adminAnswer(sim: SimulatorControls, method: string, path: string, body: string, source: string): SimAnswer {
  if (!isLoopback(source)) return { status: 403, body: { error: 'the simulator admin API answers loopback callers only' } };
  if (method === 'GET' && path === '/_simulator/calls') {
    return { status: 200, body: sim.calls.slice(-200).map((call) => ({ ...call, headers: redactHeaders(call.headers) })) };
  }
  if (method === 'GET' && path === '/_simulator/accounts') return { status: 200, body: sim.accounts() };
  if (method === 'POST' && path === '/_simulator/reset') {
    sim.reset();
    return { status: 204 };
  }
  if (method === 'POST' && path === '/_simulator/fail-next') {
    const scenario = parseScenario(body);
    if (!scenario) return { status: 400, body: { error: 'body must be a JSON scenario: {code?, httpStatus?, execute?, delayMs?, dropConnection?, hang?, operation?}' } };
    sim.failNext(scenario);
    return { status: 204 };
  }
  if (method === 'POST' && path === '/_simulator/snap/fail-next') {
    const parsed = parseSnapScenario(body);
    if ('error' in parsed) return { status: 400, body: { error: `body must be a JSON SNAP scenario: ${parsed.error}` } };
    sim.snap.failNext(parsed.scenario);
    return { status: 204 };
  }
  return { status: 404, body: { error: 'unknown admin call' } };
}

/** A FailureScenario from untrusted JSON, every field checked; null when malformed. */
export function parseScenario(body: string): FailureScenario | null {
  let value: unknown;
  try {
    value = JSON.parse(body || '{}');
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const known = new Set(['operation', 'code', 'httpStatus', 'execute', 'delayMs', 'dropConnection', 'hang']);
  const integerIn = (x: unknown, min: number, max: number) => x === undefined || (Number.isInteger(x) && (x as number) >= min && (x as number) <= max);
  const ok =
    Object.keys(v).every((key) => known.has(key)) &&
    (v.code === undefined || (typeof v.code === 'string' && /^ESB-\d{2}-\d{3}$/.test(v.code))) &&
    integerIn(v.httpStatus, 100, 599) &&
    integerIn(v.delayMs, 0, 600_000) &&
    (v.operation === undefined || SCENARIO_OPERATIONS.includes(v.operation as string)) &&
    ['execute', 'dropConnection', 'hang'].every((key) => v[key] === undefined || typeof v[key] === 'boolean');
  return ok ? (v as FailureScenario) : null;
}

function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';
}
