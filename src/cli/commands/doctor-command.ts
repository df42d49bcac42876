import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, loadStoreConfig, type Config } from '../../config/index.js';
import { probeSourceAddress } from '../../egress/index.js';
import { startBankPartners } from '../../gateway/bank-partners.js';
import { pingPartners } from '../../gateway/bank-ping.js';
import { unopenableSigningKeys } from '../../domain/clients/index.js';
import { clusterSchedulingOf, pm2DaemonPid, pm2Home, pm2SchedulingProblem } from '../../host/index.js';
import { AccessTokens } from '../../pipeline/auth/index.js';
import { checkKeys, probeKeyRing } from '../../security/index.js';
import { describeDatabaseUrl, describeStoreFailure, migrate, openStore, pendingMigrations } from '../../store/index.js';
import type { Store } from '../../store/types.js';
import type { CliIo } from '../cli-io.js';


interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Runs one check; a throw is its failure, with the error's message as the detail. */
async function check(results: CheckResult[], name: string, run: () => Promise<string>): Promise<boolean> {
  try {
    results.push({ name, ok: true, detail: await run() });
    return true;
  } catch (error) {
    const detail = error instanceof ConfigError ? error.problems.join('\n    ') : (error as Error).message || String(error);
    results.push({ name, ok: false, detail });
    return false;
  }
}

/**
 * `gerbang doctor`: one report on an installation, from the same environment `serve` reads.
 * Checks run in order and each names what it found; one that cannot run because an earlier one
 * failed says so. Nothing is changed except that a fetched bank token is cached, as the API
 * itself would. No secret is printed.
 */
