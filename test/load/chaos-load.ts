/**
 * Chaos load: `npm run chaos` (needs mariadb-install-db and mariadbd, as on Debian).
 *
 * A real PM2 cluster of two API workers on a private MariaDB instance (its own data directory
 * and port, so killing it disturbs nothing else), paying into the BCA simulator, takes several
 * rounds (CHAOS_ROUNDS, default 5) of a bounded concurrent load — CHAOS_REQUESTS transfer
 * requests per round (default 400), 10% of them duplicates of earlier ones — while workers are
 * SIGKILLed, the cluster is reloaded with `pm2 reload`, the database is stopped cleanly, crashed
 * (SIGKILL) and hung (SIGSTOP, then SIGCONT), and a worker is SIGKILLed just as the database
 * comes back (while it writes its on-disk audit journal back). The client behaves as an ERP
 * should: it resends the same request (same transactionId) after a 409, 429, 503 or a broken
 * connection, and accepts 201, 202 and 422 as answers.
 *
 * After each round it lets the in-doubt resolver settle everything and checks, from the bank's
 * ledger, what the ERP was told and the audit: every transactionId executed at most once; none
 * the bank executed answered or settled FAILED, and each one SUCCESS once the resolver ran; none
 * the bank did not execute answered or settled SUCCESS (it is FAILED, or held in doubt until the
 * next morning's statement can prove it); every answered request has a complete audit record (its answer, and the bank
 * leg of every answer that sent the transfer); no request lost by the reload or given up. Every
 * round goes to docs/chaos-load.md, the bad ones too.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { processAlive } from '../../src/host/index.js';
import { openDb } from '../../src/store/index.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { runCli } from '../support/cli.js';
import { sampleTransfer } from '../support/gateway-harness.js';
import { freePort, waitForHttp } from '../support/processes.js';
import { startTestBank } from '../support/test-bank.js';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const PM2 = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');

const TOTAL = Number(process.env.CHAOS_REQUESTS ?? 400);
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 5);
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

  /** SIGTERM (a clean stop), or SIGKILL (a crash: InnoDB recovers at the next start). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }
}

interface Send {
  body: Record<string, unknown>;
  duplicateOf: number | null;
}

/** The last answer the ERP got for a transactionId: its HTTP status and the transfer status in it. */
interface Told {
  http: number;
  status: string | null;
  /** The answer came from the stored result (Idempotent-Replayed), not from a send. */
  replayed: boolean;
}

