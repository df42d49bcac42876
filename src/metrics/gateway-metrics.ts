import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BankCall } from '../banks/types.js';
import type { CircuitState } from '../banks/circuit-breaker.js';
import type { InDoubtSummary, OverdueCallbacks } from '../store/types.js';

/** Seconds. From a cached replay (~1 ms) up; `withLongest` adds the bank's longest exchange. */
const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BANK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The buckets, with the longest a bank exchange may take (connect + headers + body timeouts,
 * 65 s by default) and a bucket past it: a bank answering at its timeout lands in a bucket of
 * its own instead of in +Inf, so a latency quantile near the timeout stays readable.
 */
function withLongest(buckets: number[], longestSeconds: number): number[] {
  const top = Math.ceil(longestSeconds);
  return [...new Set([...buckets.filter((b) => b < top), top, top * 2])];
}

/** prom-client's default gauges named `_total`, which Prometheus reserves for counters (promtool refuses them); the same numbers are in `nodejs_active_handles` etc. */
const TOTAL_NAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface GatewayMetricsOptions {
  /** The transfers in doubt and the review queue (a store read, at a scrape, at most once per `storeReadMs`). */
  inDoubt?: () => Promise<InDoubtSummary>;
  /** The notifications to the ERP past their next attempt time (a store read, at a scrape, at most once per `storeReadMs`). */
  overdueCallbacks?: (now: number) => Promise<OverdueCallbacks>;
  /** The least time between two store reads of one process; 0: at every scrape. */
  storeReadMs?: number;
  /** Now, in epoch ms (the ages are measured against it). */
  clock?: () => number;
  /** The longest a bank exchange may take, in seconds (the histograms' top bucket). */
  longestBankCallSeconds?: number;
  /** Each bank partner's circuit: closed, half-open or open. */
  circuits?: () => { partner: string; state: CircuitState }[];
  /** Audit records journaled on local disk, waiting for the database. */
  spoolBacklog?: () => number;
  /** The background scrub of the audit chains (AuditScrub): its last full cycle and the chains it holds on. */
  auditScrub?: () => { last: { chains: number; links: number; ms: number; at: number } | null; since: number; lastPass: number | null; linksBehind: number; memory: { size: number }; breaks: unknown[] };
  /** Each rate limiter's windows kept in this process (RateLimitStores.localWindows). */
  rateLimitWindows?: () => { limiter: string; windows: number }[];
  /** The running version (package.json). */
  version?: string;
}

