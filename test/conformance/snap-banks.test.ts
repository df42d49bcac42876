import { expect } from 'chai';
import { createHash, createHmac, createSign, randomInt } from 'node:crypto';
import { createBankSimulator, BNI_SNAP_DIALECT, BRI_SNAP_DIALECT, MANDIRI_SNAP_DIALECT, SimulatorNetwork, type BankSimulator, type SnapBankDialect } from '../../src/banks/simulator/index.js';
import type { BankAdapter, InterbankTransferOrder, IntrabankTransferOrder } from '../../src/banks/types.js';
import { jakartaDate } from '../../src/time/index.js';
import { recorder } from '../support/bank-adapters.js';
import { fieldAt, loadFixture, type ConformanceFixture } from '../support/conformance-fixtures.js';
import { snapAdapter, snapCredentials, startSnapBank, type SnapCredentials } from '../support/snap-bank.js';

/**
 * BNI, BRI and Mandiri as their published clients call them (test/conformance/<bank>/*.json,
 * each naming its source). For each bank's built-in profile, every operation's request is built
 * by the adapter and checked against the bank's fixture: the path, the headers, every mandatory
 * field and the fields the bank's client always sends (BNI's additionalInfo {deviceId, channel},
 * feeType). The simulator, playing the bank from its own reading of the same sources, must take
 * both the adapter's request and the documented sample.
 */

interface BankCase {
  bank: 'bni' | 'bri' | 'mandiri';
  bic: string;
  dialect: SnapBankDialect;
  operations: string[];
  /** What an operator puts in the partner block for this bank. */
  block: (credentials: SnapCredentials) => Parameters<typeof snapAdapter>[2];
}

const ALL = ['balance', 'account-inquiry-internal', 'account-inquiry-external', 'transfer-intrabank', 'transfer-interbank', 'transfer-rtgs', 'transfer-skn', 'transfer-status'];

const BANKS: BankCase[] = [
  {
    bank: 'bni',
    bic: 'BNINIDJA',
    dialect: BNI_SNAP_DIALECT,
    // BNI publishes no statement service.
    operations: ALL,
    block: (c) => ({
      partner: 'bni-snap',
      bic: 'BNINIDJA',
      profile: 'bni',
      apiSecret: c.apiSecret,
      profileOverrides: { extraHeaders: { 'X-IP-Address': '203.0.113.10', 'X-DEVICE-ID': 'gerbang-1', 'X-LATITUDE': '-6.2088', 'X-LONGITUDE': '106.8456' } },
    }),
  },
  { bank: 'bri', bic: 'BRINIDJA', dialect: BRI_SNAP_DIALECT, operations: ['balance', 'account-inquiry-internal', 'account-inquiry-external', 'transfer-intrabank', 'transfer-interbank', 'transfer-status'], block: () => ({ partner: 'bri-snap', bic: 'BRINIDJA', profile: 'bri' }) },
  { bank: 'mandiri', bic: 'BMRIIDJA', dialect: MANDIRI_SNAP_DIALECT, operations: [...ALL, 'statement'], block: () => ({ partner: 'mandiri-snap', bic: 'BMRIIDJA', profile: 'mandiri' }) },
];

const today = () => jakartaDate(new Date());
const newId = () => `${Date.now()}${randomInt(1e5, 1e6 - 1)}`;

function intrabankOrder(sample: Record<string, unknown>): IntrabankTransferOrder {
  return {
    bankTransactionId: `1${randomInt(1e9, 1e10 - 1)}`,
    transactionDate: today(),
    referenceId: String(sample.customerReference ?? 'INV-1'),
    sourceAccountNumber: String(sample.sourceAccountNo),
    beneficiaryAccountNumber: String(sample.beneficiaryAccountNo),
    amount: String(fieldAt(sample, 'amount.value')),
    currency: 'IDR',
    remark1: 'INV 1',
    remark2: '',
  };
}

function interbankOrder(method: InterbankTransferOrder['method'], sample: Record<string, unknown>): InterbankTransferOrder {
  return {
    ...intrabankOrder(sample),
    method,
    beneficiaryBankCode: 'CENAIDJA',
    beneficiaryAccountNumber: '0201245681',
    beneficiaryName: String(sample.beneficiaryAccountName),
    beneficiaryAddress: String(sample.beneficiaryAddress ?? 'Jl Sudirman 1 Jakarta') || 'Jl Sudirman 1 Jakarta',
    beneficiaryCustomerType: '2',
    beneficiaryCustomerResidence: '1',
  };
}

