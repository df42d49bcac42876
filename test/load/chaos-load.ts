/**
 * Chaos load: `npm run chaos` (needs mariadb-install-db and mariadbd, as on Debian).
 *
 * A real PM2 cluster of two API workers on a private MariaDB instance (its own data directory
 * and port, so restarting it disturbs nothing else), paying into the BCA simulator, takes a
 * bounded concurrent load — 2,000 transfer requests, 10% of them duplicates of earlier ones —
 * while workers are SIGKILLed at random, the cluster is reloaded with `pm2 reload`, and the
 * database is stopped and started again. The client behaves as an ERP should: it resends the same
 * request (same transactionId) after a 409, 429, 503 or a broken connection, and accepts 201,
 * 202 and 422 as answers.
 *
 * It then lets the in-doubt resolver settle everything and checks, from the bank's side and the
 * audit's side: every transactionId executed by the bank exactly once, no answered request
 * missing from the audit, no request lost by the reload. The table goes to docs/chaos-load.md.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { openDb } from '../../src/store/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { sampleTransfer } from '../support/gateway-harness.js';
import { freePort, waitForHttp } from '../support/processes.js';
import { startTestBank } from '../support/test-bank.js';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const PM2 = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');

const TOTAL = Number(process.env.CHAOS_REQUESTS ?? 2000);
const DUPLICATE_SHARE = 0.1;
const CONCURRENCY = Number(process.env.CHAOS_CONCURRENCY ?? 16);

/** A MariaDB server of our own, so that stopping it is a real database restart and harms nobody. */
class PrivateMariaDb {
  private child: ChildProcess | null = null;
  private constructor(private readonly dir: string, readonly port: number) {}

