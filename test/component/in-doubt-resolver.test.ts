import { expect } from 'chai';
import { jakartaDate } from '../../src/time/index.js';
import { forEachBackend } from '../support/databases.js';
import { receivedAt } from '../support/payment-time.js';
import { sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

/**
 * Transfers in doubt are resolved by status inquiry, never by sending them again. The resolvers
 * run by hand here (interval 0) so each pass is deterministic; two gateways share one store, as
 * two workers or two nodes do.
 */
forEachBackend('In-doubt resolver', (db) => {
  let a: TestGateway;
  let b: TestGateway;
  let client: TestClient;
  let token: string;

  const env = { GERBANG_RESOLVER_INTERVAL_MS: '0', GERBANG_BANK_HEADERS_TIMEOUT_MS: '400' };

  before(async () => {
    a = await TestGateway.start(db.url(), env);
    client = await a.createClient();
    token = await a.token(client);
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  const pay = (body: Record<string, unknown>) => a.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
  const transferPosts = () => a.simulator.calls.filter((c) => c.method === 'POST' && c.path === '/banking/corporates/transfers').length;
  const calls = (gw: TestGateway, prefix: string) => gw.simulator.calls.filter((c) => c.path.startsWith(prefix)).length;
  const state = async (transactionId: unknown) => (await a.store.payments.find(client.clientId, transactionId as string))!;
  /** Makes the payment due now (the back-off would otherwise wait). */
  const dueNow = (transactionId: unknown) =>
    a.store.db.execute('UPDATE payments SET next_check_at = ? WHERE client_id = ? AND transaction_id = ?', [0, client.clientId, transactionId as string]);

  it('settles a transfer the bank executed but never confirmed as SUCCESS, without sending it again', async () => {
    const body = sampleTransfer({ remark: 'SIM TIMEOUT' });
    expect((await pay(body)).body.status).to.equal('UNKNOWN');
    const sends = transferPosts();
    const { settled } = await a.gateway.resolver.runOnce();
    expect(settled).to.be.greaterThan(0);
    const payment = await state(body.transactionId);
    expect(payment.state).to.equal('SUCCESS');
    expect(JSON.parse(payment.resultJson!).status).to.equal('SUCCESS');
    expect(calls(a, '/banking/corporates/transfers/status/')).to.be.greaterThan(0);
    expect(transferPosts(), 'no transfer sent again').to.equal(sends);
    const replay = await pay(body);
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(replay.body.status).to.equal('SUCCESS');
  });

  it('audits each check as a RESOLVE exchange with the bank leg', async () => {
    const body = sampleTransfer({ remark: 'SIM TIMEOUT' });
    await pay(body);
    await a.gateway.resolver.runOnce();
    const rows = await a.store.audit.list({ transactionId: body.transactionId as string });
    const check = rows.find((r) => r.method === 'RESOLVE')!;
    expect(check).to.deep.include({ clientId: client.clientId, outcome: 'completed', statusCode: 200 });
    expect(check.bankCalls.map((c) => c.operation)).to.include('transfer-status');
  });

  it('backs off: a transfer still unknown is not asked again before its next check is due', async () => {
    a.simulator.failNext({ code: 'ESB-14-006' });
    const body = sampleTransfer();
    expect((await pay(body)).body.status).to.equal('UNKNOWN');
    await a.gateway.resolver.runOnce();
    const first = await state(body.transactionId);
    expect(first).to.deep.include({ state: 'UNKNOWN', checkAttempts: 1, notFoundCount: 1 });
    expect(first.nextCheckAt).to.be.greaterThan(Date.now());
    const asked = calls(a, '/banking/corporates/transfers/status/');
    await a.gateway.resolver.runOnce();
    expect(calls(a, '/banking/corporates/transfers/status/')).to.equal(asked);
  });

  /** The transfer was sent `days` ago (its bank date and reception moved back): the bank's day has closed since. */
  /** Received and sent `days` ago: the bank's transaction date through the store (a change with its event), the times in SQL (not in the payment's history). */
  const sentDaysAgo = async (transactionId: unknown, days: number) => {
    const payment = await state(transactionId);
    await a.store.payments.update(payment.id, { bankTransactionDate: jakartaDate(Date.now() - days * 86_400_000) }, Date.now());
    await receivedAt(a.store, client.clientId, transactionId as string, Date.now() - days * 86_400_000, { next_check_at: 0 });
  };
  const lastCheck = async (transactionId: unknown) => {
    const rows = (await a.store.audit.list({ transactionId: transactionId as string })).filter((r) => r.method === 'RESOLVE');
    return JSON.parse(rows[0].responseBody ?? '{}');
  };

  describe('when the bank answered "check your statement" and its status inquiry does not know the transfer', () => {
    it('settles SUCCESS when the debit is on the statement, keeping the statement line as evidence, without sending again', async () => {
      a.simulator.failNext({ code: 'ESB-82-024', execute: true });
      const body = sampleTransfer({ amount: '123457.00' });
      expect((await pay(body)).body.status).to.equal('UNKNOWN');
      const sends = transferPosts();
      a.simulator.failNext({ operation: 'status', code: 'ESB-99-127' });
      await a.gateway.resolver.runOnce();
      const result = JSON.parse((await state(body.transactionId)).resultJson!);
      expect(result).to.include({ status: 'SUCCESS', failureConfirmedBy: null });
      expect(result.evidence).to.include({ kind: 'STATEMENT_LINE', recordedBy: null });
      expect(result.evidence.detail).to.contain(body.transactionId).and.contain('123457.00');
      expect(calls(a, '/banking/v3/corporates/')).to.be.greaterThan(0);
      expect(transferPosts(), 'no transfer sent again').to.equal(sends);
      expect((await pay(body)).body).to.include({ status: 'SUCCESS' });
    });

    it('stays UNKNOWN when the statement shows no debit but the bank\'s day has not closed yet, and says not to pay again', async () => {
      a.simulator.failNext({ code: 'ESB-82-024' });
      // An amount no other payment of this file debits: equal-amount debits would rightly make the statement inconclusive.
      const body = sampleTransfer({ amount: '100001.17' });
      expect((await pay(body)).body.guidance).to.match(/Do NOT pay again/);
      await a.gateway.resolver.runOnce();
      await dueNow(body.transactionId);
      await a.gateway.resolver.runOnce();
      expect((await state(body.transactionId)).state).to.equal('UNKNOWN');
      expect((await lastCheck(body.transactionId)).unresolved).to.match(/day close/);
      const status = await a.request(`/v1/transfers/${body.transactionId as string}`, { headers: { authorization: `Bearer ${token}` } });
      expect(status.body).to.include({ status: 'UNKNOWN' });
      expect(status.body.guidance).to.match(/Do NOT pay again/);
    });

    it('settles FAILED, confirmed by the statement, when no debit is there after the bank\'s day closed', async () => {
      a.simulator.failNext({ code: 'ESB-82-024' });
      const body = sampleTransfer();
      await pay(body);
      await sentDaysAgo(body.transactionId, 3);
      await a.gateway.resolver.runOnce();
      const payment = await state(body.transactionId);
      expect(payment.state).to.equal('FAILED');
      const result = JSON.parse(payment.resultJson!);
      expect(result).to.include({ status: 'FAILED', failureConfirmedBy: 'STATEMENT', bankResponseCode: 'ESB-99-127' });
      expect(result.evidence.kind).to.equal('STATEMENT_WITHOUT_DEBIT');
      expect(result.guidance).to.match(/statement/);
    });

    it('never settles FAILED on "not found" alone, however often it is asked (no statement to be had)', async () => {
      a.simulator.failNext({ code: 'ESB-82-024' });
      const body = sampleTransfer();
      await pay(body);
      await sentDaysAgo(body.transactionId, 3);
      for (let i = 0; i < 3; i++) {
        a.simulator.failNext({ operation: 'statement', code: 'ESB-99-999' });
        await dueNow(body.transactionId);
        await a.gateway.resolver.runOnce();
      }
      const payment = await state(body.transactionId);
      expect(payment.state).to.equal('UNKNOWN');
      expect(payment.notFoundCount).to.equal(3);
      expect(payment.reviewSince, 'unresolved for days: in the review queue').to.be.a('number');
    });
  });

  it('lets exactly one of several resolvers check a payment (a lease in the store)', async () => {
    b = await TestGateway.start(db.url(), env);
    // Park what earlier tests left in doubt, so only this test's payments are due.
    await a.store.db.execute("UPDATE payments SET next_check_at = ? WHERE state IN ('UNKNOWN', 'PENDING')", [Date.now() + 3_600_000]);
    const bodies = [sampleTransfer({ remark: 'SIM TIMEOUT' }), sampleTransfer({ remark: 'SIM TIMEOUT' }), sampleTransfer({ remark: 'SIM TIMEOUT' })];
    for (const body of bodies) expect((await pay(body)).body.status).to.equal('UNKNOWN');
    const before = calls(a, '/banking/corporates/transfers/status/') + calls(b, '/banking/corporates/transfers/status/');
    const results = await Promise.all([a.gateway.resolver.runOnce(), b.gateway.resolver.runOnce(), a.gateway.resolver.runOnce(), b.gateway.resolver.runOnce()]);
    const checked = results.reduce((sum, r) => sum + r.checked, 0);
    // b's simulator is not a's bank, so a payment b claimed is unknown there: count claims, not answers.
    expect(checked).to.equal(bodies.length);
    const after = calls(a, '/banking/corporates/transfers/status/') + calls(b, '/banking/corporates/transfers/status/');
    expect(after - before).to.equal(bodies.length);
  });
});
