import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../support/cli.js';
import { sampleTransfer } from '../support/gateway-harness.js';
import { freePort, waitForHttp } from '../support/processes.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { pidsHoldingServerEnd } from '../support/socket-owner.js';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const PM2 = join(ROOT, 'node_modules', 'pm2', 'bin', 'pm2');

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
  let client: { clientId: string; clientSecret: string };
  let secrets: Record<string, string>;

  const pm2 = (...args: string[]) => run(process.execPath, [PM2, ...args], { env, cwd: ROOT });

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const consolePort = await freePort();
    consoleBase = `http://127.0.0.1:${consolePort}`;
    metricsPort = await freePort();
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
      PORT: String(port),
      GERBANG_API_INSTANCES: '2',
      GERBANG_SANDBOX: 'true',
      GERBANG_CONFIG_FILE: configFile,
      GERBANG_JWT_SECRET: secrets.GERBANG_JWT_SECRET,
      GERBANG_LOG_LEVEL: 'warn',
      GERBANG_RATE_LIMIT_PER_IP: '1000000',
      GERBANG_RATE_LIMIT_PER_CLIENT: '1000000',
      GERBANG_METRICS_PORT: String(metricsPort),
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

  it('serves each worker\'s own metrics on GERBANG_METRICS_PORT + its NODE_APP_INSTANCE', async () => {
    const { stdout } = await pm2('jlist');
    const workers = (JSON.parse(stdout) as { name: string; pid: number; pm2_env: { NODE_APP_INSTANCE: number } }[]).filter((a) => a.name === 'gerbang-api');
    expect(workers.map((w) => w.pm2_env.NODE_APP_INSTANCE).sort()).to.deep.equal([0, 1]);
    const pids = workers.map((w) => w.pid);
    const agent = new Agent({ keepAlive: true });
    try {
      for (const worker of workers) {
        const port = metricsPort + worker.pm2_env.NODE_APP_INSTANCE;
        // /healthz answered once the first worker listened; the second may still be starting.
        await waitForHttp(`http://127.0.0.1:${port}/metrics`, 30_000);
        // Scrape over a connection kept open, then ask the kernel which process holds its other end.
        const { status, text, socket } = await new Promise<{ status: number; text: string; socket: Socket }>((resolve, reject) => {
          const req = get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: body, socket: req.socket! }));
          });
          req.on('error', reject);
        });
        expect(status, `worker metrics on port ${port}`).to.equal(200);
        expect(text).to.include('# TYPE gerbang_http_requests_total counter');
        expect(pidsHoldingServerEnd(socket, pids), `the API worker answering on port ${port}`).to.deep.equal([worker.pid]);
      }
    } finally {
      agent.destroy();
    }
    expect(new Set(pids).size, 'two different processes').to.equal(2);
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
  });
});
