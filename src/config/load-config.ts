import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { KeyRing, KeyRingError, keyRingFrom, readableByOthers } from '../security/index.js';
import { accountOwnershipProblems, readPartnersFile, type PartnerConfig } from './partners.js';
import { invalidCidrs } from '../security/index.js';
import { BANK_CALLS_PER_SEND, BCA_SETTINGS, SECRET_ENV_NAMES, SETTINGS, type SettingName, type SettingSpec } from './schema.js';

export interface TransferLimits {
  bifastMaxCents: number;
  onlineMaxCents: number;
  sknMaxCents: number;
  rtgsMinCents: number;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  migrateOnStart: boolean;
  auditSpoolDir: string;
  auditCheckpointFile: string;
  /** How often the gateway compares the database with the checkpoint file (GERBANG_AUDIT_ROLLBACK_CHECK_MS). */
  auditRollbackCheckMs: number;
  /** The background scrub of every audit chain: a pass every `intervalMs` (0: off), at most `linksPerPass` links each (GERBANG_AUDIT_SCRUB_*). */
  auditScrub: { intervalMs: number; linksPerPass: number };
  callback: { keyFile: string; intervalMs: number; retryBaseMs: number };
  jwt: { secret: string; previousSecrets: string[]; issuer: string; audience: string; ttlSeconds: number };
  /** Where callers reach the API (documents name it); undefined: not said. */
  publicUrl?: string;
  /** The Entra ID tenant whose access tokens are accepted (GERBANG_ENTRA_*); null: none. */
  entra: { metadataUrl: string; audiences: string[]; keysCooldownMs: number } | null;
  /** Encrypts the audit's bodies and headers at rest (GERBANG_AUDIT_KEYS / GERBANG_AUDIT_KEY_FILES). */
  auditKeys: KeyRing;
  /** Native HTTPS for the public API; null: plain HTTP (TLS terminated by a proxy). */
  tls: { certFile: string; keyFile: string; reloadIntervalMs: number } | null;
  trustProxy: string[];
  allowedOrigins: string[];
  allowedCidrs: string[];
  bodyLimitBytes: number;
  batch: { maxLines: number; bodyLimitBytes: number; concurrency: number; intervalMs: number };
  rateLimit: { windowMs: number; perIp: number; perClient: number; tokenPerIp: number; syncMs: number; localWindows: number };
  /** Token requests: `maxFailures` per address and per client and address, `clientMaxFailures` per client from all addresses. */
  lockout: { maxFailures: number; windowMs: number; lockMs: number; clientMaxFailures: number };
  /** `sandbox`: GERBANG_SANDBOX=true, the built-in simulator plays BCA and no money moves. */
  bank: { mode: 'sandbox' } | { mode: 'live'; partners: PartnerConfig[] };
  /** Automatic choice of the interbank method by amount, in cents (see GERBANG_*_AMOUNT). */
  transferLimits: TransferLimits;
  egress: {
    localAddress?: string;
    proxyUrl?: string;
    caFile?: string;
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    bodyTimeoutMs: number;
    /** Derived: connect + headers + body timeouts, the longest one bank call can take. */
    longestCallMs: number;
  };
  breaker: { failureThreshold: number; cooldownMs: number };
  resolver: {
    intervalMs: number;
    /** HH:mm (WIB) on the day after the transaction date by which the bank has booked its debits. */
    dayCloseWib: string;
    /** Unresolved this long after it was received: into the review queue. */
    reviewAfterMs: number;
    /** Derived: the longest a send through one route can take (BANK_CALLS_PER_SEND bank calls); a transfer SENDING for longer was interrupted. */
    sendingStaleMs: number;
  };
  /** The most audit links the proof of a reservation left behind may read (GERBANG_TAKEOVER_PROOF_LINKS). */
  takeoverProofLinks: number;
  shutdownTimeoutMs: number;
  /** How long a client row or bank token read from the store is reused in-process (GERBANG_CACHE_STALENESS_MS). */
  cacheStalenessMs: number;
  /** A new payment's account and details sealed in its INSERT (GERBANG_SEAL_PAYMENTS_AT_INSERT). */
  sealPaymentsAtInsert: boolean;
  /** API processes on this node: GERBANG_API_INSTANCES under PM2 (NODE_APP_INSTANCE set), else 1. */
  workers: number;
  /**
   * The /metrics listener; `port` null when turned off. `peersDir`: the folder of the sockets
   * through which the processes sharing the port hand over their metrics (null with port 0).
   */
  metrics: { port: number | null; host: string; allowedCidrs: string[]; peersDir: string | null; storeReadMs: number };
  logLevel: string;
}

