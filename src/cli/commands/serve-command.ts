import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { forgetEarlierDatabase } from '../../audit/index.js';
import { describeUnknownSettings, loadConfig, loadConsoleConfig, loadStoreConfig, unknownSettings, type Config } from '../../config/index.js';
import { apiStatementReader, startConsole } from '../../console/index.js';
import { hashSecret } from '../../security/index.js';
import { parseDatabaseUrl } from '../../store/index.js';
import type { Store } from '../../store/types.js';
import { startGateway } from '../../gateway/index.js';
import { pm2SchedulingProblem } from '../../host/index.js';
import { configureLogger, getLogger, isPm2ClusterWorker } from '../../log/index.js';
import { createClient } from './client-command.js';
import type { CliIo } from '../cli-io.js';
import { sandboxKeyFile, writeSandboxNote } from '../sandbox-settings.js';

/**
 * Runs until SIGTERM/SIGINT, then drains: stop accepting, finish in-flight requests (up to
 * GERBANG_SHUTDOWN_TIMEOUT_MS), close pools, exit 0. Under PM2 it signals `ready` once
 * listening, so `pm2 reload` (wait_ready) only kills an old worker after its successor serves.
 */
export async function runUntilSignalled(...services: { close(): Promise<void> }[]): Promise<number> {
  const log = getLogger('process');
  process.send?.('ready');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
    // PM2 on Windows-like setups and `pm2 reload` may also send a shutdown message.
    process.on('message', (message) => {
      if (message === 'shutdown') resolve('SIGTERM');
    });
  });
  log.info({ signal }, 'shutting down: draining in-flight requests');
  for (const service of services) await service.close();
  log.info('stopped');
  // Under PM2 the IPC channel would keep the process alive until PM2's kill timeout.
  if (process.connected) process.disconnect();
  return 0;
}

/**
 * `gerbang serve`: the production entry point (PM2 runs this in cluster mode). Refuses to start
 * without a bank partner (ConfigError naming the settings) unless GERBANG_SANDBOX=true.
 */
export async function serveCommand(_args: string[], io: CliIo): Promise<number> {
  warnUnknownSettings(io);
  const config = loadConfig(io.env);
  configureLogger(config.logLevel);
  // A PM2 cluster worker's parent is PM2's daemon. ecosystem.config.js refuses one that hands
  // connections off, but a daemon started another way (`pm2 resurrect` at boot) is only seen here.
  // A worker of another cluster primary (not PM2) is not PM2's to judge: its primary may set the
  // policy in code, which /proc does not show.
  const scheduling = isPm2ClusterWorker() ? pm2SchedulingProblem(process.ppid) : null;
  if (scheduling) getLogger('process').warn(scheduling);
  const gateway = await startGateway(config);
  return runUntilSignalled(gateway);
}

/**
 * Names each GERBANG_* variable nobody reads, on stderr before the configuration is checked: a
 * typo leaves its setting at the default (or, for a bank variable, no bank configured at all).
 */
export function warnUnknownSettings(io: CliIo): void {
  for (const line of describeUnknownSettings(unknownSettings(io.env))) io.err(`gerbang: warning: ${line}`);
}

/**
 * `gerbang sandbox` (what `npm start` runs): zero configuration. Embedded store, the built-in
 * bank simulator (GERBANG_SANDBOX=true), a generated token-signing key, and a demo client whose
 * credentials are printed with a curl walk-through.
 */
