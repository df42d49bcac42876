import { expect } from 'chai';
import { randomBytes, randomInt } from 'node:crypto';
import { relativeUrl, signService, signToken, snapTimestamp } from '../../src/banks/snap/index.js';
import { createBankSimulator, SimulatorNetwork, type BankSimulator } from '../../src/banks/simulator/index.js';
import type { BankAdapter, InterbankTransferOrder, IntrabankTransferOrder } from '../../src/banks/types.js';
import { isAppError } from '../../src/errors/index.js';
import { jakartaDate } from '../../src/time/index.js';
import { recorder } from '../support/bank-adapters.js';
import { fieldAt, loadFixture, matchesTemplate, without, type ConformanceFixture, type FixtureAnswer } from '../support/conformance-fixtures.js';
import { startHostileBank, type HostileBank } from '../support/hostile-bank.js';
import { snapAdapter, snapCredentials, startSnapBank, type SnapCredentials } from '../support/snap-bank.js';

/**
 * BCA's SNAP services as its documents show them (test/conformance/bca-snap/*.json, each with its
 * source), replayed both ways: the adapter must send every documented mandatory field and read
 * every documented answer (the balance's accountInfos as an object and as an array); the
 * simulator must accept each documented request and refuse one missing any mandatory field with
 * 400 + service code + 02.
 */
const BANK = 'bca-snap';
const intrabank = loadFixture(BANK, 'transfer-intrabank');
const rtgs = loadFixture(BANK, 'transfer-rtgs');
const skn = loadFixture(BANK, 'transfer-skn');
const balance = loadFixture(BANK, 'balance');
const externalInquiry = loadFixture(BANK, 'account-inquiry-external');
const interbank = loadFixture(BANK, 'transfer-interbank');
const status = loadFixture(BANK, 'transfer-status');
const internalInquiry = loadFixture(BANK, 'account-inquiry-internal');
const statement = loadFixture(BANK, 'statement');

function intrabankOrder(sample: Record<string, unknown>, bankTransactionId = `1${randomInt(1e9, 1e10 - 1)}`): IntrabankTransferOrder {
  return {
    bankTransactionId,
    transactionDate: jakartaDate(new Date()),
    referenceId: String(sample.customerReference),
    sourceAccountNumber: String(sample.sourceAccountNo),
    beneficiaryAccountNumber: String(sample.beneficiaryAccountNo),
    amount: String(fieldAt(sample, 'amount.value')),
    currency: 'IDR',
    remark1: String(sample.remark),
    remark2: '',
  };
}

function onlineOrder(sample: Record<string, unknown>, bankTransactionId?: string): InterbankTransferOrder {
  return {
    ...intrabankOrder(sample, bankTransactionId),
    method: 'ONLINE',
    beneficiaryBankCode: String(sample.beneficiaryBankCode),
    beneficiaryName: String(sample.beneficiaryAccountName),
    beneficiaryCustomerType: '2',
    beneficiaryCustomerResidence: '1',
  };
}

function clearingOrder(method: 'RTGS' | 'SKN', sample: Record<string, unknown>, bankTransactionId?: string): InterbankTransferOrder {
  return {
    ...intrabankOrder(sample, bankTransactionId),
    method,
    beneficiaryBankCode: String(sample.beneficiaryBankCode),
    beneficiaryName: String(sample.beneficiaryAccountName),
    beneficiaryAddress: String(sample.beneficiaryAddress),
    beneficiaryCustomerType: String(sample.beneficiaryCustomerType) as '2',
    beneficiaryCustomerResidence: String(sample.beneficiaryCustomerResidence) as '1',
  };
}

