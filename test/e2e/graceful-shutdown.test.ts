import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { runCli } from '../support/cli.js';
import { sampleTransfer } from '../support/gateway-harness.js';
import { freePort, spawnGerbang, waitForHttp } from '../support/processes.js';
import { startTestBank } from '../support/test-bank.js';
import { TEST_AUDIT_KEY } from '../support/audit-keys.js';

describe('gerbang serve on SIGTERM', function () {
  this.timeout(60_000);
  let simulator: BankSimulator;
  let env: Record<string, string>;
  let base: string;
  let port: number;

  before(async () => {
    const bank = await startTestBank();
    simulator = bank.simulator;
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      GERBANG_DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-serve-')), 'g.sqlite')}`,
      GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
      GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
      GERBANG_LOG_LEVEL: 'info',
      GERBANG_SHUTDOWN_TIMEOUT_MS: '10000',
      ...bank.env(),
    };
  });
  after(async () => simulator?.close());

  it('finishes the in-flight transfer, refuses new connections, and exits 0', async () => {
    const migrate = await runCli(['migrate'], env);
    expect(migrate.code, migrate.stderr).to.equal(0);
    const created = await runCli(['client', 'create', '--name', 'erp', '--cidr', '127.0.0.1/32', '--json'], env);
    const { clientId, clientSecret } = JSON.parse(created.stdout);
    await runCli(['client', 'grant-account', '--id', clientId, '--account', '0201245680'], env);

    const server = spawnGerbang(['serve'], env);
    try {
      await waitForHttp(`${base}/healthz`);
      const tokenRes = await fetch(`${base}/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, client_secret: clientSecret }),
      });
      const { access_token: token } = (await tokenRes.json()) as { access_token: string };

      // The bank takes 1.5 s to answer this one; SIGTERM arrives while it is in flight.
      simulator.failNext({ delayMs: 1500 });
      const inFlight = fetch(`${base}/v1/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(sampleTransfer()),
      });
      await new Promise((resolve) => setTimeout(resolve, 400));
      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));

      const late = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve('accepted');
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(late, 'a new connection after SIGTERM').to.equal('ECONNREFUSED');

      const res = await inFlight;
      expect(res.status).to.equal(201);
      expect(((await res.json()) as { status: string }).status).to.equal('SUCCESS');
      expect(await server.exited).to.equal(0);
      expect(server.output()).to.contain('draining in-flight requests');
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
