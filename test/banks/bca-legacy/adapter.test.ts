import { expect } from 'chai';
import { createBcaLegacyAdapter } from '../../../src/banks/bca-legacy/index.js';
import { createBankSimulator, defaultSandboxPartner, type BankSimulator, type SimPartner } from '../../../src/banks/simulator/index.js';
import type { BankAdapter, BankCall, BankTokenCache, IntrabankTransferOrder } from '../../../src/banks/types.js';
import { createBankHttpClient } from '../../../src/egress/index.js';
import { isAppError } from '../../../src/errors/index.js';
import { jakartaDate } from '../../../src/time/index.js';

/** The shared token cache's contract in memory; the real one (the store) has its own contract tests. */
function memoryTokens(): BankTokenCache & { entries: Map<string, { token: string; expiresAt: number }> } {
  const entries = new Map<string, { token: string; expiresAt: number }>();
  return {
    entries,
    get: async (partner) => entries.get(partner) ?? null,
    put: async (partner, token, expiresAt) => void entries.set(partner, { token, expiresAt }),
    invalidate: async (partner, token) => {
      if (entries.get(partner)?.token === token) entries.delete(partner);
    },
  };
}

describe('BCA legacy adapter against the simulator', () => {
  let simulator: BankSimulator;
  let partner: SimPartner;
  let baseUrl: string;
  let sequence = 0;

  before(async () => {
    partner = defaultSandboxPartner();
    simulator = createBankSimulator({ partners: [partner], allowedSourceAddresses: ['127.0.0.1'] });
    baseUrl = await simulator.listen();
  });
  after(async () => simulator.close());

  function adapterWith(options: { tokens?: BankTokenCache; apiSecret?: string; baseUrl?: string; headersTimeoutMs?: number } = {}): BankAdapter {
    return createBcaLegacyAdapter({
      partner: 'bca',
      clientId: partner.clientId,
      clientSecret: partner.clientSecret,
      apiKey: partner.apiKey,
      apiSecret: options.apiSecret ?? partner.apiSecret,
      corporateId: partner.corporateId,
      origin: partner.origins![0],
      tokens: options.tokens ?? memoryTokens(),
      http: createBankHttpClient({
        baseUrl: options.baseUrl ?? baseUrl,
        connectTimeoutMs: 1000,
        headersTimeoutMs: options.headersTimeoutMs ?? 2000,
        bodyTimeoutMs: 2000,
      }),
    });
  }

  function order(overrides: Partial<IntrabankTransferOrder> = {}): IntrabankTransferOrder {
    sequence += 1;
    return {
      bankTransactionId: String(40_000_000 + sequence),
      transactionDate: jakartaDate(Date.now()),
      referenceId: `INV-${sequence}`,
      sourceAccountNumber: '0201245680',
      beneficiaryAccountNumber: '0201245681',
      amount: '1000.00',
      currency: 'IDR',
      remark1: 'Invoice',
      remark2: '',
      ...overrides,
    };
  }

  function recorder() {
    const calls: BankCall[] = [];
    return { calls, ctx: { onCall: async (call: BankCall) => void calls.push(call) } };
  }

  const transferCalls = () => simulator.calls.filter((c) => c.path === '/banking/corporates/transfers').length;
  const tokenCalls = () => simulator.calls.filter((c) => c.path === '/api/oauth/token').length;

  it('pays, reporting the token and transfer exchanges with their timing', async () => {
    const adapter = adapterWith();
    const { calls, ctx } = recorder();
    const outcome = await adapter.transferIntrabank(order(), ctx);
    await adapter.close();
    expect(outcome).to.deep.include({ status: 'SUCCESS', bankResponseCode: null });
    expect(outcome.bankReference).to.match(/^\d{8}$/);
    expect(calls.map((c) => c.operation)).to.deep.equal(['token', 'transfer-intrabank']);
    expect(calls[1].statusCode).to.equal(200);
    expect(calls[1].requestHeaders['x-bca-signature']).to.match(/^[0-9a-f]{64}$/);
    expect(calls[1].durationMs).to.be.a('number');
  });

  it('fetches one token for several transfers through the shared cache', async () => {
    const tokens = memoryTokens();
    const first = adapterWith({ tokens });
    const second = adapterWith({ tokens });
    const before = tokenCalls();
    await first.transferIntrabank(order(), recorder().ctx);
    await second.transferIntrabank(order(), recorder().ctx);
    await first.transferIntrabank(order(), recorder().ctx);
    await Promise.all([first.close(), second.close()]);
    expect(tokenCalls() - before).to.equal(1);
  });

  it('on ESB-14-009 fetches a new token, re-signs and resends once', async () => {
    const tokens = memoryTokens();
    const adapter = adapterWith({ tokens });
    await adapter.transferIntrabank(order(), recorder().ctx);
    simulator.expireTokens();
    const before = { tokens: tokenCalls(), transfers: transferCalls() };
    const { calls, ctx } = recorder();
    const outcome = await adapter.transferIntrabank(order(), ctx);
    await adapter.close();
    expect(outcome.status).to.equal('SUCCESS');
    expect(calls.map((c) => `${c.operation}:${c.statusCode}`)).to.deep.equal(['transfer-intrabank:401', 'token:200', 'transfer-intrabank:200']);
    expect(tokenCalls() - before.tokens).to.equal(1);
    expect(transferCalls() - before.transfers).to.equal(2);
  });

  for (const code of ['ESB-82-019', 'ESB-82-014', 'ESB-82-018', 'ESB-82-022', 'ESB-82-023', 'ESB-82-026', 'ESB-82-003']) {
    it(`maps ${code} to FAILED keeping the bank's code and message`, async () => {
      simulator.failNext({ code });
      const adapter = adapterWith();
      const outcome = await adapter.transferIntrabank(order(), recorder().ctx);
      await adapter.close();
      expect(outcome.status).to.equal('FAILED');
      expect(outcome.bankResponseCode).to.equal(code);
      expect(outcome.bankMessage).to.be.a('string').and.not.empty;
    });
  }

  for (const code of ['ESB-14-006', 'ESB-82-024', 'ESB-82-025', 'ESB-99-999']) {
    it(`maps ${code} to UNKNOWN (in doubt) without resending`, async () => {
      simulator.failNext({ code });
      const adapter = adapterWith();
      const before = transferCalls();
      const outcome = await adapter.transferIntrabank(order(), recorder().ctx);
      await adapter.close();
      expect(outcome).to.deep.include({ status: 'UNKNOWN', bankResponseCode: code });
      expect(transferCalls() - before).to.equal(1);
    });
  }

  it('reports a bank that never answers as UNKNOWN, sent once', async () => {
    const adapter = adapterWith({ headersTimeoutMs: 300 });
    const before = transferCalls();
    const { calls, ctx } = recorder();
    const outcome = await adapter.transferIntrabank(order({ remark1: 'SIM TIMEOUT' }), ctx);
    await adapter.close();
    expect(outcome).to.deep.include({ status: 'UNKNOWN', bankResponseCode: 'BANK_TIMEOUT' });
    expect(transferCalls() - before).to.equal(1);
    expect(calls[calls.length - 1].errorCode).to.equal('BANK_TIMEOUT');
  });

  it('reports a connection dropped after sending as UNKNOWN', async () => {
    const adapter = adapterWith();
    const outcome = await adapter.transferIntrabank(order({ remark1: 'SIM RESET' }), recorder().ctx);
    await adapter.close();
    expect(outcome).to.deep.include({ status: 'UNKNOWN', bankResponseCode: 'BANK_CONNECTION_RESET' });
  });

  it('throws BANK_UNAVAILABLE when the bank cannot be reached (nothing sent)', async () => {
    const adapter = adapterWith({ baseUrl: 'http://127.0.0.1:1' });
    const { calls, ctx } = recorder();
    const error = await adapter.transferIntrabank(order(), ctx).then(() => null, (e: unknown) => e);
    await adapter.close();
    expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
    expect(calls.map((c) => `${c.operation}:${c.errorCode}`)).to.deep.equal(['token:BANK_CONNECT_FAILED']);
  });

  it('throws BANK_UNAVAILABLE with ESB-14-001 when its signature is refused (nothing executed)', async () => {
    const adapter = adapterWith({ apiSecret: 'not-the-registered-secret' });
    const error = await adapter.transferIntrabank(order(), recorder().ctx).then(() => null, (e: unknown) => e);
    await adapter.close();
    expect(isAppError(error) && error.code).to.equal('BANK_UNAVAILABLE');
    expect(isAppError(error) && error.extensions.bankResponseCode).to.equal('ESB-14-001');
  });
});
