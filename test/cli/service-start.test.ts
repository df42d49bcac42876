import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { BIN, runCli } from '../support/cli.js';
import { TestGateway } from '../support/gateway-harness.js';
import { freePort, spawnGerbang } from '../support/processes.js';
import { startTestBank } from '../support/test-bank.js';

const NO_STACK = /\n\s+at /;

/** What `serve` needs besides a bank: a store, a token key, an audit key. */
function baseEnv(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gerbang-start-'));
  return {
    GERBANG_DATABASE_URL: `sqlite:${join(dir, 'g.sqlite')}`,
    GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
    GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
    GERBANG_AUDIT_SPOOL_DIR: join(dir, 'spool'),
    GERBANG_CALLBACK_KEY_FILE: join(dir, 'callback.pem'),
    PORT: '0',
    CONSOLE_PORT: '0',
  };
}

/**
 * `gerbang serve` as the one worker of a Node cluster primary (`node -e`, started without
 * NODE_CLUSTER_SCHED_POLICY, so /proc shows it round robin), stopped once it is ready: what both
 * printed, and the primary's pid.
 */
async function serveUnderClusterPrimary(env: Record<string, string>): Promise<{ output: string; primary: number }> {
  const primary = `
    const cluster = require('node:cluster');
    cluster.setupPrimary({ exec: ${JSON.stringify(BIN)}, args: ['serve'], execArgv: [] }); // not this -e script
    const worker = cluster.fork();
    worker.on('message', (message) => message === 'ready' && worker.kill('SIGTERM'));
    // Stopped after ready, it either shuts down (0) or, when the signal lands first, ends by SIGTERM.
    worker.on('exit', (code, signal) => process.exit(code === 0 || signal === 'SIGTERM' ? 0 : 1));`;
  const shell: NodeJS.ProcessEnv = { ...process.env, GERBANG_SANDBOX: 'true', GERBANG_MIGRATE_ON_START: 'true', GERBANG_METRICS_PORT: '0', GERBANG_LOG_LEVEL: 'warn', ...env };
  for (const name of ['NODE_CLUSTER_SCHED_POLICY', 'pm_id', 'exec_mode']) if (!(name in env)) delete shell[name];
  const child = spawn(process.execPath, ['-e', primary], { env: shell, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, output).to.equal(0);
  return { output, primary: child.pid! };
}

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('Starting the services', function () {
  this.timeout(60_000);

  describe('gerbang serve without a bank partner', () => {
    it('refuses to start, exits 1 and names the bank settings and GERBANG_SANDBOX', async () => {
      const result = await runCli(['serve'], { ...baseEnv(), GERBANG_SANDBOX: '' });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('GERBANG_BCA_BASE_URL').and.contain('GERBANG_BANK_PARTNERS_FILE').and.contain('GERBANG_SANDBOX=true');
      expect(result.stderr).to.not.match(NO_STACK);
    });

    it('with misspelled bank variables, refuses too and suggests the right names', async () => {
      const result = await runCli(['serve'], { ...baseEnv(), GERBANG_SANDBOX: '', GERBANG_BCA_BASEURL: 'https://devapi.klikbca.com', GERBANG_BCA_CLIENTID: 'id' });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain('GERBANG_BCA_BASEURL is not a Gerbang setting (ignored); did you mean GERBANG_BCA_BASE_URL?');
      expect(result.stderr).to.contain('GERBANG_BCA_CLIENTID is not a Gerbang setting (ignored); did you mean GERBANG_BCA_CLIENT_ID?');
      expect(result.stderr).to.contain('no bank partner is configured');
    });

    it('refuses GERBANG_SANDBOX=true beside a configured bank', async () => {
      const bank = await startTestBank();
      try {
        const result = await runCli(['serve'], { ...baseEnv(), ...bank.env(), GERBANG_SANDBOX: 'true' });
        expect(result.code).to.equal(1);
        expect(result.stderr).to.contain('GERBANG_SANDBOX: is true, but a bank partner is configured');
      } finally {
        await bank.simulator.close();
      }
    });
  });

  describe('a bad setting', () => {
    for (const [name, value, says] of [
      ['GERBANG_LOG_LEVEL', 'verbose', 'GERBANG_LOG_LEVEL: "GERBANG_LOG_LEVEL" must be one of'],
      ['GERBANG_ALLOWED_CIDRS', '10.0.0.0/8,10.1.0.0/33', 'GERBANG_ALLOWED_CIDRS: "10.1.0.0/33" has an invalid prefix length'],
      ['GERBANG_METRICS_ALLOWED_CIDRS', 'prometheus', 'GERBANG_METRICS_ALLOWED_CIDRS: "prometheus" is not an IP address or CIDR'],
      ['GERBANG_TRUST_PROXY', 'nginx', 'GERBANG_TRUST_PROXY: "nginx" is not an IP address or CIDR'],
    ] as const) {
      it(`${name}=${value} names the variable and exits 1 without a stack trace`, async () => {
        const result = await runCli(['serve'], { ...baseEnv(), [name]: value });
        expect(result.code).to.equal(1);
        expect(result.stderr).to.contain(says);
        expect(result.stderr).to.not.match(NO_STACK);
      });
    }

    it('a busy PORT names PORT and the process exits 1', async () => {
      const { port, server } = await occupiedPort();
      try {
        const run = spawnGerbang(['serve'], { ...baseEnv(), PORT: String(port), GERBANG_LOG_LEVEL: 'silent' });
        expect(await run.exited).to.equal(1);
        expect(run.output()).to.contain(`PORT: 127.0.0.1:${port} is already in use`);
        expect(run.output()).to.not.match(NO_STACK);
      } finally {
        server.close();
      }
    });

    it('a busy CONSOLE_PORT in the sandbox names CONSOLE_PORT and the whole process exits 1', async () => {
      const { port, server } = await occupiedPort();
      try {
        const run = spawnGerbang(['sandbox'], { ...baseEnv(), PORT: String(await freePort()), CONSOLE_PORT: String(port), GERBANG_LOG_LEVEL: 'silent' });
        expect(await run.exited).to.equal(1);
        expect(run.output()).to.contain(`CONSOLE_PORT: 127.0.0.1:${port} is already in use`);
        expect(run.output()).to.not.match(NO_STACK);
      } finally {
        server.close();
      }
    });

    it('an unreachable database names the URL without its password, and why', async () => {
      const port = await freePort();
      const result = await runCli(['serve'], { ...baseEnv(), GERBANG_DATABASE_URL: `mysql://gerbang:s3cretpw@127.0.0.1:${port}/gerbang` });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain(`GERBANG_DATABASE_URL (mysql://gerbang@127.0.0.1:${port}/gerbang) does not answer: ECONNREFUSED`);
      expect(result.stderr).to.not.contain('s3cretpw');
      expect(result.stderr).to.not.match(NO_STACK);
    });
  });

  describe('under PM2 on MySQL/MariaDB', () => {
    it('refuses to start when workers x connectionLimit exceed max_connections, naming both settings', async function () {
      const database = await createMariaDbDatabase(this);
      try {
        // 151 by default: 8 workers and the console at 20 connections each (180) do not fit; 2 workers (60) do.
        const url = `${database.url}?connectionLimit=20`;
        const refused = await runCli(['serve'], { ...baseEnv(), GERBANG_DATABASE_URL: url, NODE_APP_INSTANCE: '0', GERBANG_API_INSTANCES: '8' });
        expect(refused.code).to.equal(1);
        expect(refused.stderr).to.match(/GERBANG_API_INSTANCES, GERBANG_DATABASE_URL connectionLimit: 8 API worker\(s\) and the console may open 20 connections each \(180\), more than the database's max_connections \(\d+\)/);
        const fits = spawnGerbang(['serve'], { ...baseEnv(), GERBANG_DATABASE_URL: url, NODE_APP_INSTANCE: '0', GERBANG_API_INSTANCES: '2', GERBANG_LOG_LEVEL: 'info' });
        try {
          await new Promise<void>((resolve, reject) => {
            const timer = setInterval(() => {
              if (fits.output().includes('gateway listening')) resolve();
            }, 100);
            fits.exited.then((code) => reject(new Error(`exited ${code}: ${fits.output()}`))).finally(() => clearInterval(timer));
          });
        } finally {
          fits.child.kill('SIGTERM');
          await fits.exited;
        }
      } finally {
        await database.drop();
      }
    });
  });

  describe("gerbang serve as a cluster worker whose primary lacks NODE_CLUSTER_SCHED_POLICY=none", () => {
    it('of a plain Node cluster (not PM2): starts without warning about PM2\'s daemon', async () => {
      const { output } = await serveUnderClusterPrimary(baseEnv());
      expect(output).to.contain('SANDBOX MODE'); // the worker's warn lines are in the output
      expect(output).to.not.contain("PM2's daemon");
    });

    it("of PM2 (its wrapper's pm_id and exec_mode=cluster_mode in the environment): warns naming the primary", async () => {
      const { output, primary } = await serveUnderClusterPrimary({ ...baseEnv(), pm_id: '0', exec_mode: 'cluster_mode' });
      expect(output).to.contain(`PM2's daemon (pid ${primary}, the cluster primary) was started without NODE_CLUSTER_SCHED_POLICY=none`);
    });
  });

  describe('sandbox mode (GERBANG_SANDBOX=true)', () => {
    let gateway: TestGateway;
    before(async () => {
      gateway = await TestGateway.start('sqlite::memory:', { GERBANG_SANDBOX: 'true' });
    });
    after(() => gateway.close());

    it('marks every answer Gerbang-Mode: sandbox, refusals and probes included', async () => {
      for (const answer of [await gateway.request('/healthz'), await gateway.request('/v1/transfers', { json: {} }), await gateway.request('/nowhere')]) {
        expect(answer.headers['gerbang-mode'], `status ${answer.status}`).to.equal('sandbox');
      }
    });

    it('says so on /readyz', async () => {
      const answer = await gateway.request('/readyz');
      expect(answer.body).to.include({ status: 'ready', mode: 'sandbox' });
      expect(answer.body.warning).to.contain('no money moves');
    });
  });

  describe('with a live bank', () => {
    it('sends no Gerbang-Mode header and /readyz says live', async () => {
      const bank = await startTestBank();
      const gateway = await TestGateway.start('sqlite::memory:', bank.env());
      try {
        const ready = await gateway.request('/readyz');
        expect(ready.headers).to.not.have.property('gerbang-mode');
        expect(ready.body.mode).to.equal('live');
      } finally {
        await gateway.close();
        await bank.simulator.close();
      }
    });
  });
});
