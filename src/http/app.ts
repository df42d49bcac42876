import express, { type Express, type RequestHandler } from 'express';
import type { Config } from '../config/index.js';
import type { BankRouter } from '../domain/routing/index.js';
import { RecentProofs, type CreateTransferDeps } from '../domain/transfers/index.js';
import { accessLogStep } from '../pipeline/access-log/index.js';
import { auditStep } from '../pipeline/audit/index.js';
import { ApiKeys, authenticateStep, EntraTokens, RecentClients, type AccessTokens } from '../pipeline/auth/index.js';
import { bodyParserStep } from '../pipeline/body-parser/index.js';
import { clientOriginsCache, globalCallerGuardStep } from '../pipeline/caller-guard/index.js';
import { metricsStep } from '../pipeline/metrics/index.js';
import { rateLimitStep, type RateLimitStores } from '../pipeline/rate-limit/index.js';
import { requestIdStep } from '../pipeline/request-id/index.js';
import { sandboxModeStep } from '../pipeline/sandbox-mode/index.js';
import { requestSignatureStep } from '../pipeline/request-signature/index.js';
import { securityHeadersStep } from '../pipeline/security-headers/index.js';
import { storeHeldStep } from '../pipeline/store-held/index.js';
import type { GatewayMetrics } from '../metrics/index.js';
import { checkKeys, directFrom, IpAllowlist } from '../security/index.js';
import type { SequenceRepository, Store, VouchedChains } from '../store/types.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { apiRoutes, routeList } from './api/index.js';
import './locals.js';
import type { CallbackSigner, FinalStateNotifier } from '../domain/callbacks/index.js';
import { accountRoutes } from './routes/account-routes.js';
import { callbackRoutes } from './routes/callback-routes.js';
import { bankNotificationRoutes } from './routes/bank-notification-routes.js';
import { batchRoutes } from './routes/batch-routes.js';
import { docsRoutes } from './routes/docs-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { transferRoutes } from './routes/transfer-routes.js';

export interface AppDeps {
  config: Config;
  store: Store;
  tokens: AccessTokens;
  router: BankRouter;
  pendingMigrations: () => Promise<string[]>;
  /** Tells the batch processor a payment run was stored. */
  wakeBatches?: () => void;
  /** Queues the ERP's callback when a transfer becomes final, and signs it. */
  callbacks: { finals: FinalStateNotifier; signer: CallbackSigner };
  metrics: GatewayMetrics;
  /** The bank-id counters, shared with the bank partners and payment runs of this process. */
  bankIds: Pick<SequenceRepository, 'next'>;
  /** Why the store is held (RollbackWatch: behind its audit checkpoints), or null. */
  held?: () => string | null;
  /** Compares the store with the audit checkpoints now (RollbackWatch), before a stale reservation is taken over; `held` when absent. */
  checkCheckpoints?: () => Promise<string | null>;
  /** The audit checkpoints as they stand now (RollbackWatch.vouched), for the proof of a stale reservation in its snapshot; none vouched for when absent. */
  vouched?: () => VouchedChains;
  /** Checks a new payment's key against the payments the audit scrub saw (AuditScrub.beforeNewPayment), before it is sent. */
  newPaymentCheck?: CreateTransferDeps['newPaymentCheck'];
  /** Keeps the limiters' stores, for the gateway to close them before the store. */
  rateLimitStores?: RateLimitStores;
  clock?: () => number;
  /** The monotonic clock on which reads of client rows kept for GERBANG_CACHE_STALENESS_MS are aged (elapsedClock when absent). */
  elapsed?: () => number;
}

/**
 * Builds the public API (no listening: see server.ts). The pipeline order is here, in one
 * place, each position with its reason; every step is a factory taking its options.
 */
