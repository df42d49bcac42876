import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { createBankSimulator, SimulatorNetwork, type BankSimulator } from '../../../src/banks/simulator/index.js';
import type { BankAdapter, IntrabankTransferOrder, InterbankTransferOrder } from '../../../src/banks/types.js';
import { isAppError, type AppError } from '../../../src/errors/index.js';
import { jakartaDate } from '../../../src/time/index.js';
import { memoryTokens, recorder } from '../../support/bank-adapters.js';
import { newBankTransactionId, snapAdapter, snapCredentials, startSnapBank, type SnapCredentials } from '../../support/snap-bank.js';

const failure = (promise: Promise<unknown>): Promise<AppError> =>
  promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => {
      expect(isAppError(error), String(error)).to.equal(true);
      return error as AppError;
    },
  );

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const account = () => String(randomInt(1e9, 1e10 - 1));

describe('SNAP adapter against the simulated bank', () => {
  let credentials: SnapCredentials;
  let bank: BankSimulator;
  /** Another simulated bank (BRI) of the same network: interbank beneficiaries live there. */
  let bri: BankSimulator;
  let url: string;
  const adapters: BankAdapter[] = [];

  before(async () => {
    credentials = snapCredentials();
    const network = new SimulatorNetwork();
    ({ simulator: bank, url } = await startSnapBank(credentials, { network, bic: 'CENAIDJA' }));
    bri = createBankSimulator({ partners: [], allowedSourceAddresses: [], network, bic: 'BRINIDJA' });
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close()));
  });
  after(async () => bank.close());

  function adapter(overrides: Parameters<typeof snapAdapter>[2] = {}, target = url, creds = credentials): BankAdapter {
    const made = snapAdapter(target, creds, overrides);
    adapters.push(made);
    return made;
  }

  /** A payment between two accounts this test creates at the bank. */
  function order(overrides: Partial<IntrabankTransferOrder> = {}, balance = '1000000.00'): IntrabankTransferOrder {
    const source = account();
    const target = account();
    bank.setAccount({ number: source, name: 'PT PAYER', balance });
    bank.setAccount({ number: target, name: 'CV PAYEE', balance: '0.00' });
    return {
      bankTransactionId: newBankTransactionId(),
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

  /** An interbank payment to an account this test creates at BRI. */
  function interbank(method: InterbankTransferOrder['method'], overrides: Partial<InterbankTransferOrder> = {}): InterbankTransferOrder {
    const base = order();
    const target = account();
    bri.setAccount({ number: target, name: 'PT VENDOR BRI', balance: '0.00' });
    return {
      ...base,
      beneficiaryAccountNumber: target,
      method,
      beneficiaryBankCode: 'BRINIDJA',
      beneficiaryName: 'PT VENDOR BRI',
      beneficiaryCustomerType: '2',
      beneficiaryCustomerResidence: '1',
      ...(method === 'BIFAST' ? { purposeCode: '99' } : {}),
      ...(method === 'RTGS' || method === 'SKN' ? { beneficiaryAddress: 'Jl. Gatot Subroto 10, Jakarta' } : {}),
      ...overrides,
    };
  }

  const sent = (path: string) => bank.calls.filter((c) => c.path === path);
  const transferPath = '/openapi/v1.0/transfer-intrabank';

  describe('intrabank transfer', () => {
    it('answers SUCCESS, moves the money, and reports the signed token and transfer exchanges', async () => {
      const { calls, ctx } = recorder();
      const payment = order();
      const outcome = await adapter().transferIntrabank(payment, ctx);
      expect(outcome.status).to.equal('SUCCESS');
      expect(outcome.bankReference).to.match(/^\d{12}$/);
      expect(outcome.bankResponseCode).to.equal('2001700');
      expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
      expect(bank.balanceOf(payment.sourceAccountNumber)).to.equal('998500.00');
      expect(calls.map((c) => `${c.operation}:${c.statusCode}:${c.errorCode}`)).to.deep.equal(['token:200:null', 'transfer-intrabank:200:null']);
      const [token, transfer] = calls;
      expect(token.url).to.equal(`${url}/openapi/v1.0/access-token/b2b`);
      expect(token.requestHeaders['X-CLIENT-KEY']).to.equal(credentials.clientId);
      expect(token.requestHeaders['X-SIGNATURE']).to.match(/^[A-Za-z0-9+/]+=*$/);
      expect(transfer.url).to.equal(`${url}${transferPath}`);
      expect(transfer.requestHeaders).to.include({
        'X-EXTERNAL-ID': payment.bankTransactionId,
        'X-PARTNER-ID': credentials.partnerId,
        'CHANNEL-ID': '95051',
        ORIGIN: credentials.origin,
        'Content-Type': 'application/json',
      });
      // BCA: no milliseconds.
      expect(transfer.requestHeaders['X-TIMESTAMP']).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/);
      expect(JSON.parse(transfer.requestBody!)).to.deep.include({
        partnerReferenceNo: payment.bankTransactionId,
        amount: { value: '1500.00', currency: 'IDR' },
        remark: 'Invoice 42 Vendor payment',
        sourceAccountNo: payment.sourceAccountNumber,
        beneficiaryAccountNo: payment.beneficiaryAccountNumber,
      });
      // The bytes reported are the bytes the bank received (and verified the HMAC over).
      expect(sent(transferPath).at(-1)!.body).to.equal(transfer.requestBody);
    });

    for (const [label, setup, code] of [
      ['insufficient funds', (o: IntrabankTransferOrder) => ({ ...o, amount: '2000000.00' }), '4031714'],
      ['an unknown beneficiary account', (o: IntrabankTransferOrder) => ({ ...o, beneficiaryAccountNumber: account() }), '4041711'],
      ['an inactive account', (o: IntrabankTransferOrder) => (bank.setAccount({ number: o.beneficiaryAccountNumber, name: 'X', balance: '0.00', status: 'dormant' }), o), '4031718'],
    ] as const) {
      it(`answers FAILED with the bank's code and message on ${label}, and moves nothing`, async () => {
        const payment = setup(order());
        const outcome = await adapter().transferIntrabank(payment, recorder().ctx);
        expect(outcome).to.include({ status: 'FAILED', bankResponseCode: code });
        expect(outcome.bankMessage).to.be.a('string').and.not.equal('');
        expect(bank.balanceOf(payment.sourceAccountNumber)).to.equal('1000000.00');
      });
    }

    for (const code of ['5001701', '5001700', '5041700']) {
      it(`answers UNKNOWN on ${code} and never re-sends`, async () => {
        const payment = order({ remark1: `SIM ${code}` });
        const before = sent(transferPath).length;
        const outcome = await adapter().transferIntrabank(payment, recorder().ctx);
        expect(outcome).to.include({ status: 'UNKNOWN', bankResponseCode: code });
        expect(sent(transferPath).length - before).to.equal(1);
      });
    }

    it('answers UNKNOWN when the bank executed and then answered 500xx01 (the money did move)', async () => {
      const payment = order();
      bank.snap.failNext({ responseCode: '5001701', execute: true });
      const outcome = await adapter().transferIntrabank(payment, recorder().ctx);
      expect(outcome.status).to.equal('UNKNOWN');
      expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
    });

    it('answers UNKNOWN on 202 in progress (SIM PENDING), and the status inquiry later finds it settled', async () => {
      const payment = order({ remark1: 'SIM PENDING' });
      const a = adapter();
      const outcome = await a.transferIntrabank(payment, recorder().ctx);
      expect(outcome).to.include({ status: 'UNKNOWN', bankResponseCode: '2021700' });
      const pending = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'INTRABANK' }, recorder().ctx);
      expect(pending.status).to.equal('PENDING');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const settled = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'INTRABANK' }, recorder().ctx);
      expect(settled.status).to.equal('SUCCESS');
      expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
    });

    for (const [remark, code] of [['SIM TIMEOUT', 'BANK_TIMEOUT'], ['SIM RESET', 'BANK_CONNECTION_RESET']] as const) {
      it(`answers UNKNOWN (${code}) when the bank executed but the answer was lost (${remark}), sent once`, async () => {
        const payment = order({ remark1: remark });
        const before = sent(transferPath).length;
        const outcome = await adapter({ headersTimeoutMs: 500 }).transferIntrabank(payment, recorder().ctx);
        expect(outcome).to.include({ status: 'UNKNOWN', bankResponseCode: code });
        expect(sent(transferPath).length - before).to.equal(1);
        expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
      });
    }

    it('answers UNKNOWN on a non-SNAP error page (SIM HTTP-502)', async () => {
      const outcome = await adapter().transferIntrabank(order({ remark1: 'SIM HTTP-502' }), recorder().ctx);
      expect(outcome).to.include({ status: 'UNKNOWN', bankResponseCode: 'HTTP-502' });
    });

    it('answers UNKNOWN when the same bankTransactionId reaches the bank twice (409: an earlier send got there), paying once', async () => {
      const payment = order();
      const a = adapter();
      expect((await a.transferIntrabank(payment, recorder().ctx)).status).to.equal('SUCCESS');
      const again = await a.transferIntrabank(payment, recorder().ctx);
      expect(again).to.include({ status: 'UNKNOWN', bankResponseCode: '4091700' });
      expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
    });

    for (const code of ['4011700', '4291700']) {
      it(`throws BANK_UNAVAILABLE on ${code} (refused before processing), sent once`, async () => {
        const payment = order();
        bank.snap.failNext({ responseCode: code });
        const before = sent(transferPath).length;
        const error = await failure(adapter().transferIntrabank(payment, recorder().ctx));
        expect(error.code).to.equal('BANK_UNAVAILABLE');
        expect(error.extensions.bankResponseCode).to.equal(code);
        expect(sent(transferPath).length - before).to.equal(1);
        expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('0.00');
      });
    }

    it('on 401xx01 (invalid token) drops the token, fetches a new one, re-signs and resends once under a new X-EXTERNAL-ID, which the status inquiry then names', async () => {
      const tokens = memoryTokens();
      const a = adapter({ tokens });
      await a.ping(recorder().ctx);
      bank.snap.expireTokens();
      const { calls, ctx } = recorder();
      const payment = order();
      const outcome = await a.transferIntrabank(payment, ctx);
      expect(outcome.status).to.equal('SUCCESS');
      expect(calls.map((c) => `${c.operation}:${c.statusCode}`)).to.deep.equal(['transfer-intrabank:401', 'token:200', 'transfer-intrabank:200']);
      expect(calls[0].errorCode).to.equal('4011701');
      expect(calls[0].requestHeaders['X-EXTERNAL-ID']).to.equal(payment.bankTransactionId);
      expect(calls[2].requestHeaders['X-EXTERNAL-ID'], 'a new X-EXTERNAL-ID after 401xx01').to.match(/^\d+$/).and.not.equal(payment.bankTransactionId);
      expect(JSON.parse(calls[2].requestBody!).partnerReferenceNo).to.equal(payment.bankTransactionId);
      expect(outcome.externalId).to.equal(calls[2].requestHeaders['X-EXTERNAL-ID']);
      expect(calls[2].requestHeaders.Authorization).not.to.equal(calls[0].requestHeaders.Authorization);
      expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
      // The bank knows the transfer by the X-EXTERNAL-ID it executed: the status inquiry must name that one.
      const status = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'INTRABANK', externalId: outcome.externalId }, recorder().ctx);
      expect(status.status).to.equal('SUCCESS');
    });

    it('gives up with BANK_UNAVAILABLE when the renewed token is refused too (two sends, no more)', async () => {
      bank.snap.failNext({ responseCode: '4011701' });
      bank.snap.failNext({ responseCode: '4011701' });
      const { calls, ctx } = recorder();
      const error = await failure(adapter().transferIntrabank(order(), ctx));
      expect(error.code).to.equal('BANK_UNAVAILABLE');
      expect(calls.filter((c) => c.operation === 'transfer-intrabank')).to.have.length(2);
    });

    it('throws BANK_UNAVAILABLE when the token request fails at the bank (5007300), sending no transfer', async () => {
      bank.snap.failNext({ operation: 'token', responseCode: '5007300' });
      const { calls, ctx } = recorder();
      const error = await failure(adapter().transferIntrabank(order(), ctx));
      expect(error.code).to.equal('BANK_UNAVAILABLE');
      expect(error.extensions.bankResponseCode).to.equal('5007300');
      expect(calls.map((c) => `${c.operation}:${c.errorCode}`)).to.deep.equal(['token:5007300']);
    });

    it('throws BANK_UNAVAILABLE when the bank cannot be reached, reporting the failed token exchange', async () => {
      const port = await closedPort();
      const { calls, ctx } = recorder();
      const error = await failure(adapter({}, `http://127.0.0.1:${port}`).transferIntrabank(order(), ctx));
      expect(error.code).to.equal('BANK_UNAVAILABLE');
      expect(calls.map((c) => `${c.operation}:${c.errorCode}`)).to.deep.equal(['token:BANK_CONNECT_FAILED']);
    });
  });

  describe('interbank transfers', () => {
    it('sends online switching to /transfer-interbank with transferType 1 and credits the other bank', async () => {
      const payment = interbank('ONLINE');
      const { calls, ctx } = recorder();
      const outcome = await adapter().transferInterbank(payment, ctx);
      expect(outcome).to.include({ status: 'SUCCESS', bankResponseCode: '2001800' });
      const transfer = calls.find((c) => c.operation === 'transfer-online')!;
      expect(transfer.url).to.equal(`${url}/openapi/v2.0/transfer-interbank`);
      expect(JSON.parse(transfer.requestBody!)).to.deep.include({ beneficiaryBankCode: 'BRINIDJA', beneficiaryAccountName: 'PT VENDOR BRI', additionalInfo: { transferType: '1' } });
      expect(bri.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
    });

    it('sends BI-FAST with transferType 2 and its purposeCode', async () => {
      const payment = interbank('BIFAST', { purposeCode: '03' });
      const { calls, ctx } = recorder();
      expect((await adapter().transferInterbank(payment, ctx)).status).to.equal('SUCCESS');
      expect(JSON.parse(calls.find((c) => c.operation === 'transfer-bifast')!.requestBody!).additionalInfo).to.deep.equal({ transferType: '2', purposeCode: '03' });
      expect(bri.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
    });

    it("reads a BI-FAST refusal on the profile's bifastUnavailableCodes as BANK_UNAVAILABLE (reason BIFAST_UNAVAILABLE: nothing moved, fall back to switching)", async () => {
      const payment = interbank('BIFAST');
      bank.snap.failNext({ responseCode: '4031815' });
      const error = await failure(adapter().transferInterbank(payment, recorder().ctx));
      expect([error.code, error.extensions.reason, error.extensions.bankResponseCode]).to.deep.equal(['BANK_UNAVAILABLE', 'BIFAST_UNAVAILABLE', '4031815']);
      expect(bri.balanceOf(payment.beneficiaryAccountNumber)).to.equal('0.00');
    });

    it('keeps the same refusal a final FAILED for online switching, and for BI-FAST when the list is configured empty', async () => {
      bank.snap.failNext({ responseCode: '4031815' });
      expect(await adapter().transferInterbank(interbank('ONLINE'), recorder().ctx)).to.include({ status: 'FAILED', bankResponseCode: '4031815' });
      bank.snap.failNext({ responseCode: '4031815' });
      expect(await adapter({ profileOverrides: { bifastUnavailableCodes: [] } }).transferInterbank(interbank('BIFAST'), recorder().ctx)).to.include({ status: 'FAILED', bankResponseCode: '4031815' });
    });

    it('refuses a BI-FAST transfer without purposeCode before sending anything', async () => {
      const { calls, ctx } = recorder();
      const error = await failure(adapter().transferInterbank(interbank('BIFAST', { purposeCode: undefined }), ctx));
      expect(error.code).to.equal('VALIDATION_FAILED');
      expect(calls).to.deep.equal([]);
    });

    it('sends RTGS to /transfer-rtgs with customer type and residence; acceptance (transactionStatus 00) is PENDING, not settlement', async () => {
      const payment = interbank('RTGS');
      const { calls, ctx } = recorder();
      expect(await adapter().transferInterbank(payment, ctx)).to.include({ status: 'PENDING', bankResponseCode: '2002200' });
      const body = JSON.parse(calls.find((c) => c.operation === 'transfer-rtgs')!.requestBody!);
      expect(body).to.include({ beneficiaryCustomerType: '2', beneficiaryCustomerResidence: '1', beneficiaryAddress: 'Jl. Gatot Subroto 10, Jakarta' });
      expect(calls.find((c) => c.operation === 'transfer-rtgs')!.url).to.equal(`${url}/openapi/v1.0/transfer-rtgs`);
    });

    for (const method of ['RTGS', 'SKN'] as const) {
      it(`refuses ${method} without the beneficiary's address (VALIDATION_FAILED naming beneficiaryAddress) and sends nothing`, async () => {
        const { calls, ctx } = recorder();
        const error = await failure(adapter().transferInterbank(interbank(method, { beneficiaryAddress: undefined }), ctx));
        expect(error.code).to.equal('VALIDATION_FAILED');
        expect(error.fields).to.deep.equal([{ field: 'beneficiaryAddress', message: `is required for ${method}` }]);
        expect(calls).to.deep.equal([]);
      });

      it(`refuses ${method} without the customer type and residence (reported to Bank Indonesia: never filled in), naming both, and sends nothing`, async () => {
        const { calls, ctx } = recorder();
        const error = await failure(adapter().transferInterbank(interbank(method, { beneficiaryCustomerType: undefined, beneficiaryCustomerResidence: undefined }), ctx));
        expect(error.code).to.equal('VALIDATION_FAILED');
        expect(error.fields).to.deep.equal([
          { field: 'beneficiaryCustomerType', message: `is required for ${method}` },
          { field: 'beneficiaryResident', message: `is required for ${method}` },
        ]);
        expect(calls).to.deep.equal([]);
      });
    }

    it('answers PENDING for SKN with transactionStatus 03, then the status inquiry (service code 23) follows it to SUCCESS', async () => {
      const payment = interbank('SKN', { remark1: 'SIM PENDING' });
      const a = adapter();
      expect(await a.transferInterbank(payment, recorder().ctx)).to.include({ status: 'PENDING', bankResponseCode: '2002300' });
      expect(bri.balanceOf(payment.beneficiaryAccountNumber)).to.equal('0.00');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { calls, ctx } = recorder();
      const status = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'SKN' }, ctx);
      expect(status.status).to.equal('SUCCESS');
      expect(JSON.parse(calls.at(-1)!.requestBody!)).to.include({ serviceCode: '23', originalPartnerReferenceNo: payment.bankTransactionId, originalExternalId: payment.bankTransactionId });
      expect(bri.balanceOf(payment.beneficiaryAccountNumber)).to.equal('1500.00');
    });

    it('answers FAILED for an SKN transfer that settles as refused (transactionStatus 06 on inquiry)', async () => {
      const payment = interbank('SKN', { remark1: 'SIM PENDING', amount: '5000000.00' });
      const a = adapter();
      expect((await a.transferInterbank(payment, recorder().ctx)).status).to.equal('PENDING');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const status = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'SKN' }, recorder().ctx);
      expect(status).to.include({ status: 'FAILED', bankResponseCode: '06' });
    });
  });

  describe('transfer status', () => {
    it('finds an executed transfer by partnerReferenceNo, X-EXTERNAL-ID and service code 17: SUCCESS', async () => {
      const payment = order();
      const a = adapter();
      await a.transferIntrabank(payment, recorder().ctx);
      const { calls, ctx } = recorder();
      const status = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'INTRABANK' }, ctx);
      expect(status).to.include({ status: 'SUCCESS', bankResponseCode: '2003600' });
      const call = calls.at(-1)!;
      expect(call.url).to.equal(`${url}/openapi/v1.0/transfer/status`);
      expect(JSON.parse(call.requestBody!)).to.include({ originalPartnerReferenceNo: payment.bankTransactionId, originalExternalId: payment.bankTransactionId, serviceCode: '17' });
      // The inquiry's own X-EXTERNAL-ID comes from the injected sequence, not the transfer's.
      expect(call.requestHeaders['X-EXTERNAL-ID']).to.match(/^9\d{12}$/);
    });

    it('answers NOT_FOUND (404xx01) for a transfer the bank never executed, or asked with the wrong service code', async () => {
      const a = adapter();
      const never = await a.transferStatus({ bankTransactionId: newBankTransactionId(), transactionDate: jakartaDate(new Date()), method: 'INTRABANK' }, recorder().ctx);
      expect(never).to.include({ status: 'NOT_FOUND', bankResponseCode: '4043601' });
      const payment = order();
      await a.transferIntrabank(payment, recorder().ctx);
      const wrong = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'ONLINE' }, recorder().ctx);
      expect(wrong.status).to.equal('NOT_FOUND');
    });

    it('answers FAILED (06) for a transfer the bank refused', async () => {
      const payment = order({ amount: '9000000.00' });
      const a = adapter();
      expect((await a.transferIntrabank(payment, recorder().ctx)).status).to.equal('FAILED');
      const status = await a.transferStatus({ bankTransactionId: payment.bankTransactionId, transactionDate: payment.transactionDate, method: 'INTRABANK' }, recorder().ctx);
      expect(status.status).to.equal('FAILED');
    });

    it('answers UNKNOWN when the inquiry itself fails (500xx00), and BANK_UNAVAILABLE when refused before processing (401xx00)', async () => {
      const a = adapter();
      const query = { bankTransactionId: newBankTransactionId(), transactionDate: jakartaDate(new Date()), method: 'INTRABANK' as const };
      bank.snap.failNext({ operation: 'status', responseCode: '5003600' });
      expect(await a.transferStatus(query, recorder().ctx)).to.include({ status: 'UNKNOWN', bankResponseCode: '5003600' });
      bank.snap.failNext({ operation: 'status', responseCode: '4013600' });
      expect((await failure(a.transferStatus(query, recorder().ctx))).code).to.equal('BANK_UNAVAILABLE');
    });
  });

  describe('account inquiries', () => {
    it('names an account of the bank (internal, service 15)', async () => {
      const number = account();
      bank.setAccount({ number, name: 'CV INTERNAL VENDOR', balance: '0.00' });
      const { calls, ctx } = recorder();
      const result = await adapter().accountInquiry({ accountNumber: number, bankCode: 'CENAIDJA', scope: 'internal', sourceAccountNumber: account() }, ctx);
      expect(result).to.include({ accountNumber: number, accountName: 'CV INTERNAL VENDOR', bankCode: 'CENAIDJA' });
      expect(calls.at(-1)!.url).to.equal(`${url}/openapi/v1.0/account-inquiry-internal`);
    });

    it('names an account at another bank (external, service 16)', async () => {
      const number = account();
      bri.setAccount({ number, name: 'PT EXTERNAL VENDOR', balance: '0.00' });
      const { calls, ctx } = recorder();
      const result = await adapter().accountInquiry({ accountNumber: number, bankCode: 'BRINIDJA', scope: 'external', sourceAccountNumber: account() }, ctx);
      expect(result).to.include({ accountName: 'PT EXTERNAL VENDOR', bankCode: 'BRINIDJA' });
      expect(calls.at(-1)!.url).to.equal(`${url}/openapi/v2.0/account-inquiry-external`);
    });

    it('throws BANK_REFUSED with the bank code and message for an unknown (404xx11) or inactive (403xx18) account', async () => {
      const a = adapter();
      const unknown = await failure(a.accountInquiry({ accountNumber: account(), bankCode: 'BRINIDJA', scope: 'external', sourceAccountNumber: account() }, recorder().ctx));
      expect(unknown.code).to.equal('BANK_REFUSED');
      expect(unknown.extensions).to.deep.equal({ bankResponseCode: '4041611', bankMessage: 'Invalid Account' });
      const number = account();
      bank.setAccount({ number, name: 'PT SLEEPING', balance: '0.00', status: 'dormant' });
      const inactive = await failure(a.accountInquiry({ accountNumber: number, bankCode: 'CENAIDJA', scope: 'internal', sourceAccountNumber: account() }, recorder().ctx));
      expect(inactive.extensions.bankResponseCode).to.equal('4031518');
    });

    it('throws BANK_UNAVAILABLE when the inquiry times out at the bank (504xx00)', async () => {
      bank.snap.failNext({ operation: 'inquiry', responseCode: '5041500' });
      const error = await failure(adapter().accountInquiry({ accountNumber: account(), bankCode: 'CENAIDJA', scope: 'internal', sourceAccountNumber: account() }, recorder().ctx));
      expect(error.code).to.equal('BANK_UNAVAILABLE');
    });
  });

  describe('balance and statement', () => {
    it('reads the balance (service 11)', async () => {
      const number = account();
      bank.setAccount({ number, name: 'PT RICH', balance: '123456.78' });
      expect(await adapter().balance(number, recorder().ctx)).to.deep.equal({ accountNumber: number, currency: 'IDR', balance: '123456.78', availableBalance: '123456.78', holdAmount: '0.00' });
    });

    it('throws BANK_REFUSED for an unknown account (404 11 11)', async () => {
      const error = await failure(adapter().balance(account(), recorder().ctx));
      expect(error).to.include({ code: 'BANK_REFUSED' });
      expect(error.extensions.bankResponseCode).to.equal('4041111');
    });

    it('lists the transfers booked in the period with the opening balance (service 14)', async () => {
      const payment = order();
      const a = adapter();
      await a.transferIntrabank(payment, recorder().ctx);
      const today = jakartaDate(new Date());
      const statement = await a.statement({ accountNumber: payment.sourceAccountNumber, from: today, to: today }, recorder().ctx);
      expect(statement).to.deep.include({ accountNumber: payment.sourceAccountNumber, currency: 'IDR', openingBalance: '1000000.00' });
      expect(statement.entries).to.deep.equal([{ date: today, type: 'DEBIT', amount: '1500.00', description: `${payment.referenceId} Invoice 42 Vendor payment` }]);
    });

    it('asks from 00:00:00 of the first day to 00:00:00 of the last, as BCA documents toDateTime; another time of day only when the profile says so', async () => {
      const today = jakartaDate(new Date());
      const asked = async (overrides: Parameters<typeof snapAdapter>[2]) => {
        const { calls, ctx } = recorder();
        await adapter(overrides).statement({ accountNumber: account(), from: today, to: today }, ctx).catch(() => undefined);
        const body = JSON.parse(calls.find((c) => c.operation === 'statement')!.requestBody!) as Record<string, string>;
        return [body.fromDateTime, body.toDateTime];
      };
      expect(await asked({})).to.deep.equal([`${today}T00:00:00+07:00`, `${today}T00:00:00+07:00`]);
      expect(await asked({ profileOverrides: { statementToTime: '23:59:59' } })).to.deep.equal([`${today}T00:00:00+07:00`, `${today}T23:59:59+07:00`]);
    });

    it('throws BANK_REFUSED for a period longer than 31 days', async () => {
      const error = await failure(adapter().statement({ accountNumber: account(), from: '2026-01-01', to: '2026-03-01' }, recorder().ctx));
      expect(error.code).to.equal('BANK_REFUSED');
      expect(error.extensions.bankResponseCode).to.equal('4001401');
    });
  });

  describe('security refusals', () => {
    it('a token request signed with another private key is refused (4017300): BANK_UNAVAILABLE, nothing sent', async () => {
      const impostor = { ...credentials, privateKeyPem: snapCredentials().privateKeyPem };
      const { calls, ctx } = recorder();
      const payment = order();
      const error = await failure(adapter({}, url, impostor).transferIntrabank(payment, ctx));
      expect(error.code).to.equal('BANK_UNAVAILABLE');
      expect(error.extensions.bankResponseCode).to.equal('4017300');
      expect(calls.map((c) => c.operation)).to.deep.equal(['token']);
      expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('0.00');
    });

    it('a service call signed with the wrong HMAC secret is refused (401xx00): BANK_UNAVAILABLE, no money moves', async () => {
      const payment = order();
      const error = await failure(adapter({ clientSecret: 'not-the-registered-secret' }).transferIntrabank(payment, recorder().ctx));
      expect(error.code).to.equal('BANK_UNAVAILABLE');
      expect(error.extensions.bankResponseCode).to.equal('4011700');
      expect(bank.balanceOf(payment.beneficiaryAccountNumber)).to.equal('0.00');
    });

    it('a repeated X-EXTERNAL-ID on an inquiry is refused as a duplicate (409xx00): BANK_UNAVAILABLE', async () => {
      const number = account();
      bank.setAccount({ number, name: 'PT ONE', balance: '1.00' });
      const fixed = `9${randomInt(1e11, 1e12 - 1)}`;
      const a = adapter({ nextExternalId: async () => fixed });
      await a.balance(number, recorder().ctx);
      const error = await failure(a.balance(number, recorder().ctx));
      expect(error.code).to.equal('BANK_UNAVAILABLE');
      expect(error.extensions.bankResponseCode).to.equal('4091100');
    });

    it('shares one token between adapters (workers) through the token cache: one fetch however many start at once', async () => {
      const tokens = memoryTokens();
      const before = sent('/openapi/v1.0/access-token/b2b').length;
      const number = account();
      bank.setAccount({ number, name: 'PT ONE', balance: '1.00' });
      const workers = [adapter({ tokens }), adapter({ tokens }), adapter({ tokens })];
      await Promise.all(workers.map((worker) => worker.balance(number, recorder().ctx)));
      await workers[0].balance(number, recorder().ctx);
      expect(sent('/openapi/v1.0/access-token/b2b').length - before).to.equal(1);
    });
  });
});

