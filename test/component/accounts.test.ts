import { expect } from 'chai';
import { jakartaDate } from '../../src/time/index.js';
import { forEachBackend } from '../support/databases.js';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';
import { startTestBank, type TestBank } from '../support/test-bank.js';

forEachBackend('Account inquiries, balance and statement through the public API', (db) => {
  let bank: TestBank;
  let gw: TestGateway;
  let auth: Record<string, string>;

  before(async () => {
    bank = await startTestBank();
    // A company account of its own (configured at the partner), so its statement holds only this file's transfers.
    bank.simulator.setAccount({ number: '0201777001', name: 'PT PEMBAYAR', balance: '5000000.00' });
    gw = await TestGateway.start(db.url(), bank.env());
    auth = { authorization: `Bearer ${await gw.token(await gw.createClient())}` };
  });
  after(async () => {
    await gw?.close();
    await bank?.simulator.close();
  });

  const today = () => jakartaDate(new Date());

  it("tells the vendor's account name before paying, by 3-digit code or BIC, and audits the bank leg", async () => {
    bank.simulator.setAccount({ number: '0201999001', name: 'CV SUMBER MAKMUR', balance: '0.00' });
    for (const code of ['014', 'CENAIDJA']) {
      const res = await gw.request('/v1/account-inquiries', { json: { beneficiaryBankCode: code, beneficiaryAccountNumber: '0201999001' }, headers: auth });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ beneficiaryBankCode: 'CENAIDJA', beneficiaryAccountNumber: '0201999001', beneficiaryName: 'CV SUMBER MAKMUR', bank: 'bca', bankCode: 'CENAIDJA', scope: 'internal' });
    }
    const [row] = await eventually(async () => {
      const rows = (await gw.store.audit.list({})).filter((r) => r.path === '/v1/account-inquiries' && r.completedAt);
      return rows.length >= 2 ? rows : null;
    });
    expect(row.bankCalls.map((c) => c.operation)).to.include('account-inquiry');
  });

  it("answers 422 BANK_REFUSED with the bank's code for an account that does not exist", async () => {
    const res = await gw.request('/v1/account-inquiries', { json: { beneficiaryBankCode: '014', beneficiaryAccountNumber: '0209999999' }, headers: auth });
    expect(res.status).to.equal(422);
    expect(res.body).to.include({ code: 'BANK_REFUSED', bankResponseCode: 'ESB-82-014' });
  });

  it('names every bad field of an inquiry', async () => {
    const res = await gw.request('/v1/account-inquiries', { json: { beneficiaryBankCode: '999', beneficiaryAccountNumber: '12', extra: 1 }, headers: auth });
    expect(res.status).to.equal(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).to.deep.equal(['beneficiaryAccountNumber', 'beneficiaryBankCode', 'extra']);
  });

  it('shows the balance, and a statement listing the day’s transfers', async () => {
    const paid = await gw.request('/v1/transfers', { json: sampleTransfer({ sourceAccountNumber: '0201777001', amount: '1250000.00' }), headers: auth });
    expect(paid.status, paid.text).to.equal(201);

    const balance = await gw.request('/v1/accounts/0201777001/balance', { headers: auth });
    expect(balance.status, balance.text).to.equal(200);
    expect(balance.body).to.include({ accountNumber: '0201777001', currency: 'IDR', balance: '3750000.00', availableBalance: '3750000.00', bank: 'bca', bankCode: 'CENAIDJA' });

    const statement = await gw.request(`/v1/accounts/0201777001/statements?from=${today()}&to=${today()}`, { headers: auth });
    expect(statement.status, statement.text).to.equal(200);
    expect(statement.body).to.include({ accountNumber: '0201777001', openingBalance: '5000000.00', from: today(), to: today(), bank: 'bca', bankCode: 'CENAIDJA' });
    expect(statement.body.entries).to.deep.equal([{ date: today(), type: 'DEBIT', amount: '1250000.00', description: `${paid.body.transactionId} Invoice test`, reference: `${paid.body.transactionId} Invoice test` }]);
  });

  it('refuses a statement period the bank would refuse, naming the field, without calling the bank', async () => {
    const before = bank.simulator.calls.length;
    const cases: [string, string][] = [
      ['from=2026-01-01&to=2026-03-01', 'to'],
      ['from=2026-02-10&to=2026-02-01', 'to'],
      ['from=2026-13-01&to=2026-02-01', 'from'],
      ['to=2026-02-01', 'from'],
      [`from=${today()}&to=2999-01-01`, 'to'],
    ];
    for (const [query, field] of cases) {
      const res = await gw.request(`/v1/accounts/0201245680/statements?${query}`, { headers: auth });
      expect(res.status, query).to.equal(400);
      expect(res.body.errors[0].field, query).to.equal(field);
    }
    expect(bank.simulator.calls.length).to.equal(before);
  });

  it('refuses an account number that is not 5 to 34 digits, and answers 404 for an account asked of a bank that does not hold it', async () => {
    expect((await gw.request('/v1/accounts/12ab/balance', { headers: auth })).body.errors[0].field).to.equal('accountNumber');
    const res = await gw.request('/v1/accounts/0201245680/balance?bankCode=002', { headers: auth });
    expect(res.status).to.equal(404);
    expect(res.body).to.include({ code: 'NOT_FOUND' });
    expect(res.body.errors[0].field).to.equal('accountNumber');
  });

  describe('when the client was not granted the account', () => {
    it('answers 404 for its balance, its statement and a transfer from it, as for an unknown account, asks the bank nothing and audits each refusal', async () => {
      const narrow = await gw.createClient({ accounts: ['0201245680'] });
      const headers = { authorization: `Bearer ${await gw.token(narrow)}` };
      const before = bank.simulator.calls.length;
      const transfer = sampleTransfer({ sourceAccountNumber: '0201777001' });
      const answers = [
        await gw.request('/v1/accounts/0201777001/balance', { headers }),
        await gw.request(`/v1/accounts/0201777001/statements?from=${today()}&to=${today()}`, { headers }),
        await gw.request('/v1/transfers', { json: transfer, headers }),
        // Not a company account at all: the same answer, so a client learns nothing of the others.
        await gw.request('/v1/accounts/0209990001/balance', { headers }),
      ];
      for (const answer of answers) {
        expect(answer.status, answer.text).to.equal(404);
        expect(answer.body.code).to.equal('NOT_FOUND');
      }
      expect(answers[2].body.errors[0].field).to.equal('sourceAccountNumber');
      expect(answers[0].body.detail).to.equal(answers[3].body.detail);
      expect(bank.simulator.calls.length, 'nothing asked of the bank').to.equal(before);
      expect(await gw.store.payments.find(narrow.clientId, transfer.transactionId as string), 'nothing reserved').to.equal(null);
      const rows = await eventually(async () => {
        const found = (await gw.store.audit.list({})).filter((r) => r.clientId === narrow.clientId && r.statusCode === 404 && r.completedAt);
        return found.length >= 4 ? found : null;
      });
      expect(rows.map((r) => r.errorCode)).to.deep.equal(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
      // The account it was granted still works.
      expect((await gw.request('/v1/accounts/0201245680/balance', { headers })).status).to.equal(200);
    });

    it('answers 404 to a client granted nothing (a client from before grants existed)', async () => {
      const none = await gw.createClient({ accounts: [] });
      const headers = { authorization: `Bearer ${await gw.token(none)}` };
      expect((await gw.request('/v1/transfers', { json: sampleTransfer(), headers })).status).to.equal(404);
      expect((await gw.request('/v1/accounts/0201245680/balance', { headers })).status).to.equal(404);
    });
  });

  it('answers 401 without a token', async () => {
    expect((await gw.request('/v1/accounts/0201245680/balance')).status).to.equal(401);
  });
});