export function buildApp(deps: AppDeps): Express {
  const { config, store } = deps;
  const clock = deps.clock ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Only configured proxies may set X-Forwarded-For; `true` would let any caller forge its IP.
  app.set('trust proxy', config.trustProxy.length > 0 ? config.trustProxy : false);

  const limits = config.rateLimit;
  // The route declarations, with this configuration's limits: every route below is mounted
  // (and validated) from them, and the API documents are written from them.
  const routes = apiRoutes({ batchMaxLines: config.batch.maxLines });

  // 1. Request id first: every later step, log line and audit row carries it.
  app.use(requestIdStep());
  // 1a. A sandbox says so on every answer, before anything can refuse or answer the request.
  app.use(sandboxModeStep({ mode: config.bank.mode }));
  // 1a'. The access log line of every request, probes and refusals included.
  app.use(accessLogStep());
  // 1b. Metrics right after: every request is counted and timed, probes and refusals included.
  app.use(metricsStep({ metrics: deps.metrics }));
  const held = deps.held ?? (() => null);
  const checkpoints = deps.checkCheckpoints ?? (async () => held());
  const vouched = deps.vouched ?? (() => async () => null);
  const perIp = rateLimitStep({ repository: store.rateLimits, clock, windowMs: limits.windowMs, limit: limits.perIp, name: 'ip', syncMs: limits.syncMs, stores: deps.rateLimitStores, maxWindows: limits.localWindows });
  const operatorProbes = new IpAllowlist(config.metrics.allowedCidrs);
  const probes = (detail: boolean, steps: RequestHandler[]) =>
    healthRoutes(routes, { mode: config.bank.mode, db: store.db, pendingMigrations: deps.pendingMigrations, checkKeys: () => checkKeys(deps.tokens, () => store.audit.checkKeys()), held, detail }, steps);
  // 2. The operator's own health probes (PM2, a local monitor: straight from an address of
  //    GERBANG_METRICS_ALLOWED_CIDRS, loopback by default, not through the proxy) come before the
  //    audit and the limits: they poll every few seconds, carry no payment data, and a liveness
  //    answer must not wait for the store. Only they see /readyz's mode and checks.
  app.use(probes(true, [(req, _res, next) => next(directFrom(operatorProbes, req) ? undefined : 'route')]));
  // 3. Audit next, so every exchange, including every rejection below, gets its record.
  app.use(auditStep({ repository: store.audit, clock }));
  // 4. Security headers on every answer, refusals included.
  app.use(securityHeadersStep());
  // 4'. Probes from anyone else (a load balancer, the internet): counted against the per-IP limit
  //     and audited, told ready or not and nothing more; before the store hold, which /readyz reports.
  app.use(probes(false, [perIp]));
  // 4a. A database rolled back behind its audit checkpoints serves nothing (recorded by the audit above).
  app.use(storeHeldStep({ held }));
  // 5. Global IP and Origin allowlists: the cheapest refusal, before any body is read. What it
  //    refuses (and a request that waits for a read of the clients' origins) it counts against the
  //    per-IP limit first, so made-up origins from one address end in 429 and cost no more reads.
  app.use(globalCallerGuardStep({ allowedOrigins: config.allowedOrigins, allowedCidrs: config.allowedCidrs, clientOrigins: clientOriginsCache(store.clients, config.cacheStalenessMs, deps.elapsed), perAddressLimit: perIp }));
  // 6. Per-IP rate limit before parsing or hashing anything, to blunt floods cheaply (a request
  //    the guard counted already is not counted again).
  app.use(perIp);

  // 7. The API documents and reference page: public knowledge, so no token (import tools fetch
  //    them anonymously), but only for allowed callers and after the per-IP limit.
  app.use(docsRoutes(routeList(routes), { publicUrl: config.publicUrl }));

  // The token endpoint: a stricter per-IP limit (brute-force target), then its body (JSON or form).
  app.use(
    tokenRoutes(
      routes,
      { clients: store.clients, lockouts: store.lockouts, tokens: deps.tokens, lockout: config.lockout, clock },
      [
        rateLimitStep({ repository: store.rateLimits, clock, windowMs: limits.windowMs, limit: limits.tokenPerIp, name: 'token-ip', stores: deps.rateLimitStores }),
        ...bodyParserStep({ limitBytes: config.bodyLimitBytes, allowForm: true }),
      ],
    ),
  );

  // The banks' signed notifications (RTGS/SKN final outcomes): no ERP token, the bank's RSA
  // signature is checked by the use case; after the global allowlists and per-IP limit above.
  app.use(
    bankNotificationRoutes(
      { payments: store.payments, notifications: store.bankNotifications, router: deps.router, clock, finals: deps.callbacks.finals, toleranceMs: 300_000 },
      bodyParserStep({ limitBytes: config.bodyLimitBytes }),
    ),
  );

  // Authenticated routes: token and client allowlists, then the per-client limit, then the
  // body (parsed only for a caller we know), then the request signature of a client that must
  // sign (it covers the raw body, so it comes after the parser that keeps it), then each route
  // validates and runs its use case.
  // Client rows and account grants as fresh as GERBANG_CACHE_STALENESS_MS promises, for every route.
  const recent = new RecentClients(store, config.cacheStalenessMs, deps.elapsed);
  const authenticatedCaller = [
    authenticateStep({
      tokens: deps.tokens,
      clients: recent,
      clientCredentials: store.clientCredentials,
      apiKeys: new ApiKeys(store.clientCredentials),
      entra: config.entra ? new EntraTokens(config.entra, clock) : null,
    }),
    rateLimitStep({ repository: store.rateLimits, clock, windowMs: limits.windowMs, limit: limits.perClient, name: 'client', by: 'client', syncMs: limits.syncMs, stores: deps.rateLimitStores, maxWindows: limits.localWindows }),
  ];
  const signed = requestSignatureStep({ keys: config.auditKeys, replays: store.requestSignatures, clock });
  const authenticated = [...authenticatedCaller, ...bodyParserStep({ limitBytes: config.bodyLimitBytes }), signed];
  app.use(
    transferRoutes(
      routes,
      { payments: store.payments, sequences: deps.bankIds, accountGrants: recent, router: deps.router, clock, sendingStaleMs: config.resolver.sendingStaleMs, finals: deps.callbacks.finals, checkpoints, vouched, proofLinks: config.takeoverProofLinks, recentProofs: new RecentProofs(), newPaymentCheck: deps.newPaymentCheck },
      authenticated,
    ),
  );
  app.use(callbackRoutes(routes, deps.callbacks.signer, authenticated));
  app.use(accountRoutes(routes, { router: deps.router, accountGrants: recent, clock }, authenticated));
  // A payment run is the one body allowed to be larger (up to GERBANG_BATCH_MAX_LINES lines).
  app.use(
    batchRoutes(
      routes,
      { batches: store.batches, payments: store.payments, clock, wake: deps.wakeBatches ?? (() => undefined) },
      [...authenticatedCaller, ...bodyParserStep({ limitBytes: config.batch.bodyLimitBytes }), signed],
      authenticated,
    ),
  );

  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}