interface Counters {
  attempts: number;
  answered: number;
  connectionErrors: number;
  connectionErrorsDuringReload: number;
  /** The error code of each connection broken during the reload (ECONNREFUSED: no worker listening; ECONNRESET: a worker cut it). */
  reloadErrorCodes: Record<string, number>;
  retriedStatuses: Record<string, number>;
  finalStatuses: Record<string, number>;
  gaveUp: number;
  /** Every answer received: its request id and HTTP status. */
  answers: { requestId: string; status: number; replayed: boolean }[];
  told: Map<string, Told>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface RoundResult {
  events: string[];
  rows: [string, string | number][];
  ok: boolean;
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
    // PM2's daemon as the operator guide starts it (ecosystem.config.js refuses one without it).
    NODE_CLUSTER_SCHED_POLICY: 'none',
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
    // This run's own checkpoints: a file another run signed with its own throwaway key would be read as forged.
    GERBANG_AUDIT_CHECKPOINT_FILE: join(mkdtempSync(join(tmpdir(), 'gerbang-chaos-checkpoints-')), 'audit-checkpoints.jsonl'),
    GERBANG_BANK_HEADERS_TIMEOUT_MS: '5000',
    // A payment whose worker was killed mid-send is inquired after connect + headers + body timeouts
    // (15 s here): well inside the ~40 s for which the ERP below keeps resending.
    GERBANG_BANK_BODY_TIMEOUT_MS: '5000',
    ...testBank.env(),
  };
  const pm2 = (...args: string[]) => run(process.execPath, [PM2, ...args], { env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  await runCli(['migrate'], env);
  const client = JSON.parse((await runCli(['client', 'create', '--name', 'chaos-erp', '--cidr', '127.0.0.1/32', '--json'], env)).stdout) as { clientId: string; clientSecret: string };
  await runCli(['client', 'grant-account', '--id', client.clientId, '--account', '0201245680'], env);
  await pm2('start', join(ROOT, 'ecosystem.config.js'), '--only', 'gerbang-api');
  await waitForHttp(`${base}/readyz`, 30_000);

  const agent = new Agent({ keepAliveTimeout: 4_000, connections: CONCURRENCY * 2 });
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
  const workerPids = async () =>
    (JSON.parse((await pm2('jlist')).stdout) as { name: string; pid: number; pm2_env: { status: string } }[])
      .filter((p) => p.name === 'gerbang-api' && p.pm2_env.status === 'online')
      .map((p) => p.pid);
  /**
   * SIGKILLs a worker and returns once it is gone and the load generator has seen the connections
   * it held break (ECONNRESET or UND_ERR_SOCKET, 8-35 ms after the kill on a cluster of two), so
   * that a reload begun next (its successor still launching) is charged only with what it breaks.
   */
  const killWorker = async (pid: number) => {
    process.kill(pid, 'SIGKILL');
    for (let waited = 0; processAlive(pid) && waited < 5_000; waited += 10) await sleep(10);
    await sleep(250);
  };

  async function round(): Promise<RoundResult> {
    bank.reset();
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
    const counters: Counters = { attempts: 0, answered: 0, connectionErrors: 0, connectionErrorsDuringReload: 0, reloadErrorCodes: {}, retriedStatuses: {}, finalStatuses: {}, gaveUp: 0, answers: [], told: new Map() };
    let reloading = false;

    async function sendOne(send: Send): Promise<void> {
      const transactionId = send.body.transactionId as string;
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
          const text = await res.body.text();
          counters.answered++;
          const requestId = res.headers['x-request-id'];
          if (typeof requestId === 'string') counters.answers.push({ requestId, status: res.statusCode, replayed: res.headers['idempotent-replayed'] === 'true' });
          if (res.statusCode === 401) {
            await fetchToken();
            continue;
          }
          if ([201, 202, 422].includes(res.statusCode)) {
            counters.finalStatuses[res.statusCode] = (counters.finalStatuses[res.statusCode] ?? 0) + 1;
            let status: string | null = null;
            try {
              status = ((JSON.parse(text) as { status?: string }).status ?? null);
            } catch {
              status = null;
            }
            counters.told.set(transactionId, { http: res.statusCode, status, replayed: res.headers['idempotent-replayed'] === 'true' });
            return;
          }
          counters.retriedStatuses[res.statusCode] = (counters.retriedStatuses[res.statusCode] ?? 0) + 1;
        } catch (error) {
          counters.connectionErrors++;
          if (reloading) {
            counters.connectionErrorsDuringReload++;
            const code = String((error as { code?: unknown }).code ?? (error as Error).name);
            counters.reloadErrorCodes[code] = (counters.reloadErrorCodes[code] ?? 0) + 1;
          }
        }
        await sleep(100 + randomInt(200));
      }
      counters.gaveUp++;
    }

    // Chaos at fixed points of progress.
    const events: string[] = [];
    let done = 0;
    const chaos: { at: number; name: string; act: () => Promise<void> }[] = [
      { at: 0.08, name: 'SIGKILL a worker', act: async () => killWorker((await workerPids())[0]) },
      {
        at: 0.2,
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
      {
        at: 0.35,
        name: 'database stopped for 3 s, then started',
        act: async () => {
          await db.stop();
          await sleep(3_000);
          await db.start();
        },
      },
      {
        at: 0.5,
        name: 'database crashed (SIGKILL) for 3 s, then started (InnoDB recovery); a worker SIGKILLed as it comes back, while it writes its audit journal back',
        act: async () => {
          await db.stop('SIGKILL');
          await sleep(3_000);
          await db.start();
          // The workers replay their journals at once when the store answers again (and every 5 s).
          await sleep(randomInt(50, 400));
          process.kill((await workerPids()).at(-1)!, 'SIGKILL');
        },
      },
      {
        at: 0.65,
        name: 'database hung (SIGSTOP) for 8 s, then resumed (SIGCONT)',
        act: async () => {
          db.pause();
          await sleep(8_000);
          db.resume();
        },
      },
      { at: 0.8, name: 'SIGKILL a worker', act: async () => killWorker((await workerPids())[0]) },
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

    // The bank's ledger: executions per ERP transactionId.
    const ledger = () => {
      const executed = new Map<string, number>();
      let transferCalls = 0;
      for (const call of bank.calls) {
        if (call.method !== 'POST' || call.path !== '/banking/corporates/transfers') continue;
        transferCalls++;
        if (call.status !== 200) continue;
        const reference = (JSON.parse(call.body) as { ReferenceID: string }).ReferenceID;
        executed.set(reference, (executed.get(reference) ?? 0) + 1);
      }
      return { executed, transferCalls };
    };

    // Let the resolver settle what it can, and the journals be written back. A transfer the bank
    // executed must come out SUCCESS (the status inquiry finds it); one it never executed may stay
    // in doubt: "not found" proves nothing, and only the statement read after the bank's day has
    // closed (GERBANG_BANK_DAY_CLOSE_WIB, the next morning) may make it FAILED.
    const store = openDb(databaseUrl);
    const ids = [...uniqueIds];
    const inList = (values: string[]) => values.map(() => '?').join(',');
    const settleStarted = Date.now();
    let unsettled = Infinity;
    while (Date.now() - settleStarted < 120_000) {
      const { executed } = ledger();
      const open = await store.query<{ transaction_id: string; state: string }>(
        `SELECT transaction_id, state FROM payments WHERE state IN ('RECEIVED', 'SENDING', 'UNKNOWN', 'PENDING') AND transaction_id IN (${inList(ids)})`,
        ids,
      );
      unsettled = open.filter((row) => row.state === 'RECEIVED' || row.state === 'SENDING' || executed.has(row.transaction_id)).length;
      if (unsettled === 0) break;
      await sleep(500);
    }
    // Journals are written back every 5 s: give the workers two passes.
    await sleep(11_000);

    const { executed, transferCalls } = ledger();
    const executedTwice = [...executed.values()].filter((n) => n > 1).length;

    // What the ERP was told and what the gateway settled, against the ledger.
    const settledRows = await store.query<{ transaction_id: string; state: string }>(`SELECT transaction_id, state FROM payments WHERE transaction_id IN (${inList(ids)})`, ids);
    const settled = new Map(settledRows.map((r) => [r.transaction_id, r.state]));
    let executedButFailed = 0;
    let refusedButSuccess = 0;
    for (const id of ids) {
      const told = counters.told.get(id);
      const state = settled.get(id);
      if (executed.has(id) && (told?.status === 'FAILED' || state === 'FAILED')) executedButFailed++;
      if (!executed.has(id) && (told?.status === 'SUCCESS' || state === 'SUCCESS')) refusedButSuccess++;
    }
    // Never executed: FAILED, or held in doubt (answered 202, in the review queue) until the statement proves it.
    const heldInDoubt = ids.filter((id) => !executed.has(id) && (settled.get(id) === 'UNKNOWN' || settled.get(id) === 'PENDING')).length;
    const unaccounted = ids.filter((id) => !executed.has(id) && settled.get(id) !== 'FAILED' && settled.get(id) !== 'UNKNOWN' && settled.get(id) !== 'PENDING').length;

    // The audit: every answered request has its record, completed with the answer it got; an
    // answer that sent the transfer (201/202 not replayed, 422 from the bank) has its bank leg.
    const audit = new Map<string, { status: number | null; outcome: string; legs: number }>();
    const requestIds = counters.answers.map((a) => a.requestId);
    for (let i = 0; i < requestIds.length; i += 500) {
      const chunk = requestIds.slice(i, i + 500);
      const rows = await store.query<{ request_id: string; status_code: number | null; outcome: string; legs: number }>(
        // A completed exchange's answer is its own row (audit_completions); one recorded whole keeps it in the exchange.
        'SELECT e.request_id, COALESCE(c.status_code, e.status_code) AS status_code, COALESCE(c.outcome, e.outcome) AS outcome, ' +
          '(SELECT COUNT(*) FROM audit_bank_calls b WHERE b.exchange_id = e.id OR b.request_id = e.request_id) AS legs ' +
          `FROM audit_exchanges e LEFT JOIN audit_completions c ON c.exchange_id = e.id WHERE e.request_id IN (${inList(chunk)})`,
        chunk,
      );
      for (const row of rows) audit.set(row.request_id, { status: row.status_code === null ? null : Number(row.status_code), outcome: row.outcome, legs: Number(row.legs) });
    }
    const missingFromAudit = counters.answers.filter((a) => !audit.has(a.requestId)).length;
    const incomplete = counters.answers.filter((a) => {
      const row = audit.get(a.requestId);
      return row !== undefined && (row.outcome === 'in_progress' || row.status !== a.status);
    }).length;
    const sentAnswers = counters.answers.filter((a) => (a.status === 201 || a.status === 202) && !a.replayed);
    const replayedIds = new Set([...counters.told.entries()].filter(([, t]) => t.replayed).map(([id]) => id));
    const withoutLeg = sentAnswers.filter((a) => {
      const row = audit.get(a.requestId);
      return row !== undefined && row.legs === 0;
    }).length;
    const states = await store.query<{ state: string; n: number }>(`SELECT state, COUNT(*) AS n FROM payments WHERE transaction_id IN (${inList(ids)}) GROUP BY state`, ids);
    await store.close();

    const rows: [string, string | number][] = [
      ['Requests planned (10% duplicates)', `${TOTAL} (${TOTAL - uniqueIds.size} duplicates)`],
      ['HTTP attempts (ERP resends included)', counters.attempts],
      ['Final answers 201 / 202 / 422 (replayed among them)', `${counters.finalStatuses[201] ?? 0} / ${counters.finalStatuses[202] ?? 0} / ${counters.finalStatuses[422] ?? 0} (${replayedIds.size})`],
      ['Answers asking to retry (status: count)', JSON.stringify(counters.retriedStatuses)],
      ['Broken connections (workers killed, database down)', counters.connectionErrors],
      ['Broken connections during `pm2 reload`', Object.keys(counters.reloadErrorCodes).length === 0 ? 0 : `${counters.connectionErrorsDuringReload} (${JSON.stringify(counters.reloadErrorCodes)})`],
      ['Requests given up', counters.gaveUp],
      ['Transfer calls the bank received / transactionIds it executed', `${transferCalls} / ${executed.size}`],
      ['TransactionIds the bank executed more than once', executedTwice],
      ['Executed by the bank but answered or settled FAILED', executedButFailed],
      ['Not executed but answered or settled SUCCESS', refusedButSuccess],
      ['Not executed, held in doubt until the statement can prove it (fail closed)', heldInDoubt],
      ['TransactionIds neither executed nor FAILED nor held in doubt (lost)', unaccounted],
      ['Sending, or executed but not yet SUCCESS, after the resolver ran', unsettled],
      ['Payment states', states.map((s) => `${s.state} ${s.n}`).join(', ')],
      ['Answered requests missing from the audit', missingFromAudit],
      ['Answered requests whose record lacks the answer (in progress, or another status)', incomplete],
      ['Answers 201/202 (not replayed) whose record has no bank leg', withoutLeg],
      ['Load duration', `${(loadMs / 1000).toFixed(1)} s`],
    ];
    const ok =
      executedTwice === 0 &&
      executedButFailed === 0 &&
      refusedButSuccess === 0 &&
      unaccounted === 0 &&
      missingFromAudit === 0 &&
      incomplete === 0 &&
      withoutLeg === 0 &&
      counters.connectionErrorsDuringReload === 0 &&
      counters.gaveUp === 0 &&
      unsettled === 0;
    return { events, rows, ok };
  }

  const results: RoundResult[] = [];
  for (let n = 1; n <= ROUNDS; n++) {
    const result = await round();
    results.push(result);
    process.stdout.write(`round ${n}: ${result.ok ? 'held' : 'FAILED'}\n`);
  }

  await pm2('kill').catch(() => undefined);
  // The audit's hash chains after workers were killed mid-write and the database crashed: every
  // chain must verify (an interrupted write rolls back whole, record and link together).
  const verified = await runCli(['audit', 'verify'], env);
  const verifyLines = verified.stdout.trim().split('\n');
  // A break is shown whole (each chain's first break, named), so the report says what broke.
  const verdict = `${(verifyLines[0] ?? '').replace(/^audit verify: /, '')} (exit ${verified.code})${verifyLines.length > 1 ? `\n\n${verifyLines.slice(1, 41).map((line) => `    ${line}`).join('\n')}\n` : ''}`;
  process.stdout.write(`${verified.stdout}\n${verified.stderr}\n`);
  await bank.close();
  await db.stop();

  const report = [
    '# Chaos load report',
    '',
    `Generated by \`npm run chaos\` (test/load/chaos-load.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}: ${ROUNDS} rounds in a row of ${TOTAL} requests each, concurrency ${CONCURRENCY}, PM2 cluster of 2 workers, private MariaDB, BCA simulator. Whole run ${((Date.now() - started) / 1000).toFixed(0)} s. Every round is shown, the failed ones too.`,
    '',
    `Rounds that held every criterion: ${results.filter((r) => r.ok).length} of ${ROUNDS}. \`gerbang audit verify\` after the last round: ${verdict}.`,
    '',
    ...results.flatMap((result, i) => [
      `## Round ${i + 1}: ${result.ok ? 'held' : 'FAILED'}`,
      '',
      'Chaos, in order:',
      '',
      ...result.events.map((e) => `- ${e}`),
      '',
      '| Measure | Value |',
      '|---|---|',
      ...result.rows.map(([k, v]) => `| ${k} | ${v} |`),
      '',
    ]),
    'What must hold in every round: the bank executed every unique transactionId at most once; none it',
    'executed was answered or settled FAILED, none it did not execute was answered or settled SUCCESS,',
    'and each one it did not execute is FAILED or held in doubt (the ERP told 202: "not found" proves nothing',
    'before the statement of the next morning), none lost; each one it executed is SUCCESS once the resolver',
    'ran; every answered request has its audit record, completed with the answer the ERP got (those',
    'answered while the database was away were journaled on disk and written when it came back, also',
    'when the worker writing them back was killed); no request given up; `pm2 reload` broke no connection;',
    'and every hash chain verifies. Broken connections outside the reload are the SIGKILLed workers and',
    'the database crash and hang; the client resent those requests, as an ERP does. A SIGKILL event',
    'ends once the client has seen the killed worker\'s connections break, so a reload that follows it',
    'at once (the successor still launching) is charged only with the connections the reload breaks.',
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'docs', 'chaos-load.md'), report);
  process.stdout.write(report);
  process.exitCode = results.every((r) => r.ok) && verified.code === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