for (const bankCase of BANKS) {
  const { bank: name, dialect } = bankCase;
  const fixtures = Object.fromEntries(bankCase.operations.map((op) => [op, loadFixture(name, op)])) as Record<string, ConformanceFixture>;
  const tokenFixture = loadFixture(name, 'token') as ConformanceFixture & { request: { timestamp: string; present?: string[] } };

  describe(`${name.toUpperCase()} SNAP profile as the bank publishes it (conformance fixtures)`, () => {
    const credentials = snapCredentials();
    let bank: BankSimulator;
    let bca: BankSimulator;
    let url: string;
    let adapter: BankAdapter;

    before(async () => {
      const network = new SimulatorNetwork();
      // BCA, where the interbank and external-inquiry samples' beneficiary banks.
      bca = createBankSimulator({ partners: [], allowedSourceAddresses: [], bic: 'CENAIDJA', network });
      ({ simulator: bank, url } = await startSnapBank(credentials, { network, bic: bankCase.bic, snapProfile: dialect }));
      for (const fixture of Object.values(fixtures)) {
        const sample = fixture.request.sample ?? {};
        for (const key of ['sourceAccountNo', 'accountNo']) if (typeof sample[key] === 'string') bank.setAccount({ number: sample[key] as string, name: 'PT GERBANG PAYER', balance: '999999999999.00' });
        if (fixture.operation === 'transfer-intrabank' || fixture.operation === 'account-inquiry-internal') bank.setAccount({ number: String(sample.beneficiaryAccountNo), name: 'CV SAME BANK VENDOR', balance: '0.00' });
        if (typeof sample.beneficiaryBankCode === 'string' && /^CENAIDJA/.test(sample.beneficiaryBankCode)) bca.setAccount({ number: String(sample.beneficiaryAccountNo), name: 'CV BCA VENDOR', balance: '0.00' });
      }
      adapter = snapAdapter(url, credentials, bankCase.block(credentials));
    });
    after(async () => {
      await adapter.close();
      await bank.close();
      await bca.close();
    });

    /** The one call the adapter made to `path` while running `run`. */
    async function sentBy(path: string, run: () => Promise<unknown>) {
      const before = bank.calls.length;
      const result = await run();
      const calls = bank.calls.slice(before).filter((call) => call.path === path);
      expect(calls, `one call to ${path}`).to.have.length(1);
      return { call: calls[0], result };
    }

    it(`fetches its token at ${tokenFixture.request.path} with the published body and timestamp form`, async () => {
      const fresh = snapAdapter(url, credentials, bankCase.block(credentials));
      try {
        const { call } = await sentBy(tokenFixture.request.path, () => fresh.ping(recorder().ctx));
        expect(call.status).to.equal(200);
        for (const header of tokenFixture.request.headers) expect(call.headers[header.toLowerCase()], `header ${header}`).to.be.a('string').and.not.equal('');
        expect(call.headers['x-timestamp']).to.match(new RegExp(tokenFixture.request.timestamp));
        const body = JSON.parse(call.body) as Record<string, unknown>;
        for (const field of tokenFixture.request.mandatory) expect(fieldAt(body, field), field).to.equal(fieldAt(tokenFixture.request.sample, field));
        for (const field of tokenFixture.request.present ?? []) expect(body, field).to.have.property(field);
      } finally {
        await fresh.close();
      }
    });

    const run: Record<string, (sample: Record<string, unknown>) => Promise<unknown>> = {
      balance: (s) => adapter.balance(String(s.accountNo), recorder().ctx),
      statement: (s) => adapter.statement({ accountNumber: String(s.accountNo), from: today(), to: today() }, recorder().ctx),
      'account-inquiry-internal': (s) => adapter.accountInquiry({ accountNumber: String(s.beneficiaryAccountNo), bankCode: bankCase.bic, scope: 'internal', sourceAccountNumber: '0' }, recorder().ctx),
      'account-inquiry-external': (s) => adapter.accountInquiry({ accountNumber: String(s.beneficiaryAccountNo), bankCode: 'CENAIDJA', scope: 'external', sourceAccountNumber: '0' }, recorder().ctx),
      'transfer-intrabank': (s) => adapter.transferIntrabank(intrabankOrder(s), recorder().ctx),
      'transfer-interbank': (s) => adapter.transferInterbank(interbankOrder('ONLINE', s), recorder().ctx),
      'transfer-rtgs': (s) => adapter.transferInterbank(interbankOrder('RTGS', s), recorder().ctx),
      'transfer-skn': (s) => adapter.transferInterbank(interbankOrder('SKN', s), recorder().ctx),
      'transfer-status': async () => {
        const order = intrabankOrder(fixtures['transfer-intrabank'].request.sample!);
        const sent = await adapter.transferIntrabank(order, recorder().ctx);
        return adapter.transferStatus({ bankTransactionId: order.bankTransactionId, transactionDate: order.transactionDate, method: 'INTRABANK', amount: order.amount, bankReference: sent.bankReference }, recorder().ctx);
      },
    };

    for (const operation of bankCase.operations) {
      const fixture = fixtures[operation];
      describe(`${fixture.request.path} (${operation}, service ${fixture.request.serviceCode})`, () => {
        it('the profile builds the documented path, headers and body, and the bank takes it', async () => {
          const { call, result } = await sentBy(fixture.request.path, () => run[operation](fixture.request.sample!));
          expect(call.status, call.body).to.equal(200);
          for (const header of fixture.request.headers) expect(call.headers[header.toLowerCase()], `header ${header}`).to.be.a('string').and.not.equal('');
          if (dialect.timestampMillis) expect(call.headers['x-timestamp']).to.match(/\.\d{3}\+07:00$/);
          else expect(call.headers['x-timestamp']).to.match(/:\d{2}\+07:00$/);
          const body = JSON.parse(call.body) as Record<string, unknown>;
          for (const field of fixture.request.mandatory) expect(fieldAt(body, field), `mandatory ${field}`).to.be.a('string').and.not.equal('');
          for (const field of (fixture.request as { sent?: string[] }).sent ?? []) expect(fieldAt(body, field), `sent by the bank's client: ${field}`).to.be.a('string').and.not.equal('');
          if (operation.startsWith('transfer-') && operation !== 'transfer-status') expect((result as { status: string }).status).to.be.oneOf(['SUCCESS', 'PENDING']);
          if (operation === 'transfer-status') expect((result as { status: string }).status).to.equal('SUCCESS');
        });

        it('the simulator takes the documented sample', async () => {
          const sample = await prepared(fixture);
          const res = await sendSample(fixture.request.path, sample);
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          expect(res.body.responseCode).to.equal(`200${fixture.request.serviceCode}00`);
        });
      });
    }

    /** The sample with the ids and dates a replay today must send anew; a status sample names a transfer just made. */
    async function prepared(fixture: ConformanceFixture): Promise<Record<string, unknown>> {
      const sample = structuredClone(fixture.request.sample!);
      for (const field of fixture.request.fresh?.fields ?? []) {
        if (field === 'transactionDate') sample[field] = `${today()}T10:00:00+07:00`;
        else if (field.endsWith('DateTime')) sample[field] = `${today()}T00:00:00+07:00`;
        else sample[field] = newId();
      }
      if (fixture.operation === 'transfer-status') {
        const transfer = await prepared(fixtures['transfer-intrabank']);
        const externalId = newId();
        expect((await sendSample(fixtures['transfer-intrabank'].request.path, transfer, externalId)).status).to.equal(200);
        Object.assign(sample, { originalPartnerReferenceNo: transfer.partnerReferenceNo, transactionDate: transfer.transactionDate, amount: transfer.amount });
        if ('originalExternalId' in sample) sample.originalExternalId = externalId;
      }
      return sample;
    }

    let token: string | undefined;

    /** The sample signed and sent as the bank's own client would: its token path and body, its timestamp form, its HMAC key. */
    async function sendSample(path: string, body: Record<string, unknown>, externalId = newId()) {
      const stamp = () => {
        const local = new Date(Date.now() + 7 * 3_600_000).toISOString();
        return `${dialect.timestampMillis ? local.slice(0, 23) : local.slice(0, 19)}+07:00`;
      };
      if (!token) {
        const ts = stamp();
        const signature = createSign('RSA-SHA256').update(`${credentials.clientId}|${ts}`).sign(credentials.privateKeyPem, 'base64');
        const res = await fetch(`${url}${tokenFixture.request.path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CLIENT-KEY': credentials.clientId, 'X-TIMESTAMP': ts, 'X-SIGNATURE': signature },
          body: JSON.stringify(tokenFixture.request.sample),
        });
        token = ((await res.json()) as { accessToken: string }).accessToken;
      }
      const text = JSON.stringify(body);
      const ts = stamp();
      const digest = createHash('sha256').update(text).digest('hex');
      const secret = dialect.hmacKey === 'apiSecret' ? credentials.apiSecret : credentials.clientSecret;
      const signature = createHmac('sha512', secret).update(`POST:${path}:${token}:${digest}:${ts}`).digest('base64');
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'X-TIMESTAMP': ts,
          'X-SIGNATURE': signature,
          ORIGIN: credentials.origin,
          'X-PARTNER-ID': credentials.partnerId,
          'X-EXTERNAL-ID': externalId,
          'CHANNEL-ID': credentials.channelId,
          'X-IP-Address': '203.0.113.10',
          'X-DEVICE-ID': 'conformance',
          'X-LATITUDE': '-6.2088',
          'X-LONGITUDE': '106.8456',
        },
        body: text,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }
  });
}