describe('SNAP adapter and the source-address whitelist', () => {
  let credentials: SnapCredentials;
  let bank: BankSimulator;
  let url: string;
  const adapters: BankAdapter[] = [];

  before(async () => {
    credentials = snapCredentials();
    ({ simulator: bank, url } = await startSnapBank(credentials, { allowedSourceAddresses: ['127.0.0.2'] }));
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close()));
  });
  after(async () => bank.close());

  it('succeeds when the egress is bound to the whitelisted 127.0.0.2', async () => {
    const a = snapAdapter(url, credentials, { localAddress: '127.0.0.2' });
    adapters.push(a);
    const number = String(randomInt(1e9, 1e10 - 1));
    bank.setAccount({ number, name: 'PT WHITELISTED', balance: '10.00' });
    expect((await a.balance(number, recorder().ctx)).balance).to.equal('10.00');
    expect(bank.calls.map((c) => c.sourceAddress)).to.deep.equal(['127.0.0.2', '127.0.0.2']);
  });

  it('is refused (401 Connection not allowed → BANK_UNAVAILABLE) when bound elsewhere', async () => {
    const a = snapAdapter(url, credentials, { localAddress: '127.0.0.3' });
    adapters.push(a);
    const error = await failure(a.balance('0201245680', recorder().ctx));
    expect(error.code).to.equal('BANK_UNAVAILABLE');
    expect(error.extensions).to.include({ bankResponseCode: '4017300' });
    expect(String(error.extensions.bankMessage)).to.contain('Connection not allowed');
    expect(bank.calls.at(-1)!.sourceAddress).to.equal('127.0.0.3');
  });
});
