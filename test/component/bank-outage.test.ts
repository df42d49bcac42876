import { expect } from 'chai';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { forEachBackend } from '../support/databases.js';
import { sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank } from '../support/test-bank.js';

forEachBackend('A bank that keeps failing (circuit breaker)', (db) => {
  let simulator: BankSimulator;
  let gw: TestGateway;
  let token: string;

  before(async () => {
    const bank = await startTestBank();
    simulator = bank.simulator;
    gw = await TestGateway.start(
      db.url(),
      bank.env({ GERBANG_BANK_BREAKER_FAILURES: '3', GERBANG_BANK_BREAKER_COOLDOWN_MS: '700', GERBANG_RESOLVER_INTERVAL_MS: '0' }),
    );
    token = await gw.token(await gw.createClient());
  });
  after(async () => {
    await gw?.close();
    await simulator?.close();
  });

  const pay = (body = sampleTransfer()) => gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });

  it('answers 503 quickly without calling the bank once it failed repeatedly, probes after the cooldown, and closes when the bank recovers', async () => {
    for (let i = 0; i < 3; i += 1) simulator.failNext({ operation: 'token', httpStatus: 503 });
    for (let i = 0; i < 3; i += 1) {
      const res = await pay();
      expect(res.status, res.text).to.equal(503);
      expect(res.body.code).to.equal('BANK_UNAVAILABLE');
    }

    const seen = simulator.calls.length;
    const body = sampleTransfer();
    const refused = await pay(body);
    expect(refused.status).to.equal(503);
    expect(refused.body).to.include({ code: 'BANK_UNAVAILABLE', circuit: 'open' });
    expect(Number(refused.headers['retry-after'])).to.be.greaterThan(0);
    expect(simulator.calls.length, 'nothing sent while open').to.equal(seen);

    await new Promise((resolve) => setTimeout(resolve, 800));
    // The same transactionId was released (never sent), so the ERP's retry goes through.
    const probe = await pay(body);
    expect(probe.status, probe.text).to.equal(201);
    expect(probe.body.status).to.equal('SUCCESS');
    expect((await pay()).status).to.equal(201);
  });

  it('opens again when the probe after the cooldown fails', async () => {
    // Drop the shared cached token, so each payment starts with a token request to the bank.
    await gw.store.db.execute('DELETE FROM bank_tokens');
    for (let i = 0; i < 4; i += 1) simulator.failNext({ operation: 'token', httpStatus: 502 });
    for (let i = 0; i < 3; i += 1) expect((await pay()).status).to.equal(503);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const probe = await pay();
    expect(probe.status).to.equal(503);
    expect(probe.body.circuit, 'the probe itself reached the bank').to.equal(undefined);
    const seen = simulator.calls.length;
    const next = await pay();
    expect(next.body.circuit).to.equal('open');
    expect(simulator.calls.length).to.equal(seen);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await pay()).status).to.equal(201);
  });

  it('does not count a business refusal as a bank failure', async () => {
    for (let i = 0; i < 4; i += 1) {
      const res = await pay(sampleTransfer({ remark: 'SIM ESB-82-019' }));
      expect(res.status).to.equal(422);
    }
    expect((await pay()).status).to.equal(201);
  });
});
