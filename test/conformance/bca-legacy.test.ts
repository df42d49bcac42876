import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { Agent, request } from 'undici';
import { bcaTimestamp, createBcaLegacyAdapter, sign } from '../../src/banks/bca-legacy/index.js';
import { createBankSimulator, defaultSandboxPartner, expectedLegacySignature, type BankSimulator, type SimPartner } from '../../src/banks/simulator/index.js';
import type { BankAdapter, InterbankTransferOrder, IntrabankTransferOrder } from '../../src/banks/types.js';
import { createBankHttpClient } from '../../src/egress/index.js';
import { isAppError } from '../../src/errors/index.js';
import { simulatedPartnerConfig } from '../../src/gateway/bank-partners.js';
import { jakartaDate } from '../../src/time/index.js';
import { memoryTokens, recorder } from '../support/bank-adapters.js';
import { fieldAt, loadFixture, loadVector, matchesTemplate, without, type ConformanceFixture, type FixtureAnswer } from '../support/conformance-fixtures.js';
import { startHostileBank, type HostileBank } from '../support/hostile-bank.js';

/**
 * BCA's legacy API as its documents show it (test/conformance/bca-legacy/*.json, each with its
 * source), replayed both ways: the adapter must send what the documents demand and read every
 * documented answer right; the simulator must accept each documented request, answer in the
 * documented shape, and refuse a request missing any field the documents call mandatory.
 */
const BANK = 'bca-legacy';
const intrabank = loadFixture(BANK, 'transfer-intrabank');
const domestic = loadFixture(BANK, 'transfer-domestic');
const balance = loadFixture(BANK, 'balance');
const statement = loadFixture(BANK, 'statement');
const status = loadFixture(BANK, 'transfer-status');
const inquiry = loadFixture(BANK, 'account-inquiry');

const METHOD_OF_TRANSFER_TYPE: Record<string, InterbankTransferOrder['method']> = { ONL: 'ONLINE', LLG: 'SKN', RTG: 'RTGS' };

const adapterFor = (url: string, partner: SimPartner): BankAdapter =>
  createBcaLegacyAdapter({
    ...simulatedPartnerConfig(partner, url, []),
    tokens: memoryTokens(),
    http: createBankHttpClient({ baseUrl: url, connectTimeoutMs: 1_000, headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000 }),
  });

/** The order the ERP would send for the documented sample (fresh id and date, as a replay today must). */
function intrabankOrder(sample: Record<string, unknown>, bankTransactionId = String(randomInt(10_000_000, 99_999_999))): IntrabankTransferOrder {
  return {
    bankTransactionId,
    transactionDate: jakartaDate(new Date()),
    referenceId: String(sample.ReferenceID),
    sourceAccountNumber: String(sample.SourceAccountNumber),
    beneficiaryAccountNumber: String(sample.BeneficiaryAccountNumber),
    amount: String(sample.Amount),
    currency: 'IDR',
    remark1: String(sample.Remark1),
    remark2: String(sample.Remark2),
  };
}

function domesticOrder(sample: Record<string, unknown>, bankTransactionId = String(randomInt(10_000_000, 99_999_999))): InterbankTransferOrder {
  return {
    method: METHOD_OF_TRANSFER_TYPE[String(sample.transfer_type)],
    bankTransactionId,
    transactionDate: jakartaDate(new Date()),
    referenceId: 'INV-7',
    sourceAccountNumber: String(sample.source_account_number),
    beneficiaryAccountNumber: String(sample.beneficiary_account_number),
    beneficiaryBankCode: String(sample.beneficiary_bank_code),
    beneficiaryName: String(sample.beneficiary_name),
    beneficiaryCustomerType: String(sample.beneficiary_cust_type) as '1',
    beneficiaryCustomerResidence: String(sample.beneficiary_cust_residence) as '1',
    amount: String(sample.amount),
    currency: 'IDR',
    remark1: String(sample.remark1),
    remark2: String(sample.remark2),
  };
}

/** What the adapter made of an answer: its result, or the error it threw. */
async function settle(run: () => Promise<unknown>): Promise<{ result?: unknown; error?: unknown }> {
  try {
    return { result: await run() };
  } catch (error) {
    return { error };
  }
}

function expectOutcome(got: { result?: unknown; error?: unknown }, answer: FixtureAnswer): void {
  const { throws, bankResponseCode, balance: bal, statement: stmt, ...transfer } = answer.outcome as Record<string, any>;
  if (throws) {
    expect(isAppError(got.error) && got.error.code, `${answer.name}: ${String(got.error ?? JSON.stringify(got.result))}`).to.equal(throws);
    if (bankResponseCode) expect(isAppError(got.error) && got.error.extensions.bankResponseCode).to.equal(bankResponseCode);
    return;
  }
  expect(got.error, answer.name).to.equal(undefined);
  if (bal) return void expect(got.result).to.deep.include(bal);
  if (stmt) {
    const read = got.result as { openingBalance: string; entries: Record<string, unknown>[] };
    expect(read.openingBalance).to.equal(stmt.openingBalance);
    expect(read.entries).to.have.length(stmt.entries.length);
    stmt.entries.forEach((entry: Record<string, unknown>, i: number) => expect(read.entries[i], `entry ${i}`).to.deep.include(entry));
    return;
  }
  expect(got.result, answer.name).to.deep.include({ ...transfer, ...(bankResponseCode ? { bankResponseCode } : {}) });
}

