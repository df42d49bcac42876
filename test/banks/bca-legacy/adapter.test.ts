import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createBcaLegacyAdapter } from '../../../src/banks/bca-legacy/index.js';
import { jakartaDate } from '../../../src/time/index.js';
import { createBankSimulator, defaultSandboxPartner, type BankSimulator, type SimPartner } from '../../../src/banks/simulator/index.js';
import type { BankAdapter, BankTokenCache, IntrabankTransferOrder } from '../../../src/banks/types.js';
import { createBankHttpClient } from '../../../src/egress/index.js';
import { AppError, isAppError } from '../../../src/errors/index.js';
import { memoryTokens, recorder } from '../../support/bank-adapters.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, (error: unknown) => error);

describe('BCA legacy adapter', () => {
  let simulator: BankSimulator;
  let partner: SimPartner;
  let baseUrl: string;
  const adapters: BankAdapter[] = [];

  before(async () => {
    partner = defaultSandboxPartner();
    simulator = createBankSimulator({ partners: [partner], allowedSourceAddresses: ['127.0.0.1'] });
    baseUrl = await simulator.listen();
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close()));
  });
  after(async () => simulator.close());

  interface AdapterOverrides {
    tokens?: BankTokenCache;
    apiSecret?: string;
    clientSecret?: string;
    baseUrl?: string;
    headersTimeoutMs?: number;
  }

  function adapterWith(overrides: AdapterOverrides = {}): BankAdapter {
    const url = overrides.baseUrl ?? baseUrl;
    const adapter = createBcaLegacyAdapter({
      partner: 'bca',
      baseUrl: url,
      clientId: partner.clientId,
      clientSecret: overrides.clientSecret ?? partner.clientSecret,
      apiKey: partner.apiKey,
      apiSecret: overrides.apiSecret ?? partner.apiSecret,
      corporateId: partner.corporateId,
      origin: partner.origins![0],
      tokens: overrides.tokens ?? memoryTokens(),
      http: createBankHttpClient({ baseUrl: url, connectTimeoutMs: 1_000, headersTimeoutMs: overrides.headersTimeoutMs ?? 2_000, bodyTimeoutMs: 2_000 }),
    });
    adapters.push(adapter);
    return adapter;
  }

  /** A payment between two accounts this test creates, with a fresh 8-digit TransactionID. */
  function order(overrides: Partial<IntrabankTransferOrder> = {}): IntrabankTransferOrder {
    const source = String(randomInt(1e9, 1e10 - 1));
    const target = String(randomInt(1e9, 1e10 - 1));
    simulator.setAccount({ number: source, name: 'PT PAYER', balance: '1000000.00' });
    simulator.setAccount({ number: target, name: 'CV PAYEE', balance: '0.00' });
    return {
      bankTransactionId: String(randomInt(10_000_000, 99_999_999)),
      transactionDate: jakartaDate(new Date()),
      referenceId: `INV-${randomInt(1e6)}`,
      sourceAccountNumber: source,
      beneficiaryAccountNumber: target,
      amount: '1500.00',
      currency: 'IDR',
      remark1: 'Invoice 42',
      remark2: 'Vendor payment',
      ...overrides,
    };
  }

  const transferCalls = () => simulator.calls.filter((c) => c.path === '/banking/corporates/transfers').length;
  const tokenCalls = () => simulator.calls.filter((c) => c.path === '/api/oauth/token').length;

  describe('when the bank accepts the transfer', () => {
    it('answers SUCCESS, moves the money, and reports the token and transfer exchanges with timing', async () => {
      const adapter = adapterWith();
      const { calls, ctx } = recorder();
      const payment = order();
      const outcome = await adapter.transferIntrabank(payment, ctx);
      expect(outcome).to.deep.equal({ status: 'SUCCESS', bankReference: payment.bankTransactionId, bankResponseCode: null, bankMessage: null });
      expect(simulator.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
      expect(calls.map((c) => `${c.operation}:${c.statusCode}`)).to.deep.equal(['token:200', 'transfer-intrabank:200']);
      const sent = calls[1];
      expect(sent).to.include({ partner: 'bca', method: 'POST', url: `${baseUrl}/banking/corporates/transfers`, errorCode: null });
      expect(sent.requestHeaders['X-BCA-Signature']).to.match(/^[0-9a-f]{64}$/);
      expect(sent.requestHeaders['X-BCA-Timestamp']).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00$/);
      expect(JSON.parse(sent.requestBody!)).to.include({ CorporateID: partner.corporateId, TransactionID: payment.bankTransactionId, Remark1: 'Invoice 42' });
      for (const call of calls) {
        expect(call.durationMs).to.be.a('number').and.at.least(0);
        expect(call.startedAt).to.be.closeTo(Date.now(), 10_000);
      }
    });

    it('sends the body with its spaces, exactly the bytes it signed', async () => {
      const { calls, ctx } = recorder();
      await adapterWith().transferIntrabank(order({ remark1: 'Transfer Test' }), ctx);
      expect(simulator.calls.at(-1)!.body).to.equal(calls.at(-1)!.requestBody);
      expect(calls.at(-1)!.requestBody).to.contain('"Remark1":"Transfer Test"');
    });
  });

  describe('when several transfers share the token cache', () => {
    it('fetches one token for all of them, across adapters (workers)', async () => {
      const tokens = memoryTokens();
      const before = tokenCalls();
      const first = adapterWith({ tokens });
      const second = adapterWith({ tokens });
      expect((await first.transferIntrabank(order(), recorder().ctx)).status).to.equal('SUCCESS');
      expect((await second.transferIntrabank(order(), recorder().ctx)).status).to.equal('SUCCESS');
      expect(tokenCalls() - before).to.equal(1);
    });

    it('fetches one token for concurrent transfers on a cold cache', async () => {
      const before = tokenCalls();
      const adapter = adapterWith();
      const outcomes = await Promise.all([1, 2, 3].map(() => adapter.transferIntrabank(order(), recorder().ctx)));
      expect(outcomes.map((o) => o.status)).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      expect(tokenCalls() - before).to.equal(1);
    });

    it('replaces a cached token that expires within a minute', async () => {
      const tokens = memoryTokens();
      await tokens.put('bca', 'about-to-expire', Date.now() + 30_000);
      const before = tokenCalls();
      expect((await adapterWith({ tokens }).transferIntrabank(order(), recorder().ctx)).status).to.equal('SUCCESS');
      expect(tokenCalls() - before).to.equal(1);
      expect(tokens.entries.get('bca')!.token).to.not.equal('about-to-expire');
    });
  });

  describe('when the bank refuses the token with ESB-14-009', () => {
    it('invalidates it, fetches a new one, re-signs and resends once', async () => {
      const tokens = memoryTokens();
      const adapter = adapterWith({ tokens });
      await adapter.transferIntrabank(order(), recorder().ctx);
      const stale = tokens.entries.get('bca')!.token;
      simulator.expireTokens();
      const before = { tokens: tokenCalls(), transfers: transferCalls() };
      const { calls, ctx } = recorder();
      const outcome = await adapter.transferIntrabank(order(), ctx);
      expect(outcome.status).to.equal('SUCCESS');
      expect(calls.map((c) => `${c.operation}:${c.statusCode}:${c.errorCode}`)).to.deep.equal([
        'transfer-intrabank:401:ESB-14-009',
        'token:200:null',
        'transfer-intrabank:200:null',
      ]);
      expect(calls[2].requestHeaders['X-BCA-Signature']).to.not.equal(calls[0].requestHeaders['X-BCA-Signature']);
      expect(calls[2].requestBody).to.equal(calls[0].requestBody);
      expect(tokenCalls() - before.tokens).to.equal(1);
      expect(transferCalls() - before.transfers).to.equal(2);
      expect(tokens.entries.get('bca')!.token).to.not.equal(stale);
    });

    it('gives up after one resend with BANK_UNAVAILABLE (nothing executed)', async () => {
      const adapter = adapterWith();
      const payment = order();
      simulator.failNext({ code: 'ESB-14-009' });
      simulator.failNext({ code: 'ESB-14-009' });
      const before = transferCalls();
      const error = await failure(adapter.transferIntrabank(payment, recorder().ctx));
      expect(error).to.be.instanceOf(AppError);
      expect(error).to.include({ code: 'BANK_UNAVAILABLE' });
      expect((error as AppError).extensions.bankResponseCode).to.equal('ESB-14-009');
      expect(transferCalls() - before).to.equal(2);
      expect(simulator.balanceOf(payment.beneficiaryAccountNumber)).to.equal('0.00');
    });
  });

  describe('when the bank refuses the payment itself', () => {
    for (const code of ['ESB-82-001', 'ESB-82-003', 'ESB-82-006', 'ESB-82-011', 'ESB-82-014', 'ESB-82-018', 'ESB-82-019', 'ESB-82-022', 'ESB-82-023', 'ESB-82-026']) {
      it(`maps ${code} to FAILED keeping the bank's code and English message`, async () => {
        simulator.failNext({ code });
        const before = transferCalls();
        const outcome = await adapterWith().transferIntrabank(order(), recorder().ctx);
        expect(outcome.status).to.equal('FAILED');
        expect(outcome.bankResponseCode).to.equal(code);
        expect(outcome.bankMessage).to.be.a('string').and.not.match(/^\s*$/);
        expect(transferCalls() - before, 'never re-sent').to.equal(1);
      });
    }

    it('keeps the English message of a real refusal (insufficient funds)', async () => {
      const outcome = await adapterWith().transferIntrabank(order({ amount: '2000000.00' }), recorder().ctx);
      expect(outcome).to.deep.equal({ status: 'FAILED', bankReference: null, bankResponseCode: 'ESB-82-019', bankMessage: 'Insufficient funds' });
    });
  });

  describe('when the bank answers an in-doubt code', () => {
    for (const code of ['ESB-14-006', 'ESB-82-024', 'ESB-82-025', 'ESB-99-999']) {
      it(`maps ${code} to UNKNOWN and does not resend`, async () => {
        simulator.failNext({ code, execute: true });
        const before = transferCalls();
        const outcome = await adapterWith().transferIntrabank(order(), recorder().ctx);
        expect(outcome).to.deep.include({ status: 'UNKNOWN', bankReference: null, bankResponseCode: code });
        expect(transferCalls() - before).to.equal(1);
      });
    }
  });

  describe('when the answer cannot be understood', () => {
    it('maps a 5xx without a BCA code to UNKNOWN', async () => {
      simulator.failNext({ httpStatus: 502 });
      const outcome = await adapterWith().transferIntrabank(order(), recorder().ctx);
      expect(outcome).to.deep.include({ status: 'UNKNOWN', bankResponseCode: 'HTTP-502' });
    });

    it('maps a malformed 200 answer to UNKNOWN, never SUCCESS and never a crash', async () => {
      simulator.failNext({ httpStatus: 200, execute: true });
      const outcome = await adapterWith().transferIntrabank(order(), recorder().ctx);
      expect(outcome.status).to.equal('UNKNOWN');
    });
  });

  describe('when the bank never answers (SIM TIMEOUT)', () => {
    it('answers UNKNOWN with BANK_TIMEOUT, sent exactly once, and reports the failed exchange', async () => {
      const adapter = adapterWith({ headersTimeoutMs: 300 });
      const payment = order({ remark1: 'SIM TIMEOUT' });
      const before = transferCalls();
      const { calls, ctx } = recorder();
      const outcome = await adapter.transferIntrabank(payment, ctx);
      expect(outcome).to.deep.include({ status: 'UNKNOWN', bankReference: null, bankResponseCode: 'BANK_TIMEOUT' });
      expect(transferCalls() - before).to.equal(1);
      expect(calls.at(-1)).to.include({ operation: 'transfer-intrabank', statusCode: null, responseBody: null, errorCode: 'BANK_TIMEOUT' });
      expect(calls.at(-1)!.durationMs).to.be.at.least(250);
      expect(simulator.balanceOf(payment.beneficiaryAccountNumber), 'the bank did execute it').to.equal('1500.00');
    });
  });

  describe('when the connection drops after sending (SIM RESET)', () => {
    it('answers UNKNOWN with BANK_CONNECTION_RESET, sent exactly once', async () => {
      const before = transferCalls();
      const outcome = await adapterWith().transferIntrabank(order({ remark1: 'SIM RESET' }), recorder().ctx);
      expect(outcome).to.deep.include({ status: 'UNKNOWN', bankResponseCode: 'BANK_CONNECTION_RESET' });
      expect(transferCalls() - before).to.equal(1);
    });
  });

  describe('when the bank cannot be reached', () => {
    it('throws BANK_UNAVAILABLE after reporting the failed token exchange', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const { calls, ctx } = recorder();
      const error = await failure(adapterWith({ baseUrl: url }).transferIntrabank(order(), ctx));
      expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
      expect(calls.map((c) => `${c.operation}:${c.statusCode}:${c.errorCode}`)).to.deep.equal(['token:null:BANK_CONNECT_FAILED']);
    });

    it('throws BANK_UNAVAILABLE when the transfer connection is refused (nothing sent)', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const tokens = memoryTokens();
      await tokens.put('bca', 'cached-token', Date.now() + 3_600_000);
      const { calls, ctx } = recorder();
      const error = await failure(adapterWith({ baseUrl: url, tokens }).transferIntrabank(order(), ctx));
      expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
      expect((error as AppError).extensions.bankResponseCode).to.equal('BANK_CONNECT_FAILED');
      expect(calls.map((c) => `${c.operation}:${c.errorCode}`)).to.deep.equal(['transfer-intrabank:BANK_CONNECT_FAILED']);
    });

    it('throws BANK_UNAVAILABLE with ESB-14-008 when the bank refuses the credentials', async () => {
      const before = transferCalls();
      const error = await failure(adapterWith({ clientSecret: 'wrong' }).transferIntrabank(order(), recorder().ctx));
      expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
      expect((error as AppError).extensions.bankResponseCode).to.equal('ESB-14-008');
      expect(transferCalls() - before).to.equal(0);
    });
  });

  describe('when the bank refuses the call before processing it', () => {
    it('throws BANK_UNAVAILABLE with ESB-14-001 for a signature made with the wrong secret, without resending', async () => {
      const before = transferCalls();
      const payment = order();
      const error = await failure(adapterWith({ apiSecret: 'not-the-registered-secret' }).transferIntrabank(payment, recorder().ctx));
      expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
      expect((error as AppError).extensions).to.include({ bankResponseCode: 'ESB-14-001', bankMessage: 'HMAC mismatch' });
      expect(transferCalls() - before).to.equal(1);
      expect(simulator.balanceOf(payment.beneficiaryAccountNumber)).to.equal('0.00');
    });

    it('throws BANK_UNAVAILABLE for maintenance (ESB-14-005)', async () => {
      simulator.failNext({ code: 'ESB-14-005' });
      const error = await failure(adapterWith().transferIntrabank(order(), recorder().ctx));
      expect(isAppError(error) && error.extensions.bankResponseCode).to.equal('ESB-14-005');
    });
  });

  describe('when the audit listener fails', () => {
    it('stops and rethrows its error', async () => {
      const boom = new Error('audit store down');
      const error = await failure(adapterWith().transferIntrabank(order(), { onCall: async () => Promise.reject(boom) }));
      expect(error).to.equal(boom);
    });
  });

  describe('ping', () => {
    it('fetches a fresh token every time and reports it', async () => {
      const adapter = adapterWith();
      const before = tokenCalls();
      const { calls, ctx } = recorder();
      await adapter.ping(ctx);
      await adapter.ping(ctx);
      expect(tokenCalls() - before).to.equal(2);
      expect(calls.map((c) => `${c.operation}:${c.statusCode}`)).to.deep.equal(['token:200', 'token:200']);
    });

    it('throws BANK_UNAVAILABLE when the token endpoint fails', async () => {
      simulator.failNext({ operation: 'token', code: 'ESB-14-005' });
      const error = await failure(adapterWith().ping(recorder().ctx));
      expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
    });
  });

  describe('transferStatus (status inquiry)', () => {
    const statusCalls = () => simulator.calls.filter((c) => c.path.startsWith('/banking/corporates/transfers/status/'));

    it('answers SUCCESS for a transfer the bank executed, even one whose answer was lost', async () => {
      const adapter = adapterWith({ headersTimeoutMs: 300 });
      const sent = order({ remark1: 'SIM TIMEOUT' });
      expect((await adapter.transferIntrabank(sent, recorder().ctx)).status).to.equal('UNKNOWN');
      const { calls, ctx } = recorder();
      const outcome = await adapter.transferStatus({ bankTransactionId: sent.bankTransactionId, transactionDate: sent.transactionDate, method: 'INTRABANK' }, ctx);
      expect(outcome).to.deep.include({ status: 'SUCCESS', bankReference: sent.bankTransactionId });
      expect(calls.map((c) => `${c.operation}:${c.statusCode}`)).to.deep.equal(['transfer-status:200']);
      const asked = statusCalls().at(-1)!;
      expect(asked.method).to.equal('GET');
      expect(asked.path).to.equal(`/banking/corporates/transfers/status/${sent.bankTransactionId}?TransactionDate=${sent.transactionDate}&TransferType=BCA`);
      expect(asked.headers).to.include({ channelid: '95051', credentialid: partner.corporateId });
    });

    it('answers NOT_FOUND for a transfer the bank never executed', async () => {
      const adapter = adapterWith();
      const never = order();
      const outcome = await adapter.transferStatus({ bankTransactionId: never.bankTransactionId, transactionDate: never.transactionDate, method: 'INTRABANK' }, recorder().ctx);
      expect(outcome).to.deep.include({ status: 'NOT_FOUND', bankResponseCode: 'ESB-99-127' });
    });

    it('answers UNKNOWN when the inquiry itself fails, and never throws for it', async () => {
      simulator.failNext({ operation: 'status', code: 'ESB-99-999' });
      const adapter = adapterWith();
      const sent = order();
      const outcome = await adapter.transferStatus({ bankTransactionId: sent.bankTransactionId, transactionDate: sent.transactionDate, method: 'INTRABANK' }, recorder().ctx);
      expect(outcome.status).to.equal('UNKNOWN');
    });

    it('renews a refused token and asks again once', async () => {
      const adapter = adapterWith();
      const sent = order();
      expect((await adapter.transferIntrabank(sent, recorder().ctx)).status).to.equal('SUCCESS');
      simulator.expireTokens();
      const { calls, ctx } = recorder();
      const outcome = await adapter.transferStatus({ bankTransactionId: sent.bankTransactionId, transactionDate: sent.transactionDate, method: 'INTRABANK' }, ctx);
      expect(outcome.status).to.equal('SUCCESS');
      expect(calls.map((c) => `${c.operation}:${c.statusCode}`)).to.deep.equal(['transfer-status:401', 'token:200', 'transfer-status:200']);
    });
  });
});