/** Thrown when the configuration is invalid; `problems` name each variable and what is allowed. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates only the store settings, for commands that need nothing else
 * (`gerbang migrate`, `gerbang client …`, `gerbang audit …`). Throws ConfigError.
 */
export function loadStoreConfig(env: Env = process.env): { databaseUrl: string } {
  return { databaseUrl: loadOneSetting('databaseUrl', env) };
}

/** GERBANG_AUDIT_CHECKPOINT_FILE, for `gerbang audit verify`. Throws ConfigError naming it when invalid. */
export function loadAuditCheckpointFile(env: Env = process.env): string {
  return loadOneSetting('auditCheckpointFile', env);
}

/** GERBANG_AUDIT_ANONYMOUS_RETENTION_DAYS, for `gerbang audit purge-anonymous`. Throws ConfigError naming it when invalid. */
export function loadAuditAnonymousRetentionDays(env: Env = process.env): number {
  return loadOneSetting('auditAnonymousRetentionDays', env);
}

/** One setting of SETTINGS from `env` and GERBANG_CONFIG_FILE, validated; ConfigError names it. */
function loadOneSetting(name: 'databaseUrl' | 'auditCheckpointFile', env: Env): string;
function loadOneSetting(name: 'auditAnonymousRetentionDays', env: Env): number;
function loadOneSetting(name: 'databaseUrl' | 'auditCheckpointFile' | 'auditAnonymousRetentionDays', env: Env): string | number {
  const problems: string[] = [];
  const merged: Env = { ...readConfigFile(env.GERBANG_CONFIG_FILE, problems), ...definedOnly(env) };
  const spec = SETTINGS[name];
  const raw = merged[spec.env];
  const { value, error } = spec.schema.label(spec.env).validate(raw === '' ? undefined : raw);
  if (error) problems.push(`${spec.env}: ${error.details.map((d) => d.message).join('; ')}. ${spec.doc}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return value as string | number;
}

/**
 * The audit key ring from GERBANG_AUDIT_KEYS / GERBANG_AUDIT_KEY_FILES (and GERBANG_CONFIG_FILE),
 * for commands that read or rewrite the audit (`audit export|verify`, `keys rotate`, `migrate`).
 * Throws ConfigError naming the setting when a key is bad or none is configured (with
 * `optional`, none configured is null).
 */
export function loadAuditKeys(env?: Env): KeyRing;
export function loadAuditKeys(env: Env, options: { optional: true }): KeyRing | null;
export function loadAuditKeys(env: Env = process.env, options: { optional?: boolean } = {}): KeyRing | null {
  const problems: string[] = [];
  const merged: Env = { ...readConfigFile(env.GERBANG_CONFIG_FILE, problems), ...definedOnly(env) };
  const sources = { keys: [] as string[], keyFiles: [] as string[] };
  for (const [name, field] of [['auditKeys', 'keys'], ['auditKeyFiles', 'keyFiles']] as const) {
    const spec = SETTINGS[name];
    const raw = merged[spec.env];
    const { value, error } = spec.schema.label(spec.env).validate(raw === undefined || raw === '' ? undefined : splitList(raw));
    if (error) problems.push(`${spec.env}: ${error.details.map((d) => d.message).join('; ')}. ${spec.doc}`);
    else sources[field] = value as string[];
  }
  if (options.optional && problems.length === 0 && sources.keys.length === 0 && sources.keyFiles.length === 0) return null;
  const ring = problems.length === 0 ? auditKeyRing(sources, problems) : null;
  if (problems.length > 0 || ring === null) throw new ConfigError(problems);
  return ring;
}

/** Builds the ring, or adds the problem (naming the setting) and returns null. */
function auditKeyRing(sources: { keys: string[]; keyFiles: string[] }, problems: string[]): KeyRing | null {
  try {
    const ring = keyRingFrom(sources);
    if (ring) return ring;
    problems.push(
      `GERBANG_AUDIT_KEYS: is required (or GERBANG_AUDIT_KEY_FILES): the audit is encrypted at rest. ` +
        `Generate a key with: echo "k$(date +%Y%m%d):$(openssl rand -base64 32)". ${SETTINGS.auditKeys.doc}`,
    );
  } catch (error) {
    if (!(error instanceof KeyRingError)) throw error;
    problems.push(error.message);
  }
  return null;
}

/**
 * Reads every setting of SETTINGS from `env` (and from the JSON file named by
 * GERBANG_CONFIG_FILE, whose keys are the same variable names; the environment wins),
 * validates them all at once and returns the typed configuration.
 *
 * `overrides` (keyed by variable name) win over both: the sandbox command uses it to fill in
 * generated secrets. Throws ConfigError listing every bad or missing variable.
 */
export function loadConfig(env: Env = process.env, overrides: Env = {}): Config {
  const problems: string[] = [];
  const merged: Env = { ...readConfigFile(env.GERBANG_CONFIG_FILE, problems), ...definedOnly(env), ...definedOnly(overrides) };

  const values = readSettings(merged, Object.keys(SETTINGS) as SettingName[], problems);

  if (values.jwtSecret === undefined && !problems.some((p) => p.startsWith('GERBANG_JWT_SECRET'))) {
    problems.push(`GERBANG_JWT_SECRET: is required (at least 32 characters; e.g. \`openssl rand -base64 48\`). ${SETTINGS.jwtSecret.doc}`);
  }
  const auditKeys = problems.some((p) => p.startsWith('GERBANG_AUDIT_KEY'))
    ? null
    : auditKeyRing({ keys: values.auditKeys as string[], keyFiles: values.auditKeyFiles as string[] }, problems);
  const givenBca = BCA_SETTINGS.filter((name) => values[name] !== undefined);
  if (givenBca.length > 0 && givenBca.length < BCA_SETTINGS.length) {
    const missing = BCA_SETTINGS.filter((name) => values[name] === undefined).map((name) => SETTINGS[name].env);
    problems.push(`${missing.join(', ')}: required once any GERBANG_BCA_* variable is set (set all of them for a live bank, or none for sandbox mode)`);
  }
  const partners: PartnerConfig[] = values.bankPartnersFile === undefined ? [] : readPartnersFile(values.bankPartnersFile as string, problems);
  cidrListProblems(values, ['metricsAllowedCidrs', 'allowedCidrs', 'trustProxy'], problems);
  lockReachProblems(values, 'clientMaxFailures', 'a client is locked out of the token endpoint', problems);
  if ((values.tlsCertFile === undefined) !== (values.tlsKeyFile === undefined)) {
    problems.push('GERBANG_TLS_CERT_FILE, GERBANG_TLS_KEY_FILE: give both for native HTTPS, or neither for plain HTTP behind a proxy');
  }
  const anyBank = givenBca.length > 0 || partners.length > 0;
  const bankSettings = [SETTINGS.bcaBaseUrl.env, 'GERBANG_BCA_*', SETTINGS.bankPartnersFile.env].join(', ');
  // Fail closed: without a bank the gateway would pay into the simulator and answer SUCCESS.
  if (!anyBank && values.sandbox !== true && !problems.some((p) => p.startsWith('GERBANG_B'))) {
    problems.push(
      `${bankSettings}: no bank partner is configured, so there is nothing to pay through. Set the GERBANG_BCA_* variables or GERBANG_BANK_PARTNERS_FILE ` +
        `(see docs/configuration.md); to try Gerbang against the built-in simulator, where no money moves, run \`gerbang sandbox\` or set ${SETTINGS.sandbox.env}=true.`,
    );
  }
  if (anyBank && values.sandbox === true) {
    problems.push(`${SETTINGS.sandbox.env}: is true, but a bank partner is configured (${bankSettings}); a gateway either pays through banks or plays with the simulator, not both`);
  }
  const entraAudiences = (values.entraAudience as string[] | undefined) ?? [];
  if (values.entraMetadataUrl !== undefined && entraAudiences.length === 0) {
    problems.push(`${SETTINGS.entraAudience.env}: is required with ${SETTINGS.entraMetadataUrl.env}. ${SETTINGS.entraAudience.doc}`);
  }
  if (values.entraMetadataUrl === undefined && entraAudiences.length > 0) {
    problems.push(`${SETTINGS.entraMetadataUrl.env}: is required with ${SETTINGS.entraAudience.env}. ${SETTINGS.entraMetadataUrl.doc}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const v = values as Record<SettingName, never>;
  if (givenBca.length > 0) {
    if (partners.some((p) => p.partner === 'bca')) throw new ConfigError(['GERBANG_BANK_PARTNERS_FILE: a partner is named "bca", which GERBANG_BCA_* also defines; rename one']);
    partners.unshift({
      partner: 'bca',
      protocol: 'bca-legacy',
      bic: 'CENAIDJA',
      priority: 1,
      baseUrl: v.bcaBaseUrl,
      clientId: v.bcaClientId,
      clientSecret: v.bcaClientSecret,
      apiKey: v.bcaApiKey,
      apiSecret: v.bcaApiSecret,
      corporateId: v.bcaCorporateId,
      origin: v.bcaOrigin,
      accounts: v.bcaAccounts,
    });
  }
  const ownership = accountOwnershipProblems(partners);
  if (ownership.length > 0) throw new ConfigError(ownership);
  const longestCallMs = (v.bankConnectTimeoutMs as number) + (v.bankHeadersTimeoutMs as number) + (v.bankBodyTimeoutMs as number);
  return {
    port: v.port,
    host: v.host,
    databaseUrl: v.databaseUrl,
    migrateOnStart: v.migrateOnStart,
    auditSpoolDir: v.auditSpoolDir,
    auditCheckpointFile: v.auditCheckpointFile,
    auditRollbackCheckMs: v.auditRollbackCheckMs,
    auditScrub: { intervalMs: v.auditScrubMs, linksPerPass: v.auditScrubLinks },
    callback: { keyFile: v.callbackKeyFile, intervalMs: v.callbackIntervalMs, retryBaseMs: v.callbackRetryBaseMs },
    auditKeys: auditKeys as KeyRing,
    jwt: { secret: v.jwtSecret, previousSecrets: v.jwtPreviousSecrets, issuer: v.jwtIssuer, audience: v.jwtAudience, ttlSeconds: v.tokenTtlSeconds },
    entra: values.entraMetadataUrl === undefined ? null : { metadataUrl: v.entraMetadataUrl, audiences: v.entraAudience, keysCooldownMs: v.entraKeysCooldownMs },
    publicUrl: v.publicUrl,
    tls: values.tlsCertFile === undefined ? null : { certFile: v.tlsCertFile, keyFile: v.tlsKeyFile, reloadIntervalMs: v.tlsReloadIntervalMs },
    trustProxy: v.trustProxy,
    allowedOrigins: v.allowedOrigins,
    allowedCidrs: v.allowedCidrs,
    bodyLimitBytes: v.bodyLimitBytes,
    batch: { maxLines: v.batchMaxLines, bodyLimitBytes: v.batchBodyLimitBytes, concurrency: v.batchConcurrency, intervalMs: v.batchIntervalMs },
    rateLimit: {
      windowMs: (v.rateLimitWindowSeconds as number) * 1000,
      perIp: v.rateLimitPerIp,
      perClient: v.rateLimitPerClient,
      tokenPerIp: v.rateLimitTokenPerIp,
      syncMs: v.rateLimitSyncMs as number,
      localWindows: v.rateLimitLocalWindows as number,
    },
    lockout: {
      maxFailures: v.loginMaxFailures,
      windowMs: (v.loginFailureWindowSeconds as number) * 1000,
      lockMs: (v.loginLockoutSeconds as number) * 1000,
      clientMaxFailures: v.clientMaxFailures,
    },
    bank: partners.length === 0 ? { mode: 'sandbox' } : { mode: 'live', partners },
    transferLimits: {
      bifastMaxCents: cents(v.bifastMaxAmount),
      onlineMaxCents: cents(v.onlineMaxAmount),
      sknMaxCents: cents(v.sknMaxAmount),
      rtgsMinCents: cents(v.rtgsMinAmount),
    },
    egress: {
      localAddress: v.egressLocalAddress,
      proxyUrl: v.egressProxyUrl,
      caFile: v.egressCaFile,
      connectTimeoutMs: v.bankConnectTimeoutMs,
      headersTimeoutMs: v.bankHeadersTimeoutMs,
      bodyTimeoutMs: v.bankBodyTimeoutMs,
      longestCallMs,
    },
    breaker: { failureThreshold: v.bankBreakerFailures, cooldownMs: v.bankBreakerCooldownMs },
    resolver: {
      intervalMs: v.resolverIntervalMs,
      dayCloseWib: v.bankDayCloseWib as string,
      reviewAfterMs: v.reviewAfterMs as number,
      sendingStaleMs: BANK_CALLS_PER_SEND * longestCallMs,
    },
    takeoverProofLinks: v.takeoverProofLinks as number,
    shutdownTimeoutMs: v.shutdownTimeoutMs,
    cacheStalenessMs: v.cacheStalenessMs as number,
    sealPaymentsAtInsert: v.sealPaymentsAtInsert as boolean,
    workers: merged.NODE_APP_INSTANCE === undefined ? 1 : v.apiInstances === 'max' ? availableParallelism() : (v.apiInstances as number),
    metrics: {
      port: v.metricsPort === 'off' ? null : (v.metricsPort as number),
      host: v.metricsHost,
      allowedCidrs: v.metricsAllowedCidrs,
      // One subfolder per port: the processes that share a metrics port are the ones summed.
      peersDir: typeof v.metricsPort === 'number' && v.metricsPort !== 0 ? resolve(v.metricsPeersDir as string, String(v.metricsPort)) : null,
      storeReadMs: (v.metricsStoreReadSeconds as number) * 1000,
    },
    logLevel: v.logLevel,
  };
}

/**
 * Every IP/CIDR list names its variable and the bad entry (`GERBANG_TRUST_PROXY: nginx is not an
 * IP address or CIDR`) at start, instead of failing inside a request or when the app is built.
 * GERBANG_TRUST_PROXY also takes Express's named ranges (loopback, linklocal, uniquelocal).
 */
function cidrListProblems(values: Partial<Record<SettingName, unknown>>, names: SettingName[], problems: string[]): void {
  const named = ['loopback', 'linklocal', 'uniquelocal'];
  for (const name of names) {
    const entries = ((values[name] as string[] | undefined) ?? []).filter((entry) => !(name === 'trustProxy' && named.includes(entry)));
    for (const problem of invalidCidrs(entries)) problems.push(`${SETTINGS[name].env}: ${problem}`);
  }
}

/** Validates the named settings of `merged`; each bad one adds a problem naming its variable. */
function readSettings(merged: Env, names: SettingName[], problems: string[]): Partial<Record<SettingName, unknown>> {
  const values: Partial<Record<SettingName, unknown>> = {};
  for (const name of names) {
    const spec: SettingSpec = SETTINGS[name];
    const raw = merged[spec.env];
    const input = raw === undefined || raw === '' ? undefined : spec.list ? splitList(raw) : raw;
    const { value, error } = spec.schema.label(spec.env).validate(input, { convert: true });
    if (error) {
      const got = spec.secret ? '' : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${spec.env}: ${error.details.map((d) => d.message).join('; ')}${got}. ${spec.doc}`);
      continue;
    }
    values[name] = value;
  }
  return values;
}