export async function sandboxCommand(_args: string[], io: CliIo): Promise<number> {
  warnUnknownSettings(io);
  const overrides: Record<string, string> = { GERBANG_SANDBOX: 'true' };
  if (!io.env.GERBANG_JWT_SECRET) overrides.GERBANG_JWT_SECRET = randomBytes(48).toString('base64url');
  const ownKeys = !io.env.GERBANG_AUDIT_KEYS && !io.env.GERBANG_AUDIT_KEY_FILES;
  const { databaseUrl } = loadStoreConfig(io.env);
  const keyFile = ownKeys ? sandboxKeyFile(databaseUrl) : null;
  if (keyFile) overrides.GERBANG_AUDIT_KEY_FILES = keyFile.path;
  const config: Config = loadConfig(io.env, overrides);
  configureLogger(config.logLevel);
  if (keyFile) {
    getLogger('process').info(
      { keyFile: keyFile.path, keyId: config.auditKeys.currentKeyId },
      keyFile.created ? 'sandbox: generated an audit encryption key file (mode 0600)' : 'sandbox: using the audit encryption key file',
    );
  }
  const consoleConfig = loadConsoleConfig(io.env, overrides);
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    // A sandbox reset by deleting its database: the checkpoints of the one deleted are let go (a live gateway would hold).
    const forgotten = forgetEarlierDatabase(config.auditCheckpointFile, config.auditKeys, `sqlite:${target.path}`, 'sandbox started on a new database file');
    if (forgotten > 0) getLogger('process').warn({ checkpointFile: config.auditCheckpointFile, chains: forgotten }, 'sandbox: a new database file; the audit checkpoints of the earlier one are let go');
  }
  const gateway = await startGateway(config);
  let financeConsole: Awaited<ReturnType<typeof startConsole>>;
  let client: Awaited<ReturnType<typeof createClient>>['client'];
  let clientSecret: string;
  const password = randomBytes(12).toString('base64url');
  try {
    writeSandboxNote(databaseUrl, keyFile?.path ?? null);
    ({ client, clientSecret } = await createClient(
      gateway.store,
      { name: `sandbox-demo-${new Date().toISOString().slice(0, 19)}`, origins: [], cidrs: ['127.0.0.1/32', '::1/128'] },
      Date.now(),
    ));
    // The demo client may use the simulated bank's accounts (a client uses only the accounts granted to it).
    for (const account of new Set(gateway.banks.router.all().flatMap((partner) => partner.accounts))) await gateway.store.accountGrants.grant(client.id, account, Date.now());
    // The finance console runs beside it on CONSOLE_PORT, on the same store, with an admin to sign in as.
    // Its reconciliation page reads statements through the API as the demo client.
    const statements = consoleConfig.api ? undefined : apiStatementReader({ url: gateway.url, clientId: client.id, clientSecret });
    financeConsole = await startConsole(consoleConfig, { store: gateway.store, statements });
    await sandboxConsoleUser(gateway.store, 'finance', password);
  } catch (error) {
    // A busy CONSOLE_PORT must not leave the API half-started: stop it, then say why.
    await gateway.close().catch(() => undefined);
    throw error;
  }
  io.out(sandboxBanner(gateway.url, client.id, clientSecret, gateway.banks.simulator?.url ?? ''));
  io.out(consoleBanner(financeConsole.url, 'finance', password));
  // The console first: it shares the gateway's store, which the gateway closes.
  return runUntilSignalled(financeConsole, gateway);
}

/** The sandbox's console admin, with a fresh password on every start. */
async function sandboxConsoleUser(store: Store, username: string, password: string): Promise<void> {
  const passwordHash = await hashSecret(password);
  const existing = await store.consoleUsers.findByUsername(username);
  if (existing) await store.consoleUsers.update(existing.id, { passwordHash, status: 'active', role: 'admin' }, Date.now());
  else await store.consoleUsers.create({ username, passwordHash, role: 'admin' }, Date.now());
}

function consoleBanner(url: string, username: string, password: string): string {
  return ` Finance console: ${url}
   Sign in as ${username} / ${password} (admin; \`gerbang user create\` adds more users).
================================================================================
`;
}

function sandboxBanner(url: string, clientId: string, clientSecret: string, simulatorUrl: string): string {
  return `
================================================================================
 Gerbang is running in SANDBOX MODE — payments go to the built-in BCA simulator;
 no real bank is contacted and no money moves.

   API:        ${url}
   Simulator:  ${simulatorUrl}
   Demo client (allowed from 127.0.0.1 and ::1):
     client_id:     ${clientId}
     client_secret: ${clientSecret}

 Try it:
   TOKEN=$(curl -s ${url}/v1/auth/token -H 'Content-Type: application/json' \\
     -d '{"client_id":"${clientId}","client_secret":"${clientSecret}"}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
   curl -s ${url}/v1/transfers -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
     -d '{"transactionId":"INV-0001","sourceAccountNumber":"0201245680","beneficiaryBankCode":"014","beneficiaryAccountNumber":"0201245681","amount":"100000.00","currency":"IDR","remark":"Invoice 0001"}'

 Stop with Ctrl+C.
================================================================================
`;
}