export async function doctorCommand(_args: string[], io: CliIo): Promise<number> {
  const results: CheckResult[] = [];
  let config: Config | undefined;
  await check(results, 'configuration', async () => {
    // A sandbox signs its tokens with a key generated at each start, which nobody else knows:
    // check the token machinery with a throwaway one.
    const sandboxJwt = io.env.GERBANG_SANDBOX === 'true' && !io.env.GERBANG_JWT_SECRET ? { GERBANG_JWT_SECRET: randomBytes(32).toString('hex') } : {};
    config = loadConfig(io.env, sandboxJwt);
    return config.bank.mode === 'live'
      ? `valid; live bank partner(s) ${config.bank.partners.map((p) => p.partner).join(', ')}`
      : 'valid; SANDBOX MODE (GERBANG_SANDBOX=true): the built-in simulator plays the bank, no bank is contacted and NO MONEY MOVES';
  });

  let store: Store | undefined;
  let migrated = false;
  try {
    await check(results, 'store', async () => {
      // With an invalid configuration, still try the store when its own setting is valid.
      const { databaseUrl } = config ?? loadStoreConfig(io.env);
      const opened = await openStore(databaseUrl, { auditKeys: config?.auditKeys ?? null });
      try {
        await opened.db.ping();
      } catch (error) {
        await opened.close().catch(() => undefined);
        throw new Error(describeStoreFailure(databaseUrl, error));
      }
      store = opened;
      return `${describeDatabaseUrl(databaseUrl)} answers`;
    });
    if (store) {
      const db = store.db;
      await check(results, 'migrations', async () => {
        const pending = await pendingMigrations(db);
        migrated = pending.length === 0;
        if (migrated) return 'all applied';
        if (config?.migrateOnStart) return `pending ${pending.join(', ')}; applied when the API starts (GERBANG_MIGRATE_ON_START=true)`;
        throw new Error(`pending ${pending.join(', ')}: run \`gerbang migrate\``);
      });
    } else skipped(results, 'migrations', 'the store is not reachable');

    if (config) {
      const cfg = config;
      await check(results, 'keys', async () => {
        const ring = cfg.auditKeys;
        const keys = checkKeys(new AccessTokens(cfg.jwt), () => probeKeyRing(ring));
        return `${keys} (GERBANG_JWT_SECRET with ${cfg.jwt.previousSecrets.length} previous secret(s); ${ring.keyIds.length} audit key(s))`;
      });
      if (store && migrated) {
        const clients = store.clients;
        await check(results, 'signing keys', async () => {
          const required = (await clients.list()).filter((client) => client.signing.sealedKey !== null).length;
          const problems = await unopenableSigningKeys(clients, cfg.auditKeys);
          if (problems.length > 0) throw new Error(problems.map((p) => `client ${p.clientId}: ${p.problem}; its requests fail until that key is listed again in GERBANG_AUDIT_KEYS (older than the newest; then gerbang keys rotate moves the client to the newest key)`).join('\n    '));
          return `${required} client request-signing key(s) open with the audit keys`;
        });
      }
      // The store's shared token cache once its tables exist; until then (or with the store
      // down) a throwaway embedded store, so the bank is still checked.
      let scratch: Store | undefined;
      if (!store || !migrated) {
        scratch = await openStore('sqlite::memory:');
        await migrate(scratch.db);
      }
      try {
        await checkBanks(results, cfg, scratch ?? store!);
      } finally {
        await scratch?.close();
      }
    } else {
      for (const name of ['keys', 'bank']) skipped(results, name, 'the configuration is invalid');
    }
  } finally {
    await store?.close().catch(() => undefined);
  }
  await check(results, 'pm2 daemon', async () => pm2DaemonReport(io.env));

  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) io.out(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.detail}`);
  const failed = results.filter((r) => !r.ok).map((r) => r.name);
  if (failed.length === 0) {
    io.out('doctor: every check passed');
    return 0;
  }
  io.err(`doctor: ${failed.length} check(s) failed: ${failed.join(', ')}`);
  return 1;
}

/** For each bank partner: a fresh token (the same ping as `gerbang bank ping`), then the source address of its calls. */
async function checkBanks(results: CheckResult[], config: Config, store: Pick<Store, 'bankTokens' | 'sequences'>): Promise<void> {
  let banks: Awaited<ReturnType<typeof startBankPartners>> | undefined;
  const started = await check(results, 'bank', async () => {
    banks = await startBankPartners(config, store, Date.now);
    return `${banks.router.all().length} partner(s) configured`;
  });
  if (!started || !banks) return skipped(results, 'source address', 'no bank partner could be set up');
  try {
    for (const report of await pingPartners(banks.router)) {
      await check(results, `bank ${report.partner} token`, async () => {
        if (!report.ok) throw new Error(report.error ?? 'no token');
        return `the bank issued a token in ${report.durationMs} ms (${report.url})`;
      });
    }
    const origins = config.bank.mode === 'live' ? config.bank.partners.map((p) => ({ name: p.partner, baseUrl: p.baseUrl })) : [{ name: 'bca', baseUrl: banks.simulator!.url }];
    for (const { name, baseUrl } of origins) {
      await check(results, `source address ${name}`, async () => {
        const probe = await probeSourceAddress({ baseUrl, localAddress: config.egress.localAddress, proxyUrl: config.egress.proxyUrl, timeoutMs: config.egress.connectTimeoutMs });
        const bound = config.egress.localAddress ? ' (bound by GERBANG_EGRESS_LOCAL_ADDRESS)' : ' (chosen by the OS route; set GERBANG_EGRESS_LOCAL_ADDRESS to pin it)';
        return probe.via === 'proxy'
          ? `${probe.localAddress} to the egress proxy ${probe.peer}; the bank sees the proxy's address`
          : `${probe.localAddress} to ${probe.peer}${bound}: the address the bank must whitelist`;
      });
    }
  } finally {
    await banks.close().catch(() => undefined);
  }
}

/**
 * How the PM2 daemon of this user (PM2_HOME, else ~/.pm2) shares the API port with its workers.
 * Throws naming the remedy when it hands connections off (NODE_CLUSTER_SCHED_POLICY not `none`),
 * or when its environment cannot be read (doctor run as another user than PM2's).
 */
function pm2DaemonReport(env: CliIo['env']): string {
  const home = pm2Home(env);
  const pid = pm2DaemonPid(env);
  if (pid === null) return `no PM2 daemon running for ${home} (PM2_HOME, else ~/.pm2)`;
  const scheduling = clusterSchedulingOf(pid);
  const problem = pm2SchedulingProblem(pid, scheduling);
  if (problem) throw new Error(problem);
  if (scheduling === null) throw new Error(`PM2's daemon (pid ${pid}, ${home}) runs, but its environment (/proc/${pid}/environ) cannot be read to check NODE_CLUSTER_SCHED_POLICY: run doctor as the user PM2 runs as`);
  return `PM2's daemon (pid ${pid}, ${home}) runs with NODE_CLUSTER_SCHED_POLICY=none: its workers accept connections themselves`;
}

function skipped(results: CheckResult[], name: string, reason: string): void {
  results.push({ name, ok: false, detail: `not checked: ${reason}` });
}