describe('BCA legacy API as documented (conformance fixtures)', () => {
  describe('the published signature example', () => {
    const { source, vector } = loadVector<{ method: string; relativeUrl: string; accessToken: string; apiSecret: string; timestamp: string; body: string; signature: string }>(BANK, 'signature');

    it(`is reproduced by the simulator's own check and by the adapter's signer (${source.section})`, () => {
      const bank = expectedLegacySignature({ method: vector.method, url: vector.relativeUrl, accessToken: vector.accessToken, body: vector.body, timestamp: vector.timestamp }, vector.apiSecret);
      expect(bank).to.equal(vector.signature);
      expect(sign({ method: vector.method, relativeUrl: vector.relativeUrl, accessToken: vector.accessToken, body: vector.body, timestamp: vector.timestamp, apiSecret: vector.apiSecret }).signature).to.equal(vector.signature);
    });
  });

  describe('against the simulator', () => {
    let simulator: BankSimulator;
    let partner: SimPartner;
    let url: string;
    let adapter: BankAdapter;
    const agent = new Agent();

    before(async () => {
      partner = defaultSandboxPartner();
      simulator = createBankSimulator({ partners: [partner], allowedSourceAddresses: ['127.0.0.1'] });
      url = await simulator.listen();
      adapter = adapterFor(url, partner);
    });
    after(async () => {
      await adapter.close();
      await agent.close();
      await simulator.close();
    });

    /** The one service call (not the token) the adapter made for `run`, as the simulator received it. */
    async function sentBy(run: () => Promise<unknown>) {
      const before = simulator.calls.length;
      await run().catch(() => undefined);
      const calls = simulator.calls.slice(before).filter((call) => call.path !== '/api/oauth/token');
      expect(calls, 'one service call').to.have.length(1);
      return calls[0];
    }

    function expectDocumentedRequest(call: { method: string; path: string; headers: Record<string, string>; body: string }, fixture: ConformanceFixture): void {
      expect(call.method).to.equal(fixture.request.method);
      expect(matchesTemplate(call.path, fixture.request.path), `${call.path} is ${fixture.request.path}`).to.equal(true);
      for (const name of fixture.request.query ?? []) expect(new URL(call.path, 'http://bank').searchParams.get(name), `query ${name}`).to.be.a('string').and.not.equal('');
      for (const name of fixture.request.headers) {
        if (name === 'Content-Type' && fixture.request.method === 'GET') continue;
        expect(call.headers[name.toLowerCase()], `header ${name}`).to.be.a('string').and.not.equal('');
      }
      const body = call.body === '' ? {} : (JSON.parse(call.body) as Record<string, unknown>);
      for (const field of fixture.request.mandatory) expect(fieldAt(body, field), `mandatory ${field}`).to.be.a('string').and.not.equal('');
    }

    /** The documented sample, signed and sent as a client following the documents would (fresh fields renewed). */
    async function sendSample(fixture: ConformanceFixture, body: Record<string, unknown>, extraHeaders: Record<string, string> = {}) {
      const token = await request(`${url}/api/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${partner.clientId}:${partner.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        dispatcher: agent,
      });
      const accessToken = ((await token.body.json()) as { access_token: string }).access_token;
      const text = JSON.stringify(body);
      const timestamp = bcaTimestamp(new Date());
      const { signature } = sign({ method: 'POST', relativeUrl: fixture.request.path, accessToken, body: text, timestamp, apiSecret: partner.apiSecret });
      const res = await request(`${url}${fixture.request.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', origin: partner.origins![0], 'x-bca-key': partner.apiKey, 'x-bca-timestamp': timestamp, 'x-bca-signature': signature, ...extraHeaders },
        body: text,
        dispatcher: agent,
      });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    }

    const freshSample = (fixture: ConformanceFixture, idField: string, dateField: string): Record<string, unknown> => {
      expect(fixture.request.fresh?.fields).to.have.members([idField, dateField]);
      return { ...fixture.request.sample, [idField]: String(randomInt(10_000_000, 99_999_999)), [dateField]: jakartaDate(new Date()) };
    };

    const transfers: { fixture: ConformanceFixture; idField: string; dateField: string; headers: () => Record<string, string>; order: (sample: Record<string, unknown>) => Promise<unknown> }[] = [
      { fixture: intrabank, idField: 'TransactionID', dateField: 'TransactionDate', headers: () => ({}), order: (sample) => adapter.transferIntrabank(intrabankOrder(sample), recorder().ctx) },
      {
        fixture: domestic,
        idField: 'transaction_id',
        dateField: 'transaction_date',
        headers: () => ({ 'channel-id': '95051', 'credential-id': partner.corporateId }),
        order: (sample) => adapter.transferInterbank(domesticOrder(sample), recorder().ctx),
      },
    ];

    for (const { fixture, idField, dateField, headers, order } of transfers) {
      describe(`${fixture.request.method} ${fixture.request.path} (${fixture.operation})`, () => {
        it('the adapter sends the documented path, headers and every mandatory field', async () => {
          const sample = { ...fixture.request.sample, CorporateID: partner.corporateId };
          expectDocumentedRequest(await sentBy(() => order(sample)), fixture);
        });

        it('the simulator accepts the documented sample and answers in the documented shape', async () => {
          const sample: Record<string, unknown> = { ...freshSample(fixture, idField, dateField), ...(fixture.request.sample!.CorporateID ? { CorporateID: partner.corporateId } : {}) };
          const res = await sendSample(fixture, sample, headers());
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          const documented = fixture.answers[0].body;
          for (const [name, value] of Object.entries(documented)) expect(typeof res.body[name], `answer field ${name}`).to.equal(typeof value);
          expect(res.body[Object.keys(documented)[0]]).to.equal(sample[idField]);
        });

        for (const field of fixture.request.mandatory) {
          it(`the simulator refuses the sample without ${field} (ESB-82-001) and moves nothing`, async () => {
            const sample: Record<string, unknown> = { ...freshSample(fixture, idField, dateField), ...(fixture.request.sample!.CorporateID ? { CorporateID: partner.corporateId } : {}) };
            const before = simulator.balanceOf(String(fixture.request.sample!.SourceAccountNumber ?? fixture.request.sample!.source_account_number));
            const res = await sendSample(fixture, without(sample, field), headers());
            expect([res.status, res.body.ErrorCode]).to.deep.equal([400, 'ESB-82-001']);
            expect(simulator.balanceOf(String(fixture.request.sample!.SourceAccountNumber ?? fixture.request.sample!.source_account_number))).to.equal(before);
          });
        }
      });
    }

    it(`the adapter asks ${balance.request.path}, ${inquiry.request.path}, ${statement.request.path} and ${status.request.path} as documented`, async () => {
      expectDocumentedRequest(await sentBy(() => adapter.balance('0201245680', recorder().ctx)), balance);
      expectDocumentedRequest(await sentBy(() => adapter.accountInquiry({ accountNumber: '0201245501', bankCode: 'BRINIDJA', scope: 'external', sourceAccountNumber: '0201245680' }, recorder().ctx)), inquiry);
      const today = jakartaDate(new Date());
      expectDocumentedRequest(await sentBy(() => adapter.statement({ accountNumber: '0201245680', from: today, to: today }, recorder().ctx)), statement);
      const call = await sentBy(() => adapter.transferStatus({ bankTransactionId: '00000001', transactionDate: today, method: 'INTRABANK' }, recorder().ctx));
      expectDocumentedRequest(call, status);
      expect(new URL(call.path, 'http://bank').searchParams.get('TransferType')).to.equal('BCA');
    });
  });

  describe('every documented answer, read by the adapter', () => {
    let bank: HostileBank;
    let adapter: BankAdapter;

    before(async () => {
      // A bank that answers exactly the documented bytes: the adapter's reading is all that is tested.
      bank = await startHostileBank();
      adapter = adapterFor(bank.url, defaultSandboxPartner());
    });
    after(async () => {
      await adapter.close();
      await bank.close();
    });

    const replay = (answer: FixtureAnswer) =>
      bank.answer((_req, res) => {
        res.statusCode = answer.status;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer.body));
      });

    const cases: [ConformanceFixture, (answer: FixtureAnswer) => Promise<unknown>][] = [
      [intrabank, () => adapter.transferIntrabank(intrabankOrder(intrabank.request.sample!, String(intrabank.answers[0].body.TransactionID)), recorder().ctx)],
      [domestic, () => adapter.transferInterbank(domesticOrder(domestic.request.sample!, '00000001'), recorder().ctx)],
      [balance, (answer) => adapter.balance(String(answer.ask), recorder().ctx)],
      [statement, (answer) => adapter.statement(answer.ask as { accountNumber: string; from: string; to: string }, recorder().ctx)],
      [inquiry, (answer) => adapter.accountInquiry({ ...(answer.ask as { accountNumber: string; bankCode: string }), scope: 'external', sourceAccountNumber: '0201245680' }, recorder().ctx)],
      [status, () => adapter.transferStatus({ bankTransactionId: '00000001', transactionDate: '2016-01-30', method: 'INTRABANK' }, recorder().ctx)],
    ];
    for (const [fixture, run] of cases) {
      for (const answer of fixture.answers) {
        it(`${fixture.operation}: ${answer.name} → ${JSON.stringify(answer.outcome)}`, async () => {
          replay(answer);
          expectOutcome(await settle(() => run(answer)), answer);
        });
      }
    }
  });
});
