import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent as KeepAliveAgent, request } from 'undici';
import { processAlive } from '../../src/host/index.js';
import { runCli } from '../support/cli.js';
import { eventually, sampleTransfer } from '../support/gateway-harness.js';
import { freePort, waitForHttp } from '../support/processes.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { missingTool } from '../support/missing-tool.js';
import { pidsHoldingServerEnd } from '../support/socket-owner.js';
import { pm2With, ROOT } from '../support/pm2.js';


/** The sum of a metric's samples whose labels include `labels` (over every other label). */
function total(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.slice(name.length).split('}')[0].includes(pair))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** What one worker hands over on its socket: its own metrics, `getMetricsAsJSON()`. */
function snapshotOf(socketPath: string): Promise<{ name: string; values: { value: number; labels: Record<string, string> }[] }[]> {
  return new Promise((resolve, reject) => {
    get({ socketPath, path: '/snapshot' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

/**
 * The real PM2 runs ecosystem.config.js: the compiled API in cluster mode with wait_ready. Its
 * own PM2_HOME keeps the test's daemon apart from any other.
 */
describe('ecosystem.config.js under PM2', function () {
  this.timeout(120_000);
  let env: NodeJS.ProcessEnv;
  let base: string;
  let consoleBase: string;
  let metricsPort: number;
  let peersDir: string;
  let client: { clientId: string; clientSecret: string };
  let secrets: Record<string, string>;

  const pm2 = (...args: string[]) => pm2With(env, 0)(...args);

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const consolePort = await freePort();
    consoleBase = `http://127.0.0.1:${consolePort}`;
    metricsPort = await freePort();
    // Short: the workers' Unix sockets live in it (a socket path has at most 107 bytes).
    peersDir = mkdtempSync(join(tmpdir(), 'gbp-'));
    // The secrets as the operator guide says: in an owner-only GERBANG_CONFIG_FILE. The JWT secret
    // is also exported in the shell, as a careless operator would: PM2 must not record it either.
    secrets = {
      GERBANG_DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-pm2-db-')), 'g.sqlite')}`,
      GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
      GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
    };
    const configFile = join(mkdtempSync(join(tmpdir(), 'gerbang-pm2-config-')), 'gerbang.json');
    writeFileSync(configFile, JSON.stringify(secrets), { mode: 0o600 });
    env = {
      CONSOLE_PORT: String(consolePort),
      ...process.env,
      PM2_HOME: mkdtempSync(join(tmpdir(), 'gerbang-pm2-')),
      // In the shell that starts PM2's daemon, as the operator guide says: its workers accept
      // connections themselves, so PM2 holds none that a dying worker would leave unanswered.
      NODE_CLUSTER_SCHED_POLICY: 'none',
      PORT: String(port),
      GERBANG_API_INSTANCES: '2',
      GERBANG_SANDBOX: 'true',
      GERBANG_CONFIG_FILE: configFile,
      GERBANG_JWT_SECRET: secrets.GERBANG_JWT_SECRET,
      GERBANG_LOG_LEVEL: 'warn',
      GERBANG_RATE_LIMIT_PER_IP: '1000000',
      GERBANG_RATE_LIMIT_PER_CLIENT: '1000000',
      GERBANG_METRICS_PORT: String(metricsPort),
      GERBANG_METRICS_PEERS_DIR: peersDir,
    };
    await runCli(['migrate'], env as Record<string, string>);
    const created = await runCli(['client', 'create', '--name', 'erp', '--cidr', '127.0.0.1/32', '--json'], env as Record<string, string>);
    client = JSON.parse(created.stdout);
    await runCli(['client', 'grant-account', '--id', client.clientId, '--account', '0201245680'], env as Record<string, string>);
    await pm2('start', join(ROOT, 'ecosystem.config.js'));
    await waitForHttp(`${base}/healthz`, 30_000);
    await waitForHttp(`${consoleBase}/console/sign-in`, 30_000);
  });

  after(async () => {
    await pm2('kill').catch(() => undefined);
  });

  it('runs two API workers in cluster mode', async () => {
    const { stdout } = await pm2('jlist');
    const apps = (JSON.parse(stdout) as { name: string; pm2_env: { status: string; exec_mode: string } }[]).filter((a) => a.name === 'gerbang-api');
    expect(apps).to.have.length(2);
    for (const app of apps) {
      expect(app.pm2_env.exec_mode).to.equal('cluster_mode');
      expect(app.pm2_env.status).to.equal('online');
    }
  });

  it('writes each API worker\'s log lines to PM2\'s log file of the app, which `pm2 logs gerbang-api` shows, and none to PM2\'s own log', async () => {
    const { stdout } = await pm2('jlist');
    const pids = (JSON.parse(stdout) as { name: string; pid: number }[]).filter((a) => a.name === 'gerbang-api').map((a) => a.pid);
    expect(pids).to.have.length(2);
    // Each worker's start-up warning in sandbox mode (kept at GERBANG_LOG_LEVEL=warn), by its pid.
    // `pm2 logs` puts `<id>|<app> | ` before each line: the JSON starts at the first brace.
    const sandboxPids = (text: string) =>
      text.split('\n').flatMap((line) => {
        try {
          const entry = JSON.parse(line.slice(line.indexOf('{'))) as { pid?: number; msg?: string };
          return entry.msg?.startsWith('SANDBOX MODE') ? [entry.pid] : [];
        } catch {
          return [];
        }
      });
    const outLog = join(env.PM2_HOME!, 'logs', 'gerbang-api-out.log');
    const inFile = await eventually(async () => {
      const found = sandboxPids(readFileSync(outLog, 'utf8'));
      return pids.every((pid) => found.includes(pid)) ? found : null;
    }, 10_000).catch(() => sandboxPids(readFileSync(outLog, 'utf8')));
    expect(inFile, `workers ${pids.join(', ')} whose start-up line is in ${outLog}`).to.include.members(pids);
    const shown = await pm2('logs', 'gerbang-api', '--nostream', '--lines', '200');
    expect(sandboxPids(shown.stdout), 'the workers whose start-up line `pm2 logs gerbang-api --nostream` shows').to.include.members(pids);
    expect(sandboxPids(readFileSync(join(env.PM2_HOME!, 'pm2.log'), 'utf8')), 'lines in PM2\'s own pm2.log').to.deep.equal([]);
  });

  it('runs the finance console as a second app on CONSOLE_PORT, which the API port does not serve', async () => {
    const { stdout } = await pm2('jlist');
    const apps = (JSON.parse(stdout) as { name: string; pm2_env: { status: string; exec_mode: string } }[]).filter((a) => a.name === 'gerbang-console');
    expect(apps).to.have.length(1);
    expect(apps[0].pm2_env.status).to.equal('online');
    const page = await fetch(`${consoleBase}/console/sign-in`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.contain('name="password"');
    const refused = await fetch(`${base}/console/sign-in`);
    expect(refused.status).to.equal(404);
    await refused.arrayBuffer();
  });

  /** The one /metrics of the cluster, once it sums `workers` processes. */
  const clusterMetrics = (workers: number) =>
    eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => null);
      const text = res?.status === 200 ? await res.text() : '';
      return total(text, 'gerbang_metrics_processes', {}) === workers ? text : null;
    }, 30_000);

  it('serves one /metrics on GERBANG_METRICS_PORT for both workers, whose request counts add up to the requests sent', async () => {
    const healthz = { method: 'GET', route: '/healthz', status: '200' };
    const before = total(await clusterMetrics(2), 'gerbang_http_requests_total', healthz);
    const sent = 40;
    for (let i = 0; i < sent; i += 1) {
      // A new connection each time: PM2 hands connections to its workers in turn.
      const res = await fetch(`${base}/healthz`, { headers: { connection: 'close' } });
      expect(res.status).to.equal(200);
      await res.arrayBuffer();
    }
    const text = await clusterMetrics(2);
    expect(total(text, 'gerbang_http_requests_total', healthz) - before).to.equal(sent);
    // They did land on both workers: each one's own count, read from its socket, has some of them.
    const sockets = readdirSync(join(peersDir, String(metricsPort))).filter((name) => name.endsWith('.sock'));
    expect(sockets).to.have.length(2);
    const own = await Promise.all(
      sockets.map(async (name) => {
        const snapshot = await snapshotOf(join(peersDir, String(metricsPort), name));
        const counter = snapshot.find((metric) => metric.name === 'gerbang_http_requests_total')!;
        return counter.values.filter((v) => v.labels.route === '/healthz' && String(v.labels.status) === '200').reduce((sum, v) => sum + v.value, 0);
      }),
    );
    for (const count of own) expect(count, `each worker's own /healthz count: ${own.join(', ')}`).to.be.greaterThan(0);
    expect(own[0] + own[1]).to.equal(total(text, 'gerbang_http_requests_total', healthz));
    // One of each series, not one per worker; gauges of the shared store are not doubled.
    expect(text.match(/^# TYPE gerbang_http_requests_total counter$/gm)).to.have.length(1);
    expect(text).to.match(/^gerbang_transfers_in_doubt\{state="UNKNOWN"\} 0$/m);
    expect(text).to.match(/^gerbang_build_info\{[^}]*\} 1$/m);
  });

  it('has its requests answered by two different processes, the two workers PM2 reports', async () => {
    // Both workers online under two pids (a worker PM2 is restarting is listed, pid and status, in the failure).
    let listed = '';
    const pids = await eventually(async () => {
      const { stdout } = await pm2('jlist');
      const apps = (JSON.parse(stdout) as { name: string; pid: number; pm2_env: { status: string; restart_time?: number } }[]).filter((a) => a.name === 'gerbang-api');
      listed = JSON.stringify(apps.map((a) => ({ pid: a.pid, status: a.pm2_env.status, restarts: a.pm2_env.restart_time })));
      const online = apps.filter((a) => a.pm2_env.status === 'online').map((a) => a.pid);
      return new Set(online).size === 2 ? online : null;
    }, 30_000).catch(() => []);
    expect(new Set(pids).size, `two different processes online: ${listed}`).to.equal(2);
    // Seen from the kernel, not from what a worker says of itself: the process holding the
    // accepted end of each connection. PM2 hands new connections to its workers in turn, among
    // those listening: a worker PM2 lists online may still be starting (its store opened before it
    // listens), so new connections are made until both answered, for up to 30 s, not ten at once.
    const answeredBy = new Set<number>();
    for (const until = Date.now() + 30_000; answeredBy.size < 2 && Date.now() < until; await new Promise((resolve) => setTimeout(resolve, answeredBy.size < 2 ? 100 : 0))) {
      const agent = new Agent({ keepAlive: true });
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const req = get(`${base}/healthz`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(req.socket!));
          });
          req.on('error', reject);
        });
        const holders = pidsHoldingServerEnd(socket, pids);
        expect(holders, 'the connection is held by exactly one API worker').to.have.length(1);
        answeredBy.add(holders[0]);
      } finally {
        agent.destroy();
      }
    }
    expect([...answeredBy].sort()).to.deep.equal([...pids].sort());
  });

  it('the cluster\'s /metrics passes `promtool check metrics`', async function () {
    if (spawnSync('promtool', ['--version']).status !== 0) missingTool(this, 'promtool is not installed (apt-get install prometheus)');
    const text = await clusterMetrics(2);
    const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).to.equal('');
    expect(run.status).to.equal(0);
  });

  it('keeps every secret out of PM2\'s records: `pm2 jlist` and the dump file `pm2 save` writes', async () => {
    const { stdout: listed } = await pm2('jlist');
    await pm2('save');
    const dump = readFileSync(join(env.PM2_HOME!, 'dump.pm2'), 'utf8');
    expect(dump).to.contain('gerbang-api').and.to.contain('GERBANG_CONFIG_FILE');
    for (const [name, value] of Object.entries(secrets)) {
      expect(dump.includes(value), `${name} in dump.pm2`).to.equal(false);
      expect(listed.includes(value), `${name} in pm2 jlist`).to.equal(false);
    }
    // And the processes did get them, from the file: a client authenticates (JWT secret) and its token is audited (audit key).
    const res = await fetch(`${base}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret }),
    });
    expect(res.status).to.equal(200);
    await res.arrayBuffer();
  });

  it('loses no payment request through `pm2 reload` under steady load', async () => {
    const tokenRes = await fetch(`${base}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret }),
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const failures: string[] = [];
    let paid = 0;
    let done = false;
    // Two concurrent payers, each a bounded loop of unique transfers on loopback.
    const payer = async (name: string) => {
      for (let i = 0; !done && i < 5_000; i += 1) {
        try {
          const res = await fetch(`${base}/v1/transfers`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify(sampleTransfer({ transactionId: `RL-${name}-${i}-${Date.now()}`, amount: '1.00' })),
          });
          const text = await res.text();
          if (res.status === 201) paid += 1;
          else failures.push(`${res.status} ${text.slice(0, 120)}`);
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
      }
    };
    const load = Promise.all([payer('a'), payer('b')]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pm2('reload', 'gerbang-api');
    await new Promise((resolve) => setTimeout(resolve, 300));
    done = true;
    await load;
    expect(failures, failures.slice(0, 3).join('; ')).to.deep.equal([]);
    expect(paid).to.be.greaterThan(20);
    // The new workers took the metrics port over from the old ones, and the old ones' counts
    // stayed in the sum (the ledger they wrote when they stopped): every payment is counted once.
    const text = await clusterMetrics(2);
    expect(total(text, 'gerbang_transfers_total', { status: 'SUCCESS' })).to.equal(paid);
    expect(readdirSync(join(peersDir, String(metricsPort))).filter((name) => name.endsWith('.sock'))).to.have.length(2);
  });

  // A SIGKILLed worker writes no ledger, so the cluster's counts lose what it had counted: these come last.
  it('answers from the other worker every request on a connection opened while a worker is frozen, then SIGKILLed', async () => {
    // Each request on a connection of its own (as nginx opens them), with a deadline: one that
    // is never answered fails the test rather than hanging it.
    const ANSWER_MS = 8_000;
    const answer = async () => {
      const dispatcher = new KeepAliveAgent({ pipelining: 0 });
      try {
        const res = await request(`${base}/healthz`, { dispatcher, headersTimeout: ANSWER_MS, bodyTimeout: ANSWER_MS });
        await res.body.text();
        return String(res.statusCode);
      } catch (error) {
        return String((error as { code?: string }).code ?? error);
      } finally {
        await dispatcher.destroy();
      }
    };
    const { stdout } = await pm2('jlist');
    const [victim, other] = (JSON.parse(stdout) as { name: string; pid: number }[]).filter((a) => a.name === 'gerbang-api').map((a) => a.pid);
    expect(other, 'two workers').to.be.a('number');
    // Frozen, it takes no connection; Node's round-robin primary would still hand it one and
    // wait for it to confirm, which a worker killed meanwhile never does.
    process.kill(victim, 'SIGSTOP');
    let answers: string[];
    try {
      const sent = Array.from({ length: 6 }, answer);
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.kill(victim, 'SIGKILL');
      answers = await Promise.all(sent);
    } finally {
      if (processAlive(victim)) process.kill(victim, 'SIGKILL');
    }
    expect(answers, `answers within ${ANSWER_MS} ms`).to.deep.equal(['200', '200', '200', '200', '200', '200']);
  });

  it('breaks no connection and leaves no request unanswered through a `pm2 reload` begun while PM2 restarts a SIGKILLed worker', async function () {
    // Every wait below has its own bound, so a step that sticks fails saying which it was.
    this.timeout(300_000);
    const ANSWER_MS = 10_000;
    const pm2Within = async (limitMs: number, ...args: string[]) => {
      try {
        return await pm2With(env, limitMs)(...args);
      } catch (error) {
        if ((error as { killed?: boolean }).killed) throw new Error(`\`pm2 ${args.join(' ')}\` did not finish in ${limitMs} ms`);
        throw error;
      }
    };
    const workers = async () =>
      (JSON.parse((await pm2Within(15_000, 'jlist')).stdout) as { name: string; pid: number; pm2_env: { status: string } }[])
        .filter((a) => a.name === 'gerbang-api')
        .map((a) => ({ pid: a.pid, status: a.pm2_env.status }));
    // Keep-alive connections, as an ERP's HTTP client holds them (undici's pool, like the chaos run),
    // and, as an ERP must have, a deadline for each answer.
    const agent = new KeepAliveAgent({ keepAliveTimeout: 4_000, connections: 16 });
    let phase: 'load' | 'killed' | 'reload' = 'load';
    let stop = false;
    let answered = 0;
    const brokenByReload: string[] = [];
    const unanswered: string[] = [];
    const loop = async () => {
      while (!stop) {
        const begun = phase;
        try {
          const res = await request(`${base}/healthz`, { dispatcher: agent, headersTimeout: ANSWER_MS, bodyTimeout: ANSWER_MS });
          await res.body.text();
          if (res.statusCode === 200) answered += 1;
        } catch (error) {
          const code = String((error as { code?: string }).code ?? error);
          if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
            // Whenever it was sent, even in the ms between the SIGKILL and PM2 seeing the worker
            // gone: PM2's daemon holds no connection (NODE_CLUSTER_SCHED_POLICY=none).
            unanswered.push(`${code} (sent during ${begun})`);
          } else if (phase === 'reload') {
            // The connections the killed worker held break before the reload begins (below).
            brokenByReload.push(`${code}${begun === 'reload' ? '' : ' (sent before the reload)'}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    const restarting: string[] = [];
    let loopsEnded = false;
    try {
      for (let trial = 0; trial < 3; trial += 1) {
        await eventually(async () => {
          const list = await workers();
          return list.length === 2 && list.every((w) => w.status === 'online') ? true : null;
        }, 30_000).catch((error: unknown) => {
          throw new Error(`trial ${trial + 1}: two online workers in \`pm2 jlist\` within 30 s: ${String(error)}`);
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const [victim] = await workers();
        phase = 'killed';
        process.kill(victim.pid, 'SIGKILL');
        // Gone, and the client has seen the connections it held end (tens of ms after the kill).
        await eventually(async () => (processAlive(victim.pid) ? null : true), 5_000).catch(() => {
          throw new Error(`trial ${trial + 1}: the SIGKILLed worker ${victim.pid} was still there after 5 s`);
        });
        await new Promise((resolve) => setTimeout(resolve, 250));
        restarting.push((await workers()).map((w) => w.status).join('/'));
        phase = 'reload';
        // PM2 waits up to listen_timeout (20 s) for a new worker's ready, then for the old one to drain.
        await pm2Within(60_000, 'reload', 'gerbang-api');
        await new Promise((resolve) => setTimeout(resolve, 300));
        phase = 'load';
      }
    } finally {
      stop = true;
      // Every request has its deadline, so the loops end within one of them.
      let timer: NodeJS.Timeout | undefined;
      loopsEnded = await Promise.race([
        Promise.all(loops).then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ANSWER_MS + 5_000))),
      ]);
      clearTimeout(timer);
      await (loopsEnded ? agent.close() : agent.destroy());
    }
    expect(loopsEnded, `a request outlived its ${ANSWER_MS} ms deadline: the client hung`).to.equal(true);
    // The reloads began while the killed worker's successor was still launching (not yet ready):
    // at least one did (PM2's restart takes about a second here), whatever the machine's speed.
    expect(restarting.some((statuses) => statuses.includes('launching')), `worker statuses when each reload began: ${restarting.join(', ')}`).to.equal(true);
    expect(brokenByReload, `${brokenByReload.length} connections broken during the reloads: ${[...new Set(brokenByReload)].join(', ')}`).to.deep.equal([]);
    expect(unanswered, `${unanswered.length} requests left without an answer for ${ANSWER_MS} ms: ${[...new Set(unanswered)].join(', ')}`).to.deep.equal([]);
    expect(answered).to.be.greaterThan(100);
  });

  it('warns in every worker\'s log when PM2\'s daemon is restarted without NODE_CLUSTER_SCHED_POLICY=none and resurrects them (a boot without the setting)', async () => {
    await pm2('save');
    await pm2('kill');
    // As systemd's `pm2 resurrect` would at boot, from a unit without the setting. The processes'
    // own environment, saved with them, still has it: only the daemon's says how it shares the port.
    const withoutSetting = { ...env };
    delete withoutSetting.NODE_CLUSTER_SCHED_POLICY;
    await pm2With(withoutSetting)('resurrect');
    const daemon = Number(readFileSync(join(env.PM2_HOME!, 'pm2.pid'), 'utf8'));
    // In the app's own log file, where `pm2 logs gerbang-api` reads them.
    const outLog = join(env.PM2_HOME!, 'logs', 'gerbang-api-out.log');
    const warnings = await eventually(async () => {
      const log = readFileSync(outLog, 'utf8');
      const lines = log.split('\n').filter((line) => line.includes(`PM2's daemon (pid ${daemon}, the cluster primary) was started without NODE_CLUSTER_SCHED_POLICY=none`));
      return lines.length >= 2 ? lines : null;
    }, 30_000);
    for (const line of warnings) expect(JSON.parse(line)).to.include({ level: 40 }); // pino's warn
  });
});

/** Without the setting in the daemon's environment, the process file starts nothing. */
describe('ecosystem.config.js under a PM2 daemon started without NODE_CLUSTER_SCHED_POLICY=none', function () {
  this.timeout(60_000);
  const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: mkdtempSync(join(tmpdir(), 'gerbang-pm2-rr-')) };
  delete env.NODE_CLUSTER_SCHED_POLICY;
  const pm2 = pm2With(env);

  after(async () => {
    await pm2('kill').catch(() => undefined);
  });

  it('refuses to start, naming the command that restarts the daemon with it', async () => {
    const refused = await pm2('start', join(ROOT, 'ecosystem.config.js')).then(
      () => null,
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(refused, '`pm2 start ecosystem.config.js` failed').to.be.a('string');
    expect(refused).to.contain('was started without NODE_CLUSTER_SCHED_POLICY=none').and.to.contain('`NODE_CLUSTER_SCHED_POLICY=none pm2 update`');
    expect(JSON.parse((await pm2('jlist')).stdout)).to.deep.equal([]);
  });
});
