import { expect } from 'chai';
import { Agent, request } from 'undici';
import { bcaTimestamp, signBcaLegacy } from '../../../src/banks/bca-legacy/index.js';
import { createBankSimulator, defaultSandboxPartner, type BankSimulator, type SimPartner } from '../../../src/banks/simulator/index.js';
import { jakartaDate } from '../../../src/time/index.js';

/**
 * The simulator is the bank of every test: these check it is as strict as BCA, by talking to
 * it over real HTTP the way a client would.
 */
describe('BCA simulator', () => {
  let simulator: BankSimulator;
  let partner: SimPartner;
  let url: string;
  const agents: Agent[] = [];
  let sequence = 0;

  before(async () => {
    partner = defaultSandboxPartner();
    simulator = createBankSimulator({ partners: [partner], allowedSourceAddresses: ['127.0.0.1'] });
    url = await simulator.listen();
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await simulator.close();
  });

  async function call(path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; localAddress?: string }) {
    const agent = new Agent(init.localAddress ? { localAddress: init.localAddress } : {});
    agents.push(agent);
    const res = await request(`${url}${path}`, { method: init.method ?? 'POST', headers: init.headers, body: init.body, dispatcher: agent });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  }

  async function token(creds = partner, localAddress?: string) {
    return call('/api/oauth/token', {
      headers: { authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      localAddress,
    });
  }

  function order(overrides: Record<string, string> = {}) {
    sequence += 1;
    return JSON.stringify({
      CorporateID: partner.corporateId,
      SourceAccountNumber: '0201245680',
      TransactionID: String(30_000_000 + sequence),
      TransactionDate: jakartaDate(Date.now()),
      ReferenceID: 'REF-1',
      CurrencyCode: 'IDR',
      Amount: '1000.00',
      BeneficiaryAccountNumber: '0201245681',
      Remark1: 'Test',
      Remark2: '',
      ...overrides,
    });
  }

  async function transfer(body: string, tamper: { signature?: string; timestamp?: string; apiKey?: string; origin?: string } = {}) {
    const accessToken = (await token()).body.access_token as string;
    const timestamp = tamper.timestamp ?? bcaTimestamp(Date.now());
    const { signature } = signBcaLegacy({ method: 'POST', relativeUrl: '/banking/corporates/transfers', accessToken, body, timestamp, apiSecret: partner.apiSecret });
    return call('/banking/corporates/transfers', {
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        origin: tamper.origin ?? partner.origins![0],
        'x-bca-key': tamper.apiKey ?? partner.apiKey,
        'x-bca-timestamp': timestamp,
        'x-bca-signature': tamper.signature ?? signature,
      },
      body,
    });
  }

  it('issues a token for valid client credentials', async () => {
    const res = await token();
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ token_type: 'Bearer', expires_in: '3600' });
  });

  it('refuses wrong client credentials with ESB-14-008', async () => {
    const res = await token({ ...partner, clientSecret: 'wrong' });
    expect(res.status).to.equal(401);
    expect(res.body.ErrorCode).to.equal('ESB-14-008');
  });

  it('refuses a caller whose source address is not whitelisted with ESB-14-019', async () => {
    const res = await token(partner, '127.0.0.2');
    expect(res.body.ErrorCode).to.equal('ESB-14-019');
    expect(simulator.calls[simulator.calls.length - 1].sourceAddress).to.equal('127.0.0.2');
  });

  it('executes a correctly signed transfer and moves the money', async () => {
    const before = simulator.balanceOf('0201245681');
    const res = await transfer(order({ Amount: '2475000.00' }));
    expect(res.status).to.equal(200);
    expect(res.body.Status).to.equal('Success');
    expect(Number(simulator.balanceOf('0201245681')) - Number(before)).to.equal(2475000);
  });

  it('refuses a tampered signature with ESB-14-001 and moves nothing', async () => {
    const before = simulator.balanceOf('0201245681');
    const res = await transfer(order(), { signature: '0'.repeat(64) });
    expect(res.status).to.equal(400);
    expect(res.body).to.deep.include({ ErrorCode: 'ESB-14-001' });
    expect(res.body.ErrorMessage.English).to.equal('HMAC mismatch');
    expect(simulator.balanceOf('0201245681')).to.equal(before);
  });

  it('refuses a body changed after signing with ESB-14-001', async () => {
    const accessToken = (await token()).body.access_token as string;
    const timestamp = bcaTimestamp(Date.now());
    const signed = order();
    const { signature } = signBcaLegacy({ method: 'POST', relativeUrl: '/banking/corporates/transfers', accessToken, body: signed, timestamp, apiSecret: partner.apiSecret });
    const res = await call('/banking/corporates/transfers', {
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', origin: partner.origins![0], 'x-bca-key': partner.apiKey, 'x-bca-timestamp': timestamp, 'x-bca-signature': signature },
      body: signed.replace('"1000.00"', '"9000.00"'),
    });
    expect(res.body.ErrorCode).to.equal('ESB-14-001');
  });

  it('refuses a stale or malformed timestamp with ESB-14-003', async () => {
    expect((await transfer(order(), { timestamp: bcaTimestamp(Date.now() - 10 * 60_000) })).body.ErrorCode).to.equal('ESB-14-003');
    expect((await transfer(order(), { timestamp: new Date().toISOString() })).body.ErrorCode).to.equal('ESB-14-003');
  });

  it('refuses an unknown API key or an unregistered Origin', async () => {
    expect((await transfer(order(), { apiKey: 'someone-elses-key' })).body.ErrorCode).to.equal('ESB-14-009');
    expect((await transfer(order(), { origin: 'https://elsewhere.example' })).body.ErrorCode).to.equal('ESB-14-019');
  });

  it('refuses a TransactionID used before with ESB-82-003', async () => {
    const body = order();
    expect((await transfer(body)).status).to.equal(200);
    expect((await transfer(body)).body.ErrorCode).to.equal('ESB-82-003');
  });

  it('checks the business rules of a transfer', async () => {
    expect((await transfer(order({ Amount: '999999999999.00' }))).body.ErrorCode).to.equal('ESB-82-019');
    expect((await transfer(order({ BeneficiaryAccountNumber: '9999999999' }))).body.ErrorCode).to.equal('ESB-82-014');
    expect((await transfer(order({ BeneficiaryAccountNumber: '0201245682' }))).body.ErrorCode).to.equal('ESB-82-018');
    expect((await transfer(order({ BeneficiaryAccountNumber: '0201245683' }))).body.ErrorCode).to.equal('ESB-82-022');
    expect((await transfer(order({ Amount: '0.00' }))).body.ErrorCode).to.equal('ESB-82-011');
    expect((await transfer(order({ TransactionDate: '2016-01-30' }))).body.ErrorCode).to.equal('ESB-82-001');
    expect((await transfer(order({ Remark1: 'x'.repeat(19) }))).body.ErrorCode).to.equal('ESB-82-001');
    expect((await transfer(order({ CorporateID: '' }))).body.ErrorCode).to.equal('ESB-82-001');
  });

  it('answers a forced error once, then behaves again', async () => {
    simulator.failNext({ code: 'ESB-82-023' });
    expect((await transfer(order())).body.ErrorCode).to.equal('ESB-82-023');
    expect((await transfer(order())).status).to.equal(200);
  });

  it('answers the code named by a SIM remark', async () => {
    const res = await transfer(order({ Remark1: 'SIM ESB-82-026' }));
    expect(res.body.ErrorCode).to.equal('ESB-82-026');
  });
});
