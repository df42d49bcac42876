import { expect } from 'chai';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

forEachBackend('GET /v1/transfers/{transactionId}', (db) => {
  let gw: TestGateway;
  let client: TestClient;
  let token: string;

  before(async () => {
    gw = await TestGateway.start(db.url(), { GERBANG_BANK_HEADERS_TIMEOUT_MS: '500' });
    client = await gw.createClient();
    token = await gw.token(client);
  });
  after(async () => gw?.close());

  const auth = () => ({ authorization: `Bearer ${token}` });
  const statusCalls = () => gw.simulator.calls.filter((c) => c.path.startsWith('/banking/corporates/transfers/status/')).length;

  it('answers the stored result of a final transfer without asking the bank', async () => {
    const body = sampleTransfer();
    const paid = await gw.request('/v1/transfers', { json: body, headers: auth() });
    const asked = statusCalls();
    const res = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth() });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal(paid.body);
    expect(statusCalls()).to.equal(asked);
  });

  describe('when the transfer is in doubt', () => {
    it('asks the bank, stores the final outcome, and answers it', async () => {
      const body = sampleTransfer({ remark: 'SIM TIMEOUT' });
      const sent = await gw.request('/v1/transfers', { json: body, headers: auth() });
      expect(sent.body.status).to.equal('UNKNOWN');
      const res = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth() });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ transactionId: body.transactionId, status: 'SUCCESS', bankReference: sent.body.bankReference ?? res.body.bankReference });
      const payment = await gw.store.payments.find(client.clientId, body.transactionId as string);
      expect(payment!.state).to.equal('SUCCESS');
      const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
      expect(row.bankCalls.map((c) => c.operation)).to.include('transfer-status');
      // Final now: the next read does not ask again, and a resend is a replay of the final answer.
      const asked = statusCalls();
      expect((await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth() })).body.status).to.equal('SUCCESS');
      const again = await gw.request('/v1/transfers', { json: body, headers: auth() });
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(again.body.status).to.equal('SUCCESS');
      expect(statusCalls()).to.equal(asked);
    });

    it('asks about an interbank transfer with its own transfer type, and settles it', async () => {
      const body = sampleTransfer({ beneficiaryBankCode: '009', beneficiaryAccountNumber: '0090012345', beneficiaryName: 'PT BNI VENDOR', beneficiaryCustomerType: 'COMPANY', beneficiaryResident: true, transferMethod: 'SKN', remark: 'SIM TIMEOUT' });
      const sent = await gw.request('/v1/transfers', { json: body, headers: auth() });
      expect(sent.status, sent.text).to.equal(202);
      expect(sent.body).to.include({ status: 'UNKNOWN', transferMethod: 'SKN' });
      const res = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth() });
      expect(res.body).to.include({ status: 'SUCCESS', transferMethod: 'SKN' });
      const inquiry = gw.simulator.calls.filter((c) => c.path.startsWith('/banking/corporates/transfers/status/')).at(-1)!;
      expect(inquiry.path).to.contain('TransferType=LLG');
    });

    it('keeps it UNKNOWN when the bank does not know it (never FAILED on a first "not found")', async () => {
      gw.simulator.failNext({ code: 'ESB-14-006' });
      const body = sampleTransfer();
      const sent = await gw.request('/v1/transfers', { json: body, headers: auth() });
      expect(sent.body.status).to.equal('UNKNOWN');
      const res = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: auth() });
      expect(res.body.status).to.equal('UNKNOWN');
      expect(res.body.bankMessage).to.match(/does not know this transfer; that alone never means it was not executed/);
      expect((await gw.store.payments.find(client.clientId, body.transactionId as string))!.state).to.equal('UNKNOWN');
    });
  });

  describe("when the transfer is another client's", () => {
    it('answers 404, as for one that does not exist, and audits the attempt', async () => {
      const body = sampleTransfer();
      await gw.request('/v1/transfers', { json: body, headers: auth() });
      const other = await gw.createClient();
      const otherToken = await gw.token(other);
      const res = await gw.request(`/v1/transfers/${body.transactionId}`, { headers: { authorization: `Bearer ${otherToken}` } });
      expect(res.status).to.equal(404);
      expect(res.body.code).to.equal('NOT_FOUND');
      expect(res.text).to.not.contain('100000.00');
      const missing = await gw.request('/v1/transfers/INV-doesnotexist', { headers: auth() });
      expect(missing.status).to.equal(404);
      const row = await eventually(async () => (await gw.store.audit.list({ requestId: res.headers['x-request-id'] }))[0]);
      expect(row).to.deep.include({ clientId: other.clientId, transactionId: body.transactionId, statusCode: 404, errorCode: 'NOT_FOUND' });
    });
  });

  it('names a malformed transactionId', async () => {
    const res = await gw.request('/v1/transfers/has%20space', { headers: auth() });
    expect(res.status).to.equal(400);
    expect(res.body.errors[0].field).to.equal('transactionId');
  });
});
