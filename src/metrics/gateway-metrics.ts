import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BankCall } from '../banks/types.js';
import type { InDoubtState } from '../store/types.js';

/** Seconds. Covers a cached replay (~1 ms) to a bank at its headers timeout (30 s). */
const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BANK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const AUDIT_OPERATIONS = ['open', 'record', 'complete', 'bank_call'] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

export type BankCallOutcome = 'success' | 'refused' | 'server_error' | 'no_answer';

/**
 * What one bank exchange came to, in four values (a label must stay low-cardinality): an answer
 * without an error code, a refusal (the bank's error code or a 4xx), a 5xx, or no answer at all
 * (connection failure or timeout).
 */
export function bankCallOutcome(call: BankCall): BankCallOutcome {
  if (call.statusCode === null) return 'no_answer';
  if (call.statusCode >= 500) return 'server_error';
  if (call.statusCode >= 400 || call.errorCode !== null) return 'refused';
  return 'success';
}

/**
 * The metrics of one gateway process, on a registry of its own (not prom-client's global one,
 * so several gateways in one process — the tests — never mix their counts). Everything the
 * operator asked for is here, by name; the steps and decorators that feed them only call the
 * `observe…`/`count…` methods.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'gerbang_http_requests_total',
    help: 'Inbound API requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'gerbang_http_request_duration_seconds',
    help: 'Time from the request reaching the app to the last byte of the answer, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly bankCalls = new Counter({
    name: 'gerbang_bank_calls_total',
    help: 'HTTP exchanges with bank partners by partner, operation and outcome (success, refused, server_error, no_answer).',
    labelNames: ['partner', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly bankDuration = new Histogram({
    name: 'gerbang_bank_call_duration_seconds',
    help: 'Duration of HTTP exchanges with bank partners, by partner and operation.',
    labelNames: ['partner', 'operation'] as const,
    buckets: BANK_BUCKETS,
    registers: [this.registry],
  });
  private readonly tokenRefreshes = new Counter({
    name: 'gerbang_bank_token_refreshes_total',
    help: 'Bank access-token fetches by partner and outcome (success, refused, server_error, no_answer).',
    labelNames: ['partner', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly auditFailures = new Counter({
    name: 'gerbang_audit_write_failures_total',
    help: 'Audit writes the database refused, by operation (open, record, complete, bank_call). A refused open refuses the request (503); the others are journaled on local disk and written when the database is back. Any increase needs an operator.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  constructor(options: { inDoubt?: () => Promise<Record<InDoubtState, number>> } = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: 'gerbang_' });
    // Present from the start at 0, so `increase()` sees the first failure.
    for (const operation of AUDIT_OPERATIONS) this.auditFailures.inc({ operation }, 0);
    const { inDoubt } = options;
    if (inDoubt) {
      new Gauge({
        name: 'gerbang_transfers_in_doubt',
        help: 'Transfers whose bank outcome is not known yet, by state (SENDING, UNKNOWN, PENDING), read from the store at each scrape. The store is shared: every worker and node reports the same value (aggregate with max, not sum).',
        labelNames: ['state'] as const,
        registers: [this.registry],
        // A scrape must answer while the store is down (that is when it matters most): a count
        // that fails or takes over 2 s drops the series for this scrape instead of failing it.
        async collect() {
          try {
            const counts = await withDeadline(inDoubt(), 2_000);
            for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
          } catch {
            this.reset();
          }
        },
      });
    }
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  observeBankCall(call: BankCall): void {
    const outcome = bankCallOutcome(call);
    this.bankCalls.inc({ partner: call.partner, operation: call.operation, outcome });
    this.bankDuration.observe({ partner: call.partner, operation: call.operation }, call.durationMs / 1000);
    if (call.operation === 'token') this.tokenRefreshes.inc({ partner: call.partner, outcome });
  }

  countAuditFailure(operation: AuditOperation): void {
    this.auditFailures.inc({ operation });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
