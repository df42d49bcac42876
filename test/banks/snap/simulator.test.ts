import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { relativeUrl, signService, signToken, snapTimestamp } from '../../../src/banks/snap/index.js';
import type { BankSimulator } from '../../../src/banks/simulator/index.js';
import { jakartaDate } from '../../../src/time/index.js';
import { snapCredentials, startSnapBank, type SnapCredentials } from '../../support/snap-bank.js';

/**
 * The simulated SNAP bank spoken to directly over HTTP, to show it is as strict as the bank:
 * each request here is hand-built, with exactly one thing wrong.
 */
describe('bank simulator: SNAP BI strictness', () => {
  let credentials: SnapCredentials;
  let bank: BankSimulator;
  let url: string;
  let token: string;

  const post = async (path: string, headers: Record<string, string>, body: string) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  const tokenHeaders = (overrides: Record<string, string> = {}, signedTimestamp?: string) => {
    const timestamp = overrides['X-TIMESTAMP'] ?? snapTimestamp(new Date(), false);
    const { signature } = signToken({ clientId: credentials.clientId, timestamp: signedTimestamp ?? timestamp, privateKey: credentials.privateKeyPem });
    return { 'Content-Type': 'application/json', 'X-CLIENT-KEY': credentials.clientId, 'X-TIMESTAMP': timestamp, 'X-SIGNATURE': signature, ...overrides };
  };
  const askToken = (headers: Record<string, string>, body = '{"grantType":"client_credentials"}') => post('/openapi/v1.0/access-token/b2b', headers, body);

  /** A correctly signed service call; `tamper` changes the headers after signing, `signedBody` signs other bytes than those sent. */
  const call = (path: string, payload: unknown, options: { tamper?: Record<string, string | undefined>; signedBody?: string; externalId?: string } = {}) => {
    const body = JSON.stringify(payload);
    const timestamp = snapTimestamp(new Date(), false);
    const { signature } = signService({ method: 'POST', relativeUrl: relativeUrl(path), accessToken: token, body: options.signedBody ?? body, timestamp, secret: credentials.clientSecret });
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'X-TIMESTAMP': timestamp,
      'X-SIGNATURE': signature,
      ORIGIN: credentials.origin,
      'X-PARTNER-ID': credentials.partnerId,
      'X-EXTERNAL-ID': options.externalId ?? String(randomInt(1e11, 1e12 - 1)),
      'CHANNEL-ID': credentials.channelId,
    };
    for (const [name, value] of Object.entries(options.tamper ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    return post(path, headers, body);
  };

  const accounts = () => {
    const source = String(randomInt(1e9, 1e10 - 1));
    const target = String(randomInt(1e9, 1e10 - 1));
    bank.setAccount({ number: source, name: 'PT A', balance: '100000.00' });
    bank.setAccount({ number: target, name: 'PT B', balance: '0.00' });
    return { source, target };
  };
  const intrabank = (overrides: Record<string, unknown> = {}) => {
    const { source, target } = accounts();
    return {
      partnerReferenceNo: String(randomInt(1e9, 1e10 - 1)),
      amount: { value: '100.00', currency: 'IDR' },
      beneficiaryAccountNo: target,
      remark: 'with  spaces inside',
      sourceAccountNo: source,
      transactionDate: `${jakartaDate(new Date())}T10:00:00+07:00`,
      ...overrides,
    };
  };
  const TRANSFER = '/openapi/v1.0/transfer-intrabank';

  before(async () => {
    credentials = snapCredentials();
    ({ simulator: bank, url } = await startSnapBank(credentials));
    const issued = await askToken(tokenHeaders());
    expect(issued.body).to.include({ responseCode: '2007300', tokenType: 'Bearer', expiresIn: '900' });
    token = issued.body.accessToken as string;
  });
  after(async () => bank.close());

  describe('B2B token request', () => {
    it('refuses a signature over another timestamp than the header (4017300)', async () => {
      const stamp = snapTimestamp(new Date(), false);
      const res = await askToken(tokenHeaders({ 'X-TIMESTAMP': stamp }, snapTimestamp(Date.now() - 1000, false)));
      expect(res.status).to.equal(401);
      expect(res.body.responseCode).to.equal('4017300');
    });

    it('refuses a timestamp in another format (milliseconds at BCA) or outside the window (4007301)', async () => {
      expect((await askToken(tokenHeaders({ 'X-TIMESTAMP': snapTimestamp(new Date(), true) }))).body.responseCode).to.equal('4007301');
      expect((await askToken(tokenHeaders({ 'X-TIMESTAMP': snapTimestamp(Date.now() - 3_600_000, false) }))).body.responseCode).to.equal('4007301');
    });

    it('refuses an unknown client (4017300), a missing signature (4007302) and another grant type (4007301)', async () => {
      expect((await askToken(tokenHeaders({ 'X-CLIENT-KEY': 'nobody' }))).body.responseCode).to.equal('4017300');
      const { 'X-SIGNATURE': _omitted, ...unsigned } = tokenHeaders();
      expect((await askToken(unsigned)).body).to.deep.equal({ responseCode: '4007302', responseMessage: 'Invalid Mandatory Field [X-SIGNATURE]' });
      expect((await askToken(tokenHeaders(), '{"grantType":"password"}')).body.responseCode).to.equal('4007301');
    });
  });

  describe('service call headers and signature', () => {
    it('accepts a correct call and answers in SNAP shape', async () => {
      const res = await call(TRANSFER, intrabank());
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ responseCode: '2001700', responseMessage: 'Successful' });
      expect(res.body.referenceNo).to.match(/^\d{12}$/);
    });

    for (const [label, tamper, code] of [
      ['an unknown token', { Authorization: 'Bearer nope' }, '4011701'],
      ['no X-EXTERNAL-ID', { 'X-EXTERNAL-ID': undefined }, '4001702'],
      ['a non-numeric X-EXTERNAL-ID', { 'X-EXTERNAL-ID': 'abc-1' }, '4001701'],
      ['another X-PARTNER-ID', { 'X-PARTNER-ID': 'SOMEONEELSE' }, '4011700'],
      ['another CHANNEL-ID', { 'CHANNEL-ID': '12345' }, '4011700'],
      ['an unregistered ORIGIN', { ORIGIN: 'https://evil.example' }, '4011700'],
      ['a forged signature', { 'X-SIGNATURE': Buffer.alloc(64).toString('base64') }, '4011700'],
      ['a timestamp with milliseconds', { 'X-TIMESTAMP': snapTimestamp(new Date(), true) }, '4001701'],
    ] as const) {
      it(`refuses ${label} (${code}) and moves nothing`, async () => {
        const payload = intrabank();
        const res = await call(TRANSFER, payload, { tamper });
        expect(res.body.responseCode).to.equal(code);
        expect(res.status).to.equal(Number(code.slice(0, 3)));
        expect(bank.balanceOf(payload.beneficiaryAccountNo)).to.equal('0.00');
      });
    }

    it('verifies the HMAC over the exact bytes received: the legacy canonicalisation (spaces removed) does not pass', async () => {
      const payload = intrabank();
      const res = await call(TRANSFER, payload, { signedBody: JSON.stringify(payload).replace(/\s+/g, '') });
      expect(res.body.responseCode).to.equal('4011700');
    });
  });

  describe('transfer fields and uniqueness', () => {
    it('answers 4001702 naming a missing mandatory field and 4001701 naming a badly formatted one', async () => {
      const { amount: _amount, ...withoutAmount } = intrabank();
      expect((await call(TRANSFER, withoutAmount)).body).to.include({ responseCode: '4001702', responseMessage: 'Invalid Mandatory Field [amount.value]' });
      expect((await call(TRANSFER, intrabank({ amount: { value: '100', currency: 'IDR' } }))).body).to.include({ responseCode: '4001701', responseMessage: 'Invalid Field Format [amount.value]' });
      expect((await call(TRANSFER, intrabank({ transactionDate: '2026-11-25' }))).body.responseCode).to.equal('4001701');
    });

    it('refuses an X-EXTERNAL-ID used before today (4091700) and a partnerReferenceNo used before (4091701), paying once', async () => {
      const first = intrabank();
      const externalId = String(randomInt(1e11, 1e12 - 1));
      expect((await call(TRANSFER, first, { externalId })).body.responseCode).to.equal('2001700');
      expect((await call(TRANSFER, intrabank(), { externalId })).body.responseCode).to.equal('4091700');
      expect((await call(TRANSFER, first)).body.responseCode).to.equal('4091701');
      expect(bank.balanceOf(first.beneficiaryAccountNo)).to.equal('100.00');
    });

    it('answers a forced code from the remark (SIM 4031702) without executing', async () => {
      const payload = intrabank({ remark: 'SIM 4031702' });
      const res = await call(TRANSFER, payload);
      expect(res.status).to.equal(403);
      expect(res.body).to.deep.equal({ responseCode: '4031702', responseMessage: 'Exceeds Transaction Amount Limit' });
      expect(bank.balanceOf(payload.beneficiaryAccountNo)).to.equal('0.00');
    });
  });

  describe('admin call', () => {
    it('queues a SNAP scenario posted to /_simulator/snap/fail-next, and names a bad field', async () => {
      const bad = await fetch(`${url}/_simulator/snap/fail-next`, { method: 'POST', body: JSON.stringify({ responseCode: 'ESB-82-019' }) });
      expect(bad.status).to.equal(400);
      expect(((await bad.json()) as { error: string }).error).to.contain('"responseCode"');
      const queued = await fetch(`${url}/_simulator/snap/fail-next`, { method: 'POST', body: JSON.stringify({ responseCode: '5041700' }) });
      expect(queued.status).to.equal(204);
      const payload = intrabank();
      const res = await call(TRANSFER, payload);
      expect(res.status).to.equal(504);
      expect(res.body.responseCode).to.equal('5041700');
      expect(bank.balanceOf(payload.beneficiaryAccountNo)).to.equal('0.00');
    });
  });
});
