import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/index.js';
import { BatchProcessor } from '../domain/batches/index.js';
import { CallbackDispatcher, CallbackSigner, outboxNotifier, recentEndpoints, type FinalStateNotifier } from '../domain/callbacks/index.js';
import type { BreakingAdapter } from '../banks/circuit-breaker.js';
import { BankIdBlocks, InDoubtResolver } from '../domain/transfers/index.js';
import { createApiServer, type ApiServer } from '../http/api-server.js';
import { buildApp } from '../http/app.js';
import { listenOn } from '../http/listen.js';
import { getLogger } from '../log/index.js';
import { GatewayMetrics, startMetricsServer, withAuditFailureCount, type MetricsServer } from '../metrics/index.js';
import { AccessTokens } from '../pipeline/auth/index.js';
import { RateLimitStores } from '../pipeline/rate-limit/index.js';
import { AuditSpool, connectionBudgetProblem, describeStoreFailure, migrate, openStore, packageVersion, pendingMigrationsCheck, RecentReads, withAuditSpool } from '../store/index.js';
import { ConfigError } from '../config/index.js';
import { AuditScrub, memoryFileOf, RollbackWatch, vouchingOptions } from '../audit/index.js';
import { expiredPurgeTask } from '../domain/expired-purge.js';
import { PeriodicTask } from '../domain/periodic-task.js';
import type { Store } from '../store/types.js';
import { startBankPartners, type BankPartners } from './bank-partners.js';

const log = getLogger('gateway');
const bankLog = getLogger('bank');

type Server = HttpServer | HttpsServer;

export interface Gateway {
  url: string;
  /** `http://host:port/metrics`, or null when GERBANG_METRICS_PORT is off. */
  metricsUrl: string | null;
  metrics: GatewayMetrics;
  port: number;
  store: Store;
  banks: BankPartners;
  resolver: InDoubtResolver;
  batches: BatchProcessor;
  callbacks: CallbackDispatcher;
  /** Writes audit records journaled while the database refused them (also done every few seconds). */
  replayAudit(): Promise<number>;
  /** Compares the database with the audit checkpoints now (as every GERBANG_AUDIT_ROLLBACK_CHECK_MS); why payments are held, or null. */
  checkCheckpoints(): Promise<string | null>;
  /** The background scrub of every audit chain (GERBANG_AUDIT_SCRUB_MS): its cycles and what it holds on. */
  scrub: AuditScrub;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown deadline), closes pools. */
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: () => number;
  /** The monotonic clock on which the app's reads of client rows are aged (elapsedClock; tests inject their own). */
  elapsed?: () => number;
}

