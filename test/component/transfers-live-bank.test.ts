import { jakartaDate } from '../../src/time/index.js';
import { expect } from 'chai';
import type { BankSimulator } from '../../src/banks/simulator/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';

forEachBackend('POST /v1/transfers against a configured bank', (db) => {
  let bank: TestBank;
  let simulator: BankSimulator;

  before(async () => {
    bank = await startTestBank();
    simulator = bank.simulator;
  });
  after(async () => simulator?.close());

  const transferCalls = () => simulator.calls.filter((c) => c.path === '/banking/corporates/transfers');

  async function pay(gw: TestGateway, body = sampleTransfer()) {
    const client = await gw.createClient();
    const token = await gw.token(client);
    return gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
  }

  describe('when the gateway signs with the wrong API secret (a tampered signature)', () => {
    it('is refused by the bank with ESB-14-001; the ERP gets 503 and may retry the same transactionId', async () => {
      const gw = await TestGateway.start(db.url(), bank.env({ GERBANG_BCA_API_SECRET: 'not-the-registered-secret' }));
      try {
        const body = sampleTransfer();
        const res = await pay(gw, body);
        expect(res.status, res.text).to.equal(503);
        expect(res.body).to.include({ code: 'BANK_UNAVAILABLE', bankResponseCode: 'ESB-14-001' });
        const refused = transferCalls().at(-1)!;
        expect(refused.status).to.equal(400);
        expect(refused.errorCode).to.equal('ESB-14-001');
        const [row] = await eventually(async () => {
          const rows = await gw.store.audit.list({ transactionId: body.transactionId as string });
          return rows[0]?.completedAt ? rows : null;
        });
        expect(row.statusCode).to.equal(503);
        expect(row.bankCalls.find((c) => c.operation === 'transfer-intrabank')!.errorCode).to.equal('ESB-14-001');
        expect(await gw.store.payments.find(row.clientId!, body.transactionId as string), 'reservation released').to.equal(null);
      } finally {
        await gw.close();
      }
    });
  });

  describe('when the bank has already seen the TransactionID Gerbang sends (another store issued it)', () => {
    it('answers FAILED with ESB-82-003 and the bank moved no money twice', async () => {
      // Two gateways on two separate stores issue the same bank TransactionID.
      const other = await TestGateway.start(`sqlite::memory:`, bank.env());
      const gw = await TestGateway.start(db.url(), bank.env());
      try {
        // Both stores' counters for this corporate and day set to one value, ahead of the clock's floor.
        const now = Date.now();
        const name = `ids:CENAIDJA:${bank.partner.corporateId}:${jakartaDate(now).replaceAll('-', '')}`;
        const ahead = (Math.floor(now / 1000 + 7 * 3600) % 86_400) * 1000 + 1_000_000;
        for (const store of [other.store, gw.store]) await store.sequences.next(name, ahead);
        const first = await pay(other);
        expect(first.body.bankReference).to.equal(String(ahead + 1).padStart(8, '0'));
        expect(first.status, first.text).to.equal(201);
        const before = simulator.balanceOf('0201245681');
        const second = await pay(gw);
        expect(second.status, second.text).to.equal(422);
        expect(second.body).to.include({ status: 'FAILED', bankResponseCode: 'ESB-82-003' });
        expect(simulator.balanceOf('0201245681')).to.equal(before);
      } finally {
        await other.close();
        await gw.close();
      }
    });
  });

  describe('when the bank never answers', () => {
    it('answers 202 UNKNOWN, keeps the payment in doubt, and a resend is a replay, not a second payment', async () => {
      const gw = await TestGateway.start(db.url(), bank.env({ GERBANG_BANK_HEADERS_TIMEOUT_MS: '500' }));
      try {
        const client = await gw.createClient();
        const token = await gw.token(client);
        const body = sampleTransfer({ remark: 'SIM TIMEOUT' });
        const sent = transferCalls().length;
        const res = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
        expect(res.status, res.text).to.equal(202);
        expect(res.body).to.include({ status: 'UNKNOWN', bankResponseCode: 'BANK_TIMEOUT' });
        const again = await gw.request('/v1/transfers', { json: body, headers: { authorization: `Bearer ${token}` } });
        expect(again.headers['idempotent-replayed']).to.equal('true');
        expect(transferCalls().length - sent).to.equal(1);
        expect((await gw.store.payments.find(client.clientId, body.transactionId as string))!.state).to.equal('UNKNOWN');
      } finally {
        await gw.close();
      }
    });
  });

  describe('when the bank whitelists only the egress address 127.0.0.2', () => {
    it('pays through a gateway bound to 127.0.0.2 and is refused (nothing sent, 503) through one bound elsewhere', async () => {
      const strict = await startTestBank(['127.0.0.2']);
      const bound = await TestGateway.start(db.url(), strict.env({ GERBANG_EGRESS_LOCAL_ADDRESS: '127.0.0.2' }));
      const unbound = await TestGateway.start(db.url(), strict.env({ GERBANG_EGRESS_LOCAL_ADDRESS: '127.0.0.1' }));
      try {
        const paid = await pay(bound);
        expect(paid.status, paid.text).to.equal(201);
        expect(strict.simulator.calls.every((call) => call.sourceAddress === '127.0.0.2')).to.equal(true);

        const refused = await pay(unbound);
        expect(refused.status, refused.text).to.equal(503);
        expect(refused.body).to.include({ code: 'BANK_UNAVAILABLE', bankResponseCode: 'ESB-14-019' });
        expect(strict.simulator.calls.at(-1)).to.include({ sourceAddress: '127.0.0.1', status: 403 });
      } finally {
        await bound.close();
        await unbound.close();
        await strict.simulator.close();
      }
    });
  });
});
