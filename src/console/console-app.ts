import type { RequeueDeps } from '../domain/callbacks/index.js';
import express, { type ErrorRequestHandler, type Express } from 'express';
import helmet from 'helmet';
import { dirname, join } from 'node:path';
import { isAppError } from '../errors/index.js';
import { getLogger } from '../log/index.js';
import { requestIdStep } from '../pipeline/request-id/index.js';
import { answerProblem, databaseChains, packageRoot } from '../store/index.js';
import type { Store } from '../store/types.js';
import { consoleLocals } from './console-locals.js';
import { BASE, csrfStep, LANG_COOKIE, languageStep, requireRole, sessionStep } from './console-sessions.js';
import { adminRoutes } from './routes/admin-routes.js';
import { overviewRoutes } from './routes/overview-routes.js';
import { BankLatencyDays } from './bank-latency-days.js';
import { paymentRoutes } from './routes/payment-routes.js';
import { runRoutes } from './routes/run-routes.js';
import { accessLogRoutes } from './routes/access-log-routes.js';
import { messagePage } from './views/message-page.js';
import { reviewRoutes } from './routes/review-routes.js';
import { reconciliationRoutes } from './routes/reconciliation-routes.js';
import type { KeyRing } from '../security/index.js';
import { NO_STATEMENTS, type StatementReader } from './statement-reader.js';
import { signInRoutes, signOutRoute } from './routes/sign-in-routes.js';
import type { SignInThrottle } from './sign-in-use-case.js';

const log = getLogger('console');

export interface ConsoleAppDeps {
  store: Store;
  /** The store's audit key ring: acceptances of reconciliation days are found by their keyed account tags (day-acceptances.ts). */
  keys: KeyRing;
  /** Why the database holds less than the audit checkpoints outside it vouched for, or null (RollbackWatch.recent): the overview then shows no verification as intact. */
  checkpoints: () => Promise<string | null>;
  /**
   * Why the keyed audit chains do not hold as a whole for records made from `since` on, or null
   * (src/audit's ChainGuard: the database and the checkpoints outside it): asked before a
   * notification is queued again, as the store's seals ask it (guardSeals). Default: the database
   * alone (databaseChains, as the store's own default). Asked before the requeue's snapshot begins, walked on `audit`, that snapshot (RequeueDeps.chains).
   */
  chains?: RequeueDeps['chains'];
  idleTimeoutMs: number;
  lockout: { maxFailures: number; windowMs: number; lockMs: number };
  signInThrottle: SignInThrottle;
  trustProxy: string[];
  /** GERBANG_SANDBOX=true: a banner on every page says the payments are the simulator's. */
  sandbox?: boolean;
  /** Reads company account statements for the reconciliation page and the review's cross-check (through Gerbang's API). */
  statements?: StatementReader;
  /** GERBANG_BANK_DAY_CLOSE_WIB: after it, a statement without a transfer's debit proves it was not executed. */
  dayCloseWib: string;
  /** The closed days' bank response times this process keeps (the overview); default: none kept yet. */
  latencyDays?: BankLatencyDays;
  clock?: () => number;
}

/** The folder of Chart.js's browser build, served as is: no asset comes from the internet. */
function chartJsFolder(): string {
  return dirname(require.resolve('chart.js'));
}

/**
 * Builds the finance console (no listening: see console-server.ts). Its own process and port:
 * the public API never mounts any of this. Order, with reasons:
 */
