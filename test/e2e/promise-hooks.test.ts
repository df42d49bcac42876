import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';
import { createMariaDbDatabase } from '../support/databases.js';
import { eventually, sampleTransfer } from '../support/gateway-harness.js';
import { freePort, spawnGerbang, waitForHttp } from '../support/processes.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';

const PROBE = join(__dirname, '..', 'support', 'promise-hook-probe.js');

describe('gerbang serve on MariaDB', function () {
  this.timeout(60_000);
  let bank: TestBank;
  let database: { url: string; drop: () => Promise<void> };

  before(async function () {
    database = await createMariaDbDatabase(this);
    bank = await startTestBank();
  });
  after(async () => {
    await bank?.simulator.close();
    await database?.drop();
  });

  // Node 20's AsyncLocalStorage, once it has run, runs async_hooks' promise hooks on every promise
  // of the process (about 250 a transfer): the request's log context is handed on instead.
  it('installs no async_hooks promise hook while it serves transfers, at debug level', async () => {
    const port = await freePort();
    const env = {
      PORT: String(port),
      GERBANG_DATABASE_URL: database.url,
      GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
      GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
      GERBANG_LOG_LEVEL: 'debug',
      ...bank.env(),
    };
    expect((await runCli(['migrate'], env)).code).to.equal(0);
    const { clientId, clientSecret } = JSON.parse((await runCli(['client', 'create', '--name', 'erp', '--cidr', '127.0.0.1/32', '--json'], env)).stdout) as { clientId: string; clientSecret: string };
    await runCli(['client', 'grant-account', '--id', clientId, '--account', '0201245680'], env);

    const server = spawnGerbang(['serve'], { ...env, NODE_OPTIONS: `--require ${PROBE}` });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForHttp(`${base}/healthz`);
      const tokenRes = await fetch(`${base}/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: clientId, client_secret: clientSecret }) });
      const { access_token: token } = (await tokenRes.json()) as { access_token: string };
      const transfer = (body: Record<string, unknown>) =>
        fetch(`${base}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': `req-${randomBytes(8).toString('hex')}` }, body: JSON.stringify(body) });
      const answers = await Promise.all([transfer(sampleTransfer()), transfer(sampleTransfer({ remark: 'SIM RESET' })), transfer({ transactionId: 'x' })]);
      expect(answers.map((answer) => answer.status)).to.deep.equal([201, 202, 400]);
      // The requests were logged (with their ids) by this process.
      expect(server.output()).to.match(/"requestId":"req-[0-9a-f]{16}".*"msg":"transfer routed"/);

      server.child.kill('SIGUSR2');
      const probed = await eventually(async () => /promise hooks: (on|off)/.exec(server.output())?.[1]);
      expect(probed, 'async_hooks promise hooks in the gateway process').to.equal('off');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
