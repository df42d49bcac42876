import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { openStore } from '../../src/store/index.js';
import { runCli } from '../support/cli.js';
import { eventually, sampleTransfer } from '../support/gateway-harness.js';
import { freePort, spawnGerbang, waitForHttp } from '../support/processes.js';
import { startTestBank } from '../support/test-bank.js';
import { TEST_AUDIT_KEY, TEST_AUDIT_KEYS } from '../support/audit-keys.js';

/**
 * A gateway killed (SIGKILL) after sending a transfer to the bank but before recording the answer
 * leaves the payment SENDING. After a restart the resolver finds it, asks the bank's status
 * inquiry, and settles it: the bank saw the transfer once, and it is never sent again.
 */
describe('A gateway killed in the middle of a transfer', function () {
  this.timeout(90_000);
  let simulator: BankSimulator;
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    const bank = await startTestBank();
    simulator = bank.simulator;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      GERBANG_DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gerbang-crash-')), 'g.sqlite')}`,
      GERBANG_JWT_SECRET: randomBytes(32).toString('hex'),
      GERBANG_AUDIT_KEYS: TEST_AUDIT_KEY,
      GERBANG_LOG_LEVEL: 'warn',
      ...bank.env(),
    };
  });
  after(async () => simulator?.close());

  it('is resolved after restart by status inquiry, and the bank sees the transfer once', async () => {
    await runCli(['migrate'], env);
    const { clientId, clientSecret } = JSON.parse((await runCli(['client', 'create', '--name', 'erp', '--cidr', '127.0.0.1/32', '--json'], env)).stdout);
    await runCli(['client', 'grant-account', '--id', clientId, '--account', '0201245680'], env);
    const body = sampleTransfer();
    const beneficiaryBefore = simulator.balanceOf('0201245681');

    const first = spawnGerbang(['serve'], env);
    let token: string;
    try {
      await waitForHttp(`${base}/healthz`);
      const tokenRes = await fetch(`${base}/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, client_secret: clientSecret }),
      });
      token = ((await tokenRes.json()) as { access_token: string }).access_token;
      // The bank executes this one at once but answers only after 5 s; the gateway dies meanwhile.
      simulator.failNext({ delayMs: 5_000 });
      const inFlight = fetch(`${base}/v1/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      }).catch(() => 'connection lost');
      await eventually(async () => simulator.calls.some((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers'), 10_000);
      first.child.kill('SIGKILL');
      expect(await inFlight).to.equal('connection lost');
      await first.exited;
    } finally {
      first.child.kill('SIGKILL');
    }
    expect(Number(simulator.balanceOf('0201245681')) - Number(beneficiaryBefore), 'the bank executed it').to.equal(100000);

    // Restart with short bank timeouts, so the SENDING row counts as interrupted within a few seconds (4 calls of 0.8 s).
    const second = spawnGerbang(['serve'], {
      ...env,
      GERBANG_RESOLVER_INTERVAL_MS: '200',
      GERBANG_BANK_CONNECT_TIMEOUT_MS: '200',
      GERBANG_BANK_HEADERS_TIMEOUT_MS: '300',
      GERBANG_BANK_BODY_TIMEOUT_MS: '300',
    });
    try {
      await waitForHttp(`${base}/healthz`);
      // The resolver settles it on its own, before anyone asks.
      const store = await openStore(env.GERBANG_DATABASE_URL, { auditKeys: TEST_AUDIT_KEYS });
      try {
        const settled = await eventually(async () => {
          const payment = await store.payments.find(clientId, body.transactionId as string);
          return payment?.state === 'SUCCESS' ? payment : null;
        }, 20_000);
        expect(settled.checkAttempts).to.equal(0);
        const [check] = (await store.audit.list({ transactionId: body.transactionId as string })).filter((r) => r.method === 'RESOLVE');
        expect(check.bankCalls.map((c) => c.operation)).to.include('transfer-status');
      } finally {
        await store.close();
      }
      const status = await eventually(async () => {
        const res = await fetch(`${base}/v1/transfers/${body.transactionId}`, { headers: { authorization: `Bearer ${token}` } });
        const json = (await res.json()) as { status: string };
        return json.status === 'SUCCESS' ? json : null;
      }, 20_000);
      expect(status.status).to.equal('SUCCESS');
      const resend = await fetch(`${base}/v1/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      expect(resend.headers.get('idempotent-replayed')).to.equal('true');
      expect(((await resend.json()) as { status: string }).status).to.equal('SUCCESS');
      expect(simulator.calls.filter((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers')).to.have.length(1);
      expect(Number(simulator.balanceOf('0201245681')) - Number(beneficiaryBefore), 'paid once').to.equal(100000);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