export interface ConsoleConfig {
  port: number;
  /** GERBANG_SANDBOX=true: every console page says no money moves. */
  sandbox: boolean;
  host: string;
  databaseUrl: string;
  migrateOnStart: boolean;
  trustProxy: string[];
  idleTimeoutMs: number;
  /** Both set: the console serves HTTPS itself. */
  tls?: { certFile: string; keyFile: string };
  lockout: { maxFailures: number; windowMs: number; lockMs: number };
  /** Sign-in attempts per minute from one address; failures for one user from all addresses. */
  signInThrottle: { perIpPerMinute: number; userMaxFailures: number };
  shutdownTimeoutMs: number;
  logLevel: string;
  /** Opens the audit's sealed bodies for the detail view (the same keys as the API). */
  auditKeys: KeyRing;
  /** Where the console checkpoints its own audit chains (GERBANG_AUDIT_CHECKPOINT_FILE, the API's file); the overview compares the database with it. */
  auditCheckpointFile: string;
  /** How long the overview reuses its comparison of the database with the checkpoints (GERBANG_AUDIT_ROLLBACK_CHECK_MS). */
  auditRollbackCheckMs: number;
  /** The API client the reconciliation and review pages read statements as; null: not configured. */
  api: { url: string; clientId: string; clientSecret: string } | null;
  /** GERBANG_BANK_DAY_CLOSE_WIB: a review's statement shows a debit missing only when read after it. */
  dayCloseWib: string;
}