  static async create(): Promise<PrivateMariaDb> {
    const dir = mkdtempSync(join(tmpdir(), 'gerbang-chaos-db-'));
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${dir}/data`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db']);
    const db = new PrivateMariaDb(dir, await freePort());
    await db.start();
    return db;
  }

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('mariadbd', ['--no-defaults', `--datadir=${this.dir}/data`, `--port=${this.port}`, '--bind-address=127.0.0.1', `--socket=${this.dir}/sock`, '--user=root', '--max-connections=500'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const db = openDb(this.url);
      try {
        await db.ping();
        return;
      } catch {
        await sleep(100);
      } finally {
        await db.close().catch(() => undefined);
      }
    }
    throw new Error('private MariaDB did not start');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

interface Send {
  body: Record<string, unknown>;
  duplicateOf: number | null;
}

interface Counters {
  attempts: number;
  answered: number;
  connectionErrors: number;
  connectionErrorsDuringReload: number;
  retriedStatuses: Record<string, number>;
  finalStatuses: Record<string, number>;
  gaveUp: number;
  requestIds: string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const started = Date.now();
  const db = await PrivateMariaDb.create();
  const admin = openDb(db.url);
  await admin.execute('CREATE DATABASE gerbang CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
  await admin.close();
  const databaseUrl = `${db.url}/gerbang`;

  const testBank = await startTestBank();
  const bank = testBank.simulator;
  bank.setAccount({ number: '0201245680', name: 'PT CHAOS', balance: '100000000000.00' });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PM2_HOME: mkdtempSync(join(tmpdir(), 'gerbang-chaos-pm2-')),
    PORT: String(port),
    GERBANG_API_INSTANCES: '2',
    GERBANG_DATABASE_URL: databaseUrl,
    GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
    GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
    GERBANG_LOG_LEVEL: 'warn',
    GERBANG_RATE_LIMIT_PER_IP: '10000000',
    GERBANG_RATE_LIMIT_PER_CLIENT: '10000000',
    GERBANG_RESOLVER_INTERVAL_MS: '1000',
    GERBANG_SHUTDOWN_TIMEOUT_MS: '5000',
    GERBANG_AUDIT_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'gerbang-chaos-spool-')),
    GERBANG_BANK_HEADERS_TIMEOUT_MS: '5000',
    // A payment whose worker was killed mid-send is inquired after connect + headers + body timeouts
    // (15 s here): well inside the ~40 s for which the ERP below keeps resending.
    GERBANG_BANK_BODY_TIMEOUT_MS: '5000',
    ...testBank.env(),
  };
  const pm2 = (...args: string[]) => run(process.execPath, [PM2, ...args], { env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  await runCli(['migrate'], env);
  const client = JSON.parse((await runCli(['client', 'create', '--name', 'chaos-erp', '--cidr', '127.0.0.1/32', '--json'], env)).stdout) as { clientId: string; clientSecret: string };
  await pm2('start', join(ROOT, 'ecosystem.config.js'), '--only', 'gerbang-api');
  await waitForHttp(`${base}/readyz`, 30_000);

  // The sends: 90% unique transfers, 10% resends of an earlier one (same body, same id).
  const sends: Send[] = [];
  for (let i = 0; i < TOTAL; i++) {
    const earlier = sends.filter((s) => s.duplicateOf === null);
    if (i > 20 && Math.random() < DUPLICATE_SHARE && earlier.length > 0) {
      const index = randomInt(earlier.length);
      sends.push({ body: earlier[index].body, duplicateOf: index });
    } else {
      sends.push({ body: sampleTransfer({ amount: `${randomInt(1, 5000)}.00`, remark: 'Chaos run' }), duplicateOf: null });
    }
  }
  const uniqueIds = new Set(sends.map((s) => s.body.transactionId as string));

  const agent = new Agent({ keepAliveTimeout: 4_000, connections: CONCURRENCY * 2 });
  const counters: Counters = { attempts: 0, answered: 0, connectionErrors: 0, connectionErrorsDuringReload: 0, retriedStatuses: {}, finalStatuses: {}, gaveUp: 0, requestIds: [] };
  let reloading = false;
  let token = '';
  const fetchToken = async () => {
    for (;;) {
      try {
        const res = await request(`${base}/v1/auth/token`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret }) });
        const body = (await res.body.json()) as { access_token?: string };
        if (res.statusCode === 200 && body.access_token) return (token = body.access_token);
      } catch {
        // a worker is restarting
      }
      await sleep(200);
    }
  };
  await fetchToken();

  async function sendOne(send: Send): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      counters.attempts++;
      try {
        const res = await request(`${base}/v1/transfers`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(send.body),
          headersTimeout: 30_000,
        });
        await res.body.text();
        counters.answered++;
        const requestId = res.headers['x-request-id'];
        if (typeof requestId === 'string') counters.requestIds.push(requestId);
        if (res.statusCode === 401) {
          await fetchToken();
          continue;
        }
        if ([201, 202, 422].includes(res.statusCode)) {
          counters.finalStatuses[res.statusCode] = (counters.finalStatuses[res.statusCode] ?? 0) + 1;
          return;
        }
        counters.retriedStatuses[res.statusCode] = (counters.retriedStatuses[res.statusCode] ?? 0) + 1;
      } catch {
        counters.connectionErrors++;
        if (reloading) counters.connectionErrorsDuringReload++;
      }
      await sleep(100 + randomInt(200));
    }
    counters.gaveUp++;
  }

  // Chaos at fixed points of progress.
  const events: string[] = [];
  let done = 0;
  const workerPids = async () =>
    (JSON.parse((await pm2('jlist')).stdout) as { name: string; pid: number; pm2_env: { status: string } }[])
      .filter((p) => p.name === 'gerbang-api' && p.pm2_env.status === 'online')
      .map((p) => p.pid);
  const chaos: { at: number; name: string; act: () => Promise<void> }[] = [
    { at: 0.1, name: 'SIGKILL a worker', act: async () => void process.kill((await workerPids())[0], 'SIGKILL') },
    {
      at: 0.25,
      name: 'pm2 reload (zero-downtime)',
      act: async () => {
        reloading = true;
        try {
          await pm2('reload', 'gerbang-api');
        } finally {
          reloading = false;
        }
      },
    },
    { at: 0.4, name: 'SIGKILL a worker', act: async () => void process.kill((await workerPids()).at(-1)!, 'SIGKILL') },
    {
      at: 0.55,
      name: 'database stopped for 3 s, then started',
      act: async () => {
        await db.stop();
        await sleep(3_000);
        await db.start();
      },
    },
    { at: 0.75, name: 'SIGKILL a worker', act: async () => void process.kill((await workerPids())[0], 'SIGKILL') },
  ];
  const chaosDone = (async () => {
    for (const event of chaos) {
      while (done < event.at * TOTAL) await sleep(20);
      const t = Date.now();
      await event.act().catch((error: Error) => events.push(`${event.name}: FAILED ${error.message}`));
      events.push(`${event.name} at request ${done} (${Date.now() - t} ms)`);
    }
  })();

  let next = 0;
  const loadStarted = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < sends.length) {
        const send = sends[next++];
        await sendOne(send);
        done++;
      }
    }),
  );
  await chaosDone;
  const loadMs = Date.now() - loadStarted;

  // Let the resolver look at every transfer left in doubt at least once (one the bank never
  // executed stays UNKNOWN: only the statement after the bank's day close, or an admin, proves it).
  const store = openDb(databaseUrl);
  const settleStarted = Date.now();
  let unsettled = Infinity;
  while (Date.now() - settleStarted < 120_000) {
    const [row] = await store.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM payments WHERE state IN ('RECEIVED', 'SENDING') OR (state IN ('UNKNOWN', 'PENDING') AND check_attempts = 0)",
    );
    unsettled = Number(row.n);
    if (unsettled === 0) break;
    await sleep(500);
  }

  // The bank's side: executions per ERP transactionId (the simulator keeps the last 10,000 calls).
  const executed = new Map<string, number>();
  let transferCalls = 0;
  for (const call of bank.calls) {
    if (call.method !== 'POST' || call.path !== '/banking/corporates/transfers') continue;
    transferCalls++;
    if (call.status !== 200 && !(call.status === 0 && call.body)) continue;
    const reference = (JSON.parse(call.body) as { ReferenceID: string }).ReferenceID;
    if (call.status === 200) executed.set(reference, (executed.get(reference) ?? 0) + 1);
  }
  const executedTwice = [...executed.values()].filter((n) => n > 1).length;

  // The audit's side: every answered request has its record.
  const [auditRow] = await store.query<{ n: number }>("SELECT COUNT(*) AS n FROM audit_exchanges WHERE path = '/v1/transfers'");
  const recorded = new Set<string>();
  for (let i = 0; i < counters.requestIds.length; i += 500) {
    const ids = counters.requestIds.slice(i, i + 500);
    const rows = await store.query<{ request_id: string }>(`SELECT request_id FROM audit_exchanges WHERE request_id IN (${ids.map(() => '?').join(',')})`, ids);
    for (const row of rows) recorded.add(row.request_id);
  }
  const missingFromAudit = counters.requestIds.filter((id) => !recorded.has(id)).length;
  const states = await store.query<{ state: string; n: number }>('SELECT state, COUNT(*) AS n FROM payments GROUP BY state');
  // A transfer the bank never executed is FAILED (the bank refused it) or still in doubt (UNKNOWN:
  // "not found" proves nothing until the statement after the bank's day close, or an admin), never
  // SUCCESS or lost; and a transfer the bank executed is never FAILED.
  const failedIds = new Set((await store.query<{ transaction_id: string }>("SELECT transaction_id FROM payments WHERE state = 'FAILED'")).map((r) => r.transaction_id));
  const inDoubtIds = new Set((await store.query<{ transaction_id: string }>("SELECT transaction_id FROM payments WHERE state IN ('UNKNOWN', 'PENDING', 'SENDING')")).map((r) => r.transaction_id));
  const unaccounted = [...uniqueIds].filter((id) => !executed.has(id) && !failedIds.has(id) && !inDoubtIds.has(id)).length;
  const executedButFailed = [...executed.keys()].filter((id) => failedIds.has(id)).length;
  const executedInDoubt = [...executed.keys()].filter((id) => inDoubtIds.has(id)).length;
  const [paymentRows] = await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM payments');
  await store.close();

  await pm2('kill').catch(() => undefined);
  // The audit's hash chains after workers were killed mid-write and the database stopped: every
  // chain must verify (an interrupted write rolls back whole, record and link together).
  const verified = await runCli(['audit', 'verify'], env);
  const verdict = `${(verified.stdout.trim().split('\n')[0] ?? '').replace(/^audit verify: /, '')} (exit ${verified.code})`;
  await bank.close();
  await db.stop();

  const rows: [string, string | number][] = [
    ['Requests planned (10% duplicates)', `${TOTAL} (${TOTAL - uniqueIds.size} duplicates)`],
    ['Unique transactionIds', uniqueIds.size],
    ['HTTP attempts (ERP resends included)', counters.attempts],
    ['Answers received', counters.answered],
    ['Final answers 201 / 202 / 422', `${counters.finalStatuses[201] ?? 0} / ${counters.finalStatuses[202] ?? 0} / ${counters.finalStatuses[422] ?? 0}`],
    ['Answers asking to retry (status: count)', JSON.stringify(counters.retriedStatuses)],
    ['Broken connections (workers killed, database down)', counters.connectionErrors],
    ['Broken connections during `pm2 reload`', counters.connectionErrorsDuringReload],
    ['Requests given up', counters.gaveUp],
    ['Transfer calls the bank received', transferCalls],
    ['TransactionIds the bank executed', executed.size],
    ['TransactionIds the bank executed more than once', executedTwice],
    ['TransactionIds neither executed once nor FAILED nor in doubt (lost)', unaccounted],
    ['TransactionIds FAILED that the bank executed', executedButFailed],
    ['Payments stored / never checked after the resolver ran', `${paymentRows.n} / ${unsettled}`],
    ['TransactionIds the bank executed still in doubt', executedInDoubt],
    ['Payment states', states.map((s) => `${s.state} ${s.n}`).join(', ')],
    ['Audit records of /v1/transfers', auditRow.n],
    ['Answered requests missing from the audit', missingFromAudit],
    ['`gerbang audit verify` afterwards', verdict],
    ['Load duration', `${(loadMs / 1000).toFixed(1)} s`],
  ];
  const report = [
    '# Chaos load report',
    '',
    `Generated by \`npm run chaos\` (test/load/chaos-load.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${TOTAL} requests, concurrency ${CONCURRENCY}, PM2 cluster of 2 workers, private MariaDB, BCA simulator. Whole run ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    '',
    'Chaos, in order:',
    '',
    ...events.map((e) => `- ${e}`),
    '',
    '| Measure | Value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    'What must hold: the bank executed every unique transactionId at most once, and each one it did',
    'not execute is FAILED or stays in doubt (UNKNOWN until the statement after the bank\'s day close or an',
    'admin proves it), none FAILED that it executed, none lost; every answered request has its audit record (those refused while the database was down',
    'were journaled on disk and written when it came back); every hash chain verifies; and `pm2 reload`',
    'broke no connection.',
    'Broken connections outside the reload are the SIGKILLed workers and the stopped database; the',
    'client resent those requests, as an ERP does, and got the stored answer.',
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'docs', 'chaos-load.md'), report);
  process.stdout.write(report);
  const ok = executedTwice === 0 && unaccounted === 0 && missingFromAudit === 0 && counters.connectionErrorsDuringReload === 0 && counters.gaveUp === 0 && unsettled === 0 && executedButFailed === 0 && executedInDoubt === 0;
  process.exitCode = ok ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
