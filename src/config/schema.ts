import Joi from 'joi';

/**
 * Every setting Gerbang reads, in one table: its environment variable, what it does, its
 * type and its default. `docs/configuration.md` is written from this table, and
 * `loadConfig` validates the environment against it once at start-up.
 *
 * Secrets have no default. Lists are comma-separated in the environment.
 */
export interface SettingSpec {
  env: string;
  doc: string;
  schema: Joi.Schema;
  /** Comma-separated list in the environment. */
  list?: boolean;
  /** Never printed (doctor, config dump). */
  secret?: boolean;
}

const port = Joi.number().integer().min(0).max(65535);
const millis = Joi.number().integer().min(1);
const positive = Joi.number().integer().min(1);
const httpsOrHttpUrl = Joi.string().uri({ scheme: ['https', 'http'] });
const amount = Joi.string().pattern(/^\d{1,13}\.\d{2}$/, 'amount with two decimals, e.g. 250000000.00');

/**
 * The bank calls one send through a route can make: an access token, the transfer, and on the
 * bank's refusal of that token (401xx01) a renewed token and the transfer once more (the SNAP
 * adapter's retry). A transfer SENDING for longer than this many of the longest bank call was
 * interrupted; a shorter bound took a slow live send for a dead one.
 */
export const BANK_CALLS_PER_SEND = 4;

