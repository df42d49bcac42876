import { expect } from 'chai';
import { requestHash } from '../../src/domain/transfers/request-hash.js';
import { transferRequestSchema } from '../../src/domain/transfers/transfer-schema.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway, type TestClient } from '../support/gateway-harness.js';

forEachBackend('POST /v1/transfers', (db) => {
  let gw: TestGateway;
  let client: TestClient;
  let token: string;

  before(async () => {
    gw = await TestGateway.start(db.url());
    client = await gw.createClient();
    token = await gw.token(client);
  });
  after(async () => gw?.close());

  const post = (body: unknown, extra: Record<string, string> = {}) =>
    gw.request('/v1/transfers', { method: 'POST', json: body, headers: { authorization: `Bearer ${token}`, ...extra } });

  const transferCalls = () => gw.simulator.calls.filter((call) => call.path === '/banking/corporates/transfers');

  describe('when the payment is valid', () => {
    it('pays through the bank, which verified the signature, and answers SUCCESS', async () => {
      const before = transferCalls().length;
      const body = sampleTransfer();
      const res = await post(body);
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.include({ transactionId: body.transactionId, status: 'SUCCESS', bank: 'bca', amount: '100000.00', currency: 'IDR' });
      expect(res.body.bankReference).to.match(/^\d{8}$/);
      const calls = transferCalls();
      expect(calls).to.have.length(before + 1);
      expect(calls[calls.length - 1].status).to.equal(200);
      expect(calls[calls.length - 1].headers['x-bca-signature']).to.match(/^[0-9a-f]{64}$/);
    });

    it('records the inbound exchange and both bank legs in the audit', async () => {
      const body = sampleTransfer();
      const res = await post(body);
      expect(res.status).to.equal(201);
      const rows = await eventually(async () => {
        const found = await gw.store.audit.list({ transactionId: body.transactionId as string });
        return found.length === 1 && found[0].outcome === 'completed' ? found : null;
      });
      const row = rows[0];
      expect(row.requestId).to.equal(res.headers['x-request-id']);
      expect(row.clientId).to.equal(client.clientId);
      expect(row.statusCode).to.equal(201);
      expect(JSON.parse(row.requestBody!)).to.include({ transactionId: body.transactionId });
      expect(JSON.parse(row.responseBody!)).to.include({ status: 'SUCCESS' });
      const transferLeg = row.bankCalls.find((call) => call.operation === 'transfer-intrabank');
      expect(transferLeg, 'bank leg recorded').to.exist;
      expect(transferLeg!.statusCode).to.equal(200);
      expect(transferLeg!.durationMs).to.be.a('number');
      expect(transferLeg!.requestHeaders.Authorization ?? transferLeg!.requestHeaders.authorization).to.equal('[REDACTED]');
    });

    it('reserves the payment straight into SENDING under the bank id it then sends, and appends the outcome: two events, and the status read trusts them', async () => {
      const body = sampleTransfer();
      const res = await post(body);
      expect(res.status, res.text).to.equal(201);
      const sent = (JSON.parse(transferCalls()[transferCalls().length - 1].body) as { TransactionID: string }).TransactionID;
      const events = await gw.store.db.query<{ seq: number | string; cause: string; state: string; bank_transaction_id: string | null }>(
        'SELECT e.seq, e.cause, e.state, e.bank_transaction_id FROM payment_events e JOIN payments p ON p.id = e.payment_id WHERE p.client_id = ? AND p.transaction_id = ? ORDER BY e.seq',
        [client.clientId, body.transactionId as string],
      );
      expect(events.map((e) => [Number(e.seq), e.cause, e.state, e.bank_transaction_id])).to.deep.equal([
        [1, 'reserve', 'SENDING', sent],
        [2, 'send', 'SUCCESS', sent],
      ]);
      const status = await gw.request(`/v1/transfers/${String(body.transactionId)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(status.status, status.text).to.equal(200);
      expect(status.body).to.include({ status: 'SUCCESS' });
    });

    it('sends the same request again as a replay, without a second bank call', async () => {
      const body = sampleTransfer();
      const first = await post(body);
      const count = transferCalls().length;
      const second = await post(body);
      expect(second.status).to.equal(first.status);
      expect(second.headers['idempotent-replayed']).to.equal('true');
      expect(second.body).to.deep.equal(first.body);
      expect(transferCalls()).to.have.length(count);
    });

    it('refuses the same transactionId with a different payload (422) without calling the bank', async () => {
      const body = sampleTransfer();
      await post(body);
      const count = transferCalls().length;
      const res = await post({ ...body, amount: '999.00' });
      expect(res.status).to.equal(422);
      expect(res.body.code).to.equal('IDEMPOTENCY_MISMATCH');
      expect(transferCalls()).to.have.length(count);
    });
  });

  describe('when the bank refuses the payment', () => {
    it('answers FAILED with the bank code kept, and audits it', async () => {
      const body = sampleTransfer({ remark: 'SIM ESB-82-019' });
      const res = await post(body);
      expect(res.status).to.equal(422);
      expect(res.body).to.include({ status: 'FAILED', bankResponseCode: 'ESB-82-019' });
      const rows = await eventually(async () => {
        const found = await gw.store.audit.list({ transactionId: body.transactionId as string });
        return found[0]?.completedAt ? found : null;
      });
      expect(rows[0].bankCalls.some((call) => call.errorCode === 'ESB-82-019')).to.equal(true);
    });
  });

  describe('when fields are invalid', () => {
    it('answers 400 naming every bad field, and never calls the bank', async () => {
      const count = transferCalls().length;
      const res = await post({
        transactionId: 'has spaces!',
        sourceAccountNumber: '12',
        beneficiaryBankCode: 'XXX',
        beneficiaryAccountNumber: 'abc',
        amount: 100000,
        currency: 'USD',
        extra: 'x',
      });
      expect(res.status).to.equal(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.code).to.equal('VALIDATION_FAILED');
      expect(res.body.requestId).to.equal(res.headers['x-request-id']);
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
      expect(fields).to.include.members(['transactionId', 'sourceAccountNumber', 'beneficiaryBankCode', 'beneficiaryAccountNumber', 'amount', 'currency', 'extra']);
      expect(transferCalls()).to.have.length(count);
    });

    for (const [field, value] of [
      ['amount', '0.00'],
      ['amount', '1.5'],
      ['amount', '-5.00'],
      ['sourceAccountNumber', '0201-24568'],
      ['beneficiaryAccountNumber', '02012456811'],
      ['remark', 'x'.repeat(37)],
      ['currency', 'idr'],
    ] as const) {
      it(`names ${field} when it is ${JSON.stringify(value)}`, async () => {
        const res = await post(sampleTransfer({ [field]: value }));
        expect(res.status).to.equal(400);
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).to.deep.equal([field]);
      });
    }

    it('answers 400 INVALID_JSON for a malformed body and still audits the raw text', async () => {
      const res = await gw.request('/v1/transfers', {
        method: 'POST',
        body: '{"transactionId": "T1", ',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      expect(res.status).to.equal(400);
      expect(res.body.code).to.equal('INVALID_JSON');
      const rows = await eventually(async () => {
        const found = (await gw.store.audit.list({ clientId: client.clientId, limit: 1000 })).filter((r) => r.requestId === res.headers['x-request-id']);
        return found.length === 1 ? found : null;
      });
      expect(rows[0].requestBody).to.contain('"transactionId"');
      expect(rows[0].errorCode).to.equal('INVALID_JSON');
    });

    it('answers 415 for a body that is not JSON', async () => {
      const res = await gw.request('/v1/transfers', {
        method: 'POST',
        body: 'transactionId=1',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      });
      expect(res.status).to.equal(415);
      expect(res.body.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 413 for a body over the limit', async () => {
      const res = await post(sampleTransfer({ remark: 'x'.repeat(70_000) }));
      expect(res.status).to.equal(413);
      expect(res.body.code).to.equal('PAYLOAD_TOO_LARGE');
    });
  });

  describe('when a process stopped after reserving a transfer, before sending it', () => {
    it('lets the resend take the transactionId over once the reservation is stale, and pays once', async () => {
      const body = sampleTransfer();
      const { value } = transferRequestSchema.validate(body);
      const stale = Date.now() - 10 * 60_000;
      await gw.store.payments.reserve({ clientId: client.clientId, transactionId: body.transactionId as string, requestHash: requestHash(value), amount: '100000.00', currency: 'IDR' }, stale);
      const before = gw.simulator.calls.length;
      const res = await post(body);
      expect(res.status, res.text).to.equal(201);
      expect(gw.simulator.calls.slice(before).filter((c) => c.path === '/banking/corporates/transfers')).to.have.length(1);
    });

    it('takes it over ten seconds later, long before a bank call could time out: the reservation was never sent', async () => {
      // What a database node that dies as it commits the reservation leaves: the row is in the
      // cluster, and the request that made it was answered 503 and sent nothing.
      const body = sampleTransfer();
      const { value } = transferRequestSchema.validate(body);
      await gw.store.payments.reserve({ clientId: client.clientId, transactionId: body.transactionId as string, requestHash: requestHash(value), amount: '100000.00', currency: 'IDR' }, Date.now() - 10_000);
      const before = gw.simulator.calls.length;
      const res = await post(body);
      expect(res.status, res.text).to.equal(201);
      expect(gw.simulator.calls.slice(before).filter((c) => c.path === '/banking/corporates/transfers')).to.have.length(1);
    });

    it('still answers 409 while the reservation is fresh (its process may be working on it)', async () => {
      const body = sampleTransfer();
      const { value } = transferRequestSchema.validate(body);
      await gw.store.payments.reserve({ clientId: client.clientId, transactionId: body.transactionId as string, requestHash: requestHash(value), amount: '100000.00', currency: 'IDR' }, Date.now());
      const res = await post(body);
      expect(res.status).to.equal(409);
      expect(res.body.code).to.equal('IDEMPOTENCY_IN_FLIGHT');
    });
  });

  describe('when the request that sent it was cut off and the resolver holds it in doubt', () => {
    it('answers the resend 202 with the doubt, not 409 "being processed", and sends nothing again', async () => {
      // What a worker killed mid-send leaves once the resolver has asked the bank: UNKNOWN, no answer stored.
      const body = sampleTransfer();
      const { value } = transferRequestSchema.validate(body);
      const reserved = await gw.store.payments.reserve({ clientId: client.clientId, transactionId: body.transactionId as string, requestHash: requestHash(value), amount: '100000.00', currency: 'IDR' }, Date.now() - 60_000);
      await gw.store.payments.update(reserved.id, { state: 'UNKNOWN', bank: 'bca', operation: 'transfer-intrabank', bankTransactionId: '00001234', bankTransactionDate: '2026-12-04' }, Date.now() - 30_000);
      const before = gw.simulator.calls.length;
      const res = await post(body);
      expect(res.status, res.text).to.equal(202);
      expect(res.body).to.include({ transactionId: body.transactionId, status: 'UNKNOWN' });
      expect(res.body.guidance, 'tells the ERP not to pay again').to.be.a('string');
      expect(gw.simulator.calls.slice(before).filter((c) => c.path === '/banking/corporates/transfers')).to.have.length(0);
    });
  });

  describe('when the beneficiary bank has no partner', () => {
    it('answers 400 naming beneficiaryName when an interbank transfer lacks it, and sends nothing', async () => {
      const before = gw.simulator.calls.length;
      const res = await post(sampleTransfer({ beneficiaryBankCode: '002', beneficiaryAccountNumber: '123456789012345' }));
      expect(res.status).to.equal(400);
      expect(res.body.code).to.equal('VALIDATION_FAILED');
      expect(res.body.errors[0].field).to.equal('beneficiaryName');
      expect(gw.simulator.calls.slice(before).filter((call) => !call.path.includes('oauth'))).to.have.length(0);
    });

    it('answers 422 ROUTE_UNAVAILABLE naming transferMethod when no partner offers the method asked for', async () => {
      const res = await post(sampleTransfer({ beneficiaryBankCode: '002', beneficiaryAccountNumber: '123456789012345', beneficiaryName: 'CV BRI', transferMethod: 'BIFAST' }));
      expect(res.status).to.equal(422);
      expect(res.body.code).to.equal('ROUTE_UNAVAILABLE');
      expect(res.body.errors[0].field).to.equal('transferMethod');
    });

    it('answers 400 naming amount when it does not fit the method asked for', async () => {
      const res = await post(sampleTransfer({ beneficiaryBankCode: '002', beneficiaryAccountNumber: '123456789012345', beneficiaryName: 'CV BRI', transferMethod: 'RTGS', amount: '1000.00' }));
      expect(res.status).to.equal(400);
      expect(res.body.errors[0]).to.deep.include({ field: 'amount' });
    });
  });
});
