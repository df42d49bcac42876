import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { Agent, request } from 'undici';
import { bcaTimestamp, sign } from '../../../src/banks/bca-legacy/index.js';
import { jakartaDate } from '../../../src/time/index.js';
import { createBankSimulator, defaultSandboxPartner, type BankSimulator, type SimPartner } from '../../../src/banks/simulator/index.js';

/**
 * The simulator is the bank of every test: these check that it is as strict as BCA, talking to
 * it over real HTTP the way a client would (signing with the project's signer).
 */
describe('BCA simulator', () => {
  let simulator: BankSimulator;
  let partner: SimPartner;
  /** Another client of the same bank: its API key is real, but not the first partner's. */
  let neighbour: SimPartner;
  let url: string;
  const agents: Agent[] = [];

  before(async () => {
    partner = defaultSandboxPartner();
    neighbour = { ...defaultSandboxPartner(), corporateId: 'NEIGHBOUR1' };
    simulator = createBankSimulator({ partners: [partner, neighbour], allowedSourceAddresses: ['127.0.0.1'] });
    url = await simulator.listen();
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.destroy()));
    await simulator.close();
  });

  async function call(path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; localAddress?: string; headersTimeout?: number }) {
    const agent = new Agent({ ...(init.localAddress ? { localAddress: init.localAddress } : {}), headersTimeout: init.headersTimeout ?? 5_000 });
    agents.push(agent);
    const res = await request(`${url}${path}`, { method: init.method ?? 'POST', headers: init.headers, body: init.body, dispatcher: agent });
    const text = await res.body.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a forced non-BCA error page): kept as text.
    }
    return { status: res.statusCode, body };
  }

  async function token(creds: SimPartner = partner, options: { localAddress?: string; form?: string } = {}) {
    return call('/api/oauth/token', {
      headers: { authorization: `Basic ${Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: options.form ?? 'grant_type=client_credentials',
      localAddress: options.localAddress,
    });
  }

  /** Two fresh accounts of this test's own, so no test depends on another's balances. */
  function accounts(sourceBalance = '1000000.00', beneficiary: { status?: 'active' | 'dormant' | 'closed' } = {}) {
    const source = String(randomInt(1e9, 1e10 - 1)).padStart(10, '0');
    const target = String(randomInt(1e9, 1e10 - 1)).padStart(10, '0');
    simulator.setAccount({ number: source, name: 'PT PAYER', balance: sourceBalance });
    simulator.setAccount({ number: target, name: 'CV PAYEE', balance: '0.00', status: beneficiary.status });
    return { source, target };
  }

  function order(overrides: Record<string, unknown> = {}): string {
    return JSON.stringify({
      CorporateID: partner.corporateId,
      SourceAccountNumber: '0201245680',
      TransactionID: String(randomInt(10_000_000, 99_999_999)),
      TransactionDate: jakartaDate(new Date()),
      ReferenceID: 'INV-1',
      CurrencyCode: 'IDR',
      Amount: '1000.00',
      BeneficiaryAccountNumber: '0201245681',
      Remark1: 'Test',
      Remark2: '',
      ...overrides,
    });
  }

  interface Tamper {
    signature?: string;
    timestamp?: string;
    apiKey?: string;
    origin?: string;
    sentBody?: string;
    accessToken?: string;
    headersTimeout?: number;
    contentType?: string;
  }

  async function transfer(body: string, tamper: Tamper = {}) {
    const accessToken = tamper.accessToken ?? ((await token()).body.access_token as string);
    const timestamp = tamper.timestamp ?? bcaTimestamp(new Date());
    const { signature } = sign({ method: 'POST', relativeUrl: '/banking/corporates/transfers', accessToken, body, timestamp, apiSecret: partner.apiSecret });
    return call('/banking/corporates/transfers', {
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': tamper.contentType ?? 'application/json',
        origin: tamper.origin ?? partner.origins![0],
        'x-bca-key': tamper.apiKey ?? partner.apiKey,
        'x-bca-timestamp': timestamp,
        'x-bca-signature': tamper.signature ?? signature,
      },
      body: tamper.sentBody ?? body,
      headersTimeout: tamper.headersTimeout,
    });
  }

  describe('when a partner asks for a token with its credentials', () => {
    it('issues a Bearer token whose expires_in is a string', async () => {
      const res = await token();
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ token_type: 'Bearer', expires_in: '3600' });
      expect(res.body.access_token).to.be.a('string').with.length.above(20);
    });
  });

  describe('when the token request is wrong', () => {
    it('refuses a wrong client secret with 401 ESB-14-008', async () => {
      const res = await token({ ...partner, clientSecret: 'wrong' });
      expect(res.status).to.equal(401);
      expect(res.body.ErrorCode).to.equal('ESB-14-008');
      expect(res.body.ErrorMessage).to.have.keys('Indonesian', 'English');
    });

    it('refuses another grant type with ESB-14-008', async () => {
      expect((await token(partner, { form: 'grant_type=password' })).body.ErrorCode).to.equal('ESB-14-008');
    });
  });

  describe('when the caller source address is not whitelisted', () => {
    it('answers ESB-14-019 "Connection not allowed" to a client bound to 127.0.0.2', async () => {
      const res = await token(partner, { localAddress: '127.0.0.2' });
      expect(res.status).to.equal(403);
      expect(res.body).to.deep.equal({ ErrorCode: 'ESB-14-019', ErrorMessage: { Indonesian: 'Koneksi tidak diperbolehkan', English: 'Connection not allowed' } });
      expect(simulator.calls.at(-1)).to.include({ sourceAddress: '127.0.0.2', status: 403, errorCode: 'ESB-14-019' });
    });
  });

  describe('when a correctly signed transfer arrives', () => {
    it('executes it, answers Success and moves the money', async () => {
      const { source, target } = accounts('5000000.00');
      const body = order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target, Amount: '2475000.50', Remark1: 'Transfer Test' });
      const res = await transfer(body);
      expect(res.status).to.equal(200);
      const sent = JSON.parse(body);
      expect(res.body).to.deep.equal({ TransactionID: sent.TransactionID, TransactionDate: sent.TransactionDate, ReferenceID: 'INV-1', Status: 'Success' });
      expect(simulator.balanceOf(source)).to.equal('2524999.50');
      expect(simulator.balanceOf(target)).to.equal('2475000.50');
    });

    it("knows BCA's documentation sample accounts", () => {
      expect(Number(simulator.balanceOf('0201245680'))).to.be.above(1_000_000);
      expect(simulator.balanceOf('0201245681')).to.be.a('string');
    });
  });

  describe('when the signature does not match', () => {
    it('refuses a tampered signature with 400 ESB-14-001 "HMAC mismatch" and moves nothing', async () => {
      const { source, target } = accounts();
      const res = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target }), { signature: '0'.repeat(64) });
      expect(res.status).to.equal(400);
      expect(res.body).to.deep.include({ ErrorCode: 'ESB-14-001' });
      expect(res.body.ErrorMessage.English).to.equal('HMAC mismatch');
      expect(simulator.balanceOf(target)).to.equal('0.00');
    });

    it('refuses a body changed after signing', async () => {
      const body = order();
      const res = await transfer(body, { sentBody: body.replace('"1000.00"', '"9000.00"') });
      expect(res.body.ErrorCode).to.equal('ESB-14-001');
    });
  });

  describe('when the timestamp is stale or malformed', () => {
    it('answers ESB-14-003', async () => {
      expect((await transfer(order(), { timestamp: bcaTimestamp(new Date(Date.now() - 10 * 60_000)) })).body.ErrorCode).to.equal('ESB-14-003');
      expect((await transfer(order(), { timestamp: bcaTimestamp(new Date(Date.now() + 10 * 60_000)) })).body.ErrorCode).to.equal('ESB-14-003');
      expect((await transfer(order(), { timestamp: new Date().toISOString() })).body.ErrorCode).to.equal('ESB-14-003');
    });
  });

  describe('when the token, API key or Origin is wrong', () => {
    it('answers ESB-14-009 to an unknown or expired token', async () => {
      expect((await transfer(order(), { accessToken: 'not-a-token' })).body.ErrorCode).to.equal('ESB-14-009');
      const issued = (await token()).body.access_token as string;
      simulator.expireTokens();
      const res = await transfer(order(), { accessToken: issued });
      expect(res.status).to.equal(401);
      expect(res.body.ErrorCode).to.equal('ESB-14-009');
    });

    it('answers ESB-14-021 to an X-BCA-Key it never issued and ESB-14-022 to another client\'s key, moving nothing', async () => {
      const { source, target } = accounts();
      const unknown = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target }), { apiKey: 'someone-elses-key' });
      expect([unknown.status, unknown.body.ErrorCode]).to.deep.equal([401, 'ESB-14-021']);
      const borrowed = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target }), { apiKey: neighbour.apiKey });
      expect([borrowed.status, borrowed.body.ErrorCode]).to.deep.equal([401, 'ESB-14-022']);
      expect(simulator.balanceOf(target)).to.equal('0.00');
    });

    it('answers ESB-14-019 to an unregistered Origin', async () => {
      expect((await transfer(order(), { origin: 'https://elsewhere.example' })).body.ErrorCode).to.equal('ESB-14-019');
    });
  });

  describe('when a TransactionID is used again', () => {
    it('refuses it with ESB-82-003 and moves nothing the second time', async () => {
      const { source, target } = accounts();
      const body = order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target });
      expect((await transfer(body)).status).to.equal(200);
      const res = await transfer(body);
      expect(res.body.ErrorCode).to.equal('ESB-82-003');
      expect(simulator.balanceOf(target)).to.equal('1000.00');
    });
  });

  describe('when the payer cannot pay', () => {
    it('refuses insufficient funds with ESB-82-019 and moves nothing', async () => {
      const { source, target } = accounts('999.99');
      const res = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target, Amount: '1000.00' }));
      expect(res.body.ErrorCode).to.equal('ESB-82-019');
      expect(simulator.balanceOf(source)).to.equal('999.99');
    });

    it('refuses unknown, dormant and closed accounts', async () => {
      expect((await transfer(order({ BeneficiaryAccountNumber: '9999999999' }))).body.ErrorCode).to.equal('ESB-82-014');
      const dormant = accounts('1000000.00', { status: 'dormant' });
      expect((await transfer(order({ SourceAccountNumber: dormant.source, BeneficiaryAccountNumber: dormant.target }))).body.ErrorCode).to.equal('ESB-82-018');
      const closed = accounts('1000000.00', { status: 'closed' });
      expect((await transfer(order({ SourceAccountNumber: closed.source, BeneficiaryAccountNumber: closed.target }))).body.ErrorCode).to.equal('ESB-82-022');
    });
  });

  describe('when a field is missing or malformed', () => {
    it('answers the documented code: ESB-82-001 missing, -009 currency, -010 TransactionID, -011 amount', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ CorporateID: '' }, 'ESB-82-001'],
        [{ ReferenceID: undefined }, 'ESB-82-001'],
        [{ CorporateID: 'OTHERCORP' }, 'ESB-82-001'],
        [{ TransactionID: '1234567' }, 'ESB-82-010'],
        [{ TransactionID: '1234567A' }, 'ESB-82-010'],
        [{ CurrencyCode: 'USD' }, 'ESB-82-009'],
        [{ TransactionDate: '2016-01-30' }, 'ESB-82-001'],
        [{ Remark1: 'x'.repeat(19) }, 'ESB-82-001'],
        [{ Amount: '0.00' }, 'ESB-82-011'],
        [{ Amount: '-5.00' }, 'ESB-82-011'],
        [{ Amount: '100.5' }, 'ESB-82-011'],
        [{ Amount: '12345678901234.00' }, 'ESB-82-011'],
      ];
      for (const [overrides, code] of cases) {
        expect((await transfer(order(overrides))).body.ErrorCode, JSON.stringify(overrides)).to.equal(code);
      }
    });

    it('answers ESB-14-015 to a body sent as anything but application/json, and ESB-14-016 to a body that is not JSON', async () => {
      const wrongType = await transfer(order(), { contentType: 'text/plain' });
      expect([wrongType.status, wrongType.body.ErrorCode]).to.deep.equal([400, 'ESB-14-015']);
      const broken = await transfer('{"CorporateID": "BCAAPI2016",');
      expect([broken.status, broken.body.ErrorCode]).to.deep.equal([400, 'ESB-14-016']);
      expect((await transfer('[1, 2]')).body.ErrorCode).to.equal('ESB-14-016');
    });
  });

  describe('when told to fail the next transfer (failNext)', () => {
    it('answers the forced code once, without executing, then behaves again', async () => {
      const { source, target } = accounts();
      simulator.failNext({ code: 'ESB-82-023' });
      const forced = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target }));
      expect(forced.body.ErrorCode).to.equal('ESB-82-023');
      expect(simulator.balanceOf(target)).to.equal('0.00');
      expect((await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target }))).status).to.equal(200);
    });

    it('uses the given HTTP status and can execute before answering an in-doubt code', async () => {
      const { source, target } = accounts();
      simulator.failNext({ code: 'ESB-82-024', httpStatus: 500, execute: true });
      const res = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target }));
      expect(res).to.deep.include({ status: 500 });
      expect(res.body.ErrorCode).to.equal('ESB-82-024');
      expect(simulator.balanceOf(target), 'the money moved anyway').to.equal('1000.00');
    });

    it('answers a bare HTTP status with a non-BCA body', async () => {
      simulator.failNext({ httpStatus: 502 });
      const res = await transfer(order());
      expect(res.status).to.equal(502);
      expect(res.body).to.be.a('string').and.match(/Simulated HTTP 502/);
    });

    it('drops the connection after executing (dropConnection)', async () => {
      const { source, target } = accounts();
      simulator.failNext({ dropConnection: true });
      const error = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target })).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(Error);
      expect(simulator.balanceOf(target)).to.equal('1000.00');
      expect(simulator.calls.at(-1)).to.include({ status: 0 });
    });

    it('can fail the next token request instead', async () => {
      simulator.failNext({ operation: 'token', code: 'ESB-14-005' });
      const res = await token();
      expect(res.status).to.equal(503);
      expect(res.body.ErrorCode).to.equal('ESB-14-005');
      expect((await token()).status).to.equal(200);
    });
  });

  describe('when a transfer carries a magic Remark1', () => {
    it('SIM ESB-xx-yyy answers that code', async () => {
      expect((await transfer(order({ Remark1: 'SIM ESB-82-026' }))).body.ErrorCode).to.equal('ESB-82-026');
    });

    it('SIM TIMEOUT executes and never answers', async () => {
      const { source, target } = accounts();
      const error = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target, Remark1: 'SIM TIMEOUT' }), { headersTimeout: 300 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect((error as { code?: string }).code).to.equal('UND_ERR_HEADERS_TIMEOUT');
      expect(simulator.balanceOf(target)).to.equal('1000.00');
    });

    it('SIM RESET executes and destroys the connection', async () => {
      const { source, target } = accounts();
      const error = await transfer(order({ SourceAccountNumber: source, BeneficiaryAccountNumber: target, Remark1: 'SIM RESET' })).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(Error);
      expect(simulator.balanceOf(target)).to.equal('1000.00');
    });
  });

  describe('when driven through the admin endpoint from loopback', () => {
    it('queues a failure, lists calls with secrets redacted, and never records itself', async () => {
      const before = simulator.calls.length;
      expect((await call('/_simulator/fail-next', { body: JSON.stringify({ code: 'ESB-82-019' }) })).status).to.equal(204);
      expect((await call('/_simulator/fail-next', { body: '{"code": 42}' })).status).to.equal(400);
      expect((await transfer(order())).body.ErrorCode).to.equal('ESB-82-019');
      const listed = await call('/_simulator/calls', { method: 'GET' });
      expect(listed.status).to.equal(200);
      const last = listed.body.at(-1);
      expect(last).to.include({ path: '/banking/corporates/transfers', errorCode: 'ESB-82-019' });
      expect(last.headers.authorization).to.equal('[REDACTED]');
      expect(last.headers['x-bca-signature']).to.equal('[REDACTED]');
      expect(simulator.calls.slice(before).map((c) => c.path)).to.deep.equal(['/api/oauth/token', '/banking/corporates/transfers']);
    });
  });

  describe('when asked for a transfer status', () => {
    async function status(transactionId: string, date: string, headers: Record<string, string> = {}) {
      const accessToken = (await token()).body.access_token as string;
      const timestamp = bcaTimestamp(new Date());
      const path = `/banking/corporates/transfers/status/${transactionId}?TransactionDate=${date}&TransferType=BCA`;
      const { signature } = sign({ method: 'GET', relativeUrl: path, accessToken, body: '', timestamp, apiSecret: partner.apiSecret });
      return call(path, {
        method: 'GET',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          origin: partner.origins![0],
          'x-bca-key': partner.apiKey,
          'x-bca-timestamp': timestamp,
          'x-bca-signature': signature,
          channelid: '95051',
          credentialid: partner.corporateId,
          ...headers,
        },
      });
    }

    it('reports an executed transfer as Success', async () => {
      const body = order();
      expect((await transfer(body)).status).to.equal(200);
      const { TransactionID, TransactionDate } = JSON.parse(body);
      const res = await status(TransactionID, TransactionDate);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ TransactionID, TransactionDate, Status: 'Success', Amount: '1000.00' });
    });

    it('answers ESB-99-127 for a TransactionID it never executed, or another date', async () => {
      const body = order();
      const { TransactionID, TransactionDate } = JSON.parse(body);
      expect((await status(TransactionID, TransactionDate)).body.ErrorCode).to.equal('ESB-99-127');
      expect((await transfer(body)).status).to.equal(200);
      expect((await status(TransactionID, '2016-01-30')).body.ErrorCode).to.equal('ESB-99-127');
    });

    it('requires ChannelID and the caller own CredentialID', async () => {
      expect((await status('12345678', '2026-01-01', { channelid: '' })).body.ErrorCode).to.equal('ESB-82-001');
      expect((await status('12345678', '2026-01-01', { credentialid: 'SOMEONEELSE' })).body.ErrorCode).to.equal('ESB-14-019');
    });
  });
});