/**
 * Starts one API process: store (migrated when configured), bank partners, the app, the HTTP
 * server. Building is separate from listening (src/http/app.ts) so tests can do either.
 */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? Date.now;
  // Its heads vouched for in checkpoint lines, and at every commit in a head file of its own beside
  // them: the links of the minute before a crash are not left vouched for by nothing.
  const { checkpoint, vouch } = vouchingOptions(config.auditCheckpointFile, config.auditKeys, `gateway ${process.pid}`, clock);
  const opened = await openStore(config.databaseUrl, { auditKeys: config.auditKeys, checkpoint, vouch, sealPaymentsAtInsert: config.sealPaymentsAtInsert });
  // Audit writes the database refuses are counted (whoever made them: API requests, the
  // resolver, payment runs), then journaled on disk and written once it is back.
  const spool = new AuditSpool(config.auditSpoolDir, config.databaseUrl, config.auditKeys);
  let banks: BankPartners | undefined;
  // The API's rate limiters' stores: their windows kept here are a gauge, and they are closed before the store.
  const rateLimitStores = new RateLimitStores();
  const metrics = new GatewayMetrics({
    inDoubt: () => opened.payments.inDoubtSummary(),
    overdueCallbacks: (now) => opened.callbacks.overdue(now),
    storeReadMs: config.metrics.storeReadMs,
    clock,
    longestBankCallSeconds: config.egress.longestCallMs / 1000,
    circuits: () => (banks?.router.all() ?? []).flatMap((p) => ('circuit' in p.adapter ? [{ partner: p.name, state: (p.adapter as BreakingAdapter).circuit() }] : [])),
    spoolBacklog: () => spool.backlog(),
    auditScrub: () => scrub,
    rateLimitWindows: () => rateLimitStores.localWindows(),
    version: packageVersion(),
  });
  const counted = withAuditFailureCount(opened.audit, (operation) => metrics.countAuditFailure(operation));
  const store: Store = { ...opened, audit: withAuditSpool(counted, spool) };
  const replay = new PeriodicTask('audit-replay', 5_000, () => spool.replay(opened.audit));
  // Request signatures, sign-in counters and rate-limit windows that count nothing any more,
  // forgotten at start and every minute (expired-purge.ts).
  const signaturePurge = expiredPurgeTask(opened, clock);
  // The heads of this process's own chains, as it appended them, checkpointed outside the database
  // every minute (a change of who may pay at once, and the last heads when the store closes).
  const checkpoints = new PeriodicTask('audit-checkpoint', 60_000, async () => checkpoint(opened.db.description, opened.audit.ownHeads()));
  // The database compared with every checkpoint every GERBANG_AUDIT_ROLLBACK_CHECK_MS (2 s): payments
  // held while it lacks what they vouched for. A pass is one SELECT of the chain heads (docs/performance.md).
  const watch = new RollbackWatch(opened.audit, config.auditKeys, config.auditCheckpointFile, opened.db.description);
  // Every chain walked again from its first link, GERBANG_AUDIT_SCRUB_LINKS links every
  // GERBANG_AUDIT_SCRUB_MS: records deleted or altered inside a chain (heads and checkpoints left
  // as they were) hold payments as a rollback does, until accepted.
  const scrub = new AuditScrub(opened.audit, { ring: config.auditKeys, path: config.auditCheckpointFile, store: opened.db.description }, { linksPerPass: config.auditScrub.linksPerPass });
  const held = () => [watch.held, scrub.held].filter((why) => why !== null).join('; ') || null;
  // A new payment for a key the scrub saw paid is checked against that payment first (by id, only
  // then): deleted in SQL, it is never paid again. Part of the scrub: off with it.
  // The scrub's memory of payments, kept beside the checkpoints for the next process (so that it
  // knows at once what this one saw): written every 5 minutes once whole, and when the process stops.
  const memoryFile = memoryFileOf(config.auditCheckpointFile, opened.db.description);
  const memorySave = new PeriodicTask('audit-memory-save', 300_000, async () => void (await scrub.saveMemory(memoryFile)));
  const newPaymentCheck = config.auditScrub.intervalMs > 0 ? (clientId: string, transactionId: string, id: number, createdAt: number) => scrub.beforeNewPayment(clientId, transactionId, id, createdAt) : undefined;
  const checkCheckpoints = async () => {
    await watch.check();
    return held();
  };
  const vouched = () => watch.vouched();
  const rollbackCheck = new PeriodicTask('rollback-watch', config.auditRollbackCheckMs, () => watch.check());
  const scrubbing = new PeriodicTask('audit-scrub', config.auditScrub.intervalMs, () => scrub.pass());
  // Payments a node on a version before migration 026 wrote during a rolling upgrade have no search
  // trigrams: indexed at start and every minute, so a search finds them without an operator
  // running `gerbang keys reindex-search`. Payments under an older key are left to `keys rotate`.
  const searchIndex = new PeriodicTask('search-index', 60_000, async () => {
    const indexed = await opened.keyRotation.reindexSearch({ neverIndexedOnly: true });
    if (indexed > 0) log.info({ indexed }, 'payments written without search trigrams indexed for the console search');
  });
  let metricsServer: MetricsServer | undefined;
  let api: ApiServer | undefined;
  try {
    // An unreachable store stops the start here, saying which one and why (never the password).
    await opened.db.ping().catch((error: unknown) => {
      throw new ConfigError([describeStoreFailure(config.databaseUrl, error)]);
    });
    const budget = await connectionBudgetProblem(opened.db, config.databaseUrl, config.workers);
    if (budget) throw new ConfigError([budget]);
    if (config.migrateOnStart) {
      // The chains of 027 and 037 (stored data recorded as it stood) vouched for beside this process's own.
      const { applied } = await migrate(store.db, { keys: config.auditKeys, checkpoint });
      if (applied.length > 0) log.info({ applied }, 'migrations applied');
    }
    // Bank ids in blocks per process, one counter round trip per block (the adapters' external
    // ids, the API's transfers and the payment runs share them).
    const bankIds = new BankIdBlocks(store.sequences);
    banks = await startBankPartners(config, { bankTokens: store.bankTokens, sequences: bankIds }, clock, (call, ctx) => {
      metrics.observeBankCall(call);
      // With the context of the request that made the call: its request id and trace id.
      bankLog.info({ ...ctx.requestContext, partner: call.partner, operation: call.operation, status: call.statusCode, bankResponseCode: call.errorCode, durationMs: call.durationMs }, 'bank call');
    });
    // The ERP's callbacks: queued in the store when a transfer becomes final (the client's endpoint
    // reused for at most GERBANG_CACHE_STALENESS_MS), delivered signed.
    const signer = CallbackSigner.fromFile(config.callback.keyFile);
    const outbox = outboxNotifier(recentEndpoints(store.callbacks, new RecentReads(config.cacheStalenessMs)), store.audit, clock);
    // Every transfer that becomes final passes here (API, resolver, payment runs): count it.
    const finals: FinalStateNotifier = {
      notify: (clientId, result, request) => {
        metrics.countFinalTransfer(result.bank ?? 'none', result.status);
        return outbox.notify(clientId, result, request);
      },
    };
    const dispatcher = new CallbackDispatcher({ callbacks: store.callbacks, audit: store.audit, signer, clock, held }, config.callback);
    const batches = new BatchProcessor(
      { payments: store.payments, sequences: bankIds, accountGrants: store.accountGrants, router: banks.router, batches: store.batches, audit: store.audit, clock, finals, held, checkpoints: checkCheckpoints, vouched, proofLinks: config.takeoverProofLinks, newPaymentCheck },
      { intervalMs: config.batch.intervalMs, concurrency: config.batch.concurrency },
    );
    const app = buildApp({
      config,
      store,
      tokens: new AccessTokens(config.jwt),
      router: banks.router,
      pendingMigrations: pendingMigrationsCheck(store.db),
      wakeBatches: () => batches.wake(),
      callbacks: { finals, signer },
      metrics,
      bankIds,
      held,
      checkCheckpoints,
      vouched,
      newPaymentCheck,
      rateLimitStores,
      clock,
      elapsed: options.elapsed,
    });
    let draining = false;
    // While draining, every answer asks the client to drop its keep-alive connection.
    const resolver = new InDoubtResolver(
      { payments: store.payments, audit: store.audit, router: banks.router, clock, finals },
      { intervalMs: config.resolver.intervalMs, dayCloseWib: config.resolver.dayCloseWib, reviewAfterMs: config.resolver.reviewAfterMs, sendingStaleMs: config.resolver.sendingStaleMs },
    );
    api = createApiServer((req, res) => {
      if (draining) res.setHeader('Connection', 'close');
      app(req, res);
    }, config.tls);
    const server = api.server;
    // Longer than the bank's header and body timeouts, so a slow bank answer still reaches the ERP.
    server.requestTimeout = config.egress.headersTimeoutMs + config.egress.bodyTimeoutMs + 10_000;
    server.headersTimeout = 20_000;
    server.keepAliveTimeout = 5_000;
    if (config.metrics.port !== null) {
      const { host, allowedCidrs, peersDir } = config.metrics;
      metricsServer = await startMetricsServer(metrics, { host, allowedCidrs, peersDir, port: config.metrics.port });
    }
    // What an earlier process's scrub had learned: until the links appended since are proved, a new payment waits (AuditScrub.complete).
    if (config.auditScrub.intervalMs > 0) await scrub.resume(memoryFile);
    // Nothing is served from a database found behind its checkpoints at start either.
    await watch.check().catch((error: unknown) => log.warn({ err: error }, 'the database could not be compared with the audit checkpoints yet'));
    await listenOn(server, config.port, config.host, 'PORT');
    resolver.start();
    batches.start();
    dispatcher.start();
    replay.start();
    replay.wake();
    signaturePurge.start();
    signaturePurge.wake();
    checkpoints.start();
    rollbackCheck.start();
    scrubbing.start();
    if (config.auditScrub.intervalMs > 0) {
      scrubbing.wake();
      memorySave.start();
    }
    searchIndex.start();
    searchIndex.wake();
    // Runs a process stopped in the middle of are picked up at once, not after the first interval.
    if (config.batch.intervalMs > 0) batches.wake();
    const port = (server.address() as AddressInfo).port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `${api.scheme}://${host}:${port}`;
    log.info({ url, store: store.db.description, bank: config.bank.mode }, 'gateway listening');
    const partners = banks;
    const metricsListener = metricsServer;
    const listening = api;
    return {
      url,
      metricsUrl: metricsListener?.url ?? null,
      metrics,
      port,
      store,
      banks: partners,
      resolver,
      batches,
      callbacks: dispatcher,
      replayAudit: () => spool.replay(opened.audit),
      checkCheckpoints,
      scrub,
      close: () => {
        draining = true;
        listening.stopWatching();
        return shutdown(server, config.shutdownTimeoutMs, async () => {
          await Promise.all([resolver.stop(), batches.stop(), dispatcher.stop()]);
          await replay.stop();
          await signaturePurge.stop();
          await searchIndex.stop();
          await spool.replay(opened.audit).catch(() => undefined);
          // The hits counted here and not yet added, while the store is still open.
          await rateLimitStores.close().catch((error: unknown) => log.warn({ err: error }, 'rate-limit counts could not be added at shutdown'));
          await checkpoints.stop();
          await rollbackCheck.stop();
          await scrubbing.stop();
          await memorySave.stop();
          if (config.auditScrub.intervalMs > 0) await scrub.saveMemory(memoryFile).catch((error: unknown) => log.warn({ err: error, file: memoryFile }, 'the audit scrub\'s memory of payments could not be written at shutdown: the next process learns every payment again first'));
          await metricsListener?.close();
          await partners.close();
          await store.close();
        });
      },
    };
  } catch (error) {
    await metricsServer?.close().catch(() => undefined);
    api?.stopWatching();
    await banks?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Graceful stop: refuse new connections, let in-flight requests finish (their answers carry
 * `Connection: close`), wait up to `deadlineMs`, then cut what is left and release the pools.
 *
 * Idle keep-alive connections are NOT cut at once, which is what `server.close()` does by
 * itself since Node 19: a client may be sending its next request on one at that very moment
 * and would see a reset (a lost request during `pm2 reload`). They end by the keep-alive
 * timeout instead, which clients know from the `Keep-Alive` header and stop reusing first.
 */
async function shutdown(server: Server, deadlineMs: number, release: () => Promise<void>): Promise<void> {
  server.closeIdleConnections = () => undefined;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  const result = await Promise.race([closed.then(() => 'drained' as const), deadline]);
  clearTimeout(timer);
  if (result === 'deadline') {
    log.warn({ deadlineMs }, 'shutdown deadline reached; closing remaining connections');
    server.closeAllConnections();
    await closed;
  }
  await release();
}