const CONSOLE_SETTINGS: SettingName[] = [
  'auditCheckpointFile',
  'auditRollbackCheckMs',
  'consolePort',
  'consoleHost',
  'databaseUrl',
  'migrateOnStart',
  'trustProxy',
  'consoleIdleTimeoutSeconds',
  'consoleTlsCertFile',
  'consoleTlsKeyFile',
  'loginMaxFailures',
  'loginFailureWindowSeconds',
  'loginLockoutSeconds',
  'consoleSignInPerIp',
  'consoleUserMaxFailures',
  'shutdownTimeoutMs',
  'logLevel',
  'auditKeys',
  'auditKeyFiles',
  'sandbox',
  'consoleApiUrl',
  'consoleApiClientId',
  'consoleApiClientSecret',
  'bankDayCloseWib',
];

/**
 * The settings of the finance console process (`gerbang console`): it needs neither the
 * token-signing secret nor the bank's credentials, so it never reads them. Throws ConfigError.
 */
export function loadConsoleConfig(env: Env = process.env, overrides: Env = {}): ConsoleConfig {
  const problems: string[] = [];
  const merged: Env = { ...readConfigFile(env.GERBANG_CONFIG_FILE, problems), ...definedOnly(env), ...definedOnly(overrides) };
  const v = readSettings(merged, CONSOLE_SETTINGS, problems) as Record<SettingName, never>;
  if ((v.consoleTlsCertFile === undefined) !== (v.consoleTlsKeyFile === undefined)) {
    problems.push('GERBANG_CONSOLE_TLS_CERT_FILE, GERBANG_CONSOLE_TLS_KEY_FILE: give both (HTTPS) or neither (plain HTTP behind a TLS proxy)');
  }
  cidrListProblems(v, ['trustProxy'], problems);
  lockReachProblems(v, 'consoleUserMaxFailures', 'a console user is locked', problems);
  const api = consoleApi(v, problems);
  const auditKeys = problems.some((p) => p.startsWith('GERBANG_AUDIT_KEY'))
    ? null
    : auditKeyRing({ keys: v.auditKeys as string[], keyFiles: v.auditKeyFiles as string[] }, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: v.consolePort,
    sandbox: v.sandbox,
    host: v.consoleHost,
    databaseUrl: v.databaseUrl,
    migrateOnStart: v.migrateOnStart,
    trustProxy: v.trustProxy,
    idleTimeoutMs: (v.consoleIdleTimeoutSeconds as number) * 1000,
    tls: v.consoleTlsCertFile ? { certFile: v.consoleTlsCertFile, keyFile: v.consoleTlsKeyFile } : undefined,
    lockout: {
      maxFailures: v.loginMaxFailures,
      windowMs: (v.loginFailureWindowSeconds as number) * 1000,
      lockMs: (v.loginLockoutSeconds as number) * 1000,
    },
    signInThrottle: { perIpPerMinute: v.consoleSignInPerIp, userMaxFailures: v.consoleUserMaxFailures },
    shutdownTimeoutMs: v.shutdownTimeoutMs,
    logLevel: v.logLevel,
    auditKeys: auditKeys as KeyRing,
    auditCheckpointFile: v.auditCheckpointFile,
    auditRollbackCheckMs: v.auditRollbackCheckMs,
    api,
    dayCloseWib: v.bankDayCloseWib,
  };
}