export const SETTINGS = {
  port: { env: 'PORT', doc: 'TCP port of the public API (0 picks a free one).', schema: port.default(8080) },
  host: {
    env: 'GERBANG_HOST',
    doc: 'Address the API listens on. Keep 127.0.0.1 behind a reverse proxy on the same host.',
    schema: Joi.string().hostname().default('127.0.0.1'),
  },
  databaseUrl: {
    env: 'GERBANG_DATABASE_URL',
    doc: 'Store: `mysql://user:password@host:3306/database` for MySQL 8 / MariaDB 10.11, or `sqlite:path/file.sqlite` for the embedded store. Query parameters for MySQL: `connectionLimit` (pool size per process, default 10), `ssl=true` (verified TLS), `socketPath=/run/mysqld/mysqld.sock` (a MySQL on the same machine through its Unix socket: less CPU per statement than TCP).',
    schema: Joi.string()
      .pattern(/^(mysql:\/\/.+|sqlite:.+)$/, 'mysql:// URL or sqlite: path')
      .default('sqlite:var/gerbang.sqlite'),
    secret: true,
  },
  auditSpoolDir: {
    env: 'GERBANG_AUDIT_SPOOL_DIR',
    doc: 'Folder where audit records the database refuses (it is down) are journaled, fsync\'d, until they are written to it. Keep it on local disk, with the gateway\'s user only.',
    schema: Joi.string().min(1).default('var/audit-spool'),
  },
  auditCheckpointFile: {
    env: 'GERBANG_AUDIT_CHECKPOINT_FILE',
    doc: 'Append-only file of signed checkpoints of every audit chain head, written by `gerbang audit verify`, every minute by each gateway and console process for its own chains, and at once when a change of who may do what commits or a migration records stored data in a chain of its own (027, 037: `gerbang migrate`, a migrating start); beside it each process overwrites its own head file (`<file>.head-<host>-<pid>-<hex>`, 0600, signed) with its chains\' heads at every commit, read like a line, so the links of its last minute are vouched for when it is killed (removed when it stops, or by an intact verify once it ended: the folder must be writable); verify and `gerbang audit export` compare the database with it and name a deleted tail, a vanished chain or a database restored from an older copy, and every gateway compares it every GERBANG_AUDIT_ROLLBACK_CHECK_MS and answers 503 while the database lacks what it vouched for (until `gerbang audit accept-rollback`). Keep it outside the database host\'s reach and ship it off the host (see docs/operator-guide.md).',
    schema: Joi.string().min(1).default('var/audit-checkpoints.jsonl'),
  },
  auditRollbackCheckMs: {
    env: 'GERBANG_AUDIT_ROLLBACK_CHECK_MS',
    doc: 'How often each gateway compares the database\'s audit chain heads with GERBANG_AUDIT_CHECKPOINT_FILE: one SELECT of audit_writers, and the checkpointed links of the chains grown since their last checkpoint, 250 to a statement. A database rolled back or cut under a running gateway is held (503, no payment run paid) within this plus 2 s, the wait that confirms a finding: compared again, on a Galera node once the node has applied every commit the cluster made before (`wsrep_sync_wait`), so another node\'s commit it has not applied yet, even for long (a backup\'s FLUSH TABLES WITH READ LOCK), is waited for rather than held as a rollback (up to the provider\'s repl.causal_read_timeout, 30 s by default; the check then fails, is logged and runs again at the next interval, holding nothing new). A pass took about 5 ms of the gateway\'s CPU with 1,000 chains and 50 ms with 10,000, and under 1 ms and 4 ms of MariaDB\'s (docs/performance.md, "The rollback watch, every 2 s"). The finance console compares the same way when its overview is opened, reusing a comparison for this long unless the checkpoint file has grown since, and shows the audit chain verification as rolled back, naming the chain, while the database lacks what the checkpoints vouched for.',
    schema: Joi.number().integer().min(500).max(60_000).default(2_000),
  },
  auditScrubMs: {
    env: 'GERBANG_AUDIT_SCRUB_MS',
    doc: 'How often each gateway process walks the next GERBANG_AUDIT_SCRUB_LINKS links of the audit chains as `gerbang audit verify` walks them, going round every chain from its first link to its head again and again. A record deleted or altered inside a chain (a payment deleted whole in SQL with its events and their links, the heads left as they were, which the checkpoints cannot see) holds payments like a rollback (503, no payment run paid, until `gerbang audit accept-rollback`) within one full cycle, one pass and 2 s of confirmation: (ceil((links + 20 × chains with links) / GERBANG_AUDIT_SCRUB_LINKS) + 1) × this + 2 s. With the defaults that is about 100 s for 100,000 links and 17 minutes for a million (a transfer makes about 5 links: 1M transfers, about 90 minutes); it grows with the history, and each process walks every chain. Beside it, every pass proves the links appended since the last pass, each once (at most 10 × GERBANG_AUDIT_SCRUB_LINKS a pass, the rest at the next: gerbang_audit_scrub_links_behind), and has the database count the newest 2 × GERBANG_AUDIT_SCRUB_LINKS of them again (one index range COUNT a chain): a payment deleted whole among those is held within one pass and 2 s (a record changed in place after its link was proved is the full cycle\'s). Whatever the walks reached, every payment whose links they proved, and every payment the process reserves, is remembered by client and transactionId with its id and creation time (29-57 bytes a payment, gerbang_audit_scrub_remembered_payments): the ERP\'s resend of such a payment deleted whole, altered or replaced at its id in SQL, about to be a new payment, is answered 503 naming it and never sent, and payments are held once that is confirmed 2 s later. The memory is written beside GERBANG_AUDIT_CHECKPOINT_FILE (signed with the audit keys; each process of the host writes the same file whole, through a temporary file of its own renamed over it) every 5 minutes and when the process stops, and read by the next process at start: until it has proved the links appended since (or, with no readable file, until its first full cycle, walked 10 × GERBANG_AUDIT_SCRUB_LINKS a pass meanwhile, every payment it proves checked as the payment check checks it; a chain that cycle stopped at a break in is walked first in the next, and the memory is whole once it is walked on to its head past the break accepted since), a new payment whose key it does not know is answered 503 with Retry-After and never sent, so a payment deleted in SQL while no gateway ran is not paid twice. A payment the process has not seen (deleted before a pass proved its links) is held only within the full cycle. Every cycle learns again the payments of the links it proves, so a payment a pass could not learn (its row moved away in SQL for that pass, then back) is remembered within one full cycle; deleted whole before that, it is held within the full cycle as well, and a resend before the hold is paid. Every pass also checks the newest GERBANG_AUDIT_SCRUB_LINKS payment events and the next as many of all of them in turn (a payment row deleted or moved alone). 0 turns the scrub off (not for production).',
    schema: Joi.number().integer().min(0).max(60_000).default(2_000),
  },
  auditScrubLinks: {
    env: 'GERBANG_AUDIT_SCRUB_LINKS',
    doc: 'Links each pass of the audit scrub (every GERBANG_AUDIT_SCRUB_MS) walks at most, each link with its record read, opened and MAC\'d. A pass of 2,000 links took about 50 ms of the gateway\'s CPU and 35 ms of MariaDB\'s, about 2.5 s and 1.8 s per 100,000 links (docs/performance.md, "The audit scrub"): with the defaults about 2.5 % of a core per gateway process for this slow walk alone, and about 0.7 % more for the payments of its links, read again every cycle for the memory of payments (about 35 µs each; docs/performance.md); under traffic each pass also proves the links appended since the last pass, each once (at most 10 times this many a pass), has the database count the newest 2 times this many again, remembers the payments they record and checks the payments\' histories: at 150 transfers/s the scrub cost the gateway about what it did before (within the measurement\'s noise, about 100 µs a transfer; the fast loop before covered nothing at that rate), and at 30 transfers/s the same (side by side, docs/performance.md). Every gateway process scrubs on its own, so the database serves it once per process.',
    schema: Joi.number().integer().min(10).max(100_000).default(2_000),
  },
  auditAnonymousRetentionDays: {
    env: 'GERBANG_AUDIT_ANONYMOUS_RETENTION_DAYS',
    doc: 'Days the audit keeps rejected requests from anonymous callers (no client identified, no payment, no bank call), and their CORS preflights and GETs of the API documents: `gerbang audit purge-anonymous`, run daily from cron, deletes the older ones, each purge recorded in a keyed audit chain so `audit verify` tells it from a deletion. Every other record (a client\'s request, anything tied to a payment, a failed exchange, a bank\'s notification) is kept whatever this says.',
    schema: Joi.number().integer().min(1).max(36_500).default(90),
  },
  callbackKeyFile: {
    env: 'GERBANG_CALLBACK_KEY_FILE',
    doc: 'RSA private key (PEM) that signs the notifications sent to clients\' callback URLs. Created (mode 0600) when missing; every node of one installation must use the same file, whose public key the ERP trusts (GET /v1/callbacks/public-key).',
    schema: Joi.string().min(1).default('var/callback-signing-key.pem'),
  },
  callbackIntervalMs: {
    env: 'GERBANG_CALLBACK_INTERVAL_MS',
    doc: 'How often each API process delivers queued callbacks (a failed delivery is retried with back-off from 30 s to 4 h, 12 times). 0 turns delivery off in this process.',
    schema: Joi.number().integer().min(0).default(2_000),
  },
  callbackRetryBaseMs: {
    env: 'GERBANG_CALLBACK_RETRY_BASE_MS',
    doc: 'Wait before the first retry of a callback the ERP did not accept (2xx); it doubles with each attempt, up to 4 hours, 12 attempts in all.',
    schema: Joi.number().integer().min(100).default(30_000),
  },
  migrateOnStart: {
    env: 'GERBANG_MIGRATE_ON_START',
    doc: 'Apply pending SQL migrations when the API starts (turn off to run `gerbang migrate` as a deployment step).',
    schema: Joi.boolean().default(true),
  },
  jwtSecret: {
    env: 'GERBANG_JWT_SECRET',
    doc: 'HMAC key that signs access tokens (HS256), at least 32 characters. All workers and nodes need the same value.',
    schema: Joi.string().min(32),
    secret: true,
  },
  jwtPreviousSecrets: {
    env: 'GERBANG_JWT_PREVIOUS_SECRETS',
    doc: 'Earlier GERBANG_JWT_SECRET values, still accepted to verify tokens (never to sign) while the tokens they signed expire. Rotate by moving the old secret here and setting a new GERBANG_JWT_SECRET; remove it after one token lifetime.',
    schema: Joi.array().items(Joi.string().min(32)).default([]),
    list: true,
    secret: true,
  },
  jwtIssuer: { env: 'GERBANG_JWT_ISSUER', doc: 'The `iss` claim of issued tokens.', schema: Joi.string().default('gerbang') },
  jwtAudience: { env: 'GERBANG_JWT_AUDIENCE', doc: 'The `aud` claim of issued tokens.', schema: Joi.string().default('gerbang-api') },
  tokenTtlSeconds: {
    env: 'GERBANG_TOKEN_TTL_SECONDS',
    doc: 'Lifetime of an access token in seconds (short: a leaked token is useful for little time).',
    schema: Joi.number().integer().min(60).max(86_400).default(900),
  },
  entraMetadataUrl: {
    env: 'GERBANG_ENTRA_METADATA_URL',
    doc: 'OpenID metadata of the Microsoft Entra ID tenant whose access tokens are accepted besides Gerbang\'s own: `https://login.microsoftonline.com/<tenant id>/v2.0/.well-known/openid-configuration` (the issuer and the signing keys are read from it). Set GERBANG_ENTRA_AUDIENCE with it, and link each calling application to a client with `gerbang client link-entra-app`. Empty: Entra ID tokens are refused.',
    schema: httpsOrHttpUrl,
  },
  entraAudience: {
    env: 'GERBANG_ENTRA_AUDIENCE',
    doc: 'Accepted `aud` of Entra ID access tokens: the Application ID URI of Gerbang\'s app registration (e.g. `api://gerbang`) and/or its application (client) id. Required with GERBANG_ENTRA_METADATA_URL.',
    schema: Joi.array().items(Joi.string().min(1)).default([]),
    list: true,
  },
  entraKeysCooldownMs: {
    env: 'GERBANG_ENTRA_KEYS_COOLDOWN_MS',
    doc: 'Least time between two fetches of the Entra ID signing keys (JWKS) caused by a token signed with an unknown key id (Entra rotates its keys; made-up key ids must not make Gerbang hammer the tenant). The keys are also refreshed every 10 minutes.',
    schema: Joi.number().integer().min(100).default(30_000),
  },
  publicUrl: {
    env: 'GERBANG_PUBLIC_URL',
    doc: 'The address ERP callers use (e.g. `https://gerbang.example.com`, behind nginx). Named in the served OpenAPI/Swagger documents (servers, host, token URL); empty: the documents name no host and the importing tool asks for it.',
    schema: Joi.string().uri({ scheme: ['https', 'http'] }).pattern(/^[^?#]*[^/?#]$/, 'no trailing slash'),
  },
  auditKeys: {
    env: 'GERBANG_AUDIT_KEYS',
    doc: 'Keys that encrypt at rest (AES-256-GCM) the audit\'s bodies and headers, the answers kept for payments, payment-run lines and queued callbacks, as `keyId:base64key` (32 random bytes, e.g. `k2026a:$(openssl rand -base64 32)`), oldest first: the last key encrypts, every key decrypts. Add a new key last, reload, then run `gerbang keys rotate`. Required by `serve` unless GERBANG_AUDIT_KEY_FILES is set.',
    schema: Joi.array().items(Joi.string().min(1)).default([]),
    list: true,
    secret: true,
  },
  auditKeyFiles: {
    env: 'GERBANG_AUDIT_KEY_FILES',
    doc: 'Files holding one `keyId:base64key` line each (mode 0600), oldest first, read after GERBANG_AUDIT_KEYS: the last key listed overall encrypts. `gerbang sandbox` creates one beside the embedded database.',
    schema: Joi.array().items(Joi.string().min(1)).default([]),
    list: true,
  },
  tlsCertFile: {
    env: 'GERBANG_TLS_CERT_FILE',
    doc: 'PEM certificate chain for native HTTPS on the public API (with GERBANG_TLS_KEY_FILE). Unset: plain HTTP, for TLS terminated by a proxy on the same host. TLS 1.2 minimum, 1.3 preferred; a replaced file is picked up without a restart (and on SIGHUP).',
    schema: Joi.string().min(1),
  },
  tlsKeyFile: {
    env: 'GERBANG_TLS_KEY_FILE',
    doc: 'PEM private key of GERBANG_TLS_CERT_FILE. Keep it readable by the gateway user only.',
    schema: Joi.string().min(1),
  },
  tlsReloadIntervalMs: {
    env: 'GERBANG_TLS_RELOAD_INTERVAL_MS',
    doc: 'How often the certificate and key files are checked for a renewed certificate.',
    schema: millis.default(10_000),
  },
  trustProxy: {
    env: 'GERBANG_TRUST_PROXY',
    doc: 'Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (e.g. `127.0.0.1`). Empty: the socket address is the caller.',
    schema: Joi.array().items(Joi.string().trim().min(1)).default([]),
    list: true,
  },
  allowedOrigins: {
    env: 'GERBANG_ALLOWED_ORIGINS',
    doc: 'Global Origin allowlist checked before authentication (`https://erp.example.com`, `*.dynamics.com`). Empty: only the per-client lists apply.',
    schema: Joi.array().items(Joi.string().trim().min(1)).default([]),
    list: true,
  },
  allowedCidrs: {
    env: 'GERBANG_ALLOWED_CIDRS',
    doc: 'Global IP/CIDR allowlist checked before authentication (IPv4 and IPv6). Empty: only the per-client lists apply.',
    schema: Joi.array().items(Joi.string().trim().min(1)).default([]),
    list: true,
  },
  bodyLimitBytes: {
    env: 'GERBANG_BODY_LIMIT_BYTES',
    doc: 'Largest request body accepted, in bytes; larger bodies answer 413 without being read.',
    schema: Joi.number().integer().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  },
  batchMaxLines: {
    env: 'GERBANG_BATCH_MAX_LINES',
    doc: 'Most transfers one payment run (POST /v1/transfer-batches) may hold.',
    schema: Joi.number().integer().min(1).max(10_000).default(1_000),
  },
  batchBodyLimitBytes: {
    env: 'GERBANG_BATCH_BODY_LIMIT_BYTES',
    doc: 'Largest payment-run body accepted, in bytes (a 1,000-line run is about 400 KB).',
    schema: Joi.number().integer().min(1024).max(50 * 1024 * 1024).default(2 * 1024 * 1024),
  },
  batchConcurrency: {
    env: 'GERBANG_BATCH_CONCURRENCY',
    doc: "Lines of one payment run sent to the bank at the same time (per process). Keep it within the bank's limits.",
    schema: Joi.number().integer().min(1).max(64).default(4),
  },
  batchIntervalMs: {
    env: 'GERBANG_BATCH_INTERVAL_MS',
    doc: 'How often each API process looks for payment runs with lines left to pay (a new run starts at once; this picks up runs whose process stopped). 0 turns it off in this process.',
    schema: Joi.number().integer().min(0).default(5_000),
  },
  rateLimitWindowSeconds: {
    env: 'GERBANG_RATE_LIMIT_WINDOW_SECONDS',
    doc: 'Length of a rate-limit window.',
    schema: positive.default(60),
  },
  rateLimitPerIp: { env: 'GERBANG_RATE_LIMIT_PER_IP', doc: 'Requests per window from one IP address (every route, CORS preflights and health probes included; the operator\'s own probes from GERBANG_METRICS_ALLOWED_CIDRS excepted).', schema: positive.default(600) },
  rateLimitPerClient: { env: 'GERBANG_RATE_LIMIT_PER_CLIENT', doc: 'Requests per window for one authenticated client.', schema: positive.default(300) },
  rateLimitSyncMs: {
    env: 'GERBANG_RATE_LIMIT_SYNC_MS',
    doc: 'The per-IP and per-client limits are counted in each process and added to the shared store at most this often per caller, in one statement that also reads the other processes\' hits (0: every request is one statement in the store). A request waits for the store only as its caller\'s first of a window or its first after a quiet spell longer than this. Across processes and nodes a window admits at most the limit plus what the other processes admit for that caller in 3 × (this interval + one statement\'s time): with N processes each admitting r requests a second for the caller, the limit + (N − 1) × r × 3 × (interval + statement), and never more than N × the limit; one process alone is exact. The token endpoint\'s limit is always counted in the store. Intervals and the age of a process\'s view are measured on a monotonic clock, so a node\'s wall clock stepped back or forward does not widen the bound. When the store refuses a synchronisation, it is tried again after this interval, then twice as long each time up to 10 s, so the hits counted in that process reach the shared count within 10 s of the store answering again; while the store is down, a process admits a caller\'s requests on its own count only until its next synchronisation fails (at most this interval), then every request of that caller goes to the store and fails closed (503).',
    schema: Joi.number().integer().min(0).max(1_000).default(100),
  },
  rateLimitLocalWindows: {
    env: 'GERBANG_RATE_LIMIT_LOCAL_WINDOWS',
    doc: 'Callers whose per-IP or per-client count each process keeps itself at most, per limiter (GERBANG_RATE_LIMIT_SYNC_MS), about 250-350 bytes each: 10,000 hold 2.5-3.5 MB. When that many are counted, windows that have ended are dropped first (looked for at most once a second); a caller that still finds no room is counted in the shared store on every request (exact, one statement each), never let through uncounted, and no caller counted here is dropped to make room. So many distinct callers (addresses spoofed behind a trusted proxy, made-up client ids) cost statements, not memory. Gauge gerbang_rate_limit_local_windows.',
    schema: Joi.number().integer().min(1).max(1_000_000).default(10_000),
  },
  rateLimitTokenPerIp: {
    env: 'GERBANG_RATE_LIMIT_TOKEN_PER_IP',
    doc: 'Token requests per window from one IP address (stricter: it is the brute-force target).',
    schema: positive.default(30),
  },
  loginMaxFailures: {
    env: 'GERBANG_LOGIN_MAX_FAILURES',
    doc: 'Failed token requests from one address (an IPv6 address: its /56) before that address is locked out, and for one client id from one address before that address is locked out of that client (the whole client: GERBANG_CLIENT_MAX_FAILURES); and failed console sign-ins for one user from one address (an IPv6 address: its /56) before that address is locked out of that user.',
    schema: positive.default(5),
  },
  clientMaxFailures: {
    env: 'GERBANG_CLIENT_MAX_FAILURES',
    doc: 'Failed token requests for one client id, from all addresses together, before that client is locked out of the token endpoint for GERBANG_LOGIN_LOCKOUT_SECONDS from everywhere (CLIENT_LOCKED). One address inside the client\'s CIDRs (an IPv6 address: its /56) is locked out of that client after GERBANG_LOGIN_MAX_FAILURES, for that address only, and only those failures of a window count towards this lock, so another tenant of a shared range (a cloud\'s outbound addresses) cannot lock the ERP out on its own, however long it tries: this must be above GERBANG_LOGIN_MAX_FAILURES (above twice it when GERBANG_LOGIN_LOCKOUT_SECONDS is shorter than GERBANG_LOGIN_FAILURE_WINDOW_SECONDS), or the gateway refuses to start. Many addresses together still can, which keeps guessing across addresses bounded; the ERP\'s next token lifts nothing while it lasts.',
    schema: positive.default(50),
  },
  loginFailureWindowSeconds: {
    env: 'GERBANG_LOGIN_FAILURE_WINDOW_SECONDS',
    doc: 'Window in which failed token requests are counted.',
    schema: positive.default(900),
  },
  loginLockoutSeconds: { env: 'GERBANG_LOGIN_LOCKOUT_SECONDS', doc: 'How long a lockout lasts.', schema: positive.default(900) },
  sandbox: {
    env: 'GERBANG_SANDBOX',
    doc: 'true: no bank is contacted and no money moves; the built-in bank simulator plays BCA (what `gerbang sandbox` and `npm start` set). Every API answer then carries `Gerbang-Mode: sandbox`, and /readyz, `gerbang doctor` and the console say so. Leave it unset in production: without it, the API refuses to start when no bank partner (GERBANG_BCA_* or GERBANG_BANK_PARTNERS_FILE) is configured, and it cannot be combined with one.',
    schema: Joi.boolean().default(false),
  },
  bcaBaseUrl: {
    env: 'GERBANG_BCA_BASE_URL',
    doc: 'BCA API base URL, e.g. `https://devapi.klikbca.com` (UAT). Set it with every other GERBANG_BCA_* variable for a live BCA partner named `bca`.',
    schema: httpsOrHttpUrl,
  },
  bcaClientId: { env: 'GERBANG_BCA_CLIENT_ID', doc: 'BCA OAuth2 client id.', schema: Joi.string().min(1), secret: true },
  bcaClientSecret: { env: 'GERBANG_BCA_CLIENT_SECRET', doc: 'BCA OAuth2 client secret.', schema: Joi.string().min(1), secret: true },
  bcaApiKey: { env: 'GERBANG_BCA_API_KEY', doc: 'BCA API key (X-BCA-Key).', schema: Joi.string().min(1), secret: true },
  bcaApiSecret: { env: 'GERBANG_BCA_API_SECRET', doc: 'BCA API secret, the HMAC key of X-BCA-Signature.', schema: Joi.string().min(1), secret: true },
  bcaCorporateId: { env: 'GERBANG_BCA_CORPORATE_ID', doc: 'KlikBCA Bisnis corporate id (CorporateID).', schema: Joi.string().min(1) },
  bcaOrigin: { env: 'GERBANG_BCA_ORIGIN', doc: 'The domain registered with BCA, sent as Origin.', schema: Joi.string().min(1) },
  bcaAccounts: {
    env: 'GERBANG_BCA_ACCOUNTS',
    doc: 'Comma-separated company accounts (10 digits) held at this BCA corporate, the default paying account first. A transfer is sent by the partner that holds its `sourceAccountNumber`; an account no partner lists cannot be paid from or read. Empty: the partner pays from no account.',
    schema: Joi.array().items(Joi.string().trim().pattern(/^\d{10}$/).messages({ 'string.pattern.base': 'each account must be 10 digits' })).unique().default([]),
    list: true,
  },
  bankPartnersFile: {
    env: 'GERBANG_BANK_PARTNERS_FILE',
    doc: 'JSON file `{"partners": [...]}` describing the bank partners (BCA legacy, SNAP BI banks): name, bank, protocol, priority, base URL and credentials; readable by its owner only. See the operator guide. With GERBANG_BCA_* also set, that BCA partner is added as `bca` with priority 1.',
    schema: Joi.string().min(1),
  },
  bifastMaxAmount: {
    env: 'GERBANG_BIFAST_MAX_AMOUNT',
    doc: 'Largest amount (IDR) sent by BI-FAST, chosen automatically (or allowed when asked for) when the partner offers it.',
    schema: amount.default('250000000.00'),
  },
  onlineMaxAmount: {
    env: 'GERBANG_ONLINE_MAX_AMOUNT',
    doc: 'Largest amount (IDR) sent by online switching (ATM networks).',
    schema: amount.default('50000000.00'),
  },
  sknMaxAmount: { env: 'GERBANG_SKN_MAX_AMOUNT', doc: 'Largest amount (IDR) sent by SKN (clearing).', schema: amount.default('1000000000.00') },
  rtgsMinAmount: {
    env: 'GERBANG_RTGS_MIN_AMOUNT',
    doc: 'Smallest amount (IDR) sent by RTGS; an automatic choice above the BI-FAST and online limits takes RTGS from here, SKN below.',
    schema: amount.default('100000000.01'),
  },
  egressLocalAddress: {
    env: 'GERBANG_EGRESS_LOCAL_ADDRESS',
    doc: 'Local address outbound bank calls are bound to (a VPS with several IPs: the one the bank whitelisted).',
    schema: Joi.string().ip(),
  },
  egressProxyUrl: { env: 'GERBANG_EGRESS_PROXY_URL', doc: 'HTTP(S) proxy for outbound bank calls.', schema: httpsOrHttpUrl },
  egressCaFile: { env: 'GERBANG_EGRESS_CA_FILE', doc: 'Extra CA certificate (PEM) trusted for bank TLS, added to the system CAs.', schema: Joi.string().min(1) },
  bankConnectTimeoutMs: {
    env: 'GERBANG_BANK_CONNECT_TIMEOUT_MS',
    doc: 'Time to open a connection to the bank. Short: nothing was sent yet, so failing fast is safe.',
    schema: millis.default(5_000),
  },
  bankHeadersTimeoutMs: {
    env: 'GERBANG_BANK_HEADERS_TIMEOUT_MS',
    doc:
      'Time for the bank to start answering. Past it a transfer is UNKNOWN (in doubt), never re-sent. ' +
      `With GERBANG_BANK_CONNECT_TIMEOUT_MS and GERBANG_BANK_BODY_TIMEOUT_MS it bounds one bank call, and ${BANK_CALLS_PER_SEND} such calls bound a send through one route (an access token, the transfer, a renewed token and the transfer again after the bank refused the token): ` +
      'a transfer still SENDING that long after its route was written (260 s with the defaults) is taken for interrupted (its process stopped), and a status read and the resolver ask the bank about it. ' +
      'Should a stalled sender outlast it, the bank\'s word about one route\'s id is still never stored on the row once its sender moved it to the next route.',
    schema: millis.default(30_000),
  },
  bankBodyTimeoutMs: { env: 'GERBANG_BANK_BODY_TIMEOUT_MS', doc: 'Time allowed for the body of a bank answer once its headers are in: both the idle time between chunks and the total (a bank dripping its answer is cut off, and the transfer is in doubt).', schema: millis.default(30_000) },
  bankBreakerFailures: {
    env: 'GERBANG_BANK_BREAKER_FAILURES',
    doc: 'Consecutive failed bank exchanges (no connection, timeout, 5xx) after which calls to that bank answer 503 at once, without sending.',
    schema: positive.default(5),
  },
  bankBreakerCooldownMs: {
    env: 'GERBANG_BANK_BREAKER_COOLDOWN_MS',
    doc: 'How long an open bank circuit refuses calls before one probe call is let through.',
    schema: millis.default(30_000),
  },
  cacheStalenessMs: {
    env: 'GERBANG_CACHE_STALENESS_MS',
    doc: 'How long a process keeps using a client row, an account grant of a client, the callback endpoint of a client or a bank token it read from the store before reading it again. A disabled client, a rotated secret, a changed allowlist (the origins allowed before authentication, CORS preflights included, too), a revoked account, a callback endpoint registered, changed or removed, or a bank token dropped from the shared cache takes effect on every node within this time (a new grant at once). 0 reads the store on every request. Ages are measured on each process\'s monotonic clock, not the wall clock: a node whose clock is stepped (NTP, a VM resumed) keeps the bound. An origin the last read of the clients does not allow is checked on a new read, shared by every request waiting for one and sent at most every 100 ms (this value, if shorter), so a new client\'s origin is served on its first request after at most that wait, and made-up origins cost at most 10 reads a second per process. A bank token\'s expiry and a token fetch\'s claim (its lease renewed while the bank answers) are wall times shared between nodes: they assume the nodes\' clocks agree within seconds (NTP); a node whose clock is behind may send a token the bank has already let expire, which the bank refuses and the gateway renews once, and the store never replaces a token with one that expires earlier.',
    schema: Joi.number().integer().min(0).max(1_000).default(1_000),
  },
  sealPaymentsAtInsert: {
    env: 'GERBANG_SEAL_PAYMENTS_AT_INSERT',
    doc: "Write a new payment with its paying account and details sealed in its INSERT, bound to its client, transaction id and creation time, instead of sealing them for its id by an UPDATE after it: one database statement less a transfer. Releases before this one cannot open such a payment (they answer 500 AUDIT_INTEGRITY for it), so turn it on only once every node (API, console, CLI) runs this release or a later one; turning it off again is safe, the payments written meanwhile stay readable by this release (see the upgrade section of docs/operator-guide.md).",
    schema: Joi.boolean().default(false),
  },
  resolverIntervalMs: {
    env: 'GERBANG_RESOLVER_INTERVAL_MS',
    doc: 'How often each API process looks for transfers in doubt to resolve by status inquiry (the back-off per transfer starts here and doubles up to 15 minutes). 0 turns the resolver off in this process.',
    schema: Joi.number().integer().min(0).default(10_000),
  },
  bankDayCloseWib: {
    env: 'GERBANG_BANK_DAY_CLOSE_WIB',
    doc: 'Time of day (HH:mm, WIB = UTC+7) on the day AFTER a transfer\'s transaction date by which the bank has booked every debit of that date. Only a statement of the paying account read after it (covering the transaction date and the next day) that shows no matching debit lets a transfer the bank does not know become FAILED, and refuses a review resolution of SUCCESS (the console and `gerbang transfer review resolve` read it too).',
    schema: Joi.string()
      .pattern(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm')
      .default('06:00'),
  },
  reviewAfterMs: {
    env: 'GERBANG_REVIEW_AFTER_MS',
    doc: 'A transfer still in doubt (UNKNOWN, PENDING) this long after it was received goes to the review queue (`gerbang transfer review`, the console\'s review page), where an admin resolves it with evidence. The resolver keeps asking the bank meanwhile; nothing is ever sent again.',
    schema: millis.default(48 * 3_600_000),
  },
  takeoverProofLinks: {
    env: 'GERBANG_TAKEOVER_PROOF_LINKS',
    doc: 'The most audit links read to prove a stale reservation (RECEIVED, its process stopped) was left behind before the ERP\'s resend takes it over. Beyond it the resend is answered 409 (Retry-After 3600), nothing is sent, and the reservation goes to the review queue for an admin to release or settle with evidence. 20,000 links took 1.0 to 2.3 s on a loaded 2-core machine (docs/security/threat-model.md).',
    schema: positive.default(20_000),
  },
  shutdownTimeoutMs: {
    env: 'GERBANG_SHUTDOWN_TIMEOUT_MS',
    doc: 'On SIGTERM, how long in-flight requests may take before the process exits anyway.',
    schema: millis.default(15_000),
  },
  consolePort: {
    env: 'CONSOLE_PORT',
    doc: 'TCP port of the finance console, a separate process (`gerbang console`) that the public API port never serves (0 picks a free one).',
    schema: port.default(8081),
  },
  consoleHost: {
    env: 'GERBANG_CONSOLE_HOST',
    doc: 'Address the finance console listens on. Keep it internal (127.0.0.1 behind a reverse proxy, or a VPN address).',
    schema: Joi.string().hostname().default('127.0.0.1'),
  },
  consoleIdleTimeoutSeconds: {
    env: 'GERBANG_CONSOLE_IDLE_TIMEOUT_SECONDS',
    doc: 'A console session unused for this long is signed out.',
    schema: Joi.number().integer().min(60).max(86_400).default(900),
  },
  consoleTlsCertFile: {
    env: 'GERBANG_CONSOLE_TLS_CERT_FILE',
    doc: 'PEM certificate (chain) for the console to serve HTTPS itself; with GERBANG_CONSOLE_TLS_KEY_FILE. Under TLS the session cookie is `Secure`.',
    schema: Joi.string().min(1),
  },
  consoleSignInPerIp: {
    env: 'GERBANG_CONSOLE_SIGN_IN_PER_IP',
    doc: 'Console sign-in attempts per minute from one address, counted before any password is hashed: beyond it the console answers 429 until the minute ends, so a flood of sign-ins costs no scrypt (and does not slow the API beside it). An IPv6 address counts as its /56, as for the API\'s limits, so one host cannot rotate through its own prefix.',
    schema: positive.default(20),
  },
  consoleUserMaxFailures: {
    env: 'GERBANG_CONSOLE_USER_MAX_FAILURES',
    doc: 'Failed console sign-ins for one user, from all addresses together, before that user is locked for GERBANG_LOGIN_LOCKOUT_SECONDS. One address (an IPv6 address: its /56) is locked out of a user after GERBANG_LOGIN_MAX_FAILURES, for that address only, and only those failures of a window count towards this lock, so one address alone cannot lock a user out for everyone, however long it tries: this must be above GERBANG_LOGIN_MAX_FAILURES (above twice it when GERBANG_LOGIN_LOCKOUT_SECONDS is shorter than GERBANG_LOGIN_FAILURE_WINDOW_SECONDS), or the console refuses to start. Many addresses together still can; `gerbang user unlock` or the admin page lifts both.',
    schema: positive.default(50),
  },
  consoleTlsKeyFile: { env: 'GERBANG_CONSOLE_TLS_KEY_FILE', doc: 'PEM private key of GERBANG_CONSOLE_TLS_CERT_FILE.', schema: Joi.string().min(1) },
  consoleApiUrl: {
    env: 'GERBANG_CONSOLE_API_URL',
    doc: "Where the console reaches Gerbang's own API (e.g. `http://127.0.0.1:8080`) to read company account statements for the reconciliation page and to cross-check a review resolution against the paying account's statement (the console's review page and `gerbang transfer review resolve` alike), as the API client GERBANG_CONSOLE_API_CLIENT_ID: the console and the CLI hold no bank credential, the gateway reads the statement and audits the call. Empty: the reconciliation page says statements cannot be read here, and a review resolution goes ahead on the admin's word, recorded as not cross-checked.",
    schema: Joi.string().uri({ scheme: ['https', 'http'] }).pattern(/^[^?#]*[^/?#]$/, 'no trailing slash'),
  },
  consoleApiClientId: {
    env: 'GERBANG_CONSOLE_API_CLIENT_ID',
    doc: 'The API client (`gerbang client create`, allowed from the console\'s address) the console reads statements as; it sees only the company accounts granted to it (`gerbang client grant-account`).',
    schema: Joi.string().min(1),
  },
  consoleApiClientSecret: { env: 'GERBANG_CONSOLE_API_CLIENT_SECRET', doc: 'The secret of GERBANG_CONSOLE_API_CLIENT_ID.', schema: Joi.string().min(1), secret: true },
  apiInstances: {
    env: 'GERBANG_API_INSTANCES',
    doc: "PM2 cluster workers of the API (read by ecosystem.config.js; `max`: one per CPU). Each worker's pool may open `connectionLimit` database connections, so under PM2 the API refuses to start when workers x connectionLimit (plus the console's pool) exceeds the database's max_connections.",
    schema: Joi.alternatives().try(Joi.number().integer().min(1).max(256), Joi.string().valid('max')).default('max'),
  },
  metricsPort: {
    env: 'GERBANG_METRICS_PORT',
    doc: 'Port of the Prometheus `GET /metrics` listener, separate from the API port so the reverse proxy never exposes it; `off` disables it, 0 picks a free one. Under PM2 cluster mode every worker asks for this one port: the worker that gets it answers for all of them, summing their metrics (see GERBANG_METRICS_PEERS_DIR), so Prometheus scrapes one target.',
    schema: Joi.alternatives().try(port, Joi.string().valid('off')).default(9464),
  },
  metricsPeersDir: {
    env: 'GERBANG_METRICS_PEERS_DIR',
    doc: 'Folder where each process sharing GERBANG_METRICS_PORT (the PM2 workers) opens a Unix socket that hands its metrics to the one holding the port. A subfolder per port is made in it, owner-only (0700); a folder another user owns or can open is refused. Not used with port 0 or `off`. The socket path must stay under 100 characters.',
    schema: Joi.string().min(1).default('var/metrics-peers'),
  },
  metricsStoreReadSeconds: {
    env: 'GERBANG_METRICS_STORE_READ_SECONDS',
    doc: 'The in-doubt, review-queue and overdue-callback gauges read the store at most once per this many seconds in each process; a scrape in between shows the last reading. 0 reads at every scrape.',
    schema: Joi.number().integer().min(0).max(3600).default(10),
  },
  metricsHost: {
    env: 'GERBANG_METRICS_HOST',
    doc: 'Address the metrics listener binds to. Loopback by default: a Prometheus on another host needs this and GERBANG_METRICS_ALLOWED_CIDRS both changed.',
    schema: Joi.string().hostname().default('127.0.0.1'),
  },
  metricsAllowedCidrs: {
    env: 'GERBANG_METRICS_ALLOWED_CIDRS',
    doc: 'Socket addresses (IPs/CIDRs) allowed to read /metrics; anyone else, and any request with X-Forwarded-For or Forwarded, gets 404. Empty: nobody. The same addresses are the operator\'s own health probes on the API port (PM2, a local monitor; straight, not through the proxy): only they are told /readyz\'s mode and checks, and their /healthz and /readyz are neither counted against the per-IP limit nor audited. Probes from anyone else (a load balancer) get `{"status":"ready"}` or `unready` alone, counted against GERBANG_RATE_LIMIT_PER_IP and audited (purged with the anonymous records).',
    schema: Joi.array().items(Joi.string().trim().min(1)).default(['127.0.0.1/32', '::1/128']),
    list: true,
  },
  logLevel: {
    env: 'GERBANG_LOG_LEVEL',
    doc: 'Log level: fatal, error, warn, info, debug, trace or silent.',
    schema: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
  },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

/**
 * The variables that hold secrets. They are kept out of PM2's records (ecosystem.config.js
 * filters them: `pm2 save` would write them to its dump file) and, in GERBANG_CONFIG_FILE, make
 * that file owner-only.
 */
export const SECRET_ENV_NAMES: readonly string[] = Object.values(SETTINGS as Record<string, SettingSpec>)
  .filter((spec) => spec.secret === true)
  .map((spec) => spec.env);

/** The BCA settings that must be given together: any one of them leaves sandbox mode. */
export const BCA_SETTINGS: SettingName[] = [
  'bcaBaseUrl',
  'bcaClientId',
  'bcaClientSecret',
  'bcaApiKey',
  'bcaApiSecret',
  'bcaCorporateId',
  'bcaOrigin',
];