describe('BCA SNAP services as documented (conformance fixtures)', () => {
  describe('against the simulator', () => {
    let credentials: SnapCredentials;
    let bank: BankSimulator;
    let bri: BankSimulator;
    let url: string;
    let adapter: BankAdapter;
    let token: string;

    before(async () => {
      credentials = snapCredentials();
      // BRI, where the external inquiry's and the clearing transfers' sample accounts live.
      const network = new SimulatorNetwork();
      bri = createBankSimulator({ partners: [], allowedSourceAddresses: [], bic: 'BRINIDJA', network });
      for (const fixture of [externalInquiry, interbank, rtgs, skn]) bri.setAccount({ number: String(fixture.request.sample!.beneficiaryAccountNo), name: 'CV BRI VENDOR', balance: '0.00' });
      ({ simulator: bank, url } = await startSnapBank(credentials, { network }));
      adapter = snapAdapter(url, credentials);
      const timestamp = snapTimestamp(new Date(), false);
      const { signature } = signToken({ clientId: credentials.clientId, timestamp, privateKey: credentials.privateKeyPem });
      const res = await fetch(`${url}/openapi/v1.0/access-token/b2b`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CLIENT-KEY': credentials.clientId, 'X-TIMESTAMP': timestamp, 'X-SIGNATURE': signature },
        body: '{"grantType":"client_credentials"}',
      });
      token = ((await res.json()) as { accessToken: string }).accessToken;
    });
    after(async () => {
      await adapter.close();
      await bank.close();
      await bri.close();
    });

    /** The documented sample, signed and sent as a client following the documents would. */
    async function sendSample(fixture: ConformanceFixture, body: Record<string, unknown>, externalId = String(randomInt(1e11, 1e12 - 1))) {
      const text = JSON.stringify(body);
      const timestamp = snapTimestamp(new Date(), false);
      const { signature } = signService({ method: 'POST', relativeUrl: relativeUrl(fixture.request.path), accessToken: token, body: text, timestamp, secret: credentials.clientSecret });
      const res = await fetch(`${url}${fixture.request.path}`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'X-TIMESTAMP': timestamp,
          'X-SIGNATURE': signature,
          ORIGIN: credentials.origin,
          'X-PARTNER-ID': credentials.partnerId,
          'X-EXTERNAL-ID': externalId,
          'CHANNEL-ID': credentials.channelId,
        },
        body: text,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    /** The status inquiry's sample, naming an intrabank transfer the bank has just taken (sent as documented). */
    async function statusSample(): Promise<Record<string, unknown>> {
      const transfer = fresh(intrabank);
      const externalId = String(randomInt(1e11, 1e12 - 1));
      expect((await sendSample(intrabank, transfer, externalId)).status).to.equal(200);
      return { ...status.request.sample, originalPartnerReferenceNo: transfer.partnerReferenceNo, originalExternalId: externalId, transactionDate: transfer.transactionDate };
    }

    const fresh = (fixture: ConformanceFixture): Record<string, unknown> => {
      const sample = structuredClone(fixture.request.sample!);
      for (const field of fixture.request.fresh?.fields ?? []) {
        if (field === 'transactionDate') sample[field] = `${jakartaDate(new Date())}T10:00:00+07:00`;
        else if (field.endsWith('DateTime')) sample[field] = `${jakartaDate(new Date())}T00:00:00+07:00`;
        else sample[field] = `${Date.now()}${randomInt(1e5)}`;
      }
      return sample;
    };

    async function sentBy(path: string, run: () => Promise<unknown>) {
      const before = bank.calls.length;
      await run().catch(() => undefined);
      const calls = bank.calls.slice(before).filter((call) => call.path === path);
      expect(calls, `one call to ${path}`).to.have.length(1);
      return calls[0];
    }

    const cases: { fixture: ConformanceFixture; order: (sample: Record<string, unknown>) => Promise<unknown>; sample?: () => Promise<Record<string, unknown>> }[] = [
      { fixture: intrabank, order: (sample) => adapter.transferIntrabank(intrabankOrder(sample), recorder().ctx) },
      { fixture: interbank, order: (sample) => adapter.transferInterbank(onlineOrder(sample), recorder().ctx) },
      {
        fixture: status,
        order: (sample) => adapter.transferStatus({ bankTransactionId: String(sample.originalPartnerReferenceNo), transactionDate: jakartaDate(new Date()), method: 'INTRABANK' }, recorder().ctx),
        sample: statusSample,
      },
      { fixture: rtgs, order: (sample) => adapter.transferInterbank(clearingOrder('RTGS', sample), recorder().ctx) },
      { fixture: skn, order: (sample) => adapter.transferInterbank(clearingOrder('SKN', sample), recorder().ctx) },
      { fixture: balance, order: (sample) => adapter.balance(String(sample.accountNo), recorder().ctx) },
      {
        fixture: internalInquiry,
        order: (sample) => adapter.accountInquiry({ accountNumber: String(sample.beneficiaryAccountNo), bankCode: 'CENAIDJA', scope: 'internal', sourceAccountNumber: '0201245680' }, recorder().ctx),
      },
      {
        fixture: statement,
        order: (sample) => adapter.statement({ accountNumber: String(sample.accountNo), from: jakartaDate(new Date()), to: jakartaDate(new Date()) }, recorder().ctx),
      },
      {
        fixture: externalInquiry,
        order: (sample) =>
          adapter.accountInquiry({ accountNumber: String(sample.beneficiaryAccountNo), bankCode: String(sample.beneficiaryBankCode), scope: 'external', sourceAccountNumber: '0201245680' }, recorder().ctx),
      },
    ];

    for (const { fixture, order, sample: prepared } of cases) {
      describe(`${fixture.request.method} ${fixture.request.path} (${fixture.operation}, service ${fixture.request.serviceCode})`, () => {
        it('the adapter sends the documented path, headers and every mandatory field', async () => {
          const call = await sentBy(fixture.request.path, () => order(fixture.request.sample!));
          expect(matchesTemplate(call.path, fixture.request.path)).to.equal(true);
          for (const name of fixture.request.headers) expect(call.headers[name.toLowerCase()], `header ${name}`).to.be.a('string').and.not.equal('');
          const body = JSON.parse(call.body) as Record<string, unknown>;
          for (const field of fixture.request.mandatory) expect(fieldAt(body, field), `mandatory ${field}`).to.be.a('string').and.not.equal('');
          for (const [field, form] of Object.entries(fixture.request.formats ?? {})) expect(fieldAt(body, field), `documented form of ${field}`).to.match(new RegExp(form));
        });

        it('the simulator accepts the documented sample and answers in the documented shape', async () => {
          const res = await sendSample(fixture, prepared ? await prepared() : fresh(fixture));
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          expect(res.body.responseCode).to.equal(`200${fixture.request.serviceCode}00`);
          const documented = fixture.answers[0].body;
          for (const name of Object.keys(documented)) {
            if (name === 'accountInfos') continue; // documented both as an object and an array
            expect(res.body, `answer field ${name}`).to.have.property(name);
          }
        });

        for (const field of fixture.request.mandatory) {
          it(`the simulator refuses the sample without ${field} (400${fixture.request.serviceCode}02 naming it) and moves nothing`, async () => {
            const sample = prepared ? await prepared() : fresh(fixture);
            const source = String(sample.sourceAccountNo ?? sample.accountNo);
            const before = bank.balanceOf(source);
            const res = await sendSample(fixture, without(sample, field));
            expect([res.status, res.body.responseCode]).to.deep.equal([400, `400${fixture.request.serviceCode}02`]);
            expect(String(res.body.responseMessage)).to.contain(field);
            expect(bank.balanceOf(source)).to.equal(before);
          });
        }
      });
    }
  });

  describe('every documented answer, read by the adapter', () => {
    let hostile: HostileBank;
    let adapter: BankAdapter;

    before(async () => {
      hostile = await startHostileBank();
      adapter = snapAdapter(hostile.url, snapCredentials());
    });
    after(async () => {
      await adapter.close();
      await hostile.close();
    });

    /** A bank that hands out a B2B token and answers every service call with the documented bytes. */
    const replay = (answer: FixtureAnswer) =>
      hostile.answer((req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/openapi/v1.0/access-token/b2b') {
          res.end(JSON.stringify({ responseCode: '2007300', responseMessage: 'Successful', accessToken: randomBytes(24).toString('base64url'), tokenType: 'Bearer', expiresIn: '900' }));
          return;
        }
        res.statusCode = answer.status;
        res.end(JSON.stringify(answer.body));
      });

    const reference = (fixture: ConformanceFixture) => String(fixture.answers[0].body.partnerReferenceNo);
    const cases: [ConformanceFixture, (answer: FixtureAnswer) => Promise<unknown>][] = [
      [intrabank, () => adapter.transferIntrabank(intrabankOrder(intrabank.request.sample!, reference(intrabank)), recorder().ctx)],
      [interbank, () => adapter.transferInterbank(onlineOrder(interbank.request.sample!, reference(interbank)), recorder().ctx)],
      [status, () => adapter.transferStatus({ bankTransactionId: String(status.request.sample!.originalPartnerReferenceNo), transactionDate: '2020-12-21', method: 'INTRABANK' }, recorder().ctx)],
      [rtgs, () => adapter.transferInterbank(clearingOrder('RTGS', rtgs.request.sample!, reference(rtgs)), recorder().ctx)],
      [skn, () => adapter.transferInterbank(clearingOrder('SKN', skn.request.sample!, reference(skn)), recorder().ctx)],
      [balance, (answer) => adapter.balance(String(answer.ask), recorder().ctx)],
      [internalInquiry, (answer) => adapter.accountInquiry({ ...(answer.ask as { accountNumber: string; bankCode: string }), scope: 'internal', sourceAccountNumber: '0201245680' }, recorder().ctx)],
      [statement, (answer) => adapter.statement(answer.ask as { accountNumber: string; from: string; to: string }, recorder().ctx)],
      [externalInquiry, (answer) => adapter.accountInquiry({ ...(answer.ask as { accountNumber: string; bankCode: string }), scope: 'external', sourceAccountNumber: '0201245680' }, recorder().ctx)],
    ];
    for (const [fixture, run] of cases) {
      for (const answer of fixture.answers) {
        it(`${fixture.operation}: ${answer.name} → ${JSON.stringify(answer.outcome)}`, async () => {
          replay(answer);
          const { balance: expectedBalance, statement: expectedStatement, throws, bankResponseCode, ...transfer } = answer.outcome as Record<string, any>;
          let result: unknown;
          try {
            result = await run(answer);
          } catch (error) {
            if (!throws) expect.fail(`${answer.name}: ${isAppError(error) ? `${error.code} ${error.message}` : String(error)}`);
            expect(isAppError(error) && [error.code, error.extensions.bankResponseCode]).to.deep.equal([throws, bankResponseCode]);
            return;
          }
          expect(throws, `${answer.name} should have been refused`).to.equal(undefined);
          if (expectedStatement) {
            const read = result as { openingBalance: string; entries: unknown[] };
            expect(read.openingBalance).to.equal(expectedStatement.openingBalance);
            expect(read.entries).to.have.length(expectedStatement.entries.length);
            expectedStatement.entries.forEach((entry: object, i: number) => expect(read.entries[i]).to.deep.include(entry));
            return;
          }
          expect(result).to.deep.include(expectedBalance ?? { ...transfer, ...(bankResponseCode ? { bankResponseCode } : {}) });
        });
      }
    }
  });
});