const CIRCUIT_VALUES: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

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
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly bankCalls = new Counter({
    name: 'gerbang_bank_calls_total',
    help: 'HTTP exchanges with bank partners by partner, operation and outcome (success, refused, server_error, no_answer).',
    labelNames: ['partner', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly bankDuration: Histogram<'partner' | 'operation'>;
  private readonly transfers = new Counter({
    name: 'gerbang_transfers_total',
    help: 'Transfers that reached a final status in this process, by bank partner and status (SUCCESS, FAILED). Transfers not final yet are in gerbang_transfers_in_doubt.',
    labelNames: ['bank', 'status'] as const,
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

  constructor(options: GatewayMetricsOptions = {}) {
    const longest = options.longestBankCallSeconds ?? 65;
    this.httpDuration = new Histogram({
      name: 'gerbang_http_request_duration_seconds',
      help: 'Time from the request reaching the app to the last byte of the answer, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: withLongest(HTTP_BUCKETS, longest),
      registers: [this.registry],
    });
    this.bankDuration = new Histogram({
      name: 'gerbang_bank_call_duration_seconds',
      help: 'Duration of HTTP exchanges with bank partners, by partner and operation.',
      labelNames: ['partner', 'operation'] as const,
      buckets: withLongest(BANK_BUCKETS, longest),
      registers: [this.registry],
    });
    // Node's and the process's own metrics under their standard names (process_cpu_seconds_total,
    // nodejs_heap_size_used_bytes…), which the usual dashboards and alerts expect.
    collectDefaultMetrics({ register: this.registry });
    for (const name of TOTAL_NAMED_GAUGES) this.registry.removeSingleMetric(name);
    new Gauge({
      name: 'gerbang_build_info',
      help: 'Always 1; the labels say which Gerbang and which Node.js run.',
      labelNames: ['version', 'nodejs'] as const,
      registers: [this.registry],
      aggregator: 'max',
    }).set({ version: options.version ?? 'unknown', nodejs: process.version }, 1);
    const { circuits, spoolBacklog, auditScrub } = options;
    if (circuits) {
      new Gauge({
        name: 'gerbang_bank_circuit_state',
        help: "Each bank partner's circuit breaker in this process: 0 closed (calls go through), 1 half-open (one probe call), 2 open (calls answer 503 without reaching the bank).",
        labelNames: ['partner'] as const,
        registers: [this.registry],
        // Summed over workers, the worst one shows.
        aggregator: 'max',
        collect() {
          for (const { partner, state } of circuits()) this.set({ partner }, CIRCUIT_VALUES[state]);
        },
      });
    }
    if (spoolBacklog) {
      new Gauge({
        name: 'gerbang_audit_spool_backlog',
        help: 'Audit records journaled on local disk because the database refused them, not yet written to it. Above 0 for long: the database is down or refuses the audit.',
        registers: [this.registry],
        // Every worker counts the one spool folder of this machine.
        aggregator: 'max',
        collect() {
          this.set(spoolBacklog());
        },
      });
    }
    const { rateLimitWindows } = options;
    if (rateLimitWindows) {
      new Gauge({
        name: 'gerbang_rate_limit_local_windows',
        help: 'Callers whose rate-limit window this process counts itself, by limiter (ip, client; token-ip is counted in the store): at most GERBANG_RATE_LIMIT_LOCAL_WINDOWS each. At the bound, new callers are counted in the shared store on every request (exact, slower).',
        labelNames: ['limiter'] as const,
        registers: [this.registry],
        // Each worker has its own bound: the fullest one shows.
        aggregator: 'max',
        collect() {
          for (const { limiter, windows } of rateLimitWindows()) this.set({ limiter }, windows);
        },
      });
    }
    if (auditScrub) this.scrubGauges(auditScrub);
    // Present from the start at 0, so `increase()` sees the first failure.
    for (const operation of AUDIT_OPERATIONS) this.auditFailures.inc({ operation }, 0);
    if (options.inDoubt) this.storeGauges(storeReading(options.inDoubt, options.storeReadMs ?? 0), options.clock ?? Date.now);
    if (options.overdueCallbacks) this.callbackGauges(options.overdueCallbacks, options.storeReadMs ?? 0, options.clock ?? Date.now);
  }

  /**
   * The outbox of notifications to the ERP: what is past its next attempt time and not attempted.
   * A delivery is claimed within GERBANG_CALLBACK_INTERVAL_MS of being due and its attempt recorded
   * within seconds (a failed one moves its next attempt time ahead), so an overdue one for minutes
   * is held: under a lease rewritten outside Gerbang (not under the MAC), refused as changed in SQL
   * (audit verify names it), the dispatcher off on every node, or the store held. Read from the
   * store (one range of ix_callback_deliveries_due), shared by every worker and node (max).
   */
  private callbackGauges(overdue: (now: number) => Promise<OverdueCallbacks>, storeReadMs: number, clock: () => number): void {
    // Measured at the reading's own time: a reading reused within storeReadMs ages as a reading.
    const read = storeReading(async () => {
      const now = clock();
      return { now, ...(await overdue(now)) };
    }, storeReadMs);
    new Gauge({
      name: 'gerbang_callbacks_overdue',
      help: 'Notifications to the ERP past their next attempt time and not attempted yet (PENDING). Read from the store, shared by every worker and node (aggregate with max).',
      registers: [this.registry],
      aggregator: 'max',
      collect: fromStore(read, (gauge, { count }) => gauge.set(count)),
    });
    new Gauge({
      name: 'gerbang_callbacks_overdue_oldest_age_seconds',
      help: 'How long the most overdue notification to the ERP has been past its next attempt time without an attempt; 0 when none is. Minutes: it is held (a lease rewritten outside Gerbang, a row refused as changed in SQL, the dispatcher off). Read from the store, shared by every worker and node (aggregate with max).',
      registers: [this.registry],
      aggregator: 'max',
      collect: fromStore(read, (gauge, { now, oldestDueAt }) => gauge.set(oldestDueAt === null ? 0 : Math.max(0, (now - oldestDueAt) / 1000))),
    });
  }

  /** The audit scrub's last full cycle (0 until one is complete) and the chains it holds payments on. */
  private scrubGauges(scrub: NonNullable<GatewayMetricsOptions['auditScrub']>): void {
    const gauge = (name: string, help: string, value: () => number, aggregator: 'min' | 'max' = 'max') =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        aggregator,
        collect() {
          this.set(value());
        },
      });
    gauge('gerbang_audit_scrub_cycle_seconds', 'How long the last full cycle of the audit scrub took (0 until one ends): every audit chain walked from its first link to its head (GERBANG_AUDIT_SCRUB_MS, GERBANG_AUDIT_SCRUB_LINKS). A record deleted inside a chain holds payments within about this.', () => (scrub().last?.ms ?? 0) / 1000);
    gauge('gerbang_audit_scrub_cycle_links', 'Links the last full cycle of the audit scrub walked (0 until one ends).', () => scrub().last?.links ?? 0);
    // The stalest worker shows; before its first cycle, a process counts from when it started.
    gauge('gerbang_audit_scrub_last_cycle_timestamp_seconds', 'When the audit scrub last completed a full cycle, or the process started before its first (Unix seconds): an old value means the scrub is stuck or off (see the log, task audit-scrub).', () => (scrub().last?.at ?? scrub().since) / 1000, 'min');
    gauge('gerbang_audit_scrub_last_pass_timestamp_seconds', 'When a pass of the audit scrub last ended without an error, or the process started before its first (Unix seconds): passes failing for a minute hold payments (503); an old value means the scrub cannot make progress (see the log, task audit-scrub) or is off.', () => (scrub().lastPass ?? scrub().since) / 1000, 'min');
    gauge('gerbang_audit_scrub_links_behind', 'Links appended to the audit chains that the audit scrub\'s walk of new links had not proved yet at its last pass (0: it keeps up; it proves at most GERBANG_AUDIT_SCRUB_LINKS a pass). A payment is remembered for its transactionId once its links are proved.', () => scrub().linksBehind);
    gauge('gerbang_audit_scrub_remembered_payments', 'Payments the audit scrub remembers by client and transactionId (a new payment for one of those keys is checked against the remembered payment in the database first).', () => scrub().memory.size);
    gauge('gerbang_audit_scrub_broken_chains', 'Audit chains the scrub found with records deleted or altered inside them, holding payments (503) until `gerbang audit accept-rollback`.', () => scrub().breaks.length);
  }

  /**
   * The gauges read from the store. The store is shared by every worker and node, so each reports
   * the same value: summed over workers they take the max. A scrape must answer while the store
   * is down (that is when it matters most): a reading that fails or takes over 2 s drops these
   * series from the scrape instead of failing it.
   */
  private storeGauges(read: () => Promise<InDoubtSummary>, clock: () => number): void {
    const ageSeconds = (since: number | null) => (since === null ? 0 : Math.max(0, (clock() - since) / 1000));
    const fromSummary = (fill: (gauge: Gauge<string>, summary: InDoubtSummary) => void) => fromStore(read, fill);
    new Gauge({
      name: 'gerbang_transfers_in_doubt',
      help: 'Transfers whose bank outcome is not known yet, by state (SENDING, UNKNOWN, PENDING), read from the store. The store is shared: every worker and node reports the same value (aggregate with max, not sum).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      aggregator: 'max',
      collect: fromSummary((gauge, { states }) => {
        for (const [state, { count }] of Object.entries(states)) gauge.set({ state }, count);
      }),
    });
    new Gauge({
      name: 'gerbang_transfers_in_doubt_oldest_age_seconds',
      help: 'Age of the oldest transfer in doubt in each state (SENDING, UNKNOWN, PENDING), from when the ERP sent it; 0 when none is. Read from the store, shared by every worker and node (aggregate with max).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      aggregator: 'max',
      collect: fromSummary((gauge, { states }) => {
        for (const [state, { oldestCreatedAt }] of Object.entries(states)) gauge.set({ state }, ageSeconds(oldestCreatedAt));
      }),
    });
    new Gauge({
      name: 'gerbang_review_queue_transfers',
      help: 'Transfers in the review queue: still in doubt past GERBANG_REVIEW_AFTER_MS, waiting for an admin to resolve them with evidence. Read from the store, shared by every worker and node (aggregate with max).',
      registers: [this.registry],
      aggregator: 'max',
      collect: fromSummary((gauge, { review }) => gauge.set(review.count)),
    });
    new Gauge({
      name: 'gerbang_review_queue_oldest_age_seconds',
      help: 'How long the oldest transfer in the review queue has waited there; 0 when the queue is empty. Read from the store, shared by every worker and node (aggregate with max).',
      registers: [this.registry],
      aggregator: 'max',
      collect: fromSummary((gauge, { review }) => gauge.set(ageSeconds(review.oldestSince))),
    });
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

  /** A transfer became final (SUCCESS or FAILED). */
  countFinalTransfer(bank: string, status: string): void {
    this.transfers.inc({ bank, status });
  }

  countAuditFailure(operation: AuditOperation): void {
    this.auditFailures.inc({ operation });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/** A gauge's collect from a store reading: a reading that fails (or takes over 2 s) drops the gauge from the scrape instead of failing it. */
function fromStore<T>(read: () => Promise<T>, fill: (gauge: Gauge<string>, reading: T) => void) {
  return async function collect(this: Gauge<string>) {
    try {
      fill(this, await read());
    } catch {
      this.reset();
    }
  };
}

/**
 * One store read shared by every gauge of a scrape (they collect at the same time), and reused
 * for `everyMs` after it was taken, failed readings too: however often Prometheus scrapes (and
 * however many workers it reaches through one port), a process reads the store at most once per
 * `everyMs`, and a store that is down is not asked again at every scrape.
 */
function storeReading<T>(read: () => Promise<T>, everyMs: number): () => Promise<T> {
  let last: { at: number; reading: Promise<T>; done: boolean } | undefined;
  return () => {
    const now = performance.now();
    if (last && (!last.done || now - last.at < everyMs)) return last.reading;
    const current: { at: number; reading: Promise<T>; done: boolean } = { at: now, reading: withDeadline(read(), 2_000), done: false };
    current.reading.then(
      () => (current.done = true),
      () => (current.done = true),
    );
    last = current;
    return current.reading;
  };
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
