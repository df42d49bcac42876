import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { createBcaLegacyAdapter } from '../../../src/banks/bca-legacy/index.js';
import { createBankSimulator, defaultSandboxPartner, SimulatorNetwork, type BankSimulator, type SimPartner } from '../../../src/banks/simulator/index.js';
import type { BankAdapter, InterbankTransferOrder } from '../../../src/banks/types.js';
import { createBankHttpClient } from '../../../src/egress/index.js';
import { isAppError } from '../../../src/errors/index.js';
import { simulatedPartnerConfig } from '../../../src/gateway/bank-partners.js';
import { jakartaDate } from '../../../src/time/index.js';
import { memoryTokens, recorder } from '../../support/bank-adapters.js';

const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, (error: unknown) => error);
const account = (): string => String(randomInt(1e9, 1e10 - 1));

describe('BCA legacy adapter: interbank transfers, inquiries, balance and statement', () => {
  let bca: BankSimulator;
  let bri: BankSimulator;
  let partner: SimPartner;
  let adapter: BankAdapter;

  before(async () => {
    // Two banks that know each other: a transfer from BCA to BRI credits the BRI account.
    const network = new SimulatorNetwork();
    partner = defaultSandboxPartner();
    bca = createBankSimulator({ partners: [partner], allowedSourceAddresses: ['127.0.0.1'], network });
    bri = createBankSimulator({ partners: [], allowedSourceAddresses: [], bic: 'BRINIDJA', network });
    const url = await bca.listen();
    adapter = createBcaLegacyAdapter({
      ...simulatedPartnerConfig(partner, url, []),
      tokens: memoryTokens(),
      http: createBankHttpClient({ baseUrl: url, connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 }),
    });
  });
  after(async () => {
    await adapter.close();
    await bca.close();
  });

  function interbank(overrides: Partial<InterbankTransferOrder> = {}): InterbankTransferOrder {
    const source = account();
    const target = account();
    bca.setAccount({ number: source, name: 'PT PAYER', balance: '1000000.00' });
    bri.setAccount({ number: target, name: 'CV PEMASOK JAYA', balance: '0.00' });
    return {
      method: 'ONLINE',
      bankTransactionId: String(randomInt(10_000_000, 99_999_999)),
      transactionDate: jakartaDate(new Date()),
      referenceId: `INV-${randomInt(1e6)}`,
      sourceAccountNumber: source,
      beneficiaryAccountNumber: target,
      beneficiaryBankCode: 'BRINIDJA',
      beneficiaryName: 'CV PEMASOK JAYA',
      beneficiaryCustomerType: '2',
      beneficiaryCustomerResidence: '1',
      amount: '2500.00',
      currency: 'IDR',
      remark1: 'Invoice 7',
      remark2: 'Vendor payment',
      ...overrides,
    };
  }

  for (const method of ['ONLINE', 'SKN', 'RTGS'] as const) {
    it(`pays another bank by ${method}: money leaves BCA, reaches BRI, and the status inquiry finds it`, async () => {
      const order = interbank({ method });
      const { calls, ctx } = recorder();
      const outcome = await adapter.transferInterbank(order, ctx);
      // LLG (SKN) and RTG (RTGS): accepted is not settled; only the status inquiry makes them final.
      expect(outcome.status).to.equal(method === 'ONLINE' ? 'SUCCESS' : 'PENDING');
      expect(outcome.bankReference).to.equal(`PPU${order.bankTransactionId}`);
      expect(bca.balanceOf(order.sourceAccountNumber)).to.equal('997500.00');
      expect(bri.balanceOf(order.beneficiaryAccountNumber)).to.equal('2500.00');
      const transfer = calls.find((call) => call.operation === `transfer-${method.toLowerCase()}`)!;
      expect(transfer.url).to.match(/\/banking\/corporates\/transfers\/v2\/domestic$/);
      expect(JSON.parse(transfer.requestBody!).transfer_type).to.equal({ ONLINE: 'ONL', SKN: 'LLG', RTGS: 'RTG' }[method]);

      const status = await adapter.transferStatus({ bankTransactionId: order.bankTransactionId, transactionDate: order.transactionDate, method }, recorder().ctx);
      expect(status.status).to.equal('SUCCESS');
    });
  }

  it('keeps the bank code of a refused interbank transfer: insufficient funds, unknown beneficiary account', async () => {
    const poor = interbank({ amount: '2000000.00' });
    const refused = await adapter.transferInterbank(poor, recorder().ctx);
    expect(refused).to.include({ status: 'FAILED', bankResponseCode: 'ESB-82-019' });
    const nobody = interbank({ beneficiaryAccountNumber: '9999999999' });
    expect(await adapter.transferInterbank(nobody, recorder().ctx)).to.include({ status: 'FAILED', bankResponseCode: 'ESB-82-014' });
    expect(bca.balanceOf(poor.sourceAccountNumber)).to.equal('1000000.00');
  });

  it('is in doubt (never re-sent) when the bank takes an interbank transfer and does not answer; the status inquiry settles it', async () => {
    const order = interbank({ remark1: 'SIM TIMEOUT' });
    const { calls, ctx } = recorder();
    const outcome = await adapter.transferInterbank(order, ctx);
    expect(outcome.status).to.equal('UNKNOWN');
    expect(calls.filter((call) => call.operation === 'transfer-online')).to.have.length(1);
    const status = await adapter.transferStatus({ bankTransactionId: order.bankTransactionId, transactionDate: order.transactionDate, method: 'ONLINE' }, recorder().ctx);
    expect(status.status).to.equal('SUCCESS');
  });

  for (const method of ['SKN', 'RTGS'] as const) {
    it(`refuses ${method} without the customer type and residence (reported to Bank Indonesia), naming both, without calling the bank`, async () => {
      const { calls, ctx } = recorder();
      const error = await failure(adapter.transferInterbank(interbank({ method, beneficiaryCustomerType: undefined, beneficiaryCustomerResidence: undefined }), ctx));
      expect(isAppError(error) && error.code).to.equal('VALIDATION_FAILED');
      expect(isAppError(error) && error.fields?.map((f) => f.field)).to.deep.equal(['beneficiaryCustomerType', 'beneficiaryResident']);
      expect(calls).to.have.length(0);
    });
  }

  it('sends an online transfer without customer type and residence as company and resident (switching is not reported to Bank Indonesia)', async () => {
    const { calls, ctx } = recorder();
    const outcome = await adapter.transferInterbank(interbank({ beneficiaryCustomerType: undefined, beneficiaryCustomerResidence: undefined }), ctx);
    expect(outcome.status).to.equal('SUCCESS');
    expect(JSON.parse(calls.find((call) => call.operation === 'transfer-online')!.requestBody!)).to.include({ beneficiary_cust_type: '2', beneficiary_cust_residence: '1' });
  });

  it('refuses BI-FAST, which BCA legacy does not offer, without calling the bank', async () => {
    const { calls, ctx } = recorder();
    const error = await failure(adapter.transferInterbank(interbank({ method: 'BIFAST' }), ctx));
    expect(isAppError(error) && error.code).to.equal('ROUTE_UNAVAILABLE');
    expect(calls).to.have.length(0);
  });

  it("tells an account holder's name at BCA and at another bank, and refuses an unknown account with BCA's code", async () => {
    const ours = account();
    bca.setAccount({ number: ours, name: 'PT RUMAH SAKIT', balance: '1.00' });
    const internal = await adapter.accountInquiry({ accountNumber: ours, bankCode: 'CENAIDJA', scope: 'internal', sourceAccountNumber: '0201245680' }, recorder().ctx);
    expect(internal).to.include({ accountName: 'PT RUMAH SAKIT', bankCode: 'CENAIDJA' });
    const order = interbank();
    const external = await adapter.accountInquiry({ accountNumber: order.beneficiaryAccountNumber, bankCode: 'BRINIDJA', scope: 'external', sourceAccountNumber: '0201245680' }, recorder().ctx);
    expect(external.accountName).to.equal('CV PEMASOK JAYA');
    const error = await failure(adapter.accountInquiry({ accountNumber: '1111111111', bankCode: 'BRINIDJA', scope: 'external', sourceAccountNumber: '0201245680' }, recorder().ctx));
    expect(isAppError(error) && error.code).to.equal('BANK_REFUSED');
    expect(isAppError(error) && error.extensions.bankResponseCode).to.equal('ESB-82-014');
  });

  it('reads a balance, and a statement whose entries are the transfers just made', async () => {
    const order = interbank();
    await adapter.transferInterbank(order, recorder().ctx);
    const balance = await adapter.balance(order.sourceAccountNumber, recorder().ctx);
    expect(balance).to.include({ accountNumber: order.sourceAccountNumber, currency: 'IDR', balance: '997500.00', availableBalance: '997500.00' });
    const today = jakartaDate(new Date());
    const statement = await adapter.statement({ accountNumber: order.sourceAccountNumber, from: today, to: today }, recorder().ctx);
    expect(statement.openingBalance).to.equal('1000000.00');
    expect(statement.entries).to.have.length(1);
    expect(statement.entries[0]).to.include({ date: today, type: 'DEBIT', amount: '2500.00' });
  });

  it('keeps a transfer in doubt when its status inquiry is refused for the TransactionID\'s format (ESB-82-010)', async () => {
    const outcome = await adapter.transferStatus({ bankTransactionId: '1234567', transactionDate: jakartaDate(new Date()), method: 'INTRABANK' }, recorder().ctx);
    expect(outcome).to.include({ status: 'UNKNOWN', bankResponseCode: 'ESB-82-010' });
  });

  it('refuses an unknown account balance, and a statement more than 31 days back or ending before it starts (ESB-99-158)', async () => {
    const balance = await failure(adapter.balance('1231231231', recorder().ctx));
    expect(isAppError(balance) && balance.code).to.equal('BANK_REFUSED');
    const statement = await failure(adapter.statement({ accountNumber: '0201245680', from: '2026-01-01', to: '2026-03-01' }, recorder().ctx));
    expect(isAppError(statement) && statement.code).to.equal('BANK_REFUSED');
    expect(isAppError(statement) && statement.extensions.bankResponseCode).to.equal('ESB-99-158');
    const today = jakartaDate(new Date());
    const yesterday = jakartaDate(Date.now() - 86_400_000);
    const reversed = await failure(adapter.statement({ accountNumber: '0201245680', from: today, to: yesterday }, recorder().ctx));
    expect(isAppError(reversed) && [reversed.code, reversed.extensions.bankResponseCode]).to.deep.equal(['BANK_REFUSED', 'ESB-99-158']);
  });

  it('renews a refused token once for an inquiry, and reports a failing bank as unavailable', async () => {
    bca.expireTokens();
    const { calls, ctx } = recorder();
    const balance = await adapter.balance('0201245680', ctx);
    expect(balance.accountNumber).to.equal('0201245680');
    expect(calls.map((call) => call.operation)).to.deep.equal(['balance', 'token', 'balance']);

    bca.failNext({ operation: 'inquiry', httpStatus: 502 });
    const error = await failure(adapter.accountInquiry({ accountNumber: '0201245681', bankCode: 'CENAIDJA', scope: 'internal', sourceAccountNumber: '0201245680' }, recorder().ctx));
    expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
  });
});