export function buildConsoleApp(deps: ConsoleAppDeps): Express {
  const { store } = deps;
  const clock = deps.clock ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  // Only configured proxies may say the request came over TLS or from another address.
  app.set('trust proxy', deps.trustProxy.length > 0 ? deps.trustProxy : false);

  // 1. Request id: every log line of the request carries it.
  app.use(requestIdStep());
  // 2. Security headers: a strict CSP (no inline script or style, nothing from another origin),
  //    no framing, and no caching of pages that show payments.
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  // 3. Language before any page is drawn, the sign-in page included.
  app.use(languageStep());
  app.use((_req, res, next) => {
    consoleLocals(res).sandbox = deps.sandbox === true;
    next();
  });

  // 4. Public: static assets (our CSS and script, Chart.js from node_modules), the language
  //    switch and the sign-in form.
  app.use(`${BASE}/assets`, express.static(join(packageRoot(), 'src', 'console', 'assets'), { index: false, fallthrough: true }));
  app.get(`${BASE}/assets/chart.umd.min.js`, (_req, res) => res.sendFile(join(chartJsFolder(), 'chart.umd.min.js')));
  app.get(['/', BASE, `${BASE}/`], (_req, res) => res.redirect(303, `${BASE}/payments`));
  app.get(`${BASE}/lang`, (req, res) => {
    const to = req.query.to === 'en' ? 'en' : 'id';
    const back = typeof req.query.back === 'string' && /^\/console(\/|$|\?)/.test(req.query.back) ? req.query.back : `${BASE}/payments`;
    res.cookie(LANG_COOKIE, to, { path: BASE, sameSite: 'strict', httpOnly: true, secure: req.secure, maxAge: 365 * 86_400_000 });
    res.redirect(303, back);
  });
  const signInDeps = {
    users: store.consoleUsers,
    lockouts: store.lockouts,
    attempts: store.rateLimits,
    audit: store.consoleAudit,
    sessions: store.consoleSessions,
    lockout: deps.lockout,
    throttle: deps.signInThrottle,
    clock,
  };
  app.use(signInRoutes(signInDeps));

  // 5. Everything else needs a live session, and any form post its CSRF token.
  app.use(BASE, sessionStep({ sessions: store.consoleSessions, users: store.consoleUsers, idleTimeoutMs: deps.idleTimeoutMs, clock }));
  app.use(BASE, express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }), csrfStep());

  // 6. The pages: every role reads payments and the overview; only admins administer.
  app.use(signOutRoute(signInDeps));
  app.use(paymentRoutes({ store, clock, chains: deps.chains ?? (() => async (since, audit) => answerProblem(await databaseChains(audit, since))) }));
  app.use(runRoutes({ store, clock }));
  app.use(accessLogRoutes({ store }));
  app.use(overviewRoutes({ store, clock, checkpoints: deps.checkpoints, latencyDays: deps.latencyDays ?? new BankLatencyDays(store.paymentSearch) }));
  // The review queue: every role sees it; resolving is admin-only (checked on its POST route).
  app.use(reviewRoutes({ store, statements: deps.statements ?? NO_STATEMENTS, dayCloseWib: deps.dayCloseWib, clock }));
  // Reconciliation: every role compares the bank's statement with Gerbang's payments.
  app.use(reconciliationRoutes({ store, keys: deps.keys, statements: deps.statements ?? NO_STATEMENTS, clock }));
  app.use(`${BASE}/admin`, requireRole('admin'));
  app.use(adminRoutes({ store, clock }));

  app.use((req, res) => {
    const { t, lang, user, session, sandbox } = consoleLocals(res);
    res.status(404).type('html').send(messagePage({ t, lang, user, sandbox, here: req.originalUrl, csrfToken: session?.csrfToken }, t('pageNotFound'), t('notFound')));
  });
  app.use(consoleErrorHandler());
  return app;
}

/** Errors never show internals: a short text with the request id, the details in the log. */
function consoleErrorHandler(): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const status = isAppError(error) ? error.status : typeof (error as { status?: number }).status === 'number' ? (error as { status: number }).status : 500;
    if (status >= 500) log.error({ ...res.locals.requestContext, err: error }, 'console request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message = status >= 500 ? 'Terjadi kesalahan / An error occurred' : 'Permintaan tidak valid / Invalid request';
    res.status(status).type('text/plain').send(`${message}. Request id: ${res.locals.requestId}`);
  };
}