/**
 * One source (an address, an IPv6 /56) must not be able to lock a console user or an API client
 * for everyone on its own: its failures count towards the wide lock (`wide`) only up to
 * GERBANG_LOGIN_MAX_FAILURES a window (src/console/sign-in-use-case.ts,
 * src/domain/auth/issue-token-use-case.ts), and a window of the wide count meets one window of
 * the source's, or two when the lock is shorter than the window.
 */
function lockReachProblems(v: Partial<Record<SettingName, unknown>>, wide: 'consoleUserMaxFailures' | 'clientMaxFailures', locks: string, problems: string[]): void {
  const [perSource, wideMax, lock, window] = [v.loginMaxFailures, v[wide], v.loginLockoutSeconds, v.loginFailureWindowSeconds];
  if (typeof perSource !== 'number' || typeof wideMax !== 'number' || typeof lock !== 'number' || typeof window !== 'number') return;
  const reach = lock >= window ? perSource : 2 * perSource;
  if (wideMax <= reach) {
    problems.push(
      `${SETTINGS[wide].env}: ${wideMax} failures mean ${locks} for everyone, and one address alone can make ${reach} ` +
        `(GERBANG_LOGIN_MAX_FAILURES ${perSource}${lock >= window ? '' : ', twice over because GERBANG_LOGIN_LOCKOUT_SECONDS is shorter than GERBANG_LOGIN_FAILURE_WINDOW_SECONDS'}); set it above ${reach}`,
    );
  }
}

