import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { ConsoleConfig } from '../config/index.js';
import { ChainGuard, RollbackWatch, vouchingOptions } from '../audit/index.js';
import { expiredPurgeTask } from '../domain/expired-purge.js';
import type { RequeueDeps } from '../domain/callbacks/index.js';
import { listenOn } from '../http/listen.js';
import { getLogger } from '../log/index.js';
import { migrate, openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { BankLatencyDays } from './bank-latency-days.js';
import { buildConsoleApp } from './console-app.js';
import { OVERVIEW_DAYS } from './routes/overview-routes.js';
import { apiStatementReader, NO_STATEMENTS, type StatementReader } from './statement-reader.js';
import { warmReconciliation } from './reconciliation-warm-up.js';
import { startSealSweep } from './seal-sweep.js';

const log = getLogger('console');

export interface ConsoleServer {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

export interface StartConsoleOptions {
  clock?: () => number;
  /** Share the API's store instead of opening one (the sandbox runs both in one process). */
  store?: Store;
  /** Reads statements for the reconciliation page; default: through the API of GERBANG_CONSOLE_API_*, if set. */
  statements?: StatementReader;
  /** Seal the reconciliation's closed days in the background (seal-sweep.ts); default true. */
  sealSweep?: boolean;
}

/**
 * Starts the finance console on its own port (HTTPS when a certificate is configured): store
 * (migrated when configured), the reconciliation warmed on a sealed day (reconciliation-warm-up.ts),
 * app, server, a sweep of idle sessions every minute, the purge of ended sign-in counters and
 * rate-limit windows (expired-purge.ts), and the sweep sealing the reconciliation's closed days
 * (seal-sweep.ts).
 */
export async function startConsole(config: ConsoleConfig, options: StartConsoleOptions = {}): Promise<ConsoleServer> {
  const clock = options.clock ?? Date.now;
  const ownStore = options.store === undefined;
  // Its chains (admin changes, who viewed or exported what) checkpointed outside the database: a
  // change of who may do what at once, the rest every minute and when it stops.
  const { checkpoint, vouch } = vouchingOptions(config.auditCheckpointFile, config.auditKeys, `console ${process.pid}`, clock);
  const store = options.store ?? (await openStore(config.databaseUrl, { auditKeys: config.auditKeys, checkpoint, vouch }));
  try {
    const statements = options.statements ?? (config.api ? apiStatementReader(config.api, clock) : NO_STATEMENTS);
    if (ownStore && config.migrateOnStart) await migrate(store.db, { keys: config.auditKeys, checkpoint });
    // Asked before a day is sealed (by a reading or the sweep) or a notification queued again (#16, #14).
    const guard = new ChainGuard(store.audit, config.auditKeys, config.auditCheckpointFile, store.db.description);
    const chains: RequeueDeps['chains'] = () => guard.vouchedProblem();
    store.paymentSearch.guardSeals(() => {
      const vouched = guard.vouched();
      return (since, maxLinks, q) => vouched(since, maxLinks, store.audit.readingOn(q));
    });
    // Before listening, side by side (one waits on MariaDB while the other works): the overview's
    // bank response times of closed days, grouped once, and the reconciliation's code, connections
    // and heap readied on a sealed day (reconciliation-warm-up.ts). A failure of either is logged:
    // the first opening then pays it.
    const latencyDays = new BankLatencyDays(store.paymentSearch);
    const warming = Date.now();
    await Promise.all([
      latencyDays.warm(clock(), Math.max(...OVERVIEW_DAYS)).catch((error: unknown) => log.warn({ err: error }, 'bank response times of closed days not grouped at start; the first overview groups them')),
      warmReconciliation(store.paymentSearch, clock())
        .then((warmed) => log.info({ ...warmed, ms: Date.now() - warming }, warmed === null ? 'reconciliation not warmed: no day sealed yet' : 'reconciliation warmed on a sealed day'))
        .catch((error: unknown) => log.warn({ err: error }, 'reconciliation not warmed at start; the first opening pays its warm-up')),
    ]);
    // The overview's verification box compared with the checkpoints outside the database (as the
    // gateway's watch compares them), at most once per GERBANG_AUDIT_ROLLBACK_CHECK_MS of openings.
    const watch = new RollbackWatch(store.audit, config.auditKeys, config.auditCheckpointFile, store.db.description, undefined, "the overview's audit chain verification");
    const checkpoints = () => watch.recent(config.auditRollbackCheckMs);
    const app = buildConsoleApp({ store, keys: config.auditKeys, checkpoints, chains, idleTimeoutMs: config.idleTimeoutMs, lockout: config.lockout, signInThrottle: config.signInThrottle, trustProxy: config.trustProxy, sandbox: config.sandbox, statements, dayCloseWib: config.dayCloseWib, latencyDays, clock });
    const server: Server = config.tls
      ? createHttpsServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, app)
      : createHttpServer(app);
    server.headersTimeout = 20_000;
    server.requestTimeout = 120_000;
    await listenOn(server, config.port, config.host, 'CONSOLE_PORT');
    const sweep = setInterval(() => {
      store.consoleSessions.purgeIdle(clock() - config.idleTimeoutMs).catch((error: unknown) => log.warn({ err: error }, 'idle session sweep failed'));
      if (ownStore) checkpoint(store.db.description, store.audit.ownHeads());
    }, 60_000);
    sweep.unref();
    // Its sign-in counters (and every other ended counter) purged as the gateway purges them; a
    // console sharing the gateway's store (the sandbox) leaves it to the gateway.
    const purge = ownStore ? expiredPurgeTask(store, clock) : null;
    purge?.start();
    purge?.wake();
    const sealing = options.sealSweep === false ? null : startSealSweep(store.paymentSearch, clock);
    const port = (server.address() as AddressInfo).port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `${config.tls ? 'https' : 'http'}://${host}:${port}/console`;
    log.info({ url, store: store.db.description }, 'finance console listening');
    return {
      url,
      port,
      store,
      close: async () => {
        clearInterval(sweep);
        await purge?.stop();
        await sealing?.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
        await closed;
        clearTimeout(timer);
        if (ownStore) await store.close();
      },
    };
  } catch (error) {
    if (ownStore) await store.close().catch(() => undefined);
    throw error;
  }
}
