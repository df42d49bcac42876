import { expect } from 'chai';
import { createBcaLegacyAdapter } from '../../../src/banks/bca-legacy/index.js';
import { defaultSandboxPartner } from '../../../src/banks/simulator/index.js';
import type { BankAdapter } from '../../../src/banks/types.js';
import { createBankHttpClient } from '../../../src/egress/index.js';
import { simulatedPartnerConfig } from '../../../src/gateway/bank-partners.js';
import { memoryTokens, recorder } from '../../support/bank-adapters.js';
import { startHostileBank, type HostileBank } from '../../support/hostile-bank.js';

/**
 * The request line of every legacy operation, written out by hand from BCA's documentation
 * (bank-apis.md §1, "Operations for vendor payments"), against a raw bank that only records what
 * it receives. The simulator cannot catch a wrong path: it would be built from the same mistake.
 */
describe('BCA legacy adapter: request paths as BCA documents them', () => {
  let bank: HostileBank;
  let adapter: BankAdapter;
  const corporateId = defaultSandboxPartner().corporateId;

  before(async () => {
    bank = await startHostileBank();
    bank.answer((_req, res) => {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ErrorCode: 'ESB-99-127', ErrorMessage: { Indonesian: 'Transaksi tidak ditemukan', English: 'Transaction not found' } }));
    });
    adapter = createBcaLegacyAdapter({
      ...simulatedPartnerConfig(defaultSandboxPartner(), bank.url, []),
      tokens: memoryTokens(),
      http: createBankHttpClient({ baseUrl: bank.url, connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 }),
    });
  });
  after(async () => {
    await adapter.close();
    await bank.close();
  });

  /** Runs one operation (its answer does not matter here) and returns the path it requested. */
  async function pathOf(operation: (ctx: ReturnType<typeof recorder>['ctx']) => Promise<unknown>): Promise<string> {
    const before = bank.paths.length;
    await operation(recorder().ctx).catch(() => undefined);
    const paths = bank.paths.slice(before).filter((path) => path !== '/api/oauth/token');
    expect(paths, 'one request to the bank').to.have.length(1);
    return paths[0];
  }

  it(`balance: GET /banking/v3/corporates/{CorporateID}/accounts/{account}`, async () => {
    expect(await pathOf((ctx) => adapter.balance('0201245680', ctx))).to.equal(`/banking/v3/corporates/${corporateId}/accounts/0201245680`);
  });

  it('statement: GET /banking/v3/corporates/{CorporateID}/accounts/{account}/statements?EndDate=…&StartDate=…', async () => {
    const path = await pathOf((ctx) => adapter.statement({ accountNumber: '0201245680', from: '2026-11-01', to: '2026-11-30' }, ctx));
    expect(path).to.equal(`/banking/v3/corporates/${corporateId}/accounts/0201245680/statements?EndDate=2026-11-30&StartDate=2026-11-01`);
  });

  it('interbank account inquiry: GET /banking/corporates/transfers/v2/domestic/beneficiaries/banks/{bankCode}/accounts/{account}', async () => {
    const path = await pathOf((ctx) => adapter.accountInquiry({ accountNumber: '123456789012345', bankCode: 'BRINIDJA', scope: 'external', sourceAccountNumber: '0201245680' }, ctx));
    expect(path).to.equal('/banking/corporates/transfers/v2/domestic/beneficiaries/banks/BRINIDJA/accounts/123456789012345');
  });

  it('transfer status: GET /banking/corporates/transfers/status/{TransactionID}?TransactionDate=…&TransferType=BCA', async () => {
    const path = await pathOf((ctx) => adapter.transferStatus({ bankTransactionId: '00000001', transactionDate: '2026-12-04', method: 'INTRABANK' }, ctx));
    expect(path).to.equal('/banking/corporates/transfers/status/00000001?TransactionDate=2026-12-04&TransferType=BCA');
  });

  it('transfer status of an interbank transfer: TransferType is its domestic code, or the partner\'s configured value', async () => {
    const path = await pathOf((ctx) => adapter.transferStatus({ bankTransactionId: '00000004', transactionDate: '2026-12-04', method: 'SKN' }, ctx));
    expect(path).to.equal('/banking/corporates/transfers/status/00000004?TransactionDate=2026-12-04&TransferType=LLG');
    const configured = createBcaLegacyAdapter({
      ...simulatedPartnerConfig(defaultSandboxPartner(), bank.url, []),
      statusTransferTypes: { SKN: 'BCA' },
      tokens: memoryTokens(),
      http: createBankHttpClient({ baseUrl: bank.url, connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000 }),
    });
    try {
      const asked = await pathOf((ctx) => configured.transferStatus({ bankTransactionId: '00000004', transactionDate: '2026-12-04', method: 'SKN' }, ctx));
      expect(asked).to.equal('/banking/corporates/transfers/status/00000004?TransactionDate=2026-12-04&TransferType=BCA');
    } finally {
      await configured.close();
    }
  });

  it('intrabank transfer: POST /banking/corporates/transfers', async () => {
    const order = {
      bankTransactionId: '00000002',
      transactionDate: '2026-12-04',
      referenceId: 'INV-1',
      sourceAccountNumber: '0201245680',
      beneficiaryAccountNumber: '0201245681',
      amount: '100000.00',
      currency: 'IDR' as const,
      remark1: 'Invoice 1',
      remark2: '',
    };
    expect(await pathOf((ctx) => adapter.transferIntrabank(order, ctx))).to.equal('/banking/corporates/transfers');
  });

  it('interbank transfer: POST /banking/corporates/transfers/v2/domestic', async () => {
    const order = {
      method: 'ONLINE' as const,
      bankTransactionId: '00000003',
      transactionDate: '2026-12-04',
      referenceId: 'INV-2',
      sourceAccountNumber: '0201245680',
      beneficiaryAccountNumber: '123456789012345',
      beneficiaryBankCode: 'BRINIDJA',
      beneficiaryName: 'CV PEMASOK JAYA',
      beneficiaryCustomerType: '2' as const,
      beneficiaryCustomerResidence: '1' as const,
      amount: '2500.00',
      currency: 'IDR' as const,
      remark1: 'Invoice 2',
      remark2: '',
    };
    expect(await pathOf((ctx) => adapter.transferInterbank(order, ctx))).to.equal('/banking/corporates/transfers/v2/domestic');
  });
});