/** GERBANG_CONSOLE_API_*: all three, or none (null); one or two add a problem. */
function consoleApi(v: Partial<Record<SettingName, unknown>>, problems: string[]): ConsoleConfig['api'] {
  const apiSettings = (['consoleApiUrl', 'consoleApiClientId', 'consoleApiClientSecret'] as const).filter((name) => v[name] !== undefined);
  if (apiSettings.length > 0 && apiSettings.length < 3) {
    problems.push('GERBANG_CONSOLE_API_URL, GERBANG_CONSOLE_API_CLIENT_ID, GERBANG_CONSOLE_API_CLIENT_SECRET: give all three (the reconciliation page and the review read statements through the API) or none');
  }
  return apiSettings.length === 3 ? { url: v.consoleApiUrl as string, clientId: v.consoleApiClientId as string, clientSecret: v.consoleApiClientSecret as string } : null;
}

/**
 * The settings `gerbang transfer review resolve` reads the paying account's statement with, as the
 * console does: the API client of GERBANG_CONSOLE_API_* (null: not configured) and
 * GERBANG_BANK_DAY_CLOSE_WIB. Throws ConfigError.
 */
export function loadReviewStatementConfig(env: Env = process.env): Pick<ConsoleConfig, 'api' | 'dayCloseWib'> {
  const problems: string[] = [];
  const merged: Env = { ...readConfigFile(env.GERBANG_CONFIG_FILE, problems), ...definedOnly(env) };
  const v = readSettings(merged, ['consoleApiUrl', 'consoleApiClientId', 'consoleApiClientSecret', 'bankDayCloseWib'], problems);
  const api = consoleApi(v, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { api, dayCloseWib: v.bankDayCloseWib as string };
}

function readConfigFile(path: string | undefined, problems: string[]): Env {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`GERBANG_CONFIG_FILE: cannot read ${path} as JSON (${(error as Error).message})`);
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`GERBANG_CONFIG_FILE: ${path} must hold a JSON object keyed by variable name`);
    return {};
  }
  const known = new Set(Object.values(SETTINGS).map((spec) => spec.env));
  const secrets = Object.keys(parsed).filter((key) => SECRET_ENV_NAMES.includes(key));
  if (secrets.length > 0 && readableByOthers(path)) {
    problems.push(`GERBANG_CONFIG_FILE: ${path} holds secrets (${secrets.join(', ')}) and must be readable by its owner only (chmod 600)`);
    return {};
  }
  const out: Env = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!known.has(key)) {
      problems.push(`GERBANG_CONFIG_FILE: unknown setting "${key}" in ${path}`);
      continue;
    }
    out[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

function definedOnly(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** `250000000.00` → 25000000000 (cents; 13 digits and 2 decimals stay exact in a double). */
export function cents(amount: string): number {
  return plainCents(amount) ?? Math.round(Number(amount) * 100);
}

/**
 * The cents of an amount written as plain digits with at most two decimals after a point (what
 * banks, ERPs and the payments table write: `1234567.89`, `15000`, `12.5`), at most 15 characters,
 * read digit by digit; null for anything else (a sign, spaces, an exponent, a trailing point, a
 * value that is not a string), which cents reads as Number does. The same number as
 * Math.round(Number(amount) * 100) for every such amount: its digits are an integer below 10^15
 * (exact in a double), and the double nearest the decimal, times 100, is within 0.25 of it. A month's reconciliation reads 100,000 amounts;
 * Number's parsing of a decimal was a quarter of its matching (docs/performance.md).
 */
function plainCents(amount: string): number | null {
  // A value that is not a string after all (a number from JSON past its schema) is Number's too.
  if (typeof amount !== 'string') return null;
  const length = amount.length;
  if (length === 0 || length > 15) return null;
  let digits = 0;
  // Digits after the point, -1 before one.
  let decimals = -1;
  for (let i = 0; i < length; i += 1) {
    const code = amount.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      digits = digits * 10 + (code - 48);
      if (decimals >= 0) decimals += 1;
    } else if (code === 46 && decimals < 0 && i > 0) decimals = 0;
    else return null;
  }
  if (decimals === 0 || decimals > 2) return null;
  return decimals === 2 ? digits : decimals === 1 ? digits * 10 : digits * 100;
}
